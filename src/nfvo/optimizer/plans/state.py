"""The live placement as a mutable state that only accepts valid moves, and undoes them.

Every move is checked against the state at that moment (capacity, host state, zone pins,
zone affinity, host and zone anti-affinity), so a list of moves recorded in the order they
were made is valid at every prefix. Host-scope affinity members form one *unit* that moves to
one host as a batch. Rules that were already broken before the plan are never made worse.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from nfvo.optimizer.model import HostCapacity, PlacementRule
from nfvo.optimizer.plans.model import Migration, Running

EPS = 1e-9
DOWN_STATES = frozenset({"down"})
WORKING_UNSCHEDULABLE = frozenset({"draining", "sleeping"})


@dataclass
class Unit:
    """Running instances that move together (a host-affinity set, or one instance alone)."""

    key: str
    members: list[str]
    size: np.ndarray
    movable: bool = True
    why_not: str | None = None


@dataclass
class Rules:
    """Rules expanded to running ids, indexed per instance."""

    host_anti: list[set[str]] = field(default_factory=list)
    zone_anti: list[set[str]] = field(default_factory=list)
    labels_host_anti: list[str] = field(default_factory=list)
    labels_zone_anti: list[str] = field(default_factory=list)
    by_id_host_anti: dict[str, list[int]] = field(default_factory=dict)
    by_id_zone_anti: dict[str, list[int]] = field(default_factory=dict)
    zone_locked: set[str] = field(default_factory=set)
    host_affinity: list[set[str]] = field(default_factory=list)


def _expand(rules: Iterable[PlacementRule], running: Sequence[Running]) -> Rules:
    by_group: dict[str, list[str]] = {}
    ids = {r.id for r in running}
    for r in running:
        if r.group is not None:
            by_group.setdefault(r.group, []).append(r.id)
    out = Rules()
    for rule in rules:
        members: set[str] = set()
        for m in rule.members:
            if m in ids:
                members.add(m)
            members.update(by_group.get(m, ()))
        label = rule.label or f"{rule.kind}({', '.join(sorted(rule.members))})"
        if rule.kind == "affinity" and rule.scope == "host":
            out.host_affinity.append(members)
        elif rule.kind == "affinity":
            out.zone_locked.update(members)
        elif rule.scope == "host":
            out.by_id_host_anti.update(
                {m: [*out.by_id_host_anti.get(m, []), len(out.host_anti)] for m in members}
            )
            out.host_anti.append(members)
            out.labels_host_anti.append(label)
        else:
            out.by_id_zone_anti.update(
                {m: [*out.by_id_zone_anti.get(m, []), len(out.zone_anti)] for m in members}
            )
            out.zone_anti.append(members)
            out.labels_zone_anti.append(label)
    return out


def _refuse_duplicates(what: str, names: Sequence[str]) -> None:
    twice = sorted(n for n, count in Counter(names).items() if count > 1)
    if twice:
        raise ValueError(f"{what} named more than once: {', '.join(twice)}")


def host_is_down(host: HostCapacity) -> bool:
    """A down host's instances cannot be live-migrated (evacuation is another operation).
    A host an availability window drains or keeps asleep works: only placements avoid it."""
    if host.state in WORKING_UNSCHEDULABLE:
        return False
    return not host.up or host.state in DOWN_STATES


class PlanState:
    """Hosts, where each running instance is, and the rules; moves are checked and undoable."""

    def __init__(
        self,
        hosts: Sequence[HostCapacity],
        running: Sequence[Running],
        rules: Sequence[PlacementRule],
    ) -> None:
        _refuse_duplicates("host", [h.name for h in hosts])
        _refuse_duplicates("running instance", [r.id for r in running])
        self.hosts = sorted(hosts, key=lambda h: h.name)
        self.names = [h.name for h in self.hosts]
        self.index = {n: i for i, n in enumerate(self.names)}
        self.zone = [h.zone for h in self.hosts]
        self.items = {r.id: r for r in sorted(running, key=lambda r: r.id)}
        unknown = sorted({r.host for r in running} - set(self.index))
        if unknown:
            raise ValueError(f"running instances on unknown hosts: {', '.join(unknown)}")
        self.pos = {r.id: self.index[r.host] for r in self.items.values()}
        self.on_host: list[set[str]] = [set() for _ in self.hosts]
        for rid, h in self.pos.items():
            self.on_host[h].add(rid)
        self.free = np.array([h.free() for h in self.hosts], dtype=float).reshape(-1, 3)
        self.cap = self._capacity()
        self.inv_cap = np.where(self.cap > EPS, 1.0 / np.where(self.cap > EPS, self.cap, 1.0), 0.0)
        self.schedulable = np.array([h.schedulable for h in self.hosts], dtype=bool)
        self.rules = _expand(rules, list(self.items.values()))
        self.zone_lock = {rid: self.zone[self.pos[rid]] for rid in self.rules.zone_locked}
        self.units = self._units()
        self.unit_of = {m: u.key for u in self.units.values() for m in u.members}

    def _capacity(self) -> np.ndarray:
        cap = np.zeros_like(self.free)
        for i, h in enumerate(self.hosts):
            used = [0.0, 0.0, 0.0]
            for rid in self.on_host[i]:
                used = [a + b for a, b in zip(used, self.items[rid].size(), strict=True)]
            given = (h.vcpus_total, h.ram_mib_total, h.disk_gib_total)
            for d in range(3):
                cap[i, d] = given[d] if given[d] is not None else self.free[i, d] + used[d]
        return cap

    def _units(self) -> dict[str, Unit]:
        parent = {rid: rid for rid in self.items}

        def find(x: str) -> str:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for members in self.rules.host_affinity:
            if not members:
                continue
            first, *rest = sorted(members)
            for m in rest:
                parent[find(m)] = find(first)
        groups: dict[str, list[str]] = {}
        for rid in self.items:
            groups.setdefault(find(rid), []).append(rid)
        units = {}
        for members in groups.values():
            members.sort()
            size = np.sum([self.items[m].size() for m in members], axis=0)
            unit = Unit(members[0], members, np.asarray(size, dtype=float))
            for m in members:
                item, host = self.items[m], self.hosts[self.pos[m]]
                if not item.movable:
                    unit.movable, unit.why_not = False, f"{m} is not movable"
                elif host_is_down(host):
                    unit.movable = False
                    unit.why_not = f"{m} is on host {host.name}, which is down"
            units[unit.key] = unit
        return units

    # --- metrics --------------------------------------------------------------------------

    def load(self) -> np.ndarray:
        """Per host, the largest share of any dimension in use (0 for a host with no room)."""
        used = self.cap - self.free
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(self.cap > EPS, used / np.where(self.cap > EPS, self.cap, 1), 0.0)
        return share.max(axis=1)

    def in_use(self) -> list[int]:
        """Hosts holding at least one running instance."""
        return [i for i, ids in enumerate(self.on_host) if ids]

    def units_on(self, h: int) -> list[Unit]:
        """Units with a member on host ``h``, largest first (ties by key)."""
        keys = {self.unit_of[rid] for rid in self.on_host[h]}
        units = [self.units[k] for k in sorted(keys)]
        return sorted(units, key=lambda u: -self.share(u.size, h))

    def share(self, size: np.ndarray, h: int) -> float:
        """How much of host ``h`` a size takes (sum of dimension shares)."""
        return float(size @ self.inv_cap[h])

    # --- moves ----------------------------------------------------------------------------

    def fits(self, unit: Unit, exclude: Iterable[int] = ()) -> np.ndarray:
        """Mask of hosts that could take the unit by capacity and state (rules not checked)."""
        ok = np.all(self.free - unit.size >= -EPS, axis=1) & self.schedulable
        if len(unit.members) == 1:
            h = self.pos[unit.members[0]]
            ok[h] = bool(np.all(self.free[h] >= -EPS)) and self.schedulable[h]
        for h in {self.pos[m] for m in unit.members} if len(unit.members) > 1 else ():
            back = sum(np.asarray(self.items[m].size()) for m in unit.members if self.pos[m] == h)
            ok[h] = bool(np.all(self.free[h] + back - unit.size >= -EPS)) and self.schedulable[h]
        for h in exclude:
            ok[h] = False
        return ok

    def rules_allow(self, unit: Unit, target: int) -> bool:
        """Whether moving the unit to ``target`` keeps zone pins and every rule."""
        return self.blocker(unit, target) is None

    def blocker(self, unit: Unit, target: int) -> str | None:
        """What forbids moving the unit to ``target`` (a pin or a rule, named), or None."""
        tz = self.zone[target]
        inside = set(unit.members)
        rules = self.rules
        for m in unit.members:
            item = self.items[m]
            if item.zone_pin is not None and item.zone_pin != tz:
                return f"{m} is pinned to zone {item.zone_pin}"
            if m in self.zone_lock and self.zone_lock[m] != tz:
                return f"{m} must stay in zone {self.zone_lock[m]} (zone affinity)"
            for r in rules.by_id_host_anti.get(m, ()):
                others = rules.host_anti[r] - inside
                if (
                    any(self.pos[o] == target for o in others)
                    or len(rules.host_anti[r] & inside) > 1
                ):
                    return (
                        f"{m} would share a host with another member of {rules.labels_host_anti[r]}"
                    )
            if self.zone[self.pos[m]] == tz:
                continue
            for r in rules.by_id_zone_anti.get(m, ()):
                others = rules.zone_anti[r] - inside
                if (
                    any(self.zone[self.pos[o]] == tz for o in others)
                    or len(rules.zone_anti[r] & inside) > 1
                ):
                    return (
                        f"{m} would share a zone with another member of {rules.labels_zone_anti[r]}"
                    )
        return None

    def move(self, unit: Unit, target: int, batch: int | None) -> list[Migration]:
        """Move every member of the unit not already on ``target``; the migrations made."""
        out = []
        for m in unit.members:
            src = self.pos[m]
            if src == target:
                continue
            item = self.items[m]
            size = item.size()
            self.free[src] += size
            self.free[target] -= size
            self.on_host[src].discard(m)
            self.on_host[target].add(m)
            self.pos[m] = target
            out.append(
                Migration(m, self.names[src], self.names[target], item.ns_id, item.vnf_id, batch)
            )
        return out

    def undo(self, migrations: Sequence[Migration]) -> None:
        """Reverse ``migrations`` (most recent last in the list)."""
        for mig in reversed(migrations):
            src, tgt = self.index[mig.source], self.index[mig.target]
            size = self.items[mig.demand_id].size()
            self.free[tgt] += size
            self.free[src] -= size
            self.on_host[tgt].discard(mig.demand_id)
            self.on_host[src].add(mig.demand_id)
            self.pos[mig.demand_id] = src


def metrics(state: PlanState) -> dict[str, object]:
    """Hosts used, per-host load, and the spread of load over the schedulable hosts."""
    load = state.load()
    sched = [float(load[i]) for i in range(len(state.names)) if state.schedulable[i]]
    return {
        "hostsUsed": len(state.in_use()),
        "load": {n: round(float(load[i]), 4) for i, n in enumerate(state.names)},
        "maxLoad": round(max(sched), 4) if sched else 0.0,
        "minLoad": round(min(sched), 4) if sched else 0.0,
        "spread": round(max(sched) - min(sched), 4) if sched else 0.0,
        "stddev": round(float(np.std(sched)), 4) if sched else 0.0,
    }
