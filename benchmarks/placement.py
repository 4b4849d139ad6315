"""Placement benchmark: seeded instance families, proven bounds, baselines, independent check.

For each family and size, prints one JSON line: hosts used by the default strategy
(``optimizer.place`` with its default algorithm), the proven lower bounds (volume,
configuration LP, best), the gap to the best bound, seconds (median of ``--runs`` for small
sizes), violations found by ``placement_check`` (independent of the optimizer), and three
baselines placed in the same run on the same instance: Nova-like spread (most free RAM),
Nova-like stack (least free RAM that fits), and first-fit decreasing; each with hosts used and
its ratio to the default. At 100 and 1,000 VDUs ``solve_exact`` runs too (``--mip-seconds``)
when it is available. A final line summarises the largest size per family against the targets.

All hosts are identical (64 vCPU, 256 GiB, 1500 GiB usable). VDUs come grouped as NS -> 1-4
VNFs -> 1-3 VDU types x 1-4 replicas. Families: ``flavour`` (11 Nova-like flavours),
``hard`` (anti-correlated vCPU/RAM shares), ``affinity`` (flavour + host anti-affinity over
20% of VDUs, affinity pairs over ~5%), ``zones`` (flavour + 4 zones, 40% of VNFs pinned,
zone anti-affinity over 10% of VDUs).

Usage: python benchmarks/placement.py [--families flavour,hard] [--sizes 100,1000,10000]
       [--seed 7] [--mip-seconds 60] [--budget 5] [--runs 3] [--quick]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from placement_check import check, summary  # noqa: E402

from nfvo.optimizer import place  # noqa: E402
from nfvo.optimizer.bounds import best_bound  # noqa: E402
from nfvo.optimizer.model import Demand, HostCapacity, PlacementRule  # noqa: E402

HOST = (64.0, 262144.0, 1500.0)
ZONES = ("az1", "az2", "az3", "az4")
ZONE_WEIGHTS = (0.45, 0.30, 0.15, 0.10)
# name: (vcpus, ram_mib, disk_gib); m1 general (4 GiB/vCPU, like the host), c1 compute-heavy
# (2 GiB/vCPU), r1 RAM-heavy (8 GiB/vCPU); none larger than half a host.
FLAVOURS = {
    "m1.small": (1, 4096, 20),
    "m1.medium": (2, 8192, 40),
    "m1.large": (4, 16384, 80),
    "m1.xlarge": (8, 32768, 160),
    "m1.2xlarge": (16, 65536, 320),
    "c1.large": (4, 8192, 40),
    "c1.xlarge": (8, 16384, 80),
    "c1.4xlarge": (32, 65536, 160),
    "r1.large": (2, 16384, 40),
    "r1.xlarge": (4, 32768, 80),
    "r1.4xlarge": (16, 131072, 160),
}
FAMILIES = ("flavour", "hard", "affinity", "zones")


@dataclass
class Instance:
    """One generated problem: identical hosts, demands in NS/VNF/VDU groups, rules."""

    family: str
    hosts: list[HostCapacity]
    demands: list[Demand]
    rules: list[PlacementRule]
    vnfs: list[list[str]]  # per VNF, its VDU groups


def _hard_size(rng: random.Random) -> tuple[float, float, float]:
    a = rng.uniform(0.15, 0.6)
    r = min(0.95, max(0.02, 0.75 - a + rng.uniform(-0.1, 0.1)))
    return (float(max(1, round(a * HOST[0]))), round(r * HOST[1] / 256) * 256.0, 20.0)


def _vdus(family: str, n: int, rng: random.Random) -> tuple[list[Demand], list[list[str]]]:
    """n demands as NS -> 1-4 VNFs -> 1-3 VDU types x 1-4 replicas (the last one cut to n)."""
    demands: list[Demand] = []
    vnfs: list[list[str]] = []
    ns = 0
    while len(demands) < n:
        for v in range(rng.randint(1, 4)):
            vnf_id, groups = f"ns{ns}-vnf{v}", []
            for t in range(rng.randint(1, 3)):
                size = _hard_size(rng) if family == "hard" else rng.choice(list(FLAVOURS.values()))
                group = f"{vnf_id}-vdu{t}"
                groups.append(group)
                for r in range(rng.randint(1, 4)):
                    if len(demands) < n:
                        demands.append(
                            Demand(
                                f"{group}-{r}", *size, group=group, vnf_id=vnf_id, ns_id=f"ns{ns}"
                            )
                        )
            vnfs.append(groups)
        ns += 1
    return demands, vnfs


def _replica_sets(demands: list[Demand]) -> dict[str, list[Demand]]:
    sets: dict[str, list[Demand]] = {}
    for d in demands:
        sets.setdefault(d.group or d.id, []).append(d)
    return sets


def _affinity_rules(demands: list[Demand], rng: random.Random) -> list[PlacementRule]:
    sets = [(g, ds) for g, ds in _replica_sets(demands).items() if 2 <= len(ds) <= 4]
    rng.shuffle(sets)
    rules, covered, taken = [], 0, set()
    for group, ds in sets:
        if covered >= 0.2 * len(demands):
            break
        rules.append(PlacementRule("anti_affinity", "host", [group], label=f"aa-{group}"))
        covered += len(ds)
        taken.update(d.id for d in ds)
    pool = [d.id for d in demands if d.id not in taken]
    rng.shuffle(pool)
    for k in range(int(0.05 * len(demands)) // 2):
        a, b = pool[2 * k], pool[2 * k + 1]
        rules.append(PlacementRule("affinity", "host", [a, b], label=f"af-{a}-{b}"))
    return rules


def _zone_rules(
    demands: list[Demand], vnfs: list[list[str]], rng: random.Random
) -> tuple[list[Demand], list[PlacementRule]]:
    pinned_groups: dict[str, str] = {}
    for groups in vnfs:
        if rng.random() < 0.4:
            zone = rng.choices(ZONES, weights=ZONE_WEIGHTS)[0]
            pinned_groups.update((g, zone) for g in groups)
    out = [
        Demand(
            d.id,
            d.vcpus,
            d.ram_mib,
            d.disk_gib,
            zone=pinned_groups.get(d.group or ""),
            group=d.group,
            vnf_id=d.vnf_id,
            ns_id=d.ns_id,
        )
        for d in demands
    ]
    sets = [
        (g, ds)
        for g, ds in _replica_sets(out).items()
        if 2 <= len(ds) <= len(ZONES) and g not in pinned_groups
    ]
    rng.shuffle(sets)
    rules, covered = [], 0
    for group, ds in sets:
        if covered >= 0.1 * len(out):
            break
        rules.append(PlacementRule("anti_affinity", "zone", [group], label=f"zaa-{group}"))
        covered += len(ds)
    return out, rules


def _volume(demands: list[Demand]) -> float:
    """Hosts by volume alone: max over dimensions of the total over one host's room."""
    return max((sum(d.size()[k] for d in demands) / HOST[k] for k in range(3)), default=0.0)


