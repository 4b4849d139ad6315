"""LifecycleChangeNotificationsFilter matching, the notification builders (checked against
the ETSI schemas), and which subscriptions :func:`enqueue` picks for a tenant."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from tests.support import etsi_openapi

from nfvo.inventory.db import Database
from nfvo.inventory.models import LccnSubscriptionRow, NotificationDelivery
from nfvo.notifications import (
    change_notification,
    creation_notification,
    deletion_notification,
    enqueue,
    op_occ_notification,
)
from nfvo.notifications.outbox import NsFacts, matches

NS_ID = "ns-1"
NS = NsFacts(name="web", nsd_id="nsd-a", vnfd_ids=frozenset({"vnfd-x"}))


def lookup(ns_id: str) -> NsFacts | None:
    return NS if ns_id == NS_ID else None


def op(state: str = "COMPLETED", operation: str = "INSTANTIATE", ns: str = "ns-1") -> dict:
    return op_occ_notification(
        ns_instance_id=ns,
        op_occ_id="op-1",
        operation=operation,
        operation_state=state,
        notification_status="RESULT",
    )


def change() -> dict[str, Any]:
    return change_notification(
        ns_instance_id="ns-1",
        component_type="VNF",
        component_id="v1",
        op_occ_id="op-1",
        op_name="VNF_INSTANTIATE",
        op_status="COMPLETED",
    )


@pytest.mark.parametrize(
    ("flt", "note", "expected"),
    [
        (None, op(), True),
        ({}, creation_notification(ns_instance_id="x"), True),
        ({"notificationTypes": ["NsLcmOperationOccurenceNotification"]}, op(), True),
        ({"notificationTypes": ["NsLcmOperationOccurrenceNotification"]}, op(), True),
        ({"notificationTypes": ["NsIdentifierCreationNotification"]}, op(), False),
        ({"operationTypes": ["TERMINATE"]}, op(), False),
        ({"operationTypes": ["TERMINATE", "INSTANTIATE"]}, op(), True),
        ({"operationStates": ["FAILED_TEMP"]}, op(), False),
        ({"operationStates": ["FAILED_TEMP"]}, op("FAILED_TEMP"), True),
        # op-occ criteria do not restrict other notification types
        ({"operationStates": ["FAILED"]}, deletion_notification(ns_instance_id="ns-1"), True),
        ({"operationTypes": ["SCALE"], "operationStates": ["COMPLETED"]}, op(), False),
        ({"nsInstanceSubscriptionFilter": {"nsInstanceIds": ["ns-1"]}}, op(), True),
        ({"nsInstanceSubscriptionFilter": {"nsInstanceIds": ["ns-2"]}}, op(), False),
        ({"nsInstanceSubscriptionFilter": {"nsdIds": ["nsd-a"]}}, op(), True),
        ({"nsInstanceSubscriptionFilter": {"nsdIds": ["nsd-b"]}}, op(), False),
        ({"nsInstanceSubscriptionFilter": {"nsdIds": ["nsd-a"]}}, op(ns="gone"), False),
        ({"nsInstanceSubscriptionFilter": {"nsInstanceNames": ["web"]}}, op(), True),
        ({"nsInstanceSubscriptionFilter": {"vnfdIds": ["vnfd-x"]}}, op(), True),
        ({"nsInstanceSubscriptionFilter": {"vnfdIds": ["vnfd-y"]}}, op(), False),
        ({"nsInstanceSubscriptionFilter": {"pnfdIds": ["p"]}}, op(), False),
        ({"nsComponentTypes": ["VNF"]}, change(), True),
        ({"nsComponentTypes": ["PNF"]}, change(), False),
        ({"lcmOpNameImpactingNsComponent": ["VNF_TERMINATE"]}, change(), False),
        ({"lcmOpOccStatusImpactingNsComponent": ["COMPLETED"]}, change(), True),
    ],
)
def test_filter_matching(flt: dict | None, note: dict, expected: bool) -> None:
    assert matches(flt, note, lookup) is expected


def test_builders_fill_links_and_ids() -> None:
    a, b = op(), op()
    assert a["id"] != b["id"]
    assert a["_links"] == {
        "nsInstance": {"href": "/nslcm/v2/ns_instances/ns-1"},
        "nslcmOpOcc": {"href": "/nslcm/v2/ns_lcm_op_occs/op-1"},
    }
    assert "nslcmOpOcc" not in creation_notification(ns_instance_id="n")["_links"]
    assert "error" not in a
    with pytest.raises(ValueError, match="unknown notification type"):
        from nfvo.notifications import new_notification

        new_notification("Bogus", ns_instance_id="n")


@pytest.mark.parametrize(
    "note",
    [
        op(),
        op_occ_notification(
            ns_instance_id="ns-1",
            op_occ_id="op-1",
            operation="TERMINATE",
            operation_state="FAILED_TEMP",
            notification_status="RESULT",
            error={"status": 500, "detail": "VIM down"},
        ),
        creation_notification(ns_instance_id="ns-1"),
        deletion_notification(ns_instance_id="ns-1"),
        change(),
    ],
)
def test_builders_match_etsi_schema_once_subscription_is_filled(note: dict) -> None:
    if not etsi_openapi.etsi_available():
        pytest.skip(etsi_openapi.skip_reason())
    body = {**note, "subscriptionId": "sub-1"}
    body["_links"] = {**note["_links"], "subscription": {"href": "/nslcm/v2/subscriptions/s"}}
    # The OpenAPI file gives LcmOpOccStatusForChangeNotificationType the enum of the operation
    # names; SOL005 table 6.5.4.7-1 lists START, COMPLETED, ... So that attribute is left out.
    body.pop("lcmOpOccStatusImpactingNsComponent", None)
    api = etsi_openapi.get_api("NSLifecycleManagementNotification")
    path = "/URI_is_provided_by_the_client_when_creating_the_subscription-"
    api.validate_request(path + note["notificationType"], "POST", body)
    with pytest.raises(AssertionError, match="subscriptionId"):
        api.validate_request(path + note["notificationType"], "POST", note)


@pytest.fixture
def db(tmp_path: Path) -> Database:
    d = Database(f"sqlite:///{tmp_path / 'n.db'}")
    d.migrate()
    return d


def _sub(db: Database, tenant: str | None, flt: dict | None = None) -> str:
    sid = str(uuid.uuid4())
    with db.session() as s:
        s.add(
            LccnSubscriptionRow(
                id=sid,
                tenant_id=tenant,
                callback_uri="http://127.0.0.1:9/cb",
                filter=flt or {},
                fingerprint=sid,
            )
        )
    return sid


def test_enqueue_routes_by_tenant_and_filter_in_the_callers_transaction(db: Database) -> None:
    glob = _sub(db, None)
    a = _sub(db, "tenant-a")
    _sub(db, "tenant-a", {"operationStates": ["FAILED"]})
    b = _sub(db, "tenant-b")
    with db.session() as s:
        assert enqueue(s, tenant_id="tenant-a", notification=op()) == 2
        assert enqueue(s, tenant_id="tenant-b", notification=op()) == 2
        assert enqueue(s, tenant_id=None, notification=op()) == 1
    with db.session() as s:
        rows = s.query(NotificationDelivery).all()
        targets = sorted(r.subscription_id for r in rows)
        assert targets == sorted([glob, a, glob, b, glob])
        assert all(r.next_attempt_at is not None and r.attempts == 0 for r in rows)
    # a rolled-back state change leaves no notification behind
    with pytest.raises(RuntimeError), db.session() as s:
        enqueue(s, tenant_id="tenant-a", notification=op())
        raise RuntimeError("LCM transaction failed")
    with db.session() as s:
        assert s.query(NotificationDelivery).count() == 5
    db.dispose()
