"""Stored monitoring samples: one row per (resource, metric, 10 s bucket) holding the
bucket's aggregate (count, sum, peak, low, last), and the repository that merges batches of
aggregates into it and deletes rows past the retention.

Concurrency: a batch is merged by ``INSERT ... ON CONFLICT DO UPDATE`` on the unique
(resource_key, metric, bucket_at), so two writers of one bucket (or one writer flushing a
bucket twice) add up instead of failing or overwriting, on SQLite as on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Float,
    Index,
    Integer,
    String,
    UniqueConstraint,
    case,
    delete,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from nfvo.inventory.models import Base

MAX_RESOURCE_KEY = 600  # "server:<vim id>:<server id>" with ids of up to 255 characters
MAX_METRIC = 128


class MonitoringSample(Base):
    """The aggregate of one metric of one resource over one bucket (``bucket_at`` is the
    bucket's start, epoch seconds): kept ``NFVO_SAMPLE_RETENTION``, then deleted."""

    __tablename__ = "monitoring_samples"
    __table_args__ = (
        UniqueConstraint("resource_key", "metric", "bucket_at", name="uq_monitoring_samples"),
        Index("ix_monitoring_samples_bucket_at", "bucket_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    resource_key: Mapped[str] = mapped_column(String(MAX_RESOURCE_KEY))
    metric: Mapped[str] = mapped_column(String(MAX_METRIC))
    bucket_at: Mapped[int] = mapped_column(BigInteger)
    count: Mapped[int] = mapped_column(Integer)
    total: Mapped[float] = mapped_column(Float)
    peak: Mapped[float] = mapped_column(Float)
    low: Mapped[float] = mapped_column(Float)
    last: Mapped[float] = mapped_column(Float)
    last_at: Mapped[float] = mapped_column(Float)


@dataclass(frozen=True)
class Bucket:
    """One bucket's aggregate, as written and as read back."""

    resource_key: str
    metric: str
    bucket_at: int
    count: int
    total: float
    peak: float
    low: float
    last: float
    last_at: float

    @property
    def mean(self) -> float:
        """The mean of the bucket's samples."""
        return self.total / self.count


_COLUMNS = ("resource_key", "metric", "bucket_at", "count", "total", "peak", "low", "last")
_COLUMNS += ("last_at",)


class SampleRepository:
    """Merges bucket aggregates, reads them back, deletes old ones."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def merge(self, buckets: Sequence[Bucket]) -> None:
        """Add ``buckets`` into the stored rows (one statement for the batch)."""
        if not buckets:
            return
        dialect = self.s.get_bind().dialect.name
        ins = (postgresql if dialect == "postgresql" else sqlite).insert(MonitoringSample)
        t, new = MonitoringSample.__table__.c, ins.excluded
        later = new.last_at >= t.last_at
        stmt = ins.on_conflict_do_update(
            index_elements=["resource_key", "metric", "bucket_at"],
            set_={
                "count": t.count + new.count,
                "total": t.total + new.total,
                "peak": func.greatest(t.peak, new.peak)
                if dialect == "postgresql"
                else func.max(t.peak, new.peak),
                "low": func.least(t.low, new.low)
                if dialect == "postgresql"
                else func.min(t.low, new.low),
                "last": _case(later, new.last, t.last),
                "last_at": _case(later, new.last_at, t.last_at),
            },
        )
        rows = [{c: getattr(b, c) for c in _COLUMNS} for b in buckets]
        self.s.execute(stmt, rows)

    def series(self, resource_key: str, metric: str, since: int, until: int) -> list[Bucket]:
        """The stored buckets of one metric of one resource starting in [since, until)."""
        q = (
            select(MonitoringSample)
            .where(
                MonitoringSample.resource_key == resource_key,
                MonitoringSample.metric == metric,
                MonitoringSample.bucket_at >= since,
                MonitoringSample.bucket_at < until,
            )
            .order_by(MonitoringSample.bucket_at)
        )
        return [Bucket(**{c: getattr(r, c) for c in _COLUMNS}) for r in self.s.execute(q).scalars()]

    def delete_before(self, cutoff: int, limit: int) -> int:
        """Delete at most ``limit`` rows whose bucket starts before ``cutoff``; how many."""
        ids = (
            select(MonitoringSample.id)
            .where(MonitoringSample.bucket_at < cutoff)
            .order_by(MonitoringSample.bucket_at)
            .limit(limit)
        )
        q = delete(MonitoringSample).where(MonitoringSample.id.in_(ids))
        return int(self.s.execute(q.execution_options(synchronize_session=False)).rowcount or 0)

    def count(self) -> int:
        """How many bucket rows are stored."""
        return int(self.s.execute(select(func.count()).select_from(MonitoringSample)).scalar_one())


def _case(cond: ColumnElement[bool], then: Any, otherwise: Any) -> ColumnElement[Any]:
    return case((cond, then), else_=otherwise)
