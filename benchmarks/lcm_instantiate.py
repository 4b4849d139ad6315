"""What an NS instantiation costs nfvo, measured through the public REST API only.

Prints one JSON document with, for SQLite and (when ``NFVO_TEST_DATABASE_URL`` is set or
``--pg-url`` is given) PostgreSQL:

(a) ``cpu_per_vdu``: server CPU ms per VDU instance to instantiate the sample NS (``ns-webapp``,
    3 VDUs) and an NS of 20 VNFs x 2 VDUs, on a zero-latency sim VIM (median of ``--runs``);
(b) ``cpu_per_ns``: server CPU ms to instantiate NSs of 1, 10, 50, 100, 250 VNFs x 2 VDUs in
    one layer, the least-squares fit ``a + b*N + c*N^2`` and CPU(250) / CPU(25);
(c) ``critical_path``: wall time of an NS of 8 VNFs x 2 VDUs on a sim VIM whose servers take
    1 s to boot, against the critical path the NS structure allows.

How CPU is measured: the server runs in a child process (this script with ``--serve``); the
child answers ``cpu`` on its stdin with its own ``time.process_time()`` (all its threads,
nanosecond clock), read just before the instantiate request and just after the operation is
seen COMPLETED. From that difference two things that are not the instantiation are taken
off: the child's idle CPU rate (measured over a quiet second) times the wall time, and the
CPU of the status polls this script makes while waiting (polls x the CPU of one such GET,
measured on a finished operation). Both corrections are printed. The child holds the API,
the DBOS engine, the VNFM and the sim VIM (one process), so the figure is all of nfvo's cost.

Test packages: one synthetic VNF package (2 VDUs, one instance each, one CP each on the
VNF's external CP) and one NSD per size with N profiles of it on one NS virtual link, no
dependencies (``nfvo.samples.synthetic``); the sample NS comes from ``nfvo.samples``. Nothing
here imports the LCM: it keeps working whatever the LCM's insides look like.

Usage: ``python benchmarks/lcm_instantiate.py [--runs 3] [--max-vnfs 250] [--no-pg]``.
The default run takes a few minutes; ``--max-vnfs 100`` skips the largest NS.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from nfvo.samples import NSD_WEBAPP_ID, build_sample
from nfvo.samples.synthetic import nsd_package, vnf_package

ADMIN_PW = "bench-admin-pw"
SIZES = (1, 10, 50, 100, 250)
TARGETS = {"sample_ms_per_vdu": 10.0, "ns_40_vdus_ms_per_vdu": 5.0, "cpu_250_over_25": 12.0}
TARGET_CRITICAL_PATH_RATIO = 1.15
BOOT_S = 1.0
DONE = ("COMPLETED", "FAILED_TEMP", "FAILED", "ROLLED_BACK")
MARK = "@@bench "  # the child's answers; anything else it prints (logs) is skipped


# ------------------------------------------------------------------------- the server child
def serve(db_url: str | None, data_dir: str) -> None:
    """Child mode: run nfvo on loopback, print its URL, answer ``cpu`` / ``quit`` on stdin."""
    from nfvo.cli.demo import start_server
    from nfvo.config import Settings

    overrides: dict[str, Any] = {"admin_password": ADMIN_PW, "sync_interval_seconds": 0}
    if db_url:
        overrides["database_url"] = db_url
    settings = Settings.from_env(data_dir=Path(data_dir), **overrides)
    server, base = start_server(settings, log_level="error")
    print(MARK + json.dumps({"url": base}), flush=True)
    for line in sys.stdin:
        if line.strip() == "cpu":
            print(MARK + json.dumps({"cpu": time.process_time()}), flush=True)
        elif line.strip() == "quit":
            break
    server.should_exit = True


class Server:
    """The nfvo child process and a client of its API."""

    def __init__(self, db_url: str | None, data_dir: Path) -> None:
        args = [sys.executable, __file__, "--serve", "--data-dir", str(data_dir)]
        if db_url:
            args += ["--db-url", db_url]
        self.proc = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
        )
        self.url = self._answer()["url"]
        tok = httpx.post(
            f"{self.url}/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=("admin", ADMIN_PW),
        ).json()["access_token"]
        self.c = httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {tok}"}, timeout=600
        )

    def _answer(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith(MARK):
                return json.loads(line[len(MARK) :])
        raise RuntimeError(f"the nfvo child process ended (exit code {self.proc.wait()})")

    def cpu(self) -> float:
        """The child's process CPU seconds so far."""
        assert self.proc.stdin is not None
        self.proc.stdin.write("cpu\n")
        self.proc.stdin.flush()
        return float(self._answer()["cpu"])

    def close(self) -> None:
        self.c.close()
        assert self.proc.stdin is not None
        self.proc.stdin.write("quit\n")
        self.proc.stdin.flush()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@contextmanager
