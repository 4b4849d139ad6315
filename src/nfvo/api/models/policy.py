"""``/admin/v1/quotas`` and ``/admin/v1/policy_decisions`` representations."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from nfvo.api.models.common import Closed, Link, Open

_VCPUS = {"ge": 0, "le": 1_000_000}
_RAM = {"ge": 0, "le": 2_000_000_000}
_INSTANCES = {"ge": 0, "le": 1_000_000}


class QuotaLimits(Closed):
    """The limits of a quota (PUT replaces all three; an absent or null limit: unlimited)."""

    maxVcpus: int | None = Field(None, description="virtual CPUs", **_VCPUS)
    maxRamMib: int | None = Field(None, description="RAM in MiB", **_RAM)
    maxInstances: int | None = Field(None, description="VNFCs (VDU instances)", **_INSTANCES)


class QuotaUsage(Open):
    """What the subject's VNFCs hold now (an operation in flight: what it reserved)."""

    vcpus: int
    ramMib: int
    instances: int


class QuotaLinks(Open):
    """Quota._links."""

    self: Link


class QuotaView(Open):
    """The quota of a tenant or an NS instance and its usage (limits null: unlimited; id
    null when no quota is set)."""

    id: str | None = None
    scope: Literal["TENANT", "NS"]
    tenantId: str | None = None
    nsInstanceId: str | None = None
    maxVcpus: int | None = None
    maxRamMib: int | None = None
    maxInstances: int | None = None
    usage: QuotaUsage
    links: QuotaLinks = Field(alias="_links")


class DecisionLinks(Open):
    """PolicyDecision._links."""

    self: Link


class PolicyDecision(Open):
    """One decision of the policy engine: what it evaluated, whether it acted and why."""

    id: str
    kind: Literal["AUTO_SCALE", "AUTO_HEAL", "WINDOW", "QUOTA"]
    decision: Literal["ACTED", "DECLINED"]
    reason: str = Field(description="ACTED, COOLDOWN, IN_FLIGHT, MAX_LEVEL, QUOTA, ...")
    action: str
    policyId: str | None = None
    nsInstanceId: str | None = None
    tenantId: str | None = None
    nsLcmOpOccId: str | None = Field(None, description="the operation started (ACTED)")
    detail: str = ""
    inputs: dict[str, Any] = Field(default_factory=dict)
    createdAt: str
    links: DecisionLinks = Field(alias="_links")
