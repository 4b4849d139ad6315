"""The NS alarm manager: fault events in, SOL005 nsfm alarms and notifications out.

The monitoring hub hands every :class:`FaultEvent` to :meth:`FaultManager.handle`. A raising
event becomes one alarm per affected NS instance (:mod:`nfvo.monitoring.impact`) and fault
key, unless that alarm is already active: a repeat changes nothing, and two concurrent raises
of one fault make one alarm (a unique index, see :mod:`nfvo.inventory.alarms_repo`). A
clearing event clears every active alarm of its fault key. Each raise queues an
AlarmNotification and each clear an AlarmClearedNotification in the transaction that
changes the alarm, so the durable delivery worker sends exactly what committed.

:meth:`FaultManager.rebuild` reconciles the alarm list (alarms of NS instances that no
longer exist are removed) and tells every nsfm subscriber with an
AlarmListRebuiltNotification; :func:`attach` runs it once when the manager is wired to the
hub (start-up), notifying only when something was removed.

With root-cause analysis (``nfvo.policy.rca.engine.RcaEngine``, which then is the hub's
fault listener instead of :meth:`FaultManager.handle`), a fault is raised either as a root
(:meth:`FaultManager.raise_alarms` without ``root_of``: ``isRootCause`` true, notified) or as
a symptom of root faults (``root_of``: ``isRootCause`` false, not notified, its
``correlatedAlarmIds`` naming the root's alarm of the same NS, and the root's naming it). A
root alarm raised earlier can become a symptom (:meth:`FaultManager.demote`). A symptom's
clear is not notified either (its raise never was).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from nfvo.errors import Conflict, NotFound, PreconditionFailed
from nfvo.inventory.alarms_repo import (
    ACK_STATES,
    UNACKNOWLEDGED,
    AlarmRepository,
    AlarmRow,
    active_digest,
    fault_digest,
)
from nfvo.inventory.db import Database
from nfvo.inventory.paging import PageQuery
from nfvo.monitoring import impact
from nfvo.monitoring.model import FaultEvent, FaultKind, ResourceKind
from nfvo.notifications import nsfm

log = logging.getLogger(__name__)
__all__ = ["ACK_STATES", "AlarmStore", "FaultManager", "Outcome", "attach", "forget_ns"]

# ITU-T X.733 event types per resource kind (SOL005 EventType)
EQUIPMENT_ALARM = "EQUIPMENT_ALARM"
COMMUNICATIONS_ALARM = "COMMUNICATIONS_ALARM"
PROCESSING_ERROR_ALARM = "PROCESSING_ERROR_ALARM"
_EVENT_TYPE = {
    ResourceKind.HOST: EQUIPMENT_ALARM,
    ResourceKind.SERVER: EQUIPMENT_ALARM,
    ResourceKind.NETWORK: COMMUNICATIONS_ALARM,
    ResourceKind.PORT: COMMUNICATIONS_ALARM,
    ResourceKind.VIM: COMMUNICATIONS_ALARM,
}
_PROBABLE_CAUSE = {
    FaultKind.HOST_DOWN: "host down",
    FaultKind.SERVER_CRASHED: "server crashed",
    FaultKind.SERVER_GONE: "server deleted outside the NFVO",
    FaultKind.NETWORK_DOWN: "network down",
    FaultKind.VIM_UNREACHABLE: "VIM unreachable",
    FaultKind.ALERT: "external alert",
    FaultKind.MAINTENANCE_NOTICE: "availability window ends: the resource will sleep",
    FaultKind.VNF_ALARM: "VNF alarm",
}
EVENT_TYPES = frozenset(
    {"COMMUNICATIONS_ALARM", "PROCESSING_ERROR_ALARM", "ENVIRONMENTAL_ALARM", "QOS_ALARM"}
    | {"EQUIPMENT_ALARM"}
)
MAX_DETAILS = 20  # faultDetails entries kept from one event
MAX_DETAIL = 255  # characters of one entry
MAX_CAUSE = 255  # characters of probableCause
MAX_CORRELATED = 1000  # correlatedAlarmIds kept on one alarm


def _utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def fault_details(event: FaultEvent) -> list[str]:
    """faultDetails: the event's fault, resource and source, then what the source said
    (bounded in entries and length)."""
    out = [
        f"fault={event.kind.value}",
        f"resource={event.resource.key}",
        f"source={event.source}",
        f"faultKey={event.key}",
    ]
    for key in sorted(event.raw, key=str):
        if len(out) >= MAX_DETAILS:
            break
        out.append(f"{key}={event.raw[key]}")
    return [d[:MAX_DETAIL] for d in out]


@dataclass
class Outcome:
    """What one event did: the ids of the alarms it raised and cleared, and per NS instance
    the root-cause alarm (``isRootCause`` true) it raised, found already active, or cleared."""

    raised: list[str] = field(default_factory=list)
    cleared: list[str] = field(default_factory=list)
    roots: dict[str, str] = field(default_factory=dict)


class AlarmStore:
    """Reads and acknowledgement of alarms for the nsfm API (tenant scoped: a tenant sees
    the alarms of its NS instances; another tenant's alarm is unknown)."""

    def __init__(self, db: Database, *, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock

    def get(self, alarm_id: str, tenant: str | None) -> AlarmRow:
        """One alarm (NotFound also for another tenant's)."""
        with self.db.session() as s:
            row = AlarmRepository(s).get(alarm_id, tenant)
            if row is None:
                raise NotFound(f"alarm {alarm_id} not found")
            return row

    def page(self, tenant: str | None, query: PageQuery) -> list[AlarmRow]:
        """One chunk of the caller's alarms, oldest first."""
        with self.db.session() as s:
            return AlarmRepository(s).page(tenant, query)

    def active_by_severity(self, tenant: str | None) -> dict[str, int]:
        """How many of the caller's alarms are active, per perceived severity."""
        with self.db.session() as s:
            return AlarmRepository(s).active_by_severity(tenant)

    def acknowledge(
        self, alarm_id: str, tenant: str | None, state: str, if_revision: int | None
    ) -> AlarmRow:
        """Set ackState (AlarmModifications): PreconditionFailed when ``if_revision`` is not
        the alarm's revision, Conflict when it is already in ``state``."""
        with self.db.session() as s:
            done = AlarmRepository(s).acknowledge(
                alarm_id, tenant, state, if_revision, _utc(self.clock())
            )
        if done.row is None:
            raise NotFound(f"alarm {alarm_id} not found")
        if done.stale:
            raise PreconditionFailed(
                f"If-Match does not match the current ETag of alarm {alarm_id}"
            )
        if done.conflict:
            raise Conflict(f"alarm {alarm_id} is already {state}", field="ackState")
        return done.row


class FaultManager(AlarmStore):
    """Turns fault events into NS alarms and their notifications (the hub's fault
    listener); also the reads the nsfm API makes (:class:`AlarmStore`)."""

    def handle(self, event: FaultEvent) -> Outcome:
        """Raise or clear the alarms of ``event``; never raises for an event it cannot
        place (no NS affected: nothing happens)."""
        if event.cleared:
            return self.clear(event.key)
        return self.raise_alarms(event)

    def raise_alarms(self, event: FaultEvent, *, root_of: Sequence[str] = ()) -> Outcome:
        """One alarm per affected NS for ``event``'s fault, each unless already active.

        Without ``root_of`` the fault is a root cause: each new alarm is notified. With
        ``root_of`` (the fault keys of the root faults it is a symptom of) each alarm is
        stored with ``isRootCause`` false and not notified, correlated both ways with the
        active alarms of those root faults in the same NS."""
        out = Outcome()
        now = _utc(self.clock())
        with self.db.session() as s:
            repo = AlarmRepository(s)
            for hit in impact.affected(s, event.resource):
                row = self._new_row(event, hit, now)
                roots = self._root_ids(repo, hit.ns_instance_id, root_of)
                if root_of:
                    row.is_root_cause = False
                    row.correlated_alarm_ids = roots[:MAX_CORRELATED]
                if repo.raise_once(row):
                    out.raised.append(row.id)
                    if not root_of:
                        nsfm.enqueue_alarm_event(s, nsfm.alarm_notification(row), row, now=now)
                    for root_id in roots:
                        repo.correlate(root_id, now, add=[row.id], limit=MAX_CORRELATED)
                else:
                    row = repo.active_of(hit.ns_instance_id, event.key) or row
                if row.is_root_cause:
                    out.roots[hit.ns_instance_id] = row.id
        if out.raised:
            log.info("fault %s raised %d alarm(s)", event.key, len(out.raised))
        return out

    @staticmethod
    def _root_ids(repo: AlarmRepository, ns_id: str, root_of: Sequence[str]) -> list[str]:
        found = (repo.active_of(ns_id, key) for key in root_of)
        return [r.id for r in found if r is not None]

    def demote(self, fault_key: str, root_of: Sequence[str]) -> list[str]:
        """The active alarms of ``fault_key`` become symptoms of the root faults
        ``root_of`` (root cause found after they were raised): ``isRootCause`` false,
        correlated both ways with the roots' alarms of the same NS. Returns the ids changed."""
        changed: list[str] = []
        now = _utc(self.clock())
        with self.db.session() as s:
            repo = AlarmRepository(s)
            for row in repo.active_of_fault(fault_key):
                roots = self._root_ids(repo, row.ns_instance_id, root_of)
                if not roots:
                    continue
                repo.correlate(row.id, now, add=roots, is_root_cause=False, limit=MAX_CORRELATED)
                for root_id in roots:
                    repo.correlate(root_id, now, add=[row.id], limit=MAX_CORRELATED)
                changed.append(row.id)
        return changed

    def _new_row(self, event: FaultEvent, hit: impact.Impact, now: datetime) -> AlarmRow:
        kind = event.resource.kind
        cause = event.probable_cause or _PROBABLE_CAUSE.get(event.kind, event.kind.value)
        event_type = _EVENT_TYPE.get(kind, PROCESSING_ERROR_ALARM)
        if event.raw.get("eventType") in EVENT_TYPES:  # as the source (a VNFM) typed it
            event_type = str(event.raw["eventType"])
        return AlarmRow(
            id=str(uuid.uuid4()),
            ns_instance_id=hit.ns_instance_id,
            tenant_id=hit.tenant_id,
            fault_key=event.key,
            fault_digest=fault_digest(event.key),
            active_key=active_digest(hit.ns_instance_id, event.key),
            event_type=event_type,
            probable_cause=cause[:MAX_CAUSE],
            fault_type=event.kind.value,
            perceived_severity=event.severity.value,
            ack_state=UNACKNOWLEDGED,
            faulty_component=hit.faulty_component,
            faulty_resource=hit.faulty_resource,
            faulty_resource_type=hit.resource_type,
            fault_details=fault_details(event),
            is_root_cause=True,
            correlated_alarm_ids=[],
            event_time=_utc(event.timestamp),
            raised_at=now,
            revision=1,
            created_at=now,
        )

    def clear(self, fault_key: str) -> Outcome:
        """Clear every active alarm of ``fault_key`` (each root-cause alarm notified once; a
        symptom's clear is not notified, as its raise was not)."""
        out = Outcome()
        now = _utc(self.clock())
        with self.db.session() as s:
            repo = AlarmRepository(s)
            for row in repo.active_of_fault(fault_key):
                if repo.clear(row, now):
                    if row.is_root_cause:
                        note = nsfm.alarm_cleared_notification(row)
                        nsfm.enqueue_alarm_event(s, note, row, now=now)
                        out.roots[row.ns_instance_id] = row.id
                    out.cleared.append(row.id)
        if out.cleared:
            log.info("fault %s cleared %d alarm(s)", fault_key, len(out.cleared))
        return out

    def rebuild(self, *, notify: bool = True) -> int:
        """Reconcile the alarm list with the inventory: alarms of NS instances that no
        longer exist are removed. With ``notify``, every nsfm subscriber gets an
        AlarmListRebuiltNotification (in the same transaction). Returns alarms removed."""
        with self.db.session() as s:
            repo = AlarmRepository(s)
            removed = sum(repo.delete_of_ns(ns_id) for ns_id in repo.orphans())
            if notify:
                nsfm.enqueue_alarm_event(s, nsfm.alarm_list_rebuilt_notification(), None)
        return removed


def forget_ns(session: Session, ns_instance_id: str) -> int:
    """An NS instance is being deleted (call in the deleting transaction): its active
    alarms are cleared, notified while the NS row still exists, and every alarm of it is
    removed. Returns the alarms removed."""
    repo = AlarmRepository(session)
    now = datetime.now(UTC)
    rows = repo.of_ns(ns_instance_id)
    for row in rows:
        if row.active_key is not None and repo.clear(row, now):
            nsfm.enqueue_alarm_event(session, nsfm.alarm_cleared_notification(row), row, now=now)
    return repo.delete_of_ns(ns_instance_id) if rows else 0


class FaultSource(Protocol):
    """What :func:`attach` needs of the monitoring hub."""

    def on_fault(self, fn: Callable[[FaultEvent], Any]) -> None:
        """Register a fault listener."""


def attach(
    monitor: FaultSource, db: Database, *, listen: bool = True, **options: Any
) -> FaultManager:
    """A fault manager registered as ``monitor``'s fault listener (unless ``listen`` is
    false: root-cause analysis listens instead and calls the manager), after a start-up
    reconciliation of the alarm list (notified only when it removed alarms)."""
    manager = FaultManager(db, **options)
    try:
        with db.session() as s:
            stale = bool(AlarmRepository(s).orphans())
        if stale:
            manager.rebuild(notify=True)
    except Exception:  # noqa: BLE001 - a failed reconciliation must not stop monitoring
        log.exception("alarm list reconciliation failed")
    if listen:
        monitor.on_fault(manager.handle)
    return manager
