"""Goal ``host_evacuation``: move every running instance off the named hosts.

What an availability window needs before its resource sleeps (and, at creation, whether the
drain can fit at all). The named hosts take nothing; every other schedulable host may take
the instances, which go largest first, each by best fit (the consolidation planner's
target choice, which keeps capacity and every rule at each step), setting one small unit
of a nearly fitting host aside when that makes room. When something does not fit, the
answer names the dimension that is short: the first dimension whose total demand exceeds
the total free room of the other hosts, else the first dimension no single host has enough
of for a unit that found no host.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from nfvo.optimizer.model import DIMS, HostCapacity, PlacementRule
from nfvo.optimizer.plans.consolidate import _Run
from nfvo.optimizer.plans.model import ActionPlan, Running
from nfvo.optimizer.plans.state import EPS, PlanState, metrics

GOAL_EVACUATION = "host_evacuation"


@dataclass
class Evacuation:
    """The plan, and when it cannot empty every host: the short dimension (one of
    ``DIMS``) and the instances left behind."""

    plan: ActionPlan
    short_dimension: str | None = None
    stuck: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        """Whether the migrations empty every named host."""
        return not self.stuck


def _short(state: PlanState, units: list, targets: np.ndarray) -> str:
    """The dimension to blame for ``units`` that found no host among ``targets``."""
    need = np.sum([u.size for u in units], axis=0) if units else np.zeros(3)
    room = np.clip(state.free[targets], 0, None).sum(axis=0) if targets.any() else np.zeros(3)
    for d in range(3):
        if need[d] > room[d] + EPS:
            return DIMS[d]
    for u in units:
        most = state.free[targets].max(axis=0) if targets.any() else np.zeros(3)
        for d in range(3):
            if u.size[d] > most[d] + EPS:
                return DIMS[d]
    return DIMS[int(np.argmax(need / np.where(room > EPS, room, EPS)))]


def evacuate(
    hosts: Sequence[HostCapacity],
    running: Sequence[Running],
    rules: Sequence[PlacementRule],
    *,
    empty: Iterable[str],
    time_budget_s: float = 2.0,
) -> Evacuation:
    """Migrations that move every instance off the hosts named in ``empty`` (in order; each
    prefix keeps capacity and rules), or as many as fit and what is short."""
    t0 = time.perf_counter()
    state = PlanState(hosts, running, rules)
    before = metrics(state)
    names = set(empty)
    sources = [state.index[n] for n in sorted(names) if n in state.index]
    run = _Run(state, None, t0 + time_budget_s, 0)
    run.kept = state.schedulable.copy()
    for h in sources:
        run.kept[h] = False
    run.depth = 1
    stuck_units = []
    for h in sources:
        for unit in state.units_on(h):
            if not unit.movable:
                stuck_units.append(unit)
                continue
            run.moving = set(unit.members)
            moved = run.place(unit, h)
            if moved is None:
                stuck_units.append(unit)
            else:
                run.migrations += moved
    stuck = tuple(sorted(m for u in stuck_units for m in u.members))
    plan = ActionPlan(
        GOAL_EVACUATION,
        migrations=run.migrations,
        hosts_emptied=[] if stuck else sorted(n for n in names if n in state.index),
        before=before,
        after=metrics(state),
        solve_time_s=time.perf_counter() - t0,
    )
    if not stuck:
        return Evacuation(plan)
    short = _short(state, stuck_units, run.kept)
    pinned = [u.why_not for u in stuck_units if not u.movable and u.why_not]
    why = "; ".join(pinned[:3]) if pinned else f"not enough {short} on the other hosts"
    plan.unmet.append(f"{len(stuck)} instance(s) cannot leave {', '.join(sorted(names))}: {why}")
    return Evacuation(plan, short, stuck)