def database(kind: str, pg_url: str | None, tmp: Path) -> Iterator[str | None]:
    """None (the embedded SQLite default) or a throw-away PostgreSQL schema's URL."""
    if kind == "sqlite":
        yield None
        return
    from sqlalchemy import create_engine, text

    assert pg_url is not None
    schema = "bench_" + uuid.uuid4().hex[:12]
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in pg_url else "?"
    try:
        yield f"{pg_url}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


# ------------------------------------------------------------------------- API helpers
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


def _vim(c: httpx.Client, name: str, boot_ms: float) -> str:
    vim = c.post(
        "/admin/v1/vim_accounts",
        json={
            "name": name,
            "vim_type": "sim",
            "config": {
                "zones": 2,
                "hosts": 40,
                "images": [{"name": n} for n in ("web-img", "db-img", "cirros")],
                "latency_ms": {"server_boot": boot_ms},
            },
        },
    ).json()
    while c.get(f"/admin/v1/vim_accounts/{vim['id']}").json()["_admin"]["operationalState"] not in (
        "ENABLED",
        "DISABLED",
    ):
        time.sleep(0.05)
    return vim["id"]


def _wait(c: httpx.Client, location: str) -> tuple[dict, int]:
    """Poll an op occurrence until it is final; (body, number of GETs). Gaps: 5 ms doubling
    to 100 ms, so a short operation is seen quickly and a long one costs few polls."""
    polls, delay = 0, 0.005
    while True:
        body = c.get(location).json()
        polls += 1
        if body.get("operationState") in DONE:
            return body, polls
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


def _vdus(c: httpx.Client, ns_id: str, vim_id: str) -> tuple[int, int]:
    """(servers the VIM holds for the NS, VNF instances the NS shows NOT_INSTANTIATED)."""
    res = c.get(f"/admin/v1/vim_accounts/{vim_id}/resources").json()
    servers = sum(1 for s in res.get("servers", []) if s.get("nsInstanceId") == ns_id)
    ns = c.get(f"/nslcm/v2/ns_instances/{ns_id}").json()
    missing = sum(
        1 for v in ns.get("vnfInstance", []) if v.get("instantiationState") != "INSTANTIATED"
    )
    return servers, missing


def _drop(c: httpx.Client, ns_id: str) -> None:
    r = c.post(f"/nslcm/v2/ns_instances/{ns_id}/terminate", json={})
    if r.status_code == 202:
        _wait(c, r.headers["location"])
    c.delete(f"/nslcm/v2/ns_instances/{ns_id}")


