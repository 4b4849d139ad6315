"""nspm/v2 PM reports in real time: a sim VIM with a constant 40 % load on an NS's VNFs and
a PM job of 10 s collection / 60 s reporting; a loopback receiver takes the
PerformanceInformationAvailableNotifications. Prints JSON: the intervals between
notifications (target 60 ± 2 s) and the values per metric in each report (target 6).

    python benchmarks/pm_reporting.py [--reports 2] [--collection 10] [--reporting 60]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from nfvo.cli.demo import start_server
from nfvo.config import Settings
from nfvo.samples import NSD_WEBAPP_ID, build_sample

ADMIN_PW = "bench-admin-pw"


class _Receiver(BaseHTTPRequestHandler):
    got: list[tuple[float, dict[str, Any]]] = []

    def do_GET(self) -> None:  # noqa: N802 - the callback test
        self.send_response(204)
        self.end_headers()

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        _Receiver.got.append((time.monotonic(), json.loads(body)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def _onboard(c: httpx.Client, kind: str, data: bytes) -> None:
    coll, content, key = {
        "vnf": ("/vnfpkgm/v2/vnf_packages", "package_content", "onboardingState"),
        "nsd": ("/nsd/v2/ns_descriptors", "nsd_content", "nsdOnboardingState"),
    }[kind]
    pkg = c.post(coll, json={}).json()
    c.put(f"{coll}/{pkg['id']}/{content}", content=data).raise_for_status()
    deadline = time.monotonic() + 60
    while c.get(f"{coll}/{pkg['id']}").json().get(key) != "ONBOARDED":
        if time.monotonic() > deadline:
            raise RuntimeError(f"{kind} package did not onboard")
        time.sleep(0.05)


def _ns(c: httpx.Client) -> tuple[str, str]:
    for name in ("vnf-web", "vnf-db", "ns-webapp"):
        _onboard(c, "nsd" if name.startswith("ns") else "vnf", build_sample(name))
    load = {"pattern": "constant", "base": 40, "noise": 0}
    images = [{"name": n} for n in ("cirros", "web-img", "db-img")]
    cfg = {"hosts": 2, "images": images, "load": load}
    vim_id = c.post("/admin/v1/vim_accounts", json={"name": "pm", "vim_type": "sim", "config": cfg})
    vim_id.raise_for_status()
    vim = vim_id.json()["id"]
    while c.get(f"/admin/v1/vim_accounts/{vim}").json()["_admin"]["operationalState"] != "ENABLED":
        time.sleep(0.05)
    ns = c.post("/nslcm/v2/ns_instances", json={"nsdId": NSD_WEBAPP_ID, "nsName": "pm"}).json()
    body = {"nsFlavourId": "default", "additionalParamsForNs": {"vimAccountId": vim}}
    op = c.post(f"/nslcm/v2/ns_instances/{ns['id']}/instantiate", json=body)
    op.raise_for_status()
    while c.get(op.headers["location"]).json()["operationState"] in ("STARTING", "PROCESSING"):
        time.sleep(0.1)
    return ns["id"], vim


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reports", type=int, default=2)
    ap.add_argument("--collection", type=int, default=10)
    ap.add_argument("--reporting", type=int, default=60)
    args = ap.parse_args()
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    callback = f"http://127.0.0.1:{receiver.server_address[1]}/pm"
    with tempfile.TemporaryDirectory() as tmp:
        # the receiver is on loopback, where nfvo sends nothing unless told to
        settings = Settings(
            data_dir=Path(tmp), admin_password=ADMIN_PW, outbound_allow="127.0.0.0/8"
        )
        server, base = start_server(settings)
        tok = httpx.post(
            f"{base}/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=("admin", ADMIN_PW),
        ).json()["access_token"]
        c = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {tok}"}, timeout=30)
        ns_id, _vim = _ns(c)
        vnfs = [v["id"] for v in c.get(f"/nslcm/v2/ns_instances/{ns_id}").json()["vnfInstance"]]
        criteria = {
            "performanceMetric": ["VCpuUsageMeanVnf", "VMemoryUsageMeanVnf"],
            "collectionPeriod": args.collection,
            "reportingPeriod": args.reporting,
        }
        job = c.post(
            "/nspm/v2/pm_jobs",
            json={
                "objectType": "VnfInstance",
                "objectInstanceIds": vnfs,
                "criteria": criteria,
                "callbackUri": callback,
            },
        )
        if job.status_code != 201:
            raise SystemExit(f"PM job refused: {job.text}")
        created = time.monotonic()
        deadline = created + args.reporting * (args.reports + 1) + 30
        wanted = args.reports * len(vnfs)
        while len(_Receiver.got) < wanted and time.monotonic() < deadline:
            time.sleep(0.2)
        got = list(_Receiver.got)
        values = []
        for _t, note in got:
            report = c.get(note["_links"]["performanceReport"]["href"].split(base)[-1]).json()
            values.append(sorted({len(e["performanceValues"]) for e in report["entries"]}))
        c.delete(f"/nspm/v2/pm_jobs/{job.json()['id']}")
        server.should_exit = True
    times = [t for t, _ in got]
    per_object: dict[str, list[float]] = {}
    for t, note in got:  # one notification per object instance and reporting period
        per_object.setdefault(str(note.get("objectInstanceId")), []).append(t)
    intervals = [
        round(b - a, 2) for ts in per_object.values() for a, b in zip(ts, ts[1:], strict=False)
    ]
    print(  # noqa: T201
        json.dumps(
            {
                "collection_s": args.collection,
                "reporting_s": args.reporting,
                "notifications": len(got),
                "first_after_create_s": round(times[0] - created, 2) if times else None,
                "objects": len(per_object),
                "intervals_per_object_s": intervals,
                "values_per_metric_per_report": values,
            }
        )
    )


if __name__ == "__main__":
    main()
