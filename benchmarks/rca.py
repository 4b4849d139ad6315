"""The RCA entity graph at 10,000 VNFCs / 200 hosts / 1,000 VNFs / 200 NS.

Builds an inventory in SQLite (and in a throw-away schema of PostgreSQL with ``--pg``, URL
from ``--pg-url`` or ``NFVO_TEST_DATABASE_URL``) by inserting rows in bulk (no LCM): one VIM
of 4 zones and 200 hosts; 200 NS of 5 VNFs of 10 VNFCs each, every VNFC with two ports (one
on its VNF's internal virtual link, one on its NS's virtual link), so 1,200 networks and
20,000 ports. Then measures and prints JSON:

* ``build``: ``EntityGraph.load()`` from the database (first, and the median of ``--runs``,
  wall clock and CPU time of the process: on a shared machine the CPU time is the steadier);
* ``impact_host``: ``impact()`` of every host, ``--passes`` times: p50 / p95 / max in ms;
* ``impact_vim``: ``impact()`` of the whole VIM (every VNFC): median (wall, CPU) and max of
  ``--runs``;
* ``refresh``: ``refresh_if_changed()`` with nothing changed, and after one NS's VNFC moved
  host (one NS re-read);
* ``memory``: the graph's bytes as tracemalloc counts them (allocated by the load and still
  held) and the process RSS before and after a load in a fresh process (MB).

Targets (issue 15): build <= 1 s, host p95 <= 10 ms, VIM <= 100 ms, graph <= 300 MB.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

from sqlalchemy import create_engine, insert, text, update

from nfvo.inventory.db import Database
from nfvo.inventory.models import (
    NsInstance,
    NsVl,
    NsVnf,
    NsVnfc,
    NsVnfVl,
    VimAccount,
    VimHost,
    VimZone,
)
from nfvo.policy.rca.graph import EntityGraph

PG_ENV = "NFVO_TEST_DATABASE_URL"
VIM = "00000000-0000-0000-0000-00000000b1a0"
NS_COUNT, VNFS_PER_NS, VNFCS_PER_VNF = 200, 5, 10
HOSTS, ZONES = 200, 4
SPEC = {
    "ext_networks": {"mgmt": ""},
    "vdus": [
        {
            "vdu_id": "vdu",
            "cps": [
                {"cp_id": "ext", "network": "mgmt"},
                {"cp_id": "int", "network": "internal"},
            ],
        }
    ],
}


def populate(db: Database) -> None:
    """The inventory: one VIM, its zones and hosts, 200 NS with their rows."""
    hosts = [f"compute-{h:03d}" for h in range(HOSTS)]
    ns_rows, vnfs, vnfcs, vls, vnf_vls = [], [], [], [], []
    n = 0
    for i in range(NS_COUNT):
        ns_id = f"ns-{i:04d}"
        ns_rows.append(
            {
                "id": ns_id,
                "tenant_id": None,
                "nsd_info_id": ns_id,
                "nsd_id": "nsd",
                "name": ns_id,
                "ns_state": "INSTANTIATED",
                "scale_status": {},
            }
        )
        vls.append(
            {
                "ns_instance_id": ns_id,
                "vl_id": "mgmt",
                "vim_account_id": VIM,
                "network_id": f"net-{ns_id}",
            }
        )
        for j in range(VNFS_PER_NS):
            vnf_id = f"{ns_id}-vnf-{j}"
            vnfs.append(
                {
                    "id": vnf_id,
                    "ns_instance_id": ns_id,
                    "seq": j,
                    "vnf_profile_id": f"p{j}",
                    "vnfd_id": "vnfd",
                    "flavour_id": "default",
                    "vim_account_id": VIM,
                    "spec": SPEC,
                    "instantiated": True,
                    "scale_levels": {},
                }
            )
            vnf_vls.append(
                {
                    "vnf_instance_id": vnf_id,
                    "vl_id": "internal",
                    "ns_instance_id": ns_id,
                    "network_id": f"net-{vnf_id}",
                }
            )
            for k in range(VNFCS_PER_VNF):
                host = hosts[n % HOSTS]
                vnfcs.append(
                    {
                        "vnf_instance_id": vnf_id,
                        "vdu_id": "vdu",
                        "idx": k,
                        "ns_instance_id": ns_id,
                        "vim_account_id": VIM,
                        "key": f"{vnf_id}/vdu/{k}",
                        "server_id": f"srv-{n:05d}",
                        "status": "ACTIVE",
                        "host": host,
                        "zone": f"az-{(n % HOSTS) % ZONES}",
                        "port_ids": {"ext": f"port-{n:05d}-e", "int": f"port-{n:05d}-i"},
                        "addresses": {},
                    }
                )
                n += 1
    with db.session() as s:
        s.add(
            VimAccount(
                id=VIM, name="bench-vim", vim_type="sim", operational_state="ENABLED", config={}
            )
        )
        s.flush()
        s.execute(insert(VimZone), [{"vim_id": VIM, "name": f"az-{z}"} for z in range(ZONES)])
        s.execute(
            insert(VimHost),
            [
                {
                    "vim_id": VIM,
                    "name": h,
                    "zone": f"az-{x % ZONES}",
                    "state": "up",
                    "vcpus": 64,
                    "ram_mib": 262144,
                    "disk_gib": 2000,
                }
                for x, h in enumerate(hosts)
            ],
        )
        s.execute(insert(NsInstance), ns_rows)
        s.execute(insert(NsVnf), vnfs)
        s.execute(insert(NsVl), vls)
        s.execute(insert(NsVnfVl), vnf_vls)
        for c in range(0, len(vnfcs), 2000):
            s.execute(insert(NsVnfc), vnfcs[c : c + 2000])


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(db: Database, runs: int, passes: int) -> dict[str, Any]:
    """Build, impact and refresh figures on a populated database."""
    graph = EntityGraph(db)
    t = time.perf_counter()
    graph.load()
    first = time.perf_counter() - t
    builds, builds_cpu = [], []
    for _ in range(runs):
        gc.collect()
        t, c = time.perf_counter(), time.process_time()
        graph.load()
        builds.append(time.perf_counter() - t)
        builds_cpu.append(time.process_time() - c)
    counts = graph.counts()
    hosts = [f"host:{VIM}:compute-{h:03d}" for h in range(HOSTS)]
    host_times = []
    for _ in range(passes):
        for h in hosts:
            t = time.perf_counter()
            imp = graph.impact(h)
            host_times.append(time.perf_counter() - t)
            assert len(imp.servers) == 10_000 // HOSTS, (h, len(imp.servers))
    vim_times, vim_cpu = [], []
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        imp = graph.impact(f"vim:{VIM}")
        vim_times.append(time.perf_counter() - t)
        vim_cpu.append(time.process_time() - c)
    assert len(imp.servers) == NS_COUNT * VNFS_PER_NS * VNFCS_PER_VNF
    assert len(imp.ns) == NS_COUNT and len(imp.vnfs) == NS_COUNT * VNFS_PER_NS
    t = time.perf_counter()
    assert graph.refresh_if_changed() is False
    unchanged = time.perf_counter() - t
    with db.session() as s:  # one VNFC of one NS moves to another host
        c = NsVnfc.__table__.c
        s.execute(
            update(NsVnfc)
            .where(c.vnf_instance_id == "ns-0007-vnf-0", c.idx == 0)
            .values(host="compute-199")
        )
    t = time.perf_counter()
    assert graph.refresh_if_changed() is True
    one_ns = time.perf_counter() - t
    assert f"server:{VIM}:srv-00350" in graph.impact(f"host:{VIM}:compute-199").servers
    return {
        "vertices": {k: v for k, v in counts.items() if k != "edges"},
        "edges": counts["edges"],
        "build_first_ms": _ms(first),
        "build_median_ms": _ms(statistics.median(builds)),
        "build_median_cpu_ms": _ms(statistics.median(builds_cpu)),
        "impact_host": {
            "calls": len(host_times),
            "p50_ms": _ms(_pct(host_times, 0.50)),
            "p95_ms": _ms(_pct(host_times, 0.95)),
            "max_ms": _ms(max(host_times)),
        },
        "impact_vim": {
            "servers": len(imp.servers),
            "median_ms": _ms(statistics.median(vim_times)),
            "median_cpu_ms": _ms(statistics.median(vim_cpu)),
            "max_ms": _ms(max(vim_times)),
        },
        "refresh": {"unchanged_ms": _ms(unchanged), "one_ns_changed_ms": _ms(one_ns)},
    }


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def memory_child(url: str) -> dict[str, Any]:
    """In a fresh process: RSS around the first load, then the graph's bytes (tracemalloc)."""
    db = Database(url)
    with db.engine.connect() as conn:  # connection and dialect set up before measuring
        conn.execute(text("SELECT 1"))
    gc.collect()
    before = rss_mb()
    graph = EntityGraph(db)
    graph.load()
    gc.collect()
    after = rss_mb()
    del graph
    gc.collect()
    tracemalloc.start()
    graph = EntityGraph(db)
    graph.load()
    gc.collect()
    held, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    db.dispose()
    return {
        "rss_before_mb": round(before, 1),
        "rss_after_load_mb": round(after, 1),
        "rss_growth_mb": round(after - before, 1),
        "graph_traced_mb": round(held / 2**20, 1),
        "load_peak_traced_mb": round(peak / 2**20, 1),
    }


