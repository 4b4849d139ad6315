"""Anti-affinity filter: a member avoids the hosts (or zones) its rule's other members use."""

from __future__ import annotations

import numpy as np

from nfvo.optimizer.filters.base import RuleFilter
from nfvo.optimizer.problem import Item, Rule, State


class AntiAffinityFilter(RuleFilter):
    """Removes hosts (host scope) or whole zones (zone scope) taken by the item's rule."""

    name = "anti_affinity"
    kind = "anti_affinity"

    def host_passes(self, host: int, item: Item, state: State) -> bool:
        return all(
            self.host_key(scope, host, state) not in used
            for _, used, scope in self.rules_of(self.kind, item, state)
        )

    def rule_mask(self, rule: Rule, item: Item, state: State) -> np.ndarray | None:
        used = self.where_used(rule, state)
        return None if used is None else ~used
