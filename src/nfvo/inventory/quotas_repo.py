"""Quotas per tenant and per NS instance (vCPU, RAM, instances), and the reservations that
operations in flight hold against them.

A quota row limits one subject: a tenant (``scope`` TENANT, ``subject_id`` the tenant id) or
an NS instance (``scope`` NS, ``subject_id`` the NS instance id); a NULL limit is no limit.
``version`` is the tenant quota's usage generation: every operation that takes more of a
tenant's quota bumps it with a conditional UPDATE (``WHERE version = <read>``) in the
transaction that claims its NS, so of two concurrent claims that both read the same usage
exactly one commits and the other re-reads (no row locks: SQLite and PostgreSQL alike).

A reservation is what the open operation of an NS will make the NS hold (its projected
totals); it counts only while that operation is the NS's open one (``op_occ_id`` equals
``ns_instances.current_op_id``), so an operation that ends, however it ends, releases it
without a write.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    and_,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from nfvo.inventory.models import Base, NsInstance, NsVnf, NsVnfc, utcnow
from nfvo.inventory.paging import PageQuery, fetch_after, owned_by

TENANT = "TENANT"
NS = "NS"


class QuotaRow(Base):
    """The limits of one tenant or NS instance (NULL: unlimited)."""

    __tablename__ = "quotas"
    __table_args__ = (
        UniqueConstraint("scope", "subject_id", name="uq_quotas_subject"),
        Index("ix_quotas_tenant_created", "tenant_id", "created_at", "id"),
        Index("ix_quotas_created", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    scope: Mapped[str] = mapped_column(String(16))  # TENANT | NS
    subject_id: Mapped[str] = mapped_column(String(36))  # the tenant or NS instance id
    tenant_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    ns_instance_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    max_vcpus: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_ram_mib: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_instances: Mapped[int | None] = mapped_column(Integer, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class QuotaReservationRow(Base):
    """The projected totals of an NS while its operation ``op_occ_id`` is open."""

    __tablename__ = "quota_reservations"

    ns_instance_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("ns_instances.id", ondelete="CASCADE"), primary_key=True
    )
    op_occ_id: Mapped[str] = mapped_column(String(36))
    tenant_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    vcpus: Mapped[int] = mapped_column(Integer, default=0)
    ram_mib: Mapped[int] = mapped_column(Integer, default=0)
    instances: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


@dataclass(frozen=True)
class VnfcCount:
    """How many VNFC rows one VDU of one VNF instance has."""

    ns_instance_id: str
    vnf_instance_id: str
    vdu_id: str
    count: int


class QuotaRepository:
    """Quota rows, reservations, and the VNFC counts usage is computed from."""

    def __init__(self, session: Session) -> None:
        self.s = session

    # -- quotas ------------------------------------------------------------------------
    def get(self, scope: str, subject_id: str) -> QuotaRow | None:
        """The quota of one subject, if set."""
        q = select(QuotaRow).where(QuotaRow.scope == scope, QuotaRow.subject_id == subject_id)
        return self.s.execute(q).scalar_one_or_none()

    def add(self, row: QuotaRow) -> QuotaRow:
        """Insert a quota (flushed: a concurrent insert of the same subject fails here)."""
        self.s.add(row)
        self.s.flush()
        return row

    def set_limits(self, quota_id: str, **limits: int | None) -> None:
        """Replace the limits of a quota."""
        q = (
            update(QuotaRow)
            .where(QuotaRow.id == quota_id)
            .values(updated_at=utcnow(), **limits)
            .execution_options(synchronize_session=False)
        )
        self.s.execute(q)

    def delete(self, scope: str, subject_id: str) -> bool:
        """Remove the quota of one subject (False when none was set)."""
        q = delete(QuotaRow).where(QuotaRow.scope == scope, QuotaRow.subject_id == subject_id)
        return self.s.execute(q.execution_options(synchronize_session=False)).rowcount > 0

    def page(self, tenant: str | None, query: PageQuery) -> list[QuotaRow]:
        """One page of the quotas a caller sees (keyset paging, filters in SQL)."""
        return fetch_after(
            self.s,
            QuotaRow,
            (QuotaRow.created_at, QuotaRow.id),
            query,
            visible=owned_by(QuotaRow, tenant),
        )

    def bump(self, quota_id: str, version: int) -> bool:
        """Advance the usage generation of a quota from ``version`` (conditional UPDATE:
        False when another transaction advanced it since it was read)."""
        q = (
            update(QuotaRow)
            .where(QuotaRow.id == quota_id, QuotaRow.version == version)
            .values(version=version + 1)
            .execution_options(synchronize_session=False)
        )
        return self.s.execute(q).rowcount == 1

    # -- usage -------------------------------------------------------------------------
    def vnfc_counts(
        self, *, tenant_id: str | None = None, ns_instance_id: str | None = None
    ) -> list[VnfcCount]:
        """VNFC rows per (NS, VNF instance, VDU) of one tenant's NSs or of one NS."""
        q = select(
            NsVnfc.ns_instance_id, NsVnfc.vnf_instance_id, NsVnfc.vdu_id, func.count()
        ).group_by(NsVnfc.ns_instance_id, NsVnfc.vnf_instance_id, NsVnfc.vdu_id)
        if ns_instance_id is not None:
            q = q.where(NsVnfc.ns_instance_id == ns_instance_id)
        else:
            q = q.join(NsInstance, NsInstance.id == NsVnfc.ns_instance_id).where(
                NsInstance.tenant_id == tenant_id
            )
        return [VnfcCount(*r) for r in self.s.execute(q).all()]

    def vnf_specs(self, vnf_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The deployment spec (JSON) of each VNF instance named."""
        ids = sorted(set(vnf_ids))
        out: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), 500):
            q = select(NsVnf.id, NsVnf.spec).where(NsVnf.id.in_(ids[start : start + 500]))
            out.update({vid: spec or {} for vid, spec in self.s.execute(q).all()})
        return out

    # -- reservations ------------------------------------------------------------------
    def open_reservations(self, tenant_id: str | None) -> Sequence[QuotaReservationRow]:
        """The reservations of a tenant's NSs whose operation is still their open one."""
        q = (
            select(QuotaReservationRow)
            .join(
                NsInstance,
                and_(
                    NsInstance.id == QuotaReservationRow.ns_instance_id,
                    NsInstance.current_op_id == QuotaReservationRow.op_occ_id,
                ),
            )
            .where(QuotaReservationRow.tenant_id == tenant_id)
        )
        return self.s.execute(q).scalars().all()

    def reserve(self, row: QuotaReservationRow) -> None:
        """Make ``row`` the NS's reservation (the NS is claimed by the caller's transaction:
        nobody else writes its reservation)."""
        self.s.execute(
            delete(QuotaReservationRow)
            .where(QuotaReservationRow.ns_instance_id == row.ns_instance_id)
            .execution_options(synchronize_session=False)
        )
        self.s.add(row)
        self.s.flush()
