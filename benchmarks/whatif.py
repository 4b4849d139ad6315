"""What-if plans and capacity queries, timed through the REST API.

Prints one JSON document: for a 50-VDU NS (a synthetic VNF of 2 VDUs x 5 instances, 5 VNF
profiles of it) over a sim VIM of 1,000 hosts in 4 zones, the latency of ``POST
/admin/v1/plans`` (median and p95 over ``--requests`` requests, after 2 warm-ups; target
<= 200 ms; ``server_*``: the part spent in the what-if service, placement included) and of
``GET /admin/v1/capacity`` at ``max`` 100 and 1,000, then checks that a real instantiate of
the NS lands on the planned hosts.

nfvo runs in this process (uvicorn in a thread, SQLite or ``--pg-url``), the client speaks
HTTP on loopback: the figures include routing, auth, JSON and the database reads.

Usage: ``python benchmarks/whatif.py [--requests 20] [--hosts 1000] [--pg-url URL]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from nfvo.cli.demo import start_server
from nfvo.config import Settings
from nfvo.samples.synthetic import nsd_package, vnf_package

ADMIN_PW = "bench-admin-pw"
TARGET_MS = 200.0
NSD_ID, VNFD_ID = "nsd-whatif-50", "vnfd-whatif-2x5"


def _onboard(c: httpx.Client, kind: str, data: bytes) -> None:
    coll, content, key = {
        "vnf": ("/vnfpkgm/v2/vnf_packages", "package_content", "onboardingState"),
        "nsd": ("/nsd/v2/ns_descriptors", "nsd_content", "nsdOnboardingState"),
    }[kind]
    pkg = c.post(coll, json={}).json()
    r = c.put(f"{coll}/{pkg['id']}/{content}", content=data)
    r.raise_for_status()
    deadline = time.monotonic() + 120
    while c.get(f"{coll}/{pkg['id']}").json().get(key) != "ONBOARDED":
        if time.monotonic() > deadline:
            raise RuntimeError(f"{kind} package {pkg['id']} did not onboard")
        time.sleep(0.05)


def _vim(c: httpx.Client, hosts: int) -> str:
    r = c.post(
        "/admin/v1/vim_accounts",
        json={"name": "whatif", "vim_type": "sim", "config": {"zones": 4, "hosts": hosts}},
    )
    r.raise_for_status()
    vim_id = r.json()["id"]
    deadline = time.monotonic() + 300
    # ENABLED with its first sync done (the 1,000 hosts read): the background work is over
    while (adm := c.get(f"/admin/v1/vim_accounts/{vim_id}").json()["_admin"])[
        "operationalState"
    ] != "ENABLED" or not adm.get("lastSync"):
        if time.monotonic() > deadline:
            raise RuntimeError("the sim VIM did not become ENABLED")
        time.sleep(0.1)
    return vim_id


def _timed(call: Any) -> tuple[float, httpx.Response]:
    start = time.perf_counter()
    r = call()
    return (time.perf_counter() - start) * 1000, r


def _landed(c: httpx.Client, ns_id: str) -> dict[tuple[str, int, str, int], str]:
    ns = c.get(f"/nslcm/v2/ns_instances/{ns_id}").json()
    seen: dict[str, int] = {}
    out = {}
    for vnf in ns["vnfInstance"]:
        profile = vnf["vnfProfileId"]
        index = seen.setdefault(profile, 0)
        seen[profile] += 1
        for vnfc in vnf["instantiatedVnfInfo"]["vnfcResourceInfo"]:
            idx = int(vnfc["id"].rsplit("-", 1)[1])
            out[(profile, index, vnfc["vduId"], idx)] = vnfc["metadata"]["host"]
    return out


def run(args: argparse.Namespace, data_dir: Path) -> dict[str, Any]:
    overrides: dict[str, Any] = {"admin_password": ADMIN_PW, "sync_interval_seconds": 0}
    if args.pg_url:
        overrides["database_url"] = args.pg_url
    settings = Settings.from_env(data_dir=data_dir, **overrides)
    server, base = start_server(settings, log_level="error")
    try:
        tok = httpx.post(
            f"{base}/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=("admin", ADMIN_PW),
        ).json()["access_token"]
        c = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {tok}"}, timeout=600)
        _onboard(c, "vnf", vnf_package(VNFD_ID, vdus=2, instances=5))
        _onboard(c, "nsd", nsd_package(NSD_ID, VNFD_ID, profiles=5))
        vim_id = _vim(c, args.hosts)
        ns_id = c.post(
            "/nslcm/v2/ns_instances", json={"nsdId": NSD_ID, "nsName": "bench-whatif"}
        ).json()["id"]
        body = {
            "nsInstanceId": ns_id,
            "nsFlavourId": "default",
            "additionalParamsForNs": {"vimAccountId": vim_id},
        }
        times, inside, plan = [], [], {}
        time.sleep(1.0)  # let the registration's background tasks finish
        for n in range(args.requests + 2):
            ms, r = _timed(lambda: c.post("/admin/v1/plans", json=body))
            r.raise_for_status()
            plan = r.json()
            if n >= 2:
                times.append(ms)
                inside.append(plan["seconds"] * 1000)
        times.sort()
        p95 = times[max(0, round(0.95 * len(times)) - 1)]
        capacity = {}
        for most in (100, 1000):
            q = {"nsdId": NSD_ID, "nsFlavourId": "default", "vimAccountId": vim_id, "max": most}
            ms, r = _timed(lambda q=q: c.get("/admin/v1/capacity", params=q))
            r.raise_for_status()
            capacity[f"max_{most}"] = {
                "ms": round(ms, 1),
                "count": r.json()["count"],
                "server_seconds": r.json()["seconds"],
            }
        planned = {
            (v["vnfProfileId"], v["vnfIndex"], v["vduId"], v["index"]): v["host"]
            for v in plan["vdus"]
        }
        request = {k: v for k, v in body.items() if k != "nsInstanceId"}
        by_nsd = c.post("/admin/v1/plans", json=request | {"nsdId": NSD_ID}).json()
        nsd_form = {
            (v["vnfProfileId"], v["vnfIndex"], v["vduId"], v["index"]): v["host"]
            for v in by_nsd["vdus"]
        }
        r = c.post(f"/nslcm/v2/ns_instances/{ns_id}/instantiate", json=request)
        r.raise_for_status()
        deadline = time.monotonic() + 300
        while c.get(r.headers["location"]).json()["operationState"] in ("STARTING", "PROCESSING"):
            if time.monotonic() > deadline:
                raise RuntimeError("the instantiate did not finish")
            time.sleep(0.1)
        landed = _landed(c, ns_id)
        return {
            "database": "postgresql" if args.pg_url else "sqlite",
            "hosts": args.hosts,
            "vdus": len(plan["vdus"]),
            "feasible": plan["feasible"],
            "strategy": plan["vims"][0].get("strategy"),
            "plan_ms": {
                "requests": len(times),
                "median": round(statistics.median(times), 1),
                "p95": round(p95, 1),
                "max": round(times[-1], 1),
                "server_median": round(statistics.median(inside), 1),
                "server_p95": round(sorted(inside)[max(0, round(0.95 * len(inside)) - 1)], 1),
                "target": TARGET_MS,
                "met": p95 <= TARGET_MS,
            },
            "capacity": capacity,
            "instantiate_landed_as_planned": landed == planned,
            "nsd_form_plan_equal": nsd_form == planned,
            "nsd_form_same_hosts": sorted(nsd_form.values()) == sorted(planned.values()),
            "load_average_1m": os.getloadavg()[0],
            "cpus": os.cpu_count(),
        }
    finally:
        server.should_exit = True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--pg-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(json.dumps(run(args, Path(tmp)), indent=2))


if __name__ == "__main__":
    main()