class Bench:
    """Measurements on one running server."""

    def __init__(self, server: Server) -> None:
        self.s = server
        self.c = server.c
        self.idle_cpu_per_s = 0.0
        self.poll_cpu_s = 0.0

    def calibrate(self, location: str) -> None:
        """Idle CPU rate of the server and the CPU of one status GET (on a final op)."""
        cpu0, t0 = self.s.cpu(), time.perf_counter()
        time.sleep(1.0)
        self.idle_cpu_per_s = (self.s.cpu() - cpu0) / (time.perf_counter() - t0)
        n = 50
        cpu0, t0 = self.s.cpu(), time.perf_counter()
        for _ in range(n):
            self.c.get(location)
        idle = self.idle_cpu_per_s * (time.perf_counter() - t0)
        self.poll_cpu_s = max(self.s.cpu() - cpu0 - idle, 0.0) / n

    def instantiate(self, nsd_id: str, vim_id: str, *, keep: bool = False) -> dict[str, Any]:
        """One instantiation: server CPU (corrected), wall time, VDUs; the NS is removed after
        (unless ``keep``, which returns its id to remove later)."""
        ns_id = self.c.post(
            "/nslcm/v2/ns_instances", json={"nsdId": nsd_id, "nsName": "bench"}
        ).json()["id"]
        body = {"nsFlavourId": "default", "additionalParamsForNs": {"vimAccountId": vim_id}}
        cpu0 = self.s.cpu()
        t0, started = time.perf_counter(), time.time()
        r = self.c.post(f"/nslcm/v2/ns_instances/{ns_id}/instantiate", json=body)
        op, polls = _wait(self.c, r.headers["location"])
        wall = time.perf_counter() - t0
        # when the server recorded COMPLETED (same machine, same clock): the wall time
        # without the delay of this script's polling
        done = datetime.fromisoformat(op["statusEnteredTime"]).timestamp()
        raw = self.s.cpu() - cpu0
        if op["operationState"] != "COMPLETED":
            raise RuntimeError(f"instantiate ended {op['operationState']}: {op.get('error')}")
        idle, poll = self.idle_cpu_per_s * wall, self.poll_cpu_s * polls
        vdus, missing = _vdus(self.c, ns_id, vim_id)
        out = {
            "ns_id": ns_id,
            "location": r.headers["location"],
            "vdus": vdus,
            # VNF instances the completed NS does not show INSTANTIATED (a lost record)
            "vnfs_not_instantiated": missing,
            "wall_s": wall,
            "wall_s_server": max(done - started, 0.0),
            "cpu_raw_ms": raw * 1000,
            "cpu_ms": max(raw - idle - poll, 0.0) * 1000,
            "polls": polls,
        }
        if not keep:
            _drop(self.c, ns_id)
        return out


# ------------------------------------------------------------------------- the three parts
def _median_runs(bench: Bench, nsd_id: str, vim_id: str, runs: int) -> dict[str, Any]:
    got = [bench.instantiate(nsd_id, vim_id) for _ in range(runs)]
    per_vdu = [g["cpu_ms"] / max(g["vdus"], 1) for g in got]
    return {
        "vdus": got[0]["vdus"],
        "cpu_ms_per_vdu_median": round(statistics.median(per_vdu), 2),
        "cpu_ms_per_vdu_runs": [round(x, 2) for x in per_vdu],
        "cpu_ms_median": round(statistics.median(g["cpu_ms"] for g in got), 1),
        "wall_s_median": round(statistics.median(g["wall_s"] for g in got), 3),
        "vnfs_not_instantiated_runs": [g["vnfs_not_instantiated"] for g in got],
    }


def _fit(points: list[tuple[int, float]]) -> tuple[float, float, float] | None:
    """Least-squares a + b*N + c*N^2 (normal equations, Cramer's rule); None if too few."""
    if len({n for n, _ in points}) < 3:
        return None
    s = [sum(float(n) ** k for n, _ in points) for k in range(5)]
    t = [sum(y * float(n) ** k for n, y in points) for k in range(3)]
    m = [[s[0], s[1], s[2]], [s[1], s[2], s[3]], [s[2], s[3], s[4]]]

    def det(a: list[list[float]]) -> float:
        return (
            a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1])
            - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0])
            + a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0])
        )

    d = det(m)
    coef = []
    for col in range(3):
        mc = [row[:] for row in m]
        for i in range(3):
            mc[i][col] = t[i]
        coef.append(det(mc) / d)
    return coef[0], coef[1], coef[2]


