"""Watcher-style action plans over the live placement: consolidation and rebalance.

Pure functions of plain data (hosts as ``HostCapacity``, what runs now as ``Running``, rules
as ``PlacementRule``): no inventory, no VIM. ``consolidate`` (goal ``server_consolidation``)
empties as many in-use hosts as it can and proves how many could be emptied at most;
``rebalance`` (goal ``workload_balancing``) levels the per-host load; ``evacuate`` (goal
``host_evacuation``) empties named hosts (an availability window's drain). Both answer an
``ActionPlan`` whose migrations, applied in order, keep capacity and every rule at each step.
``first_problem`` re-checks a stored plan against the inventory as it is when applying it.
"""

from __future__ import annotations

from nfvo.optimizer.plans.consolidate import consolidate
from nfvo.optimizer.plans.evacuate import GOAL_EVACUATION, Evacuation, evacuate
from nfvo.optimizer.plans.model import (
    GOAL_BALANCING,
    GOAL_CONSOLIDATION,
    ActionPlan,
    Migration,
    Running,
)
from nfvo.optimizer.plans.rebalance import rebalance
from nfvo.optimizer.plans.validate import first_problem

__all__ = [
    "GOAL_BALANCING",
    "GOAL_CONSOLIDATION",
    "GOAL_EVACUATION",
    "ActionPlan",
    "Evacuation",
    "Migration",
    "Running",
    "consolidate",
    "evacuate",
    "first_problem",
    "rebalance",
]
