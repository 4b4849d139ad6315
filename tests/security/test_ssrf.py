"""Server-side request forgery: subscription callbacks, OAuth2 token endpoints and
``upload_from_uri`` against a loopback listener that must never be reached.

Every guard and server here is built with an explicit allow-list (empty, or one second
loopback address, 127.0.0.2, standing for "an allowed host"), whatever the suite's
environment allows. The listener answers like a willing HTTP server, so a request that got
through would also make the assertions on the outcome fail. SQLite and PostgreSQL where a
database is involved.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from tests.support.live import LiveApi, start_live

from nfvo.api.routes.transfer import fetch_uri
from nfvo.catalog.errors import PackageError
from nfvo.config import Settings, SettingsError
from nfvo.errors import UnprocessableEntity
from nfvo.inventory.db import Database
from nfvo.inventory.models import NotificationDelivery
from nfvo.netguard import UNREACHABLE, OutboundGuard, OutboundRefused, refused_reason
from nfvo.notifications import DeliveryPolicy, NotificationService, enqueue, op_occ_notification
from nfvo.resources.vault import Vault

ALLOWED = "127.0.0.2"  # the "allowed host" of these tests; the listener is on 127.0.0.1
SECRET = "remote-secret-body-7c1f"  # a remote body that must never be shown
TOKEN_FIELD = "authentication.paramsOauth2ClientCredentials.tokenEndpoint"
REFUSED_LABEL = "address refused by the outbound policy"


# --------------------------------------------------------------------------- servers


class Listener:
    """TCP listeners on 127.0.0.1 and [::1] (same port) that record every connection and
    answer it as an HTTP server would (204 No Content)."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        self.socks: list[socket.socket] = []
        v4 = socket.create_server(("127.0.0.1", 0))
        self.port = v4.getsockname()[1]
        self.socks.append(v4)
        try:
            self.socks.append(
                socket.create_server(
                    ("::1", self.port), family=socket.AF_INET6, dualstack_ipv6=False
                )
            )
        except OSError:
            pass  # no IPv6 loopback here: the [::1] spellings are refused before any connect
        for s in self.socks:
            threading.Thread(target=self._serve, args=(s,), daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        while True:
            try:
                conn, peer = sock.accept()
            except OSError:
                return
            self.hits.append(str(peer))
            conn.settimeout(1)
            try:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
            except OSError:
                pass
            conn.close()

    def close(self) -> None:
        for s in self.socks:
            s.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    lst = Listener()
    yield lst
    lst.close()
    assert lst.hits == [], f"the loopback listener was reached: {lst.hits}"


class Allowed:
    """An HTTP server on the allowed address: 204 to GET and POST, redirects to wherever
    ``redirects`` says, token answers as ``tokens`` says; records every request."""

    def __init__(self, port: int = 0) -> None:
        self.requests: list[tuple[str, str]] = []
        self.redirects: dict[str, str] = {}
        self.tokens: dict[str, tuple[int, bytes]] = {}
        self.files: dict[str, bytes] = {}
        self.server = ThreadingHTTPServer((ALLOWED, port), self._handler())
        self.port = self.server.server_address[1]
        self.url = f"http://{ALLOWED}:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        srv = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, status: int, body: bytes = b"", **headers: str) -> None:
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _route(self) -> None:
                srv.requests.append((self.command, self.path))
                n = int(self.headers.get("Content-Length") or 0)
                if n:
                    self.rfile.read(n)
                if self.path in srv.redirects:
                    self._answer(302, Location=srv.redirects[self.path])
                elif self.path in srv.tokens:
                    status, body = srv.tokens[self.path]
                    self._answer(status, body, **{"Content-Type": "application/json"})
                elif self.path in srv.files:
                    self._answer(200, srv.files[self.path])
                else:
                    self._answer(204)

            do_GET = do_POST = _route  # noqa: N815 - http.server naming

        return Handler

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def allowed() -> Iterator[Allowed]:
    srv = Allowed()
    yield srv
    srv.close()


def _service(db_url: str, guard: OutboundGuard) -> NotificationService:
    db = Database(db_url)
    db.migrate()
    policy = DeliveryPolicy(timeout=0.5, base_delay=0.05, max_delay=0.2, poll_interval=0.05)
    return NotificationService(db, Vault(Fernet.generate_key()), policy, guard=guard)


@pytest.fixture
def svc(db_url: str) -> Iterator[NotificationService]:
    s = _service(db_url, OutboundGuard(f"{ALLOWED}/32"))
    yield s
    s.worker.close()
    s.db.dispose()


def _refusal(svc: NotificationService, body: dict[str, Any]) -> UnprocessableEntity:
    with pytest.raises(UnprocessableEntity) as err:
        svc.create(body, None)
    assert svc.list(None) == []
    return err.value


# --------------------------------------------------------------------------- the policy

REFUSED = [
    "127.0.0.1",
    "127.255.255.254",
    "0.0.0.0",
    "10.0.0.1",
    "100.64.0.1",
    "100.100.100.200",
    "169.254.169.254",
    "172.16.0.1",
    "192.168.1.1",
    "192.0.0.192",
    "198.18.0.1",
    "224.0.0.1",
    "240.0.0.1",
    "255.255.255.255",
    "168.63.129.16",
    "::",
    "::1",
    "::127.0.0.1",
    "::ffff:127.0.0.1",
    "::ffff:169.254.169.254",
    "::ffff:10.0.0.1",
    "64:ff9b::a9fe:a9fe",
    "2002:7f00:1::1",
    "2001:db8::1",
    "fc00::1",
    "fd00:ec2::254",
    "fe80::1",
    "fec0::1",
    "ff02::1",
]
GLOBAL = ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]


