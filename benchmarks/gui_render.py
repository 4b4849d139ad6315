"""GUI page render times with 1,000 NS instances in the inventory (issue 16, acceptance 9).

Prints JSON. The inventory (1,000 NS instances, 3,000 op occurrences) is seeded straight into
the embedded SQLite database (the seeding of ``benchmarks/list.py``), a few real NS are
instantiated through the API on a sim VIM (so detail pages and the topology have real rows),
then ``nfvo serve`` runs as a subprocess and every page is fetched through HTTP with a GUI
session cookie, as a browser would: the full page, and for lists also the htmx fragment.
Per page: p50 / p95 / max in milliseconds over ``--requests`` requests after a warm-up, and
whether p95 is within the 300 ms target.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from list import PASSWORD, client, seed, server, token  # noqa: E402

from nfvo.samples import build_sample  # noqa: E402

TARGET_MS = 300.0


def _onboard(c: httpx.Client, coll: str, content: str, name: str) -> str:
    pkg = c.post(coll, json={}).json()
    r = c.put(f"{coll}/{pkg['id']}/{content}", content=build_sample(name))
    assert r.status_code == 202, r.text
    key = "onboardingState" if "vnf" in coll else "nsdOnboardingState"
    deadline = time.monotonic() + 60
    while c.get(f"{coll}/{pkg['id']}").json()[key] != "ONBOARDED":
        assert time.monotonic() < deadline, f"{name} not onboarded"
        time.sleep(0.1)
    return pkg["id"]


def real_instances(c: httpx.Client, n: int) -> tuple[list[str], list[str]]:
    """``n`` NS instantiated on a sim VIM: (NS ids, op occurrence ids)."""
    _onboard(c, "/vnfpkgm/v2/vnf_packages", "package_content", "vnf-web")
    _onboard(c, "/vnfpkgm/v2/vnf_packages", "package_content", "vnf-db")
    nsd = _onboard(c, "/nsd/v2/ns_descriptors", "nsd_content", "ns-webapp")
    nsd_id = c.get(f"/nsd/v2/ns_descriptors/{nsd}").json()["nsdId"]
    images = [{"name": n} for n in ("cirros", "web-img", "db-img")]
    vim = c.post(
        "/admin/v1/vim_accounts",
        json={"name": "bench-sim", "vim_type": "sim", "config": {"images": images}},
    ).json()
    deadline = time.monotonic() + 30
    while c.get(f"/admin/v1/vim_accounts/{vim['id']}").json()["_admin"]["operationalState"] != (
        "ENABLED"
    ):
        assert time.monotonic() < deadline, "the sim VIM did not become ENABLED"
        time.sleep(0.1)
    ns_ids, ops = [], []
    for i in range(n):
        ns = c.post(
            "/nslcm/v2/ns_instances",
            json={"nsdId": nsd_id, "nsName": f"gui-bench-{i}", "nsDescription": "bench"},
        ).json()
        r = c.post(
            f"/nslcm/v2/ns_instances/{ns['id']}/instantiate",
            json={"nsFlavourId": "default", "additionalParamsForNs": {"vimAccountId": vim["id"]}},
        )
        assert r.status_code == 202, r.text
        op = r.headers["Location"].rsplit("/", 1)[1]
        deadline = time.monotonic() + 120
        while c.get(f"/nslcm/v2/ns_lcm_op_occs/{op}").json()["operationState"] != "COMPLETED":
            assert time.monotonic() < deadline, "instantiate did not complete"
            time.sleep(0.1)
        ns_ids.append(ns["id"])
        ops.append(op)
    return ns_ids, ops


def session(base: str) -> httpx.Client:
    """A GUI session signed in as admin (the sign-in form, as a browser posts it)."""
    s = httpx.Client(base_url=base, timeout=60)
    r = s.post("/ui/login", data={"client_id": "admin", "client_secret": PASSWORD, "next": "/ui/"})
    assert r.status_code == 303, r.text
    return s


def measure(s: httpx.Client, path: str, n: int, htmx: bool) -> dict[str, Any]:
    headers = {"HX-Request": "true"} if htmx else {}
    for _ in range(3):
        s.get(path, headers=headers)
    times, statuses = [], set()
    for _ in range(n):
        t = time.perf_counter()
        r = s.get(path, headers=headers)
        times.append((time.perf_counter() - t) * 1000)
        statuses.add(r.status_code)
    times.sort()
    p95 = times[max(0, int(round(0.95 * len(times))) - 1)]
    return {
        "path": path + (" (htmx fragment)" if htmx else ""),
        "status": sorted(statuses),
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(p95, 1),
        "max_ms": round(times[-1], 1),
        "bytes": len(r.content),
        "within_target": p95 <= TARGET_MS and statuses == {200},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ns", type=int, default=1000, help="NS instances seeded")
    ap.add_argument("--ops", type=int, default=3000, help="op occurrences seeded")
    ap.add_argument("--real", type=int, default=3, help="NS instantiated for real")
    ap.add_argument("--requests", type=int, default=60, help="requests per page")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        url = f"sqlite:///{data}/nfvo.db"
        _, seeded_s = seed(url, args.ns, args.ops)
        with server(data, url) as (base, _pid):
            api = client(base, token(base, "admin", PASSWORD))
            ns_ids, ops = real_instances(api, args.real)
            total = api.get("/nslcm/v2/ns_instances", params={"nextpage_opaque_marker": ""})
            s = session(base)
            pages = [
                ("/ui/", False),
                ("/ui/ns", False),
                ("/ui/ns", True),
                ("/ui/ops", False),
                ("/ui/ops", True),
                ("/ui/packages", False),
                ("/ui/vims", False),
                ("/ui/alarms", False),
                ("/ui/policies", False),
                ("/ui/windows", False),
                (f"/ui/ns/{ns_ids[0]}", False),
                (f"/ui/ns/{ns_ids[0]}/instantiate", False),
                (f"/ui/ops/{ops[0]}", False),
            ]
            results = [measure(s, path, args.requests, htmx) for path, htmx in pages]
    worst = max(results, key=lambda r: r["p95_ms"])
    print(
        json.dumps(
            {
                "benchmark": "gui_render",
                "database": "sqlite (embedded default)",
                "ns_instances": args.ns + args.real,
                "op_occurrences": args.ops + args.real,
                "seed_seconds": round(seeded_s, 2),
                "requests_per_page": args.requests,
                "target_p95_ms": TARGET_MS,
                "api_first_page_status": total.status_code,
                "pages": results,
                "worst_p95_ms": worst["p95_ms"],
                "worst_page": worst["path"],
                "all_within_target": all(r["within_target"] for r in results),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
