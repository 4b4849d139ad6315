"""Goal ``workload_balancing``: level the load of the hosts.

A host's load is the largest share of any dimension in use (vcpus, ram, disk of its usable
total). The spread is max - min load over the schedulable hosts. Each step takes the most
loaded host that has a move which helps: of its movable units, the one and the target whose
move lowers the sum of squared loads most while leaving both hosts below the source's load
before the move (so the sum strictly falls and the plan ends). Steps stop when the spread is
within the target, no move helps, or the migration or time budget is spent.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from nfvo.optimizer.model import HostCapacity, PlacementRule
from nfvo.optimizer.plans.model import GOAL_BALANCING, ActionPlan, Migration, Running
from nfvo.optimizer.plans.state import EPS, PlanState, Unit, metrics


def _share(state: PlanState, hosts: np.ndarray, used: np.ndarray) -> np.ndarray:
    """Load (largest dimension share) of ``hosts`` if they used ``used``."""
    cap = state.cap[hosts]
    return np.where(cap > EPS, used / np.where(cap > EPS, cap, 1.0), 0.0).max(axis=-1)


def _best_move(state: PlanState, source: int, load: np.ndarray) -> tuple[Unit, int, float] | None:
    """The unit on ``source`` and the target whose move lowers the sum of squares most."""
    best: tuple[float, str, str, Unit, int] | None = None
    used = state.cap - state.free
    for unit in state.units_on(source):
        if not unit.movable or any(state.pos[m] != source for m in unit.members):
            continue
        ok = state.fits(unit, exclude=(source,))
        cand = np.nonzero(ok)[0]
        if len(cand) == 0:
            continue
        src_after = float(_share(state, np.array([source]), (used[source] - unit.size)[None, :])[0])
        tgt_after = _share(state, cand, used[cand] + unit.size)
        gain = src_after**2 + tgt_after**2 - load[source] ** 2 - load[cand] ** 2
        helps = (tgt_after < load[source] - 1e-9) & (gain < -1e-12)
        for k in sorted(np.nonzero(helps)[0], key=lambda k: (gain[k], state.names[cand[k]])):
            t = int(cand[k])
            if state.rules_allow(unit, t):
                key = (float(gain[k]), unit.key, state.names[t], unit, t)
                if best is None or key[:3] < best[:3]:
                    best = key
                break
    return None if best is None else (best[3], best[4], best[0])


def _still_stuck(state: PlanState, stuck: set[int], unit: Unit, source: int, dest: int) -> set[int]:
    """Sources that still have no helpful move after ``unit`` went from ``source`` to ``dest``.

    Only ``source`` got lighter, so a stuck host can only have gained a move to it; a unit
    under zone anti-affinity may free a whole zone, and then every host is looked at again.
    """
    if any(m in state.rules.by_id_zone_anti for m in unit.members):
        return set()
    load = state.load()
    return {s for s in stuck - {source, dest} if not _helps_to(state, s, load, source)}


def _helps_to(state: PlanState, source: int, load: np.ndarray, target: int) -> bool:
    """Whether some unit on ``source`` has a helpful move to ``target``."""
    if not state.schedulable[target]:
        return False
    used = state.cap - state.free
    for unit in state.units_on(source):
        if not unit.movable or any(state.pos[m] != source for m in unit.members):
            continue
        if np.any(state.free[target] - unit.size < -EPS):
            continue
        pair = np.array([source, target])
        after = _share(state, pair, np.stack([used[source] - unit.size, used[target] + unit.size]))
        gain = after[0] ** 2 + after[1] ** 2 - load[source] ** 2 - load[target] ** 2
        if after[1] < load[source] - 1e-9 and gain < -1e-12 and state.rules_allow(unit, target):
            return True
    return False


def _level(
    state: PlanState, target: float, max_migrations: int | None, deadline: float
) -> tuple[list[Migration], list[str]]:
    """Apply helpful moves until the spread is within ``target`` or a budget is spent."""
    migrations: list[Migration] = []
    batches = 0
    sched = np.nonzero(state.schedulable)[0]
    stuck: set[int] = set()  # sources with no helpful move, valid until a host frees up
    while len(sched):
        load = state.load()
        spread = float(load[sched].max() - load[sched].min())
        if spread <= target + 1e-12:
            return migrations, []
        why = f"spread {spread:.3f} above {target}: "
        if max_migrations is not None and len(migrations) >= max_migrations:
            return migrations, [why + "migration budget spent"]
        if time.perf_counter() > deadline:
            return migrations, [why + "time budget spent"]
        move, source = None, -1
        for source in sorted(sched, key=lambda h: (-load[h], state.names[h])):
            if int(source) in stuck:
                continue
            move = _best_move(state, int(source), load)
            if move is not None:
                break
            stuck.add(int(source))
        if move is None:
            return migrations, [why + "no single move lowers it further"]
        unit, dest, _ = move
        size = sum(1 for m in unit.members if state.pos[m] != dest)
        if max_migrations is not None and len(migrations) + size > max_migrations:
            return migrations, [why + "migration budget spent"]
        batch = None
        if len(unit.members) > 1:
            batches += 1
            batch = batches
        migrations += state.move(unit, dest, batch)
        stuck = _still_stuck(state, stuck, unit, int(source), dest)
    return migrations, []


def rebalance(
    hosts: Sequence[HostCapacity],
    running: Sequence[Running],
    rules: Sequence[PlacementRule],
    *,
    target_spread: float = 0.1,
    max_migrations: int | None = None,
    time_budget_s: float = 2.0,
) -> ActionPlan:
    """A plan of migrations that brings max - min host load within ``target_spread``.

    Sources and targets are schedulable hosts (empty ones included: they take load); the
    spread is measured over the schedulable hosts. ``unmet`` says why the target was missed.
    """
    start = time.perf_counter()
    state = PlanState(hosts, running, rules)
    before = metrics(state)
    migrations, unmet = _level(state, target_spread, max_migrations, start + time_budget_s)
    return ActionPlan(
        goal=GOAL_BALANCING,
        migrations=migrations,
        hosts_emptied=[],
        emptiable_bound=0,
        before=before,
        after=metrics(state),
        unmet=unmet,
        solve_time_s=time.perf_counter() - start,
    )
