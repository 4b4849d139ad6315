"""The OpenStack monitoring source over a scripted cloud: host state from services and
hypervisors reported on change only, CPU utilisation from cumulative CPU time, "not exposed"
reads given up once, VIM reachability; and Nova notifications as FaultEvents."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from tests.unit.monitoring.test_nova_parsing import envelope, fault, instance, service

from nfvo.monitoring import nova
from nfvo.monitoring.model import FaultEvent, FaultKind, ResourceKind, Sample, Severity
from nfvo.monitoring.sources.base import SourceContext
from nfvo.monitoring.sources.openstack import OpenStackSource, cpu_percent, host_states
from nfvo.vim.base import Server, VimUnavailable
from nfvo.vim.os.monitoring import (
    ComputeService,
    Diagnostics,
    Hypervisor,
    NotExposed,
    to_diagnostics,
)

VIM = "os-vim"


class Recorder:
    """A sink that keeps what it was handed."""

    def __init__(self) -> None:
        self.faults: list[FaultEvent] = []
        self.batches: list[list[Sample]] = []

    def samples(self, batch: list[Sample]) -> None:
        self.batches.append(list(batch))

    def fault(self, event: FaultEvent) -> None:
        self.faults.append(event)


class Cloud:
    """Scripted answers of one cloud; a value that is an exception is raised."""

    def __init__(self) -> None:
        self.server_list: Any = [server("s1"), server("s2", status="SHUTOFF")]
        self.services: Any = [svc("cmp1"), svc("cmp2")]
        self.hypers: Any = [Hypervisor("cmp1.local", "cmp1", "up", "enabled")]
        self.diag: dict[str, Any] = {}
        self.calls: dict[str, int] = {"servers": 0, "services": 0, "hypervisors": 0, "diag": 0}

    def _give(self, what: str, value: Any) -> Any:
        self.calls[what] += 1
        if isinstance(value, Exception):
            raise value
        return value

    def servers(self) -> list[Server]:
        return self._give("servers", self.server_list)

    def compute_services(self) -> list[ComputeService]:
        return self._give("services", self.services)

    def hypervisors(self) -> list[Hypervisor]:
        return self._give("hypervisors", self.hypers)

    def server_diagnostics(self, server_id: str) -> Diagnostics:
        return self._give("diag", self.diag.get(server_id, NotExposed("x", status=404)))


def server(sid: str, status: str = "ACTIVE") -> Server:
    return Server(
        id=sid, name=sid, status=status, host="cmp1", zone="z", vcpus=2, ram_mib=1024, disk_gib=1
    )


def svc(host: str, state: str = "up", status: str = "enabled", forced: bool = False) -> Any:
    return ComputeService(host, "z", state, status, forced)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(cloud: Cloud, **options: Any) -> tuple[OpenStackSource, Recorder, Clock]:
    sink, clock = Recorder(), Clock()
    ctx = SourceContext(VIM, "openstack", driver=None, sink=sink, options=options)  # type: ignore[arg-type]
    return OpenStackSource(ctx, reads=cloud, clock=clock), sink, clock


def kinds(sink: Recorder) -> list[tuple[FaultKind, str]]:
    return [(f.kind, f.resource.id) for f in sink.faults]


# ---------------------------------------------------------------------- hosts


def test_host_down_and_up_on_change_only() -> None:
    cloud = Cloud()
    source, sink, _ = make(cloud)
    source.poll_once()
    assert sink.faults == []  # all up at first sight: nothing to say
    cloud.services = [svc("cmp1", state="down"), svc("cmp2")]
    source.poll_once()
    source.poll_once()
    assert kinds(sink) == [(FaultKind.HOST_DOWN, "cmp1")]
    down = sink.faults[0]
    assert down.severity is Severity.CRITICAL and down.source == "openstack"
    assert down.resource.kind is ResourceKind.HOST and down.resource.vim_id == VIM
    assert down.probable_cause == "service state down"
    assert down.raw["service"]["state"] == "down" and down.raw["hypervisor"]["state"] == "up"
    cloud.services = [svc("cmp1", status="disabled"), svc("cmp2")]  # still not taking servers
    source.poll_once()
    cloud.services = [svc("cmp1"), svc("cmp2")]
    source.poll_once()
    source.poll_once()
    assert kinds(sink) == [(FaultKind.HOST_DOWN, "cmp1"), (FaultKind.HOST_UP, "cmp1")]
    assert sink.faults[1].severity is Severity.CLEARED
    assert sink.faults[0].key == sink.faults[1].key


@pytest.mark.parametrize(
    ("services", "hypers", "why"),
    [
        ([svc("h", forced=True)], [], "forced_down"),
        ([svc("h", status="disabled")], [], "disabled"),
        ([svc("h")], [Hypervisor("h.x", "h", "down", "enabled")], "hypervisor h.x state down"),
        ([], [Hypervisor("h", "h", "down", "enabled")], "hypervisor h state down"),
    ],
)
def test_host_states(services: list, hypers: list, why: str) -> None:
    up, reason, _ = host_states(services, hypers)["h"]
    assert up is False and reason == why


def test_a_host_first_seen_down_is_reported() -> None:
    cloud = Cloud()
    cloud.services = [svc("cmp1", forced=True), svc("cmp2")]
    source, sink, _ = make(cloud)
    source.poll_once()
    assert kinds(sink) == [(FaultKind.HOST_DOWN, "cmp1")]


def test_services_refused_by_policy_are_not_asked_again(caplog: pytest.LogCaptureFixture) -> None:
    cloud = Cloud()
    cloud.services = NotExposed("compute service list: OpenStack answered 403", status=403)
    cloud.hypers = NotExposed("hypervisor list: OpenStack answered 403", status=403)
    cloud.diag["s1"] = Diagnostics(2, 1e9, None, 1024.0, 100.0)
    source, sink, _ = make(cloud)
    with caplog.at_level(logging.INFO):
        for _ in range(3):
            source.poll_once()
    assert cloud.calls["services"] == 1 and cloud.calls["hypervisors"] == 1
    assert cloud.calls["servers"] == 3 and sink.faults == []
    assert not [r for r in caplog.records if r.exc_info]
    assert sum("does not expose services" in r.getMessage() for r in caplog.records) == 1


# ---------------------------------------------------------------------- reachability


def test_unreachable_once_until_it_answers() -> None:
    cloud = Cloud()
    source, sink, _ = make(cloud)
    source.poll_once()
    cloud.server_list = VimUnavailable("OpenStack is unreachable: connection refused")
    for _ in range(3):
        source.poll_once()
    assert kinds(sink) == [(FaultKind.VIM_UNREACHABLE, VIM)]
    assert cloud.calls["services"] == 1  # nothing else asked while unreachable
    cloud.server_list = [server("s1")]
    source.poll_once()
    source.poll_once()
    assert kinds(sink) == [(FaultKind.VIM_UNREACHABLE, VIM), (FaultKind.VIM_REACHABLE, VIM)]
    assert sink.faults[0].resource.kind is ResourceKind.VIM
    assert sink.faults[1].cleared and sink.faults[0].key == sink.faults[1].key


# ---------------------------------------------------------------------- usage


def test_cpu_from_cumulative_time_between_two_polls() -> None:
    cloud = Cloud()
    source, sink, clock = make(cloud)
    cloud.diag["s1"] = Diagnostics(2, 10e9, None, 1024.0, 256.0)
    source.poll_once()
    first = {s.metric: s.value for s in sink.batches[0]}
    assert "cpu_utilization" not in first  # one reading gives no rate
    assert first["memory_utilization"] == pytest.approx(25.0)
    clock.now += 30
    cloud.diag["s1"] = Diagnostics(2, 10e9 + 15e9, None, 1024.0, 512.0)  # 15 s CPU in 30 s, 2 vCPU
    source.poll_once()
    second = {s.metric: s.value for s in sink.batches[1]}
    assert second["cpu_utilization"] == pytest.approx(25.0)
    assert second["memory_utilization"] == pytest.approx(50.0)
    assert all(s.resource.id == "s1" and s.timestamp == clock.now for s in sink.batches[1])
    assert cloud.calls["diag"] == 2  # the SHUTOFF server is not asked


def test_cpu_percent_edges() -> None:
    assert cpu_percent(None, (1.0, 1.0), 1) is None
    assert cpu_percent((0.0, 5e9), (10.0, 1e9), 1) is None  # counter reset (reboot)
    assert cpu_percent((0.0, 0.0), (10.0, 40e9), 2) == 100.0  # capped
    assert cpu_percent((0.0, 0.0), (0.0, 1e9), 1) is None


@pytest.mark.parametrize("status", [403, 501, 404])
def test_diagnostics_not_exposed_is_given_up_once_without_traceback(
    status: int, caplog: pytest.LogCaptureFixture
) -> None:
    cloud = Cloud()
    cloud.diag["s1"] = NotExposed(f"diagnostics: OpenStack answered {status}", status=status)
    source, sink, _ = make(cloud)
    with caplog.at_level(logging.INFO):
        for _ in range(3):
            source.poll_once()
    assert cloud.calls["diag"] == 1 and sink.batches == []
    assert "diagnostics" in source.not_exposed
    assert not [r for r in caplog.records if r.exc_info]
    assert sum("server diagnostics" in r.getMessage() for r in caplog.records) == 1


def test_a_404_for_a_server_deleted_meanwhile_keeps_diagnostics() -> None:
    cloud = Cloud()
    cloud.diag["s1"] = NotExposed("gone", status=404)

    answers = iter([[server("s1")], []])  # listed, then gone when re-checked
    cloud.servers = lambda: next(answers)  # type: ignore[method-assign]
    source, _, _ = make(cloud)
    source.poll_once()
    assert "diagnostics" not in source.not_exposed


def test_to_diagnostics_reads_the_2_48_shape() -> None:
    body = {
        "state": "running",
        "num_cpus": 2,
        "cpu_details": [{"id": 0, "time": 17300000000, "utilisation": 15},
                        {"id": 1, "time": 2700000000, "utilisation": None}],
        "memory_details": {"maximum": 512, "used": 256},
        "nic_details": [], "disk_details": [],
    }  # fmt: skip
    d = to_diagnostics(body)
    assert (d.num_cpus, d.cpu_time_ns, d.cpu_utilisation) == (2, 20e9, 15.0)
    assert (d.memory_max_mib, d.memory_used_mib, d.state) == (512.0, 256.0, "running")
    empty = to_diagnostics({"cpu_details": [{"id": 0, "time": None}], "memory_details": None})
    assert empty.cpu_time_ns is None and empty.memory_used_mib is None


def test_bad_options_are_refused() -> None:
    with pytest.raises(ValueError, match="interval_s"):
        make(Cloud(), interval_s=0)
    with pytest.raises(ValueError, match="max_servers"):
        make(Cloud(), max_servers=10**9)
    assert make(Cloud())[0].interval_s == 30.0


# ---------------------------------------------------------------------- notifications


@pytest.mark.parametrize(
    ("message", "kind", "severity", "rid", "rkind"),
    [
        (instance("instance.delete.end", "srv-1", "deleted"), FaultKind.SERVER_GONE,
         Severity.MAJOR, "srv-1", ResourceKind.SERVER),
        (instance("instance.update", "srv-2", "error", fault=fault("Boom", "no host")),
         FaultKind.SERVER_CRASHED, Severity.MAJOR, "srv-2", ResourceKind.SERVER),
        (service("cmp-1", forced_down=True), FaultKind.HOST_DOWN,
         Severity.CRITICAL, "cmp-1", ResourceKind.HOST),
        (service("cmp-1"), FaultKind.HOST_UP, Severity.CLEARED, "cmp-1",
         ResourceKind.HOST),
    ],
)  # fmt: skip
def test_notification_to_fault(
    message: dict, kind: FaultKind, severity: Severity, rid: str, rkind: ResourceKind
) -> None:
    event = nova.parse(envelope(message))
    assert event is not None
    fe = nova.to_fault(event, VIM, 123.0)
    assert (fe.kind, fe.severity, fe.resource.id, fe.resource.kind) == (kind, severity, rid, rkind)
    assert fe.resource.vim_id == VIM and fe.source == "openstack" and fe.timestamp == 123.0
    assert fe.raw["event_type"] == message["event_type"]
    assert fe.raw["payload"] == message["payload"]


def test_notification_raw_payload_is_bounded() -> None:
    msg = instance("instance.delete.end", "srv-1", "deleted")
    msg["payload"]["nova_object.data"]["huge"] = "x" * 100_000
    event = nova.parse(envelope(msg))
    assert event is not None
    raw = nova.to_fault(event, VIM, 1.0).raw
    assert raw["payload"]["truncated"] is True
    assert len(json.dumps(raw)) < nova.MAX_RAW_CHARS + 500
