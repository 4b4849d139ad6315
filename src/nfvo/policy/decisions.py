"""What the policy engine decided, and why: the one place decisions are recorded.

Every evaluation that acts or declines calls :func:`record` (or :func:`add` inside a
transaction it already holds) with one :class:`Reason`. ``ACTED`` is the only reason of an
evaluation that started an operation; every other reason declines. The log is listed at
``/admin/v1/policy_decisions`` and by ``nfvo policy decisions``.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from nfvo.inventory.db import Database
from nfvo.inventory.policy_repo import PolicyDecisionRepository, PolicyDecisionRow

MAX_DETAIL = 1000  # characters of a decision's detail text


class Reason(enum.StrEnum):
    """Why an evaluation acted or declined."""

    ACTED = "ACTED"  # an operation was started (op_occ_id names it)
    COOLDOWN = "COOLDOWN"  # the last operation completed less than the cooldown ago
    IN_FLIGHT = "IN_FLIGHT"  # an operation of the NS is open (or a heal/scale is pending)
    MAX_LEVEL = "MAX_LEVEL"  # the aspect is at its maximum scale level (scale out)
    MIN_LEVEL = "MIN_LEVEL"  # the aspect is at scale level 0 (scale in)
    QUOTA = "QUOTA"  # the action would exceed a tenant or NS quota
    WINDOW = "WINDOW"  # the resource is inside a sleep/drain window
    NO_DATA = "NO_DATA"  # no sample in the evaluation window: never read as low load
    RATE_LIMIT = "RATE_LIMIT"  # too many automatic operations of the NS in the last period
    DISABLED = "DISABLED"  # auto-scale/heal disabled (policy or is_auto*_enabled)
    NOT_READY = "NOT_READY"  # the NS is not INSTANTIATED, or the topology not yet known
    REFUSED = "REFUSED"  # LCM refused the operation (the detail says why)
    CLEARED = "CLEARED"  # the fault cleared, or what it took down was replaced, before acting


class Kind(enum.StrEnum):
    """Which part of the engine decided."""

    AUTO_SCALE = "AUTO_SCALE"
    AUTO_HEAL = "AUTO_HEAL"
    WINDOW = "WINDOW"
    QUOTA = "QUOTA"


ACTED = "ACTED"
DECLINED = "DECLINED"


def add(
    session: Session,
    *,
    kind: Kind,
    reason: Reason,
    action: str,
    policy_id: str | None = None,
    ns_instance_id: str | None = None,
    tenant_id: str | None = None,
    inputs: Mapping[str, Any] | None = None,
    op_occ_id: str | None = None,
    detail: str = "",
    at: datetime | None = None,
) -> PolicyDecisionRow:
    """Append one decision in ``session``'s transaction and return its row."""
    row = PolicyDecisionRow(
        id=str(uuid.uuid4()),
        tenant_id=tenant_id,
        policy_id=policy_id,
        kind=kind.value,
        ns_instance_id=ns_instance_id,
        action=action,
        decision=ACTED if reason is Reason.ACTED else DECLINED,
        reason=reason.value,
        detail=detail[:MAX_DETAIL],
        inputs=dict(inputs or {}),
        op_occ_id=op_occ_id,
        created_at=at or datetime.now(UTC),
    )
    return PolicyDecisionRepository(session).add(row)


def record(db: Database, **fields: Any) -> str:
    """Append one decision in its own transaction (the keyword arguments of :func:`add`);
    returns its id."""
    with db.session() as s:
        return add(s, **fields).id
