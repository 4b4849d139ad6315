"""The monitoring hub at 10,000 VNFCs: ingest rate, ingest-to-read lag, memory, index cost.

Prints JSON:

* ``ingest``: samples/s taken by ``Monitor.samples()`` (windowed, queued, delivered to one
  listener by the dispatcher) with the process pinned to one core; batches of 1,000 over
  10,000 VNFCs x 4 metrics (cpu, memory, disk of the server, bytes_in of its port). The
  median of ``--runs`` runs; ``incl_build`` also counts building the ``Sample`` objects.
* ``lag``: while a feeder sends ``--rate`` samples/s and a reader polls VNFC windows, a probe
  stamps a new value every 20 ms and polls ``current()`` until it reflects it; p50/p95/max
  of the time from calling ``samples()`` to ``current()`` returning the probe value (ms).
* ``rss``: a fresh process fills 10,000 VNFCs x 4 metrics at 1 sample/s for longer than the
  default window (every ring wraps), then reports its RSS and the slabs' bytes (MB).
* ``index``: an SQLite inventory of 10,000 VNFCs (2,500 VNFs, 25 NSs): the first and a
  repeated ``ResourceIndex.refresh()``, and reads of one VNF's and one NS's aggregates.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from typing import Any

from nfvo.monitoring.hub import Monitor
from nfvo.monitoring.model import Resource, ResourceKind, Sample

VIM = "bench-vim"
VNFCS = 10_000
SERVER_METRICS = ("cpu_utilization", "memory_utilization", "disk_utilization")


def resources(n: int = VNFCS) -> list[tuple[Resource, Resource]]:
    """(server, port) of n VNFCs."""
    return [
        (
            Resource(ResourceKind.SERVER, f"srv-{i}", VIM),
            Resource(ResourceKind.PORT, f"port-{i}", VIM),
        )
        for i in range(n)
    ]


def one_second(res: list[tuple[Resource, Resource]], t: float) -> list[Sample]:
    """One sample of each of the 4 metrics of every VNFC, stamped ``t``."""
    out = []
    for k, (srv, port) in enumerate(res):
        v = float((k * 7 + int(t)) % 100)
        out.extend(Sample(srv, m, v, t) for m in SERVER_METRICS)
        out.append(Sample(port, "bytes_in", v * 1000.0, t))
    return out


def pin_one_core() -> int | None:
    if not hasattr(os, "sched_setaffinity"):
        return None
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return cpu


# ------------------------------------------------------------------------------ ingest


def ingest_run(res: list[tuple[Resource, Resource]], seconds: int) -> tuple[float, float]:
    """(samples/s hub only, samples/s including building the samples) of one run."""
    t0 = time.time()
    mon = Monitor(clock=time.time)
    delivered = [0]
    mon.on_samples(lambda b: delivered.__setitem__(0, delivered[0] + len(b)))
    mon.start()
    try:
        rounds = []
        build = 0.0
        for s in range(seconds):
            b0 = time.perf_counter()
            rounds.append(one_second(res, t0 - seconds + s))
            build += time.perf_counter() - b0
        total = sum(len(r) for r in rounds)
        start = time.perf_counter()
        for batch in rounds:
            for i in range(0, len(batch), 1000):
                mon.samples(batch[i : i + 1000])
        assert mon.wait_idle(60.0)
        hub = time.perf_counter() - start
        assert delivered[0] == total, (delivered[0], total)
        return total / hub, total / (hub + build)
    finally:
        mon.stop()


def bench_ingest(runs: int, seconds: int) -> dict[str, Any]:
    res = resources()
    hub, incl = [], []
    for _ in range(runs):
        a, b = ingest_run(res, seconds)
        hub.append(a)
        incl.append(b)
    return {
        "samples_per_s_median": round(statistics.median(hub)),
        "samples_per_s_runs": [round(x) for x in hub],
        "incl_build_per_s_median": round(statistics.median(incl)),
        "samples_per_run": seconds * VNFCS * 4,
    }


# ------------------------------------------------------------------------------ lag


def bench_lag(rate: int, probes: int) -> dict[str, Any]:
    res = resources()
    mon = Monitor(clock=time.time)
    mon.on_samples(lambda b: None)
    mon.start()
    stop = threading.Event()
    probe = Resource(ResourceKind.SERVER, "probe", VIM)

    def feed() -> None:
        i = 0
        per_tick = max(1, rate // 20)  # 20 batches a second
        while not stop.is_set():
            tick = time.perf_counter()
            now = time.time()
            batch = []
            for _ in range(per_tick):
                srv, _port = res[i % VNFCS]
                batch.append(Sample(srv, SERVER_METRICS[i % 3], float(i % 100), now))
                i += 1
            mon.samples(batch)
            stop.wait(max(0.0, 0.05 - (time.perf_counter() - tick)))

    def read() -> None:
        k = 0
        while not stop.is_set():
            mon.current(res[k % VNFCS][0], "cpu_utilization")
            k += 1
            if k % 100 == 0:
                time.sleep(0.001)

    threads = [threading.Thread(target=feed), threading.Thread(target=read)]
    for t in threads:
        t.start()
    lags = []
    try:
        time.sleep(0.5)
        for n in range(probes):
            value = float(n + 1)
            start = time.perf_counter()
            mon.samples([Sample(probe, "cpu_utilization", value, time.time())])
            while mon.current(probe, "cpu_utilization").last != value:
                time.sleep(0.0005)
            lags.append((time.perf_counter() - start) * 1000)
            time.sleep(0.02)
    finally:
        stop.set()
        for t in threads:
            t.join()
        mon.stop()
    lags.sort()
    return {
        "feed_rate_per_s": rate,
        "probes": probes,
        "p50_ms": round(statistics.median(lags), 3),
        "p95_ms": round(lags[int(len(lags) * 0.95) - 1], 3),
        "max_ms": round(lags[-1], 3),
        "dropped_sample_batches": mon.counters()["dropped_sample_batches"],
    }


# ------------------------------------------------------------------------------ rss


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def bench_rss_child() -> dict[str, Any]:
    base = rss_mb()
    res = resources()
    mon = Monitor(clock=time.time)  # the default window (60 s)
    mon.on_samples(lambda b: None)
    mon.start()
    seconds = mon._windows.capacity + 10  # every ring wraps
    t0 = time.time() - seconds
    for s in range(seconds):
        batch = one_second(res, t0 + s)
        for i in range(0, len(batch), 10_000):
            mon.samples(batch[i : i + 10_000])
        del batch
    assert mon.wait_idle(60.0)
    c = mon.counters()
    mon.stop()
    return {
        "vnfcs": VNFCS,
        "series": c["series"],
        "samples_fed": c["samples"],
        "ring_capacity": mon._windows.capacity,
        "rss_before_mb": round(base, 1),
        "rss_mb": round(rss_mb(), 1),
        "slab_mb": round(mon._windows.nbytes() / 2**20, 1),
    }


def bench_rss() -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--rss-child"], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


# ------------------------------------------------------------------------------ index


def bench_index() -> dict[str, Any]:
    from sqlalchemy import insert

    from nfvo.inventory.db import Database
    from nfvo.inventory.models import NsInstance, NsVnf, NsVnfc

    spec = {
        "ext_networks": {"ext": ""},
        "vdus": [{"vdu_id": "vdu", "cps": [{"cp_id": "cp0", "network": "ext"}]}],
    }
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/bench.db")
        db.migrate()
        nss = [str(uuid.uuid4()) for _ in range(25)]
        vnfs, vnfcs = [], []
        for v in range(VNFCS // 4):
            ns = nss[v % 25]
            vnfs.append(
                {
                    "id": f"vnf-{v}",
                    "ns_instance_id": ns,
                    "seq": v,
                    "vnf_profile_id": "p",
                    "vnfd_id": "d",
                    "flavour_id": "f",
                    "vim_account_id": VIM,
                    "spec": spec,
                    "instantiated": True,
                    "scale_levels": {},
                }
            )
            for c in range(4):
                i = v * 4 + c
                vnfcs.append(
                    {
                        "vnf_instance_id": f"vnf-{v}",
                        "vdu_id": "vdu",
                        "idx": c,
                        "ns_instance_id": ns,
                        "vim_account_id": VIM,
                        "key": f"k{i}",
                        "server_id": f"srv-{i}",
                        "status": "ACTIVE",
                        "host": f"host-{i % 50}",
                        "port_ids": {"cp0": f"port-{i}"},
                        "addresses": {},
                    }
                )
        with db.session() as s:
            s.execute(
                insert(NsInstance),
                [
                    {
                        "id": ns,
                        "nsd_info_id": ns,
                        "nsd_id": "n",
                        "name": "n",
                        "ns_state": "INSTANTIATED",
                        "scale_status": {},
                    }
                    for ns in nss
                ],
            )
            s.execute(insert(NsVnf), vnfs)
            s.execute(insert(NsVnfc), vnfcs)
        mon = Monitor(db, clock=time.time)
        t = time.perf_counter()
        mon.refresh_index()
        first = time.perf_counter() - t
        t = time.perf_counter()
        mon.refresh_index()
        again = time.perf_counter() - t
        t = time.perf_counter()
        assert mon.index.refresh_if_changed() is False
        unchanged = time.perf_counter() - t
        now = time.time()
        for batch_start in range(0, VNFCS, 1000):
            res = resources(VNFCS)[batch_start : batch_start + 1000]
            mon.samples(one_second(res, now - 1))
        t = time.perf_counter()
        vnf = mon.metrics_of(Resource(ResourceKind.VNF, "vnf-0"))
        vnf_s = time.perf_counter() - t
        t = time.perf_counter()
        ns = mon.metrics_of(Resource(ResourceKind.NS, nss[0]))
        ns_s = time.perf_counter() - t
        assert vnf["v_cpu_usage_mean_vnf"].count == 4 and ns["byte_incoming"].count == 400
        db.dispose()
    return {
        "vnfcs": VNFCS,
        "refresh_first_ms": round(first * 1000, 1),
        "refresh_again_ms": round(again * 1000, 1),
        "refresh_unchanged_ms": round(unchanged * 1000, 2),
        "metrics_of_vnf_ms": round(vnf_s * 1000, 2),
        "metrics_of_ns_100_vnfs_ms": round(ns_s * 1000, 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=5, help="seconds of samples per run")
    ap.add_argument("--rate", type=int, default=20_000, help="feed rate of the lag run")
    ap.add_argument("--probes", type=int, default=200)
    ap.add_argument("--rss-child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.rss_child:
        print(json.dumps(bench_rss_child()))
        return
    rss = bench_rss()
    index = bench_index()
    cpu = pin_one_core()
    out = {
        "pinned_cpu": cpu,
        "ingest": bench_ingest(args.runs, args.seconds),
        "lag": bench_lag(args.rate, args.probes),
        "rss": rss,
        "index": index,
    }
    out["ok"] = {
        "ingest_ge_10000_per_s": out["ingest"]["samples_per_s_median"] >= 10_000,
        "lag_p95_le_500_ms": out["lag"]["p95_ms"] <= 500,
        "rss_le_150_mb": rss["rss_mb"] <= 150,
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
