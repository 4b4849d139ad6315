"""Goal ``server_consolidation``: empty as many in-use hosts as possible.

Hosts are tried one at a time, the cheapest to empty first (least loaded; with a migration
budget, fewest migrations). Each of the host's units (largest first) goes by best fit to the
kept in-use host it fills most tightly, preferring a target whose room stays balanced across
dimensions so complementary shapes pair up. If the host cannot be emptied, its tentative
moves are undone and it stays. Passes repeat until one empties nothing; later phases allow
setting one, then two, small units of a nearly fitting host aside (to other kept hosts) to
make room. The search runs under up to four host orderings within the time budget and keeps
the plan that empties most, stopping early once it reaches the bound.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import numpy as np

from nfvo.optimizer.model import HostCapacity, PlacementRule
from nfvo.optimizer.plans.bound import hosts_needed
from nfvo.optimizer.plans.model import GOAL_CONSOLIDATION, ActionPlan, Migration, Running
from nfvo.optimizer.plans.state import EPS, PlanState, Unit, metrics


class _Run:
    """One consolidation in progress: the state, the kept hosts and the moves so far."""

    def __init__(self, state: PlanState, budget: int | None, deadline: float, order: int) -> None:
        self.state = state
        self.order = order
        self.budget = budget
        self.deadline = deadline
        self.kept = np.zeros(len(state.names), dtype=bool)
        self.kept[state.in_use()] = True
        self.migrations: list[Migration] = []
        self.batches = 0
        self.emptied: list[str] = []
        self.depth = 0  # how many units may be set aside to make room for one
        self.moving: set[str] = set()
        self.budget_hit = False

    def left(self) -> int | None:
        """Migrations left in the budget (None: no budget)."""
        return None if self.budget is None else self.budget - len(self.migrations)

    def targets(self, unit: Unit, source: int, limit: int = 1) -> list[int]:
        """Up to ``limit`` kept hosts that take the unit by capacity and rules, best fit first.

        The score is the room left (sum of dimension shares) plus half its imbalance, so a
        CPU-heavy unit prefers a host with spare CPU; ties go to the first name.
        """
        st = self.state
        ok = st.fits(unit, exclude=(source,)) & self.kept
        cand = np.nonzero(ok)[0]
        if len(cand) == 0:
            return []
        rest = (st.free[cand] - unit.size) / np.where(st.cap[cand] > EPS, st.cap[cand], 1.0)
        score = np.round(rest.sum(axis=1) + 0.5 * (rest.max(axis=1) - rest.min(axis=1)), 9)
        out: list[int] = []
        for k in np.argsort(score, kind="stable"):
            if st.rules_allow(unit, int(cand[k])):
                out.append(int(cand[k]))
                if len(out) >= limit:
                    break
        return out

    def place(self, unit: Unit, source: int) -> list[Migration] | None:
        """Move ``unit`` off ``source``: directly, or (in later phases) after setting units
        aside; the moves, or None with nothing changed."""
        batch = self._batch(unit)
        for t in self.targets(unit, source):
            return self.state.move(unit, t, batch)
        return self._place_with_eviction(unit, source, batch) if self.depth else None

    def _batch(self, unit: Unit) -> int | None:
        if len(unit.members) == 1:
            return None
        self.batches += 1
        return self.batches

    def _place_with_eviction(
        self, unit: Unit, source: int, batch: int | None
    ) -> list[Migration] | None:
        st = self.state
        short = np.maximum(unit.size - st.free, 0.0) / np.where(st.cap > EPS, st.cap, 1.0)
        deficit = np.round(short.sum(axis=1), 9)
        ok = self.kept & st.schedulable & (short.max(axis=1) <= 0.5)
        ok[source] = False
        cand = np.nonzero(ok)[0]
        near = [int(cand[k]) for k in np.argsort(deficit[cand], kind="stable")]
        for t in near[:8]:
            moved = self._make_room(unit, source, t, self.depth)
            if moved is not None:
                return moved + st.move(unit, t, batch)
        return None

    def _make_room(self, unit: Unit, source: int, t: int, depth: int) -> list[Migration] | None:
        """Set aside up to ``depth`` small units of ``t`` (to other kept hosts) until ``unit``
        may go there; the set-aside moves, or None with nothing changed."""
        st = self.state
        if st.fits(unit, exclude=(source,))[t] and st.rules_allow(unit, t):
            return []
        if depth == 0:
            return None
        for victim in sorted(st.units_on(t), key=lambda u: st.share(u.size, t)):
            if not victim.movable or self.moving.intersection(victim.members):
                continue
            if depth == 1 and np.any(st.free[t] + victim.size - unit.size < -EPS):
                continue
            aside = [h for h in self.targets(victim, t, limit=2) if h != source][:1]
            if not aside:
                continue
            first = st.move(victim, aside[0], self._batch(victim))
            self.moving.update(victim.members)
            rest = self._make_room(unit, source, t, depth - 1)
            self.moving.difference_update(victim.members)
            if rest is not None:
                return first + rest
            st.undo(first)
        return None

    def search(self, budgeted: bool, bound: int, depths: Sequence[int] = (0, 1)) -> bool:
        """Empty hosts pass after pass, one phase per set-aside depth, until the bound is
        reached or a phase empties nothing more; True on timeout."""
        for depth in depths:
            self.depth = depth
            progress = True
            while progress:
                progress = False
                for h in _order(self, budgeted):
                    if len(self.emptied) >= bound:
                        return False
                    if time.perf_counter() > self.deadline:
                        return True
                    if self.left() == 0:
                        self.budget_hit = True
                        return False
                    progress |= self.try_empty(h)
        return False

    def try_empty(self, h: int) -> bool:
        """Empty host ``h`` entirely or leave everything as it was."""
        st = self.state
        units = st.units_on(h)
        if any(not u.movable for u in units):
            return False
        tentative: list[Migration] = []
        self.moving = {rid for u in units for rid in u.members}
        self.kept[h] = False
        for unit in units:
            moved = self.place(unit, h)
            left = self.left()
            over = left is not None and moved is not None and len(tentative) + len(moved) > left
            self.budget_hit |= over
            if moved is None or over:
                st.undo(tentative + (moved or []))
                self.kept[h] = True
                return False
            tentative += moved
            self.moving.update(unit.members)
        self.migrations += tentative
        self.emptied.append(st.names[h])
        return True


def _order(run: _Run, budgeted: bool) -> list[int]:
    """Kept hosts by cost of emptying under the run's ordering, then name.

    0: load (budgeted: fewest instances first); 1: fewest instances, then load; 2: smallest
    largest unit, then load; 3: least total of dimension shares.
    """
    st = run.state
    load = st.load()
    hosts = [h for h in st.in_use() if run.kept[h]]

    def key(h: int) -> tuple[float, float, str]:
        n = float(len(st.on_host[h]))
        lh = float(load[h])
        if run.order == 1 or (run.order == 0 and budgeted):
            return (n, lh, st.names[h])
        if run.order == 2:
            return (max(st.share(u.size, h) for u in st.units_on(h)), lh, st.names[h])
        if run.order == 3:
            return (st.share(st.cap[h] - st.free[h], h), n, st.names[h])
        return (lh, n, st.names[h])

    return sorted(hosts, key=key)


ORDERS = 4
# Up to this many in-use hosts every ordering also tries setting two units aside; above it,
# only the best ordering's plan does, with the time left.
DEEP_UP_TO = 100


def _stuck(state: PlanState) -> list[str]:
    """One sentence per host that cannot be emptied because of an instance that cannot move."""
    out = []
    for h in state.in_use():
        for unit in state.units_on(h):
            if not unit.movable:
                out.append(f"host {state.names[h]} cannot be emptied: {unit.why_not}")
                break
    return out


def _shortfall(run: _Run, bound: int, timed_out: bool, time_budget_s: float) -> list[str]:
    """Why fewer hosts than the bound were emptied, if so."""
    done = len(run.emptied)
    if done >= bound:
        return []
    head = f"{done} of at most {bound} hosts emptied"
    if timed_out:
        return [f"{head}: time budget of {time_budget_s} s exhausted"]
    if run.budget_hit:
        return [f"{head} within {run.budget} migrations: migration budget spent"]
    return [
        f"{head}: no other host could be emptied onto the hosts kept with the moves tried "
        "(the bound ignores move order and rules beyond anti-affinity, so it may be out of reach)"
    ]


def _best_run(
    hosts: Sequence[HostCapacity],
    running: Sequence[Running],
    rules: Sequence[PlacementRule],
    max_migrations: int | None,
    deadline: float,
    bound: int,
) -> tuple[_Run, bool]:
    """Search under each host ordering while time is left and the bound is not reached; the
    run that empties most (then with fewest migrations), and whether time ran out.

    On large clusters the deepest set-aside is left to one last pass over the best run."""
    best: _Run | None = None
    timed_out = False
    for order in range(ORDERS):
        if best is not None and (time.perf_counter() > deadline or len(best.emptied) >= bound):
            timed_out |= time.perf_counter() > deadline and len(best.emptied) < bound
            break
        trial = _Run(PlanState(hosts, running, rules), max_migrations, deadline, order)
        depths = (0, 1, 2) if len(trial.state.in_use()) <= DEEP_UP_TO else (0, 1)
        timed_out |= trial.search(max_migrations is not None, bound, depths)
        if best is None or (len(trial.emptied), -len(trial.migrations)) > (
            len(best.emptied),
            -len(best.migrations),
        ):
            best = trial
    assert best is not None
    if not timed_out and len(best.emptied) < bound and len(best.state.in_use()) > DEEP_UP_TO:
        timed_out = best.search(max_migrations is not None, bound, depths=(2,))
    return best, timed_out


def consolidate(
    hosts: Sequence[HostCapacity],
    running: Sequence[Running],
    rules: Sequence[PlacementRule],
    *,
    max_migrations: int | None = None,
    time_budget_s: float = 2.0,
) -> ActionPlan:
    """A plan of migrations that empties the most in-use hosts, with the bound on how many.

    Only hosts already in use receive instances, never an unschedulable host; instances on a
    down host or not movable stay (named in ``unmet``). ``max_migrations`` caps the plan.
    """
    start = time.perf_counter()
    state = PlanState(hosts, running, rules)
    before = metrics(state)
    bounds = hosts_needed(state)
    in_use = len(state.in_use())
    need = min(float(in_use), max(bounds.values(), default=0.0))
    bound = in_use - int(math.ceil(need - 1e-9))
    run, timed_out = _best_run(hosts, running, rules, max_migrations, start + time_budget_s, bound)
    state = run.state
    unmet = _stuck(state) + _shortfall(run, bound, timed_out, time_budget_s)
    after = metrics(state)
    before["hostsNeededBound"] = {k: (None if math.isinf(v) else v) for k, v in bounds.items()}
    return ActionPlan(
        goal=GOAL_CONSOLIDATION,
        migrations=run.migrations,
        hosts_emptied=run.emptied,
        emptiable_bound=bound,
        before=before,
        after=after,
        unmet=unmet,
        solve_time_s=time.perf_counter() - start,
    )
