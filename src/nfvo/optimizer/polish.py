"""MIP polish for small batches: hand the whole problem to ``exact`` with the heuristic's
answer as the incumbent and adopt a better solution if HiGHS finds one in the budget."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nfvo.optimizer.problem import State

if TYPE_CHECKING:
    from nfvo.optimizer.strategies.base import Work

MAX_ITEMS = 150
MAX_NODES = 300
# Past this many variables (many hosts that differ) the MIP costs more than it gains.
MAX_COLUMNS = 6_000


def polish(state: State, work: Work) -> bool:
    """Improve ``state`` in place with the exact MIP when the problem is small; True when
    it found fewer hosts."""
    from nfvo.optimizer.exact import solve_items
    from nfvo.optimizer.volume import item_bound

    p = state.problem
    placed = [it for it in p.items if state.host_of[it.index] >= 0]
    if not placed or len(p.items) > MAX_ITEMS or len(placed) < len(p.items):
        return False
    objective = len(state.used_hosts())
    if objective <= item_bound(state.problem, placed):
        return False
    incumbent = {it.index: state.host_of[it.index] for it in placed}
    result = solve_items(p, incumbent, work.budget_s, max_nodes=MAX_NODES, max_columns=MAX_COLUMNS)
    if result is None or len(set(result.values())) >= objective:
        return False
    for it in placed:
        state.take(it)
    for it in placed:
        state.put(it, result[it.index])
    return True
