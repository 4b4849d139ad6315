"""Sim fault injection and load curves through the admin API of a real nfvo on loopback
(SQLite and PostgreSQL): a host taken down is seen by a running sim monitoring source
within 2 s and comes back on DELETE; a step load set on a VNF's servers shows in the sim's
metrics; bad requests are ProblemDetails naming the field and write nothing; another
tenant's account is a 404, a reader gets 403, a non-sim account is refused naming its type."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
from tests.support.live import LiveApi, sim_vim

from nfvo.monitoring.model import FaultEvent, FaultKind, Sample
from nfvo.monitoring.sources.base import SourceContext
from nfvo.monitoring.sources.sim import SimSource
from nfvo.resources.service import Scope
from nfvo.vim.base import TAG_VNF, ServerSpec

HOSTS = [{"name": "compute-1"}, {"name": "compute-2"}]


class Recorder:
    def __init__(self) -> None:
        self.events: list[FaultEvent] = []
        self.samples_seen = 0
        self.lock = threading.Lock()

    def samples(self, batch: list[Sample]) -> None:
        with self.lock:
            self.samples_seen += len(batch)

    def fault(self, event: FaultEvent) -> None:
        with self.lock:
            self.events.append(event)

    def seen(self, kind: FaultKind, rid: str) -> bool:
        with self.lock:
            return any(e.kind is kind and e.resource.id == rid for e in self.events)


def _wait(cond: Any, limit: float) -> float:
    t0 = time.monotonic()
    while not cond():
        assert time.monotonic() - t0 < limit, f"not within {limit} s"
        time.sleep(0.01)
    return time.monotonic() - t0


def _servers(live: LiveApi, vim_id: str) -> list[str]:
    driver = live.services.resources.driver(vim_id)
    out = []
    for i, host in enumerate(("compute-1", "compute-1", "compute-2")):
        spec = ServerSpec(
            key=f"s{i}",
            name=f"s{i}",
            flavor="m1.small",
            host=host,
            tags={TAG_VNF: "vnf-a" if i < 2 else "vnf-b"},
        )
        out.append(driver.create_server(spec).id)
    return out


def _problem(r: httpx.Response, status: int, field: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    if field is not None:
        named = body.get("field") or body["invalidParams"][0]["field"]
        assert named == field, body
    return body


def test_host_down_through_the_api_is_seen_by_the_next_poll(live: LiveApi) -> None:
    c = live.client
    vim_id = sim_vim(c, "lab", hosts=HOSTS)
    servers = _servers(live, vim_id)
    base = f"/admin/v1/vim_accounts/{vim_id}/sim"
    vim = live.services.resources.get_vim(vim_id, Scope(None))
    sink = Recorder()
    source = SimSource(
        SourceContext(vim_id, "sim", live.services.resources.driver_for(vim), sink, {})
    )
    source.start()
    try:
        _wait(lambda: sink.samples_seen > 0, 5)
        r = c.post(f"{base}/faults", json={"kind": "HOST_DOWN", "host": "compute-1"})
        assert r.status_code == 201, r.text
        fault = r.json()
        assert fault["kind"] == "HOST_DOWN" and fault["host"] == "compute-1"
        assert r.headers["location"].endswith(f"/sim/faults/{fault['id']}")
        took = _wait(lambda: sink.seen(FaultKind.HOST_DOWN, "compute-1"), 2.0)
        assert took < 2.0
        assert not sink.seen(FaultKind.SERVER_CRASHED, servers[0])  # the host's fault
        assert c.get(f"{base}/faults").json() == [fault]
        driver = live.services.resources.driver(vim_id)
        assert driver.get_server(servers[0]).status == "ERROR"
        _problem(c.post(f"{base}/faults", json={"kind": "HOST_DOWN", "host": "compute-1"}), 409)
        r = c.delete(f"{base}/faults/{fault['id']}")
        assert r.status_code == 200 and r.json()["id"] == fault["id"]
        _wait(lambda: sink.seen(FaultKind.HOST_UP, "compute-1"), 2.0)
        assert driver.get_server(servers[0]).status == "ACTIVE"
        _problem(c.delete(f"{base}/faults/{fault['id']}"), 404)
        assert c.get(f"{base}/faults").json() == []
        # a crash of one server, then its recovery
        r = c.post(f"{base}/faults", json={"kind": "SERVER_CRASH", "serverId": servers[2]})
        assert r.status_code == 201, r.text
        _wait(lambda: sink.seen(FaultKind.SERVER_CRASHED, servers[2]), 2.0)
        assert c.delete(f"{base}/faults/{r.json()['id']}").status_code == 200
        _wait(lambda: sink.seen(FaultKind.SERVER_RECOVERED, servers[2]), 2.0)
    finally:
        source.stop()


def test_bad_fault_and_load_requests_name_the_field_and_write_nothing(live: LiveApi) -> None:
    c = live.client
    vim_id = sim_vim(c, "lab", hosts=HOSTS)
    _servers(live, vim_id)
    base = f"/admin/v1/vim_accounts/{vim_id}/sim"
    _problem(c.post(f"{base}/faults", json={"kind": "HOST_DOWN", "host": "nope"}), 422, "host")
    _problem(c.post(f"{base}/faults", json={"kind": "HOST_DOWN"}), 400, "host")
    _problem(
        c.post(f"{base}/faults", json={"kind": "HOST_DOWN", "host": "compute-1", "serverId": "x"}),
        400,
        "serverId",
    )
    _problem(c.post(f"{base}/faults", json={"kind": "SERVER_CRASH", "serverId": "x"}), 422)
    _problem(c.post(f"{base}/faults", json={"kind": "FIRE", "host": "compute-1"}), 400, "kind")
    _problem(c.post(f"{base}/faults", json={"kind": "HOST_DOWN", "host": "h" * 256}), 400, "host")
    assert c.get(f"{base}/faults").json() == []
    step = {"pattern": "step", "base": 10, "after": 90, "at_s": 1}
    _problem(
        c.put(f"{base}/load", json={"target": {"vnfInstanceId": "nope"}, "curve": step}),
        422,
        "target.vnfInstanceId",
    )
    _problem(
        c.put(
            f"{base}/load", json={"target": {"host": "compute-1", "serverId": "x"}, "curve": step}
        ),
        400,
        "target",
    )
    bad = {"pattern": "replay", "series": [[0, 1]] * 10_001}
    body = _problem(
        c.put(f"{base}/load", json={"target": {"host": "compute-1"}, "curve": bad}), 400
    )
    assert body["invalidParams"][0]["field"].startswith("curve")
    _problem(
        c.put(f"{base}/load", json={"target": {"host": "compute-1"}, "curve": {"pattern": "step"}}),
        400,
        "curve",
    )
    assert c.get(f"{base}/load").json() == []
    _problem(c.get("/admin/v1/vim_accounts/nope/sim/faults"), 404)


def test_a_step_load_on_a_vnf_shows_in_the_metrics(live: LiveApi) -> None:
    c = live.client
    vim_id = sim_vim(c, "lab", hosts=HOSTS)
    a1, a2, b = _servers(live, vim_id)
    base = f"/admin/v1/vim_accounts/{vim_id}/sim"
    step = {"pattern": "step", "base": 10, "after": 90, "at_s": 1}
    r = c.put(f"{base}/load", json={"target": {"vnfInstanceId": "vnf-a"}, "curve": step})
    assert r.status_code == 200, r.text
    assert r.json()["target"] == {"vnfInstanceId": "vnf-a"} and r.json()["curve"] == step
    assert c.get(f"{base}/load").json() == [r.json()]
    driver = live.services.resources.driver(vim_id)

    def cpu() -> dict[str, float]:
        snap = driver.monitoring_snapshot()
        return {i: v for k, i, m, v in snap.samples if k == "server" and m == "cpu_utilization"}

    assert cpu()[a1] == cpu()[a2] == 10
    _wait(lambda: cpu()[a1] == 90, 3.0)
    assert cpu()[a2] == 90 and cpu()[b] != 90
    r = c.put(f"{base}/load", json={"target": {"vnfInstanceId": "vnf-a"}, "curve": None})
    assert r.status_code == 200 and r.json()["curve"] is None
    assert c.get(f"{base}/load").json() == []


def test_tenants_roles_and_vim_types(live: LiveApi) -> None:
    g = live.client
    tenants = {}
    for t in ("a", "b"):
        tenants[t] = g.post("/admin/v1/tenants", json={"name": f"tenant-{t}"}).json()["id"]
    clients = {}
    for who, role, tenant in (("op-a", "operator", "a"), ("rd-a", "reader", "a")):
        body = {"clientId": who, "clientSecret": f"{who}-secret", "role": role}
        body["tenantId"] = tenants[tenant]
        assert g.post("/admin/v1/users", json=body).status_code == 201
        clients[who] = live.client_for(who, f"{who}-secret")
    r = g.post(
        "/admin/v1/vim_accounts",
        json={"name": "vim-shared", "vim_type": "sim", "config": {"hosts": HOSTS}},
    )
    assert r.status_code == 201, r.text
    shared = r.json()["id"]  # a global admin's account without a tenant: shared
    own = g.post(
        "/admin/v1/vim_accounts",
        json={
            "name": "vim-own",
            "vim_type": "sim",
            "config": {"hosts": HOSTS},
            "tenant_id": tenants["a"],
        },
    )
    assert own.status_code == 201, own.text
    own_id = own.json()["id"]
    other = g.post(
        "/admin/v1/vim_accounts",
        json={
            "name": "vim-other",
            "vim_type": "sim",
            "config": {"hosts": HOSTS},
            "tenant_id": tenants["b"],
        },
    )
    other_id = other.json()["id"]
    down = {"kind": "HOST_DOWN", "host": "compute-2"}
    op, rd = clients["op-a"], clients["rd-a"]
    # another tenant's account: it does not exist for tenant a
    _problem(op.post(f"/admin/v1/vim_accounts/{other_id}/sim/faults", json=down), 404)
    _problem(op.get(f"/admin/v1/vim_accounts/{other_id}/sim/faults"), 404)
    _problem(op.get(f"/admin/v1/vim_accounts/{other_id}/sim/load"), 404)
    # a shared account: readable, driven by global operators only
    assert op.get(f"/admin/v1/vim_accounts/{shared}/sim/faults").status_code == 200
    _problem(op.post(f"/admin/v1/vim_accounts/{shared}/sim/faults", json=down), 403)
    # the tenant's own account: its operator drives it, its reader only reads
    _problem(rd.post(f"/admin/v1/vim_accounts/{own_id}/sim/faults", json=down), 403)
    r = op.post(f"/admin/v1/vim_accounts/{own_id}/sim/faults", json=down)
    assert r.status_code == 201, r.text
    assert rd.get(f"/admin/v1/vim_accounts/{own_id}/sim/faults").json() == [r.json()]
    _problem(rd.delete(f"/admin/v1/vim_accounts/{own_id}/sim/faults/{r.json()['id']}"), 403)
    assert g.get(f"/admin/v1/vim_accounts/{other_id}/sim/faults").json() == []
    # a VIM of another type is refused, naming the type
    kube = g.post(
        "/admin/v1/vim_accounts",
        json={"name": "k8s", "vim_type": "kubernetes", "vim_url": "https://127.0.0.1:1"},
    )
    assert kube.status_code == 201, kube.text
    body = _problem(
        g.post(f"/admin/v1/vim_accounts/{kube.json()['id']}/sim/faults", json=down),
        422,
        "vimAccountId",
    )
    assert "kubernetes" in body["detail"] and body["vimType"] == "kubernetes"
    _problem(g.get(f"/admin/v1/vim_accounts/{kube.json()['id']}/sim/load"), 422)
    for c in clients.values():
        c.close()
