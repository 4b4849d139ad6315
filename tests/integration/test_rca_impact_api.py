"""``GET /admin/v1/impact`` through a live server on loopback (sim VIM, real instantiations):
a host's, the VIM's, an NS virtual link's, a VNF's, an NS's and a server's impact follow an
operation that has just completed (the runtime's entity graph); a tenant names only what it
may see and is answered with its own NS instances only; a bad key is a 400 ProblemDetails
naming ``resource``, an unknown one a 404. SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from tests.support.live import LiveApi, sim_vim, wait_op

from nfvo.samples.synthetic import nsd_package, vnf_package

NS = "/nslcm/v2/ns_instances"
IMPACT = "/admin/v1/impact"
OFF = {"enabled": False}


def _client(live: LiveApi, tenant: str | None, role: str) -> httpx.Client:
    cid = f"{role}-{uuid.uuid4().hex[:8]}"
    body: dict[str, Any] = {"clientId": cid, "clientSecret": f"{cid}-secret", "role": role}
    if tenant:
        body["tenantId"] = tenant
    r = live.client.post("/admin/v1/users", json=body)
    assert r.status_code == 201, r.text
    return live.client_for(cid, f"{cid}-secret")


def _deploy(c: httpx.Client, nsd_id: str, vim: str) -> dict[str, Any]:
    """An instantiated NS of the caller's tenant (its NsInstance)."""
    r = c.post(NS, json={"nsdId": nsd_id, "nsName": f"ns-{uuid.uuid4().hex[:6]}"})
    assert r.status_code == 201, r.text
    ns_id = r.json()["id"]
    body = {"nsFlavourId": "default", "additionalParamsForNs": {"vimAccountId": vim}}
    r = c.post(f"{NS}/{ns_id}/instantiate", json=body)
    assert r.status_code == 202, r.text
    assert wait_op(c, r.headers["location"])["operationState"] == "COMPLETED"
    return c.get(f"{NS}/{ns_id}").json()


def _servers(ns: dict[str, Any], vim: str) -> dict[str, tuple[str, str]]:
    """server key -> (VNF instance id, host) of an NsInstance's VNFCs."""
    out = {}
    for vnf in ns["vnfInstance"]:
        for c in vnf["instantiatedVnfInfo"]["vnfcResourceInfo"]:
            out[f"server:{vim}:{c['computeResource']['resourceId']}"] = (
                vnf["id"],
                c["metadata"]["host"],
            )
    return out


def _impact(c: httpx.Client, resource: str) -> dict[str, Any]:
    r = c.get(IMPACT, params={"resource": resource})
    assert r.status_code == 200, r.text
    return r.json()