def _zone_hosts(demands: list[Demand], factor: float) -> dict[str, int]:
    """Per zone: ``factor`` x (its pinned volume + a quarter of the unpinned volume), plus 2."""
    free = _volume([d for d in demands if d.zone is None]) / len(ZONES)
    return {
        z: math.ceil(factor * (_volume([d for d in demands if d.zone == z]) + free)) + 2
        for z in ZONES
    }


def generate(family: str, n: int, seed: int) -> Instance:
    """The seeded instance of ``family`` with ``n`` VDUs (hosts: 1.5x the volume bound)."""
    rng = random.Random(f"{family}-{n}-{seed}")
    demands, vnfs = _vdus(family, n, rng)
    rules: list[PlacementRule] = []
    if family == "affinity":
        rules = _affinity_rules(demands, rng)
    elif family == "zones":
        demands, rules = _zone_rules(demands, vnfs, rng)
    factor = 2.0 if family == "hard" else 1.5
    if family == "zones":
        counts = _zone_hosts(demands, factor)
    else:
        counts = {ZONES[0]: math.ceil(factor * _volume(demands)) + 4}
    # Zones interleaved in host order (h00000 in az1, h00001 in az2, ...) as racks usually are.
    zone_of = [z for k in range(max(counts.values())) for z in counts if k < counts[z]]
    hosts = [
        HostCapacity(
            f"h{i:05d}",
            zone,
            *HOST,
            vcpus_total=HOST[0],
            ram_mib_total=HOST[1],
            disk_gib_total=HOST[2],
        )
        for i, zone in enumerate(zone_of)
    ]
    return Instance(family, hosts, demands, rules, vnfs)


