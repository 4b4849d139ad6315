"""NS fault management (nsfm, SOL005 §8) notifications: the Alarm representation,
AlarmNotification / AlarmClearedNotification / AlarmListRebuiltNotification builders,
FmNotificationsFilter (§8.5.3.2) validation and matching, and :func:`enqueue_alarm_event`,
which the fault manager calls inside the transaction that raises or clears the alarm.

Subscriptions are rows of ``lccn_subscriptions`` with ``api = "nsfm"`` and delivery is the
same outbox and worker as every other SOL005 notification.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from nfvo.errors import BadRequest
from nfvo.inventory.alarms_repo import AlarmRow
from nfvo.inventory.models import LccnSubscriptionRow, NsInstance, NsVnf
from nfvo.notifications.outbox import NsFacts, _ns_matches, queue_deliveries

NSFM = "nsfm"
API_ROOT = "/nsfm/v1"
ALARM = "AlarmNotification"
ALARM_CLEARED = "AlarmClearedNotification"
ALARM_LIST_REBUILT = "AlarmListRebuiltNotification"
NOTIFICATION_TYPES = (ALARM, ALARM_CLEARED, ALARM_LIST_REBUILT)
EVENT_TYPES = (
    "COMMUNICATIONS_ALARM",
    "PROCESSING_ERROR_ALARM",
    "ENVIRONMENTAL_ALARM",
    "QOS_ALARM",
    "EQUIPMENT_ALARM",
)
SEVERITIES = ("CRITICAL", "MAJOR", "MINOR", "WARNING", "INDETERMINATE", "CLEARED")
RESOURCE_TYPES = ("COMPUTE", "STORAGE", "NETWORK")
# FmNotificationsFilter arrays: name -> allowed values (None: any string)
FM_FILTER: dict[str, tuple[str, ...] | None] = {
    "notificationTypes": NOTIFICATION_TYPES,
    "faultyResourceTypes": RESOURCE_TYPES,
    "perceivedSeverities": SEVERITIES,
    "eventTypes": EVENT_TYPES,
    "probableCauses": None,
}
NS_FILTER_KEYS = ("nsdIds", "vnfdIds", "pnfdIds", "nsInstanceIds", "nsInstanceNames")


def iso(dt: datetime | None) -> str | None:
    """RFC 3339 with an explicit UTC offset (SQLite hands back naive UTC datetimes)."""
    if dt is None:
        return None
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).isoformat()


def alarm_view(row: AlarmRow, root: str = "") -> dict[str, Any]:
    """Alarm (SOL005 table 8.5.2.4-1). ``root`` is the server's public root (links are
    relative without it, made absolute when a notification is sent)."""
    body: dict[str, Any] = {"id": row.id, "managedObjectId": row.ns_instance_id}
    if row.faulty_component:
        body["rootCauseFaultyComponent"] = row.faulty_component
    if row.faulty_resource:
        body["rootCauseFaultyResource"] = row.faulty_resource
    body["alarmRaisedTime"] = iso(row.raised_at)
    for key, value in (
        ("alarmChangedTime", row.changed_at),
        ("alarmClearedTime", row.cleared_at),
        ("alarmAcknowledgedTime", row.acknowledged_at),
    ):
        if value is not None:
            body[key] = iso(value)
    body |= {
        "ackState": row.ack_state,
        "perceivedSeverity": row.perceived_severity,
        "eventTime": iso(row.event_time),
        "eventType": row.event_type,
    }
    if row.fault_type:
        body["faultType"] = row.fault_type
    body |= {
        "probableCause": row.probable_cause,
        "isRootCause": bool(row.is_root_cause),
        "correlatedAlarmIds": list(row.correlated_alarm_ids or []),
        "faultDetails": list(row.fault_details or []),
        "_links": {
            "self": {"href": f"{root}{API_ROOT}/alarms/{row.id}"},
            "objectInstance": {"href": f"{root}/nslcm/v2/ns_instances/{row.ns_instance_id}"},
        },
    }
    return body


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


def alarm_notification(row: AlarmRow) -> dict[str, Any]:
    """AlarmNotification (table 8.5.2.5-1), without subscriptionId / _links.subscription."""
    return {
        "id": str(uuid.uuid4()),
        "notificationType": ALARM,
        "timeStamp": _now_iso(),
        "alarm": alarm_view(row),
        "_links": {},
    }


def alarm_cleared_notification(row: AlarmRow) -> dict[str, Any]:
    """AlarmClearedNotification (table 8.5.2.6-1)."""
    return {
        "id": str(uuid.uuid4()),
        "notificationType": ALARM_CLEARED,
        "timeStamp": _now_iso(),
        "alarmId": row.id,
        "alarmClearedTime": iso(row.cleared_at),
        "_links": {"alarm": {"href": f"{API_ROOT}/alarms/{row.id}"}},
    }


def alarm_list_rebuilt_notification() -> dict[str, Any]:
    """AlarmListRebuiltNotification (table 8.5.2.7-1)."""
    return {
        "id": str(uuid.uuid4()),
        "notificationType": ALARM_LIST_REBUILT,
        "timeStamp": _now_iso(),
        "_links": {"alarms": {"href": f"{API_ROOT}/alarms"}},
    }


# --------------------------------------------------------------------------- filters


def validate_filter(flt: Any, check_strings: Callable[[Any, str, Any], None]) -> dict[str, Any]:
    """An FmNotificationsFilter, checked (BadRequest names the attribute); every attribute
    an array as table 8.5.3.2-1 says. ``check_strings(value, where, allowed)`` is the
    service's bounded array check."""
    if flt is None:
        return {}
    if not isinstance(flt, dict):
        raise BadRequest("filter must be an object", field="filter")
    for key, value in flt.items():
        if key == "nsInstanceSubscriptionFilter":
            where = f"filter.{key}"
            if not isinstance(value, dict):
                raise BadRequest(f"{where} must be an object", field=where)
            for sub_key, sub_value in value.items():
                if sub_key not in NS_FILTER_KEYS:
                    raise BadRequest(f"unknown attribute {where}.{sub_key}", field=where)
                check_strings(sub_value, f"{where}.{sub_key}", None)
        elif key in FM_FILTER:
            check_strings(value, f"filter.{key}", FM_FILTER[key])
        else:
            raise BadRequest(f"unknown filter attribute {key!r}", field=f"filter.{key}")
    return flt


