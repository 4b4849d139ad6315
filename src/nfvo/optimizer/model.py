"""Plain data the placement algorithms read and write.

The optimizer is a pure function: the caller turns its inventory view into
``HostCapacity`` rows (free = capacity x allocation ratio - used) and its plan into
``Demand`` rows and ``PlacementRule`` rows; a strategy answers with a ``Placement``
that always carries its bound (objective, lower bound, gap, solve time) and, per demand,
an ``Explanation`` (which filter removed which hosts, the chosen host's score, or what
blocks it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

RuleKind = Literal["affinity", "anti_affinity"]
RuleScope = Literal["host", "zone"]
DIMS: tuple[str, str, str] = ("vcpus", "ram_mib", "disk_gib")
# Host states a placement may use; every other state (down, disabled, sleeping, draining, ...)
# makes the host unschedulable.
SCHEDULABLE = "up"


@dataclass(frozen=True)
class HostCapacity:
    """What one compute host can still take; the caller computes the free amounts.

    ``*_total`` is the host's whole usable room (capacity x allocation ratio), for scores that
    need the fill ratio (pack, spread, consolidation); None when only the free room is known,
    and then the free room stands in for it. ``state`` other than ``up`` (or ``up=False``)
    makes the host unschedulable; ``labels`` are free-form (aggregate, rack, ...).
    """

    name: str
    zone: str
    vcpus_free: float
    ram_mib_free: float
    disk_gib_free: float
    up: bool = True
    vcpus_total: float | None = None
    ram_mib_total: float | None = None
    disk_gib_total: float | None = None
    state: str = SCHEDULABLE
    labels: tuple[tuple[str, str], ...] = ()

    def free(self) -> tuple[float, float, float]:
        """Free capacity as a (vcpus, ram_mib, disk_gib) vector."""
        return (self.vcpus_free, self.ram_mib_free, self.disk_gib_free)

    def total(self) -> tuple[float, float, float]:
        """Usable capacity (capacity x allocation ratio) as a vector; free room where unknown."""
        return (
            self.vcpus_free if self.vcpus_total is None else self.vcpus_total,
            self.ram_mib_free if self.ram_mib_total is None else self.ram_mib_total,
            self.disk_gib_free if self.disk_gib_total is None else self.disk_gib_total,
        )

    @property
    def schedulable(self) -> bool:
        """Whether a placement may put anything on this host."""
        return self.up and self.state == SCHEDULABLE

    @classmethod
    def from_inventory(
        cls,
        name: str,
        zone: str,
        capacity: tuple[float, float, float],
        ratios: tuple[float, float, float],
        used: tuple[float, float, float],
        state: str = SCHEDULABLE,
        labels: Mapping[str, str] | None = None,
    ) -> HostCapacity:
        """A host from its raw capacity, allocation ratios and usage (all per dimension)."""
        total = [c * r for c, r in zip(capacity, ratios, strict=True)]
        free = [t - u for t, u in zip(total, used, strict=True)]
        return cls(
            name,
            zone,
            free[0],
            free[1],
            free[2],
            up=state == SCHEDULABLE,
            vcpus_total=total[0],
            ram_mib_total=total[1],
            disk_gib_total=total[2],
            state=state,
            labels=tuple(sorted((labels or {}).items())),
        )


@dataclass(frozen=True)
class Demand:
    """One thing to place (typically one VDU instance), with optional zone/host pins.

    ``group`` names a set of demands (e.g. all instances of one VDU of one VNF) so a rule
    can name the group instead of listing every demand id. ``vnf_id``/``ns_id`` say whose it
    is (explanations, consolidation). ``exclude_hosts``/``exclude_zones``: where it must not go.
    """

    id: str
    vcpus: float
    ram_mib: float
    disk_gib: float
    zone: str | None = None
    host: str | None = None
    group: str | None = None
    vnf_id: str | None = None
    ns_id: str | None = None
    exclude_hosts: frozenset[str] = frozenset()
    exclude_zones: frozenset[str] = frozenset()

    def size(self) -> tuple[float, float, float]:
        """Requested resources as a (vcpus, ram_mib, disk_gib) vector."""
        return (self.vcpus, self.ram_mib, self.disk_gib)


@dataclass(frozen=True)
class PlacementRule:
    """Affinity (same host/zone) or anti-affinity (distinct hosts/zones) between members.

    A member is a demand id or a demand ``group``; a group stands for all its demands.
    ``label`` is how explanations name the rule (e.g. the descriptor's policy name).
    """

    kind: RuleKind
    scope: RuleScope
    members: list[str] = field(default_factory=list)
    label: str | None = None


@dataclass(frozen=True)
class FilterVerdict:
    """What one filter did for one demand: how many hosts it removed, a few of them named."""

    filter: str
    removed: int
    examples: tuple[str, ...] = ()


@dataclass
class Explanation:
    """Why a demand went where it went, or why it went nowhere.

    ``filtered`` lists every filter in the order they ran with the hosts each removed (of
    those still candidates); ``candidates`` is how many hosts passed all of them; ``score`` is
    the strategy's score of the chosen host (documented by the strategy; lower is better).
    For an unplaced demand, ``reason`` is a sentence naming what blocks it, ``blocking_rule``
    the rule's label and ``blocking_dimension`` one of ``DIMS`` when capacity is short.
    """

    demand_id: str
    host: str | None = None
    zone: str | None = None
    score: float | None = None
    candidates: int = 0
    filtered: list[FilterVerdict] = field(default_factory=list)
    reason: str | None = None
    blocking_rule: str | None = None
    blocking_dimension: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The API's camelCase view."""
        out: dict[str, Any] = {
            "demandId": self.demand_id,
            "host": self.host,
            "zone": self.zone,
            "score": self.score,
            "candidates": self.candidates,
            "filtered": [
                {"filter": f.filter, "removed": f.removed, "examples": list(f.examples)}
                for f in self.filtered
            ],
        }
        if self.reason is not None:
            out["reason"] = self.reason
            out["blockingRule"] = self.blocking_rule
            out["blockingDimension"] = self.blocking_dimension
        return out


@dataclass
class Placement:
    """An algorithm's answer: where each demand goes, what could not go, and the bound.

    ``objective`` is the number of hosts used (hosts that were empty before and now hold a
    placed demand count the same as already-used ones: every host holding a placed demand);
    ``lower_bound`` a proven minimum for the placed demands (the best of ``bounds``, which
    names each bound computed: ``volume``, ``anti_affinity``, ``configuration_lp``);
    ``gap`` = (objective - lower_bound) / objective (0 when nothing is placed).
    ``explanations`` holds one entry per demand (placed or not).
    """

    assignments: dict[str, str]
    unplaced: dict[str, str]
    objective: float
    lower_bound: float
    gap: float
    solve_time_s: float
    algorithm: str
    explanations: dict[str, Explanation] = field(default_factory=dict)
    bounds: dict[str, float] = field(default_factory=dict)
    bound_time_s: float = 0.0