class _Units:
    """Demands merged by host-affinity (one unit per set that must share a host)."""

    def __init__(self, demands: list[Demand], rules: list[PlacementRule]):
        ids = {d.id for d in demands}
        groups: dict[str, list[str]] = {}
        for d in demands:
            if d.group is not None:
                groups.setdefault(d.group, []).append(d.id)
        self.members = [
            sorted({i for m in r.members for i in ([m] if m in ids else groups.get(m, []))})
            for r in rules
        ]
        parent = {d.id: d.id for d in demands}

        def find(x: str) -> str:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for r, members in zip(rules, self.members, strict=True):
            if r.kind == "affinity" and r.scope == "host" and members:
                for m in members[1:]:
                    parent[find(m)] = find(members[0])
        by_root: dict[str, list[Demand]] = {}
        for d in demands:
            by_root.setdefault(find(d.id), []).append(d)
        self.units = list(by_root.values())
        unit_of = {d.id: u for u, ds in enumerate(self.units) for d in ds}
        self.rules_of: list[list[int]] = [[] for _ in self.units]
        for k, (r, members) in enumerate(zip(rules, self.members, strict=True)):
            if r.kind == "affinity" and r.scope == "host":
                continue
            for u in {unit_of[m] for m in members}:
                self.rules_of[u].append(k)
        self.size = np.array([np.sum([d.size() for d in ds], axis=0) for ds in self.units])


def _baseline(inst: Instance, policy: str) -> dict[str, str]:
    """Nova-like greedy placement, rules kept: ``spread``, ``stack`` or ``ffd``.

    spread: most free RAM first (Nova's default RAM weigher); stack: least free RAM that fits
    (the weigher's negative multiplier); ffd: largest dominant share first, first host (in
    inventory order) that fits. Every rule of the instance is kept; what fits nowhere is left
    unplaced (and counted), as Nova's scheduler would answer NoValidHost.
    """
    hosts, rules = inst.hosts, inst.rules
    u = _Units(inst.demands, rules)
    free = np.array([h.free() for h in hosts], dtype=float)
    zone_names = sorted({h.zone for h in hosts})
    zone = np.array([zone_names.index(h.zone) for h in hosts])
    names = np.array([h.name for h in hosts])
    up = np.array([h.schedulable for h in hosts])
    used: list[set[int]] = [set() for _ in rules]  # host or zone indexes per rule
    # Zone-pinned units first (else unpinned ones fill the pinned zones), request order within.
    pinned = [any(d.zone is not None for d in ds) for ds in u.units]
    order = sorted(range(len(u.units)), key=lambda k: not pinned[k])
    if policy == "ffd":
        order.sort(key=lambda k: (not pinned[k], -float(np.max(u.size[k] / np.array(HOST)))))
    out: dict[str, str] = {}
    for k in order:
        mask = np.all(free >= u.size[k] - 1e-9, axis=1)
        for d in u.units[k]:
            if d.zone is not None:
                mask &= zone == zone_names.index(d.zone) if d.zone in zone_names else False
            if d.host is not None:
                mask &= names == d.host
            if d.exclude_hosts:
                mask &= ~np.isin(names, list(d.exclude_hosts))
            if d.exclude_zones:
                mask &= ~np.isin(
                    zone, [zone_names.index(z) for z in d.exclude_zones if z in zone_names]
                )
        mask &= up
        for r in u.rules_of[k]:
            rule, seen = rules[r], used[r]
            if not seen:
                continue
            keys = np.fromiter(seen, dtype=int)
            if rule.scope == "host":
                if rule.kind == "anti_affinity":
                    mask[keys] = False
            elif rule.kind == "anti_affinity":
                mask &= ~np.isin(zone, keys)
            else:
                mask &= np.isin(zone, keys)
        cand = np.flatnonzero(mask)
        if not len(cand):
            continue
        if policy == "spread":
            i = int(cand[np.argmax(free[cand, 1])])
        elif policy == "stack":
            i = int(cand[np.argmin(free[cand, 1])])
        else:
            i = int(cand[0])
        free[i] -= u.size[k]
        for r in u.rules_of[k]:
            used[r].add(i if rules[r].scope == "host" else int(zone[i]))
        out.update((d.id, hosts[i].name) for d in u.units[k])
    return out


