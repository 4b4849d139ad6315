"""``spread``: most free RAM first (Nova's default RAM weigher): even load, many hosts."""

from __future__ import annotations

import numpy as np

from nfvo.optimizer.problem import Item, State
from nfvo.optimizer.strategies.base import GreedyStrategy


class Spread(GreedyStrategy):
    """Spreads load: each item goes to the host with the most free RAM (score: -free RAM
    in MiB before placing)."""

    name = "spread"

    def score(self, state: State, item: Item, hosts: np.ndarray) -> np.ndarray:
        return -state.free[hosts, 1]
