"""``balanced_fit`` (the default): best-fit decreasing that pairs complementary shapes,
then a local search that empties the least-filled hosts, then a MIP polish when small.

Score of a host for an item: the squared length of what would be left free on it, each
dimension as a share of the host's total — ``sum(((free - size) / total) ** 2)``. Expanded,
that is ``|free|^2 - 2 free.size + |size|^2``: it prefers hosts already full (best fit)
and, among them, those whose free room points the way the item does (a CPU-heavy item
goes where RAM is taken and vCPUs are left). Lower is better.
"""

from __future__ import annotations

import numpy as np

from nfvo.optimizer.fill import fill_hosts
from nfvo.optimizer.local_search import empty_hosts
from nfvo.optimizer.polish import polish
from nfvo.optimizer.problem import Item, State
from nfvo.optimizer.strategies.base import Work, decreasing


class BalancedFit:
    """The strong default: few hosts on multi-dimensional demands (see module docstring)."""

    name = "balanced_fit"

    def score(self, state: State, item: Item, hosts: np.ndarray) -> np.ndarray:
        left = (state.free[hosts] - item.size) / state.problem.scale[hosts]
        return np.einsum("ij,ij->i", left, left)

    def run(self, state: State, work: Work) -> None:
        fill_hosts(state, decreasing(state.problem), self)
        empty_hosts(state, self, work)
        polish(state, work)
