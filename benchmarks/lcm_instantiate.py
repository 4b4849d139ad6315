"""Instantiate and terminate many NS instances of the sample NS through the API.

Prints JSON: NS count, VDUs created, wall time, and the nfvo process CPU time per VDU for
instantiation (server, engine, VNFM and sim VIM all run in this one process, so the figure is
an upper bound of nfvo's own cost), on the embedded SQLite default or NFVO_DATABASE_URL.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import httpx

from nfvo.cli.demo import start_server
from nfvo.config import Settings
from nfvo.samples import NSD_WEBAPP_ID, build_sample


def _wait(c: httpx.Client, url: str, key: str, pending: tuple[str, ...]) -> dict:
    while True:
        body = c.get(url).json()
        value = body.get(key) or body.get("_admin", {}).get(key)
        if value not in pending:
            return body
        time.sleep(0.1)


def _client(base: str) -> httpx.Client:
    tok = httpx.post(
        f"{base}/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=("admin", "bench-admin-pw"),
    ).json()["access_token"]
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {tok}"}, timeout=120)


def _setup(c: httpx.Client) -> str:
    for name, coll, content in (
        ("vnf-web", "/vnfpkgm/v2/vnf_packages", "package_content"),
        ("vnf-db", "/vnfpkgm/v2/vnf_packages", "package_content"),
        ("ns-webapp", "/nsd/v2/ns_descriptors", "nsd_content"),
    ):
        pkg = c.post(coll, json={}).json()
        c.put(f"{coll}/{pkg['id']}/{content}", content=build_sample(name))
    vim = c.post(
        "/admin/v1/vim_accounts",
        json={
            "name": "bench",
            "vim_type": "sim",
            "config": {
                "zones": 4,
                "hosts": 200,
                "images": [{"name": n} for n in ("web-img", "db-img")],
            },
        },
    ).json()
    _wait(c, f"/admin/v1/vim_accounts/{vim['id']}", "operationalState", ("PROCESSING",))
    return vim["id"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=20, help="NS instances")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env(
            data_dir=Path(tmp), admin_password="bench-admin-pw", sync_interval_seconds=0
        )
        server, base = start_server(settings, log_level="error")
        c = _client(base)
        vim_id = _setup(c)
        time.sleep(1)
        ns_ids = [
            c.post(
                "/nslcm/v2/ns_instances", json={"nsdId": NSD_WEBAPP_ID, "nsName": f"ns-{i}"}
            ).json()["id"]
            for i in range(args.n)
        ]
        body = {"nsFlavourId": "default", "additionalParamsForNs": {"vimAccountId": vim_id}}
        cpu0, t0 = time.process_time(), time.perf_counter()
        ops = [
            c.post(f"/nslcm/v2/ns_instances/{n}/instantiate", json=body).headers["location"]
            for n in ns_ids
        ]
        states = [
            _wait(c, o, "operationState", ("STARTING", "PROCESSING"))["operationState"] for o in ops
        ]
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        vdus = sum(
            len(v.get("instantiatedVnfInfo", {}).get("vnfcResourceInfo", []))
            for n in ns_ids
            for v in c.get(f"/nslcm/v2/ns_instances/{n}").json()["vnfInstance"]
        )
        t1 = time.perf_counter()
        ops = [
            c.post(f"/nslcm/v2/ns_instances/{n}/terminate", json={}).headers["location"]
            for n in ns_ids
        ]
        for o in ops:
            _wait(c, o, "operationState", ("STARTING", "PROCESSING"))
        terminate_wall = time.perf_counter() - t1
        server.should_exit = True
    print(
        json.dumps(
            {
                "ns_instances": args.n,
                "completed": states.count("COMPLETED"),
                "vdus": vdus,
                "database": "postgresql" if os.environ.get("NFVO_DATABASE_URL") else "sqlite",
                "instantiate_wall_s": round(wall, 2),
                "instantiate_cpu_ms_per_vdu": round(cpu * 1000 / max(vdus, 1), 1),
                "terminate_wall_s": round(terminate_wall, 2),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
