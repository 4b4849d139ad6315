"""The NS alarm manager on a real database (SQLite and PostgreSQL): one alarm per NS and
fault, repeats change nothing, clears, concurrent raises, notifications in the outbox,
alarms of a deleted NS, acknowledgement, and the impact of each resource kind."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from nfvo.errors import Conflict, NotFound, PreconditionFailed
from nfvo.inventory.alarms_repo import AlarmRow
from nfvo.inventory.db import Database
from nfvo.inventory.models import (
    LccnSubscriptionRow,
    NotificationDelivery,
    NsInstance,
    NsVl,
    NsVnf,
    NsVnfc,
)
from nfvo.monitoring import fm, impact
from nfvo.monitoring.model import FaultEvent, FaultKind, Resource, ResourceKind, Severity
from nfvo.notifications import nsfm

VIM = "vim-1"
T0 = 1_800_000_000.0


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    database.migrate()
    yield database
    database.dispose()


def make_ns(
    db: Database, placement: dict[str, str], tenant: str | None = None, network: str = "net-1"
) -> str:
    """An NS with one VNF per entry of ``placement`` (VNF name -> host), each one VNFC
    (server ``srv-<ns>-<vnf>``) on ``VIM``, and an NS virtual link on ``network``."""
    ns_id = str(uuid.uuid4())
    with db.session() as s:
        s.add(
            NsInstance(
                id=ns_id,
                tenant_id=tenant,
                nsd_info_id=str(uuid.uuid4()),
                nsd_id="nsd",
                name=f"ns-{ns_id[:6]}",
                ns_state="INSTANTIATED",
                scale_status={},
            )
        )
        s.flush()
        for seq, (vnf, host) in enumerate(placement.items()):
            vnf_id = f"{ns_id}-{vnf}"
            s.add(
                NsVnf(
                    id=vnf_id,
                    ns_instance_id=ns_id,
                    seq=seq,
                    vnf_profile_id=vnf,
                    vnfd_id=f"vnfd-{vnf}",
                    flavour_id="default",
                    vim_account_id=VIM,
                    spec={},
                    instantiated=True,
                )
            )
            s.flush()
            s.add(
                NsVnfc(
                    vnf_instance_id=vnf_id,
                    vdu_id="vdu",
                    idx=0,
                    ns_instance_id=ns_id,
                    vim_account_id=VIM,
                    key=f"{vnf_id}/vdu/0",
                    server_id=f"srv-{vnf_id}",
                    status="ACTIVE",
                    host=host,
                    zone="zone-a",
                    port_ids={"cp": f"port-{vnf_id}"},
                )
            )
        s.add(NsVl(ns_instance_id=ns_id, vl_id="vl-1", vim_account_id=VIM, network_id=network))
    return ns_id


def host_event(host: str, severity: Severity = Severity.CRITICAL) -> FaultEvent:
    kind = FaultKind.HOST_UP if severity is Severity.CLEARED else FaultKind.HOST_DOWN
    return FaultEvent(Resource(ResourceKind.HOST, host, VIM), kind, severity, T0, "sim")


def alarms(db: Database) -> list[AlarmRow]:
    with db.session() as s:
        return list(s.scalars(select(AlarmRow).order_by(AlarmRow.ns_instance_id)))


def subscribe(db: Database, tenant: str | None = None, flt: dict | None = None) -> str:
    sub_id = str(uuid.uuid4())
    with db.session() as s:
        s.add(
            LccnSubscriptionRow(
                id=sub_id,
                api="nsfm",
                tenant_id=tenant,
                callback_uri=f"http://cb.example/{sub_id}",
                filter=flt or {},
                verbosity="FULL",
                fingerprint=sub_id,
            )
        )
    return sub_id


def queued(db: Database, sub_id: str) -> list[dict]:
    with db.session() as s:
        q = select(NotificationDelivery).where(NotificationDelivery.subscription_id == sub_id)
        return [d.notification for d in s.scalars(q.order_by(NotificationDelivery.created_at))]


def test_host_down_raises_one_alarm_per_ns_and_a_repeat_changes_nothing(db: Database) -> None:
    ns_a = make_ns(db, {"web": "compute-1", "db": "compute-1"})
    ns_b = make_ns(db, {"web": "compute-1", "db": "compute-2"})
    other = make_ns(db, {"web": "compute-2"})
    sub = subscribe(db)
    manager = fm.FaultManager(db, clock=lambda: T0 + 1)

    first = manager.handle(host_event("compute-1"))
    assert len(first.raised) == 2
    rows = alarms(db)
    assert {r.ns_instance_id for r in rows} == {ns_a, ns_b} and other not in first.raised
    view = {r.ns_instance_id: nsfm.alarm_view(r) for r in rows}
    for ns_id, body in view.items():
        assert body["managedObjectId"] == ns_id
        assert body["rootCauseFaultyResource"] == {
            "faultyResource": {
                "vimId": VIM,
                "resourceId": "compute-1",
                "vimLevelResourceType": "host",
            },
            "faultyResourceType": "COMPUTE",
        }
        assert body["eventType"] == "EQUIPMENT_ALARM"
        assert body["perceivedSeverity"] == "CRITICAL"
        assert body["ackState"] == "UNACKNOWLEDGED"
        assert body["isRootCause"] is True and body["correlatedAlarmIds"] == []
        assert body["probableCause"] == "host down"
        assert "resource=host:vim-1:compute-1" in body["faultDetails"]
    # two VNFs of ns_a on the host: no single faulty VNF; ns_b's web is the one
    assert "rootCauseFaultyComponent" not in view[ns_a]
    assert view[ns_b]["rootCauseFaultyComponent"] == {"faultyVnfInstanceId": f"{ns_b}-web"}

    again = manager.handle(host_event("compute-1"))
    assert again.raised == [] and len(alarms(db)) == 2
    notes = queued(db, sub)
    assert [n["notificationType"] for n in notes] == ["AlarmNotification"] * 2
    assert {n["alarm"]["managedObjectId"] for n in notes} == {ns_a, ns_b}


def test_clear_clears_every_ns_alarm_once_and_a_new_fault_raises_again(db: Database) -> None:
    ns_a = make_ns(db, {"web": "compute-1"})
    ns_b = make_ns(db, {"web": "compute-1"})
    sub = subscribe(db)
    manager = fm.FaultManager(db, clock=lambda: T0 + 5)
    manager.handle(host_event("compute-1"))

    done = manager.handle(host_event("compute-1", Severity.CLEARED))
    assert len(done.cleared) == 2
    assert manager.handle(host_event("compute-1", Severity.CLEARED)).cleared == []
    for row in alarms(db):
        assert row.perceived_severity == "CLEARED" and row.cleared_at is not None
        assert row.active_key is None
        assert nsfm.alarm_view(row)["alarmClearedTime"].startswith("2027-01-15T08:00:05")
    notes = queued(db, sub)
    cleared = [n for n in notes if n["notificationType"] == "AlarmClearedNotification"]
    assert {n["alarmId"] for n in cleared} == {r.id for r in alarms(db)}
    assert all(n["_links"]["alarm"]["href"].startswith("/nsfm/v1/alarms/") for n in cleared)
    # the host fails again: a new alarm per NS, the cleared ones stay as they were
    assert len(manager.handle(host_event("compute-1")).raised) == 2
    assert sorted(r.ns_instance_id for r in alarms(db) if r.active_key) == sorted([ns_a, ns_b])
    assert len(alarms(db)) == 4


def test_concurrent_raises_of_one_fault_make_one_alarm_per_ns(db: Database) -> None:
    ns_ids = {make_ns(db, {"web": "compute-1"}) for _ in range(3)}
    sub = subscribe(db)
    managers = [fm.FaultManager(db) for _ in range(8)]
    barrier = threading.Barrier(len(managers))
    errors: list[BaseException] = []

    def run(manager: fm.FaultManager) -> None:
        try:
            barrier.wait()
            manager.handle(host_event("compute-1"))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(m,)) for m in managers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    rows = alarms(db)
    assert sorted(r.ns_instance_id for r in rows) == sorted(ns_ids)
    assert len(queued(db, sub)) == 3  # one AlarmNotification per alarm, none for the losers


def test_subscription_filter_and_tenant_decide_who_is_notified(db: Database) -> None:
    ns_a = make_ns(db, {"web": "compute-1"}, tenant="tenant-a")
    make_ns(db, {"web": "compute-1"}, tenant="tenant-b")
    mine = subscribe(db, "tenant-a")
    theirs = subscribe(db, "tenant-b")
    everyone = subscribe(db)
    network_only = subscribe(db, None, {"faultyResourceTypes": ["NETWORK"]})
    only_ns_a = subscribe(db, None, {"nsInstanceSubscriptionFilter": {"nsInstanceIds": [ns_a]}})
    clears_only = subscribe(db, None, {"notificationTypes": ["AlarmClearedNotification"]})
    manager = fm.FaultManager(db)
    manager.handle(host_event("compute-1"))
    manager.handle(host_event("compute-1", Severity.CLEARED))

    def kinds(sub: str) -> list[str]:
        return sorted(n["notificationType"] for n in queued(db, sub))

    assert kinds(mine) == ["AlarmClearedNotification", "AlarmNotification"]
    assert kinds(theirs) == ["AlarmClearedNotification", "AlarmNotification"]
    assert len(kinds(everyone)) == 4
    assert kinds(network_only) == []
    assert len(kinds(only_ns_a)) == 2
    assert kinds(clears_only) == ["AlarmClearedNotification"] * 2
    assert all(n["alarm"]["managedObjectId"] == ns_a for n in queued(db, mine)[:1])


def test_acknowledge_conflict_and_stale_etag(db: Database) -> None:
    make_ns(db, {"web": "compute-1"}, tenant="tenant-a")
    manager = fm.FaultManager(db, clock=lambda: T0 + 9)
    (alarm_id,) = manager.handle(host_event("compute-1")).raised
    with pytest.raises(NotFound):
        manager.acknowledge(alarm_id, "tenant-b", "ACKNOWLEDGED", None)
    with pytest.raises(PreconditionFailed):
        manager.acknowledge(alarm_id, "tenant-a", "ACKNOWLEDGED", 7)
    row = manager.acknowledge(alarm_id, "tenant-a", "ACKNOWLEDGED", 1)
    assert row.ack_state == "ACKNOWLEDGED" and row.revision == 2
    assert nsfm.alarm_view(row)["alarmAcknowledgedTime"].startswith("2027-01-15T08:00:09")
    with pytest.raises(Conflict):
        manager.acknowledge(alarm_id, "tenant-a", "ACKNOWLEDGED", None)
    with pytest.raises(PreconditionFailed):  # the old ETag no longer matches
        manager.acknowledge(alarm_id, "tenant-a", "UNACKNOWLEDGED", 1)
    assert manager.acknowledge(alarm_id, None, "UNACKNOWLEDGED", 2).ack_state == "UNACKNOWLEDGED"


def test_alarms_of_a_deleted_ns_are_cleared_and_removed(db: Database) -> None:
    ns_a = make_ns(db, {"web": "compute-1"})
    ns_b = make_ns(db, {"web": "compute-1"})
    sub = subscribe(db)
    manager = fm.FaultManager(db)
    manager.handle(host_event("compute-1"))
    with db.session() as s:
        assert fm.forget_ns(s, ns_a) == 1
        s.delete(s.get(NsInstance, ns_a))
    assert [r.ns_instance_id for r in alarms(db)] == [ns_b]
    assert [n["notificationType"] for n in queued(db, sub)][-1] == "AlarmClearedNotification"
    # an NS removed behind the manager's back: the rebuild drops its alarm and says so
    with db.session() as s:
        s.delete(s.get(NsInstance, ns_b))
    assert manager.rebuild() == 1
    assert alarms(db) == []
    assert queued(db, sub)[-1]["notificationType"] == "AlarmListRebuiltNotification"


def test_attach_registers_the_listener_and_reconciles(db: Database) -> None:
    class Hub:
        def __init__(self) -> None:
            self.listeners: list = []

        def on_fault(self, fn) -> None:  # noqa: ANN001 - the hub's signature
            self.listeners.append(fn)

    make_ns(db, {"web": "compute-1"})
    sub = subscribe(db)
    hub = Hub()
    manager = fm.attach(hub, db)
    assert queued(db, sub) == []  # nothing to reconcile: no rebuilt notification
    assert hub.listeners == [manager.handle]
    hub.listeners[0](host_event("compute-1"))
    assert len(alarms(db)) == 1


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        (Resource(ResourceKind.SERVER, "srv-{a}-web", VIM), ("a", "COMPUTE", "EQUIPMENT_ALARM")),
        (
            Resource(ResourceKind.PORT, "port-{b}-web", VIM),
            ("b", "NETWORK", "COMMUNICATIONS_ALARM"),
        ),
        (Resource(ResourceKind.NETWORK, "net-b", VIM), ("b", "NETWORK", "COMMUNICATIONS_ALARM")),
        (Resource(ResourceKind.VNF, "{a}-web"), ("a", None, "PROCESSING_ERROR_ALARM")),
        (Resource(ResourceKind.NS, "{b}"), ("b", None, "PROCESSING_ERROR_ALARM")),
        (Resource(ResourceKind.VIM, VIM), ("ab", "NETWORK", "COMMUNICATIONS_ALARM")),
        (Resource(ResourceKind.ZONE, "zone-a", VIM), ("ab", "COMPUTE", "PROCESSING_ERROR_ALARM")),
        (Resource(ResourceKind.HOST, "compute-9", VIM), ("", None, None)),
        (Resource(ResourceKind.HOST, "compute-1", "other-vim"), ("", None, None)),
    ],
)
def test_impact_of_each_resource_kind(
    db: Database, resource: Resource, expected: tuple[str, str | None, str | None]
) -> None:
    ids = {
        "a": make_ns(db, {"web": "compute-1"}),
        "b": make_ns(db, {"web": "compute-2"}, network="net-b"),
    }
    resource = Resource(resource.kind, resource.id.format(**ids), resource.vim_id)
    which, rtype, event_type = expected
    with db.session() as s:
        hits = impact.affected(s, resource)
    assert sorted(h.ns_instance_id for h in hits) == sorted(ids[k] for k in which)
    assert all(h.resource_type == rtype for h in hits)
    event = FaultEvent(resource, FaultKind.ALERT, Severity.MAJOR, T0, "test")
    raised = fm.FaultManager(db).handle(event).raised
    assert len(raised) == len(which)
    with db.session() as s:
        types = set(s.scalars(select(AlarmRow.event_type)))
        assert s.scalar(select(func.count()).select_from(AlarmRow)) == len(which)
    assert types == ({event_type} if which else set())
    if resource.kind is ResourceKind.NETWORK:
        (hit,) = hits
        assert hit.faulty_component == {"faultyNsVirtualLinkInstanceId": "vl-1"}
