"""The generic VNFM against the real sim VIM driver: deploy, idempotency, faults, LCM ops."""

from __future__ import annotations

import hashlib
import io
import ipaddress
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, BinaryIO

import pytest

from nfvo.vim import registry
from nfvo.vim.base import (
    TAG_NS,
    TAG_VNF,
    NetworkSpec,
    SecurityRule,
    SubnetSpec,
    VimBadRequest,
    VimCapacityExceeded,
    VimConflict,
    VimDriver,
    VimTimeout,
    VimUnavailable,
)
from nfvo.vnfm.base import (
    CpSpec,
    ImageArtifact,
    VduSpec,
    VirtualLinkSpec,
    VnfDeploymentSpec,
    VnfmError,
)
from nfvo.vnfm.generic import (
    BOOT_POLL,
    RETRY_POLL,
    GenericVnfm,
    cleanup_by_tags,
    ensure_images,
)
from nfvo.vnfm.keys import next_generation, split_generation, vnfc_key

NS = "ns-1"
VNF = "vnf-a"
INT_CIDR = "10.10.0.0/24"
EXT_CIDR = "192.168.50.0/24"
SSH = SecurityRule(protocol="tcp", port_range_min=22, port_range_max=22, remote_cidr="0.0.0.0/0")


class FakeTime:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def make_driver(tmp_path: Path) -> Iterator[Callable[..., VimDriver]]:
    made: list[VimDriver] = []

    def _make(vim_id: str = "vim-1", **extra: Any) -> VimDriver:
        config: dict[str, Any] = {"hosts": 4, "zones": 2, "latency_ms": {"server_boot": 20}}
        config.update(extra)
        driver = registry.create_driver(
            "sim",
            vim_id=vim_id,
            vim_url=None,
            vim_user=None,
            vim_password=None,
            vim_tenant_name=None,
            config=config,
            data_dir=tmp_path,
        )
        made.append(driver)
        return driver

    yield _make
    for d in made:
        d.close()


@pytest.fixture
def driver(make_driver: Callable[..., VimDriver]) -> VimDriver:
    return make_driver()


def ext_network(driver: VimDriver) -> str:
    """The NS virtual link the LCM would have created before deploying the VNF."""
    net = driver.create_network(NetworkSpec(key=f"{NS}/vl/mgmt", name="mgmt", tags={TAG_NS: NS}))
    driver.create_subnet(
        SubnetSpec(key=f"{NS}/vl/mgmt/subnet", name="mgmt", network_id=net.id, cidr=EXT_CIDR)
    )
    return net.id


def make_spec(ext_id: str, *, web: int = 2, db: int = 1, **kw: Any) -> VnfDeploymentSpec:
    vdus = [
        VduSpec(
            vdu_id="web",
            name="web",
            count=web,
            vcpus=1,
            ram_mib=2048,
            disk_gib=20,
            image="cirros",
            flavor="m1.small",
            user_data="#cloud-config\n",
            # listed out of order on purpose: the server's ports follow cp.order
            cps=[
                CpSpec("web-int", "int", order=1),
                CpSpec("web-mgmt", "mgmt", order=0, security_rules=[SSH]),
            ],
        ),
        VduSpec(
            vdu_id="db",
            name="db",
            count=db,
            vcpus=2,
            ram_mib=4096,
            disk_gib=10,
            image="cirros",
            cps=[CpSpec("db-int", "int")],
            zone="zone-2",
        ),
    ]
    fields: dict[str, Any] = {
        "ns_instance_id": NS,
        "vnf_instance_id": VNF,
        "vnf_profile_id": "vnfp-a",
        "vnfd_id": "vnfd-a",
        "flavour_id": "simple",
        "vim_account_id": "vim-1",
        "internal_vls": [VirtualLinkSpec("int", INT_CIDR)],
        "vdus": vdus,
        "ext_networks": {"mgmt": ext_id},
        "hosts": {"web-0": "host-0001", "web-1": "host-0003"},
    }
    fields.update(kw)
    return VnfDeploymentSpec(**fields)


def tagged(driver: VimDriver, vnf: str = VNF) -> tuple[list, list, list]:
    tags = {TAG_VNF: vnf}
    return driver.list_servers(tags), driver.list_ports(tags), driver.list_networks(tags)


