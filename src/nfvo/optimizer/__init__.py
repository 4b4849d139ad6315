"""Resource optimization: placement of demands (VDU instances) onto hosts and zones.

Pure functions over plain data (``nfvo.optimizer.model``): no inventory, no VIM. Host
filters (``filters``) say where an item may go, one per module; strategies
(``strategies``) say where it goes, one per module, registered by name in ``STRATEGIES``.
``place()`` runs one and returns a ``Placement`` that always carries its bound (objective,
named lower bounds, gap, solve time) and, per demand, an ``Explanation``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from nfvo.optimizer.explain import explain_placed, explain_unplaced_all
from nfvo.optimizer.model import Demand, Explanation, HostCapacity, Placement, PlacementRule
from nfvo.optimizer.problem import Problem, State
from nfvo.optimizer.strategies import DEFAULT_STRATEGY, STRATEGIES, Strategy, Work
from nfvo.optimizer.volume import anti_affinity_bound, volume_bound

BoundHook = Callable[
    [Sequence[HostCapacity], Sequence[Demand], Sequence[PlacementRule], frozenset[str], float],
    dict[str, float],
]
# Kept for callers that looked algorithms up by name: the same registry.
ALGORITHMS: dict[str, Strategy] = STRATEGIES


def strategy(name: str | None) -> Strategy:
    """The registered strategy called ``name`` (None: the default); KeyError names the known."""
    try:
        return STRATEGIES[name or DEFAULT_STRATEGY]
    except KeyError:
        raise KeyError(
            f"unknown placement strategy {name!r}; known: {', '.join(sorted(STRATEGIES))}"
        ) from None


def _bounds(
    problem: Problem,
    state: State,
    placed: frozenset[str],
    args: tuple[Sequence[HostCapacity], Sequence[Demand], Sequence[PlacementRule]],
    bound: BoundHook | None,
    time_budget_s: float,
) -> tuple[dict[str, float], float]:
    start = time.perf_counter()
    sizes = np.array([it.size for it in problem.items if state.host_of[it.index] >= 0])
    bounds = {
        "volume": volume_bound(problem, sizes.reshape(-1, 3)),
        "anti_affinity": anti_affinity_bound(problem, placed),
    }
    objective = len({state.host_of[it.index] for it in problem.items} - {-1})
    if bound is not None and placed and objective > max(bounds.values()):
        # only a gap is worth a stronger (dearer) bound
        bounds.update({k: float(v) for k, v in bound(*args, placed, time_budget_s).items()})
    return bounds, time.perf_counter() - start


def place(
    hosts: Sequence[HostCapacity],
    demands: Sequence[Demand],
    rules: Iterable[PlacementRule] = (),
    algorithm: str | None = None,
    *,
    time_budget_s: float = 1.0,
    explain: bool = True,
    bound: BoundHook | None = None,
    bound_budget_s: float | None = None,
) -> Placement:
    """Place ``demands`` on ``hosts`` with the named strategy (None: ``DEFAULT_STRATEGY``).

    ``time_budget_s`` sizes the improvement effort (deterministic: counted in work, the
    clock only a safety net). ``explain``: build every demand's ``Explanation`` (unplaced
    demands always get theirs). ``bound(hosts, demands, rules, placed_ids, time_budget_s)``
    may add named lower bounds (called only when the cheap bounds leave a gap, with
    ``bound_budget_s``, default ``time_budget_s``); ``lower_bound`` is the best of all.
    Infeasibility never
    raises: what cannot go anywhere is in ``unplaced`` with the reason.
    """
    chosen = strategy(algorithm)
    start = time.perf_counter()
    rules = tuple(rules)
    problem = Problem(hosts, demands, rules)
    state = State(problem)
    chosen.run(state, Work.start(time_budget_s))
    assignments = {
        d: problem.names[state.host_of[it.index]]
        for it in problem.items
        if state.host_of[it.index] >= 0
        for d in it.ids
    }
    explanations: dict[str, Explanation] = explain_unplaced_all(state)
    unplaced = {d: e.reason or "not placed" for d, e in explanations.items()}
    if explain:
        explanations.update(explain_placed(state, chosen))
        explanations = {d.id: explanations[d.id] for d in demands if d.id in explanations}
    solve_time = time.perf_counter() - start
    placed = frozenset(assignments)
    bounds, bound_time = _bounds(
        problem,
        state,
        placed,
        (hosts, demands, rules),
        bound,
        time_budget_s if bound_budget_s is None else bound_budget_s,
    )
    objective = float(len(set(assignments.values())))
    lower = max(bounds.values()) if placed else 0.0
    return Placement(
        assignments=assignments,
        unplaced={d.id: unplaced[d.id] for d in demands if d.id in unplaced},
        objective=objective,
        lower_bound=lower,
        gap=(objective - lower) / objective if objective else 0.0,
        solve_time_s=solve_time,
        algorithm=chosen.name,
        explanations=explanations,
        bounds=bounds,
        bound_time_s=bound_time,
    )


__all__ = [
    "ALGORITHMS",
    "DEFAULT_STRATEGY",
    "STRATEGIES",
    "BoundHook",
    "Demand",
    "Explanation",
    "HostCapacity",
    "Placement",
    "PlacementRule",
    "place",
    "strategy",
]
