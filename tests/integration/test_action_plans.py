"""Consolidation action plans through the API on a sim VIM of 40 hosts loaded to ~35%: the
plan is computed from live inventory, stored and shown; applying it starts UPDATE op
occurrences that move the servers on the sim VIM, the NS instances record the new hosts and
the emptied hosts hold no server. A stale plan is refused (409 naming the VDU), readers and
operators get 403, a Kubernetes VIM 422. Real API on loopback, SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.support.live import LiveApi, sim_vim, start_live, wait_op

from nfvo.inventory.action_plans_repo import ActionPlanRepository
from nfvo.inventory.lcm_repo import NsRepository
from nfvo.samples import NSD_WEBAPP_ID, build_sample
from nfvo.vim.base import TAG_NS, ServerSpec

NS = "/nslcm/v2/ns_instances"
PLANS = "/admin/v1/action_plans"
HOSTS = 40
HOST = {"vcpus": 8, "ram_mib": 16384, "disk_gib": 500}
NS_COUNT = 14  # 3 VDUs each: 7 vCPU; with 4 vCPU of others' servers on 4 hosts: ~35% of vCPU
IMAGES = [{"name": n} for n in ("cirros", "web-img", "db-img")]


@pytest.fixture
def live(db_url: str, tmp_path: Path) -> Iterator[LiveApi]:
    api = start_live(tmp_path / "data", db_url)
    try:
        yield api
    finally:
        api.close()


def _onboard(live: LiveApi) -> None:
    for name in ("vnf-web", "vnf-db", "ns-webapp"):
        kind = "nsd" if name.startswith("ns") else "vnf"
        live.onboard(kind, build_sample(name))


def _spread_load(live: LiveApi, vim_id: str) -> list[str]:
    """Instantiate NS_COUNT webapp NSs scattered over the hosts: pads (servers nfvo does not
    own) leave room for one VDU per host while the NSs are placed, then go, except on 4
    hosts where they stay as immovable load. Returns the NS ids."""
    c = live.client
    driver = live.services.resources.driver(vim_id)
    hosts = sorted(h.name for h in driver.list_hosts())
    pads = {
        h: driver.create_server(
            ServerSpec(key=f"pad/{h}", name=f"pad-{h}", vcpus=4, ram_mib=8192, disk_gib=100, host=h)
        ).id
        for h in hosts
    }
    live.services.resources.check_and_sync(vim_id)
    ns_ids = []
    for i in range(NS_COUNT):
        r = c.post(NS, json={"nsdId": NSD_WEBAPP_ID, "nsName": f"load-{i}"})
        ns_id = r.json()["id"]
        body = {"nsFlavourId": "default", "additionalParamsForNs": {"vimAccountId": vim_id}}
        r = c.post(f"{NS}/{ns_id}/instantiate", json=body)
        assert r.status_code == 202, r.text
        assert wait_op(c, r.headers["location"])["operationState"] == "COMPLETED"
        ns_ids.append(ns_id)
    for h in hosts[:-4]:
        driver.delete_server(pads[h])
    live.services.resources.check_and_sync(vim_id)
    return ns_ids


def _vnfc_hosts(c: httpx.Client, ns_id: str) -> dict[str, str]:
    """Server id -> host as the NS instance records it."""
    ns = c.get(f"{NS}/{ns_id}").json()
    return {
        v["computeResource"]["resourceId"]: v["metadata"]["host"]
        for vnf in ns["vnfInstance"]
        for v in vnf["instantiatedVnfInfo"]["vnfcResourceInfo"]
    }


def _wait_plan(c: httpx.Client, plan_id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        plan = c.get(f"{PLANS}/{plan_id}").json()
        if plan["state"] != "APPLYING":
            return plan
        assert time.monotonic() < deadline, plan
        time.sleep(0.1)


def test_consolidation_plan_applied_moves_servers_and_records_hosts(live: LiveApi) -> None:
    c = live.client
    _onboard(live)
    vim_id = sim_vim(c, "dc-40", hosts=HOSTS, host_defaults=HOST, images=IMAGES)
    ns_ids = _spread_load(live, vim_id)
    driver = live.services.resources.driver(vim_id)
    used_before = {s.host for s in driver.list_servers()}

    r = c.post(PLANS, json={"vimAccountId": vim_id, "goal": "server_consolidation"})
    assert r.status_code == 201, r.text
    plan = r.json()
    assert r.headers["location"].endswith(f"{PLANS}/{plan['id']}")
    assert plan["state"] == "RECOMMENDED" and plan["migrations"] and plan["hostsEmptied"]
    hosts = c.get(f"/admin/v1/vim_accounts/{vim_id}/resources").json()["hosts"]
    load = sum(h["usage"]["vcpus"] for h in hosts) / sum(h["capacity"]["vcpus"] for h in hosts)
    assert 0.3 < load < 0.4  # loaded to ~35%
    # the plan empties at least 90% of what the bound says can be emptied
    assert plan["emptiableBound"] >= len(plan["hostsEmptied"]) >= 0.9 * plan["emptiableBound"]
    assert set(plan["hostsEmptied"]) <= used_before
    assert [m["seq"] for m in plan["migrations"]] == list(range(len(plan["migrations"])))
    assert all("batch" in m for m in plan["migrations"])
    assert c.get(f"{PLANS}/{plan['id']}").json() == plan
    listed = c.get(PLANS, params={"filter": f"(eq,vimAccountId,{vim_id})"}).json()
    assert [p["id"] for p in listed] == [plan["id"]]
    # nothing moved yet
    assert {s.host for s in driver.list_servers()} == used_before

    r = c.post(f"{PLANS}/{plan['id']}/apply")
    assert r.status_code == 202, r.text
    started = r.json()["nsLcmOpOccIds"]
    affected = {m["nsInstanceId"] for m in plan["migrations"]}
    assert len(started) == len(affected)
    done = _wait_plan(c, plan["id"])
    assert done["state"] == "SUCCEEDED", done
    assert all(m["state"] == "DONE" for m in done["migrations"])
    for op_id in started:  # each op finishes right after its migrations
        op = wait_op(c, f"/nslcm/v2/ns_lcm_op_occs/{op_id}")
        assert op["operationState"] == "COMPLETED" and op["lcmOperationType"] == "UPDATE"
        assert op["operationParams"]["actionPlanId"] == plan["id"]

    servers = {s.id: s for s in driver.list_servers()}
    final = {}
    for m in plan["migrations"]:
        final[m["serverId"]] = m["target"]
    for server_id, target in final.items():
        assert servers[server_id].host == target  # moved on the VIM
    recorded = {}
    for ns_id in ns_ids:
        recorded.update(_vnfc_hosts(c, ns_id))
    for server_id, target in final.items():
        assert recorded[server_id] == target  # the NS records where it runs now
    assert all(recorded[sid] == servers[sid].host for sid in recorded)
    occupied = {s.host for s in servers.values()}
    assert not occupied & set(plan["hostsEmptied"])  # emptied hosts hold no server
    # no VDU lost or duplicated
    names = Counter(s.name for s in driver.list_servers({TAG_NS: ns_ids[0]}))
    assert names and max(names.values()) == 1
    assert len(recorded) == 3 * NS_COUNT
    r = c.post(f"{PLANS}/{plan['id']}/apply")
    assert r.status_code == 409  # SUCCEEDED: nothing to apply again


def test_stale_plan_is_refused_naming_the_vdu(live: LiveApi) -> None:
    c = live.client
    _onboard(live)
    vim_id = sim_vim(c, "dc-stale", hosts=HOSTS, host_defaults=HOST, images=IMAGES)
    _spread_load(live, vim_id)
    plan = c.post(PLANS, json={"vimAccountId": vim_id, "goal": "server_consolidation"}).json()
    moved = plan["migrations"][0]
    vnf_id, _, key = moved["vduInstance"].partition("/")
    vdu_id, _, index = key.rpartition("-")
    with live.services.db.session() as s:  # white box: a heal recreated the VDU elsewhere
        ActionPlanRepository(s).move_vnfc(vnf_id, vdu_id, int(index), "somewhere-else", None)
    r = c.post(f"{PLANS}/{plan['id']}/apply")
    assert r.status_code == 409, r.text
    problem = r.json()
    assert "stale" in problem["detail"] and problem["vduInstance"] == moved["vduInstance"]
    assert key in problem["detail"] and "somewhere-else" in problem["detail"]
    assert c.get(f"{PLANS}/{plan['id']}").json()["state"] == "RECOMMENDED"
    assert all(not m["nsLcmOpOccId"] for m in c.get(f"{PLANS}/{plan['id']}").json()["migrations"])
    # a newer plan of the VIM supersedes it; a superseded plan is not applied
    newer = c.post(PLANS, json={"vimAccountId": vim_id, "goal": "server_consolidation"}).json()
    assert c.get(f"{PLANS}/{plan['id']}").json()["state"] == "SUPERSEDED"
    r = c.post(f"{PLANS}/{plan['id']}/apply")
    assert r.status_code == 409 and "SUPERSEDED" in r.json()["detail"]
    # cancel: only a RECOMMENDED plan
    assert c.delete(f"{PLANS}/{newer['id']}").status_code == 204
    assert c.get(f"{PLANS}/{newer['id']}").json()["state"] == "CANCELLED"
    assert c.delete(f"{PLANS}/{newer['id']}").status_code == 409


def test_busy_ns_migrations_are_skipped_and_the_plan_fails_honestly(live: LiveApi) -> None:
    c = live.client
    _onboard(live)
    vim_id = sim_vim(c, "dc-busy", hosts=HOSTS, host_defaults=HOST, images=IMAGES)
    _spread_load(live, vim_id)
    plan = c.post(PLANS, json={"vimAccountId": vim_id, "goal": "server_consolidation"}).json()
    busy = plan["migrations"][-1]["nsInstanceId"]
    with live.services.db.session() as s:  # white box: another operation holds the NS
        assert NsRepository(s).claim(busy, "00000000-0000-0000-0000-000000000000", "INSTANTIATED")
    r = c.post(f"{PLANS}/{plan['id']}/apply")
    assert r.status_code == 202, r.text
    done = _wait_plan(c, plan["id"])
    skipped = [m for m in done["migrations"] if m["nsInstanceId"] == busy]
    assert skipped and all(m["state"] == "SKIPPED" for m in skipped)
    assert all("00000000-0000-0000-0000-000000000000" in m["reason"] for m in skipped)
    assert done["state"] == "FAILED" and "skipped" in done["detail"]
    others = [m for m in done["migrations"] if m["nsInstanceId"] != busy]
    assert all(m["state"] in ("DONE", "FAILED") for m in others)


def test_roles_and_kubernetes(live: LiveApi) -> None:
    c = live.client
    for role in ("reader", "operator"):
        body = {"clientId": f"u-{role}", "clientSecret": f"u-{role}-secret", "role": role}
        assert c.post("/admin/v1/users", json=body).status_code == 201
        other = live.client_for(f"u-{role}", f"u-{role}-secret")
        assert other.get(PLANS).status_code == 403
        body = {"vimAccountId": "x", "goal": "server_consolidation"}
        assert other.post(PLANS, json=body).status_code == 403
    kube = c.post(
        "/admin/v1/vim_accounts",
        json={"name": "k8s", "vim_type": "kubernetes", "vim_url": "https://127.0.0.1:1"},
    )
    assert kube.status_code == 201, kube.text
    r = c.post(PLANS, json={"vimAccountId": kube.json()["id"], "goal": "server_consolidation"})
    assert r.status_code == 422
    assert "Kubernetes reschedules pods itself" in r.json()["detail"]
    r = c.post(PLANS, json={"vimAccountId": "nope", "goal": "server_consolidation"})
    assert r.status_code == 422 and r.json()["field"] == "vimAccountId"
    r = c.post(PLANS, json={"vimAccountId": "x", "goal": "make_it_fast"})
    assert r.status_code in (400, 422)
    r = c.post(PLANS, json={"vimAccountId": "x", "goal": "workload_balancing", "targetSpread": 2})
    assert r.status_code in (400, 422)
    assert c.get(f"{PLANS}/nope").status_code == 404


def test_a_refused_migration_fails_the_op_and_a_retry_finishes_the_plan(live: LiveApi) -> None:
    c = live.client
    _onboard(live)
    vim_id = sim_vim(c, "dc-full", hosts=HOSTS, host_defaults=HOST, images=IMAGES)
    _spread_load(live, vim_id)
    plan = c.post(PLANS, json={"vimAccountId": vim_id, "goal": "server_consolidation"}).json()
    first = plan["migrations"][0]
    driver = live.services.resources.driver(vim_id)
    # someone else's server fills the first target after planning: the VIM refuses the move
    free = next(h for h in live.client.get(f"/admin/v1/vim_accounts/{vim_id}/resources").json()[
        "hosts"] if h["name"] == first["target"])  # fmt: skip
    room = free["capacity"]["vcpus"] - free["usage"]["vcpus"]
    pad = driver.create_server(
        ServerSpec(key="blocker", name="blocker", vcpus=room, ram_mib=1, disk_gib=1,
                   host=first["target"])
    )  # fmt: skip
    r = c.post(f"{PLANS}/{plan['id']}/apply")
    assert r.status_code == 202, r.text
    failed = _wait_plan(c, plan["id"])
    assert failed["state"] == "FAILED", failed
    step = failed["migrations"][0]
    assert step["state"] == "FAILED" and "VIM refused" in step["reason"]
    op = wait_op(c, f"/nslcm/v2/ns_lcm_op_occs/{step['nsLcmOpOccId']}")
    assert op["operationState"] == "FAILED_TEMP"
    assert (
        first["vduInstance"] in op["error"]["detail"] or step["serverId"] in op["error"]["detail"]
    )
    # the blocker goes; retrying the op runs the remaining migrations of its NS
    driver.delete_server(pad.id)
    r = c.post(f"/nslcm/v2/ns_lcm_op_occs/{op['id']}/retry")
    assert r.status_code == 202, r.text
    assert wait_op(c, f"/nslcm/v2/ns_lcm_op_occs/{op['id']}")["operationState"] == "COMPLETED"
    after = c.get(f"{PLANS}/{plan['id']}").json()
    mine = [m for m in after["migrations"] if m["nsLcmOpOccId"] == op["id"]]
    assert all(m["state"] == "DONE" for m in mine)
    last = [m["target"] for m in plan["migrations"] if m["serverId"] == step["serverId"]][-1]
    assert driver.get_server(step["serverId"]).host == last
