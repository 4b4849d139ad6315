"""Crash test: for every step index k of instantiate and of terminate, kill the server right
after step k did its work (before it is checkpointed), restart it, and check that the operation
ends COMPLETED with exactly the expected VIM resources: 0 leaked, 0 duplicated.
Runs on SQLite and, when configured, on PostgreSQL."""

from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from tests.conftest import PG_ENV, PG_SKIP
from tests.support.pgschema import pg_schema_url
from tests.support.proc import Server

from nfvo.samples import NSD_WEBAPP_ID, build_sample
from nfvo.vim.base import TAG_NS
from nfvo.vim.registry import create_driver

PASSWORD = "crash-admin-pw"
MAX_STEPS = 12


def _wait(c: httpx.Client, url: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        body = c.get(url).json()
        state = (
            body.get("operationState")
            or body.get("onboardingState")
            or body.get("nsdOnboardingState")
            or body.get("_admin", {}).get("operationalState")
        )
        if state not in ("STARTING", "PROCESSING", "ROLLING_BACK", "UPLOADING", "CREATED"):
            return body
        assert time.monotonic() < deadline, f"{url} still {state}"
        time.sleep(0.05)


def _prepare(data: Path, env: dict[str, str]) -> tuple[str, str]:
    srv = Server(data, env).start()
    try:
        with srv.client("admin", PASSWORD) as c:
            for name, coll, content in (
                ("vnf-web", "/vnfpkgm/v2/vnf_packages", "package_content"),
                ("vnf-db", "/vnfpkgm/v2/vnf_packages", "package_content"),
                ("ns-webapp", "/nsd/v2/ns_descriptors", "nsd_content"),
            ):
                pkg = c.post(coll, json={}).json()
                c.put(f"{coll}/{pkg['id']}/{content}", content=build_sample(name))
                info = _wait(c, f"{coll}/{pkg['id']}")
                assert "ONBOARDED" in (info.get("onboardingState"), info.get("nsdOnboardingState"))
            vim = c.post(
                "/admin/v1/vim_accounts",
                json={
                    "name": "crash-sim",
                    "vim_type": "sim",
                    "config": {
                        "zones": 2,
                        "hosts": 4,
                        "images": [{"name": n} for n in ("cirros", "web-img", "db-img")],
                    },
                },
            ).json()
            vim = _wait(c, f"/admin/v1/vim_accounts/{vim['id']}")
            assert vim["_admin"]["operationalState"] == "ENABLED"
            ns = c.post(
                "/nslcm/v2/ns_instances", json={"nsdId": NSD_WEBAPP_ID, "nsName": "crash"}
            ).json()
            return vim["id"], ns["id"]
    finally:
        srv.kill()


def _vim_counts(data: Path, vim_id: str, ns_id: str) -> dict[str, object]:
    d = create_driver(
        "sim",
        vim_id=vim_id,
        vim_url=None,
        vim_user=None,
        vim_password=None,
        vim_tenant_name=None,
        config={},
        data_dir=data,
    )
    tags = {TAG_NS: ns_id}
    servers = d.list_servers(tags)
    names = Counter(s.name for s in servers)
    return {
        "servers": len(servers),
        "networks": len(d.list_networks(tags)),
        "ports": len(d.list_ports(tags)),
        "duplicated": sorted(n for n, k in names.items() if k > 1),
    }


def _latest_op(c: httpx.Client, ns_id: str, op: str) -> str:
    ops = c.get(
        "/nslcm/v2/ns_lcm_op_occs",
        params={"filter": f"(eq,nsInstanceId,{ns_id});(eq,lcmOperationType,{op.upper()})"},
    )
    return f"/nslcm/v2/ns_lcm_op_occs/{ops.json()[-1]['id']}"


def _run_op(data: Path, env: dict[str, str], ns_id: str, op: str, body: dict, k: int) -> bool:
    """Start ``op`` on a server that dies after step k; restart; wait. False if op < k steps."""
    srv = Server(data, {**env, "NFVO_CRASH_AFTER_STEP": str(k)}).start()
    location = None
    try:
        with srv.client("admin", PASSWORD) as c:
            r = c.post(f"/nslcm/v2/ns_instances/{ns_id}/{op}", json=body)
            assert r.status_code == 202, r.text
            location = r.headers["location"]
    except httpx.HTTPError:
        pass  # the server died before it answered: the op was recorded first, find it below
    deadline = time.monotonic() + 60
    while srv.proc.poll() is None and time.monotonic() < deadline and location:
        try:
            with srv.client("admin", PASSWORD) as c:
                state = c.get(location).json()["operationState"]
            if state not in ("STARTING", "PROCESSING"):
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    if location is None:
        srv.proc.wait(30)
    crashed = srv.proc.poll() is not None
    srv.kill()
    again = Server(data, env).start()
    if location is not None:  # an absolute URI naming the old server's port
        location = urlsplit(location).path
    try:
        with again.client("admin", PASSWORD) as c:
            location = location or _latest_op(c, ns_id, op)
            op_body = _wait(c, location)
            assert op_body["operationState"] == "COMPLETED", (k, op, op_body)
    finally:
        again.kill()
    return crashed


def _crash_everywhere(data: Path, env: dict[str, str]) -> None:
    vim_id, ns_id = _prepare(data, env)
    body = {"nsFlavourId": "default", "additionalParamsForNs": {"vimAccountId": vim_id}}
    expected = None
    crashes: list[tuple[int, bool, bool]] = []
    for k in range(1, MAX_STEPS + 1):
        crashed = _run_op(data, env, ns_id, "instantiate", body, k)
        counts = _vim_counts(data, vim_id, ns_id)
        assert counts["duplicated"] == [], (k, counts)
        expected = expected or counts
        assert counts == expected, f"after a crash at instantiate step {k}: {counts} != {expected}"
        assert counts["servers"] >= 2
        crashed_t = _run_op(data, env, ns_id, "terminate", {}, k)
        counts = _vim_counts(data, vim_id, ns_id)
        assert counts == {"servers": 0, "networks": 0, "ports": 0, "duplicated": []}, (k, counts)
        crashes.append((k, crashed, crashed_t))
        if not crashed and not crashed_t:
            break  # k is past the last step of both operations
    # every step index up to the op's length really crashed the server
    inst = [c for _, c, _ in crashes]
    term = [t for _, _, t in crashes]
    assert inst[: inst.index(False)] == [True] * inst.index(False) and inst.index(False) >= 5, (
        crashes
    )
    assert term[: term.index(False)] == [True] * term.index(False) and term.index(False) >= 4, (
        crashes
    )


def test_crash_after_every_step_sqlite(tmp_path: Path) -> None:
    env = {"NFVO_DATABASE_URL": "", "NFVO_ADMIN_PASSWORD": PASSWORD, "NFVO_SYNC_INTERVAL": "0"}
    _crash_everywhere(tmp_path / "data", env)


def test_crash_after_every_step_postgresql(tmp_path: Path) -> None:
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(PG_SKIP)
    for url in pg_schema_url(base):
        env = {"NFVO_DATABASE_URL": url, "NFVO_ADMIN_PASSWORD": PASSWORD, "NFVO_SYNC_INTERVAL": "0"}
        _crash_everywhere(tmp_path / "data", env)


def test_api_and_two_workers_share_operations(tmp_path: Path) -> None:
    """With PostgreSQL: one ``--role api`` process queues, two ``--role worker`` processes run
    the operations; the NS life cycle completes through the API node."""
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(PG_SKIP)
    for url in pg_schema_url(base):
        env = {"NFVO_DATABASE_URL": url, "NFVO_ADMIN_PASSWORD": PASSWORD, "NFVO_SYNC_INTERVAL": "0"}
        # one data dir for all nodes: the sim VIM keeps its state (and the secret key) there
        data = tmp_path / "shared"
        vim_id, ns_id = _prepare(data, env)
        api = Server(data, {**env, "NFVO_EXECUTOR_ID": "api-0"}, "--role", "api").start()
        workers: list[Server] = []
        try:
            with api.client("admin", PASSWORD) as c:
                body = {"nsFlavourId": "default", "additionalParamsForNs": {"vimAccountId": vim_id}}
                r = c.post(f"/nslcm/v2/ns_instances/{ns_id}/instantiate", json=body)
                assert r.status_code == 202
                time.sleep(1.5)  # no worker yet: the operation waits on the queue
                assert c.get(r.headers["location"]).json()["operationState"] == "STARTING"
                workers = [
                    Server(
                        data, {**env, "NFVO_EXECUTOR_ID": f"worker-{i}"}, "--role", "worker"
                    ).start()
                    for i in range(2)
                ]
                assert httpx.get(workers[0].base + "/nslcm/v2/ns_instances").status_code == 404
                assert _wait(c, r.headers["location"])["operationState"] == "COMPLETED"
                r = c.post(f"/nslcm/v2/ns_instances/{ns_id}/terminate", json={})
                assert _wait(c, r.headers["location"])["operationState"] == "COMPLETED"
            assert _vim_counts(data, vim_id, ns_id)["servers"] == 0
        finally:
            for s in (*workers, api):
                s.kill()
