"""Quotas per tenant and per NS, checked where every operation starts (``LcmService.start``),
through the real API on the sim VIM, on SQLite and PostgreSQL: an INSTANTIATE or SCALE out
past a limit is a 422 naming the quota, dimension, limit, usage and request, with nothing
created; a HEAL that recreates VNFCs asks for nothing; an operation in flight counts for
what it reserved; concurrent requests of one tenant never both pass a quota that fits one."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from tests.support.live import LiveApi, sim_vim, wait_op

from nfvo.errors import NfvoError, QuotaExceeded
from nfvo.lcm.states import OpType
from nfvo.samples import NSD_WEBAPP_ID, VNF_WEB_ID, build_sample

NS = "/nslcm/v2/ns_instances"
Q = "/admin/v1/quotas"


class World:
    """A tenant with its own admin client, the sample packages (shared) and a sim VIM."""

    def __init__(self, live: LiveApi, tenant: str, client: httpx.Client, vim: str) -> None:
        self.live, self.tenant, self.c, self.vim = live, tenant, client, vim

    def ns(self, name: str) -> str:
        r = self.c.post(NS, json={"nsdId": NSD_WEBAPP_ID, "nsName": name})
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def body(self) -> dict[str, Any]:
        return {"nsFlavourId": "default", "additionalParamsForNs": {"vimAccountId": self.vim}}

    def instantiate(self, ns_id: str) -> httpx.Response:
        return self.c.post(f"{NS}/{ns_id}/instantiate", json=self.body())

    def run(self, ns_id: str, what: str, body: dict[str, Any]) -> dict[str, Any]:
        r = self.c.post(f"{NS}/{ns_id}/{what}", json=body)
        assert r.status_code == 202, r.text
        return wait_op(self.c, r.headers["location"])


@pytest.fixture
def world(live: LiveApi) -> World:
    g = live.client
    for name in ("vnf-web", "vnf-db", "ns-webapp"):
        kind = "nsd" if name.startswith("ns") else "vnf"
        info = live.onboard(kind, build_sample(name))
        assert (info.get("onboardingState") or info.get("nsdOnboardingState")) == "ONBOARDED"
    images = [{"name": n} for n in ("cirros", "web-img", "db-img")]
    vim = sim_vim(g, "lab", zones=2, hosts=8, images=images)
    tenant = g.post("/admin/v1/tenants", json={"name": "quota-tenant"}).json()["id"]
    user = {"clientId": "qa", "clientSecret": "qa-secret-1", "role": "admin", "tenantId": tenant}
    assert g.post("/admin/v1/users", json=user).status_code == 201
    return World(live, tenant, live.client_for("qa", "qa-secret-1"), vim)


def _usage(w: World, path: str) -> dict[str, int]:
    r = w.c.get(f"{Q}/{path}")
    assert r.status_code == 200, r.text
    return r.json()["usage"]


def _web(w: World, ns_id: str) -> dict[str, Any]:
    ns = w.c.get(f"{NS}/{ns_id}").json()
    [web] = [v for v in ns["vnfInstance"] if v["vnfdId"] == VNF_WEB_ID]
    return web


def _scale_web(w: World, ns_id: str, kind: str) -> httpx.Response:
    data = {
        "vnfInstanceId": _web(w, ns_id)["id"],
        "scaleVnfType": kind,
        "scaleByStepData": {"aspectId": "web_scale", "numberOfSteps": 1},
    }
    return w.c.post(f"{NS}/{ns_id}/scale", json={"scaleType": "SCALE_VNF", "scaleVnfData": [data]})


def _ops(w: World, ns_id: str) -> list[dict[str, Any]]:
    ops = w.c.get("/nslcm/v2/ns_lcm_op_occs").json()
    return [o for o in ops if o["nsInstanceId"] == ns_id]


def test_tenant_quota_refuses_an_instantiate_that_does_not_fit(world: World) -> None:
    w = world
    first = w.ns("first")
    assert wait_op(w.c, w.instantiate(first).headers["location"])["operationState"] == "COMPLETED"
    one = _usage(w, f"ns_instances/{first}")
    assert one["instances"] >= 2 and one["vcpus"] > 0 and one["ramMib"] > 0
    assert _usage(w, f"tenants/{w.tenant}") == one
    # room for one NS and a half in vCPUs: a second NS does not fit
    limit = one["vcpus"] + one["vcpus"] // 2
    r = w.live.client.put(f"{Q}/tenants/{w.tenant}", json={"maxVcpus": limit})
    assert r.status_code == 200, r.text
    assert r.json()["maxVcpus"] == limit and r.json()["maxInstances"] is None
    second = w.ns("second")
    r = w.instantiate(second)
    assert r.status_code == 422, r.text
    p = r.json()
    assert (p["quota"], p["dimension"], p["limit"]) == ("tenant", "vcpus", limit)
    assert (p["inUse"], p["requested"], p["tenantId"]) == (one["vcpus"], one["vcpus"], w.tenant)
    assert str(limit) in p["detail"]
    # nothing of the request remains: no op occurrence, the NS is free and not instantiated
    assert _ops(w, second) == []
    got = w.c.get(f"{NS}/{second}").json()
    assert got["nsState"] == "NOT_INSTANTIATED"
    # the limit raised to exactly two NSs: it fits
    assert w.live.client.put(f"{Q}/tenants/{w.tenant}", json={"maxVcpus": 2 * one["vcpus"]})
    op = wait_op(w.c, w.instantiate(second).headers["location"])
    assert op["operationState"] == "COMPLETED"
    assert _usage(w, f"tenants/{w.tenant}")["vcpus"] == 2 * one["vcpus"]
    # a tenant admin may not set its own tenant's quota; it reads it
    assert w.c.put(f"{Q}/tenants/{w.tenant}", json={}).status_code == 403
    listed = w.c.get(Q).json()
    assert [(q["scope"], q["tenantId"]) for q in listed] == [("TENANT", w.tenant)]


def test_ns_quota_scale_out_refused_heal_and_scale_in_pass(world: World) -> None:
    w = world
    ns_id = w.ns("scaled")
    assert wait_op(w.c, w.instantiate(ns_id).headers["location"])["operationState"] == "COMPLETED"
    used = _usage(w, f"ns_instances/{ns_id}")
    # the tenant's operator sets its NS's quota at exactly what it holds
    r = w.c.put(f"{Q}/ns_instances/{ns_id}", json={"maxInstances": used["instances"]})
    assert r.status_code == 200, r.text
    r = _scale_web(w, ns_id, "SCALE_OUT")
    assert r.status_code == 422, r.text
    p = r.json()
    assert (p["quota"], p["dimension"], p["nsInstanceId"]) == ("ns", "instances", ns_id)
    assert (p["limit"], p["inUse"], p["requested"]) == (used["instances"], used["instances"], 1)
    assert len([o for o in _ops(w, ns_id) if o["lcmOperationType"] == "SCALE"]) == 0
    # a heal that recreates a VNFC replaces it: it asks for nothing and passes at the limit
    web = _web(w, ns_id)
    vnfc = web["instantiatedVnfInfo"]["vnfcResourceInfo"][0]["id"]
    heal = {
        "healVnfData": [
            {
                "vnfInstanceId": web["id"],
                "additionalParams": {"healType": "RECREATE", "vnfcInstanceIds": [vnfc]},
            }
        ]
    }
    assert w.run(ns_id, "heal", heal)["operationState"] == "COMPLETED"
    assert _usage(w, f"ns_instances/{ns_id}") == used
    # one more instance allowed: the scale out fits, then a scale in is never refused
    w.c.put(f"{Q}/ns_instances/{ns_id}", json={"maxInstances": used["instances"] + 1})
    r = _scale_web(w, ns_id, "SCALE_OUT")
    assert r.status_code == 202, r.text
    assert wait_op(w.c, r.headers["location"])["operationState"] == "COMPLETED"
    w.c.put(f"{Q}/ns_instances/{ns_id}", json={"maxInstances": 0})
    r = _scale_web(w, ns_id, "SCALE_IN")
    assert r.status_code == 202, r.text
    assert wait_op(w.c, r.headers["location"])["operationState"] == "COMPLETED"
    assert w.c.delete(f"{Q}/ns_instances/{ns_id}").status_code == 204
    got = w.c.get(f"{Q}/ns_instances/{ns_id}").json()
    assert got["id"] is None and got["maxInstances"] is None


def test_an_operation_in_flight_counts_for_what_it_reserved(world: World) -> None:
    w = world
    g = w.live.client
    probe = w.ns("probe")
    assert wait_op(w.c, w.instantiate(probe).headers["location"])["operationState"] == "COMPLETED"
    one = _usage(w, f"ns_instances/{probe}")
    assert w.run(probe, "terminate", {})["operationState"] == "COMPLETED"
    assert _usage(w, f"tenants/{w.tenant}")["instances"] == 0
    g.put(f"{Q}/tenants/{w.tenant}", json={"maxInstances": one["instances"]})
    slow_boot = {"config": {"latency_ms": {"server_boot": 800}}}
    g.patch(f"/admin/v1/vim_accounts/{w.vim}", json=slow_boot)
    time.sleep(0.3)
    slow, other = w.ns("slow"), w.ns("other")
    r = w.instantiate(slow)
    assert r.status_code == 202, r.text
    # the first one's VNFCs are not all there yet: its reservation counts in full
    r2 = w.instantiate(other)
    assert r2.status_code == 422, r2.text
    assert r2.json()["inUse"] == one["instances"]
    assert _usage(w, f"tenants/{w.tenant}")["instances"] == one["instances"]
    assert wait_op(w.c, r.headers["location"])["operationState"] == "COMPLETED"
    # once it has ended, its reservation no longer counts: what its VNFCs hold does
    assert _usage(w, f"tenants/{w.tenant}") == one


def _race(start: Callable[[str], Any], ids: list[str]) -> dict[str, Any]:
    """``start`` of each NS in its own thread, all released at once: NS id -> result or
    the error it raised."""
    barrier = threading.Barrier(len(ids))
    outcome: dict[str, Any] = {}

    def go(ns_id: str) -> None:
        barrier.wait()
        try:
            outcome[ns_id] = start(ns_id)
        except NfvoError as exc:
            outcome[ns_id] = exc

    threads = [threading.Thread(target=go, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return outcome


def test_concurrent_requests_of_one_tenant_never_both_pass(world: World) -> None:
    w = world
    lcm = w.live.services.lcm
    probe = w.ns("probe")
    assert wait_op(w.c, w.instantiate(probe).headers["location"])["operationState"] == "COMPLETED"
    one = _usage(w, f"ns_instances/{probe}")
    assert w.run(probe, "terminate", {})["operationState"] == "COMPLETED"
    # room for exactly one NS, in every dimension
    w.live.client.put(
        f"{Q}/tenants/{w.tenant}",
        json={"maxVcpus": one["vcpus"], "maxRamMib": one["ramMib"] + 1, "maxInstances": 99},
    )
    rounds, racers = 3, 4
    for n in range(rounds):
        ids = [w.ns(f"race-{n}-{i}") for i in range(racers)]
        outcome = _race(lambda ns_id: lcm.start(ns_id, OpType.INSTANTIATE, w.body(), w.tenant), ids)
        won = [i for i in ids if not isinstance(outcome[i], Exception)]
        refused = [outcome[i] for i in ids if isinstance(outcome[i], Exception)]
        assert len(won) == 1, outcome
        assert all(isinstance(e, QuotaExceeded) for e in refused), refused
        assert all(e.extra["dimension"] == "vcpus" for e in refused)
        occ = outcome[won[0]]
        assert wait_op(w.c, f"/nslcm/v2/ns_lcm_op_occs/{occ.id}")["operationState"] == "COMPLETED"
        assert _usage(w, f"tenants/{w.tenant}")["vcpus"] == one["vcpus"]
        assert w.run(won[0], "terminate", {})["operationState"] == "COMPLETED"
        assert _usage(w, f"tenants/{w.tenant}")["vcpus"] == 0


def test_quota_limits_are_bounded_and_closed(world: World) -> None:
    g = world.live.client
    for body in ({"maxVcpus": -1}, {"maxInstances": 10**7}, {"maxCores": 3}, {"maxRamMib": "x"}):
        r = g.put(f"{Q}/tenants/{world.tenant}", json=body)
        assert r.status_code in (400, 422), (body, r.text)
    assert g.put(f"{Q}/tenants/no-such-tenant", json={}).status_code == 404
    assert world.c.get(f"{Q}/ns_instances/no-such-ns").status_code == 404
