"""A brute force on ``POST /oauth2/token`` against a real nfvo server, and what it does to
everyone else.

Starts ``nfvo serve`` in a process of its own on loopback (embedded SQLite, or
NFVO_DATABASE_URL), then:

1. times an unrelated authenticated GET (``/vnfpkgm/v2/vnf_packages``) with nothing else
   running (the baseline);
2. sends wrong secrets at ``--rate`` requests a second (open loop, one client id and address,
   as an attacker on one host would) and times the same GET meanwhile: p50/p99, the ratio to the
   baseline, and how the attack was answered (401 until the limit, then 429);
3. on a second server with the failure limits lifted (so every attempt is hashed), compares
   the time of a wrong secret for an existing client id and for unknown ones (enumeration), and
   the GET latency while every attempt of the brute force costs a full hash.

Prints JSON. The acceptance figure is ``under_attack.get_p99_ms`` (≤ 50 ms).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

ADMIN_PASSWORD = "bench-admin-password"
GET_PATH = "/vnfpkgm/v2/vnf_packages"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``nfvo serve`` in a child process, stopped on exit."""

    def __init__(self, data_dir: Path, env: dict[str, str]) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        full_env = {**os.environ, "NFVO_ADMIN_PASSWORD": ADMIN_PASSWORD, **env}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "nfvo.cli", "serve", "--port", str(self.port)]
            + ["--data-dir", str(data_dir), "--log-level", "warning"],
            env=full_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(self.base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.stop()
                raise RuntimeError("nfvo serve did not start")
            time.sleep(0.1)

    def token(self, user: str = "admin", secret: str = ADMIN_PASSWORD) -> str:
        r = httpx.post(
            self.base + "/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=(user, secret),
            timeout=30,
        )
        r.raise_for_status()
        return r.json()["access_token"]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _latencies(server: Server, token: str, seconds: float, rate: float) -> list[float]:
    """GET_PATH at ``rate`` a second for ``seconds``; each latency in ms."""
    out: list[float] = []
    with httpx.Client(
        base_url=server.base, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as c:
        c.get(GET_PATH).raise_for_status()  # connection up
        start = time.monotonic()
        n = 0
        while time.monotonic() - start < seconds:
            t0 = time.perf_counter()
            r = c.get(GET_PATH)
            out.append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 200, r.text
            n += 1
            pause = start + n / rate - time.monotonic()
            if pause > 0:
                time.sleep(pause)
    return out


def _attack(base: str, rate: float, ids: list[str], stop: Any, result: Any) -> None:
    """The attacker, in a process of its own (so that its threads do not share an interpreter
    lock with the client timing the GETs): wrong secrets at ``rate`` a second, open loop (a
    slow answer does not slow the attack), until ``stop`` is set; puts (sent, statuses)."""
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)

    def one(client: httpx.Client, i: int) -> None:
        try:
            code = client.post(
                "/oauth2/token",
                data={"grant_type": "client_credentials"},
                auth=(ids[i % len(ids)], f"guess-{i}"),
            ).status_code
        except httpx.HTTPError:
            code = 0
        with lock:
            statuses[code] += 1

    sent = 0
    with httpx.Client(base_url=base, timeout=30, limits=limits) as client:
        workers: list[threading.Thread] = []
        start = time.monotonic()
        while not stop.is_set():
            t = threading.Thread(target=one, args=(client, sent), daemon=True)
            t.start()
            workers.append(t)
            sent += 1
            pause = start + sent / rate - time.monotonic()
            if pause > 0:
                stop.wait(pause)
            workers = [w for w in workers if w.is_alive()]
        for w in workers:
            w.join(30)
    result.put((sent, dict(statuses)))


class BruteForce:
    """Runs :func:`_attack` in a child process for the duration of a ``with`` block."""

    def __init__(self, server: Server, rate: float, client_ids: list[str]) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._stop, self._result = ctx.Event(), ctx.Queue()
        self._proc = ctx.Process(
            target=_attack, args=(server.base, rate, client_ids, self._stop, self._result)
        )
        self.sent = 0
        self.statuses: dict[int, int] = {}

    def __enter__(self) -> BruteForce:
        self._proc.start()
        time.sleep(1.0)  # the child is up and attacking before the timing starts
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.sent, self.statuses = self._result.get(timeout=60)
        self._proc.join(30)


def _summary(ms: list[float]) -> dict[str, Any]:
    return {
        "samples": len(ms),
        "get_p50_ms": round(statistics.median(ms), 2),
        "get_p99_ms": round(_pct(ms, 0.99), 2),
        "get_max_ms": round(max(ms), 2),
    }


def _enumeration(server: Server, rounds: int) -> dict[str, Any]:
    """Wrong-secret answer time for an existing client id vs unknown ones, interleaved."""
    times: dict[str, list[float]] = {"existing": [], "unknown": []}
    with httpx.Client(base_url=server.base, timeout=30) as c:
        for i in range(rounds):
            for kind, cid in (("existing", "admin"), ("unknown", f"nobody-{i}")):
                t0 = time.perf_counter()
                r = c.post(
                    "/oauth2/token",
                    data={"grant_type": "client_credentials"},
                    auth=(cid, "not-the-secret"),
                )
                times[kind].append((time.perf_counter() - t0) * 1000)
                assert r.status_code == 401, r.text
    known, unknown = statistics.median(times["existing"]), statistics.median(times["unknown"])
    return {
        "rounds": rounds,
        "existing_id_median_ms": round(known, 2),
        "unknown_id_median_ms": round(unknown, 2),
        "ratio": round(known / unknown, 3),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rate", type=float, default=50.0, help="wrong secrets a second")
    ap.add_argument("--seconds", type=float, default=20.0, help="length of each phase")
    ap.add_argument("--get-rate", type=float, default=50.0, help="timed GETs a second")
    ap.add_argument("--rounds", type=int, default=30, help="enumeration samples per kind")
    args = ap.parse_args()
    out: dict[str, Any] = {"rate_per_s": args.rate, "phase_seconds": args.seconds}
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp) / "guarded", {})
        try:
            token = server.token()
            base = _latencies(server, token, args.seconds, args.get_rate)
            out["baseline"] = _summary(base)
            with BruteForce(server, args.rate, ["admin"]) as attack:
                under = _latencies(server, token, args.seconds, args.get_rate)
            out["under_attack"] = _summary(under) | {
                "attack_requests": attack.sent,
                "attack_statuses": {str(k): v for k, v in sorted(attack.statuses.items())},
                "p99_ratio_to_baseline": round(_pct(under, 0.99) / _pct(base, 0.99), 2),
            }
            # the attacked id, from the attacking address, right after: still locked out
            out["under_attack"]["right_secret_right_after"] = httpx.post(
                server.base + "/oauth2/token",
                data={"grant_type": "client_credentials"},
                auth=("admin", ADMIN_PASSWORD),
            ).status_code
        finally:
            server.stop()
        lifted = {
            "NFVO_LOGIN_FAILURES_PER_CLIENT": "1000000",
            "NFVO_LOGIN_FAILURES_PER_ADDRESS": "1000000",
        }
        server = Server(Path(tmp) / "unlimited", lifted)
        try:
            out["enumeration"] = _enumeration(server, args.rounds)
            token = server.token()
            with BruteForce(server, args.rate, ["admin", "nobody"]) as attack:
                hashed = _latencies(server, token, args.seconds, args.get_rate)
            out["every_attempt_hashed"] = _summary(hashed) | {
                "attack_requests": attack.sent,
                "attack_statuses": {str(k): v for k, v in sorted(attack.statuses.items())},
            }
        finally:
            server.stop()
    out["acceptance_p99_le_50ms"] = out["under_attack"]["get_p99_ms"] <= 50.0
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