def _one_of(wanted: Any, value: Any) -> bool:
    return not wanted or value in wanted


def matches(
    flt: dict[str, Any] | None,
    notification: dict[str, Any],
    row: AlarmRow | None,
    lookup: Callable[[str], NsFacts | None],
) -> bool:
    """Whether an FmNotificationsFilter selects ``notification`` (about alarm ``row``; None
    for AlarmListRebuiltNotification, which only ``notificationTypes`` restricts)."""
    flt = flt or {}
    if not _one_of(flt.get("notificationTypes"), notification.get("notificationType")):
        return False
    if row is None:
        return True
    facts = {
        "faultyResourceTypes": row.faulty_resource_type,
        "eventTypes": row.event_type,
        "probableCauses": row.probable_cause,
        # a clear matches the severity the alarm had: a CLEARED alarm's last raised state
        # is not kept, so only a CLEARED criterion or none selects its clearing
        "perceivedSeverities": row.perceived_severity,
    }
    for key, value in facts.items():
        if not _one_of(flt.get(key), value):
            return False
    return _ns_matches(flt.get("nsInstanceSubscriptionFilter"), row.ns_instance_id, lookup)


def _lookup(session: Session) -> Callable[[str], NsFacts | None]:
    cache: dict[str, NsFacts | None] = {}

    def lookup(ns_id: str) -> NsFacts | None:
        if ns_id not in cache:
            ns = session.get(NsInstance, ns_id)
            vnfds = session.scalars(select(NsVnf.vnfd_id).where(NsVnf.ns_instance_id == ns_id))
            cache[ns_id] = NsFacts(ns.name, ns.nsd_id, frozenset(vnfds)) if ns else None
        return cache[ns_id]

    return lookup


def enqueue_alarm_event(
    session: Session,
    notification: dict[str, Any],
    row: AlarmRow | None,
    *,
    now: datetime | None = None,
) -> int:
    """Queue ``notification`` for every matching nsfm subscription, in the caller's
    transaction. An alarm of a tenant's NS notifies that tenant's and tenant-less
    subscriptions; AlarmListRebuiltNotification (``row`` None) notifies every nsfm
    subscription. Returns the deliveries queued."""
    sub = LccnSubscriptionRow
    query = select(sub).where(sub.api == NSFM)
    if row is not None:
        tenant = row.tenant_id
        owner = sub.tenant_id.is_(None)
        query = query.where(owner if tenant is None else or_(owner, sub.tenant_id == tenant))
    lookup = _lookup(session)
    subs = session.scalars(query.order_by(sub.created_at, sub.id))
    wanted = [s for s in subs if matches(s.filter, notification, row, lookup)]
    return queue_deliveries(session, wanted, notification, now or datetime.now(UTC))
