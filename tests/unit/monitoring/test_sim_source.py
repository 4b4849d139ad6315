"""The sim monitoring source: samples every poll, fault events only on a change, the faults
already present reported once on the first poll, an unreachable VIM reported once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nfvo.monitoring.model import FaultEvent, FaultKind, ResourceKind, Sample, Severity
from nfvo.monitoring.sources.base import SourceContext
from nfvo.monitoring.sources.sim import SimSource
from nfvo.vim.base import TAG_VNF, NetworkSpec, PortSpec, ServerSpec
from nfvo.vim.sim import SimVim

HOSTS = [{"name": "compute-1"}, {"name": "compute-2"}]


class Recorder:
    """A sink that keeps what it was given."""

    def __init__(self) -> None:
        self.batches: list[list[Sample]] = []
        self.events: list[FaultEvent] = []
        self.lock = threading.Lock()

    def samples(self, batch: list[Sample]) -> None:
        with self.lock:
            self.batches.append(batch)

    def fault(self, event: FaultEvent) -> None:
        with self.lock:
            self.events.append(event)

    def kinds(self) -> list[tuple[FaultKind, str]]:
        with self.lock:
            return [(e.kind, e.resource.id) for e in self.events]

    def take(self) -> list[tuple[FaultKind, str]]:
        out = self.kinds()
        with self.lock:
            self.events.clear()
        return out


def driver(data_dir: Path, **config: Any) -> SimVim:
    return SimVim(vim_id="vim-1", config={"hosts": HOSTS, **config}, data_dir=data_dir)


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[SimVim]:
    d = driver(tmp_path)
    yield d
    d.close()


def source(data_dir: Path, sink: Recorder, **options: Any) -> SimSource:
    ctx = SourceContext("vim-1", "sim", driver(data_dir), sink, options)
    return SimSource(ctx)


def server(vim: SimVim, key: str, host: str, **kw: Any) -> str:
    spec = ServerSpec(key=key, name=key, image="cirros", flavor="m1.small", host=host, **kw)
    return vim.create_server(spec).id


def test_samples_name_resources_of_the_vim(sim: SimVim, tmp_path: Path) -> None:
    net = sim.create_network(NetworkSpec(key="n", name="n"))
    port = sim.create_port(PortSpec(key="p", name="p", network_id=net.id))
    sid = server(sim, "a", "compute-1", ports=[port.id], tags={TAG_VNF: "vnf-1"})
    sink = Recorder()
    src = source(tmp_path, sink)
    src.poll_once()
    (batch,) = sink.batches
    by = {(s.resource.kind, s.resource.id, s.metric) for s in batch}
    assert (ResourceKind.SERVER, sid, "cpu_utilization") in by
    assert (ResourceKind.PORT, port.id, "bytes_out") in by
    assert (ResourceKind.HOST, "compute-2", "memory_utilization") in by
    assert {s.resource.vim_id for s in batch} == {"vim-1"}
    assert sink.events == []  # nothing wrong: no event
    src.stop()


def test_events_only_on_change(sim: SimVim, tmp_path: Path) -> None:
    a = server(sim, "a", "compute-1")
    b = server(sim, "b", "compute-2")
    net = sim.create_network(NetworkSpec(key="n", name="n"))
    sink = Recorder()
    src = source(tmp_path, sink)
    src.poll_once()
    assert sink.take() == []
    host = sim.inject_fault("HOST_DOWN", "compute-1")
    crash = sim.inject_fault("SERVER_CRASH", b)
    netf = sim.inject_fault("NETWORK_DOWN", net.id)
    src.poll_once()
    events = sink.events[:]
    assert sink.take() == [
        (FaultKind.HOST_DOWN, "compute-1"),
        (FaultKind.SERVER_CRASHED, b),  # a's ERROR is its host's fault: no event of its own
        (FaultKind.NETWORK_DOWN, net.id),
    ]
    assert events[0].severity is Severity.CRITICAL and events[0].raw["servers"] == [a]
    assert events[0].resource.vim_id == "vim-1" and events[0].source == "sim"
    for _ in range(3):
        src.poll_once()
    assert sink.take() == []  # unchanged: never re-reported
    for fault in (host, crash, netf):
        sim.clear_fault(fault.id)
    src.poll_once()
    events = sink.events[:]
    assert sink.take() == [
        (FaultKind.HOST_UP, "compute-1"),
        (FaultKind.SERVER_RECOVERED, b),
        (FaultKind.NETWORK_UP, net.id),
    ]
    assert all(e.cleared for e in events)
    assert events[0].key == "host:host:vim-1:compute-1"  # clears the HOST_DOWN's fault
    sim.delete_server(a)
    src.poll_once()
    assert sink.take() == [(FaultKind.SERVER_GONE, a)]
    src.stop()


def test_first_poll_reports_present_faults_once(sim: SimVim, tmp_path: Path) -> None:
    a = server(sim, "a", "compute-1")
    b = server(sim, "b", "compute-2")
    sim.inject_fault("HOST_DOWN", "compute-1")
    sim.inject_fault("SERVER_CRASH", b)
    sink = Recorder()
    src = source(tmp_path, sink)
    src.poll_once()
    assert sink.take() == [(FaultKind.HOST_DOWN, "compute-1"), (FaultKind.SERVER_CRASHED, b)]
    src.poll_once()
    assert sink.take() == []
    # the crashed server's host fails and returns: its crash is still the same fault
    f = sim.inject_fault("HOST_DOWN", "compute-2")
    src.poll_once()
    sim.clear_fault(f.id)
    src.poll_once()
    assert sink.take() == [(FaultKind.HOST_DOWN, "compute-2"), (FaultKind.HOST_UP, "compute-2")]
    assert a not in {rid for _, rid in sink.kinds()}
    src.stop()


def test_an_unreachable_vim_is_reported_once_and_its_return(sim: SimVim, tmp_path: Path) -> None:
    sink = Recorder()
    ctx = SourceContext("vim-1", "sim", driver(tmp_path), sink, {})
    src = SimSource(ctx)
    # the metrics operation fails every time: as a VIM that does not answer
    failing = driver(tmp_path / "other", faults={"metrics": {"error_rate": 1.0}})
    src.ctx = SourceContext("vim-1", "sim", failing, sink, {})
    for _ in range(3):
        src.poll_once()
    assert sink.take() == [(FaultKind.VIM_UNREACHABLE, "vim-1")]
    assert sink.batches == []
    src.ctx = ctx
    src.poll_once()
    src.poll_once()
    assert sink.take() == [(FaultKind.VIM_REACHABLE, "vim-1")]
    failing.close()
    src.stop()


def test_a_fault_is_seen_by_the_next_poll_of_the_running_source(
    sim: SimVim, tmp_path: Path
) -> None:
    server(sim, "a", "compute-1")
    sink = Recorder()
    src = source(tmp_path, sink, interval_s=0.1)
    assert src.interval_s == 0.1
    assert SimSource.default_interval_s == 0.5
    src.start()
    try:
        deadline = time.monotonic() + 5
        while not sink.batches:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        t0 = time.monotonic()
        sim.inject_fault("HOST_DOWN", "compute-1")
        while (FaultKind.HOST_DOWN, "compute-1") not in sink.kinds():
            assert time.monotonic() - t0 < 2.0, "not seen within 2 s"
            time.sleep(0.01)
        assert time.monotonic() - t0 < 1.0  # a poll every 0.1 s: loose ceiling
    finally:
        src.stop()
    assert not src.alive()