def counts(driver: VimDriver) -> tuple[int, int, int]:
    return len(driver.list_servers()), len(driver.list_ports()), len(driver.list_networks())


class CrashAfter:
    """Delegates to a driver but 'crashes the process' right after the n-th create."""

    def __init__(self, inner: VimDriver, n: int) -> None:
        self.inner = inner
        self.left = n

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if not name.startswith("create_"):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            out = attr(*args, **kwargs)
            self.left -= 1
            if self.left == 0:
                raise RuntimeError("process crashed")
            return out

        return call


def fast_vnfm(**kw: Any) -> GenericVnfm:
    return GenericVnfm(poll_first_s=0.005, poll_max_s=0.02, **kw)


# --------------------------------------------------------------------------- instantiate


def test_instantiate_builds_the_vnf_the_record_describes(driver: VimDriver) -> None:
    ext_id = ext_network(driver)
    spec = make_spec(ext_id)
    record = fast_vnfm().instantiate(spec, driver)

    servers, ports, networks = tagged(driver)
    assert {v.server_id for v in record.vnfcs} == {s.id for s in servers}
    assert [(v.vdu_id, v.index) for v in record.vnfcs] == [("web", 0), ("web", 1), ("db", 0)]
    assert all(v.status == "ACTIVE" for v in record.vnfcs)
    assert all(s.status == "ACTIVE" for s in servers)
    by_id = {s.id: s for s in servers}
    for v in record.vnfcs:
        s = by_id[v.server_id]
        assert (v.host, v.zone) == (s.host, s.zone)
        assert s.tags[TAG_NS] == NS and s.tags[TAG_VNF] == VNF
        assert v.key == vnfc_key(VNF, v.vdu_id, v.index)
        assert s.name == f"vnfp-a-{v.vdu_id}-{v.index}"
    # host hints honoured, VDU zone honoured
    hosts = {(v.vdu_id, v.index): v.host for v in record.vnfcs}
    assert hosts[("web", 0)] == "host-0001" and hosts[("web", 1)] == "host-0003"
    assert record.vnfcs[2].zone == "zone-2"

    # one internal VL: a network with a subnet, tagged with the NS and the VNF
    assert len(record.vls) == 1 and [n.id for n in networks] == [record.vls[0].network_id]
    assert networks[0].subnets == [record.vls[0].subnet_id]
    assert networks[0].tags[TAG_NS] == NS

    # ports: bound, on the right network, in the CIDR, ordered by cp.order on the server
    assert {p.id for p in ports} == {pid for v in record.vnfcs for pid in v.port_ids.values()}
    port_by_id = {p.id: p for p in ports}
    for v in record.vnfcs:
        for cp_id, pid in v.port_ids.items():
            port = port_by_id[pid]
            assert port.status == "ACTIVE" and port.server_id == v.server_id
            ext = cp_id == "web-mgmt"
            assert port.network_id == (ext_id if ext else record.vls[0].network_id)
            cidr = ipaddress.ip_network(EXT_CIDR if ext else INT_CIDR)
            assert v.addresses[cp_id] and all(
                ipaddress.ip_address(a) in cidr for a in v.addresses[cp_id]
            )
            assert port.security_rules == ([SSH] if ext else [])
    web0 = record.vnfcs[0]
    assert by_id[web0.server_id].ports == [web0.port_ids["web-mgmt"], web0.port_ids["web-int"]]


def test_instantiate_twice_returns_the_same_record_and_creates_nothing(driver) -> None:
    spec = make_spec(ext_network(driver))
    vnfm = fast_vnfm()
    first = vnfm.instantiate(spec, driver)
    before = counts(driver)
    assert vnfm.instantiate(spec, driver) == first
    assert counts(driver) == before == (3, 5, 2)


@pytest.mark.parametrize("crash_after", [1, 2, 3, 6, 9, 10])
def test_instantiate_resumes_after_a_crash_without_duplicates(driver, crash_after: int) -> None:
    spec = make_spec(ext_network(driver))
    vnfm = fast_vnfm()
    with pytest.raises(RuntimeError, match="crashed"):
        vnfm.instantiate(spec, CrashAfter(driver, crash_after))  # type: ignore[arg-type]
    record = vnfm.instantiate(spec, driver)
    assert counts(driver) == (3, 5, 2)
    servers, ports, _ = tagged(driver)
    assert {v.server_id for v in record.vnfcs} == {s.id for s in servers}
    assert all(s.status == "ACTIVE" for s in servers)
    assert all(p.server_id for p in ports)


