"""Reading the policy engine's decision log (``/admin/v1/policy_decisions``, ``nfvo policy
decisions``): one page or one decision a caller sees, and its API view."""

from __future__ import annotations

from typing import Any

from nfvo.errors import NotFound
from nfvo.inventory.db import Database
from nfvo.inventory.policy_repo import PolicyDecisionRepository, PolicyDecisionRow
from nfvo.query import PageQuery


class DecisionLog:
    """The decisions a caller sees: all for a global caller, its tenant's otherwise."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def page(self, tenant: str | None, query: PageQuery) -> list[PolicyDecisionRow]:
        """One page in creation order (filters evaluated in SQL)."""
        with self.db.session() as s:
            return PolicyDecisionRepository(s).page(tenant, query)

    def get(self, decision_id: str, tenant: str | None) -> PolicyDecisionRow:
        """One decision (NotFound also for another tenant's)."""
        with self.db.session() as s:
            row = PolicyDecisionRepository(s).get(decision_id, tenant)
        if row is None:
            raise NotFound(f"policy decision {decision_id} does not exist")
        return row


def view(row: PolicyDecisionRow, root: str = "") -> dict[str, Any]:
    """The API view of a decision (``root``: the server's public root, links are absolute)."""
    return {
        "id": row.id,
        "kind": row.kind,
        "decision": row.decision,
        "reason": row.reason,
        "action": row.action,
        "policyId": row.policy_id,
        "nsInstanceId": row.ns_instance_id,
        "tenantId": row.tenant_id,
        "nsLcmOpOccId": row.op_occ_id,
        "detail": row.detail or "",
        "inputs": dict(row.inputs or {}),
        "createdAt": row.created_at.isoformat(),
        "_links": {"self": {"href": f"{root}/admin/v1/policy_decisions/{row.id}"}},
    }
