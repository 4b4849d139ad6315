"""Availability window filter: no placement on a host an availability window drains or
puts to sleep.

The window sets the host's state to ``draining`` (its instances are being moved off) or
``sleeping``; the caller may label the host with ``availability_window`` = the window's id,
which explanations then name. The host state filter would remove these hosts too (any state
but ``up`` is unschedulable); this filter runs first so an explanation says why.
"""

from __future__ import annotations

import numpy as np

from nfvo.optimizer.model import HostCapacity
from nfvo.optimizer.problem import Item, State

WINDOW_STATES = frozenset({"draining", "sleeping"})
LABEL = "availability_window"


def window_of(host: HostCapacity) -> str | None:
    """The id of the window holding ``host`` (None: unknown or not held)."""
    return dict(host.labels).get(LABEL)


def held_reason(host: HostCapacity) -> str | None:
    """Why a host takes nothing because of a window, or None when no window holds it."""
    if host.state not in WINDOW_STATES:
        return None
    window = window_of(host)
    named = f" (availability window {window})" if window else " (availability window)"
    return f"host {host.name} is {host.state}{named}"


class AvailabilityWindowFilter:
    """Removes hosts that an availability window drains or keeps asleep."""

    name = "availability_window"

    def host_passes(self, host: int, item: Item, state: State) -> bool:
        return state.problem.hosts[host].state not in WINDOW_STATES

    def mask(self, item: Item, state: State) -> np.ndarray:
        p = state.problem
        cached = p._static.get(("availability_window",))
        if cached is None:
            cached = np.array([h.state not in WINDOW_STATES for h in p.hosts], dtype=bool)
            cached = cached.reshape(-1)
            p._static[("availability_window",)] = cached
        return cached
