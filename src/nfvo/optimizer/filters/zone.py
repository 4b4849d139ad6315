"""Zone filter: the demand's zone pin and its excluded zones."""

from __future__ import annotations

import numpy as np

from nfvo.optimizer.problem import Item, State


class ZoneFilter:
    """Removes hosts outside the pinned zone or inside an excluded zone."""

    name = "zone"

    def host_passes(self, host: int, item: Item, state: State) -> bool:
        zone = state.problem.hosts[host].zone
        return (item.zone is None or zone == item.zone) and zone not in item.exclude_zones

    def mask(self, item: Item, state: State) -> np.ndarray:
        p = state.problem
        key = ("zone", item.zone, item.exclude_zones)
        cached = p._static.get(key)
        if cached is not None:
            return cached
        out = np.ones(p.n_hosts, dtype=bool) if item.zone is None else p.zone_mask(item.zone).copy()
        for zone in item.exclude_zones:
            out &= ~p.zone_mask(zone)
        p._static[key] = out
        return out
