"""Issue 15 acceptance 6: ``nfvo serve`` is killed (like kill -9) during an automatic scale
started by a scaling alert, right after the k-th checkpointed step of the operation did its
work; restarted, the operation completes, exactly one more web server exists on the VIM, and
the re-delivered alert (same fingerprint and startsAt) creates no second operation. Runs on
SQLite and, when configured, on PostgreSQL."""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx
import pytest
from tests.conftest import PG_ENV, PG_SKIP
from tests.support.pgschema import pg_schema_url
from tests.support.proc import Server
from tests.support.serve_setup import onboard_samples, sim_driver, wait_settled

from nfvo.samples import NSD_WEBAPP_ID
from nfvo.vim.base import TAG_NS

PASSWORD = "autoscale-crash-pw"
OPS = "/nslcm/v2/ns_lcm_op_occs"


def _env(db_url: str) -> dict[str, str]:
    return {"NFVO_DATABASE_URL": db_url, "NFVO_ADMIN_PASSWORD": PASSWORD, "NFVO_SYNC_INTERVAL": "0"}


def _prepare(data: Path, env: dict[str, str]) -> tuple[str, str, str]:
    """(VIM id, NS id, policy id): the webapp NS instantiated, a scale-out policy of its
    web tier without cooldown."""
    srv = Server(data, env).start()
    try:
        with srv.client("admin", PASSWORD) as c:
            onboard_samples(c)
            config = {"hosts": 4, "images": [{"name": n} for n in ("cirros", "web-img", "db-img")]}
            vim = c.post(
                "/admin/v1/vim_accounts",
                json={"name": "scale-sim", "vim_type": "sim", "config": config},
            ).json()
            vim = wait_settled(
                c, f"/admin/v1/vim_accounts/{vim['id']}", "operationalState", ("PROCESSING",)
            )
            ns = c.post("/nslcm/v2/ns_instances", json={"nsdId": NSD_WEBAPP_ID, "nsName": "k"})
            ns_id = ns.json()["id"]
            body = {"nsFlavourId": "default", "additionalParamsForNs": {"vimAccountId": vim["id"]}}
            r = c.post(f"/nslcm/v2/ns_instances/{ns_id}/instantiate", json=body)
            assert r.status_code == 202, r.text
            op = wait_settled(
                c, r.headers["location"], "operationState", ("STARTING", "PROCESSING")
            )
            assert op["operationState"] == "COMPLETED", op
            web = next(
                v["id"]
                for v in c.get(f"/nslcm/v2/ns_instances/{ns_id}").json()["vnfInstance"]
                if v["vnfProfileId"] == "vnf_web"
            )
            p = c.post(
                "/admin/v1/policies",
                json={
                    "nsInstanceId": ns_id,
                    "vnfInstanceId": web,
                    "aspectId": "web_scale",
                    "metric": "VCpuUsageMeanVnf",
                    "scaleOutThreshold": 80,
                    "cooldown": 0,
                },
            )
            assert p.status_code == 201, p.text
            return vim["id"], ns_id, p.json()["id"]
    finally:
        srv.kill()


def _alert(policy_id: str) -> dict:
    alert = {
        "status": "firing",
        "labels": {"alertname": "WebCpuHigh", "nfvo_policy_id": policy_id},
        "startsAt": "2026-12-04T10:00:00Z",
        "fingerprint": "c0ffee0000000001",
    }
    return {"version": "4", "receiver": "nfvo", "status": "firing", "alerts": [alert]}


def _servers(data: Path, vim_id: str, ns_id: str) -> list[str]:
    driver = sim_driver(data, vim_id)
    return sorted(s.name for s in driver.list_servers({TAG_NS: ns_id}))


def _scale_ops(c: httpx.Client, ns_id: str) -> list[dict]:
    ops = c.get(OPS, params={"filter": f"(eq,nsInstanceId,{ns_id})"}).json()
    return [o for o in ops if o["lcmOperationType"] == "SCALE"]


def _run(tmp: Path, db_url: str, k: int) -> bool:
    data = tmp / f"k{k}" / "data"
    data.mkdir(parents=True)
    env = _env(db_url)
    vim_id, ns_id, policy_id = _prepare(data, env)
    before = _servers(data, vim_id, ns_id)
    doomed = Server(data, {**env, "NFVO_CRASH_AFTER_STEP": str(k)}).start()
    try:
        with doomed.client("admin", PASSWORD) as c:
            c.post("/monitoring/v1/alertmanager", json=_alert(policy_id))
            deadline = time.monotonic() + 30
            while doomed.proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
    except httpx.HTTPError:
        pass  # it died while answering
    crashed = doomed.proc.poll() is not None
    doomed.kill()
    again = Server(data, env).start()
    try:
        with again.client("admin", PASSWORD) as c:
            [op] = _scale_ops(c, ns_id)
            assert op["isAutomaticInvocation"] is True
            done = wait_settled(
                c, f"{OPS}/{op['id']}", "operationState", ("STARTING", "PROCESSING")
            )
            assert done["operationState"] == "COMPLETED", done
            for _ in range(3):  # Alertmanager re-delivers: nothing new
                r = c.post("/monitoring/v1/alertmanager", json=_alert(policy_id))
                assert r.status_code == 200, r.text
                [out] = r.json()["scaling"]
                assert out["result"] == "DUPLICATE" and out["nsLcmOpOccId"] == op["id"], out
            assert [o["id"] for o in _scale_ops(c, ns_id)] == [op["id"]]
    finally:
        again.kill()
    after = _servers(data, vim_id, ns_id)
    assert len(after) == len(before) + 1 and len(set(after)) == len(after), (before, after)
    return crashed


def test_automatic_scale_survives_kill_9_sqlite(tmp_path: Path) -> None:
    crashed = [_run(tmp_path, "", k) for k in (1, 2)]
    assert any(crashed), "no scale got as far as the crash points"


def test_automatic_scale_survives_kill_9_postgresql(tmp_path: Path) -> None:
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(PG_SKIP)
    crashed = []
    for k in (1, 2):
        for url in pg_schema_url(base):
            crashed.append(_run(tmp_path, url, k))
    assert any(crashed), "no scale got as far as the crash points"
