"""The sim VIM's load curves, monitoring snapshot and injected faults (through the driver)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from nfvo.vim.base import (
    TAG_VNF,
    NetworkSpec,
    PortSpec,
    ServerSpec,
    VimBadRequest,
    VimConfigError,
    VimConflict,
    VimNotFound,
)
from nfvo.vim.sim import SimVim
from nfvo.vim.sim.config import MAX_SERIES, LoadConfig, parse_sim_config
from nfvo.vim.sim.curves import compile_curve

T0 = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make(tmp_path: Path, clock: Clock) -> Iterator[Callable[..., SimVim]]:
    made: list[SimVim] = []

    def _make(**config: Any) -> SimVim:
        config.setdefault("hosts", [{"name": "compute-1"}, {"name": "compute-2"}])
        d = SimVim(vim_id="vim", config=config, data_dir=tmp_path, clock=clock)
        made.append(d)
        return d

    yield _make
    for d in made:
        d.close()


def curve(**kw: Any) -> Any:
    return compile_curve(LoadConfig.model_validate(kw))


def samples(vim: SimVim) -> dict[tuple[str, str, str], float]:
    return {(k, i, m): v for k, i, m, v in vim.monitoring_snapshot().samples}


def server(vim: SimVim, key: str, **kw: Any) -> str:
    spec = ServerSpec(key=key, name=key, image="cirros", flavor="m1.small", **kw)
    return vim.create_server(spec).id


# --------------------------------------------------------------------------- curves


def test_step_curve_changes_at_its_time() -> None:
    c = curve(pattern="step", base=20, after=90, at_s=10)
    assert c.at(T0 + 9.99, T0, "s") == 20
    assert c.at(T0 + 10, T0, "s") == 90
    assert c.at(T0 + 5000, T0, "s") == 90
    # a list of steps: each value holds from its offset; before the first, the first
    steps = curve(pattern="step", steps=[[5, 30], [10, 60], [20, 10]])
    got = [steps.at(T0 + t, T0, "s") for t in (0, 5, 9, 10, 19.5, 20, 1e6)]
    assert got == [30, 30, 30, 60, 60, 10, 10]
    # an explicit start wins over the origin
    started = curve(pattern="step", base=0, after=50, at_s=1, start=T0 + 100)
    assert started.at(T0 + 100.5, T0, "s") == 0 and started.at(T0 + 101, T0, "s") == 50


def test_sine_curve_follows_its_period() -> None:
    c = curve(pattern="sine", base=50, amplitude=40, period_s=400, noise=0, start=T0)
    assert c.at(T0, 0, "s") == pytest.approx(50)
    assert c.at(T0 + 100, 0, "s") == pytest.approx(90)
    assert c.at(T0 + 300, 0, "s") == pytest.approx(10)
    assert c.at(T0 + 500, 0, "s") == pytest.approx(90)
    # the periodic patterns keep their default noise of about 1 %
    noisy = curve(pattern="sine", base=50, amplitude=0)
    values = {noisy.at(T0 + i, 0, "s") for i in range(20)}
    assert len(values) > 1 and all(49 <= v <= 51 for v in values)


def test_replay_once_holds_its_last_value_and_repeat_wraps() -> None:
    series = [[0, 70], [10, 79], [20, 86]]
    once = curve(pattern="replay", series=series)
    assert [once.at(T0 + t, T0, "s") for t in (0, 9, 10, 20, 500)] == [70, 70, 79, 86, 86]
    again = curve(pattern="replay", series=series, repeat=True)  # period: 20 + 10
    assert [again.at(T0 + t, T0, "s") for t in (29, 30, 41, 55)] == [86, 70, 79, 86]
    explicit = curve(pattern="replay", series=series, repeat=True, period_s=100)
    assert explicit.at(T0 + 99, T0, "s") == 86 and explicit.at(T0 + 100, T0, "s") == 70


@pytest.mark.parametrize(
    ("load", "words"),
    [
        ({"pattern": "step", "after": 5}, "step curve needs"),
        ({"pattern": "replay"}, "replay curve needs series"),
        ({"pattern": "replay", "series": [[5, 1], [5, 2]]}, "must increase"),
        ({"pattern": "replay", "series": [[0, 101]]}, "less than or equal to 100"),
        ({"pattern": "replay", "series": [[0, 1]] * (MAX_SERIES + 1)}, "at most"),
        (
            {"pattern": "replay", "series": [[0, 1], [9, 2]], "repeat": True, "period_s": 9},
            "exceed",
        ),
        ({"pattern": "sine", "noise": 50}, "less than or equal to 10"),
    ],
)
def test_bad_curves_are_refused_naming_the_field(load: dict[str, Any], words: str) -> None:
    with pytest.raises(VimConfigError) as err:
        parse_sim_config({"load": load})
    assert "config.load" in str(err.value) and words in str(err.value)


# --------------------------------------------------------------------------- snapshot


def test_snapshot_has_every_metric_of_running_servers_ports_and_hosts(make, clock) -> None:
    vim = make(load={"pattern": "constant", "base": 40, "noise": 0})
    net = vim.create_network(NetworkSpec(key="n", name="n"))
    port = vim.create_port(PortSpec(key="p", name="p", network_id=net.id))
    sid = server(vim, "a", ports=[port.id], host="compute-1")
    got = samples(vim)
    assert got[("server", sid, "cpu_utilization")] == 40
    assert got[("server", sid, "memory_utilization")] == 45  # 25 + cpu / 2
    assert got[("server", sid, "disk_utilization")] == 34
    assert got[("port", port.id, "bytes_in")] == 40 * 12_500
    assert got[("port", port.id, "packets_out")] == pytest.approx(40 * 12_500 * 0.8 / 800)
    # host utilisation: the server's 1 vCPU at 40 % of the host's 64
    assert got[("host", "compute-1", "cpu_utilization")] == pytest.approx(40 / 64, abs=1e-3)
    assert got[("host", "compute-2", "cpu_utilization")] == 0
    snap = vim.monitoring_snapshot()
    assert [s.ports for s in snap.servers] == [(port.id,)]
    assert {h.name: h.state for h in snap.hosts} == {"compute-1": "up", "compute-2": "up"}


def test_stopped_and_errored_servers_and_down_hosts_have_no_samples(make) -> None:
    vim = make()
    off = server(vim, "off", host="compute-1")
    crashed = server(vim, "crashed", host="compute-1")
    on_down = server(vim, "down", host="compute-2")
    vim.stop_server(off)
    vim.inject_fault("SERVER_CRASH", crashed)
    vim.inject_fault("HOST_DOWN", "compute-2")
    got = samples(vim)
    for sid in (off, crashed, on_down):
        assert not [k for k in got if k[1] == sid], sid  # absent, never 0
    assert not [k for k in got if k[1] == "compute-2"]
    assert ("host", "compute-1", "cpu_utilization") in got


def test_api_curves_win_over_tags_and_follow_a_step(make, clock) -> None:
    vim = make()
    tagged = '{"pattern": "constant", "base": 5, "noise": 0}'
    a = server(vim, "a", tags={TAG_VNF: "vnf-1", "nfvo.load": tagged}, host="compute-1")
    b = server(vim, "b", tags={TAG_VNF: "vnf-1"}, host="compute-2")
    c = server(vim, "c", tags={TAG_VNF: "vnf-2"}, host="compute-2")
    assert samples(vim)[("server", a, "cpu_utilization")] == 5
    step = LoadConfig(pattern="step", base=10, after=80, at_s=2)
    entry = vim.set_load("vnf", "vnf-1", "cpu_utilization", step)
    assert entry.view()["target"] == {"vnfInstanceId": "vnf-1"}
    got = samples(vim)
    assert got[("server", a, "cpu_utilization")] == 10
    assert got[("server", b, "cpu_utilization")] == 10
    assert abs(got[("server", c, "cpu_utilization")] - 20) <= 1  # the VIM default
    clock.now += 2
    got = samples(vim)
    assert got[("server", a, "cpu_utilization")] == got[("server", b, "cpu_utilization")] == 80
    # a server's own curve wins over its VNF's; memory may have its own
    vim.set_load("server", a, "cpu_utilization", LoadConfig(pattern="constant", base=33, noise=0))
    vim.set_load("host", "compute-2", "memory_utilization", LoadConfig(base=70, noise=0))
    got = samples(vim)
    assert got[("server", a, "cpu_utilization")] == 33
    assert got[("server", c, "memory_utilization")] == 70
    assert len(vim.loads()) == 3
    vim.set_load("server", a, "cpu_utilization", None)
    assert samples(vim)[("server", a, "cpu_utilization")] == 80
    with pytest.raises(VimBadRequest, match="no server of VNF instance nope"):
        vim.set_load("vnf", "nope", "cpu_utilization", step)


# --------------------------------------------------------------------------- faults


def test_host_down_fault_takes_effect_at_once_and_clearing_undoes_it(make, tmp_path, clock) -> None:
    vim = make()
    on1 = server(vim, "a", host="compute-1")
    off = server(vim, "b", host="compute-1")
    vim.stop_server(off)
    fault = vim.inject_fault("HOST_DOWN", "compute-1")
    # another driver instance on the same state file (another process) sees it at once
    other = SimVim(
        vim_id="vim",
        config={"hosts": [{"name": "compute-1"}, {"name": "compute-2"}]},
        data_dir=tmp_path,
        clock=clock,
    )
    try:
        assert {h.name: h.state for h in other.list_hosts()}["compute-1"] == "down"
        assert other.get_server(on1).status == "ERROR"
        assert other.get_server(off).status == "SHUTOFF"
        assert [f.id for f in other.injected_faults()] == [fault.id]
    finally:
        other.close()
    with pytest.raises(VimConflict, match="already active"):
        vim.inject_fault("HOST_DOWN", "compute-1")
    cleared = vim.clear_fault(fault.id)
    assert cleared.view()["host"] == "compute-1"
    assert vim.get_server(on1).status == "ACTIVE"
    assert vim.get_server(off).status == "SHUTOFF"
    assert vim.injected_faults() == []
    with pytest.raises(VimNotFound):
        vim.clear_fault(fault.id)


def test_a_host_fault_survives_a_restart(make, tmp_path, clock) -> None:
    vim = make()
    vim.inject_fault("HOST_DOWN", "compute-2")
    vim.close()
    again = make()  # arming the config's host faults must not bring it back up
    assert {h.name: h.state for h in again.list_hosts()}["compute-2"] == "down"
    assert len(again.injected_faults()) == 1


def test_a_host_down_by_its_config_cannot_be_taken_down_again(make, clock) -> None:
    vim = make(faults={"hosts": {"compute-1": {"fail_after_s": 1}}})
    vim.check()
    clock.now += 1
    vim.check()
    with pytest.raises(VimConflict, match="down already"):
        vim.inject_fault("HOST_DOWN", "compute-1")
    assert vim.injected_faults() == []


def test_crashed_server_on_a_failed_host_stays_crashed_when_the_host_returns(make) -> None:
    vim = make()
    sid = server(vim, "a", host="compute-1")
    crash = vim.inject_fault("SERVER_CRASH", sid)
    host = vim.inject_fault("HOST_DOWN", "compute-1")
    vim.clear_fault(host.id)
    assert vim.get_server(sid).status == "ERROR"
    vim.clear_fault(crash.id)
    assert vim.get_server(sid).status == "ACTIVE"


def test_network_down_silences_its_ports(make) -> None:
    vim = make()
    net = vim.create_network(NetworkSpec(key="n", name="n"))
    port = vim.create_port(PortSpec(key="p", name="p", network_id=net.id))
    server(vim, "a", ports=[port.id])
    fault = vim.inject_fault("NETWORK_DOWN", net.id)
    snap = vim.monitoring_snapshot()
    assert {n.id: n.status for n in snap.networks}[net.id] == "DOWN"
    assert not [s for s in snap.samples if s[1] == port.id]
    vim.clear_fault(fault.id)
    assert [s for s in vim.monitoring_snapshot().samples if s[1] == port.id]


@pytest.mark.parametrize(
    ("kind", "target", "error"),
    [
        ("HOST_DOWN", "compute-9", "host compute-9 not found"),
        ("SERVER_CRASH", "nope", "server nope not found"),
        ("NETWORK_DOWN", "nope", "network nope not found"),
        ("VIM_ON_FIRE", "x", "is not one of"),
    ],
)
def test_faults_on_unknown_targets_are_refused_and_write_nothing(make, kind, target, error) -> None:
    vim = make()
    with pytest.raises(VimBadRequest, match=error):
        vim.inject_fault(kind, target)
    assert vim.injected_faults() == []
