"""The newest-first list of operation occurrences the GUI pages (the LCM read model's
``recent_ops``): keyset pages down (start_time, id), filters, and the caller's tenant only."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from nfvo.inventory.db import Database
from nfvo.inventory.lcm_repo import OpOccRepository
from nfvo.inventory.models import NsLcmOpOcc
from nfvo.lcm.read import NsReadModel

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    database.migrate()
    yield database
    database.dispose()


def _op(i: int, ns: str, tenant: str | None, state: str = "COMPLETED") -> NsLcmOpOcc:
    return NsLcmOpOcc(
        id=f"00000000-0000-0000-0000-{i:012d}",
        ns_instance_id=ns,
        tenant_id=tenant,
        operation="SCALE" if i % 2 else "INSTANTIATE",
        state=state,
        start_time=T0 + timedelta(seconds=i // 2),  # pairs share a start time: ids decide
        state_entered_time=T0,
    )


def test_pages_newest_first_filtered_and_per_tenant(db: Database) -> None:
    with db.session() as s:
        repo = OpOccRepository(s)
        for i in range(7):
            repo.add(_op(i, "ns-a" if i < 5 else "ns-b", "A" if i != 6 else None))
        repo.add(_op(7, "ns-a", "A", state="FAILED_TEMP"))
    read = NsReadModel(db, None)  # type: ignore[arg-type]  # no catalog needed here

    def ids(rows: list) -> list[int]:
        return [int(r.id[-12:]) for r in rows]

    first = read.recent_ops(None, limit=3)
    assert ids(first) == [7, 6, 5]
    last = first[-1]
    second = read.recent_ops(None, before=(last.start_time, last.id), limit=3)
    assert ids(second) == [4, 3, 2]
    assert ids(read.recent_ops(None, before=(second[-1].start_time, second[-1].id))) == [1, 0]
    assert ids(read.recent_ops("A")) == [7, 5, 4, 3, 2, 1, 0]  # not the global op 6
    assert ids(read.recent_ops("B")) == []
    assert ids(read.recent_ops(None, ns_instance_id="ns-b")) == [6, 5]
    assert ids(read.recent_ops(None, state="FAILED_TEMP")) == [7]
    assert ids(read.recent_ops(None, operation="SCALE", ns_instance_id="ns-a")) == [7, 3, 1]
    assert ids(read.recent_ops(None, state="")) == [7, 6, 5, 4, 3, 2, 1, 0]  # "": no filter
