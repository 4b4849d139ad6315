"""VNF alarms from a VNFM: SOL003 VNF fault management notifications in, ``FaultEvent``s out.

nfvo subscribes to a VNFM's ``vnffm/v1`` as any other subscriber would, with
``POST /monitoring/v1/vnffm/notifications`` as its callback: an ``AlarmNotification``
(SOL003 §7.5.2.5) raises a ``VNF_ALARM`` fault on the VNF instance its alarm's
``managedObjectId`` names; an ``AlarmClearedNotification`` (§7.5.2.6) clears it (as does an
AlarmNotification whose severity is CLEARED); an ``AlarmListRebuiltNotification`` changes
nothing. The fault key is ``vnffm:<the VNFM's alarm id>``, so a re-delivered notification
raises nothing new.

A tenant's client raises alarms only on its tenant's VNF instances (another tenant's, or an
unknown one, is a 400 naming ``alarm.managedObjectId``) and clears only alarms it raised on
them. An AlarmClearedNotification names no VNF: the VNF is found from the alarms raised
through this endpoint (remembered, bounded) or from the stored nsfm alarms.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from nfvo.errors import BadRequest, UnprocessableEntity
from nfvo.inventory.alarms_repo import AlarmRepository
from nfvo.inventory.db import Database
from nfvo.inventory.models import NsInstance, NsVnf
from nfvo.monitoring.model import FaultEvent, FaultKind, Resource, ResourceKind, Severity, Sink
from nfvo.monitoring.sources.alertmanager import MonitoringUnavailable

SOURCE = "vnffm"
ALARM = "AlarmNotification"
CLEARED = "AlarmClearedNotification"
REBUILT = "AlarmListRebuiltNotification"
TYPES = (ALARM, CLEARED, REBUILT)
SEVERITIES = tuple(s.value for s in Severity)
EVENT_TYPES = (
    "COMMUNICATIONS_ALARM",
    "PROCESSING_ERROR_ALARM",
    "ENVIRONMENTAL_ALARM",
    "QOS_ALARM",
    "EQUIPMENT_ALARM",
)
MAX_ID = 255
MAX_TEXT = 255
MAX_DETAILS = 20
MAX_REMEMBERED = 100_000  # raised VNFM alarms remembered for their clear


def _bad(field: str, problem: str) -> BadRequest:
    return BadRequest(f"{field} {problem}", field=field)


def _text(obj: dict[str, Any], key: str, where: str, required: bool = True) -> str:
    field = f"{where}{key}"
    value = obj.get(key)
    if value is None:
        if required:
            raise _bad(field, "is required")
        return ""
    if not isinstance(value, str) or not value:
        raise _bad(field, "must be a non-empty string")
    if len(value) > MAX_TEXT:
        raise _bad(field, f"is {len(value)} characters long; the limit is {MAX_TEXT}")
    return value


def _time(obj: dict[str, Any], key: str, where: str) -> float | None:
    value = _text(obj, key, where, required=False)
    if not value:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise UnprocessableEntity(
            f"{where}{key} {value!r} is not an RFC 3339 date-time", field=f"{where}{key}"
        ) from None
    if at.tzinfo is None:
        raise UnprocessableEntity(f"{where}{key} names no time zone", field=f"{where}{key}")
    return at.timestamp()


@dataclass(frozen=True)
class Notification:
    """A checked VNF FM notification: its type, the VNFM's alarm id, and for a raise the VNF
    instance, severity, event type, probable cause, details and time."""

    type: str
    alarm_id: str = ""
    vnf_instance_id: str = ""
    severity: str = ""
    event_type: str = ""
    probable_cause: str = ""
    details: tuple[str, ...] = ()
    at: float | None = None

    @property
    def fault_id(self) -> str:
        return f"{SOURCE}:{self.alarm_id}"


def parse(body: Any) -> Notification:
    """The notification ``body`` holds (400 naming the field; 422 for a date that is not
    RFC 3339)."""
    if not isinstance(body, dict):
        raise _bad("body", "must be a JSON object")
    kind = _text(body, "notificationType", "")
    if kind not in TYPES:
        raise _bad("notificationType", f"must be one of {', '.join(TYPES)}")
    if kind == REBUILT:
        return Notification(REBUILT)
    if kind == CLEARED:
        return Notification(
            CLEARED, _text(body, "alarmId", ""), at=_time(body, "alarmClearedTime", "")
        )
    alarm = body.get("alarm")
    if not isinstance(alarm, dict):
        raise _bad("alarm", "is required and must be an Alarm object")
    where = "alarm."
    severity = _text(alarm, "perceivedSeverity", where)
    if severity not in SEVERITIES:
        raise _bad("alarm.perceivedSeverity", f"must be one of {', '.join(SEVERITIES)}")
    event_type = _text(alarm, "eventType", where)
    if event_type not in EVENT_TYPES:
        raise _bad("alarm.eventType", f"must be one of {', '.join(EVENT_TYPES)}")
    details = alarm.get("faultDetails") or []
    if not isinstance(details, list) or len(details) > MAX_DETAILS:
        raise _bad("alarm.faultDetails", f"must be an array of at most {MAX_DETAILS} strings")
    if not all(isinstance(d, str) for d in details):
        raise _bad("alarm.faultDetails", "must be an array of strings")
    return Notification(
        ALARM,
        alarm_id=_text(alarm, "id", where),
        vnf_instance_id=_text(alarm, "managedObjectId", where),
        severity=severity,
        event_type=event_type,
        probable_cause=_text(alarm, "probableCause", where),
        details=tuple(d[:MAX_TEXT] for d in details),
        at=_time(alarm, "eventTime", where) or _time(alarm, "alarmRaisedTime", where),
    )


class VnfFmReceiver:
    """Turns checked VNF FM notifications into fault events for the monitoring hub."""

    def __init__(
        self,
        db: Database,
        sink: Callable[[], Sink | None],
        *,
        clock: Callable[[], float] | None = None,
    ) -> None:
        import time

        self.db = db
        self._sink = sink
        self.clock = clock or time.time
        self._raised: OrderedDict[str, tuple[str, str | None]] = OrderedDict()
        self._lock = threading.Lock()

    def handle(self, note: Notification, tenant_id: str | None) -> FaultEvent | None:
        """Hand the fault event of ``note`` to the hub (None: nothing to do)."""
        if note.type == REBUILT:
            return None
        sink = self._sink()
        if sink is None:
            raise MonitoringUnavailable("fault monitoring is not running in this nfvo process")
        if note.type == ALARM and note.severity != Severity.CLEARED.value:
            event = self._raise(note, tenant_id)
        else:
            event = self._clear(note, tenant_id)
        if event is not None:
            sink.fault(event)
        return event

    def _raise(self, note: Notification, tenant_id: str | None) -> FaultEvent:
        owner = self._vnf_owner(note.vnf_instance_id)
        if owner is None or (tenant_id is not None and owner[0] != tenant_id):
            raise _bad(
                "alarm.managedObjectId", f"names no VNF instance known: {note.vnf_instance_id!r}"
            )
        with self._lock:
            self._raised.pop(note.alarm_id, None)
            self._raised[note.alarm_id] = (note.vnf_instance_id, owner[0])
            while len(self._raised) > MAX_REMEMBERED:
                self._raised.popitem(last=False)
        raw = {"eventType": note.event_type, "vnfmAlarmId": note.alarm_id}
        raw |= {f"faultDetails[{i}]": d for i, d in enumerate(note.details)}
        return FaultEvent(
            resource=Resource(ResourceKind.VNF, note.vnf_instance_id),
            kind=FaultKind.VNF_ALARM,
            severity=Severity(note.severity),
            timestamp=note.at or self.clock(),
            source=SOURCE,
            raw=raw,
            fault_id=note.fault_id,
            probable_cause=note.probable_cause,
        )

    def _clear(self, note: Notification, tenant_id: str | None) -> FaultEvent | None:
        with self._lock:
            known = self._raised.get(note.alarm_id)
        if known is None:
            known = self._stored(note.fault_id)
        if known is None or (tenant_id is not None and known[1] != tenant_id):
            return None  # never raised here (or not the caller's): nothing to clear
        with self._lock:
            self._raised.pop(note.alarm_id, None)
        return FaultEvent(
            resource=Resource(ResourceKind.VNF, known[0]),
            kind=FaultKind.VNF_ALARM,
            severity=Severity.CLEARED,
            timestamp=note.at or self.clock(),
            source=SOURCE,
            raw={"vnfmAlarmId": note.alarm_id},
            fault_id=note.fault_id,
        )

    def _vnf_owner(self, vnf_id: str) -> tuple[str | None] | None:
        with self.db.session() as s:
            row = s.execute(
                select(NsInstance.tenant_id)
                .join(NsVnf, NsVnf.ns_instance_id == NsInstance.id)
                .where(NsVnf.id == vnf_id)
            ).first()
        return None if row is None else (row[0],)

    def _stored(self, fault_key: str) -> tuple[str, str | None] | None:
        """(VNF instance id, tenant) of an active nsfm alarm of ``fault_key``."""
        with self.db.session() as s:
            for row in AlarmRepository(s).active_of_fault(fault_key):
                for detail in row.fault_details or []:
                    if isinstance(detail, str) and detail.startswith("resource=vnf:"):
                        return detail.removeprefix("resource=vnf:"), row.tenant_id
        return None
