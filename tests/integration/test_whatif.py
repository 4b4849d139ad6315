"""What-if plans and capacity (``/admin/v1/plans``, ``/admin/v1/capacity``): the plan is where
a real instantiate then lands, an infeasible plan says why, the capacity count is the number
of instantiates that then succeed, other tenants' ids are unknown, nothing is written. Real
API on loopback, sim VIM, SQLite and PostgreSQL."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from tests.support.cli import Cli
from tests.support.live import ADMIN_PASSWORD, LiveApi, sim_vim, wait_op

from nfvo.inventory.models import NsInstance, NsLcmOpOcc
from nfvo.samples import NSD_WEBAPP_ID, VNF_WEB_ID, build_sample
from nfvo.samples.synthetic import nsd_package, vnf_package

NS = "/nslcm/v2/ns_instances"
PLANS = "/admin/v1/plans"
CAPACITY = "/admin/v1/capacity"


def _onboard_webapp(live: LiveApi) -> None:
    for name in ("vnf-web", "vnf-db", "ns-webapp"):
        kind = "nsd" if name.startswith("ns") else "vnf"
        info = live.onboard(kind, build_sample(name))
        assert (info.get("onboardingState") or info.get("nsdOnboardingState")) == "ONBOARDED"


def _onboard_synthetic(live: LiveApi, nsd_id: str, vnfd_id: str, instances: int) -> None:
    info = live.onboard("vnf", vnf_package(vnfd_id, vdus=1, instances=instances))
    assert info["onboardingState"] == "ONBOARDED", info
    info = live.onboard("nsd", nsd_package(nsd_id, vnfd_id, profiles=1))
    assert info["nsdOnboardingState"] == "ONBOARDED", info


def _servers(c: httpx.Client, vim_id: str) -> int:
    return len(c.get(f"/admin/v1/vim_accounts/{vim_id}/resources").json()["servers"])


def _rows(live: LiveApi) -> tuple[int, int]:
    with live.services.db.session() as s:
        ns = s.execute(select(func.count()).select_from(NsInstance)).scalar_one()
        ops = s.execute(select(func.count()).select_from(NsLcmOpOcc)).scalar_one()
    return ns, ops


def _instantiate(c: httpx.Client, nsd_id: str, vim_id: str, name: str) -> httpx.Response:
    r = c.post(NS, json={"nsdId": nsd_id, "nsName": name})
    assert r.status_code == 201, r.text
    ns_id = r.json()["id"]
    body = {"nsFlavourId": "default", "additionalParamsForNs": {"vimAccountId": vim_id}}
    return c.post(f"{NS}/{ns_id}/instantiate", json=body)


def _landed(c: httpx.Client, ns_id: str) -> dict[tuple[str, int, str, int], str]:
    """(VNF profile, VNF index, VDU, VDU index) -> host, as the NS records them."""
    ns = c.get(f"{NS}/{ns_id}").json()
    seen: dict[str, int] = {}
    out = {}
    for vnf in ns["vnfInstance"]:
        profile = vnf["vnfProfileId"] if "vnfProfileId" in vnf else vnf["metadata"]["vnfProfileId"]
        index = seen.setdefault(profile, 0)
        seen[profile] += 1
        for vnfc in vnf["instantiatedVnfInfo"]["vnfcResourceInfo"]:
            idx = int(vnfc["id"].rsplit("-", 1)[1]) if "-" in vnfc["id"] else 0
            out[(profile, index, vnfc["vduId"], idx)] = vnfc["metadata"]["host"]
    return out


def _planned(plan: dict[str, Any]) -> dict[tuple[str, int, str, int], str]:
    return {
        (v["vnfProfileId"], v["vnfIndex"], v["vduId"], v["index"]): v["host"] for v in plan["vdus"]
    }


def test_plan_then_instantiate_lands_where_the_plan_said(live: LiveApi) -> None:
    _onboard_webapp(live)
    c = live.client
    vim_id = sim_vim(c, "whatif-4", zones=2, hosts=4)
    ns_id = c.post(NS, json={"nsdId": NSD_WEBAPP_ID, "nsName": "planned"}).json()["id"]
    body = {"nsFlavourId": "default", "additionalParamsForNs": {"vimAccountId": vim_id}}
    before_rows, before_servers = _rows(live), _servers(c, vim_id)
    by_nsd = c.post(PLANS, json={"nsdId": NSD_WEBAPP_ID, **body})
    by_ns = c.post(PLANS, json={"nsInstanceId": ns_id, **body})
    assert by_nsd.status_code == 200 and by_ns.status_code == 200, (by_nsd.text, by_ns.text)
    assert _rows(live) == before_rows and _servers(c, vim_id) == before_servers  # nothing done
    plan = by_ns.json()
    assert plan["feasible"] is True and plan["operation"] == "INSTANTIATE"
    assert plan["vdus"] and all(v["host"] and v["zone"] for v in plan["vdus"])
    assert all(v["vnfInstanceId"] for v in plan["vdus"])  # the NS exists: its real ids
    assert all(v["vnfInstanceId"] is None for v in by_nsd.json()["vdus"])  # placeholders
    assert _planned(by_nsd.json()) == _planned(plan)  # same NSD, same inventory, same answer
    [vim] = plan["vims"]
    assert vim["vimAccountId"] == vim_id and vim["objective"] >= vim["lowerBound"] >= 1
    cap = vim["capacity"]
    assert cap["hostsTouched"] == len({v["host"] for v in plan["vdus"]})
    for h in cap["hosts"]:
        assert h["freeAfter"]["vcpus"] < h["free"]["vcpus"]
    assert {z["zone"] for z in cap["zones"]} == {v["zone"] for v in plan["vdus"]} | {
        z["zone"] for z in cap["zones"]
    }
    assert any("web_anti_affinity" in label for label in plan["rulesSatisfied"]), plan["rules"]
    # the real instantiate afterwards
    r = c.post(f"{NS}/{ns_id}/instantiate", json=body)
    assert r.status_code == 202, r.text
    assert wait_op(c, r.headers["location"])["operationState"] == "COMPLETED"
    assert _landed(c, ns_id) == _planned(plan)


def test_an_infeasible_plan_says_why(live: LiveApi) -> None:
    _onboard_webapp(live)
    c = live.client
    # 2-vCPU hosts: the 4-vCPU database VDU fits on none of them
    vim_id = sim_vim(c, "whatif-small", hosts=2, host_defaults={"vcpus": 2})
    before = _servers(c, vim_id)
    r = c.post(
        PLANS,
        json={
            "nsdId": NSD_WEBAPP_ID,
            "nsFlavourId": "default",
            "additionalParamsForNs": {"vimAccountId": vim_id},
        },
    )
    assert r.status_code == 200, r.text
    plan = r.json()
    assert plan["feasible"] is False
    assert plan["unplaced"] and all(v["host"] is None and v["reason"] for v in plan["unplaced"])
    assert "vcpu" in " ".join(v["reason"] for v in plan["unplaced"]).lower()
    assert plan["problem"]["status"] == 422 and plan["problem"]["unplacedVdus"]
    assert _servers(c, vim_id) == before


def test_capacity_counts_the_instantiates_that_then_succeed(live: LiveApi) -> None:
    """Two hosts of 3 vCPUs, an NS of 2 one-vCPU VDUs: 3 fit, the 4th is refused."""
    _onboard_synthetic(live, "nsd-cap", "vnfd-cap", instances=2)
    c = live.client
    vim_id = sim_vim(c, "whatif-cap", hosts=2, host_defaults={"vcpus": 3})
    before_rows = _rows(live)
    params = {"nsdId": "nsd-cap", "nsFlavourId": "default", "vimAccountId": vim_id}
    r = c.get(CAPACITY, params=params)
    assert r.status_code == 200, r.text
    cap = r.json()
    assert cap["count"] == 3 and cap["vdusPerInstance"] == 2, cap
    assert len(cap["instances"]) == 3 and all(len(i) == 2 for i in cap["instances"])
    assert "vcpus" in cap["limitedBy"] or "vCPU" in cap["limitedBy"], cap["limitedBy"]
    assert c.get(CAPACITY, params={**params, "max": 2}).json()["count"] == 2
    assert _rows(live) == before_rows
    for n in range(3):
        r = _instantiate(c, "nsd-cap", vim_id, f"cap-{n}")
        assert r.status_code == 202, r.text
        assert wait_op(c, r.headers["location"])["operationState"] == "COMPLETED"
    assert c.get(CAPACITY, params=params).json()["count"] == 0
    r = _instantiate(c, "nsd-cap", vim_id, "cap-3")
    assert r.status_code == 422 and "not enough vcpus" in r.json()["detail"], r.text
    assert r.json()["unplacedVdus"], r.text


def _tenant_client(live: LiveApi, name: str, role: str) -> httpx.Client:
    c = live.client
    tenant = c.post("/admin/v1/tenants", json={"name": name}).json()["id"]
    user = c.post(
        "/admin/v1/users", json={"clientId": f"{name}-{role}", "role": role, "tenantId": tenant}
    )
    assert user.status_code == 201, user.text
    return live.client_for(f"{name}-{role}", user.json()["clientSecret"])


def _onboard_as(c: httpx.Client, kind: str, data: bytes) -> None:
    coll, content = {
        "vnf": ("/vnfpkgm/v2/vnf_packages", "package_content"),
        "nsd": ("/nsd/v2/ns_descriptors", "nsd_content"),
    }[kind]
    pkg = c.post(coll, json={}).json()["id"]
    r = c.put(f"{coll}/{pkg}/{content}", content=data, headers={"Content-Type": "application/zip"})
    assert r.status_code == 202, r.text
    deadline = time.monotonic() + 30
    while "ONBOARDED" not in str(c.get(f"{coll}/{pkg}").json()):
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_another_tenants_nsd_and_vim_are_unknown(live: LiveApi) -> None:
    _onboard_webapp(live)  # shared: every tenant sees it
    a = _tenant_client(live, "ta", "admin")
    b = _tenant_client(live, "tb", "reader")
    _onboard_as(a, "vnf", vnf_package("vnfd-a", vdus=1, instances=1))
    _onboard_as(a, "nsd", nsd_package("nsd-a", "vnfd-a", profiles=1))
    vim_a = sim_vim(a, "whatif-a", hosts=2)
    flavour = {"nsFlavourId": "default"}
    assert a.post(PLANS, json={"nsdId": "nsd-a", **flavour}).status_code == 200
    answers = []
    for nsd_id in ("nsd-a", "no-such-nsd"):
        r = b.post(PLANS, json={"nsdId": nsd_id, **flavour})
        answers.append((r.status_code, r.json()["field"], r.json()["detail"].replace(nsd_id, "X")))
    assert answers[0] == answers[1] and answers[0][:2] == (404, "nsdId"), answers
    answers = []
    for vim_id in (vim_a, "no-such-vim"):
        q = {"nsdId": NSD_WEBAPP_ID, "vimAccountId": vim_id, **flavour}
        r = b.get(CAPACITY, params=q)
        answers.append((r.status_code, r.json()["field"], r.json()["detail"].replace(vim_id, "X")))
    assert answers[0] == answers[1] and answers[0][:2] == (404, "vimAccountId"), answers
    ns_params = {"additionalParamsForNs": {"vimAccountId": vim_a}}
    r = b.post(PLANS, json={"nsdId": NSD_WEBAPP_ID, **flavour, **ns_params})
    assert r.status_code == 422 and r.json()["field"] == "vimAccountId", r.text
    ok = a.get(CAPACITY, params={"nsdId": "nsd-a", "vimAccountId": vim_a, **flavour})
    assert ok.status_code == 200 and ok.json()["count"] >= 1, ok.text


def test_bad_requests(live: LiveApi) -> None:
    _onboard_webapp(live)
    c = live.client
    vim_id = sim_vim(c, "whatif-admin", hosts=2)
    body = {"nsdId": NSD_WEBAPP_ID, "nsFlavourId": "default"}
    r = c.post(PLANS, json={**body, "nsFlavourId": "nope", "additionalParamsForNs": {}})
    assert r.status_code == 400, r.text
    r = c.post(PLANS, json={"nsdId": NSD_WEBAPP_ID})
    assert r.status_code == 400 and r.json()["field"] == "nsFlavourId", r.text
    r = c.post(PLANS, json={**body, "additionalParamsForNs": {"vimAccountId": "nope"}})
    assert r.status_code == 422 and r.json()["field"] == "vimAccountId", r.text
    r = c.post(PLANS, json={**body, "additionalParamsForNs": "vim"})
    assert r.status_code == 400 and "additionalParamsForNs" in r.json()["field"], r.text
    r = c.post(PLANS, json={"nsInstanceId": "nope", "scale": {"scaleType": "SCALE_NS"}})
    assert r.status_code == 404, r.text
    r = c.post(PLANS, json={"nsInstanceId": "x", "scale": "big"})
    assert r.status_code == 400 and r.json()["field"] == "scale", r.text
    q = {"nsdId": NSD_WEBAPP_ID, "nsFlavourId": "default"}
    r = c.get(CAPACITY, params=q)
    assert r.status_code == 400 and r.json()["field"] == "vimAccountId", r.text
    r = c.get(CAPACITY, params={**q, "vimAccountId": vim_id, "max": 5000})
    assert r.status_code == 400, r.text
    r = c.get(CAPACITY, params={**q, "nsdId": "x", "vimAccountId": vim_id})
    assert r.status_code == 404 and r.json()["field"] == "nsdId", r.text


def test_scale_plan_places_the_added_vdus_and_starts_nothing(live: LiveApi) -> None:
    _onboard_webapp(live)
    c = live.client
    vim_id = sim_vim(c, "whatif-scale", hosts=2)
    ns_id = c.post(NS, json={"nsdId": NSD_WEBAPP_ID, "nsName": "scaled"}).json()["id"]
    body = {"nsFlavourId": "default", "additionalParamsForNs": {"vimAccountId": vim_id}}
    r = c.post(f"{NS}/{ns_id}/instantiate", json=body)
    assert wait_op(c, r.headers["location"])["operationState"] == "COMPLETED"
    ns = c.get(f"{NS}/{ns_id}").json()
    web = next(v for v in ns["vnfInstance"] if v["vnfdId"] == VNF_WEB_ID)
    scale = {
        "scaleType": "SCALE_VNF",
        "scaleVnfData": [
            {
                "vnfInstanceId": web["id"],
                "scaleVnfType": "SCALE_OUT",
                "scaleByStepData": {"aspectId": "web_scale", "numberOfSteps": 1},
            }
        ],
    }
    rows, servers = _rows(live), _servers(c, vim_id)
    r = c.post(PLANS, json={"nsInstanceId": ns_id, "scale": scale})
    assert r.status_code == 200, r.text
    plan = r.json()
    assert plan["feasible"] is True and plan["operation"] == "SCALE"
    [added] = plan["vdus"]
    running = [v["metadata"]["host"] for v in web["instantiatedVnfInfo"]["vnfcResourceInfo"]]
    assert added["vduId"] == "web" and added["host"] and added["host"] not in running
    assert _rows(live) == rows and _servers(c, vim_id) == servers
    assert c.get(f"{NS}/{ns_id}").json()["nsState"] == "INSTANTIATED"
    # two more web servers cannot all stay apart on 2 hosts: not feasible, the rule named
    two = {**scale, "scaleVnfData": [{**scale["scaleVnfData"][0]}]}
    two["scaleVnfData"][0]["scaleByStepData"] = {"aspectId": "web_scale", "numberOfSteps": 2}
    r = c.post(PLANS, json={"nsInstanceId": ns_id, "scale": two})
    assert r.status_code == 200, r.text
    bad = r.json()
    assert bad["feasible"] is False and bad["unplaced"], bad
    assert any("web_anti_affinity" in rule for rule in bad["placementRules"]), bad
    assert _rows(live) == rows and _servers(c, vim_id) == servers
    r = c.post(f"{NS}/{ns_id}/scale", json=scale)
    assert wait_op(c, r.headers["location"])["operationState"] == "COMPLETED"
    web = next(v for v in c.get(f"{NS}/{ns_id}").json()["vnfInstance"] if v["id"] == web["id"])
    hosts = [v["metadata"]["host"] for v in web["instantiatedVnfInfo"]["vnfcResourceInfo"]]
    assert added["host"] in hosts


def test_cli_plan_and_capacity(live: LiveApi, tmp_path: Path) -> None:
    _onboard_synthetic(live, "nsd-cli", "vnfd-cli", instances=2)
    vim_id = sim_vim(live.client, "whatif-cli", hosts=2, host_defaults={"vcpus": 3})
    cli = Cli(
        tmp_path / "home",
        NFVO_URL=live.base_url,
        NFVO_USER="admin",
        NFVO_PASSWORD=ADMIN_PASSWORD,
    )
    cap = cli.json("capacity", "--nsd", "nsd-cli", "--flavour", "default", "--vim", "whatif-cli")
    assert cap["count"] == 3 and cap["vimAccountId"] == vim_id
    plan = cli.json("plan", "--nsd", "nsd-cli", "--flavour", "default", "--vim", "whatif-cli")
    assert plan["feasible"] is True and len(plan["vdus"]) == 2
    assert {v["vimAccountId"] for v in plan["vdus"]} == {vim_id}
    table = cli.run("plan", "--nsd", "nsd-cli", "--flavour", "default", "--vim", vim_id).stdout
    assert "feasible" in table and "vdu1" in table
    cli.run("plan", "--flavour", "default", rc=2)  # neither --nsd nor --ns: a usage error


def test_plan_rows_carry_the_optimizer_explanation(live: LiveApi) -> None:
    _onboard_webapp(live)
    c = live.client
    vim_id = sim_vim(c, "whatif-explain", hosts=3)
    body = {"nsFlavourId": "default", "additionalParamsForNs": {"vimAccountId": vim_id}}
    plan = c.post(PLANS, json={"nsdId": NSD_WEBAPP_ID, **body}).json()
    for row in plan["vdus"]:
        e = row["explanation"]
        assert e is not None and e["host"] == row["host"] and e["candidates"] >= 1, row
        assert [f["filter"] for f in e["filtered"]], row
    small = sim_vim(c, "whatif-explain-small", hosts=2, host_defaults={"vcpus": 2})
    body["additionalParamsForNs"]["vimAccountId"] = small
    plan = c.post(PLANS, json={"nsdId": NSD_WEBAPP_ID, **body}).json()
    assert plan["feasible"] is False
    assert {r["blockingDimension"] for r in plan["unplaced"]} == {"vcpus"}, plan["unplaced"]