def memory(url: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--memory-child", url],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


@contextmanager
def pg_schema(base: str) -> Iterator[str]:
    """A throw-away schema of the PostgreSQL at ``base``, as a URL whose search_path is it."""
    schema = "rca_bench_" + uuid.uuid4().hex[:8]
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def run(url: str, runs: int, passes: int) -> dict[str, Any]:
    db = Database(url)
    db.migrate()
    t = time.perf_counter()
    populate(db)
    populated = time.perf_counter() - t
    out = {"populate_s": round(populated, 1), **measure(db, runs, passes)}
    db.dispose()
    out["memory"] = memory(url)
    out["ok"] = {
        "build_le_1_s": out["build_median_ms"] <= 1000,
        "impact_host_p95_le_10_ms": out["impact_host"]["p95_ms"] <= 10,
        "impact_vim_le_100_ms": out["impact_vim"]["median_ms"] <= 100,
        "graph_le_300_mb": max(out["memory"]["rss_growth_mb"], out["memory"]["graph_traced_mb"])
        <= 300,
    }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5, help="builds and VIM impacts measured")
    ap.add_argument("--passes", type=int, default=5, help="passes over the 200 hosts")
    ap.add_argument("--pg", action="store_true", help="PostgreSQL too")
    ap.add_argument("--pg-url", default=os.environ.get(PG_ENV), help=f"default: ${PG_ENV}")
    ap.add_argument("--memory-child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.memory_child:
        print(json.dumps(memory_child(args.memory_child)))
        return
    out: dict[str, Any] = {
        "inventory": {
            "vnfcs": NS_COUNT * VNFS_PER_NS * VNFCS_PER_VNF,
            "hosts": HOSTS,
            "vnfs": NS_COUNT * VNFS_PER_NS,
            "ns": NS_COUNT,
        }
    }
    with tempfile.TemporaryDirectory() as tmp:
        out["sqlite"] = run(f"sqlite:///{tmp}/rca.db", args.runs, args.passes)
    if args.pg:
        if not args.pg_url:
            out["postgresql"] = {"skipped": f"no --pg-url and no {PG_ENV}"}
        else:
            with pg_schema(args.pg_url) as url:
                out["postgresql"] = run(url, args.runs, args.passes)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
