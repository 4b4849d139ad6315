"""Ring-buffer windows: statistics, explicit no data, wrap, order, eviction, memory bound."""

from __future__ import annotations

import pytest

from nfvo.monitoring.windows import BLOCK_ROWS, Stat, Windows, capacity_for

K = ("server-1", "cpu_utilization")


def filled(values: list[float], start: float = 100.0, cap: int = 16) -> Windows:
    w = Windows(cap, max_lag_s=60.0)
    for i, v in enumerate(values):
        assert w.add(K, start + i, v)
    return w


def test_mean_peak_low_last_over_a_window() -> None:
    w = filled([10.0, 30.0, 20.0, 40.0])  # at 100, 101, 102, 103
    st = w.stat(K, 100.0, 103.0)
    assert (st.count, st.mean, st.peak, st.low, st.last, st.last_at) == (
        4,
        25.0,
        40.0,
        10.0,
        40.0,
        103.0,
    )
    part = w.stat(K, 101.0, 102.0)  # both ends inclusive
    assert (part.count, part.mean, part.peak, part.low, part.last) == (2, 25.0, 30.0, 20.0, 20.0)
    assert (part.since, part.until) == (101.0, 102.0)


def test_no_data_is_none_never_zero() -> None:
    w = filled([0.0, 5.0])
    unknown = w.stat(("other", "cpu_utilization"), 0.0, 1e12)
    assert unknown.no_data and unknown.count == 0
    assert (unknown.mean, unknown.peak, unknown.low, unknown.last, unknown.last_at) == (None,) * 5
    # a source that stopped sending: its window moves past the last sample -> no data
    silent = w.stat(K, 102.0 + 0.001, 162.0)
    assert silent.no_data and silent.mean is None
    # a real zero reading is data, not "no data"
    zero = w.stat(K, 100.0, 100.0)
    assert zero.count == 1 and zero.mean == 0.0 and not zero.no_data


def test_ring_wraps_keeping_the_newest_capacity_samples() -> None:
    w = filled([float(i) for i in range(40)], cap=16)  # 100..139
    st = w.stat(K, 0.0, 1e9)
    assert st.count == 16
    assert (st.low, st.peak, st.last, st.last_at) == (24.0, 39.0, 39.0, 139.0)
    assert st.mean == pytest.approx(sum(range(24, 40)) / 16)


def test_out_of_order_samples_count_where_they_belong() -> None:
    w = Windows(16, max_lag_s=60.0)
    for ts, v in [(100.0, 1.0), (103.0, 4.0), (101.0, 2.0), (102.0, 3.0)]:
        assert w.add(K, ts, v)
    st = w.stat(K, 101.0, 102.5)
    assert (st.count, st.mean) == (2, 2.5)
    whole = w.stat(K, 0.0, 1e9)
    assert (whole.last, whole.last_at) == (4.0, 103.0)  # last by timestamp, not arrival


def test_too_late_samples_are_dropped_and_counted() -> None:
    w = Windows(16, max_lag_s=10.0)
    assert w.add(K, 100.0, 1.0)
    assert not w.add(K, 89.0, 9.0)
    assert w.add(K, 91.0, 2.0)
    assert w.late_dropped == 1
    assert w.stat(K, 0.0, 1e9).count == 2


def test_a_resent_sample_replaces_the_newest_value() -> None:
    w = Windows(16)
    w.add(K, 100.0, 1.0)
    w.add(K, 101.0, 2.0)
    w.add(K, 101.0, 5.0)
    st = w.stat(K, 0.0, 1e9)
    assert (st.count, st.last, st.mean) == (2, 5.0, 3.0)


def test_non_finite_values_are_refused() -> None:
    w = Windows(16)
    assert not w.add(K, 100.0, float("nan"))
    assert not w.add(K, float("inf"), 1.0)
    assert not w.add(K, 100.0, "12")  # type: ignore[arg-type]
    assert not w.add(K, 100.0, None)  # type: ignore[arg-type]
    assert w.stat(K, 0.0, 1e12).no_data
    assert w.invalid == 4 and len(w) == 0


def test_idle_series_are_evicted_and_their_rows_reused() -> None:
    w = Windows(16)
    for i in range(10):
        w.add((f"s{i}", "m"), 100.0 if i < 5 else 200.0, 1.0)
    assert w.evict_idle(older_than=150.0) == 5
    assert len(w) == 5 and ("s0", "m") not in w
    bytes_before = w.nbytes()
    w.add(("new", "m"), 300.0, 7.0)  # takes a freed row: no allocation
    assert w.nbytes() == bytes_before
    assert w.stat(("new", "m"), 0.0, 1e9).count == 1  # nothing left over from the old series


def test_series_count_is_bounded() -> None:
    w = Windows(4, max_series=3)
    for i in range(5):
        w.add((f"s{i}", "m"), 100.0, 1.0)
    assert len(w) == 3 and w.series_refused == 2


def test_memory_is_bounded_per_series() -> None:
    cap = capacity_for(60.0)
    assert 60 <= cap <= 128
    w = Windows(cap)
    n = 3 * BLOCK_ROWS
    for i in range(n):
        for t in range(3):
            w.add((i, "m"), 100.0 + t, 1.0)
    # the slabs are the only per-sample storage: 16 bytes per slot, plus 16 per series
    assert w.nbytes() <= n * (16 * cap + 16)
    before = w.nbytes()
    for t in range(3, 3 + 2 * cap):  # wrapping the rings does not grow anything
        w.add((0, "m"), 100.0 + t, 1.0)
    assert w.nbytes() == before


def test_stat_empty_and_no_data_property() -> None:
    st = Stat.empty(1.0, 2.0)
    assert st.no_data and st.since == 1.0 and st.until == 2.0


def test_stats_many_agrees_with_stat() -> None:
    w = Windows(8, max_lag_s=100.0)
    for i in range(30):
        for t in range(i % 12):  # some rings wrapped, some partly filled, one empty
            ts = 100.0 + (t * 7 % 11)  # out of order
            w.add((i, "m"), ts, float(t * i % 13))
    keys = [(i, "m") for i in range(30)] + [("missing", "m")]
    for since, until in [(0.0, 1e9), (103.0, 107.0), (200.0, 300.0)]:
        many = {
            (s.count, s.mean, s.peak, s.low, s.last, s.last_at)
            for s in w.stats_many(keys, since, until)
        }
        one = [w.stat(k, since, until) for k in keys]
        expected = {(s.count, s.mean, s.peak, s.low, s.last, s.last_at) for s in one if s.count}
        assert {(c, round(m, 9), p, lo, la, at) for c, m, p, lo, la, at in many} == {
            (c, round(m, 9), p, lo, la, at) for c, m, p, lo, la, at in expected
        }