def _exact(inst: Instance, seconds: float) -> dict[str, Any]:
    try:
        from nfvo.optimizer.exact import solve_exact
    except ImportError:
        return {"status": "exact solver not available"}
    start = time.perf_counter()
    res = solve_exact(inst.hosts, inst.demands, inst.rules, seconds)
    proven = getattr(res, "bound", getattr(res, "dual_bound", None))  # either field name
    return {
        "objective": res.objective,
        "bound": proven,
        "status": res.status,
        "seconds": round(time.perf_counter() - start, 3),
    }


def _quiet_highs() -> None:
    """HiGHS prints a banner on stdout once per process: print it to nowhere, keep JSON clean."""
    import highspy

    sys.stdout.flush()
    saved = os.dup(1)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(null)
        os.close(saved)


def _hosts_used(assignments: dict[str, str]) -> int:
    return len(set(assignments.values()))


def _timed_place(inst: Instance, runs: int) -> tuple[Any, float]:
    times, result = [], None
    for _ in range(max(1, runs)):
        start = time.perf_counter()
        result = place(inst.hosts, inst.demands, inst.rules)
        times.append(time.perf_counter() - start)
    return result, statistics.median(times)


def _baselines(inst: Instance, default_hosts: int) -> dict[str, Any]:
    out = {}
    for name in ("spread", "stack", "ffd"):
        start = time.perf_counter()
        assignments = _baseline(inst, name)
        used = _hosts_used(assignments)
        out[name] = {
            "hosts_used": used,
            "unplaced": len(inst.demands) - len(assignments),
            "violations": len(check(inst.hosts, inst.demands, inst.rules, assignments)),
            "seconds": round(time.perf_counter() - start, 3),
            "ratio_to_default": round(used / default_hosts, 4) if default_hosts else None,
        }
    return out


