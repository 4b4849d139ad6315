"""What recording a placement decision costs: building the record of one VIM (assignment and
explanation per VDU instance, ``VimDecision.to_dict``) and its JSON size, for NS of 50, 500 and
5,000 VDU instances placed on 1,000 hosts (the optimizer's default strategy).

Prints one JSON object per size: VDU instances, optimizer seconds, record seconds (median of
5), record bytes.
Usage: python benchmarks/placement_record.py
"""

from __future__ import annotations

import json
import statistics
import time

from nfvo import optimizer
from nfvo.lcm.placement import VimDecision
from nfvo.optimizer.model import Demand, HostCapacity, PlacementRule

SIZES = (50, 500, 5000)
FLAVOURS = [(1, 2048, 10), (2, 4096, 20), (4, 8192, 40), (8, 16384, 80)]


def _problem(n: int) -> tuple[list[HostCapacity], list[Demand], list[PlacementRule]]:
    hosts = [
        HostCapacity.from_inventory(
            f"host-{i:04d}", f"az{i % 4}", (64, 262144, 1500), (1, 1, 1), (0, 0, 0)
        )
        for i in range(1000)
    ]
    demands, rules = [], []
    for i in range(n):
        vnf, vdu = f"vnf-{i // 9:04d}", f"vdu{(i % 9) // 3}"
        cpu, ram, disk = FLAVOURS[i % len(FLAVOURS)]
        demands.append(
            Demand(f"{vnf}/{vdu}-{i % 3}", cpu, ram, disk, group=f"{vnf}/{vdu}", vnf_id=vnf)
        )
    for group in sorted({d.group for d in demands if d.group}):
        rules.append(PlacementRule("anti_affinity", "host", [group], f"{group}-apart"))
    return hosts, demands, rules


def main() -> None:
    for n in SIZES:
        hosts, demands, rules = _problem(n)
        start = time.perf_counter()
        result = optimizer.place(hosts, demands, rules)
        solve = time.perf_counter() - start
        decision = VimDecision("vim", result.algorithm, result, {h.name: h.zone for h in hosts})
        times = []
        for _ in range(5):
            start = time.perf_counter()
            record = decision.to_dict()
            times.append(time.perf_counter() - start)
        print(
            json.dumps(
                {
                    "vduInstances": n,
                    "placed": len(result.assignments),
                    "solveS": round(solve, 4),
                    "recordS": round(statistics.median(times), 5),
                    "recordBytes": len(json.dumps(record)),
                }
            )
        )


if __name__ == "__main__":
    main()
