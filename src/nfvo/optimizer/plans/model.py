"""Plain data of consolidation and rebalance plans: what runs where now, and the moves."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

GOAL_CONSOLIDATION = "server_consolidation"
GOAL_BALANCING = "workload_balancing"


@dataclass(frozen=True)
class Running:
    """One VDU instance running now: the unit a plan may migrate.

    ``id`` is what rules name (exactly as ``PlacementRule`` members name demands; a member may
    also be a ``group``). ``zone_pin``: it must stay in that zone. ``movable=False``: pinned
    to its host or not migratable; a plan never moves it.
    """

    id: str
    host: str
    vcpus: float
    ram_mib: float
    disk_gib: float
    group: str | None = None
    vnf_id: str | None = None
    ns_id: str | None = None
    zone_pin: str | None = None
    movable: bool = True

    def size(self) -> tuple[float, float, float]:
        """Resources it holds as a (vcpus, ram_mib, disk_gib) vector."""
        return (self.vcpus, self.ram_mib, self.disk_gib)


@dataclass(frozen=True)
class Migration:
    """One move of a running VDU instance from ``source`` to ``target``.

    ``batch`` numbers the migrations that must be applied together (the members of a
    host-scope affinity rule move as one; between them the rule is briefly split); None when
    the move stands alone.
    """

    demand_id: str
    source: str
    target: str
    ns_id: str | None
    vnf_id: str | None
    batch: int | None = None


@dataclass
class ActionPlan:
    """A plan's answer: the ordered migrations, what they achieve, and the bound.

    ``migrations`` are in execution order: after every prefix each host respects its
    capacity and every rule that held before still holds. ``emptiable_bound`` is a proven
    upper bound on the number of hosts a consolidation can empty; ``before``/``after`` hold
    the metrics (``hostsUsed``, ``load`` per host, ``spread``, ``maxLoad``, ``minLoad``);
    ``unmet`` says, one sentence each, what was not reached and why.
    """

    goal: str
    migrations: list[Migration] = field(default_factory=list)
    hosts_emptied: list[str] = field(default_factory=list)
    emptiable_bound: int = 0
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)
    unmet: list[str] = field(default_factory=list)
    solve_time_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """The API's camelCase view."""
        return {
            "goal": self.goal,
            "migrations": [
                {
                    "demandId": m.demand_id,
                    "source": m.source,
                    "target": m.target,
                    "nsInstanceId": m.ns_id,
                    "vnfInstanceId": m.vnf_id,
                    "batch": m.batch,
                }
                for m in self.migrations
            ],
            "hostsEmptied": list(self.hosts_emptied),
            "emptiableBound": self.emptiable_bound,
            "before": self.before,
            "after": self.after,
            "unmet": list(self.unmet),
            "solveTimeS": self.solve_time_s,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ActionPlan:
        """The plan back from its ``to_dict`` view (e.g. as stored)."""
        return cls(
            goal=data["goal"],
            migrations=[
                Migration(
                    m["demandId"],
                    m["source"],
                    m["target"],
                    m.get("nsInstanceId"),
                    m.get("vnfInstanceId"),
                    m.get("batch"),
                )
                for m in data.get("migrations", [])
            ],
            hosts_emptied=list(data.get("hostsEmptied", [])),
            emptiable_bound=int(data.get("emptiableBound", 0)),
            before=dict(data.get("before", {})),
            after=dict(data.get("after", {})),
            unmet=list(data.get("unmet", [])),
            solve_time_s=float(data.get("solveTimeS", 0.0)),
        )
