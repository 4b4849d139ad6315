"""``/admin/v1/plans`` and ``/admin/v1/capacity``: what-if placement answers (read-only)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from nfvo.api.models.common import KeyValuePairs, Open, optional
from nfvo.api.models.nslcm import ParamsForVnf, ScaleNsRequest
from nfvo.limits import MAX_ID, MAX_LIST

_MAP = "free-form key-value pairs, at most 64 KiB as JSON"


class PlanRequest(Open):
    """What to plan: an INSTANTIATE (``nsdId``, or a NOT_INSTANTIATED ``nsInstanceId``, with
    the InstantiateNsRequest fields) or a SCALE (``nsInstanceId`` and ``scale``)."""

    nsdId: str = optional("the NSD to instantiate (an NS not created yet)", max_length=MAX_ID)
    nsInstanceId: str = optional(
        "an NS instance: NOT_INSTANTIATED to plan its instantiation, INSTANTIATED with scale",
        max_length=MAX_ID,
    )
    nsFlavourId: str = optional(max_length=MAX_ID)
    nsInstantiationLevelId: str = optional(max_length=MAX_ID)
    additionalParamsForNs: KeyValuePairs = optional(_MAP)
    additionalParamsForVnf: list[ParamsForVnf] = optional(max_length=MAX_LIST)
    scale: ScaleNsRequest = optional("a SOL005 ScaleNsRequest (scale plans only)")


class PlannedVdu(Open):
    """One VDU instance of the plan: where it would run and why (or why nowhere)."""

    vnfProfileId: str
    vnfIndex: int | None = None
    vnfInstanceId: str | None = None
    vduId: str
    index: int
    vimAccountId: str
    host: str | None = None
    zone: str | None = None
    explanation: dict[str, Any] | None = None
    reason: str | None = None
    blockingRule: str | None = None
    blockingDimension: str | None = None


class PlannedVim(Open):
    """One VIM's answer: strategy, hosts used, proven lower bound, gap, room left."""

    vimAccountId: str
    strategy: str | None = None
    objective: float | None = None
    lowerBound: float | None = None
    gap: float | None = None
    bounds: dict[str, float] | None = None
    placed: int | None = None
    unplaced: int | None = None
    capacity: dict[str, Any] | None = None


class PlanRule(Open):
    """A placement rule of the descriptors, re-checked on the plan."""

    label: str
    vimAccountId: str
    kind: str
    scope: str
    satisfied: bool


class Plan(Open):
    """Where an operation's VDU instances would go; nothing is deployed or reserved."""

    feasible: bool
    operation: str
    vdus: list[PlannedVdu]
    unplaced: list[PlannedVdu] | None = None
    vims: list[PlannedVim] | None = None
    rules: list[PlanRule] | None = None
    rulesSatisfied: list[str] | None = None
    problem: dict[str, Any] | None = None
    seconds: float | None = None


class Capacity(Open):
    """How many more instances of an NS fit on a VIM now, and where the first ones go."""

    count: int = Field(description="instances that fit, one after another")
    limitedBy: str = Field(description="what stops the next instance")
    max: int
    vimAccountId: str
    strategy: str | None = None
    vdusPerInstance: int
    instances: list[list[dict[str, Any]]]
    seconds: float | None = None
