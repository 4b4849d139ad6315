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
        zone = int(state.problem.zone_of[host])
        for r in item.rules:
            rule = state.problem.rules[r]
            if rule.kind != self.kind:
                continue
            used = state.rule_hosts[r] if rule.scope == "host" else state.rule_zones[r]
            if (host if rule.scope == "host" else zone) in used:
                return False
        return True

    def rule_mask(self, rule: Rule, item: Item, state: State) -> np.ndarray | None:
        p = state.problem
        if rule.scope == "host":
            used = state.rule_hosts[rule.index]
            if not used:
                return None
            out = np.ones(p.n_hosts, dtype=bool)
            out[list(used)] = False
            return out
        zones = state.rule_zones[rule.index]
        if not zones:
            return None
        return ~np.isin(p.zone_of, list(zones))