@pytest.mark.parametrize("address", REFUSED)
def test_non_global_addresses_are_refused(address: str) -> None:
    assert refused_reason(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", GLOBAL)
def test_global_addresses_pass(address: str) -> None:
    assert refused_reason(ipaddress.ip_address(address)) is None


def test_the_allow_list_admits_only_what_it_lists() -> None:
    guard = OutboundGuard("127.0.0.0/8, ::1/128")
    for address in ("127.0.0.1", "::ffff:127.0.0.1", "::1"):
        assert refused_reason(ipaddress.ip_address(address), guard.allow) is None
    assert refused_reason(ipaddress.ip_address("169.254.169.254"), guard.allow) is not None
    one = OutboundGuard(f"{ALLOWED}/32").allow
    assert refused_reason(ipaddress.ip_address(ALLOWED), one) is None
    assert refused_reason(ipaddress.ip_address("127.0.0.1"), one) is not None


def test_a_bad_allow_list_stops_the_start(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="NFVO_OUTBOUND_ALLOW.*127.0.0.0/33"):
        Settings(data_dir=tmp_path, outbound_allow="127.0.0.0/33").validate()
    assert OutboundGuard(Settings(data_dir=tmp_path, outbound_allow="").outbound_allow).allow == ()


def test_a_name_with_any_refused_address_is_refused(listener: Listener) -> None:
    def resolver(host: str, port: int, **_: Any) -> list[tuple[Any, ...]]:
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port)),
        ]

    with OutboundGuard((), resolver=resolver).client(2) as client:
        with pytest.raises(OutboundRefused):
            client.get(f"http://mixed.example:{listener.port}/")


# Spellings of loopback, the unspecified address and the metadata address
SPELLINGS = [
    "127.0.0.1",
    "localhost",
    "LOCALHOST.",
    "127.1",
    "0x7f000001",
    "2130706433",
    "017700000001",
    "0177.0.0.1",
    "0.0.0.0",
    "[::1]",
    "[::]",
    "[::ffff:127.0.0.1]",
    "[::ffff:7f00:1]",
    "169.254.169.254",
]


@pytest.mark.parametrize("host", SPELLINGS)
def test_no_spelling_of_loopback_is_reached(listener: Listener, host: str) -> None:
    started = time.monotonic()
    with OutboundGuard(()).client(5) as client:
        with pytest.raises((httpx.HTTPError, httpx.InvalidURL)):
            client.get(f"http://{host}:{listener.port}/")
    assert time.monotonic() - started < 2  # refused before any connect, not timed out


# --------------------------------------------------------------------------- upload_from_uri


