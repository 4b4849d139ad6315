"""``/admin/v1/policies`` representations: auto-scaling policies (the service checks the
request itself: it also takes OSM's kebab-case names, e.g. ``scale-out-threshold``)."""

from __future__ import annotations

from pydantic import Field

from nfvo.api.models.common import Open

_DURATION = "seconds, or a SOL001 scalar-unit.time ('2 min') or ISO 8601 duration ('PT2M')"


class ScalingPolicyCreate(Open):
    """A policy of one scaling aspect of a VNF instance (or of the NS: no vnfInstanceId)."""

    name: str | None = Field(None, max_length=255)
    nsInstanceId: str = Field(max_length=255)
    vnfInstanceId: str | None = Field(None, max_length=255, description="absent: an NS aspect")
    aspectId: str = Field(max_length=255)
    metric: str = Field(description="canonical, SOL001 or IFA 027 name (VCpuUsageMeanVnf)")
    aggregation: str | None = Field(None, description="MEAN (default) or MAX")
    thresholdTime: float | str | None = Field(None, description=f"the window; {_DURATION}")
    scaleOutThreshold: float | None = None
    scaleOutRelationalOperation: str | None = Field(None, description="GE (default) or GT")
    scaleInThreshold: float | None = Field(None, description="below scaleOutThreshold")
    scaleInRelationalOperation: str | None = Field(None, description="LE (default) or LT")
    cooldown: float | str | None = Field(None, description=f"both directions; {_DURATION}")
    scaleOutCooldown: float | str | None = Field(None, description=_DURATION)
    scaleInCooldown: float | str | None = Field(None, description=_DURATION)
    numberOfSteps: int | None = Field(None, ge=1, le=10)
    maxScaleLevel: int | None = Field(None, ge=0, le=1000, description="default: descriptor's")
    enabled: bool | None = None


class ScalingPolicyView(Open):
    """A stored policy (durations in seconds)."""

    id: str
    name: str
    nsInstanceId: str
    vnfInstanceId: str | None = None
    target: str = Field(description="VNF or NS")
    aspectId: str
    metric: str
    aggregation: str
    thresholdTime: float
    scaleOutThreshold: float | None = None
    scaleOutRelationalOperation: str
    scaleInThreshold: float | None = None
    scaleInRelationalOperation: str
    scaleOutCooldown: float
    scaleInCooldown: float
    numberOfSteps: int
    maxScaleLevel: int | None = None
    enabled: bool
    source: str
    tenantId: str | None = None
    createdAt: str | None = None
    updatedAt: str | None = None
