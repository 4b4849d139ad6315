"""``/monitoring/v1/alertmanager``: the Alertmanager webhook payload (version 4) and the
answer, as the OpenAPI document shows them (the route checks the payload itself)."""

from __future__ import annotations

from pydantic import Field

from nfvo.api.models.common import Open
from nfvo.monitoring.sources import alertmanager as am


class AlertmanagerAlert(Open):
    """One alert of the group."""

    status: str = Field(description="firing | resolved")
    labels: dict[str, str] = Field(
        description=f"at most {am.MAX_LABELS}, values at most {am.MAX_LABEL_VALUE} characters"
    )
    annotations: dict[str, str] | None = None
    startsAt: str | None = Field(None, description="RFC 3339")
    endsAt: str | None = Field(None, description="RFC 3339; 0001-01-01T00:00:00Z while firing")
    generatorURL: str | None = None
    fingerprint: str | None = Field(None, description="computed from the labels when absent")


class AlertmanagerPayload(Open):
    """What Alertmanager's webhook_configs receiver posts (payload version 4)."""

    version: str = Field(description="4")
    groupKey: str | None = None
    truncatedAlerts: int | None = Field(None, ge=0)
    status: str | None = Field(None, description="firing | resolved")
    receiver: str | None = None
    groupLabels: dict[str, str] | None = None
    commonLabels: dict[str, str] | None = None
    commonAnnotations: dict[str, str] | None = None
    externalURL: str | None = None
    alerts: list[AlertmanagerAlert] = Field(max_length=am.MAX_ALERTS)


class SkippedAlert(Open):
    """An alert that raised nothing: its resource is unknown (or not the caller's), no rule
    of the label map names one, or several VIMs have it."""

    fingerprint: str
    reason: str = Field(description="unknown_resource | no_resource_label | ambiguous_resource")


class ScalingOutcome(Open):
    """The guarded scale decision one alert with scaling labels took."""

    fingerprint: str
    result: str = Field(
        description="ACTED, a declining reason (COOLDOWN, IN_FLIGHT, MAX_LEVEL ...), "
        "DUPLICATE (this alert instance already started an operation) or SKIPPED"
    )
    policyId: str | None = None
    direction: str | None = None
    nsLcmOpOccId: str | None = None
    detail: str | None = None


class AlertmanagerOutcome(Open):
    """What the payload did."""

    accepted: int = Field(description="alerts mapped to a resource (repeats included)")
    raised: int = Field(description="faults raised (first sight of a firing alert)")
    cleared: int = Field(description="faults cleared by this payload's resolved alerts")
    skipped: list[SkippedAlert]
    scaling: list[ScalingOutcome] | None = Field(
        None, description="what each alert with scaling labels did (absent: none had them)"
    )
