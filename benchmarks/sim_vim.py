"""Benchmark of the sim VIM driver; prints one JSON object.

    python benchmarks/sim_vim.py [--hosts 1000] [--zones 4] [--servers 400]

Measures the time to create a VIM's state for ``--hosts`` hosts, the median ``list_hosts``
time, and server creates per second from 1 and from 8 threads (each on a fresh VIM).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from nfvo.vim.base import ServerSpec
from nfvo.vim.sim import SimVim


def _vim(data_dir: Path, vim_id: str, hosts: int, zones: int) -> SimVim:
    return SimVim(vim_id=vim_id, config={"hosts": hosts, "zones": zones}, data_dir=data_dir)


def _creates_per_s(data_dir: Path, threads: int, servers: int, hosts: int, zones: int) -> float:
    vim = _vim(data_dir, f"rate-{threads}", hosts, zones)
    vim.check()

    def create(i: int) -> None:
        vim.create_server(ServerSpec(key=f"k{i}", name=f"s{i}", flavor="m1.small"))

    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(create, range(servers)))
    elapsed = time.perf_counter() - start
    assert len(vim.list_servers()) == servers
    vim.close()
    return servers / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--zones", type=int, default=4)
    parser.add_argument("--servers", type=int, default=400)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        _vim(data_dir, "warmup", 1, 1).check()  # imports and first-use costs
        start = time.perf_counter()
        vim = _vim(data_dir, "bench", args.hosts, args.zones)
        vim.check()
        create_s = time.perf_counter() - start
        times = []
        for _ in range(20):
            t = time.perf_counter()
            vim.list_hosts()
            times.append(time.perf_counter() - t)
        for i in range(args.servers):
            vim.create_server(ServerSpec(key=f"f{i}", name=f"f{i}", flavor="m1.small"))
        loaded = []
        for _ in range(20):
            t = time.perf_counter()
            vim.list_hosts()
            loaded.append(time.perf_counter() - t)
        vim.close()
        result = {
            "hosts": args.hosts,
            "zones": args.zones,
            "create_vim_s": round(create_s, 4),
            "list_hosts_median_ms": round(statistics.median(times) * 1000, 2),
            f"list_hosts_median_ms_with_{args.servers}_servers": round(
                statistics.median(loaded) * 1000, 2
            ),
            "server_creates_per_s_1_thread": round(
                _creates_per_s(data_dir, 1, args.servers, args.hosts, args.zones), 1
            ),
            "server_creates_per_s_8_threads": round(
                _creates_per_s(data_dir, 8, args.servers, args.hosts, args.zones), 1
            ),
        }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
