"""Plain data the placement algorithms read and write.

The optimizer is a pure function: the caller turns its inventory view into
``HostCapacity`` rows (free = capacity x allocation ratio - used) and its plan into
``Demand`` rows and ``PlacementRule`` rows; an algorithm answers with a ``Placement``
that always carries its bound (objective, lower bound, gap, solve time).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

RuleKind = Literal["affinity", "anti_affinity"]
RuleScope = Literal["host", "zone"]


@dataclass(frozen=True)
class HostCapacity:
    """What one compute host can still take; the caller computes the free amounts."""

    name: str
    zone: str
    vcpus_free: float
    ram_mib_free: float
    disk_gib_free: float
    up: bool = True

    def free(self) -> tuple[float, float, float]:
        """Free capacity as a (vcpus, ram_mib, disk_gib) vector."""
        return (self.vcpus_free, self.ram_mib_free, self.disk_gib_free)


@dataclass(frozen=True)
class Demand:
    """One thing to place (typically one VDU instance), with optional zone/host pins.

    ``group`` names a set of demands (e.g. all instances of one VDU of one VNF) so a rule
    can name the group instead of listing every demand id.
    """

    id: str
    vcpus: float
    ram_mib: float
    disk_gib: float
    zone: str | None = None
    host: str | None = None
    group: str | None = None

    def size(self) -> tuple[float, float, float]:
        """Requested resources as a (vcpus, ram_mib, disk_gib) vector."""
        return (self.vcpus, self.ram_mib, self.disk_gib)


@dataclass(frozen=True)
class PlacementRule:
    """Affinity (same host/zone) or anti-affinity (distinct hosts/zones) between members.

    A member is a demand id or a demand ``group``; a group stands for all its demands.
    """

    kind: RuleKind
    scope: RuleScope
    members: list[str] = field(default_factory=list)


@dataclass
class Placement:
    """An algorithm's answer: where each demand goes, what could not go, and the bound.

    ``objective`` is the number of hosts used; ``lower_bound`` a proven minimum for the placed
    demands; ``gap`` = (objective - lower_bound) / objective (0 when nothing is placed).
    """

    assignments: dict[str, str]
    unplaced: dict[str, str]
    objective: float
    lower_bound: float
    gap: float
    solve_time_s: float
    algorithm: str
