"""NS fault management (SOL005 §8.5): Alarm, AlarmModifications and the FM subscription
request, as /openapi.json declares them (the spec tables, where the ETSI YAML differs)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from nfvo.api.models.common import Closed, Link, Open, optional
from nfvo.api.models.subscriptions import (
    FILTER_VALUES,
    NsInstanceSubscriptionFilter,
    SubscriptionAuthentication,
)
from nfvo.limits import MAX_URI

AckState = Literal["ACKNOWLEDGED", "UNACKNOWLEDGED"]
_BOUNDED = {"max_length": FILTER_VALUES}


class ResourceHandle(Open):
    """SOL005 §4.4.1.7: a resource as its VIM names it."""

    vimId: str | None = None
    resourceId: str
    vimLevelResourceType: str | None = None


class FaultyResourceInfo(Open):
    """§8.5.3.5: the faulty virtual resource."""

    faultyResource: ResourceHandle
    faultyResourceType: Literal["COMPUTE", "STORAGE", "NETWORK"]


class FaultyComponentInfo(Open):
    """§8.5.3.4 (table: faultyVnfInstanceId, which the ETSI YAML lacks)."""

    faultyNestedNsInstanceId: str | None = None
    faultyNsVirtualLinkInstanceId: str | None = None
    faultyVnfInstanceId: str | None = None


class AlarmLinks(Open):
    """Alarm._links: itself and the NS instance it is about."""

    self: Link
    objectInstance: Link | None = None


class Alarm(Open):
    """§8.5.2.4: an alarm on an NS instance (managedObjectId)."""

    id: str
    managedObjectId: str
    rootCauseFaultyComponent: FaultyComponentInfo | None = None
    rootCauseFaultyResource: FaultyResourceInfo | None = None
    alarmRaisedTime: str
    alarmChangedTime: str | None = None
    alarmClearedTime: str | None = None
    alarmAcknowledgedTime: str | None = None
    ackState: AckState
    perceivedSeverity: str
    eventTime: str
    eventType: str
    faultType: str | None = None
    probableCause: str
    isRootCause: bool
    correlatedAlarmIds: list[str] | None = None
    faultDetails: list[str] | None = None
    links: AlarmLinks = Field(alias="_links")


class AlarmModifications(Closed):
    """§8.5.2.8: the one attribute a PATCH of an alarm may change."""

    ackState: AckState


class FmNotificationsFilter(Closed):
    """§8.5.3.2."""

    nsInstanceSubscriptionFilter: NsInstanceSubscriptionFilter = optional()
    notificationTypes: list[
        Literal["AlarmNotification", "AlarmClearedNotification", "AlarmListRebuiltNotification"]
    ] = optional(**_BOUNDED)
    faultyResourceTypes: list[Literal["COMPUTE", "STORAGE", "NETWORK"]] = optional(**_BOUNDED)
    perceivedSeverities: list[str] = optional(**_BOUNDED)
    eventTypes: list[str] = optional(**_BOUNDED)
    probableCauses: list[str] = optional(**_BOUNDED)


class FmSubscriptionRequest(Closed):
    """§8.5.2.2."""

    callbackUri: str = Field(min_length=1, max_length=MAX_URI, pattern=r"^https?://")
    filter: FmNotificationsFilter = optional()
    authentication: SubscriptionAuthentication = optional()
