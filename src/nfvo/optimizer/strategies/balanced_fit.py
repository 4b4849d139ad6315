"""``balanced_fit`` (the default): host-by-host filling that pairs complementary shapes,
then local search, then a MIP polish when the batch is small.

1. ``fill.fill_hosts``: the largest item left opens a host, which then takes the item
   whose shape best matches its free room (CPU-heavy next to RAM-heavy), looking one item
   ahead so three smaller items beat one large partner.
2. ``local_search.empty_hosts``: empty the least-filled hosts into the others;
   ``local_search.third_items``: give hosts with room a third item, then empty again.
3. ``polish.polish``: up to ``MAX_ITEMS`` items, the exact MIP from this answer; up to
   ``WINDOW_ITEMS``, ``windows.polish_windows``: the MIP on windows of least-filled hosts.

Stops as soon as the hosts used reach the volume / anti-affinity bound. ``score`` (used to
open hosts and in explanations): the squared free share left on the host after placing,
``sum(((free - size) / total) ** 2)``; lower is better.
"""

from __future__ import annotations

import numpy as np

from nfvo.optimizer.fill import fill_hosts
from nfvo.optimizer.local_search import empty_hosts, third_items
from nfvo.optimizer.polish import MAX_ITEMS, polish
from nfvo.optimizer.problem import Item, State
from nfvo.optimizer.strategies.base import Work, decreasing
from nfvo.optimizer.volume import item_bound
from nfvo.optimizer.windows import polish_windows

# Up to this many items the windowed MIP polish runs.
WINDOW_ITEMS = 20_000
# The MIP polish (whole or windows) runs only when the hosts used are within this factor of
# the bound (+1): it closes a small gap to a tight bound; far from it (anti-correlated
# demands, where the volume bound is weak) it rarely gains and would spend the budget.
CLOSE = 1.05


class BalancedFit:
    """The strong default: few hosts on multi-dimensional demands (see module docstring)."""

    name = "balanced_fit"

    def score(self, state: State, item: Item, hosts: np.ndarray) -> np.ndarray:
        left = (state.free[hosts] - item.size) / state.problem.scale[hosts]
        return np.einsum("ij,ij->i", left, left)

    def run(self, state: State, work: Work) -> None:
        fill_hosts(state, decreasing(state.problem), self)
        empty_hosts(state, self, work)
        placed = [it for it in state.problem.items if state.host_of[it.index] >= 0]
        bound = item_bound(state.problem, placed)
        if len(state.used_hosts()) <= bound:
            return  # proven optimal already
        close = CLOSE * bound + 1
        if third_items(state, work):
            empty_hosts(state, self, work)
        if len(state.used_hosts()) > close:
            return
        if len(state.problem.items) <= MAX_ITEMS:
            polish(state, work)
        elif len(state.problem.items) <= WINDOW_ITEMS:
            polish_windows(state, work, bound)
