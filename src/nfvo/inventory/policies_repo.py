"""Auto-scaling policies written through ``/admin/v1/policies``, and the idempotency keys of
the scale operations the policy engine started from an alert.

``scaling_policies``: one row per policy (one scaling aspect of one VNF or NS instance, one
metric, thresholds, durations in seconds); ``tenant_id`` is its NS's tenant.

``scaling_triggers``: one row per alert instance (policy, Alertmanager fingerprint, startsAt)
that started an operation, written in the transaction that creates the op occurrence. Its
primary key is the digest of that triple, so a re-delivered alert, however concurrent and
whether or not the process died in between, fails to insert and rolls its op back: one alert
instance never starts two operations, on SQLite and PostgreSQL alike (no row locks).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    delete,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from nfvo.inventory.models import Base, NsInstance, utcnow
from nfvo.inventory.paging import PageQuery, fetch_after, owned_by


class ScalingPolicyRow(Base):
    """One auto-scaling policy (see ``nfvo.policy.model.ScalingPolicy``)."""

    __tablename__ = "scaling_policies"
    __table_args__ = (
        Index("ix_scaling_policies_created", "created_at", "id"),
        Index("ix_scaling_policies_tenant_created", "tenant_id", "created_at", "id"),
        Index("ix_scaling_policies_ns", "ns_instance_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    name: Mapped[str] = mapped_column(String(255))
    ns_instance_id: Mapped[str] = mapped_column(String(36))
    target: Mapped[str] = mapped_column(String(8))  # VNF | NS
    vnf_instance_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    aspect_id: Mapped[str] = mapped_column(String(255))
    metric: Mapped[str] = mapped_column(String(64))  # canonical name
    aggregation: Mapped[str] = mapped_column(String(8))  # MEAN | MAX
    window_s: Mapped[float] = mapped_column(Float)
    out_threshold: Mapped[float | None] = mapped_column(Float, nullable=True)
    out_relation: Mapped[str] = mapped_column(String(4))
    in_threshold: Mapped[float | None] = mapped_column(Float, nullable=True)
    in_relation: Mapped[str] = mapped_column(String(4))
    cooldown_out_s: Mapped[float] = mapped_column(Float)
    cooldown_in_s: Mapped[float] = mapped_column(Float)
    steps: Mapped[int] = mapped_column(Integer, default=1)
    max_scale_level: Mapped[int | None] = mapped_column(Integer, nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ScalingTriggerRow(Base):
    """An alert instance that started a scale operation (its idempotency key)."""

    __tablename__ = "scaling_triggers"
    __table_args__ = (Index("ix_scaling_triggers_ns", "ns_instance_id"),)

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    policy_id: Mapped[str] = mapped_column(String(255))
    ns_instance_id: Mapped[str] = mapped_column(String(36))
    op_occ_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ScalingPolicyRepository:
    """Policies: add, get, page, conditional update, delete; the enabled ones of
    INSTANTIATED NS instances."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, row: ScalingPolicyRow) -> ScalingPolicyRow:
        """Insert a policy (flushed)."""
        self.s.add(row)
        self.s.flush()
        return row

    def get(self, policy_id: str, tenant: str | None) -> ScalingPolicyRow | None:
        """One policy the caller sees (a global caller all; a tenant its own)."""
        row = self.s.get(ScalingPolicyRow, policy_id)
        if row is None or (tenant is not None and row.tenant_id != tenant):
            return None
        return row

    def page(self, tenant: str | None, query: PageQuery) -> list[ScalingPolicyRow]:
        """One page in creation order."""
        return fetch_after(
            self.s,
            ScalingPolicyRow,
            (ScalingPolicyRow.created_at, ScalingPolicyRow.id),
            query,
            visible=owned_by(ScalingPolicyRow, tenant),
        )

    def count_for_ns(self, ns_id: str) -> int:
        """How many policies an NS instance has."""
        rows = self.s.scalars(
            select(ScalingPolicyRow.id).where(ScalingPolicyRow.ns_instance_id == ns_id)
        )
        return len(list(rows))

    def update_if(self, policy_id: str, revision: int, **values: Any) -> bool:
        """Apply ``values`` when the row still has ``revision`` (one of two racing patches
        wins); True when it did."""
        res = self.s.execute(
            update(ScalingPolicyRow)
            .where(ScalingPolicyRow.id == policy_id, ScalingPolicyRow.revision == revision)
            .values(revision=revision + 1, updated_at=utcnow(), **values)
        )
        return bool(res.rowcount)  # type: ignore[attr-defined]

    def delete(self, policy_id: str) -> bool:
        """Delete a policy; True when it existed."""
        res = self.s.execute(delete(ScalingPolicyRow).where(ScalingPolicyRow.id == policy_id))
        return bool(res.rowcount)  # type: ignore[attr-defined]

    def active(self, instantiated: str) -> Sequence[ScalingPolicyRow]:
        """The enabled policies of NS instances in state ``instantiated``."""
        q = (
            select(ScalingPolicyRow)
            .join(NsInstance, NsInstance.id == ScalingPolicyRow.ns_instance_id)
            .where(ScalingPolicyRow.enabled.is_(True), NsInstance.ns_state == instantiated)
            .order_by(ScalingPolicyRow.created_at, ScalingPolicyRow.id)
        )
        return self.s.scalars(q).all()


class ScalingTriggerRepository:
    """Idempotency keys of alert-started scale operations."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, row: ScalingTriggerRow) -> None:
        """Insert the key (flushed now: a duplicate raises ``IntegrityError`` here, inside
        the op occurrence's transaction, which the caller then rolls back)."""
        self.s.add(row)
        self.s.flush()

    def get(self, key: str) -> ScalingTriggerRow | None:
        """The trigger of a key, if an operation was started for it."""
        return self.s.get(ScalingTriggerRow, key)

    def delete_for(self, ns_id: str) -> None:
        """Forget the keys of an NS instance (it is deleted)."""
        self.s.execute(delete(ScalingTriggerRow).where(ScalingTriggerRow.ns_instance_id == ns_id))
