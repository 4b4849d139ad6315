"""Seeded placement instances shaped like the benchmark families (for tests and quick
measurements): identical hosts of 64 vCPU, 256 GiB RAM, 1500 GiB disk; VDUs grouped as
NS -> 1-4 VNFs -> 1-3 VDU types x 1-4 replicas."""

from __future__ import annotations

import math
import random

from nfvo.optimizer import Demand, HostCapacity, PlacementRule

HOST = (64.0, 262144.0, 1500.0)
GIB = 1024
FLAVOURS = [
    (1, 4 * GIB),
    (2, 8 * GIB),
    (4, 16 * GIB),
    (8, 32 * GIB),
    (4, 4 * GIB),
    (8, 8 * GIB),
    (16, 16 * GIB),
    (32, 32 * GIB),
    (2, 16 * GIB),
    (4, 32 * GIB),
    (8, 64 * GIB),
]
ZONE_SKEW = (0.45, 0.30, 0.15, 0.10)


def _size(family: str, rng: random.Random) -> tuple[float, float, float]:
    if family == "hard":
        a = rng.uniform(0.15, 0.6)
        r = min(0.95, max(0.05, 0.75 - a + rng.uniform(-0.1, 0.1)))
        return (float(round(a * HOST[0])), float(round(r * HOST[1])), 20.0)
    cpu, ram = rng.choice(FLAVOURS)
    return (float(cpu), float(ram), float(10 * cpu))


def instance(
    family: str, n: int, seed: int = 0, slack: float = 1.3
) -> tuple[list[HostCapacity], list[Demand], list[PlacementRule]]:
    """About ``n`` VDUs of ``family`` (flavour, hard, affinity, zones) and enough hosts."""
    rng = random.Random(f"{family}-{n}-{seed}")
    demands: list[Demand] = []
    rules: list[PlacementRule] = []
    zones = family == "zones"
    k = 0
    while len(demands) < n:
        ns = f"ns{k}"
        k += 1
        for v in range(rng.randint(1, 4)):
            vnf = f"{ns}-vnf{v}"
            zone = None
            if zones and rng.random() < 0.4:
                zone = rng.choices(["az0", "az1", "az2", "az3"], ZONE_SKEW)[0]
            for t in range(rng.randint(1, 3)):
                size = _size(family, rng)
                group = f"{vnf}-vdu{t}"
                count = rng.randint(1, 4)
                for r in range(count):
                    demands.append(
                        Demand(f"{group}-{r}", *size, zone=zone, group=group, vnf_id=vnf, ns_id=ns)
                    )
                if family == "affinity" and count >= 2 and rng.random() < 0.4:
                    rules.append(PlacementRule("anti_affinity", "host", [group], label=group))
                if zones and count >= 2 and zone is None and rng.random() < 0.2:
                    rules.append(PlacementRule("anti_affinity", "zone", [group], label=group))
                if family == "affinity" and count == 1 and rng.random() < 0.1 and len(demands) > 1:
                    pair = [demands[-2].id, demands[-1].id]
                    if demands[-2].group != group:
                        rules.append(PlacementRule("affinity", "host", pair))
    totals = [sum(d.size()[i] for d in demands) for i in range(3)]
    bound = max(math.ceil(t / c) for t, c in zip(totals, HOST, strict=True))
    count = max(4, math.ceil(bound * slack) + 4)
    hosts = [
        HostCapacity(
            f"host-{i:05d}",
            f"az{i % 4}" if zones else "az0",
            *HOST,
            vcpus_total=HOST[0],
            ram_mib_total=HOST[1],
            disk_gib_total=HOST[2],
        )
        for i in range(count)
    ]
    return hosts, demands, rules
