"""Rows and repository of SOL005 NS performance management (``nspm/v2``): PM jobs, their
performance reports and thresholds.

A job or threshold owns one hidden ``lccn_subscriptions`` row (``api = "nspm"``) holding its
callbackUri and sealed credentials, so its notifications go through the one durable
delivery outbox. Every change a scheduler makes is a conditional UPDATE (or an INSERT under a
unique constraint): two processes running the same job produce one report per period and
one notification per crossing, on SQLite as on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from nfvo.inventory.models import Base, LccnSubscriptionRow, NotificationDelivery, utcnow
from nfvo.inventory.paging import PageQuery, fetch_after, owned_by

NSPM = "nspm"  # the api of the hidden subscription rows


class PmJobRow(Base):
    """A PM job (SOL005 §7.5.2.7): what to measure, how often, where to report."""

    __tablename__ = "pm_jobs"
    __table_args__ = (Index("ix_pm_jobs_created", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str | None] = mapped_column(String(36), index=True, nullable=True)
    object_type: Mapped[str] = mapped_column(String(32))
    object_instance_ids: Mapped[list[str]] = mapped_column(JSON)
    sub_object_instance_ids: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    criteria: Mapped[dict[str, Any]] = mapped_column(JSON)
    callback_uri: Mapped[str] = mapped_column(Text)
    subscription_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("lccn_subscriptions.id", ondelete="CASCADE"), index=True
    )
    # epoch seconds the periods count from: period k ends at started_at + (k + 1) * R
    started_at: Mapped[float] = mapped_column(Float)
    last_period: Mapped[int] = mapped_column(Integer, default=-1)  # last reported (or skipped)
    finished: Mapped[bool] = mapped_column(Boolean, default=False)  # past reportingBoundary
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PmReportRow(Base):
    """One performance report (§7.5.2.10): at most one per (job, reporting period)."""

    __tablename__ = "pm_reports"
    __table_args__ = (UniqueConstraint("pm_job_id", "period", name="uq_pm_reports_job_period"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    pm_job_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("pm_jobs.id", ondelete="CASCADE"), index=True
    )
    period: Mapped[int] = mapped_column(Integer)
    entries: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    ready_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ThresholdRow(Base):
    """A threshold (§7.5.2.9) and its last crossing state (None before the first UP)."""

    __tablename__ = "pm_thresholds"
    __table_args__ = (Index("ix_pm_thresholds_created", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str | None] = mapped_column(String(36), index=True, nullable=True)
    object_type: Mapped[str] = mapped_column(String(32))
    object_instance_id: Mapped[str] = mapped_column(String(255))
    sub_object_instance_ids: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    criteria: Mapped[dict[str, Any]] = mapped_column(JSON)
    callback_uri: Mapped[str] = mapped_column(Text)
    subscription_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("lccn_subscriptions.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[str | None] = mapped_column(String(8), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


Owned = PmJobRow | ThresholdRow


class PmRepository:
    """Reads and conditional writes of jobs, reports and thresholds in one session."""

    def __init__(self, session: Session) -> None:
        self.s = session

    # ------------------------------------------------------------------ owned rows

    def add(self, row: Owned, subscription: LccnSubscriptionRow) -> None:
        """Store a job or threshold with its hidden subscription."""
        self.s.add(subscription)
        self.s.flush()
        self.s.add(row)
        self.s.flush()

    def get(self, model: type[Owned], row_id: str, tenant: str | None) -> Owned | None:
        """The row if the caller sees it (its tenant's; all for a global caller)."""
        row = self.s.get(model, row_id)
        if row is None or (tenant is not None and row.tenant_id != tenant):
            return None
        return row

    def page(self, model: type[Owned], tenant: str | None, query: PageQuery) -> list[Any]:
        """One chunk of the rows the caller sees, oldest first."""
        return fetch_after(
            self.s, model, (model.created_at, model.id), query, visible=owned_by(model, tenant)
        )

    def count(self, model: type[Owned], tenant: str | None) -> int:
        """How many rows the tenant (or the global callers together) hold."""
        owner = model.tenant_id.is_(None) if tenant is None else model.tenant_id == tenant
        return self.s.scalar(select(func.count()).select_from(model).where(owner)) or 0

    def subscription(self, row: Owned) -> LccnSubscriptionRow:
        """The hidden subscription of a job or threshold."""
        sub = self.s.get(LccnSubscriptionRow, row.subscription_id)
        assert sub is not None, f"{row.id} lost its subscription row"
        return sub

    def remove(self, row: Owned) -> None:
        """Delete a job (with its reports) or a threshold, its subscription and its
        undelivered notifications."""
        sub_id = row.subscription_id
        if isinstance(row, PmJobRow):
            self.s.execute(delete(PmReportRow).where(PmReportRow.pm_job_id == row.id))
        self.s.delete(row)
        self.s.flush()
        self.s.execute(
            delete(NotificationDelivery).where(NotificationDelivery.subscription_id == sub_id)
        )
        self.s.execute(delete(LccnSubscriptionRow).where(LccnSubscriptionRow.id == sub_id))

    # ------------------------------------------------------------------ scheduler

    def active_jobs(self) -> list[PmJobRow]:
        """Every job still reporting."""
        return list(self.s.scalars(select(PmJobRow).where(PmJobRow.finished.is_(False))))

    def thresholds(self) -> list[ThresholdRow]:
        """Every threshold."""
        return list(self.s.scalars(select(ThresholdRow)))

    def claim_period(self, job_id: str, last: int, period: int) -> bool:
        """Move a job's ``last_period`` from ``last`` to ``period``: True for the one caller
        whose update applied (the claim to report that period)."""
        result = self.s.execute(
            update(PmJobRow)
            .where(PmJobRow.id == job_id, PmJobRow.last_period == last)
            .values(last_period=period)
        )
        return result.rowcount == 1  # type: ignore[attr-defined]

    def finish(self, job_id: str) -> None:
        """Mark a job past its reportingBoundary."""
        self.s.execute(update(PmJobRow).where(PmJobRow.id == job_id).values(finished=True))

    def add_report(self, report: PmReportRow, keep: int) -> bool:
        """Insert a report unless one exists for its (job, period); then drop the job's
        reports beyond the newest ``keep``. False when the period already had one."""
        try:
            with self.s.begin_nested():
                self.s.add(report)
                self.s.flush()
        except IntegrityError:
            return False
        stale = list(
            self.s.scalars(
                select(PmReportRow.id)
                .where(PmReportRow.pm_job_id == report.pm_job_id)
                .order_by(PmReportRow.period.desc())
                .offset(keep)
            )
        )
        if stale:
            self.s.execute(delete(PmReportRow).where(PmReportRow.id.in_(stale)))
        return True

    def reports_of(self, job_ids: Sequence[str]) -> dict[str, list[PmReportRow]]:
        """The stored reports of each job, oldest first (entries not needed: not read)."""
        out: dict[str, list[PmReportRow]] = {i: [] for i in job_ids}
        if not job_ids:
            return out
        q = (
            select(PmReportRow.id, PmReportRow.pm_job_id, PmReportRow.ready_at)
            .where(PmReportRow.pm_job_id.in_(list(job_ids)))
            .order_by(PmReportRow.period)
        )
        for rid, job_id, ready in self.s.execute(q):
            out[job_id].append(PmReportRow(id=rid, pm_job_id=job_id, ready_at=ready))
        return out

    def report(self, job_id: str, report_id: str) -> PmReportRow | None:
        """One report of a job."""
        row = self.s.get(PmReportRow, report_id)
        return row if row is not None and row.pm_job_id == job_id else None

    def move_state(self, threshold_id: str, old: str | None, new: str) -> bool:
        """Set a threshold's crossing state from ``old`` to ``new``: True for the one caller
        whose update applied (the one that notifies)."""
        cond = ThresholdRow.state.is_(None) if old is None else ThresholdRow.state == old
        result = self.s.execute(
            update(ThresholdRow).where(ThresholdRow.id == threshold_id, cond).values(state=new)
        )
        return result.rowcount == 1  # type: ignore[attr-defined]