def part_b(bench: Bench, nsds: dict[int, str], vim_id: str, runs: int) -> dict[str, Any]:
    points = []
    for n, nsd_id in sorted(nsds.items()):
        reps = runs if n <= 50 else 1  # the large NSs are slow on an O(N^2) LCM
        got = [bench.instantiate(nsd_id, vim_id) for _ in range(reps)]
        cpu = statistics.median(g["cpu_ms"] for g in got)
        points.append(
            {
                "vnfs": n,
                "vdus": got[0]["vdus"],
                "cpu_ms": round(cpu, 1),
                "cpu_ms_per_vdu": round(cpu / max(got[0]["vdus"], 1), 2),
                "wall_s": round(statistics.median(g["wall_s"] for g in got), 3),
                "runs": reps,
                "vnfs_not_instantiated_runs": [g["vnfs_not_instantiated"] for g in got],
            }
        )
    fit = _fit([(p["vnfs"], p["cpu_ms"]) for p in points])
    out: dict[str, Any] = {"points": points}
    if fit is None:
        return out
    a, b, c = fit
    out["fit_ms"] = {"a": round(a, 2), "b_per_vnf": round(b, 3), "c_per_vnf2": round(c, 5)}
    measured = {p["vnfs"]: p["cpu_ms"] for p in points}
    cpu25 = measured.get(25, a + 25 * b + 625 * c)
    out["cpu_25_ms"] = round(cpu25, 1)
    out["cpu_25_source"] = "measured" if 25 in measured else "interpolated from the fit"
    if 250 in measured:
        cpu250, source = measured[250], "measured"
    else:
        cpu250, source = a + 250 * b + 62500 * c, "extrapolated from the fit (250 skipped)"
    out["cpu_250_ms"] = round(cpu250, 1)
    out["cpu_250_source"] = source
    out["ratio_250_over_25"] = round(cpu250 / cpu25, 2) if cpu25 > 0 else None
    out["target_ratio"] = TARGETS["cpu_250_over_25"]
    out["met"] = out["ratio_250_over_25"] is not None and (
        out["ratio_250_over_25"] <= TARGETS["cpu_250_over_25"]
    )
    return out


def part_c(bench: Bench, nsd_id: str, vim_id: str, runs: int) -> dict[str, Any]:
    # Critical path of an NS instantiation on a VIM whose only latency is the server boot:
    # the VNFs of one dependency layer can deploy side by side, each VNF's servers boot side
    # by side, and a layer waits for the one before it; so the least wall time the structure
    # allows is (number of dependency layers) x (boot latency). The synthetic NS has no
    # dependencies (one layer), so its critical path is one boot: 1 s. Everything above that
    # is nfvo's own time: planning, placement, checkpoints, VIM calls, status polls. The
    # ratio uses the time until the server recorded COMPLETED (``statusEnteredTime``), not
    # until this script's next status poll saw it (also reported, ``observed_wall_s_*``).
    layers = 1
    critical = layers * BOOT_S
    got = [bench.instantiate(nsd_id, vim_id) for _ in range(runs)]
    walls = [g["wall_s_server"] for g in got]
    wall = statistics.median(walls)
    return {
        "observed_wall_s_median": round(statistics.median(g["wall_s"] for g in got), 3),
        "vnfs": 8,
        "vdus": 16,
        "boot_latency_s": BOOT_S,
        "dependency_layers": layers,
        "critical_path_s": critical,
        "wall_s_median": round(wall, 3),
        "wall_s_runs": [round(w, 3) for w in walls],
        "vnfs_not_instantiated_runs": [g["vnfs_not_instantiated"] for g in got],
        "ratio": round(wall / critical, 3),
        "target_ratio": TARGET_CRITICAL_PATH_RATIO,
        "met": wall / critical <= TARGET_CRITICAL_PATH_RATIO,
    }


