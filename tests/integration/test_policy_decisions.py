"""The decision log on SQLite and PostgreSQL: every reason is stored as given, ACTED is the
only acting decision, a tenant lists only its own rows, and pages follow creation order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from nfvo.inventory.db import Database
from nfvo.inventory.paging import PageQuery
from nfvo.inventory.policy_repo import PolicyDecisionRepository
from nfvo.policy import decisions
from nfvo.policy.decisions import Kind, Reason

T0 = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def db(db_url: str) -> Database:
    d = Database(db_url)
    d.migrate()
    return d


def test_every_reason_round_trips_and_only_acted_acts(db: Database) -> None:
    ids = {
        reason: decisions.record(
            db,
            kind=Kind.AUTO_SCALE,
            reason=reason,
            action="SCALE_OUT",
            policy_id="p-1",
            ns_instance_id="ns-1",
            tenant_id="t-a",
            inputs={"mean": 81.5, "window_s": 10},
            op_occ_id="op-1" if reason is Reason.ACTED else None,
            at=T0 + timedelta(seconds=len(reason.value)),
        )
        for reason in Reason
    }
    with db.session() as s:
        repo = PolicyDecisionRepository(s)
        for reason, decision_id in ids.items():
            row = repo.get(decision_id, None)
            assert row is not None
            assert row.reason == reason.value
            assert row.decision == ("ACTED" if reason is Reason.ACTED else "DECLINED")
            assert row.inputs == {"mean": 81.5, "window_s": 10}


def test_tenant_sees_own_decisions_in_creation_order(db: Database) -> None:
    for i, tenant in enumerate(["t-a", "t-b", "t-a", None]):
        decisions.record(
            db,
            kind=Kind.AUTO_HEAL,
            reason=Reason.IN_FLIGHT,
            action="HEAL",
            tenant_id=tenant,
            detail="x" * 5000,
            at=T0 + timedelta(seconds=i),
        )
    with db.session() as s:
        repo = PolicyDecisionRepository(s)
        mine = repo.page("t-a", PageQuery(None, (), 10))
        everyone = repo.page(None, PageQuery(None, (), 10))
        assert [r.tenant_id for r in mine] == ["t-a", "t-a"]
        assert len(everyone) == 4
        assert [r.created_at for r in everyone] == sorted(r.created_at for r in everyone)
        assert all(len(r.detail) == decisions.MAX_DETAIL for r in everyone)
        other = repo.get(mine[0].id, "t-b")
        assert other is None
