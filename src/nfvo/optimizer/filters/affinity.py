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
        zone = int(state.problem.zone_of[host])
        for r in item.rules:
            rule = state.problem.rules[r]
            if rule.kind != self.kind:
                continue
            used = state.rule_hosts[r] if rule.scope == "host" else state.rule_zones[r]
            if used and (host if rule.scope == "host" else zone) not in used:
                return False
        return True

    def rule_mask(self, rule: Rule, item: Item, state: State) -> np.ndarray | None:
        p = state.problem
        if rule.scope == "host":
            used = state.rule_hosts[rule.index]
            if not used:
                return None
            out = np.zeros(p.n_hosts, dtype=bool)
            out[list(used)] = True
            return out
        zones = state.rule_zones[rule.index]
        if not zones:
            return None
        return np.isin(p.zone_of, list(zones))