def test_upload_from_uri_refuses_loopback_and_redirects_to_it(
    listener: Listener, allowed: Allowed, tmp_path: Path
) -> None:
    guard = OutboundGuard(f"{ALLOWED}/32")
    dest = tmp_path / "pkg.zip"
    allowed.files["/pkg.zip"] = b"PK-archive-bytes"
    allowed.redirects["/hop"] = "/pkg.zip"  # a redirect within the allowed host works
    fetch_uri(f"{allowed.url}/hop", dest, limit=1 << 20, timeout=2, auth=None, guard=guard)
    assert dest.read_bytes() == b"PK-archive-bytes"

    targets = {
        "/to-loopback": f"http://127.0.0.1:{listener.port}/pkg.zip",
        "/to-localhost": f"http://localhost:{listener.port}/pkg.zip",
        "/to-mapped": f"http://[::ffff:127.0.0.1]:{listener.port}/pkg.zip",
        "/to-metadata": "http://169.254.169.254/latest/meta-data/",
        "/to-file": "file:///etc/passwd",
    }
    allowed.redirects.update(targets)
    allowed.redirects["/loop"] = "/loop"
    uris = [f"{allowed.url}{p}" for p in (*targets, "/loop")]
    uris += [f"http://127.0.0.1:{listener.port}/pkg.zip", "http://169.254.169.254/"]
    details = set()
    for uri in uris:
        with pytest.raises(PackageError) as err:
            fetch_uri(uri, dest, limit=1 << 20, timeout=2, auth=None, guard=guard)
        assert err.value.cause == "FETCH_FAILED"
        details.add(str(err.value).replace(uri, "URI"))
    assert len(details) == 1 and UNREACHABLE in details.pop()
    assert ("GET", "/to-loopback") in allowed.requests  # the redirect was asked for, not followed


# --------------------------------------------------------------------------- callbacks


def test_callbacks_on_loopback_are_refused(svc: NotificationService, listener: Listener) -> None:
    for host in SPELLINGS:
        callback = f"http://{host}:{listener.port}/cb"
        err = _refusal(svc, {"callbackUri": callback})
        assert err.extra["field"] == "callbackUri"
        assert err.detail == f"callbackUri {callback} {UNREACHABLE}"