def test_a_missing_external_network_is_named_before_anything_is_created(driver) -> None:
    spec = make_spec("unused", ext_networks={})
    with pytest.raises(VnfmError) as err:
        fast_vnfm().instantiate(spec, driver)
    assert "web-mgmt" in str(err.value) and "mgmt" in str(err.value)
    assert err.value.vdu_id == "web" and not err.value.retryable
    assert counts(driver) == (0, 0, 0)


# --------------------------------------------------------------------------- faults


def test_boot_fault_names_vnf_vdu_vim_and_the_fault_text(make_driver) -> None:
    driver = make_driver(faults={"server_boot": {"error_rate": 1.0, "message": "disk on fire"}})
    spec = make_spec(ext_network(driver))
    with pytest.raises(VnfmError) as err:
        fast_vnfm().instantiate(spec, driver)
    text = str(err.value)
    assert VNF in text and "VDU web" in text and "vim-1" in text and "disk on fire" in text
    assert err.value.vdu_id == "web" and err.value.vim_account_id == "vim-1"
    assert err.value.retryable is False
    assert err.value.to_dict()["vnfInstanceId"] == VNF


def test_retry_after_a_boot_fault_replaces_the_failed_servers(make_driver, tmp_path) -> None:
    faulty = make_driver(faults={"server_boot": {"error_rate": 1.0}})
    spec = make_spec(ext_network(faulty))
    vnfm = fast_vnfm()
    with pytest.raises(VnfmError):
        vnfm.instantiate(spec, faulty)
    healthy = make_driver()  # the same VIM (state file) once the fault has cleared
    record = vnfm.instantiate(spec, healthy)
    assert all(v.status == "ACTIVE" for v in record.vnfcs)
    assert record.vnfcs[0].key == next_generation(vnfc_key(VNF, "web", 0))
    assert counts(healthy) == (3, 5, 2)
    assert vnfm.instantiate(spec, healthy) == record


def test_vim_unavailable_is_a_retryable_vnfm_error(make_driver) -> None:
    driver = make_driver(faults={"server_create": {"error_rate": 1.0}})
    spec = make_spec(ext_network(driver))
    with pytest.raises(VnfmError) as err:
        fast_vnfm().instantiate(spec, driver)
    assert isinstance(err.value.vim_error, VimUnavailable)
    assert err.value.retryable is True and err.value.vdu_id == "web"
    assert "Service Unavailable" in str(err.value)
    assert err.value.to_dict()["vimError"] == "VimUnavailable"


def test_capacity_exceeded_is_not_retryable(make_driver) -> None:
    fault = {"server_create": {"error_rate": 1.0, "error": "VimCapacityExceeded"}}
    driver = make_driver(faults=fault)
    with pytest.raises(VnfmError) as err:
        fast_vnfm().instantiate(make_spec(ext_network(driver)), driver)
    assert isinstance(err.value.vim_error, VimCapacityExceeded)
    assert err.value.retryable is False


def test_boot_timeout_is_retryable_and_waits_with_few_polls(make_driver) -> None:
    driver = make_driver(latency_ms={"server_boot": 3_600_000})
    t = FakeTime()
    vnfm = GenericVnfm(sleep=t.sleep, clock=t.clock, poll_first_s=0.01, poll_max_s=5.0)
    spec = make_spec(ext_network(driver), web=1, db=0)
    spec.vdus[0].boot_timeout_s = 60.0
    with pytest.raises(VnfmError) as err:
        vnfm.instantiate(spec, driver)
    assert isinstance(err.value.vim_error, VimTimeout) and err.value.retryable
    assert "BUILD" in str(err.value) and err.value.vdu_id == "web"
    assert 60.0 <= sum(t.sleeps) <= 61.0
    # 50 ms apart for the first 5 s, then backing off to the 5 s cap instead of spinning
    assert len(t.sleeps) < 5 / 0.05 + 30
    assert t.sleeps[-2] == 5.0


