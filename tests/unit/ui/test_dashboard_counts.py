"""The dashboard's aggregates on a real database (SQLite and PostgreSQL): NS instances per
state with those busy, active alarms per severity, each within the caller's tenant and
counted by the database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import update
from tests.unit.monitoring.test_fm import host_event, make_ns

from nfvo.inventory.db import Database
from nfvo.inventory.lcm_repo import NsRepository
from nfvo.inventory.models import NsInstance
from nfvo.monitoring import fm
from nfvo.monitoring.model import Severity


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    database.migrate()
    yield database
    database.dispose()


def _counts(db: Database, tenant: str | None) -> dict[str, tuple[int, int]]:
    with db.session() as s:
        return NsRepository(s).count_by_state(tenant=tenant)


def test_ns_counts_per_state_and_tenant_with_the_busy_ones(db: Database) -> None:
    assert _counts(db, None) == {}
    a1 = make_ns(db, {"web": "h1"}, tenant="A")
    make_ns(db, {"web": "h1"}, tenant="A")
    b1 = make_ns(db, {"web": "h2"}, tenant="B")
    shared = make_ns(db, {"web": "h2"})
    with db.session() as s:
        s.execute(update(NsInstance).where(NsInstance.id == b1).values(ns_state="NOT_INSTANTIATED"))
        s.execute(
            update(NsInstance).where(NsInstance.id.in_([a1, shared])).values(current_op_id="op")
        )
    assert _counts(db, None) == {"INSTANTIATED": (3, 2), "NOT_INSTANTIATED": (1, 0)}
    # a tenant counts only its own (as the NS list shows it: shared instances are not its)
    assert _counts(db, "A") == {"INSTANTIATED": (2, 1)}
    assert _counts(db, "B") == {"NOT_INSTANTIATED": (1, 0)}
    assert _counts(db, "C") == {}


def test_active_alarms_per_severity_and_tenant(db: Database) -> None:
    store = fm.FaultManager(db, clock=lambda: 1_800_000_000.0)
    assert store.active_by_severity(None) == {}
    make_ns(db, {"web": "compute-1"}, tenant="A")
    make_ns(db, {"web": "compute-1", "db": "compute-2"}, tenant="B")
    store.handle(host_event("compute-1"))
    store.handle(host_event("compute-2", Severity.MAJOR))
    assert store.active_by_severity(None) == {"CRITICAL": 2, "MAJOR": 1}
    assert store.active_by_severity("A") == {"CRITICAL": 1}
    assert store.active_by_severity("B") == {"CRITICAL": 1, "MAJOR": 1}
    # cleared alarms are not active any more
    store.handle(host_event("compute-1", Severity.CLEARED))
    assert store.active_by_severity(None) == {"MAJOR": 1}
