"""Register a 1,000-host sim VIM through the API and time it until ENABLED and synced.

Prints JSON: median seconds from POST to ENABLED (connectivity check + inventory sync), and
median time of GET .../resources returning all hosts, over N registrations, on a real nfvo
server on loopback with the embedded SQLite default (or NFVO_DATABASE_URL).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from nfvo.cli.demo import start_server
from nfvo.config import Settings


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts", type=int, default=1000)
    ap.add_argument("--zones", type=int, default=4)
    ap.add_argument("-n", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env(
            data_dir=Path(tmp), admin_password="bench-admin-pw", sync_interval_seconds=0
        )
        server, base = start_server(settings, log_level="error")
        tok = httpx.post(
            f"{base}/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=("admin", "bench-admin-pw"),
        ).json()["access_token"]
        c = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {tok}"}, timeout=60)
        enabled, listing = [], []
        for i in range(args.n):
            t0 = time.perf_counter()
            vim = c.post(
                "/admin/v1/vim_accounts",
                json={
                    "name": f"bench-{i}",
                    "vim_type": "sim",
                    "config": {"hosts": args.hosts, "zones": args.zones},
                },
            ).json()
            while (
                c.get(f"/admin/v1/vim_accounts/{vim['id']}").json()["_admin"]["operationalState"]
                == "PROCESSING"
            ):
                time.sleep(0.005)
            enabled.append(time.perf_counter() - t0)
            t1 = time.perf_counter()
            hosts = c.get(f"/admin/v1/vim_accounts/{vim['id']}/resources").json()["hosts"]
            listing.append(time.perf_counter() - t1)
            assert len(hosts) == args.hosts
        server.should_exit = True
    print(
        json.dumps(
            {
                "hosts": args.hosts,
                "zones": args.zones,
                "runs": args.n,
                "database": "postgresql" if os.environ.get("NFVO_DATABASE_URL") else "sqlite",
                "register_to_enabled_s_median": round(statistics.median(enabled), 3),
                "register_to_enabled_s_max": round(max(enabled), 3),
                "resources_get_s_median": round(statistics.median(listing), 3),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
