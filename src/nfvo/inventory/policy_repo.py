"""The policy engine's decision log: one row per evaluation that acted or declined.

Every automatic decision (auto-scale, auto-heal, an availability window's drain, a quota
check before an automatic action) records which policy it evaluated, the inputs it saw, what
it decided and why (:class:`nfvo.policy.decisions.Reason`), and the op occurrence it started
when it acted. Rows are append-only; ``tenant_id`` is the NS's (or the policy's) so a tenant
sees only its own decisions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Index, String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from nfvo.inventory.models import Base, utcnow
from nfvo.inventory.paging import PageQuery, fetch_after, owned_by


class PolicyDecisionRow(Base):
    """One decision of the policy engine (``decision`` ACTED or DECLINED, ``reason`` the
    code, ``inputs`` what was evaluated, ``op_occ_id`` the operation started, if any)."""

    __tablename__ = "policy_decisions"
    __table_args__ = (
        Index("ix_policy_decisions_created", "created_at", "id"),
        Index("ix_policy_decisions_tenant_created", "tenant_id", "created_at", "id"),
        Index("ix_policy_decisions_policy", "policy_id"),
        Index("ix_policy_decisions_ns", "ns_instance_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    policy_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    kind: Mapped[str] = mapped_column(String(32))  # AUTO_SCALE, AUTO_HEAL, WINDOW, ...
    ns_instance_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    action: Mapped[str] = mapped_column(String(64))  # e.g. SCALE_OUT, SCALE_IN, HEAL, DRAIN
    decision: Mapped[str] = mapped_column(String(16))  # ACTED | DECLINED
    reason: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="")
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    op_occ_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PolicyDecisionRepository:
    """Append and list decisions."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, row: PolicyDecisionRow) -> PolicyDecisionRow:
        """Append one decision (flushed, so its id is usable in the same transaction)."""
        self.s.add(row)
        self.s.flush()
        return row

    def get(self, decision_id: str, tenant: str | None) -> PolicyDecisionRow | None:
        """One decision the caller sees (a global caller sees all; a tenant its own)."""
        row = self.s.get(PolicyDecisionRow, decision_id)
        if row is None or (tenant is not None and row.tenant_id != tenant):
            return None
        return row

    def page(self, tenant: str | None, query: PageQuery) -> list[PolicyDecisionRow]:
        """One page in creation order (keyset paging, filters in SQL)."""
        return fetch_after(
            self.s,
            PolicyDecisionRow,
            (PolicyDecisionRow.created_at, PolicyDecisionRow.id),
            query,
            visible=owned_by(PolicyDecisionRow, tenant),
        )
