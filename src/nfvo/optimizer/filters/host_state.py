"""Host state filter: schedulable hosts only, the demand's host pin, its excluded hosts."""

from __future__ import annotations

import numpy as np

from nfvo.optimizer.problem import Item, State


class HostStateFilter:
    """Removes hosts that are down/disabled/draining, not the pinned one, or excluded."""

    name = "host_state"

    def host_passes(self, host: int, item: Item, state: State) -> bool:
        p = state.problem
        name = p.names[host]
        if not p.schedulable[host] or name in item.exclude_hosts:
            return False
        return item.host is None or item.host == name

    def mask(self, item: Item, state: State) -> np.ndarray:
        p = state.problem
        key = ("host_state", item.host, item.exclude_hosts)
        cached = p._static.get(key)
        if cached is not None:
            return cached
        if item.host is not None:
            out = np.zeros(p.n_hosts, dtype=bool)
            i = p.index.get(item.host)
            if i is not None:
                out[i] = p.schedulable[i]
        else:
            out = p.schedulable.copy()
        for name in item.exclude_hosts:
            i = p.index.get(name)
            if i is not None:
                out[i] = False
        p._static[key] = out
        return out