def run_database(kind: str, pg_url: str | None, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, database(kind, pg_url, Path(tmp)) as url:
        server = Server(url, Path(tmp) / "data")
        try:
            return _measure(Bench(server), args)
        finally:
            server.close()


def _measure(bench: Bench, args: argparse.Namespace) -> dict[str, Any]:
    c = bench.c
    for name in ("vnf-web", "vnf-db"):
        _onboard(c, "vnf", build_sample(name))
    _onboard(c, "nsd", build_sample("ns-webapp"))
    vnfd_id = str(uuid.uuid4())
    _onboard(c, "vnf", vnf_package(vnfd_id, vdus=2, instances=1))
    sizes = sorted({n for n in (*SIZES, 20, 8) if n <= args.max_vnfs or n in (20, 8)})
    nsds = {}
    for n in sizes:
        nsds[n] = str(uuid.uuid4())
        _onboard(c, "nsd", nsd_package(nsds[n], vnfd_id, profiles=n))
    fast = _vim(c, "fast", 0)
    slow = _vim(c, "slow", BOOT_S * 1000)
    # warm-up (image uploads, first-call caches), then calibrate on its finished operation
    for nsd_id in (NSD_WEBAPP_ID, nsds[1]):
        bench.instantiate(nsd_id, fast)
    warm = bench.instantiate(nsds[1], slow)
    bench.calibrate(warm["location"])

    sample = _median_runs(bench, NSD_WEBAPP_ID, fast, args.runs)
    ns40 = _median_runs(bench, nsds[20], fast, args.runs)
    part_a = {
        "sample_ns": sample,
        "ns_20_vnfs_x_2_vdus": ns40,
        "targets_ms_per_vdu": {"sample": 10.0, "ns_20_vnfs_x_2_vdus": 5.0},
        "met": sample["cpu_ms_per_vdu_median"] <= TARGETS["sample_ms_per_vdu"]
        and ns40["cpu_ms_per_vdu_median"] <= TARGETS["ns_40_vdus_ms_per_vdu"],
    }
    b_sizes = {n: nsds[n] for n in SIZES if n <= args.max_vnfs}
    return {
        "calibration": {
            "idle_cpu_ms_per_s": round(bench.idle_cpu_per_s * 1000, 2),
            "cpu_ms_per_status_poll": round(bench.poll_cpu_s * 1000, 3),
        },
        "a_cpu_per_vdu": part_a,
        "b_cpu_per_ns": part_b(bench, b_sizes, fast, args.runs),
        "c_critical_path": part_c(bench, nsds[8], slow, args.runs),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3, help="runs per figure (median)")
    ap.add_argument(
        "--max-vnfs", type=int, default=250, help="skip (b) sizes above this (e.g. 100)"
    )
    ap.add_argument(
        "--pg-url",
        default=os.environ.get("NFVO_TEST_DATABASE_URL"),
        help="PostgreSQL URL (default: NFVO_TEST_DATABASE_URL); a throw-away schema is used",
    )
    ap.add_argument("--no-pg", action="store_true", help="SQLite only")
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--db-url", help=argparse.SUPPRESS)
    ap.add_argument("--data-dir", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(args.db_url, args.data_dir)
        return
    t0 = time.perf_counter()
    out: dict[str, Any] = {"runs": args.runs, "max_vnfs": args.max_vnfs}
    out["sqlite"] = run_database("sqlite", None, args)
    if args.pg_url and not args.no_pg:
        out["postgresql"] = run_database("postgresql", args.pg_url, args)
    else:
        out["postgresql"] = "skipped: set NFVO_TEST_DATABASE_URL or give --pg-url"
    out["total_wall_s"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
