"""A small stand-in for ``nfvo.optimizer.plans`` (the consolidation / rebalance planners),
installed only when that module is not importable, so the action plan tests exercise the
inventory mapping, storage, API and apply path on their own. Same contract as the real one;
a plain greedy planner: empty the least loaded hosts whose VDU instances all fit elsewhere
(host anti-affinity and zone pins respected; VDUs under a host affinity rule stay)."""

from __future__ import annotations

import importlib
import math
import sys
import time
import types
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Running:
    id: str
    host: str
    vcpus: float
    ram_mib: float
    disk_gib: float
    group: str | None = None
    vnf_id: str | None = None
    ns_id: str | None = None
    zone_pin: str | None = None
    movable: bool = True


@dataclass(frozen=True)
class Migration:
    demand_id: str
    source: str
    target: str
    ns_id: str | None
    vnf_id: str | None


@dataclass
class ActionPlan:
    goal: str
    migrations: list[Migration] = field(default_factory=list)
    hosts_emptied: list[str] = field(default_factory=list)
    emptiable_bound: int | None = None
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)
    unmet: list[str] = field(default_factory=list)
    solve_time_s: float = 0.0


def _members(rule: Any, running: list[Running]) -> set[str]:
    names = set(rule.members)
    return {r.id for r in running if r.id in names or (r.group and r.group in names)}


def consolidate(hosts, running, rules, *, max_migrations=None, time_budget_s=2.0):  # noqa: ANN001, ANN201
    t0 = time.perf_counter()
    running = list(running)
    free = {h.name: list(h.free()) for h in hosts if h.schedulable}
    zone = {h.name: h.zone for h in hosts}
    where = {r.id: r.host for r in running}
    anti = [_members(r, running) for r in rules if r.kind == "anti_affinity"]
    pinned = {m for r in rules if r.kind == "affinity" for m in _members(r, running)}
    own = {h: [0.0, 0.0, 0.0] for h in free}
    for r in running:
        if r.host in own:
            size = (r.vcpus, r.ram_mib, r.disk_gib)
            own[r.host] = [a + b for a, b in zip(own[r.host], size, strict=True)]
    total = {h.name: h.total() for h in hosts}
    load = {h: [t - f for t, f in zip(total[h], free[h], strict=True)] for h in free}
    used = [h for h in free if load[h][0] > 1e-9 or load[h][1] > 1e-9]
    before = len(used)
    cap = max((total[h][0] for h in free), default=1.0)
    bound = before - math.ceil(sum(load[h][0] for h in used) / cap) if used else 0
    emptied: list[str] = []
    moves: list[Migration] = []
    for src in sorted(used, key=lambda h: load[h][0]):
        if any(abs(a - b) > 1e-6 for a, b in zip(load[src], own[src], strict=True)):
            continue  # load nfvo does not own
        vdus = [r for r in running if where[r.id] == src]
        if not vdus or any(not r.movable or r.id in pinned for r in vdus):
            continue
        if max_migrations is not None and len(moves) + len(vdus) > max_migrations:
            continue
        trial_free = {h: list(f) for h, f in free.items()}
        trial_where = dict(where)
        plan: list[Migration] = []
        for r in sorted(vdus, key=lambda r: -r.ram_mib):
            size = (r.vcpus, r.ram_mib, r.disk_gib)
            for dst in sorted(free, key=lambda h: sum(trial_free[h])):
                if dst == src or dst in emptied or dst not in used:
                    continue
                if r.zone_pin and zone[dst] != r.zone_pin:
                    continue
                if not all(a >= b - 1e-9 for a, b in zip(trial_free[dst], size, strict=True)):
                    continue
                if any(
                    r.id in m and any(trial_where[o] == dst for o in m if o != r.id) for m in anti
                ):
                    continue
                trial_free[dst] = [a - b for a, b in zip(trial_free[dst], size, strict=True)]
                trial_where[r.id] = dst
                plan.append(Migration(r.id, src, dst, r.ns_id, r.vnf_id))
                break
            else:
                plan = []
                break
        if plan:
            free, where = trial_free, trial_where
            moves += plan
            emptied.append(src)
            if time.perf_counter() - t0 > time_budget_s:
                break
    return ActionPlan(
        "server_consolidation",
        moves,
        emptied,
        max(bound, 0),
        {"hostsUsed": before},
        {"hostsUsed": before - len(emptied)},
        [],
        time.perf_counter() - t0,
    )


def rebalance(hosts, running, rules, *, target_spread=0.1, max_migrations=None, time_budget_s=2.0):  # noqa: ANN001, ANN201, E501
    return ActionPlan("workload_balancing", [], [], None, {}, {}, [], 0.0)


def install() -> None:
    """Register this module as ``nfvo.optimizer.plans`` unless the real one exists."""
    try:
        importlib.import_module("nfvo.optimizer.plans")
    except ModuleNotFoundError:
        module = types.ModuleType("nfvo.optimizer.plans")
        for name in ("Running", "Migration", "ActionPlan", "consolidate", "rebalance"):
            setattr(module, name, globals()[name])
        sys.modules["nfvo.optimizer.plans"] = module
