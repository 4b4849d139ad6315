"""The contract every host filter keeps (Nova's ``host_passes()``), vectorised over hosts.

A filter answers one question about one host for one item given the current state:
may the item go there? ``host_passes`` answers for one host; ``mask`` for all hosts at
once as a numpy boolean array (what strategies and explanations call: one numpy pass
instead of a Python loop per host). Filters that apply rules also say which rule removed
which hosts (``per_rule``), so an unplaced demand's reason can name the rule.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from nfvo.optimizer.problem import Item, Rule, State


@runtime_checkable
class HostFilter(Protocol):
    """One reason a host may not take an item; ``name`` is how explanations call it."""

    name: str

    def host_passes(self, host: int, item: Item, state: State) -> bool:
        """Whether ``item`` may go to host number ``host`` (index into ``problem.hosts``)."""
        ...

    def mask(self, item: Item, state: State) -> np.ndarray:
        """``host_passes`` for every host, as a boolean array over ``problem.hosts``."""
        ...


class RuleFilter:
    """A filter made of rules: passes where every rule of the item passes."""

    name = "rule"
    kind = ""

    def rule_mask(self, rule: Rule, item: Item, state: State) -> np.ndarray | None:
        """Hosts ``rule`` allows for ``item`` (None: the rule restricts nothing now)."""
        raise NotImplementedError

    @staticmethod
    def rules_of(kind: str, item: Item, state: State) -> list[tuple[Rule, set[int], int]]:
        """The item's rules of ``kind`` as ``(rule, used, scope)``: what their placed members
        use (host indexes, or zone indexes by zone scope) and the scope (0 host, 1 zone) that
        ``host_key`` turns a host into the same kind of index with."""
        out = []
        for r in item.rules:
            rule = state.problem.rules[r]
            if rule.kind == kind:
                used = state.rule_hosts[r] if rule.scope == "host" else state.rule_zones[r]
                out.append((rule, used, 0 if rule.scope == "host" else 1))
        return out

    @staticmethod
    def host_key(scope_index: int, host: int, state: State) -> int:
        """The host itself (host scope, 0) or its zone (zone scope, 1)."""
        return host if scope_index == 0 else int(state.problem.zone_of[host])

    @staticmethod
    def where_used(rule: Rule, state: State) -> np.ndarray | None:
        """Hosts where the rule's placed members are (host scope) or hosts of their zones
        (zone scope); None while no member is placed."""
        p = state.problem
        if rule.scope == "host":
            used = state.rule_hosts[rule.index]
            if not used:
                return None
            out = np.zeros(p.n_hosts, dtype=bool)
            out[list(used)] = True
            return out
        zones = state.rule_zones[rule.index]
        return np.isin(p.zone_of, list(zones)) if zones else None

    def per_rule(self, item: Item, state: State) -> list[tuple[Rule, np.ndarray]]:
        """Each of the item's rules of this kind that restricts it, with its hosts."""
        out = []
        for r in item.rules:
            rule = state.problem.rules[r]
            if rule.kind != self.kind:
                continue
            allowed = self.rule_mask(rule, item, state)
            if allowed is not None:
                out.append((rule, allowed))
        return out

    def mask(self, item: Item, state: State) -> np.ndarray:
        out = np.ones(state.problem.n_hosts, dtype=bool)
        for _, allowed in self.per_rule(item, state):
            out &= allowed
        return out

    def host_passes(self, host: int, item: Item, state: State) -> bool:
        return all(allowed[host] for _, allowed in self.per_rule(item, state))
