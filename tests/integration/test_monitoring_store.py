"""The sample store on SQLite and PostgreSQL: samples become one row per (resource, metric,
10 s bucket) with count, mean, peak, low and last; flushes of one bucket merge; many samples
make few rows; rows older than the retention are deleted in bounded batches; a database
error keeps the pending aggregates for the next flush."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from nfvo.inventory.db import Database
from nfvo.inventory.samples_repo import SampleRepository
from nfvo.monitoring import store as store_mod
from nfvo.monitoring.model import Resource, ResourceKind, Sample
from nfvo.monitoring.store import SampleStore

VIM = "5b1f8e1e-0000-4000-8000-000000000001"
SERVER = Resource(ResourceKind.SERVER, "srv-1", VIM)
HOST = Resource(ResourceKind.HOST, "host-1", VIM)
T0 = 1_800_000_000.0  # a bucket boundary (divisible by 10)


@pytest.fixture
def db(db_url: str) -> Database:
    d = Database(db_url)
    d.migrate()
    return d


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _series(db: Database, r: Resource, metric: str) -> list:
    with db.session() as s:
        return SampleRepository(s).series(r.key, metric, 0, 2**40)


def test_samples_become_10s_aggregates_and_flushes_merge(db: Database) -> None:
    st = SampleStore(db, retention_s=86_400, clock=Clock(T0))
    st.add([Sample(SERVER, "cpu_utilization", v, T0 + i) for i, v in enumerate((10, 30, 20))])
    st.add([Sample(SERVER, "cpu_utilization", 50.0, T0 + 12)])  # the next bucket
    st.add([Sample(HOST, "cpu_utilization", 5.0, T0 + 1)])
    assert st.flush() == 3
    # the same bucket again, and a late sample stamped before the bucket's last one
    st.add(
        [
            Sample(SERVER, "cpu_utilization", 2.0, T0 + 9),
            Sample(SERVER, "cpu_utilization", 90.0, T0 + 0.5),
        ]
    )
    assert st.flush() == 1
    assert st.flush() == 0
    first, second = _series(db, SERVER, "cpu_utilization")
    assert (first.bucket_at, first.count) == (T0, 5)
    assert first.mean == pytest.approx((10 + 30 + 20 + 2 + 90) / 5)
    assert (first.peak, first.low) == (90.0, 2.0)
    assert (first.last, first.last_at) == (2.0, T0 + 9)  # the latest stamp, not the latest write
    assert (second.bucket_at, second.count, second.last) == (T0 + 10, 1, 50.0)
    [host] = _series(db, HOST, "cpu_utilization")
    assert (host.count, host.mean) == (1, 5.0)
    assert _series(db, SERVER, "memory_utilization") == []


def test_many_samples_make_one_row_per_resource_metric_and_bucket(db: Database) -> None:
    st = SampleStore(db, retention_s=86_400, clock=Clock(T0))
    servers = [Resource(ResourceKind.SERVER, f"s{i}", VIM) for i in range(100)]
    metrics = ("cpu_utilization", "memory_utilization")
    started = time.perf_counter()
    for second in range(20):  # 20 s of 100 servers x 2 metrics x 5 samples/s = 20,000 samples
        batch = [
            Sample(r, m, float(k), T0 + second + k / 5)
            for r in servers
            for m in metrics
            for k in range(5)
        ]
        st.add(batch)
    added = time.perf_counter() - started
    assert st.flush() == 100 * 2 * 2  # two 10 s buckets
    with db.session() as s:
        assert SampleRepository(s).count() == 400
    [b1, b2] = _series(db, servers[7], "memory_utilization")
    assert b1.count == b2.count == 50
    assert added < 5.0  # loose ceiling: folding 20,000 samples is pure in-memory work


def test_old_rows_are_deleted_in_bounded_batches(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(T0)
    st = SampleStore(db, retention_s=3600, clock=clock)
    for i in range(30):  # 30 buckets, 10 s apart, of one series
        st.add([Sample(SERVER, "cpu_utilization", 1.0, T0 + 10 * i)])
    st.flush()
    monkeypatch.setattr(store_mod, "DELETE_BATCH", 7)
    clock.now = T0 + 3600 + 100  # buckets starting before T0 + 100 are past the retention
    assert st.prune() == 10
    left = _series(db, SERVER, "cpu_utilization")
    assert len(left) == 20 and left[0].bucket_at == T0 + 100
    assert st.prune() == 0
    monkeypatch.setattr(store_mod, "MAX_DELETE_ROUNDS", 2)
    clock.now = T0 + 3600 + 1000  # all old, but one pass deletes at most 2 x 7
    assert st.prune() == 14
    assert st.prune() == 6
    assert _series(db, SERVER, "cpu_utilization") == []


def test_a_failed_write_keeps_the_aggregates_for_the_next_flush(db: Database) -> None:
    st = SampleStore(db, retention_s=86_400, clock=Clock(T0))
    st.add([Sample(SERVER, "cpu_utilization", 40.0, T0 + 1)])
    with db.engine.begin() as conn:
        conn.execute(text("ALTER TABLE monitoring_samples RENAME TO monitoring_samples_away"))
    with pytest.raises(Exception):  # noqa: B017 - whichever error the database raises
        st.flush()
    with db.engine.begin() as conn:
        conn.execute(text("ALTER TABLE monitoring_samples_away RENAME TO monitoring_samples"))
    st.add([Sample(SERVER, "cpu_utilization", 60.0, T0 + 2)])
    assert st.flush() == 1
    [b] = _series(db, SERVER, "cpu_utilization")
    assert (b.count, b.mean, b.last) == (2, 50.0, 60.0)


def test_pending_aggregates_are_bounded(db: Database) -> None:
    st = SampleStore(db, retention_s=86_400, max_pending=3, clock=Clock(T0))
    st.add(
        [
            Sample(Resource(ResourceKind.SERVER, f"s{i}", VIM), "cpu_utilization", 1.0, T0)
            for i in range(5)
        ]
    )
    st.add([Sample(Resource(ResourceKind.SERVER, "s0", VIM), "cpu_utilization", 3.0, T0 + 1)])
    assert st.flush() == 3  # two new series were dropped; s0 still took its second sample
    [b] = _series(db, Resource(ResourceKind.SERVER, "s0", VIM), "cpu_utilization")
    assert b.count == 2


def test_background_thread_flushes_and_stop_writes_the_rest(db: Database) -> None:
    st = SampleStore(db, retention_s=86_400, flush_s=0.05, clock=Clock(T0))
    st.start()
    st.start()  # idempotent
    try:
        st.add([Sample(SERVER, "cpu_utilization", 1.0, T0)])
        deadline = time.monotonic() + 10
        while not _series(db, SERVER, "cpu_utilization"):
            assert time.monotonic() < deadline
            time.sleep(0.02)
    finally:
        st.stop()
    st.add([Sample(HOST, "cpu_utilization", 1.0, T0)])
    st.stop()  # not running: still writes what is pending
    assert len(_series(db, HOST, "cpu_utilization")) == 1
