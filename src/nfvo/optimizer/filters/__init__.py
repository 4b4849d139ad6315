"""Host filters, one per module, all keeping ``HostFilter`` (see ``base``).

``FILTERS`` is the registry, in the order they run: the availability window, host state
and zone filters
depend only on the demand, the rule filters on what is placed, capacity on the free room.
Explanations count, per filter, the hosts it removed of those the earlier ones kept.
"""

from __future__ import annotations

import numpy as np

from nfvo.optimizer.filters.affinity import AffinityFilter
from nfvo.optimizer.filters.anti_affinity import AntiAffinityFilter
from nfvo.optimizer.filters.availability_window import AvailabilityWindowFilter
from nfvo.optimizer.filters.base import HostFilter, RuleFilter
from nfvo.optimizer.filters.capacity import CapacityFilter, fits
from nfvo.optimizer.filters.host_state import HostStateFilter
from nfvo.optimizer.filters.zone import ZoneFilter
from nfvo.optimizer.problem import Item, State

FILTERS: dict[str, HostFilter] = {
    f.name: f
    for f in (
        AvailabilityWindowFilter(),
        HostStateFilter(),
        ZoneFilter(),
        AffinityFilter(),
        AntiAffinityFilter(),
        CapacityFilter(),
    )
}
WINDOW, HOST_STATE, ZONE, AFFINITY, ANTI_AFFINITY = (
    FILTERS["availability_window"],
    FILTERS["host_state"],
    FILTERS["zone"],
    FILTERS["affinity"],
    FILTERS["anti_affinity"],
)


def static_mask(item: Item, state: State) -> np.ndarray:
    """Hosts the demand-only filters (host state, zone) keep; cached per pin/exclusion set."""
    p = state.problem
    key = ("static", *item.static_key)
    cached = p._static.get(key)
    if cached is None:
        cached = p._static[key] = HOST_STATE.mask(item, state) & ZONE.mask(item, state)
    return cached


def candidates(item: Item, state: State) -> np.ndarray:
    """Hosts every filter keeps for ``item`` now (the item itself not placed)."""
    out = static_mask(item, state) & fits(state.free, item.size)
    if item.rules:
        out &= AFFINITY.mask(item, state)
        out &= ANTI_AFFINITY.mask(item, state)
    return out


__all__ = [
    "FILTERS",
    "AffinityFilter",
    "AntiAffinityFilter",
    "AvailabilityWindowFilter",
    "CapacityFilter",
    "HostFilter",
    "HostStateFilter",
    "RuleFilter",
    "ZoneFilter",
    "candidates",
    "fits",
    "static_mask",
]
