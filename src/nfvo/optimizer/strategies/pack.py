"""``pack``: fullest host first that fits (consolidating, like Nova's stacking weigher but
over every dimension): few hosts used, the rest left empty."""

from __future__ import annotations

import numpy as np

from nfvo.optimizer.problem import Item, State
from nfvo.optimizer.strategies.base import GreedyStrategy


class Pack(GreedyStrategy):
    """Consolidates: each item (largest first) goes to the host with the least free room
    (score: sum over vCPU, RAM, disk of the free share of the host's total, before placing)."""

    name = "pack"

    def score(self, state: State, item: Item, hosts: np.ndarray) -> np.ndarray:
        p = state.problem
        return (state.free[hosts] / p.scale[hosts]).sum(axis=1)