def _problem(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == status
    return body


def test_impact_follows_operations_and_is_tenant_scoped(live: LiveApi) -> None:
    g = live.client
    tenant = g.post("/admin/v1/tenants", json={"name": "t-rca"}).json()["id"]
    other = g.post("/admin/v1/tenants", json={"name": "t-rca-other"}).json()["id"]
    vim = sim_vim(g, "rca-vim", hosts=1, images=[{"name": "cirros"}], monitoring=OFF)
    vnfd_id, nsd_id = str(uuid.uuid4()), str(uuid.uuid4())
    assert live.onboard("vnf", vnf_package(vnfd_id, instances=2))["onboardingState"] == "ONBOARDED"
    nsd = nsd_package(nsd_id, vnfd_id, profiles=2)
    assert live.onboard("nsd", nsd)["nsdOnboardingState"] == "ONBOARDED"
    operator, reader = _client(live, tenant, "operator"), _client(live, tenant, "reader")
    try:
        mine = _deploy(operator, nsd_id, vim)  # the tenant's NS
        theirs = _deploy(g, nsd_id, vim)  # a global NS on the same (only) host
        mine_servers, their_servers = _servers(mine, vim), _servers(theirs, vim)
        assert len(mine_servers) == len(their_servers) == 4
        [host] = {h for _v, h in {**mine_servers, **their_servers}.values()}

        # the global admin: both NS, at once after the operations (no waiting for a poll)
        body = _impact(g, f"host:{vim}:{host}")
        assert body["resource"] == f"host:{vim}:{host}" and body["resourceType"] == "host"
        assert {n["nsInstanceId"] for n in body["nsInstances"]} == {mine["id"], theirs["id"]}
        for ns in (mine, theirs):
            [entry] = [n for n in body["nsInstances"] if n["nsInstanceId"] == ns["id"]]
            assert entry["vnfInstanceIds"] == sorted(v["id"] for v in ns["vnfInstance"])
        assert {s["resource"] for s in body["servers"]} == set(mine_servers) | set(their_servers)
        assert body["counts"] == {"nsInstances": 2, "vnfInstances": 4, "servers": 8}
        server_key, (vnf_id, _host) = sorted(mine_servers.items())[0]
        [server] = [s for s in body["servers"] if s["resource"] == server_key]
        assert (server["nsInstanceId"], server["vnfInstanceId"], server["host"]) == (
            mine["id"],
            vnf_id,
            host,
        )
        assert _impact(g, f"vim:{vim}")["counts"]["servers"] == 8

        # the NS virtual link's network: every VNF of that NS (each has a port on it)
        [vl] = theirs["virtualLinkInfo"]
        net = vl["resourceHandle"][0]["resourceId"]
        vl_body = _impact(g, f"network:{vim}:{net}")
        assert [n["nsInstanceId"] for n in vl_body["nsInstances"]] == [theirs["id"]]
        assert vl_body["vnfInstanceIds"] == sorted(v["id"] for v in theirs["vnfInstance"])
        assert _impact(g, f"vnf:{vnf_id}")["vnfInstanceIds"] == [vnf_id]
        assert _impact(g, f"ns:{theirs['id']}")["counts"]["servers"] == 4
        assert _impact(g, server_key)["servers"][0]["vnfInstanceId"] == vnf_id

        # the tenant: its own NS only, on the shared VIM's host and VIM
        seen = _impact(reader, f"host:{vim}:{host}")
        assert [n["nsInstanceId"] for n in seen["nsInstances"]] == [mine["id"]]
        assert {s["resource"] for s in seen["servers"]} == set(mine_servers)
        assert seen["counts"] == {"nsInstances": 1, "vnfInstances": 2, "servers": 4}
        assert _impact(reader, f"vim:{vim}")["counts"]["nsInstances"] == 1
        assert _impact(reader, f"ns:{mine['id']}")["counts"]["servers"] == 4
        # another's NS, VNF, server and NS link: unknown to the tenant
        their_server = sorted(their_servers)[0]
        for key in (
            f"ns:{theirs['id']}",
            f"vnf:{their_servers[their_server][0]}",
            their_server,
            f"network:{vim}:{net}",
        ):
            _problem(reader.get(IMPACT, params={"resource": key}), 404)
        # another tenant's VIM: unknown to the tenant (the graph knows it at once)
        body = {"name": "rca-foreign", "vim_type": "sim", "tenant_id": other}
        r = g.post(
            "/admin/v1/vim_accounts", json=body | {"config": {"hosts": 1, "monitoring": OFF}}
        )
        assert r.status_code in (201, 202), r.text
        foreign = r.json()["id"]
        _problem(reader.get(IMPACT, params={"resource": f"vim:{foreign}"}), 404)
        assert _impact(g, f"vim:{foreign}")["counts"]["servers"] == 0

        # terminated: the NS leaves the graph with its operation
        r = g.post(f"{NS}/{theirs['id']}/terminate", json={})
        assert r.status_code == 202, r.text
        assert wait_op(g, r.headers["location"])["operationState"] == "COMPLETED"
        after = _impact(g, f"host:{vim}:{host}")
        assert [n["nsInstanceId"] for n in after["nsInstances"]] == [mine["id"]]
    finally:
        operator.close()
        reader.close()


def test_bad_and_unknown_resources_are_problem_details(live: LiveApi) -> None:
    c = live.client
    vim = sim_vim(c, "rca-empty", hosts=1, monitoring=OFF)
    for bad in ("bogus:x", "host:only-one-part", "server:", "ns:"):
        body = _problem(c.get(IMPACT, params={"resource": bad}), 400)
        assert "resource" in str(body.get("field")) or "resource" in body["detail"], body
    body = _problem(c.get(IMPACT), 400)
    assert "resource" in str(body.get("field")) or "resource" in body["detail"], body
    _problem(c.get(IMPACT, params={"resource": "x" * 601}), 400)
    for unknown in (f"host:{vim}:no-such-host", f"ns:{uuid.uuid4()}", f"vim:{uuid.uuid4()}"):
        body = _problem(c.get(IMPACT, params={"resource": unknown}), 404)
        assert unknown in body["detail"]
    # the VIM itself and its synced host are known, and carry nothing
    assert _impact(c, f"vim:{vim}")["nsInstances"] == []
    hosts = c.get(f"/admin/v1/vim_accounts/{vim}/metrics").json()["hosts"]
    assert _impact(c, hosts[0]["resource"])["counts"]["servers"] == 0