class BootsAt:
    """Delegates to a driver, but its servers stay BUILD until the fake clock reaches
    ``active_at`` (seconds after the first create); counts the status polls."""

    def __init__(self, inner: VimDriver, t: FakeTime, active_at: float) -> None:
        self.inner, self.t, self.active_at = inner, t, active_at
        self.started: float | None = None
        self.polls: list[float] = []  # fake time of each get_server, relative to the create
        self.lists: list[float] = []  # same for list_servers

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def create_server(self, spec: Any) -> Any:
        self.started = self.t.now if self.started is None else self.started
        return replace(self.inner.create_server(spec), status="BUILD")

    def get_server(self, server_id: str) -> Any:
        assert self.started is not None
        elapsed = self.t.now - self.started
        self.polls.append(elapsed)
        server = self.inner.get_server(server_id)
        return replace(server, status="ACTIVE" if elapsed >= self.active_at else "BUILD")

    def list_servers(self, tags: dict[str, str] | None = None) -> list[Any]:
        if self.started is None:  # the look for servers of an earlier attempt
            return self.inner.list_servers(tags)
        elapsed = self.t.now - self.started
        self.lists.append(elapsed)
        status = "ACTIVE" if elapsed >= self.active_at else "BUILD"
        return [replace(s, status=status) for s in self.inner.list_servers(tags)]


def boot_once(
    driver: VimDriver, active_at: float, timeout_s: float = 3600.0, web: int = 1
) -> BootsAt:
    t = FakeTime()
    booting = BootsAt(driver, t, active_at)
    spec = make_spec(ext_network(driver), web=web, db=0)
    spec.vdus[0].boot_timeout_s = timeout_s
    record = GenericVnfm(sleep=t.sleep, clock=t.clock).instantiate(spec, booting)  # type: ignore[arg-type]
    assert [v.status for v in record.vnfcs] == ["ACTIVE"] * web
    return booting


def test_a_server_active_after_one_second_is_seen_within_a_tenth_of_a_second(driver) -> None:
    booting = boot_once(driver, active_at=1.0)
    seen = booting.polls[-1]
    assert 1.0 <= seen <= 1.1
    assert booting.polls[-2] < 1.0  # the poll before still saw BUILD
    # a few short first looks (a fast VIM is seen quickly), then a steady 50 ms
    gaps = [b - a for a, b in zip(booting.polls, booting.polls[1:], strict=False)]
    assert gaps[0] <= 0.011 and max(gaps) <= 0.05 + 1e-9
    assert len(booting.polls) <= 1.1 / 0.05 + 5


def test_a_long_boot_costs_few_polls(driver) -> None:
    booting = boot_once(driver, active_at=300.0)
    polls = booting.polls
    assert 300.0 <= polls[-1] <= 302.0
    gaps = [b - a for a, b in zip(polls, polls[1:], strict=False)]
    early = [g for p, g in zip(polls, gaps, strict=False) if p < 5.0]
    late = [g for p, g in zip(polls, gaps, strict=False) if p >= 30.0]
    assert max(early) <= 0.1  # responsive for the first seconds
    assert min(late) >= 1.0 and max(late) <= 2.0  # then bounded load: one poll per 1-2 s
    # about 100 polls in the first 5 s, then one every 2 s: far fewer than one per second
    assert len(polls) < 5 / 0.05 + 300 / 2 + 20


def test_several_booting_servers_cost_one_vim_call_per_poll(driver) -> None:
    booting = boot_once(driver, active_at=1.0, web=3)
    assert booting.polls == []  # no per-server gets
    assert 1.0 <= booting.lists[-1] <= 1.1
    assert len(booting.lists) == len(boot_once(driver, active_at=1.0).polls)


def test_a_fast_vim_is_seen_after_the_first_short_poll(driver) -> None:
    booting = boot_once(driver, active_at=0.005)
    assert len(booting.polls) == 2 and booting.polls[-1] <= 0.011