def test_errors_do_not_tell_open_closed_or_silent_ports_apart(
    svc: NotificationService, listener: Listener
) -> None:
    closed = socket.create_server((ALLOWED, 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    silent = socket.create_server((ALLOWED, 0))  # accepts (backlog), never answers
    garbage = socket.create_server((ALLOWED, 0))

    def talk_nonsense() -> None:
        try:
            conn, _ = garbage.accept()
            conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")
            conn.close()
        except OSError:
            pass

    threading.Thread(target=talk_nonsense, daemon=True).start()
    try:
        callbacks = [
            f"http://{ALLOWED}:{closed_port}/cb",
            f"http://{ALLOWED}:{silent.getsockname()[1]}/cb",
            f"http://{ALLOWED}:{garbage.getsockname()[1]}/cb",
            f"http://127.0.0.1:{listener.port}/cb",
            f"http://unresolvable.invalid:{closed_port}/cb",
        ]
        details = {_refusal(svc, {"callbackUri": cb}).detail.replace(cb, "CB") for cb in callbacks}
    finally:
        silent.close()
        garbage.close()
    assert details == {f"callbackUri CB {UNREACHABLE}"}


def _oauth(endpoint: str) -> dict[str, Any]:
    params = {"clientId": "c", "clientPassword": "p", "tokenEndpoint": endpoint}
    return {"authType": ["OAUTH2_CLIENT_CREDENTIALS"], "paramsOauth2ClientCredentials": params}


def test_token_endpoint_on_loopback_is_refused(
    svc: NotificationService, listener: Listener, allowed: Allowed
) -> None:
    for endpoint in (
        f"http://127.0.0.1:{listener.port}/token",
        f"http://localhost:{listener.port}/token",
        "http://169.254.169.254/token",
    ):
        body = {"callbackUri": f"{allowed.url}/cb", "authentication": _oauth(endpoint)}
        err = _refusal(svc, body)
        assert err.extra["field"] == TOKEN_FIELD
        assert err.detail == f"{TOKEN_FIELD} {UNREACHABLE}"
    # nor does a redirect of the token endpoint lead there (redirects are not followed)
    allowed.redirects["/token"] = f"http://127.0.0.1:{listener.port}/token"
    err = _refusal(
        svc, {"callbackUri": f"{allowed.url}/cb", "authentication": _oauth(f"{allowed.url}/token")}
    )
    assert err.detail == f"{TOKEN_FIELD} answered HTTP 302 instead of 200"
    assert ("GET", "/cb") not in allowed.requests  # no callback test without a token


def test_a_token_endpoint_body_is_never_reflected(
    svc: NotificationService, allowed: Allowed
) -> None:
    allowed.tokens["/t401"] = (401, json.dumps({"error": SECRET}).encode())
    allowed.tokens["/t200"] = (200, json.dumps({"error": SECRET}).encode())
    allowed.tokens["/big"] = (200, SECRET.encode() * 10000)
    for path, detail in (
        ("/t401", "answered HTTP 401 instead of 200"),
        ("/t200", "answered without a JSON access_token"),
        ("/big", UNREACHABLE),  # longer than any token answer: not read to its end
    ):
        body = {"callbackUri": f"{allowed.url}/cb", "authentication": _oauth(allowed.url + path)}
        err = _refusal(svc, body)
        assert err.detail == f"{TOKEN_FIELD} {detail}"
        assert SECRET not in err.detail


def _dripping_server() -> socket.socket:
    """On the allowed address: answers 200 with a long body sent one byte per 0.1 s."""
    srv = socket.create_server((ALLOWED, 0))

    def drip(conn: socket.socket) -> None:
        try:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n{")
            for _ in range(100):
                time.sleep(0.1)
                conn.sendall(b" ")
        except OSError:
            pass
        conn.close()

    def serve() -> None:
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            threading.Thread(target=drip, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    return srv


def test_a_dripping_answer_holds_nobody(svc: NotificationService) -> None:
    srv = _dripping_server()
    url = f"http://{ALLOWED}:{srv.getsockname()[1]}"
    try:
        started = time.monotonic()
        err = _refusal(svc, {"callbackUri": f"{url}/cb"})  # the status is enough
        assert err.detail.endswith("answered the test GET with 200 instead of 204 No Content")
        assert time.monotonic() - started < 1
        started = time.monotonic()
        body = {"callbackUri": f"{url}/cb", "authentication": _oauth(f"{url}/token")}
        assert _refusal(svc, body).detail == f"{TOKEN_FIELD} {UNREACHABLE}"
        assert time.monotonic() - started < 2  # cut off after the 0.5 s timeout
    finally:
        srv.close()


class Rebinding:
    """A resolver that answers the allowed address until ``flip``, then loopback: a DNS
    server rebinding a name after the subscription's test."""

    def __init__(self) -> None:
        self.address = ALLOWED

    def __call__(self, host: str, port: int, **_: Any) -> list[tuple[Any, ...]]:
        if host != "hooks.example":
            raise socket.gaierror(socket.EAI_NONAME, "unknown name")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (self.address, port))]


def test_delivery_rechecks_the_address_dns_rebinding(db_url: str, listener: Listener) -> None:
    subscriber = Allowed(port=listener.port)  # same port as the listener, other address
    dns = Rebinding()
    svc = _service(db_url, OutboundGuard(f"{ALLOWED}/32", resolver=dns))
    try:
        sub, created = svc.create({"callbackUri": f"http://hooks.example:{listener.port}/cb"}, None)
        assert created and subscriber.requests == [("GET", "/cb")]
        note = op_occ_notification(
            ns_instance_id="ns-1",
            op_occ_id="op-1",
            operation="INSTANTIATE",
            operation_state="COMPLETED",
            notification_status="RESULT",
        )
        with svc.db.session() as s:
            assert enqueue(s, tenant_id=None, notification=note) == 1
        dns.address = "127.0.0.1"
        assert svc.deliver_once() == 1
        with svc.db.session() as s:
            row = s.query(NotificationDelivery).one()
            assert row.delivered_at is None and row.subscription_id == sub.id
            assert row.last_error == f"callbackUri could not be reached ({REFUSED_LABEL})"
            row.next_attempt_at = row.created_at  # due again at once
        dns.address = ALLOWED  # back to the allowed address: the retry is delivered there
        assert svc.deliver_once() == 1
        assert subscriber.requests[-1] == ("POST", "/cb")
    finally:
        subscriber.close()
        svc.worker.close()
        svc.db.dispose()


# --------------------------------------------------------------------------- the API


@pytest.fixture
def strict(db_url: str, tmp_path: Path) -> Iterator[LiveApi]:
    """A running nfvo with an empty allow-list (as in production)."""
    api = start_live(tmp_path / "data", db_url, outbound_allow="")
    try:
        yield api
    finally:
        api.close()


def test_api_refuses_loopback_callbacks_token_endpoints_and_uploads(
    strict: LiveApi, listener: Listener
) -> None:
    loopback = f"http://127.0.0.1:{listener.port}"
    for api in ("nslcm", "vnfpkgm", "nsd"):
        for callback in (f"{loopback}/cb", f"http://[::ffff:127.0.0.1]:{listener.port}/cb"):
            r = strict.client.post(f"/{api}/v2/subscriptions", json={"callbackUri": callback})
            assert r.status_code == 422, r.text
            problem = r.json()
            assert (
                problem["status"] == 422
                and problem["detail"] == f"callbackUri {callback} {UNREACHABLE}"
            )
    auth = _oauth(f"http://localhost:{listener.port}/token")
    r = strict.client.post(
        "/nslcm/v2/subscriptions",
        json={"callbackUri": "http://169.254.169.254/cb", "authentication": auth},
    )
    assert r.status_code == 422 and r.json()["detail"] == f"{TOKEN_FIELD} {UNREACHABLE}"
    assert strict.client.get("/nslcm/v2/subscriptions").json() == []

    for uri in (
        f"{loopback}/pkg.zip",
        f"http://0x7f000001:{listener.port}/pkg.zip",
        "http://169.254.169.254/latest/meta-data/",
    ):
        pkg = strict.create("vnf")
        r = strict.client.post(
            f"/vnfpkgm/v2/vnf_packages/{pkg['id']}/package_content/upload_from_uri",
            json={"addressInformation": uri},
        )
        assert r.status_code == 202, r.text
        info = strict.wait("vnf", pkg["id"])
        assert info["onboardingState"] == "ERROR"
        failure = info["onboardingFailureDetails"]
        assert failure["cause"] == "FETCH_FAILED" and UNREACHABLE in failure["detail"]


def test_tenant_admin_cannot_aim_vim_or_sdn_urls_at_private_addresses(
    strict: LiveApi, listener: Listener
) -> None:
    """A tenant admin's VIM account or SDN controller would make nfvo connect to its URLs at
    once (connectivity check): loopback, metadata and private addresses are refused for it,
    nothing is stored, and the listener is never reached. A global admin may name them."""
    g = strict.client
    tenant = g.post("/admin/v1/tenants", json={"name": "t-ssrf"}).json()
    r = g.post(
        "/admin/v1/users",
        json={"clientId": "t-adm", "clientSecret": "t-adm-secret", "role": "admin",
              "tenantId": tenant["id"]},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    t = strict.client_for("t-adm", "t-adm-secret")
    loopback = f"http://127.0.0.1:{listener.port}/identity/v3"
    kubeconfig = {
        "apiVersion": "v1",
        "clusters": [{"name": "c", "cluster": {"server": f"https://localhost:{listener.port}"}}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "x",
        "users": [{"name": "u", "user": {"token": "t"}}],
    }
    refused = [
        ({"name": "os-1", "vim_type": "openstack", "vim_url": loopback}, "vim_url"),
        ({"name": "os-2", "vim_type": "openstack", "vim_url": "http://169.254.169.254/"},
         "vim_url"),
        ({"name": "os-3", "vim_type": "openstack", "vim_url": "https://10.1.2.3:5000/v3"},
         "vim_url"),
        ({"name": "k-1", "vim_type": "kubernetes", "config": {"kubeconfig": kubeconfig}},
         "config.kubeconfig.clusters[0].cluster.server"),
    ]  # fmt: skip
    for body, field in refused:
        r = t.post("/admin/v1/vim_accounts", json=body)
        assert r.status_code == 400, r.text
        assert r.json()["field"] == field
    r = t.post("/admin/v1/sdn_controllers", json={"name": "s", "type": "sim", "url": loopback})
    assert r.status_code == 400 and r.json()["field"] == "url", r.text
    assert t.get("/admin/v1/vim_accounts").json() == []
    assert t.get("/admin/v1/sdn_controllers").json() == []

    # a tenant's sim VIM (no URL) is fine; pointing it at loopback by PATCH is not
    vim = t.post("/admin/v1/vim_accounts", json={"name": "t-sim", "vim_type": "sim"})
    assert vim.status_code == 201, vim.text
    r = t.patch(f"/admin/v1/vim_accounts/{vim.json()['id']}", json={"vim_url": loopback})
    assert r.status_code == 400 and r.json()["field"] == "vim_url", r.text
    assert t.get(f"/admin/v1/vim_accounts/{vim.json()['id']}").json().get("vim_url") is None

    # the platform's admin registers VIMs on private networks
    r = g.post("/admin/v1/vim_accounts", json={"name": "lab-os", "vim_type": "openstack",
                                               "vim_url": "https://10.1.2.3:5000/v3"})  # fmt: skip
    assert r.status_code == 201, r.text
    assert listener.hits == []
