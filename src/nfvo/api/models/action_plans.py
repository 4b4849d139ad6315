"""``/admin/v1/action_plans`` representations: consolidation and rebalance plans."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from nfvo.api.models.common import Closed, Open, optional


class ActionPlanCreate(Closed):
    """What to plan: one VIM account and a goal (OpenStack Watcher's names)."""

    vimAccountId: str = Field(min_length=1, max_length=36)
    goal: Literal["server_consolidation", "workload_balancing"]
    maxMigrations: int = optional("at most this many migrations", ge=0, le=100_000)
    targetSpread: float = optional(
        "workload_balancing: the spread of host load to reach (0..1)", ge=0.0, le=1.0
    )


class ActionPlanMigration(Open):
    """One migration of a plan, in execution order, and how applying it went."""

    seq: int
    vduInstance: str = Field(description="<vnfInstanceId>/<vduId>-<index>")
    serverId: str | None = None
    nsInstanceId: str
    vnfInstanceId: str
    source: str
    target: str
    batch: int | None = Field(None, description="migrations of one batch move together")
    state: Literal["PENDING", "DONE", "FAILED", "SKIPPED"]
    nsLcmOpOccId: str | None = None
    reason: str | None = None


class ActionPlanView(Open):
    """A consolidation or rebalance plan of one VIM account."""

    id: str
    vimAccountId: str
    goal: str
    state: Literal["RECOMMENDED", "APPLYING", "SUCCEEDED", "FAILED", "CANCELLED", "SUPERSEDED"]
    params: dict[str, Any] = Field(default_factory=dict)
    migrations: list[ActionPlanMigration] = Field(default_factory=list)
    hostsEmptied: list[str] = Field(default_factory=list)
    emptiableBound: int | None = None
    before: Any = None
    after: Any = None
    unmet: Any = None
    solveTimeS: float | None = None
    nsLcmOpOccIds: list[str] = Field(default_factory=list)
    detail: str | None = None
    createdAt: str | None = None
    tenantId: str | None = None
