"""Goal ``server_consolidation``: empty as many in-use hosts as possible."""

from __future__ import annotations

from collections.abc import Sequence

from nfvo.optimizer.model import HostCapacity, PlacementRule
from nfvo.optimizer.plans.model import ActionPlan, Running


def consolidate(
    hosts: Sequence[HostCapacity],
    running: Sequence[Running],
    rules: Sequence[PlacementRule],
    *,
    max_migrations: int | None = None,
    time_budget_s: float = 2.0,
) -> ActionPlan:
    """A plan of migrations that empties the most in-use hosts."""
    raise NotImplementedError
