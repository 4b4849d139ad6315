"""The placement problem compiled into arrays, and the mutable state a strategy fills.

``Problem`` is built once per ``place()`` call: hosts sorted by name (ties in every
strategy go to the first host by name), free/total capacity as ``(H, 3)`` numpy arrays,
zones as integer codes, and the demands as ``Item`` rows — host-scope affinity members
merged into one item (they must share a host, so they move together). ``State`` holds
what a strategy changes: free room per host, where each item is, and which hosts/zones
each rule's placed members use. Filters and strategies read both; only ``State.put`` and
``State.take`` write.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from nfvo.optimizer.model import Demand, HostCapacity, PlacementRule

EPS = 1e-9


@dataclass
class Rule:
    """A rule with its members resolved to demand ids and the label explanations use."""

    kind: str
    scope: str
    members: frozenset[str]
    label: str
    index: int


@dataclass
class Item:
    """One thing a strategy places: a demand, or host-affinity members merged together."""

    index: int
    ids: tuple[str, ...]
    size: np.ndarray
    host: str | None = None
    zone: str | None = None
    exclude_hosts: frozenset[str] = frozenset()
    exclude_zones: frozenset[str] = frozenset()
    rules: tuple[int, ...] = ()
    conflict: str | None = None

    @property
    def static_key(self) -> tuple:
        """What decides the rule-independent filters (host state, pins, exclusions)."""
        return (self.host, self.zone, self.exclude_hosts, self.exclude_zones)


def _label(rule: PlacementRule, members: Iterable[str]) -> str:
    names = sorted(rule.members) or sorted(members)
    shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
    named = f" '{rule.label}'" if rule.label else ""
    return f"{rule.kind} ({rule.scope}) rule{named} over {shown}"


def expand_rules(rules: Iterable[PlacementRule], demands: Sequence[Demand]) -> list[Rule]:
    """Rules with group names replaced by the demand ids they stand for."""
    by_group: dict[str, list[str]] = {}
    ids = {d.id for d in demands}
    for d in demands:
        if d.group is not None:
            by_group.setdefault(d.group, []).append(d.id)
    out = []
    for rule in rules:
        members: set[str] = set()
        for m in rule.members:
            if m in ids:
                members.add(m)
            members.update(by_group.get(m, ()))
        out.append(Rule(rule.kind, rule.scope, frozenset(members), _label(rule, members), len(out)))
    return out


def _find(parent: dict[str, str], x: str) -> str:
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


def _merge_pins(item: Item, d: Demand) -> None:
    for attr in ("zone", "host"):
        pin = getattr(d, attr)
        if pin is None:
            continue
        have = getattr(item, attr)
        if have is not None and have != pin:
            item.conflict = f"host-affinity members are pinned to different {attr}s"
        setattr(item, attr, pin)
    item.exclude_hosts = item.exclude_hosts | d.exclude_hosts
    item.exclude_zones = item.exclude_zones | d.exclude_zones


def build_items(demands: Sequence[Demand], rules: list[Rule]) -> list[Item]:
    """One item per demand, host-affinity members merged; rule indexes attached."""
    parent = {d.id: d.id for d in demands}
    for r in rules:
        if r.kind == "affinity" and r.scope == "host" and r.members:
            first, *rest = sorted(r.members)
            for m in rest:
                parent[_find(parent, m)] = _find(parent, first)
    items: dict[str, Item] = {}
    for d in demands:
        root = _find(parent, d.id)
        item = items.get(root)
        if item is None:
            item = items[root] = Item(len(items), (), np.zeros(3))
        item.ids = (*item.ids, d.id)
        item.size = item.size + np.asarray(d.size(), dtype=float)
        _merge_pins(item, d)
    of_item = {i: it for it in items.values() for i in it.ids}
    listed = list(items.values())
    for r in rules:
        if r.kind == "affinity" and r.scope == "host":
            continue
        counts: dict[int, int] = {}
        for m in r.members:
            counts[of_item[m].index] = counts.get(of_item[m].index, 0) + 1
        for index, count in sorted(counts.items()):
            it = listed[index]
            it.rules = (*it.rules, r.index)
            if r.kind == "anti_affinity" and count > 1:
                it.conflict = f"{r.label} contradicts a host-affinity rule"
    return listed


class Problem:
    """Hosts, items and rules as arrays and lists indexed the same way every time."""

    def __init__(
        self,
        hosts: Sequence[HostCapacity],
        demands: Sequence[Demand],
        rules: Iterable[PlacementRule] = (),
    ) -> None:
        self.all_hosts = list(hosts)
        self.hosts = sorted(hosts, key=lambda h: h.name)
        self.names = [h.name for h in self.hosts]
        self.index = {n: i for i, n in enumerate(self.names)}
        self.free0 = np.array([h.free() for h in self.hosts], dtype=float).reshape(-1, 3)
        total = np.array([h.total() for h in self.hosts], dtype=float).reshape(-1, 3)
        self.total = np.maximum(total, self.free0)
        self.scale = np.where(self.total > 0, self.total, 1.0)
        self.biggest = self.scale.max(axis=0) if len(self.hosts) else np.ones(3)
        self.zones = sorted({h.zone for h in self.hosts})
        zone_code = {z: k for k, z in enumerate(self.zones)}
        self.zone_of = np.array([zone_code[h.zone] for h in self.hosts], dtype=int)
        self.zone_masks = {z: self.zone_of == k for z, k in zone_code.items()}
        self.uniform = bool(
            (self.free0 == self.free0[:1]).all() and (self.total == self.total[:1]).all()
        )
        self.schedulable = np.array([h.schedulable for h in self.hosts], dtype=bool)
        self.demands = {d.id: d for d in demands}
        self.rules = expand_rules(rules, demands)
        self.items = build_items(demands, self.rules)
        self._static: dict[tuple, np.ndarray] = {}

    @property
    def n_hosts(self) -> int:
        return len(self.hosts)

    def zone_mask(self, zone: str) -> np.ndarray:
        """Hosts in ``zone`` (none when no host is there)."""
        mask = self.zone_masks.get(zone)
        return mask if mask is not None else np.zeros(self.n_hosts, dtype=bool)


@dataclass
class State:
    """Where the items are now: free room per host, the host of each item, rule usage."""

    problem: Problem
    free: np.ndarray = field(init=False)
    host_of: list[int] = field(init=False)
    load: np.ndarray = field(init=False)
    rule_hosts: list[dict[int, int]] = field(init=False)
    rule_zones: list[dict[int, int]] = field(init=False)

    def __post_init__(self) -> None:
        p = self.problem
        self.free = p.free0.copy()
        self.host_of = [-1] * len(p.items)
        self.load = np.zeros(p.n_hosts, dtype=int)
        self.rule_hosts = [{} for _ in p.rules]
        self.rule_zones = [{} for _ in p.rules]

    def put(self, item: Item, host: int) -> None:
        """Place ``item`` on ``host`` (the caller checked the filters)."""
        self.free[host] -= item.size
        self.host_of[item.index] = host
        self.load[host] += 1
        zone = int(self.problem.zone_of[host])
        for r in item.rules:
            self.rule_hosts[r][host] = self.rule_hosts[r].get(host, 0) + 1
            self.rule_zones[r][zone] = self.rule_zones[r].get(zone, 0) + 1

    def take(self, item: Item) -> int:
        """Remove ``item`` from its host; returns that host."""
        host = self.host_of[item.index]
        self.free[host] += item.size
        self.host_of[item.index] = -1
        self.load[host] -= 1
        zone = int(self.problem.zone_of[host])
        for r in item.rules:
            for used, key in ((self.rule_hosts[r], host), (self.rule_zones[r], zone)):
                used[key] -= 1
                if not used[key]:
                    del used[key]
        return host

    def used_hosts(self) -> np.ndarray:
        """Indexes of the hosts holding at least one item."""
        return np.flatnonzero(self.load > 0)

    def copy(self) -> State:
        """An independent copy (for strategies that try and roll back)."""
        other = State.__new__(State)
        other.problem = self.problem
        other.free = self.free.copy()
        other.host_of = list(self.host_of)
        other.load = self.load.copy()
        other.rule_hosts = [dict(u) for u in self.rule_hosts]
        other.rule_zones = [dict(u) for u in self.rule_zones]
        return other
