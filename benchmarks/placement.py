"""Placement benchmark: first-fit decreasing on 1,000 hosts x 5,000 demands.

Prints one JSON object: the median solve time of 5 runs, the objective (hosts used), the
lower bound and the gap; also a run with anti-affinity groups and zone pins, and one
where the hosts (32 vCPU each) barely hold the demands.
Usage: python benchmarks/placement.py [--hosts N] [--demands M] [--runs R]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time

from nfvo.optimizer import Demand, HostCapacity, PlacementRule, place

FLAVORS = [(1, 2048, 10), (2, 4096, 20), (4, 8192, 40), (8, 16384, 80), (16, 32768, 160)]


def problem(n_hosts: int, n_demands: int, seed: int = 7, rules: bool = False, tight: bool = False):
    rng = random.Random(seed)
    zones = [f"az{i}" for i in range(4)]
    cpu, ram = (32.0, 65536.0) if tight else (64 * 4.0, 256 * 1024 * 1.5)
    hosts = [
        HostCapacity(f"host-{i:05d}", zones[i % 4], cpu, ram, 2000, True) for i in range(n_hosts)
    ]
    demands = []
    for i in range(n_demands):
        cpu, ram, disk = rng.choice(FLAVORS)
        group = f"vnf-{i // 5}" if rules else None
        zone = zones[rng.randrange(4)] if rules and rng.random() < 0.2 else None
        demands.append(Demand(f"d-{i:06d}", cpu, ram, disk, zone=zone, group=group))
    placement_rules = (
        [PlacementRule("anti_affinity", "host", [f"vnf-{g}"]) for g in range(n_demands // 5)]
        if rules
        else []
    )
    return hosts, demands, placement_rules


def measure(hosts, demands, rules, runs: int) -> dict:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = place(hosts, demands, rules)
        times.append(time.perf_counter() - start)
    assert result is not None
    return {
        "solve_time_s_median": round(statistics.median(times), 4),
        "solve_time_s_runs": [round(t, 4) for t in times],
        "placed": len(result.assignments),
        "unplaced": len(result.unplaced),
        "objective": result.objective,
        "lower_bound": result.lower_bound,
        "gap": round(result.gap, 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--demands", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    out = {"algorithm": "first_fit", "hosts": args.hosts, "demands": args.demands}
    out["plain"] = measure(*problem(args.hosts, args.demands), args.runs)
    out["anti_affinity_and_zone_pins"] = measure(
        *problem(args.hosts, args.demands, rules=True), args.runs
    )
    out["tight_capacity"] = measure(*problem(args.hosts, args.demands, tight=True), args.runs)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