def run_instance(family: str, size: int, args: argparse.Namespace) -> dict[str, Any]:
    """Generate, place with the default strategy and the baselines, bound, check: one row."""
    inst = generate(family, size, args.seed)
    runs = args.runs if size <= 1000 else 1
    result, seconds = _timed_place(inst, runs)
    used = _hosts_used(result.assignments)
    start = time.perf_counter()
    bounds = best_bound(inst.hosts, inst.demands, inst.rules, set(result.assignments), args.budget)
    bound_seconds = time.perf_counter() - start
    violations = check(inst.hosts, inst.demands, inst.rules, result.assignments)
    row: dict[str, Any] = {
        "family": family,
        "size": size,
        "hosts": len(inst.hosts),
        "rules": len(inst.rules),
        "algorithm": result.algorithm,
        "hosts_used": used,
        "unplaced": len(result.unplaced),
        "bounds": {k: v for k, v in bounds.items()},
        "seconds": round(seconds, 4),
        "bound_seconds": round(bound_seconds, 3),
        "violations": len(violations),
        "violation_kinds": summary(violations),
    }
    if not args.quick and size <= 1000:
        exact = _exact(inst, args.mip_seconds)
        row["exact"] = exact
        proven = exact.get("bound")
        if isinstance(proven, int | float) and math.isfinite(proven) and proven > 0:
            row["bounds"]["mip"] = float(math.ceil(proven - 1e-6))  # HiGHS's proven dual bound
        if exact.get("status") == "optimal" and exact.get("objective") is not None:
            row["default_equals_optimum"] = used == round(exact["objective"])
    best = max(row["bounds"].values(), default=0.0)
    row["bounds"]["best"] = best
    row["default_proven_optimal"] = used == best  # the bound itself proves it
    row["gap"] = round((used - best) / used, 4) if used else 0.0
    row["ratio_to_best_bound"] = round(used / best, 4) if best else None
    row["baselines"] = _baselines(inst, used)
    return row


def _beats(row: dict[str, Any], baseline: str) -> bool:
    """Fewer hosts than the baseline while placing at least as many VDUs."""
    other = row["baselines"][baseline]
    return row["unplaced"] <= other["unplaced"] and row["hosts_used"] < other["hosts_used"]


def _beats_or_optimal(row: dict[str, Any], baseline: str) -> bool:
    """Fewer hosts than the baseline, or as few when the default is proven optimal (nothing
    can use fewer hosts than a proven bound, so a baseline can only tie there)."""
    if _beats(row, baseline):
        return True
    other = row["baselines"][baseline]
    proven = row["unplaced"] == 0 and row["hosts_used"] <= row["bounds"]["best"]
    return proven and row["unplaced"] <= other["unplaced"]


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for family in dict.fromkeys(r["family"] for r in rows):
        mine = [r for r in rows if r["family"] == family]
        top = max(mine, key=lambda r: r["size"])
        base = top["baselines"]
        out[family] = {
            "size": top["size"],
            "ratio_to_best_bound": top["ratio_to_best_bound"],
            "ratio_target_met": (top["ratio_to_best_bound"] or 0) <= 1.02,
            "seconds": top["seconds"],
            "seconds_target_met": top["seconds"] <= 5.0,
            "violations": top["violations"],
            "beats_stack": all(_beats(r, "stack") for r in mine),
            "beats_ffd": all(_beats(r, "ffd") for r in mine),
            "beats_or_proven_optimal_vs_stack": all(_beats_or_optimal(r, "stack") for r in mine),
            "beats_or_proven_optimal_vs_ffd": all(_beats_or_optimal(r, "ffd") for r in mine),
            "stack_hosts": base["stack"]["hosts_used"],
            "ffd_hosts": base["ffd"]["hosts_used"],
        }
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", default=",".join(FAMILIES))
    parser.add_argument("--sizes", default=None, help="comma-separated VDU counts")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--mip-seconds", type=float, default=60.0)
    parser.add_argument("--budget", type=float, default=5.0, help="seconds for the bounds")
    parser.add_argument("--runs", type=int, default=3, help="runs per small instance (median)")
    parser.add_argument("--quick", action="store_true", help="sizes 100,1000; no MIP")
    args = parser.parse_args(argv)
    default_sizes = "100,1000" if args.quick else "100,1000,10000"
    sizes = [int(s) for s in (args.sizes or default_sizes).split(",")]
    families = [f for f in args.families.split(",") if f]
    unknown = sorted(set(families) - set(FAMILIES))
    if unknown:
        parser.error(f"unknown families {unknown}; known: {', '.join(FAMILIES)}")
    _quiet_highs()
    rows = []
    for family in families:
        for size in sizes:
            row = run_instance(family, size, args)
            rows.append(row)
            print(json.dumps(row), flush=True)
    print(json.dumps({"summary": _summary(rows)}), flush=True)


if __name__ == "__main__":
    main()
