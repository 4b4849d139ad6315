"""Crash test of applying an action plan: the server is killed (like kill -9) right after the
k-th checkpointed step or VIM migration of the apply did its work, before it is recorded;
restarted, the op occurrences complete and every VDU exists exactly once, on the host the plan
moves it to, and the NS instances record that host: no duplicated or lost VDU.
Runs on SQLite and, when configured, on PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from tests.conftest import PG_ENV, PG_SKIP
from tests.support.pgschema import pg_schema_url
from tests.support.proc import Server
from tests.support.serve_setup import onboard_samples, sim_driver, wait_settled

from nfvo.samples import NSD_WEBAPP_ID
from nfvo.vim.base import TAG_NS, ServerSpec

PASSWORD = "crash-admin-pw"
PLANS = "/admin/v1/action_plans"
NS_COUNT = 4


def _env(db_url: str) -> dict[str, str]:
    """The server's environment: its database and admin password, no periodic sync."""
    return {"NFVO_DATABASE_URL": db_url, "NFVO_ADMIN_PASSWORD": PASSWORD, "NFVO_SYNC_INTERVAL": "0"}


def _prepare(data: Path, env: dict[str, str]) -> tuple[str, list[str], dict]:
    """A 12-host sim VIM with NS_COUNT webapp NSs scattered over it, and a consolidation
    plan of it (RECOMMENDED)."""
    srv = Server(data, env).start()
    try:
        with srv.client("admin", PASSWORD) as c:
            onboard_samples(c)
            config = {
                "hosts": 12,
                "host_defaults": {"vcpus": 8, "ram_mib": 16384, "disk_gib": 500},
                "images": [{"name": n} for n in ("cirros", "web-img", "db-img")],
            }
            vim = c.post(
                "/admin/v1/vim_accounts",
                json={"name": "crash-sim", "vim_type": "sim", "config": config},
            ).json()
            vim = wait_settled(
                c, f"/admin/v1/vim_accounts/{vim['id']}", "operationalState", ("PROCESSING",)
            )
            vim_id = vim["id"]
            driver = sim_driver(data, vim_id)
            pads = [
                driver.create_server(
                    ServerSpec(key=f"pad/{h.name}", name=f"pad-{h.name}", vcpus=4, ram_mib=8192,
                               disk_gib=100, host=h.name)
                ).id
                for h in driver.list_hosts()
            ]  # fmt: skip
            assert c.post(f"/admin/v1/vim_accounts/{vim_id}/sync").status_code == 200
            ns_ids = []
            for i in range(NS_COUNT):
                ns = c.post(
                    "/nslcm/v2/ns_instances", json={"nsdId": NSD_WEBAPP_ID, "nsName": f"c{i}"}
                )
                body = {"nsFlavourId": "default", "additionalParamsForNs": {"vimAccountId": vim_id}}
                r = c.post(f"/nslcm/v2/ns_instances/{ns.json()['id']}/instantiate", json=body)
                assert r.status_code == 202, r.text
                op = wait_settled(
                    c, r.headers["location"], "operationState", ("STARTING", "PROCESSING")
                )
                assert op["operationState"] == "COMPLETED", op
                ns_ids.append(ns.json()["id"])
            for pad in pads:
                driver.delete_server(pad)
            assert c.post(f"/admin/v1/vim_accounts/{vim_id}/sync").status_code == 200
            r = c.post(PLANS, json={"vimAccountId": vim_id, "goal": "server_consolidation"})
            assert r.status_code == 201, r.text
            plan = r.json()
            assert len(plan["migrations"]) >= 3, plan
            return vim_id, ns_ids, plan
    finally:
        srv.kill()