def test_poll_schedule_phases() -> None:
    delays = BOOT_POLL.delays(300.0)
    assert delays[:4] == pytest.approx([0.01, 0.02, 0.04, 0.05])
    elapsed = 0.0
    for gap in delays:
        if elapsed < 5.0:
            assert gap <= 0.05
        elapsed += gap
    assert delays[-1] == BOOT_POLL.max_s
    # a refused delete is retried with backoff from the start, no steady phase
    assert RETRY_POLL.delays(10.0)[:5] == pytest.approx([0.05, 0.1, 0.2, 0.4, 0.8])
    assert len(RETRY_POLL.delays(10.0)) < 16


# --------------------------------------------------------------------------- scale


def test_scale_out_then_in(driver: VimDriver) -> None:
    ext_id = ext_network(driver)
    vnfm = fast_vnfm()
    record = vnfm.instantiate(make_spec(ext_id), driver)
    out_spec = make_spec(ext_id, web=4)
    out_spec.hosts["web-3"] = "host-0004"
    bigger = vnfm.scale(out_spec, record, driver)
    web = [v for v in bigger.vnfcs if v.vdu_id == "web"]
    assert [v.index for v in web] == [0, 1, 2, 3]
    assert web[:2] == record.vnfcs[:2]  # untouched
    assert web[3].host == "host-0004" and web[2].status == "ACTIVE"
    assert counts(driver) == (5, 9, 2)
    assert sum(h.servers for h in driver.list_hosts()) == 5

    smaller = vnfm.scale(make_spec(ext_id, web=1), bigger, driver)
    assert [(v.vdu_id, v.index) for v in smaller.vnfcs] == [("web", 0), ("db", 0)]
    assert counts(driver) == (2, 3, 2)
    assert sum(h.servers for h in driver.list_hosts()) == 2
    assert {s.id for s in driver.list_servers()} == {v.server_id for v in smaller.vnfcs}
    # scaling to what is already there changes nothing
    assert vnfm.scale(make_spec(ext_id, web=1), smaller, driver) == smaller
    assert counts(driver) == (2, 3, 2)


# --------------------------------------------------------------------------- heal


def test_heal_by_reboot_keeps_the_server(driver: VimDriver) -> None:
    vnfm = fast_vnfm()
    record = vnfm.instantiate(make_spec(ext_network(driver)), driver)
    target = record.vnfcs[1]
    driver.stop_server(target.server_id)
    healed = vnfm.heal(make_spec(""), record, driver, [target.key], recreate=False)
    assert healed.vnfcs[1].server_id == target.server_id
    assert healed.vnfcs[1].status == "ACTIVE"
    assert driver.get_server(target.server_id).status == "ACTIVE"
    assert healed.vnfcs[0] == record.vnfcs[0]


def test_heal_by_recreate_gives_a_new_server_on_the_same_ports(driver: VimDriver) -> None:
    spec = make_spec(ext_network(driver))
    vnfm = fast_vnfm()
    record = vnfm.instantiate(spec, driver)
    old = record.vnfcs[0]
    healed = vnfm.heal(spec, record, driver, [old.key], recreate=True)
    new = healed.vnfcs[0]
    assert new.server_id != old.server_id and new.status == "ACTIVE"
    assert new.port_ids == old.port_ids and new.addresses == old.addresses
    assert split_generation(new.key) == (old.key, 2)
    assert new.host == "host-0001"  # the placement hint still applies
    assert driver.get_server(new.server_id).ports == [
        old.port_ids["web-mgmt"],
        old.port_ids["web-int"],
    ]
    assert counts(driver) == (3, 5, 2)
    # again: generation 3; and a re-run of instantiate adopts the healed servers
    again = vnfm.heal(spec, healed, driver, [new.key], recreate=True)
    assert split_generation(again.vnfcs[0].key) == (old.key, 3)
    assert vnfm.instantiate(spec, driver) == again
    assert counts(driver) == (3, 5, 2)


def test_heal_of_an_unknown_vnfc_is_refused(driver: VimDriver) -> None:
    spec = make_spec(ext_network(driver))
    vnfm = fast_vnfm()
    record = vnfm.instantiate(spec, driver)
    with pytest.raises(VnfmError, match="no VNFC"):
        vnfm.heal(spec, record, driver, ["nope"], recreate=True)


# --------------------------------------------------------------------------- terminate


