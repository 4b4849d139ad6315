"""Goal ``workload_balancing``: level the load of the hosts."""

from __future__ import annotations

from collections.abc import Sequence

from nfvo.optimizer.model import HostCapacity, PlacementRule
from nfvo.optimizer.plans.model import ActionPlan, Running


def rebalance(
    hosts: Sequence[HostCapacity],
    running: Sequence[Running],
    rules: Sequence[PlacementRule],
    *,
    target_spread: float = 0.1,
    max_migrations: int | None = None,
    time_budget_s: float = 2.0,
) -> ActionPlan:
    """A plan of migrations that brings max - min host load within ``target_spread``."""
    raise NotImplementedError
