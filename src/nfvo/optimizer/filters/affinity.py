"""Affinity filter: a member goes where the rule's placed members already are.

Host scope: only the host(s) of the placed members (members merged into one item never
meet this: they are placed together). Zone scope: only the zone of the first placed member.
"""

from __future__ import annotations

import numpy as np

from nfvo.optimizer.filters.base import RuleFilter
from nfvo.optimizer.problem import Item, Rule, State


class AffinityFilter(RuleFilter):
    """Removes hosts away from where the item's affinity partners run."""

    name = "affinity"
    kind = "affinity"

    def host_passes(self, host: int, item: Item, state: State) -> bool:
        return all(
            not used or self.host_key(scope, host, state) in used
            for _, used, scope in self.rules_of(self.kind, item, state)
        )

    def rule_mask(self, rule: Rule, item: Item, state: State) -> np.ndarray | None:
        return self.where_used(rule, state)
