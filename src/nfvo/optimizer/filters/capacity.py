"""Capacity filter: the host's free room covers the item on every dimension."""

from __future__ import annotations

import numpy as np

from nfvo.optimizer.problem import EPS, Item, State


class CapacityFilter:
    """Removes hosts without enough free vCPU, RAM or disk for the item."""

    name = "capacity"

    def host_passes(self, host: int, item: Item, state: State) -> bool:
        return bool(np.all(state.free[host] + EPS >= item.size))

    def mask(self, item: Item, state: State) -> np.ndarray:
        return fits(state.free, item.size)


def fits(free: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Rows of ``free`` (hosts x 3) that hold ``size`` on every dimension."""
    out = free[:, 0] + EPS >= size[0]
    out &= free[:, 1] + EPS >= size[1]
    out &= free[:, 2] + EPS >= size[2]
    return out
