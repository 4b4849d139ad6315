"""SOL005 NS fault management alarms (nsfm/v1): the table and its repository.

One row per alarm. An alarm is *active* while ``active_key`` holds the digest of (NS
instance, fault key); a unique index on that column is what makes "one active alarm per NS
and fault" hold on SQLite (no row locks) and PostgreSQL alike: a second raise of the same
fault, however concurrent, fails to insert and changes nothing. Clearing sets the column to
NULL (NULLs never collide), so the same fault may raise a new alarm later.

Every change is a conditional UPDATE on the row's ``revision`` (the ETag), so two callers
acknowledging or clearing one alarm at once cannot both win.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Index,
    Integer,
    String,
    Text,
    and_,
    delete,
    exists,
    func,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from nfvo.inventory.models import Base, NsInstance, utcnow
from nfvo.inventory.paging import PageQuery, fetch_after, owned_by

ACKNOWLEDGED = "ACKNOWLEDGED"
UNACKNOWLEDGED = "UNACKNOWLEDGED"
ACK_STATES = (ACKNOWLEDGED, UNACKNOWLEDGED)
CLEARED = "CLEARED"


def fault_digest(fault_key: str) -> str:
    """The indexed form of a fault key (keys may be long: an alert's labels, a host name)."""
    return hashlib.sha256(fault_key.encode()).hexdigest()


def active_digest(ns_instance_id: str, fault_key: str) -> str:
    """The value of ``active_key`` while the alarm of this NS and fault is active."""
    return hashlib.sha256(f"{ns_instance_id}\n{fault_key}".encode()).hexdigest()


class AlarmRow(Base):
    """One SOL005 NS alarm (table 8.5.2.4-1): managed object (the NS), root cause, severity,
    acknowledgement and the times of its life. ``tenant_id`` is the NS's, copied at raise."""

    __tablename__ = "nsfm_alarms"
    __table_args__ = (
        Index("ix_nsfm_alarms_created", "created_at", "id"),
        Index("ix_nsfm_alarms_tenant_created", "tenant_id", "created_at", "id"),
        Index("ix_nsfm_alarms_active", "active_key", unique=True),
        Index("ix_nsfm_alarms_fault", "fault_digest"),
        Index("ix_nsfm_alarms_ns", "ns_instance_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    ns_instance_id: Mapped[str] = mapped_column(String(36))
    tenant_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    fault_key: Mapped[str] = mapped_column(Text)
    fault_digest: Mapped[str] = mapped_column(String(64))
    active_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    event_type: Mapped[str] = mapped_column(String(32))
    probable_cause: Mapped[str] = mapped_column(String(255))
    fault_type: Mapped[str | None] = mapped_column(String(64), nullable=True)
    perceived_severity: Mapped[str] = mapped_column(String(16))
    ack_state: Mapped[str] = mapped_column(String(16), default=UNACKNOWLEDGED)
    # FaultyComponentInfo / FaultyResourceInfo as the API shows them (null when absent)
    faulty_component: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    faulty_resource: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    faulty_resource_type: Mapped[str | None] = mapped_column(String(16), nullable=True)
    fault_details: Mapped[list[Any]] = mapped_column(JSON, default=list)
    is_root_cause: Mapped[bool] = mapped_column(Boolean, default=True)
    correlated_alarm_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    event_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    raised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    cleared_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


@dataclass(frozen=True)
class AckOutcome:
    """What an acknowledgement request did: ``row`` after it (None: no such alarm),
    ``conflict`` (already in that state) or ``stale`` (the revision moved on)."""

    row: AlarmRow | None
    conflict: bool = False
    stale: bool = False


class AlarmRepository:
    """Alarms: raise once per (NS, fault), clear, acknowledge, list and forget."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def raise_once(self, row: AlarmRow) -> bool:
        """Insert ``row`` (with its ``active_key`` set) unless an active alarm of the same NS
        and fault exists; True when inserted. A savepoint keeps the caller's transaction
        usable after a refused insert."""
        if self.s.scalar(select(AlarmRow.id).where(AlarmRow.active_key == row.active_key)):
            return False
        try:
            with self.s.begin_nested():
                self.s.add(row)
        except IntegrityError:
            return False
        return True

    def active_of_fault(self, fault_key: str) -> Sequence[AlarmRow]:
        """The active alarms (of every NS) of one fault."""
        q = select(AlarmRow).where(
            AlarmRow.fault_digest == fault_digest(fault_key), AlarmRow.active_key.is_not(None)
        )
        return self.s.scalars(q.order_by(AlarmRow.created_at, AlarmRow.id)).all()

    def clear(self, row: AlarmRow, at: datetime) -> bool:
        """Clear one active alarm (severity CLEARED, cleared time); False when another
        caller cleared it first."""
        done = self.s.execute(
            update(AlarmRow)
            .where(AlarmRow.id == row.id, AlarmRow.active_key.is_not(None))
            .values(
                active_key=None,
                perceived_severity=CLEARED,
                cleared_at=at,
                changed_at=at,
                revision=AlarmRow.revision + 1,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        if done:
            self.s.refresh(row)
        return bool(done)

    def correlate(
        self,
        alarm_id: str,
        at: datetime,
        *,
        add: Sequence[str] = (),
        is_root_cause: bool | None = None,
        limit: int = 1000,
    ) -> AlarmRow | None:
        """Add ``add`` to an alarm's ``correlatedAlarmIds`` (at most ``limit`` kept) and set
        ``isRootCause`` when given: a conditional UPDATE on the revision read, retried when
        another caller (an acknowledgement) moved it on. None when no such alarm."""
        for _ in range(10):
            row = self.s.get(AlarmRow, alarm_id)
            if row is None:
                return None
            self.s.refresh(row)
            ids = list(row.correlated_alarm_ids or [])
            ids += [i for i in add if i not in ids and i != alarm_id][: max(0, limit - len(ids))]
            root = row.is_root_cause if is_root_cause is None else is_root_cause
            if ids == list(row.correlated_alarm_ids or []) and root == row.is_root_cause:
                return row
            done = self.s.execute(
                update(AlarmRow)
                .where(AlarmRow.id == alarm_id, AlarmRow.revision == row.revision)
                .values(
                    correlated_alarm_ids=ids,
                    is_root_cause=root,
                    changed_at=at,
                    revision=AlarmRow.revision + 1,
                )
                .execution_options(synchronize_session=False)
            ).rowcount
            if done:
                self.s.refresh(row)
                return row
        return None

    def active(self, limit: int) -> Sequence[AlarmRow]:
        """Active alarms (of every NS), oldest first, at most ``limit``."""
        q = select(AlarmRow).where(AlarmRow.active_key.is_not(None))
        return self.s.scalars(q.order_by(AlarmRow.created_at, AlarmRow.id).limit(limit)).all()

    def active_of(self, ns_instance_id: str, fault_key: str) -> AlarmRow | None:
        """The active alarm of one NS and fault, if any."""
        key = active_digest(ns_instance_id, fault_key)
        return self.s.scalar(select(AlarmRow).where(AlarmRow.active_key == key))

    def get(self, alarm_id: str, tenant: str | None) -> AlarmRow | None:
        """One alarm the caller sees (a global caller sees all; a tenant its NSs')."""
        row = self.s.get(AlarmRow, alarm_id)
        if row is None or (tenant is not None and row.tenant_id != tenant):
            return None
        return row

    def acknowledge(
        self, alarm_id: str, tenant: str | None, state: str, if_revision: int | None, at: datetime
    ) -> AckOutcome:
        """Set ``ackState``: a conflict when already so, stale when ``if_revision`` (the
        If-Match) is not the current revision. Conditional on the revision read."""
        row = self.get(alarm_id, tenant)
        if row is None:
            return AckOutcome(None)
        if if_revision is not None and if_revision != row.revision:
            return AckOutcome(row, stale=True)
        if row.ack_state == state:
            return AckOutcome(row, conflict=True)
        acked = at if state == ACKNOWLEDGED else None
        done = self.s.execute(
            update(AlarmRow)
            .where(AlarmRow.id == row.id, AlarmRow.revision == row.revision)
            .values(
                ack_state=state,
                acknowledged_at=acked,
                changed_at=at,
                revision=AlarmRow.revision + 1,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        self.s.refresh(row)
        if not done:  # changed meanwhile: the caller's view is stale
            return AckOutcome(row, conflict=row.ack_state == state, stale=row.ack_state != state)
        return AckOutcome(row)

    def page(self, tenant: str | None, query: PageQuery) -> list[AlarmRow]:
        """One chunk of the alarms the caller sees, oldest first; alarms of an NS instance
        that no longer exists are not listed."""
        live_ns = exists().where(NsInstance.id == AlarmRow.ns_instance_id)
        visible = and_(owned_by(AlarmRow, tenant), live_ns)
        return fetch_after(
            self.s, AlarmRow, (AlarmRow.created_at, AlarmRow.id), query, visible=visible
        )

    def active_by_severity(self, tenant: str | None) -> dict[str, int]:
        """How many active alarms the caller sees (as :meth:`page` lists them) per perceived
        severity: one GROUP BY."""
        live_ns = exists().where(NsInstance.id == AlarmRow.ns_instance_id)
        q = (
            select(AlarmRow.perceived_severity, func.count())
            .where(AlarmRow.active_key.is_not(None), owned_by(AlarmRow, tenant), live_ns)
            .group_by(AlarmRow.perceived_severity)
        )
        return {severity: int(n) for severity, n in self.s.execute(q)}

    def of_ns(self, ns_instance_id: str) -> Sequence[AlarmRow]:
        """Every alarm of one NS instance."""
        q = select(AlarmRow).where(AlarmRow.ns_instance_id == ns_instance_id)
        return self.s.scalars(q.order_by(AlarmRow.created_at, AlarmRow.id)).all()

    def delete_of_ns(self, ns_instance_id: str) -> int:
        """Remove every alarm of one NS instance; how many."""
        return int(
            self.s.execute(
                delete(AlarmRow)
                .where(AlarmRow.ns_instance_id == ns_instance_id)
                .execution_options(synchronize_session=False)
            ).rowcount
        )

    def orphans(self) -> list[str]:
        """NS instance ids that alarms name but that no longer exist."""
        live = exists().where(NsInstance.id == AlarmRow.ns_instance_id)
        q = select(AlarmRow.ns_instance_id).where(~live).distinct()
        return list(self.s.scalars(q))
