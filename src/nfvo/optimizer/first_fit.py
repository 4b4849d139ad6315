"""First-fit decreasing placement with a bin-packing lower bound.

Demands are sorted by their dominant share (the largest of vcpus, RAM and disk as a
fraction of the largest host's free amount) and each goes to the first up host, in the
given host order, that fits it and keeps every rule. Host-scope affinity members are
merged into one item first (they must share a host, so they are packed together);
zone-scope affinity follows the zone of the first placed member; anti-affinity excludes
the hosts (or zones) already used by the rule's other members. A demand that cannot be
placed is listed with a reason naming what is missing; infeasibility never raises.

The lower bound counts the placed demands only: max over dimensions of
ceil(total / largest host free amount), the size of the largest host-scope anti-affinity
set, and 1 when anything is placed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from nfvo.optimizer.model import Demand, HostCapacity, Placement, PlacementRule

NAME = "first_fit"
DIMS = ("vcpus", "ram_mib", "disk_gib")
_EPS = 1e-9


@dataclass
class _Rule:
    kind: str
    scope: str
    members: set[str]
    label: str


@dataclass
class _Item:
    ids: list[str]
    size: list[float]
    zone: str | None = None
    host: str | None = None
    rules: list[int] = field(default_factory=list)
    conflict: str | None = None


def _expand(rules: Iterable[PlacementRule], demands: Sequence[Demand]) -> list[_Rule]:
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
        names = sorted(rule.members)
        shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
        label = f"{rule.kind} ({rule.scope}) rule over {shown}"
        out.append(_Rule(rule.kind, rule.scope, members, label))
    return out


def _find(parent: dict[str, str], x: str) -> str:
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


def _merge_pins(item: _Item, d: Demand) -> None:
    for attr in ("zone", "host"):
        pin = getattr(d, attr)
        if pin is None:
            continue
        have = getattr(item, attr)
        if have is not None and have != pin:
            item.conflict = f"host-affinity members are pinned to different {attr}s"
        setattr(item, attr, pin)


def _items(demands: Sequence[Demand], rules: list[_Rule]) -> list[_Item]:
    """One item per demand, host-affinity members merged; rule indexes attached."""
    parent = {d.id: d.id for d in demands}
    for r in rules:
        if r.kind == "affinity" and r.scope == "host" and r.members:
            first, *rest = sorted(r.members)
            for m in rest:
                parent[_find(parent, m)] = _find(parent, first)
    items: dict[str, _Item] = {}
    for d in demands:
        root = _find(parent, d.id)
        item = items.setdefault(root, _Item(ids=[], size=[0.0, 0.0, 0.0]))
        item.ids.append(d.id)
        item.size = [a + b for a, b in zip(item.size, d.size(), strict=True)]
        _merge_pins(item, d)
    of_item = {i: root for root, it in items.items() for i in it.ids}
    for index, r in enumerate(rules):
        if r.kind == "affinity" and r.scope == "host":
            continue
        roots: dict[str, int] = {}
        for m in r.members:
            roots[of_item[m]] = roots.get(of_item[m], 0) + 1
        for root, count in roots.items():
            items[root].rules.append(index)
            if r.kind == "anti_affinity" and count > 1:
                items[root].conflict = f"{r.label} contradicts a host-affinity rule"
    return list(items.values())


class _Packer:
    """Mutable packing state: free capacity, open hosts, what each rule has used."""

    def __init__(self, hosts: list[HostCapacity], rules: list[_Rule], floor: list[float]):
        self.hosts = hosts
        self.free = [list(h.free()) for h in hosts]
        self.index = {h.name: i for i, h in enumerate(hosts)}
        self.rules = rules
        self.used: list[set[str]] = [set() for _ in rules]  # hosts or zones per rule
        self.floor = floor
        self.open = list(range(len(hosts)))
        self.closed = [False] * len(hosts)
        self.n_closed = 0

    def allowed(self, i: int, item: _Item, zone: str | None) -> bool:
        host = self.hosts[i]
        if zone is not None and host.zone != zone:
            return False
        for r in item.rules:
            rule = self.rules[r]
            key = host.name if rule.scope == "host" else host.zone
            if rule.kind == "anti_affinity" and key in self.used[r]:
                return False
            if rule.kind == "affinity" and self.used[r] and key not in self.used[r]:
                return False
        return True

    def fits(self, i: int, size: list[float]) -> bool:
        free = self.free[i]
        return free[0] + _EPS >= size[0] and free[1] + _EPS >= size[1] and free[2] + _EPS >= size[2]

    def candidates(self, item: _Item) -> list[int]:
        if item.host is not None:
            i = self.index.get(item.host)
            return [] if i is None else [i]
        if self.n_closed * 2 > len(self.open) and self.n_closed > 64:
            self.open = [i for i in self.open if not self.closed[i]]
            self.n_closed = 0
        return self.open

    def find(self, item: _Item) -> int | None:
        for i in self.candidates(item):
            if self.closed[i] and item.host is None:
                continue
            if self.fits(i, item.size) and self.allowed(i, item, item.zone):
                return i
        return None

    def take(self, i: int, item: _Item) -> None:
        free = self.free[i]
        for d in range(3):
            free[d] -= item.size[d]
        host = self.hosts[i]
        for r in item.rules:
            self.used[r].add(host.name if self.rules[r].scope == "host" else host.zone)
        if not self.closed[i] and any(free[d] + _EPS < self.floor[d] for d in range(3)):
            self.closed[i] = True
            self.n_closed += 1

    def reason(self, item: _Item, all_hosts: Sequence[HostCapacity]) -> str:
        """Why no host takes ``item``: the first missing thing, most specific first."""
        if item.conflict:
            return item.conflict
        if item.host is not None and item.host not in self.index:
            known = any(h.name == item.host for h in all_hosts)
            return f"pinned host {item.host} is {'down' if known else 'unknown'}"
        pool = range(len(self.hosts)) if item.host is None else [self.index[item.host]]
        pinned = [i for i in pool if item.zone is None or self.hosts[i].zone == item.zone]
        if not pinned:
            where = f"zone {item.zone}" if item.zone else "the inventory"
            return f"no up host in {where}" + (f" named {item.host}" if item.host else "")
        ruled = [i for i in pinned if self.allowed(i, item, item.zone)]
        if not ruled:
            labels = "; ".join(
                self.rules[r].label
                for r in item.rules
                if any(not self.allowed(i, _Item([], [], rules=[r]), None) for i in pinned)
            )
            return f"every candidate host is excluded by {labels}"
        short = []
        for d, dim in enumerate(DIMS):
            most = max(self.free[i][d] for i in ruled)
            if most + _EPS < item.size[d]:
                short.append(f"{dim} (need {item.size[d]:g}, at most {most:g} free)")
        if short:
            return "not enough " + ", ".join(short)
        need = ", ".join(f"{dim}={item.size[d]:g}" for d, dim in enumerate(DIMS))
        return f"no single host has {need} free together"


def _largest(hosts: Sequence[HostCapacity]) -> list[float]:
    return [max((h.free()[d] for h in hosts), default=0.0) for d in range(3)]


def _share(size: list[float], largest: list[float]) -> float:
    return max(
        (s / m if m > 0 else math.inf if s > 0 else 0.0) for s, m in zip(size, largest, strict=True)
    )


def lower_bound(
    placed: Sequence[Demand], largest: Sequence[float], distinct_hosts: int = 0
) -> float:
    """Hosts needed at least: max over dimensions of ceil(total / largest free amount)."""
    if not placed:
        return 0.0
    bound = max(1, distinct_hosts)
    for d in range(3):
        total = sum(x.size()[d] for x in placed)
        if largest[d] > 0:
            bound = max(bound, math.ceil(total / largest[d] - 1e-9))
    return float(bound)


def first_fit(
    hosts: Sequence[HostCapacity],
    demands: Sequence[Demand],
    rules: Iterable[PlacementRule] = (),
) -> Placement:
    """Place ``demands`` on ``hosts`` by first-fit decreasing; see the module docstring."""
    start = time.perf_counter()
    up = [h for h in hosts if h.up]
    largest = _largest(up)
    expanded = _expand(rules, demands)
    items = _items(demands, expanded)
    items.sort(key=lambda it: (-_share(it.size, largest), it.ids[0]))
    floor = [min((x.size()[d] for x in demands), default=0.0) for d in range(3)]
    packer = _Packer(up, expanded, floor)
    assignments: dict[str, str] = {}
    unplaced: dict[str, str] = {}
    for item in items:
        i = None if item.conflict else packer.find(item)
        if i is None:
            why = packer.reason(item, hosts)
            unplaced.update((d, why) for d in item.ids)
            continue
        packer.take(i, item)
        assignments.update((d, up[i].name) for d in item.ids)
    placed = [d for d in demands if d.id in assignments]
    spread = max(
        (
            len(r.members & assignments.keys())
            for r in expanded
            if r.kind == "anti_affinity" and r.scope == "host"
        ),
        default=0,
    )
    objective = float(len(set(assignments.values())))
    bound = lower_bound(placed, largest, spread)
    return Placement(
        assignments=assignments,
        unplaced=unplaced,
        objective=objective,
        lower_bound=bound,
        gap=(objective - bound) / objective if objective else 0.0,
        solve_time_s=time.perf_counter() - start,
        algorithm=NAME,
    )
