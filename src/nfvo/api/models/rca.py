"""``/admin/v1/rca``, ``/admin/v1/rca_templates`` and ``/monitoring/v1/vnffm/notifications``
representations, as the OpenAPI document shows them (the routes check bodies themselves)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from nfvo.api.models.common import Open


class RcaResource(Open):
    """The resource an alarm is on."""

    id: str | None = Field(None, description="the graph's resource key, e.g. host:<vim>:<host>")
    type: str | None = None
    name: str | None = None
    state: str | None = Field(None, description="OK, or what a template set (ERROR...)")
    markedDown: bool = False


class RcaNode(Open):
    """An alarm of the causal graph (observed, or deduced by a template)."""

    id: str = Field(description="alarm:<fault key> or alarm:deduced:<template>:<scenario>:<res>")
    category: str = "ALARM"
    type: str | None = None
    name: str | None = None
    severity: str | None = None
    deduced: bool = False
    isRootCause: bool = Field(description="no causes link into this alarm")
    faultKey: str | None = None
    raisedAt: str | None = None
    nsfmAlarmId: str | None = Field(None, description="the inspected nsfm alarm")
    cleared: bool | None = None
    resource: RcaResource


class RcaLink(Open):
    """A causal link: ``source`` causes ``target`` (indexes into ``nodes``)."""

    source: int
    target: int
    relationshipType: str = "causes"


class RcaView(Open):
    """The causal graph around one nsfm alarm (``inspectedIndex``: that alarm's node)."""

    nodes: list[RcaNode]
    links: list[RcaLink]
    inspectedIndex: int


class RcaScenarioView(Open):
    """One scenario of a template."""

    name: str
    condition: str
    actions: list[str]


class RcaTemplateView(Open):
    """An RCA template: built-in or custom, its scenarios and its YAML document."""

    name: str
    description: str
    builtin: bool
    scenarios: list[RcaScenarioView]
    template: str = Field(description="the YAML document")


class RcaTemplateDocument(Open):
    """A template as JSON (the same document as the YAML form; docs/rca.md)."""

    metadata: dict[str, Any] = Field(description="version: 3, name, description")
    entities: dict[str, Any]
    scenarios: list[Any]


class VnfAlarm(Open):
    """SOL003 Alarm (§7.5.2.4), the attributes nfvo reads."""

    id: str
    managedObjectId: str = Field(description="the VNF instance id")
    perceivedSeverity: str
    eventType: str
    probableCause: str
    eventTime: str | None = None
    alarmRaisedTime: str | None = None
    faultDetails: list[str] | None = None


class VnfFmNotification(Open):
    """SOL003 AlarmNotification, AlarmClearedNotification or AlarmListRebuiltNotification
    as a VNFM sends it to its subscriber."""

    notificationType: str = Field(
        description="AlarmNotification | AlarmClearedNotification | AlarmListRebuiltNotification"
    )
    id: str | None = None
    subscriptionId: str | None = None
    timeStamp: str | None = None
    alarm: VnfAlarm | None = Field(None, description="AlarmNotification")
    alarmId: str | None = Field(None, description="AlarmClearedNotification")
    alarmClearedTime: str | None = None
