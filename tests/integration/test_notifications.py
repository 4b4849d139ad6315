"""NS LCM subscriptions and notification delivery against real HTTP subscribers on loopback:
callback test, Basic and OAuth2 callback auth, retries, slow and dead subscribers, restarts,
tenant isolation. SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from tests.support import etsi_openapi
from tests.support.live import LiveApi

from nfvo.inventory.db import Database
from nfvo.inventory.models import NotificationDelivery
from nfvo.notifications import (
    DeliveryPolicy,
    NotificationService,
    creation_notification,
    enqueue,
    op_occ_notification,
)
from nfvo.resources.vault import Vault

SUBS = "/nslcm/v2/subscriptions"
TOKEN = "tok-" + uuid.uuid4().hex


@dataclass
class Subscriber:
    """A notification endpoint: records requests; per-path scripted answers."""

    url: str
    server: ThreadingHTTPServer
    posts: list[dict[str, Any]] = field(default_factory=list)
    gets: list[str] = field(default_factory=list)
    token_requests: list[str] = field(default_factory=list)
    script: dict[str, list[int]] = field(default_factory=dict)
    delay: dict[str, float] = field(default_factory=dict)
    get_status: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def received(self, path: str) -> list[dict[str, Any]]:
        with self.lock:
            return [p for p in self.posts if p["path"] == path and p["status"] == 204]

    def wait_for(self, path: str, count: int = 1, timeout: float = 15) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.received(path)) < count:
            assert time.monotonic() < deadline, f"{path}: {len(self.received(path))}/{count}"
            time.sleep(0.02)
        return self.received(path)


def _handler(sub: Subscriber) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _answer(self, status: int, body: bytes = b"") -> None:
            self.send_response(status)
            if body:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 - http.server naming
            with sub.lock:
                sub.gets.append(self.path)
            self._answer(sub.get_status.get(self.path, 204))

        def do_POST(self) -> None:  # noqa: N802 - http.server naming
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path == "/token":
                with sub.lock:
                    sub.token_requests.append(self.headers.get("Authorization", ""))
                ok = self.headers.get("Authorization") == _basic("cb-client", "cb-secret")
                body = {"access_token": TOKEN, "token_type": "bearer", "expires_in": 3600}
                self._answer(200 if ok else 401, json.dumps(body).encode())
                return
            time.sleep(sub.delay.get(self.path, 0))
            with sub.lock:
                queue = sub.script.get(self.path) or []
                status = queue.pop(0) if queue else 204
                sub.posts.append(
                    {
                        "path": self.path,
                        "status": status,
                        "headers": dict(self.headers),
                        "body": json.loads(raw),
                    }
                )
            self._answer(status)

    return Handler


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _start_subscriber() -> Subscriber:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    sub = Subscriber(url=f"http://127.0.0.1:{server.server_address[1]}", server=server)
    server.RequestHandlerClass = _handler(sub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return sub


@pytest.fixture
def subscriber() -> Iterator[Subscriber]:
    sub = _start_subscriber()
    yield sub
    sub.server.shutdown()
    sub.server.server_close()


@pytest.fixture
def fast(live: LiveApi) -> LiveApi:
    """The live server with delivery timings shortened for tests."""
    notifications = live.services.notifications
    assert notifications is not None
    policy = notifications.policy
    policy.poll_interval, policy.base_delay, policy.timeout = 0.05, 0.05, 2.0
    return live


def check(r: httpx.Response) -> httpx.Response:
    if etsi_openapi.etsi_available():
        etsi_openapi.validate_http_response("nslcm", r)
    return r


def check_notification(body: dict[str, Any]) -> None:
    if etsi_openapi.etsi_available():
        api = etsi_openapi.get_api("NSLifecycleManagementNotification")
        path = "/URI_is_provided_by_the_client_when_creating_the_subscription-"
        api.validate_request(path + body["notificationType"], "POST", body)


def notify(
    db: Database, tenant: str | None, build: Callable[[], dict[str, Any]] | None = None
) -> tuple[int, dict[str, Any]]:
    """Queue one notification in a transaction, as the LCM does."""
    note = (build or _op_note)()
    with db.session() as s:
        return enqueue(s, tenant_id=tenant, notification=note), note


def _op_note(state: str = "COMPLETED") -> dict[str, Any]:
    return op_occ_notification(
        ns_instance_id=str(uuid.uuid4()),
        op_occ_id=str(uuid.uuid4()),
        operation="INSTANTIATE",
        operation_state=state,
        notification_status="RESULT",
    )


def wait_row(
    db: Database, done: Callable[[NotificationDelivery], bool], timeout: float = 10
) -> NotificationDelivery:
    """The only delivery row, once ``done`` holds for it (the outcome is recorded after the
    subscriber has answered)."""
    deadline = time.monotonic() + timeout
    while True:
        with db.session() as s:
            row = s.query(NotificationDelivery).one()
        if done(row):
            return row
        assert time.monotonic() < deadline, vars(row)
        time.sleep(0.02)


def subscribe(c: httpx.Client, callback: str, **extra: Any) -> httpx.Response:
    return check(c.post(SUBS, json={"callbackUri": callback, **extra}))


# --------------------------------------------------------------------------- API + delivery


def test_subscribe_basic_auth_deliver_duplicate_delete(
    fast: LiveApi, subscriber: Subscriber
) -> None:
    c = fast.client
    cb = f"{subscriber.url}/cb/basic"
    auth = {"authType": ["BASIC"], "paramsBasic": {"userName": "nfvo", "password": "pw-1"}}
    flt = {"notificationTypes": ["NsLcmOperationOccurenceNotification"]}
    r = subscribe(c, cb, filter=flt, authentication=auth)
    assert r.status_code == 201, r.text
    sub = r.json()
    assert r.headers["location"] == f"{fast.base_url}{SUBS}/{sub['id']}"
    assert r.headers["location"] == sub["_links"]["self"]["href"]
    assert subscriber.gets == ["/cb/basic"]  # the callback was tested before storing
    assert "authentication" not in sub and "pw-1" not in r.text
    assert sub["filter"] == flt and sub["callbackUri"] == cb
    # the same callback + filter again: 303 to the existing one, no new callback test
    again = subscribe(c, cb, filter=flt, authentication=auth)
    assert again.status_code == 303
    assert again.headers["location"] == f"{fast.base_url}{SUBS}/{sub['id']}"
    assert len(subscriber.gets) == 1
    listed = check(c.get(SUBS)).json()
    assert [s["id"] for s in listed] == [sub["id"]]
    assert check(c.get(f"{SUBS}/{sub['id']}")).json() == sub
    assert check(c.get(SUBS, params={"filter": "(eq,callbackUri,http://x)"})).json() == []
    assert c.get(f"/nslcm/v1/subscriptions/{sub['id']}").status_code == 200

    count, note = notify(fast.services.db, None)
    assert count == 1
    assert notify(fast.services.db, None, lambda: creation_notification(ns_instance_id="n"))[0] == 0
    got = subscriber.wait_for("/cb/basic")[0]
    assert got["headers"]["Authorization"] == _basic("nfvo", "pw-1")
    assert got["headers"]["Content-Type"] == "application/json"
    body = got["body"]
    assert body["id"] == note["id"] and body["subscriptionId"] == sub["id"]
    assert body["_links"]["subscription"]["href"] == f"/nslcm/v2/subscriptions/{sub['id']}"
    assert body["nsLcmOpOccId"] == note["nsLcmOpOccId"]
    check_notification(body)

    assert check(c.delete(f"{SUBS}/{sub['id']}")).status_code == 204
    assert check(c.get(f"{SUBS}/{sub['id']}")).status_code == 404
    assert notify(fast.services.db, None)[0] == 0


def test_oauth2_callback_token_is_fetched_once_and_used(
    fast: LiveApi, subscriber: Subscriber
) -> None:
    params = {
        "clientId": "cb-client",
        "clientPassword": "cb-secret",
        "tokenEndpoint": f"{subscriber.url}/token",
    }
    auth = {"authType": ["OAUTH2_CLIENT_CREDENTIALS"], "paramsOauth2ClientCredentials": params}
    r = subscribe(fast.client, f"{subscriber.url}/cb/oauth", authentication=auth)
    assert r.status_code == 201, r.text
    assert "cb-secret" not in r.text
    for _ in range(3):
        notify(fast.services.db, None)
    got = subscriber.wait_for("/cb/oauth", 3)
    assert {g["headers"]["Authorization"] for g in got} == {f"Bearer {TOKEN}"}
    # one token for the callback test, one cached for all deliveries
    assert subscriber.token_requests == [_basic("cb-client", "cb-secret")] * 2
    for g in got:
        check_notification(g["body"])


def test_failing_subscriber_is_retried_until_it_accepts(
    fast: LiveApi, subscriber: Subscriber
) -> None:
    subscriber.script["/cb/flaky"] = [500, 503]
    assert subscribe(fast.client, f"{subscriber.url}/cb/flaky").status_code == 201
    _, note = notify(fast.services.db, None)
    got = subscriber.wait_for("/cb/flaky")
    assert len(got) == 1 and got[0]["body"]["id"] == note["id"]
    assert [p["status"] for p in subscriber.posts] == [500, 503, 204]
    row = wait_row(fast.services.db, lambda r: r.delivered_at is not None)
    assert row.attempts == 3 and row.next_attempt_at is None and row.last_error is None


def test_slow_and_dead_subscribers_do_not_delay_a_healthy_one(
    fast: LiveApi, subscriber: Subscriber
) -> None:
    dead = _start_subscriber()
    c = fast.client
    subscriber.delay["/cb/slow"] = 5
    for path in ("/cb/slow", "/cb/ok"):
        assert subscribe(c, f"{subscriber.url}{path}").status_code == 201
    assert subscribe(c, f"{dead.url}/cb/dead").status_code == 201
    dead.server.shutdown()
    dead.server.server_close()
    start = time.monotonic()
    for _ in range(3):
        assert notify(fast.services.db, None)[0] == 3
    subscriber.wait_for("/cb/ok", 3, timeout=10)
    assert time.monotonic() - start < 2.0  # not behind the 5 s subscriber, not behind the dead one
    notifications = fast.services.notifications
    assert notifications is not None
    deadline = time.monotonic() + 10
    while True:  # the dead subscriber's deliveries are being retried with the error recorded
        with fast.services.db.session() as s:
            errors = [r.last_error for r in s.query(NotificationDelivery) if r.delivered_at is None]
        if any(e and "ConnectError" in e for e in errors):
            break
        assert time.monotonic() < deadline, errors
        time.sleep(0.05)


def test_callback_check_failure_is_422(fast: LiveApi, subscriber: Subscriber) -> None:
    subscriber.get_status["/cb/nope"] = 404
    r = subscribe(fast.client, f"{subscriber.url}/cb/nope")
    assert r.status_code == 422
    problem = r.json()
    assert "callbackUri" in problem["detail"] and "404" in problem["detail"]
    assert fast.client.get(SUBS).json() == []
    dead = _start_subscriber()
    url = dead.url
    dead.server.shutdown()
    dead.server.server_close()
    r = subscribe(fast.client, f"{url}/cb")
    assert r.status_code == 422 and "callbackUri" in r.json()["detail"]
    for bad in ({}, {"callbackUri": "ftp://x/y"}, {"callbackUri": "http://h/", "filter": 3}):
        assert check(fast.client.post(SUBS, json=bad)).status_code == 400
    r = fast.client.post(
        SUBS,
        json={"callbackUri": f"{subscriber.url}/cb", "filter": {"operationTypes": ["JUMP"]}},
    )
    assert r.status_code == 400 and "operationTypes" in r.json()["detail"]


def _tenant_client(live: LiveApi, tenant: str, role: str) -> httpx.Client:
    cid = f"{role}-{tenant[:8]}"
    r = live.client.post(
        "/admin/v1/users",
        json={"clientId": cid, "clientSecret": f"{cid}-pw", "role": role, "tenantId": tenant},
    )
    assert r.status_code == 201, r.text
    return live.client_for(cid, f"{cid}-pw")


def test_tenant_isolation(fast: LiveApi, subscriber: Subscriber) -> None:
    g = fast.client
    ta = g.post("/admin/v1/tenants", json={"name": "alpha"}).json()["id"]
    tb = g.post("/admin/v1/tenants", json={"name": "beta"}).json()["id"]
    a, b = _tenant_client(fast, ta, "operator"), _tenant_client(fast, tb, "operator")
    a_reader = _tenant_client(fast, ta, "reader")
    sa = subscribe(a, f"{subscriber.url}/cb/a").json()
    sg = subscribe(g, f"{subscriber.url}/cb/global").json()
    assert a_reader.post(SUBS, json={"callbackUri": f"{subscriber.url}/cb/r"}).status_code == 403
    assert [s["id"] for s in a_reader.get(SUBS).json()] == [sa["id"]]
    assert b.get(SUBS).json() == []
    assert check(b.get(f"{SUBS}/{sa['id']}")).status_code == 404
    assert b.delete(f"{SUBS}/{sa['id']}").status_code == 404
    assert a_reader.delete(f"{SUBS}/{sa['id']}").status_code == 403
    assert {s["id"] for s in g.get(SUBS).json()} == {sa["id"], sg["id"]}
    # the same callback in another tenant is not a duplicate of A's
    assert subscribe(b, f"{subscriber.url}/cb/a").status_code == 201

    db = fast.services.db
    assert notify(db, ta)[0] == 2  # A's and the global subscription
    assert notify(db, tb)[0] == 2  # B's (same callback as A's) and the global one
    assert notify(db, None)[0] == 1  # tenant-less: global subscriptions only
    subscriber.wait_for("/cb/global", 3)
    subscriber.wait_for("/cb/a", 2)
    ids_a = {p["body"]["subscriptionId"] for p in subscriber.received("/cb/a")}
    assert len(ids_a) == 2 and sa["id"] in ids_a


# --------------------------------------------------------------------------- restarts


def _service(db_url: str, key: bytes) -> NotificationService:
    db = Database(db_url)
    db.migrate()
    policy = DeliveryPolicy(timeout=2.0, base_delay=0.05, max_delay=0.2, poll_interval=0.05)
    return NotificationService(db, Vault(key), policy)


def test_deliveries_survive_a_restart(db_url: str, subscriber: Subscriber, tmp_path: Path) -> None:
    key = Fernet.generate_key()
    first = _service(db_url, key)
    auth = {"authType": ["BASIC"], "paramsBasic": {"userName": "u", "password": "p"}}
    sub, created = first.create(
        {"callbackUri": f"{subscriber.url}/cb/r", "authentication": auth}, None
    )
    assert created
    subscriber.script["/cb/r"] = [503]
    notify(first.db, None)
    assert first.deliver_once() == 1  # answered 503: still pending
    assert len(first.pending()) == 1
    notify(first.db, None)  # queued while no worker runs
    first.stop()
    first.db.dispose()

    second = _service(db_url, key)  # a new process on the same database
    second.start()
    try:
        got = subscriber.wait_for("/cb/r", 2)
    finally:
        second.stop()
    assert {g["body"]["subscriptionId"] for g in got} == {sub.id}
    assert {g["headers"]["Authorization"] for g in got} == {_basic("u", "p")}
    assert second.pending() == []
    second.db.dispose()


def test_gives_up_after_max_age(db_url: str, subscriber: Subscriber) -> None:
    svc = _service(db_url, Fernet.generate_key())
    svc.policy.max_age = 0.0
    svc.create({"callbackUri": f"{subscriber.url}/cb/down"}, None)
    subscriber.script["/cb/down"] = [500]
    notify(svc.db, None)
    assert svc.deliver_once() == 1
    assert svc.pending() == [] and svc.deliver_once() == 0
    with svc.db.session() as s:
        row = s.query(NotificationDelivery).one()
        assert row.delivered_at is None and "gave up after 1 attempts" in (row.last_error or "")
        assert "500" in (row.last_error or "")
    svc.db.dispose()
