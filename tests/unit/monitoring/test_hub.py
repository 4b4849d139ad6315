"""The monitoring hub: windowing on ingest, ordered bounded delivery, failing listeners, reads."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest

from nfvo.errors import Conflict
from nfvo.monitoring import hub as hub_mod
from nfvo.monitoring.hub import Monitor, combine
from nfvo.monitoring.metrics import Aggregation
from nfvo.monitoring.model import FaultEvent, FaultKind, Resource, ResourceKind, Sample, Severity
from nfvo.monitoring.windows import Stat

VIM = "vim-1"
S1 = Resource(ResourceKind.SERVER, "s1", VIM)
S2 = Resource(ResourceKind.SERVER, "s2", VIM)
HOST = Resource(ResourceKind.HOST, "compute-1", VIM)


class Clock:
    def __init__(self, t: float = 1_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def mon(clock: Clock) -> Iterator[Monitor]:
    m = Monitor(window_s=10.0, clock=clock)
    m.start()
    yield m
    m.stop()


def cpu(r: Resource, v: float, t: float) -> Sample:
    return Sample(r, "cpu_utilization", v, t)


def fault(r: Resource, t: float, kind: FaultKind = FaultKind.HOST_DOWN) -> FaultEvent:
    return FaultEvent(r, kind, Severity.MAJOR, t, "test")


def test_a_sample_is_readable_as_soon_as_samples_returns(mon: Monitor, clock: Clock) -> None:
    mon.samples([cpu(S1, 40.0, 995.0), cpu(S1, 60.0, 999.0)])
    st = mon.current(S1, "cpu_utilization")
    assert (st.count, st.mean, st.peak, st.last, st.last_at) == (2, 50.0, 60.0, 60.0, 999.0)
    assert (st.since, st.until) == (990.0, 1000.0)
    assert mon.stat(S1, "cpu_utilization", 996.0, 1000.0).mean == 60.0


def test_a_silent_source_turns_to_no_data_after_its_window(mon: Monitor, clock: Clock) -> None:
    mon.samples([cpu(HOST, 0.0, 1000.0)])
    assert mon.current(HOST, "cpu_utilization").mean == 0.0  # a true zero is data
    clock.t = 1009.0
    assert mon.current(HOST, "cpu_utilization").count == 1
    clock.t = 1010.5
    st = mon.current(HOST, "cpu_utilization")
    assert st.no_data and st.mean is None and st.last is None


def test_source_names_are_stored_under_their_canonical_name(mon: Monitor) -> None:
    mon.samples([Sample(S1, "cpu_util", 12.0, 999.0)])
    assert mon.current(S1, "cpu_utilization").last == 12.0


def test_unknown_metrics_and_far_future_samples_are_dropped_and_counted(
    mon: Monitor, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    mon.samples([Sample(S1, "nonsense", 1.0, 999.0)] * 3 + [cpu(S1, 7.0, 1000.0 + 3600)])
    mon.samples([cpu(S1, 8.0, 1002.0)])  # a little ahead: counted as now
    c = mon.counters()
    assert c["dropped_unknown_metric"] == 3 and c["dropped_future"] == 1
    assert [r.message.count("nonsense") for r in caplog.records] == [1]  # logged once
    st = mon.current(S1, "cpu_utilization")
    assert (st.count, st.last, st.last_at) == (1, 8.0, 1000.0)


def test_reads_refuse_unknown_metrics_and_metrics_of_another_kind(mon: Monitor) -> None:
    with pytest.raises(KeyError, match="'bogus'"):
        mon.current(S1, "bogus")
    with pytest.raises(ValueError, match="'bytes_in' is not a metric of a server"):
        mon.current(S1, "bytes_in")
    with pytest.raises(ValueError, match="window_s"):
        mon.current(S1, "cpu_utilization", window_s=0)
    assert mon.metrics_of(Resource(ResourceKind.VIM, VIM)) == {}


def test_metrics_of_lists_every_metric_of_the_kind_with_no_data(mon: Monitor) -> None:
    mon.samples([Sample(S1, "memory_utilization", 33.0, 999.0)])
    got = mon.metrics_of(S1)
    assert set(got) == {"cpu_utilization", "memory_utilization", "disk_utilization"}
    assert got["memory_utilization"].last == 33.0
    assert got["cpu_utilization"].no_data and got["disk_utilization"].mean is None


def test_listeners_get_batches_and_events_in_arrival_order(mon: Monitor) -> None:
    seen: list[object] = []
    mon.on_samples(lambda b: seen.append(("a", [s.value for s in b])))
    mon.on_samples(lambda b: seen.append(("b", [s.value for s in b])))
    mon.on_fault(lambda e: seen.append(("f", e.timestamp)))
    for i in range(50):
        mon.samples([cpu(S1, float(i), 990.0 + i * 0.1)])
        if i % 10 == 0:
            mon.fault(fault(HOST, float(i)))
    assert mon.wait_idle(5.0)
    a = [v for k, v in seen if k == "a"]
    assert a == [[float(i)] for i in range(50)]
    assert [v for k, v in seen if k == "b"] == a
    faults = [v for k, v in seen if k == "f"]
    assert faults == [0.0, 10.0, 20.0, 30.0, 40.0]
    # listener a is called before b for each batch, and a fault after the batch before it
    assert seen[:3] == [("a", [0.0]), ("b", [0.0]), ("f", 0.0)]


def test_a_failing_listener_does_not_stop_the_others(
    mon: Monitor, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="nfvo.monitoring.hub")
    got: list[int] = []

    def expected_failure(batch: list[Sample]) -> None:
        raise Conflict("the PM job is gone")

    def bug(batch: list[Sample]) -> None:
        raise ZeroDivisionError("bug")

    mon.on_samples(expected_failure)
    mon.on_samples(bug)
    mon.on_samples(lambda b: got.append(len(b)))
    for _ in range(3):
        mon.samples([cpu(S1, 1.0, 999.0)])
    assert mon.wait_idle(5.0)
    assert got == [1, 1, 1]
    assert mon.counters()["listener_errors"] == 6
    warnings = [r for r in caplog.records if "expected_failure" in r.getMessage()]
    assert len(warnings) == 1  # once per change of error, not per batch
    assert warnings[0].levelno == logging.WARNING and warnings[0].exc_info is None
    assert "the PM job is gone" in warnings[0].getMessage()
    bugs = [r for r in caplog.records if "bug" in r.getMessage()]
    assert len(bugs) == 1 and bugs[0].levelno == logging.ERROR and bugs[0].exc_info


def test_a_slow_listener_bounds_the_queue_and_faults_keep_a_reserve(
    mon: Monitor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hub_mod, "MAX_QUEUED", 12)
    monkeypatch.setattr(hub_mod, "FAULT_RESERVE", 4)
    gate = threading.Event()
    entered = threading.Event()
    delivered: list[float] = []
    faults: list[float] = []

    def slow(batch: list[Sample]) -> None:
        entered.set()
        gate.wait(10.0)
        delivered.extend(s.value for s in batch)

    mon.on_samples(slow)
    mon.on_fault(lambda e: faults.append(e.timestamp))
    mon.samples([cpu(S1, 0.0, 990.0)])
    assert entered.wait(5.0)  # the dispatcher is stuck in the slow listener
    for i in range(1, 20):
        mon.samples([cpu(S1, float(i), 990.0 + i * 0.1)])
    for i in range(6):
        mon.fault(fault(HOST, float(i)))
    c = mon.counters()
    assert c["queued"] == 12  # 1 batch in delivery, 7 queued, then 4 faults in the reserve
    assert c["dropped_sample_batches"] == 12 and c["dropped_samples"] == 12
    assert c["dropped_faults"] == 2
    # the windows took every sample regardless
    assert mon.current(S1, "cpu_utilization").count == 16  # the ring of a 10 s window
    gate.set()
    assert mon.wait_idle(5.0)
    assert delivered == [float(i) for i in range(8)]
    assert faults == [0.0, 1.0, 2.0, 3.0]


def test_wait_idle_reports_a_stuck_dispatcher(clock: Clock) -> None:
    m = Monitor(clock=clock)  # not started: nothing is delivered
    m.on_samples(lambda b: None)
    m.samples([cpu(S1, 1.0, 999.0)])
    assert m.wait_idle(0.05) is False
    m.start()
    try:
        assert m.wait_idle(5.0)
    finally:
        m.stop()


def test_idle_series_are_evicted(mon: Monitor, clock: Clock) -> None:
    mon.samples([cpu(S1, 1.0, 999.0), cpu(S2, 1.0, 999.0)])
    clock.t += mon.idle_s - 10
    mon.samples([cpu(S2, 2.0, clock.t)])
    clock.t += 20
    assert mon.evict_idle() == 1
    assert mon.counters()["series"] == 1


def test_concurrent_writers_and_readers(mon: Monitor, clock: Clock) -> None:
    servers = [Resource(ResourceKind.SERVER, f"s{i}", VIM) for i in range(20)]
    errors: list[BaseException] = []

    def write(k: int) -> None:
        try:
            for j in range(200):
                mon.samples([cpu(s, float(k), 991.0 + j * 0.01) for s in servers])
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    def read() -> None:
        try:
            for _ in range(200):
                for s in servers[:3]:
                    mon.current(s, "cpu_utilization")
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=write, args=(k,)) for k in range(4)]
    threads += [threading.Thread(target=read) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30.0)
    assert not errors
    assert mon.counters()["samples"] == 4 * 200 * 20


def test_combine_by_aggregation() -> None:
    a = Stat(2, 10.0, 20.0, 0.0, 20.0, 5.0, 0.0, 9.0)
    b = Stat(3, 30.0, 50.0, 25.0, 40.0, 8.0, 0.0, 9.0)
    mean = combine(Aggregation.MEAN_OF_MEANS, [a, b], 0.0, 9.0)
    assert (mean.count, mean.mean, mean.peak, mean.low, mean.last, mean.last_at) == (
        5,
        20.0,
        50.0,
        0.0,
        30.0,
        8.0,
    )
    peak = combine(Aggregation.PEAK, [a, b], 0.0, 9.0)
    assert (peak.mean, peak.peak, peak.last) == (30.0, 50.0, 40.0)
    total = combine(Aggregation.SUM, [a, b], 0.0, 9.0)
    assert (total.mean, total.peak, total.low, total.last) == (40.0, 70.0, 25.0, 60.0)
    assert combine(Aggregation.SUM, [], 0.0, 9.0).no_data


def test_vnf_reads_without_an_inventory_are_no_data(mon: Monitor) -> None:
    mon.samples([cpu(S1, 50.0, 999.0)])
    st = mon.current(Resource(ResourceKind.VNF, "vnf-1"), "VCpuUsageMeanVnf")
    assert st.no_data and st.mean is None


def test_samples_of_a_metric_not_of_their_kind_are_dropped(mon: Monitor) -> None:
    port = Resource(ResourceKind.PORT, "p1", VIM)
    mon.samples([Sample(port, "cpu_utilization", 1.0, 999.0), Sample(S1, "bytes_in", 1.0, 999.0)])
    assert mon.counters()["dropped_wrong_kind"] == 2 and mon.counters()["series"] == 0


def test_a_vnf_value_reported_directly_is_read_when_no_member_has_data(mon: Monitor) -> None:
    vnf = Resource(ResourceKind.VNF, "vnf-1")
    mon.samples([Sample(vnf, "VCpuUsageMeanVnf", 42.0, 999.0)])
    assert mon.current(vnf, "v_cpu_usage_mean_vnf").last == 42.0


def test_a_listener_that_recovers_has_its_next_failure_logged(
    mon: Monitor, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="nfvo.monitoring.hub")
    fail = [True, False, True]

    def flaky(batch: list[Sample]) -> None:
        if fail.pop(0):
            raise TimeoutError("subscriber slow")

    mon.on_samples(flaky)
    for _ in range(3):
        mon.samples([cpu(S1, 1.0, 999.0)])
        assert mon.wait_idle(5.0)
    logged = [r for r in caplog.records if "subscriber slow" in r.getMessage()]
    assert len(logged) == 2 and all(r.exc_info is None for r in logged)


def test_a_large_batch_is_windowed_whole_and_delivered_as_one(mon: Monitor) -> None:
    got: list[int] = []
    mon.on_samples(lambda b: got.append(len(b)))
    servers = [Resource(ResourceKind.SERVER, f"big-{i}", VIM) for i in range(5000)]
    mon.samples([cpu(s, 1.0, 999.0) for s in servers] + [Sample(S1, "nope", 1.0, 999.0)])
    assert mon.wait_idle(5.0)
    assert got == [5000] and mon.counters()["samples"] == 5000
    assert mon.current(servers[-1], "cpu_utilization").last == 1.0
