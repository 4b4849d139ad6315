"""Resource optimization: placement of demands (VDU instances) onto hosts and zones.

Pure functions over plain data (``nfvo.optimizer.model``): no inventory, no VIM. Each
algorithm lives in its own module with one contract,
``(hosts, demands, rules) -> Placement``, and is registered here by name. Every result
carries its bound: objective (hosts used), lower bound, gap and solve time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from nfvo.optimizer.first_fit import first_fit
from nfvo.optimizer.model import Demand, HostCapacity, Placement, PlacementRule

Algorithm = Callable[[Sequence[HostCapacity], Sequence[Demand], Iterable[PlacementRule]], Placement]

ALGORITHMS: dict[str, Algorithm] = {"first_fit": first_fit}


def place(
    hosts: Sequence[HostCapacity],
    demands: Sequence[Demand],
    rules: Iterable[PlacementRule] = (),
    algorithm: str = "first_fit",
) -> Placement:
    """Place ``demands`` on ``hosts`` with the named algorithm (KeyError names the known ones)."""
    try:
        func = ALGORITHMS[algorithm]
    except KeyError:
        raise KeyError(
            f"unknown placement algorithm {algorithm!r}; known: {', '.join(sorted(ALGORITHMS))}"
        ) from None
    return func(hosts, demands, tuple(rules))


__all__ = [
    "ALGORITHMS",
    "Demand",
    "HostCapacity",
    "Placement",
    "PlacementRule",
    "place",
]