def _settled(c: httpx.Client, plan_id: str) -> bool:
    """The plan and every op occurrence of it have finished."""
    plan = c.get(f"{PLANS}/{plan_id}").json()
    if plan["state"] == "APPLYING":
        return False
    ops = [c.get(f"/nslcm/v2/ns_lcm_op_occs/{o}").json() for o in plan["nsLcmOpOccIds"]]
    return all(o["operationState"] not in ("STARTING", "PROCESSING") for o in ops)


def _apply_with_crash(data: Path, env: dict[str, str], plan_id: str, k: int) -> bool:
    """Apply on a server that dies after k steps of its own; True if it died."""
    srv = Server(data, {**env, "NFVO_CRASH_AFTER_STEP": str(k)}).start()
    try:
        with srv.client("admin", PASSWORD) as c:
            c.post(f"{PLANS}/{plan_id}/apply")
            deadline = time.monotonic() + 60
            while srv.proc.poll() is None and time.monotonic() < deadline:
                if _settled(c, plan_id):
                    break
                time.sleep(0.05)
    except httpx.HTTPError:  # it died while answering: the connection drops a moment
        try:  # before the process is gone, so wait for its end before asking
            srv.proc.wait(10)
        except subprocess.TimeoutExpired:
            pass
    crashed = srv.proc.poll() is not None
    srv.kill()
    return crashed


def _check(data: Path, env: dict[str, str], vim_id: str, ns_ids: list[str], plan: dict) -> None:
    again = Server(data, env).start()
    try:
        with again.client("admin", PASSWORD) as c:
            done = wait_settled(c, f"{PLANS}/{plan['id']}", "state", ("APPLYING",))
            assert done["state"] == "SUCCEEDED", done
            for op_id in done["nsLcmOpOccIds"]:  # each op finishes right after its migrations
                url = f"/nslcm/v2/ns_lcm_op_occs/{op_id}"
                op = wait_settled(c, url, "operationState", ("STARTING", "PROCESSING"))
                assert op["operationState"] == "COMPLETED", op
            recorded = {}
            for ns_id in ns_ids:
                ns = c.get(f"/nslcm/v2/ns_instances/{ns_id}").json()
                for vnf in ns["vnfInstance"]:
                    for v in vnf["instantiatedVnfInfo"]["vnfcResourceInfo"]:
                        recorded[v["computeResource"]["resourceId"]] = v["metadata"]["host"]
    finally:
        again.kill()
    driver = sim_driver(data, vim_id)
    target = {m["serverId"]: m["target"] for m in plan["migrations"]}
    for ns_id in ns_ids:
        servers = driver.list_servers({TAG_NS: ns_id})
        names = Counter(s.name for s in servers)
        assert len(servers) == 3 and max(names.values()) == 1, names  # none lost, none doubled
        for s in servers:
            assert recorded[s.id] == s.host  # the NS records where it runs
            if s.id in target:
                assert s.host == target[s.id]
    assert not {s.host for s in driver.list_servers()} & set(plan["hostsEmptied"])


def _run(tmp: Path, db_url: str, ks: tuple[int, ...]) -> bool:
    """Prepare, apply with a crash after k steps, check, for each k; whether any crashed."""
    crashed_any = False
    for k in ks:
        data = tmp / f"k{k}" / "data"
        data.mkdir(parents=True)
        env = _env(db_url)
        vim_id, ns_ids, plan = _prepare(data, env)
        crashed_any |= _apply_with_crash(data, env, plan["id"], k)
        _check(data, env, vim_id, ns_ids, plan)
    return crashed_any


def test_apply_survives_kill_9_sqlite(tmp_path: Path) -> None:
    crashed = _run(tmp_path, "", (2, 3, 5))  # a database per data directory
    assert crashed, "no apply got as far as the crash points"


def test_apply_survives_kill_9_postgresql(tmp_path: Path) -> None:
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(PG_SKIP)
    crashed = False
    for k in (2, 3):  # a schema each
        for url in pg_schema_url(base):
            crashed |= _run(tmp_path, url, (k,))
    assert crashed, "no apply got as far as the crash points"