def test_terminate_leaves_nothing_tagged_and_is_repeatable(driver: VimDriver) -> None:
    ext_id = ext_network(driver)
    vnfm = fast_vnfm()
    record = vnfm.instantiate(make_spec(ext_id), driver)
    vnfm.terminate(record, driver)
    assert tagged(driver) == ([], [], [])
    assert sum(h.servers for h in driver.list_hosts()) == 0
    assert [n.id for n in driver.list_networks()] == [ext_id]  # the NS VL is not the VNF's
    vnfm.terminate(record, driver)


def test_terminate_retries_a_network_still_in_use(driver: VimDriver) -> None:
    vnfm_time = FakeTime()
    record = fast_vnfm().instantiate(make_spec(ext_network(driver)), driver)

    class Busy:
        def __init__(self, inner: VimDriver, conflicts: int) -> None:
            self.inner, self.conflicts = inner, conflicts

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

        def delete_network(self, network_id: str) -> None:
            if self.conflicts:
                self.conflicts -= 1
                raise VimConflict("ports are being released")
            self.inner.delete_network(network_id)

    vnfm = GenericVnfm(sleep=vnfm_time.sleep, clock=vnfm_time.clock, conflict_retry_s=5.0)
    vnfm.terminate(record, Busy(driver, 2))  # type: ignore[arg-type]
    assert tagged(driver) == ([], [], [])
    assert len(vnfm_time.sleeps) == 2

    record = fast_vnfm().instantiate(make_spec(ext_network(driver)), driver)
    busy = Busy(driver, 10_000)
    vnfm_time.sleeps.clear()
    with pytest.raises(VnfmError) as err:
        vnfm.terminate(record, busy)  # type: ignore[arg-type]
    assert isinstance(err.value.vim_error, VimConflict)
    assert "ports are being released" in str(err.value)
    # retried with backoff (50 ms, 100 ms, ... up to 1 s) for 5 s: a handful of tries
    assert vnfm_time.sleeps[:3] == pytest.approx([0.05, 0.1, 0.2])
    assert sum(vnfm_time.sleeps) == pytest.approx(5.0)
    assert 5 <= 10_000 - busy.conflicts <= 10


def test_cleanup_by_tags_after_a_partial_failure(driver: VimDriver) -> None:
    ext_id = ext_network(driver)
    with pytest.raises(RuntimeError):
        fast_vnfm().instantiate(make_spec(ext_id), CrashAfter(driver, 7))  # type: ignore[arg-type]
    servers, ports, networks = tagged(driver)
    created = len(servers) + len(ports) + sum(1 + len(n.subnets) for n in networks)
    assert created == 7
    assert cleanup_by_tags(driver, ns_instance_id=NS, vnf_instance_id=VNF) == 7
    assert tagged(driver) == ([], [], [])
    assert [n.id for n in driver.list_networks()] == [ext_id]
    # NS-wide: also the NS virtual link (network + subnet)
    assert cleanup_by_tags(driver, ns_instance_id=NS) == 2
    assert counts(driver) == (0, 0, 0)
    assert cleanup_by_tags(driver, ns_instance_id=NS) == 0


def test_cleanup_by_tags_spares_other_vnfs(driver: VimDriver) -> None:
    ext_id = ext_network(driver)
    vnfm = fast_vnfm()
    vnfm.instantiate(make_spec(ext_id), driver)
    other = vnfm.instantiate(make_spec(ext_id, vnf_instance_id="vnf-b", hosts={}), driver)
    assert cleanup_by_tags(driver, ns_instance_id=NS, vnf_instance_id=VNF) == 3 + 5 + 2
    servers, _, _ = tagged(driver, "vnf-b")
    assert {s.id for s in servers} == {v.server_id for v in other.vnfcs}


def test_generation_keys() -> None:
    assert next_generation("v/vdu/x/0") == "v/vdu/x/0#g2"
    assert next_generation("v/vdu/x/0#g2") == "v/vdu/x/0#g3"
    assert split_generation("v/vdu/x/0") == ("v/vdu/x/0", 1)
    assert split_generation("v/vdu/x#g/0") == ("v/vdu/x#g/0", 1)


