"""Independent placement checker: re-verifies an assignment from raw data.

It knows nothing of the optimizer's filters or strategies (it imports nothing from
``nfvo.optimizer``): hosts, demands and rules are read by attribute name only, so it checks the
optimizer and the benchmark's own baselines by the same rules. Each violation is a dict with a
``kind`` (``unknown_host``, ``host_down``, ``capacity``, ``zone_pin``, ``host_pin``,
``excluded_host``, ``excluded_zone``, ``affinity_host``, ``affinity_zone``,
``anti_affinity_host``, ``anti_affinity_zone``) and what it concerns.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

DIMS = ("vcpus", "ram_mib", "disk_gib")
_EPS = 1e-6


def _up(host: Any) -> bool:
    return bool(getattr(host, "up", True)) and getattr(host, "state", "up") == "up"


def _members(rule: Any, ids: set[str], groups: Mapping[str, list[str]]) -> set[str]:
    out: set[str] = set()
    for m in rule.members:
        if m in ids:
            out.add(m)
        out.update(groups.get(m, ()))
    return out


def _per_demand(demand: Any, host: Any) -> list[dict[str, Any]]:
    out = []
    if demand.zone is not None and host.zone != demand.zone:
        out.append({"kind": "zone_pin", "demand": demand.id, "want": demand.zone, "got": host.zone})
    if demand.host is not None and host.name != demand.host:
        out.append({"kind": "host_pin", "demand": demand.id, "want": demand.host, "got": host.name})
    if host.name in getattr(demand, "exclude_hosts", ()):
        out.append({"kind": "excluded_host", "demand": demand.id, "host": host.name})
    if host.zone in getattr(demand, "exclude_zones", ()):
        out.append({"kind": "excluded_zone", "demand": demand.id, "zone": host.zone})
    return out


def _capacity(hosts: Mapping[str, Any], load: Mapping[str, list[float]]) -> list[dict[str, Any]]:
    out = []
    for name, used in load.items():
        host = hosts[name]
        for d, dim in enumerate(DIMS):
            free = getattr(host, f"{dim}_free")
            if used[d] > free + _EPS * max(1.0, abs(free)):
                out.append(
                    {
                        "kind": "capacity",
                        "host": name,
                        "dimension": dim,
                        "used": used[d],
                        "free": free,
                    }
                )
    return out


def _rules(
    rules: Iterable[Any], by_id: Mapping[str, Any], assignments: Mapping[str, str], hosts: Any
) -> list[dict[str, Any]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for d in by_id.values():
        if d.group is not None:
            groups[d.group].append(d.id)
    out = []
    for index, rule in enumerate(rules):
        placed = sorted(m for m in _members(rule, set(by_id), groups) if m in assignments)
        where = [
            assignments[m] if rule.scope == "host" else hosts[assignments[m]].zone for m in placed
        ]
        label = rule.label or f"rule {index}"
        kind = f"{rule.kind}_{rule.scope}"
        if rule.kind == "affinity" and len(set(where)) > 1:
            out.append({"kind": kind, "rule": label, "spread_over": sorted(set(where))})
        if rule.kind == "anti_affinity" and len(set(where)) < len(where):
            seen: dict[str, int] = defaultdict(int)
            for w in where:
                seen[w] += 1
            out.append(
                {"kind": kind, "rule": label, "shared": sorted(w for w, c in seen.items() if c > 1)}
            )
    return out


def check(
    hosts: Sequence[Any],
    demands: Sequence[Any],
    rules: Iterable[Any],
    assignments: Mapping[str, str],
) -> list[dict[str, Any]]:
    """Every violation of ``assignments`` (demand id -> host name); [] when it is valid."""
    by_name = {h.name: h for h in hosts}
    by_id = {d.id: d for d in demands}
    out: list[dict[str, Any]] = []
    load: dict[str, list[float]] = {}
    for demand_id, host_name in assignments.items():
        demand = by_id.get(demand_id)
        host = by_name.get(host_name)
        if demand is None or host is None:
            out.append({"kind": "unknown_host", "demand": demand_id, "host": host_name})
            continue
        if not _up(host):
            out.append({"kind": "host_down", "demand": demand_id, "host": host_name})
        out.extend(_per_demand(demand, host))
        used = load.setdefault(host_name, [0.0, 0.0, 0.0])
        for d, dim in enumerate(DIMS):
            used[d] += getattr(demand, dim)
    out.extend(_capacity(by_name, load))
    known = {k: v for k, v in assignments.items() if v in by_name and k in by_id}
    out.extend(_rules(rules, by_id, known, by_name))
    return out


def summary(violations: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Violation counts by kind."""
    counts: dict[str, int] = defaultdict(int)
    for v in violations:
        counts[v["kind"]] += 1
    return dict(counts)
