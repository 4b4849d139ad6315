"""The GUI keeps tenants apart as the API does, because it calls the same services with the
signed-in user's scope: a tenant's operator does not see another tenant's NS, VIM or alarm,
cannot act on them by id, and cannot name another tenant's VIM (or an NS of it) inside a form.
Also: every GUI route needs a session, and every GUI route that is not a GET needs the CSRF
token. Plain HTTP with session cookies, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
import time
import uuid

import httpx
from tests.support.live import ADMIN_PASSWORD, LiveApi
from tests.support.serve_setup import onboard_samples

from nfvo.monitoring.model import FaultEvent, FaultKind, Resource, ResourceKind, Severity
from nfvo.samples import NSD_WEBAPP_ID

NS = "/nslcm/v2/ns_instances"
IMAGES = [{"name": n} for n in ("cirros", "web-img", "db-img")]


def _session(live: LiveApi, user: str, secret: str) -> httpx.Client:
    """A GUI session sending its CSRF token with every request, as htmx does."""
    s, csrf = live.gui_session(user, secret)
    s.headers["X-CSRF-Token"] = csrf
    return s


def _tenant(live: LiveApi, name: str) -> tuple[str, httpx.Client]:
    g = live.client
    tenant = g.post("/admin/v1/tenants", json={"name": name}).json()["id"]
    r = g.post(
        "/admin/v1/users",
        json={
            "clientId": f"{name}-op",
            "clientSecret": f"{name}-op-secret",
            "role": "operator",
            "tenantId": tenant,
        },
    )
    assert r.status_code == 201, r.text
    return tenant, live.client_for(f"{name}-op", f"{name}-op-secret")


def _vim_of(live: LiveApi, name: str, tenant: str) -> str:
    """A sim VIM account of ``tenant``, ENABLED."""
    body = {"name": name, "vim_type": "sim", "config": {"images": IMAGES}, "tenant_id": tenant}
    r = live.client.post("/admin/v1/vim_accounts", json=body)
    assert r.status_code in (201, 202), r.text
    vim = r.json()["id"]
    deadline = time.monotonic() + 10
    while (
        live.client.get(f"/admin/v1/vim_accounts/{vim}").json()["_admin"]["operationalState"]
        != "ENABLED"
    ):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return vim


def test_a_tenant_cannot_see_or_name_another_tenants_things(live: LiveApi) -> None:
    onboard_samples(live.client)
    ta, a_api = _tenant(live, "alpha")
    tb, b_api = _tenant(live, "beta")
    vim_a, vim_b = _vim_of(live, "vim-alpha", ta), _vim_of(live, "vim-beta", tb)
    ns_a = a_api.post(NS, json={"nsdId": NSD_WEBAPP_ID, "nsName": "a-ns"}).json()["id"]
    ns_b = b_api.post(NS, json={"nsdId": NSD_WEBAPP_ID, "nsName": "b-ns"}).json()["id"]
    a = _session(live, "alpha-op", "alpha-op-secret")

    # lists: only A's own
    listed = a.get("/ui/ns", params={"limit": 200}).text
    assert ns_a in listed and ns_b not in listed
    vims = a.get("/ui/vims").text
    assert vim_a in vims and vim_b not in vims
    # by id: as if it did not exist
    for path in (f"/ui/ns/{ns_b}/instantiate", f"/ui/vims/{vim_b}"):
        assert a.get(path).status_code == 404, path
    assert a.post(f"/ui/ns/{ns_b}/delete").status_code == 404
    assert b_api.get(f"{NS}/{ns_b}").status_code == 200  # still there

    # inside a form: B's VIM as the default VIM, as a VNF's VIM, or in the parameters
    before = len(live.client.get("/nslcm/v2/ns_lcm_op_occs").json())
    for form in (
        {"nsFlavourId": "default", "vimAccountId": vim_b},
        {"nsFlavourId": "default", "vimAccountId": vim_a, "vnfVim.vnf_db": vim_b},
        {
            "nsFlavourId": "default",
            "vimAccountId": vim_a,
            "additionalParams": json.dumps(
                {"nsVirtualLinkNetworks": {"mgmt_vl": {"vimAccountId": vim_b, "network": "x"}}}
            ),
        },
    ):
        r = a.post(f"/ui/ns/{ns_a}/instantiate", data=form)
        assert 400 <= r.status_code < 500, (form, r.status_code)
        assert vim_b in r.text or "does not exist" in r.text or "no VNF" in r.text, r.text[-800:]
    assert len(live.client.get("/nslcm/v2/ns_lcm_op_occs").json()) == before  # nothing started
    assert a_api.get(f"{NS}/{ns_a}").json()["nsState"] == "NOT_INSTANTIATED"

    # a policy on B's NS is refused, and B's alarm is neither shown nor acknowledgeable
    r = a.post(
        "/ui/policies",
        data={"name": "steal", "nsInstanceId": ns_b, "aspectId": "web_tier", "metric": "cpu"},
    )
    assert 400 <= r.status_code < 500
    assert live.client.get("/admin/v1/policies").json() == []
    fault = f"ui-tenancy:{uuid.uuid4().hex}"
    live.services.fault(
        FaultEvent(
            Resource(ResourceKind.NS, ns_b),
            FaultKind.ALERT,
            Severity.MAJOR,
            time.time(),
            "ui-tenancy",
            raw={"alertname": "Secret"},
            fault_id=fault,
        )
    )
    deadline = time.monotonic() + 10
    alarms: list = []
    while not alarms:
        alarms = b_api.get("/nsfm/v1/alarms").json()
        assert time.monotonic() < deadline, "no alarm raised"
        time.sleep(0.05)
    alarm_b = alarms[0]["id"]
    assert alarm_b not in a.get("/ui/alarms").text
    assert a.post(f"/ui/alarms/{alarm_b}/ack").status_code == 404
    assert b_api.get(f"/nsfm/v1/alarms/{alarm_b}").json()["ackState"] == "UNACKNOWLEDGED"


def test_every_gui_route_needs_a_session_and_writes_need_the_csrf_token(live: LiveApi) -> None:
    from fastapi.routing import iter_route_contexts

    app = live.server.config.app
    routes = [
        (method, r.path)
        for r in iter_route_contexts(app.routes)
        if r.path.startswith("/ui") and not r.path.startswith("/ui/static")
        for method in r.methods or ()
        if method != "HEAD"
    ]
    assert len(routes) > 30
    public = {("GET", "/ui/login"), ("POST", "/ui/login"), ("GET", "/ui")}
    anon = httpx.Client(base_url=live.base_url, timeout=30)
    signed = _session(live, "admin", ADMIN_PASSWORD)
    signed.headers.pop("X-CSRF-Token")
    missing_session, missing_csrf = [], []
    for method, path in routes:
        url = re.sub(r"\{(\w+)\}", lambda m: f"x-{m.group(1)}", path)
        if (method, path) in public:
            continue
        r = anon.request(method, url)
        if not (r.status_code == 303 and r.headers["location"].startswith("/ui/login")):
            missing_session.append((method, path, r.status_code))
        if method != "GET":
            r = signed.request(method, url)
            if r.status_code != 403 or "CSRF" not in r.text:
                missing_csrf.append((method, path, r.status_code))
    assert not missing_session, missing_session
    assert not missing_csrf, missing_csrf