def test_scale_out_resumes_after_a_crash_without_duplicates(driver: VimDriver) -> None:
    ext_id = ext_network(driver)
    vnfm = fast_vnfm()
    record = vnfm.instantiate(make_spec(ext_id), driver)
    with pytest.raises(RuntimeError):
        # 4 creates: the internal VL's network and subnet (returned), then web-2's two ports
        vnfm.scale(make_spec(ext_id, web=4), record, CrashAfter(driver, 4))  # type: ignore[arg-type]
    bigger = vnfm.scale(make_spec(ext_id, web=4), record, driver)
    assert counts(driver) == (5, 9, 2)
    assert {s.id for s in driver.list_servers()} == {v.server_id for v in bigger.vnfcs}


def test_heal_recreate_resumes_after_a_crash(driver: VimDriver) -> None:
    spec = make_spec(ext_network(driver))
    vnfm = fast_vnfm()
    record = vnfm.instantiate(spec, driver)
    target = record.vnfcs[2]  # db-0: one port, then the server
    with pytest.raises(RuntimeError):
        vnfm.heal(spec, record, CrashAfter(driver, 2), [target.key], recreate=True)  # type: ignore[arg-type]
    healed = vnfm.heal(spec, record, driver, [target.key], recreate=True)
    assert counts(driver) == (3, 5, 2)
    assert healed.vnfcs[2].port_ids == target.port_ids
    assert driver.get_server(healed.vnfcs[2].server_id).status == "ACTIVE"


# ---------------------------------------------------------------------- images


IMAGE = b"QFI\xfb" + bytes(4092)


def image_spec_vnf(ext_id: str) -> VnfDeploymentSpec:
    """web and db share an image the package carries; a third VDU names a VIM image."""
    import dataclasses

    art = ImageArtifact(
        file="Files/images/app.qcow2",
        disk_format="qcow2",
        container_format="bare",
        checksum_algorithm="sha-256",
        checksum_hash=hashlib.sha256(IMAGE).hexdigest(),
    )
    spec = make_spec(ext_id)
    web, db = spec.vdus
    spec.vdus = [
        dataclasses.replace(web, image="app-img", image_artifact=art),
        dataclasses.replace(db, image="app-img", image_artifact=art),
        dataclasses.replace(db, vdu_id="tool", image="cirros"),
    ]
    return spec


def test_ensure_images_uploads_each_package_image_once(driver: VimDriver) -> None:
    opened: list[str] = []

    def open_file(path: str) -> BinaryIO:
        opened.append(path)
        return io.BytesIO(IMAGE)

    spec = image_spec_vnf(ext_network(driver))
    images = ensure_images(spec, driver, open_file)
    assert [i.name for i in images] == ["app-img", "cirros"]
    assert opened == ["Files/images/app.qcow2"]
    assert {i.name: i.size_bytes for i in driver.list_images()}["app-img"] == len(IMAGE)
    assert ensure_images(spec, driver, open_file) == images and len(opened) == 1
    record = fast_vnfm().instantiate(spec, driver)
    assert {driver.get_server(v.server_id).image for v in record.vnfcs} == {"app-img", "cirros"}


def test_ensure_images_errors_name_vnf_vdu_image_and_vim(driver: VimDriver) -> None:
    spec = image_spec_vnf(ext_network(driver))

    def missing(path: str) -> BinaryIO:
        raise KeyError(path)

    with pytest.raises(VnfmError) as info:
        ensure_images(spec, driver, missing)
    err = info.value
    assert (err.vdu_id, err.vim_account_id, err.vim_error) == ("web", "vim-1", None)
    assert "'app-img'" in err.message and "Files/images/app.qcow2" in err.message
    assert "vnfd-a" in err.message

    with pytest.raises(VnfmError) as info:
        ensure_images(spec, driver, lambda path: io.BytesIO(IMAGE[:-1]))
    err = info.value
    assert err.vdu_id == "web" and isinstance(err.vim_error, VimBadRequest)
    assert "image 'app-img'" in err.message and "vim-1" in err.message
    assert err.to_dict()["vimError"] == "VimBadRequest"

    spec.vdus[2].image = "no-such-image"
    with pytest.raises(VnfmError) as info:
        ensure_images(spec, driver, lambda path: io.BytesIO(IMAGE))
    assert info.value.vdu_id == "tool" and "'no-such-image'" in info.value.message
