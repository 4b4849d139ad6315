"""Subscription request checks, backoff timing, and the lease claim of due deliveries."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from nfvo.errors import BadRequest, UnprocessableEntity
from nfvo.inventory.db import Database
from nfvo.inventory.models import LccnSubscriptionRow, NotificationDelivery
from nfvo.notifications import DeliveryPolicy, NotificationService
from nfvo.notifications.service import validate_authentication, validate_filter
from nfvo.resources.vault import Vault


@pytest.mark.parametrize(
    ("flt", "culprit"),
    [
        ([], "filter"),
        ({"notificationTypes": "NsChangeNotification"}, "notificationTypes"),
        ({"notificationTypes": ["NsLcmCapacityShortage"]}, "notificationTypes"),
        ({"operationStates": ["DONE"]}, "operationStates"),
        ({"nsInstanceSubscriptionFilter": {"nsdIds": "x"}}, "nsdIds"),
        ({"nsInstanceSubscriptionFilter": {"colour": ["x"]}}, "colour"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_filters_name_the_attribute(flt: object, culprit: str) -> None:
    with pytest.raises(BadRequest, match=culprit):
        validate_filter(flt)


def test_good_filter_is_kept() -> None:
    flt = {
        "notificationTypes": ["NsLcmOperationOccurenceNotification"],
        "operationTypes": ["INSTANTIATE"],
        "nsInstanceSubscriptionFilter": {"nsInstanceIds": ["a"]},
    }
    assert validate_filter(flt) == flt
    assert validate_filter(None) == {}


def test_authentication() -> None:
    assert validate_authentication(None) == (None, {})
    basic = {"authType": ["BASIC"], "paramsBasic": {"userName": "u", "password": "p"}}
    assert validate_authentication(basic) == ("BASIC", {"userName": "u", "password": "p"})
    with pytest.raises(BadRequest, match="paramsBasic"):
        validate_authentication({"authType": ["BASIC"]})
    with pytest.raises(BadRequest, match="clientPassword"):
        validate_authentication(
            {
                "authType": ["OAUTH2_CLIENT_CREDENTIALS"],
                "paramsOauth2ClientCredentials": {"clientId": "c", "tokenEndpoint": "http://t"},
            }
        )
    with pytest.raises(UnprocessableEntity, match="TLS_CERT"):
        validate_authentication({"authType": ["TLS_CERT"]})


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    p = DeliveryPolicy(base_delay=1.0, max_delay=300.0)
    for attempts, nominal in ((1, 1), (2, 2), (3, 4), (6, 32), (30, 300)):
        for _ in range(20):
            assert 0.75 * nominal <= p.backoff(attempts) <= 1.25 * nominal
    assert len({p.backoff(3) for _ in range(10)}) > 1  # jittered


def test_claims_are_leases_that_no_second_worker_can_take(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'n.db'}")
    db.migrate()
    now = datetime.now(UTC)
    with db.session() as s:
        s.add(
            LccnSubscriptionRow(
                id="s", callback_uri="http://127.0.0.1:9/", filter={}, fingerprint="f"
            )
        )
        for i, due in enumerate((now - timedelta(seconds=1), now + timedelta(hours=1))):
            s.add(
                NotificationDelivery(
                    id=f"d{i}",
                    subscription_id="s",
                    notification={"id": str(uuid.uuid4())},
                    next_attempt_at=due,
                )
            )
    one = NotificationService(db, Vault(Fernet.generate_key()))
    two = NotificationService(db, Vault(Fernet.generate_key()))
    assert one.worker.claim(10) == ["d0"]  # only the due row
    assert two.worker.claim(10) == []  # leased to the first worker
    with db.session() as s:
        leased = s.get(NotificationDelivery, "d0").next_attempt_at
        leased = leased if leased.tzinfo else leased.replace(tzinfo=UTC)
        assert leased > now + timedelta(seconds=one.policy.timeout)
    db.dispose()


@pytest.mark.parametrize("params", [1, "user:pw", ["userName", "password"]])
def test_authentication_params_of_the_wrong_type_are_a_400(params: object) -> None:
    """``paramsBasic: 1`` once reached ``.get`` on an int (a 500)."""
    from nfvo.errors import BadRequest

    kinds = (
        ("BASIC", "paramsBasic"),
        ("OAUTH2_CLIENT_CREDENTIALS", "paramsOauth2ClientCredentials"),
    )
    for auth_type, key in kinds:
        with pytest.raises(BadRequest) as err:
            validate_authentication({"authType": [auth_type], key: params})
        assert err.value.extra["field"] == f"authentication.{key}"


def test_subscriptions_per_tenant_and_api_are_bounded(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every event is matched against every subscription: a tenant's count is bounded (422
    beyond), per API; other tenants and other APIs keep their own room, and deleting one
    frees a place."""
    db = Database(db_url)
    db.migrate()
    svc = NotificationService(db, Vault(Fernet.generate_key()))
    tested: list[str] = []
    monkeypatch.setattr(svc, "test_callback", lambda cb, *_: tested.append(cb))
    svc.max_subscriptions = 3
    try:
        subs = [svc.create({"callbackUri": f"http://h.example/{i}"}, "t1")[0] for i in range(3)]
        with pytest.raises(UnprocessableEntity) as err:
            svc.create({"callbackUri": "http://h.example/4"}, "t1")
        assert "the limit is 3" in err.value.detail
        assert len(tested) == 3  # refused before its callback is called
        assert len(svc.list("t1")) == 3
        svc.create({"callbackUri": "http://h.example/4"}, "t2")  # another tenant
        svc.create({"callbackUri": "http://h.example/4"}, None)  # the global callers
        svc.create({"callbackUri": "http://h.example/4"}, "t1", api="vnfpkgm")  # another API
        svc.delete(subs[0].id, "t1")
        svc.create({"callbackUri": "http://h.example/4"}, "t1")
    finally:
        db.dispose()
