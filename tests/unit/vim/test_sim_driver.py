"""Behaviour of the sim VIM driver: placement, state machine, faults, quotas, persistence."""

from __future__ import annotations

import ipaddress
import statistics
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from nfvo.vim import base
from nfvo.vim.base import (
    NetworkSpec,
    PortSpec,
    ServerSpec,
    SubnetSpec,
    VimAuthError,
    VimBadRequest,
    VimCapacityExceeded,
    VimConflict,
    VimNotFound,
    VimQuotaExceeded,
    VimTimeout,
)
from nfvo.vim.sim import SimVim

T0 = 1_800_000_000.0


class Clock:
    """A settable clock so time-based behaviour is tested without sleeping."""

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

    def _make(vim_id: str = "vim", **config: Any) -> SimVim:
        user = config.pop("_user", None)
        password = config.pop("_password", None)
        sleep = config.pop("_sleep", time.sleep)
        driver = SimVim(
            vim_id=vim_id,
            config=config,
            data_dir=tmp_path,
            vim_user=user,
            vim_password=password,
            clock=clock,
            sleep=sleep,
        )
        made.append(driver)
        return driver

    yield _make
    for d in made:
        d.close()


def small(vim: SimVim, key: str, **kw: Any) -> base.Server:
    return vim.create_server(ServerSpec(key=key, name=key, image="cirros", **kw))


# --------------------------------------------------------------------------- topology


def test_thousand_host_topology_is_created_and_listed_quickly(make) -> None:
    start = time.perf_counter()
    vim = make(hosts=1000, zones=4)
    assert vim.check()["hosts"] == 1000
    assert time.perf_counter() - start < 1.0
    times = []
    for _ in range(5):
        t = time.perf_counter()
        hosts = vim.list_hosts()
        times.append(time.perf_counter() - t)
    assert statistics.median(times) < 0.1
    assert len(hosts) == 1000
    assert hosts[0].name == "host-0001" and hosts[-1].name == "host-1000"
    assert {h.zone for h in hosts} == {"zone-1", "zone-2", "zone-3", "zone-4"}
    assert [z.name for z in vim.list_zones()] == ["zone-1", "zone-2", "zone-3", "zone-4"]


def test_explicit_hosts_zones_flavors_and_images(make) -> None:
    vim = make(
        zones=[{"name": "az-a"}, {"name": "az-b"}],
        hosts=[{"name": "big", "zone": "az-b", "vcpus": 128}, {"name": "small", "vcpus": 2}],
        flavors=[{"name": "f1", "id": "42", "vcpus": 2, "ram_mib": 1024, "disk_gib": 10}],
        images=[{"name": "ubuntu", "disk_format": "raw", "size_bytes": 10}],
    )
    hosts = {h.name: h for h in vim.list_hosts()}
    assert hosts["big"].zone == "az-b" and hosts["big"].vcpus == 128
    # a host without a zone goes round-robin by its position: index 1 -> the second zone
    assert hosts["small"].zone == "az-b" and hosts["small"].ram_mib == 262144
    assert [(f.id, f.name) for f in vim.list_flavors()] == [("42", "f1")]
    assert [(i.name, i.disk_format) for i in vim.list_images()] == [("ubuntu", "raw")]


# --------------------------------------------------------------------------- placement


def test_first_fit_by_host_name_and_usage_accounting(make) -> None:
    vim = make(hosts=3, host_defaults={"vcpus": 4})
    placed = [small(vim, f"s{i}", flavor="m1.medium").host for i in range(6)]
    assert placed == ["host-0001"] * 2 + ["host-0002"] * 2 + ["host-0003"] * 2
    with pytest.raises(VimCapacityExceeded, match="no host has 2 vCPU, 4096 MiB RAM, 40 GiB"):
        small(vim, "s6", flavor="m1.medium")
    usage = {
        h.name: (h.vcpus_used, h.ram_mib_used, h.disk_gib_used, h.servers) for h in vim.list_hosts()
    }
    assert usage["host-0001"] == (4, 8192, 80, 2)
    vim.delete_server(next(s.id for s in vim.list_servers() if s.name == "s0"))
    assert small(vim, "s7", flavor="m1.medium").host == "host-0001"


def test_capacity_counts_ram_and_disk_and_allocation_ratios(make) -> None:
    vim = make(
        hosts=[
            {"name": "h", "vcpus": 2, "ram_mib": 4096, "disk_gib": 100, "cpu_allocation_ratio": 4.0}
        ]
    )
    for i in range(4):  # 8 vCPU fit on 2 physical with ratio 4, RAM 4 x 1024
        vim.create_server(ServerSpec(key=f"k{i}", name="x", vcpus=2, ram_mib=1024, disk_gib=10))
    with pytest.raises(VimCapacityExceeded):
        vim.create_server(ServerSpec(key="k5", name="x", vcpus=1, ram_mib=1, disk_gib=1))
    vim2 = make("disk", hosts=[{"name": "h", "disk_gib": 50}])
    vim2.create_server(ServerSpec(key="a", name="x", vcpus=1, ram_mib=1, disk_gib=40))
    with pytest.raises(VimCapacityExceeded, match="1 vCPU, 1 MiB RAM, 20 GiB disk"):
        vim2.create_server(ServerSpec(key="b", name="x", vcpus=1, ram_mib=1, disk_gib=20))


def test_zone_capacity_and_zone_hint(make) -> None:
    vim = make(zones=2, hosts=4, host_defaults={"vcpus": 8})
    a = small(vim, "a", flavor="m1.xlarge", zone="zone-2")
    b = small(vim, "b", flavor="m1.xlarge", zone="zone-2")
    assert (a.host, a.zone, b.host, b.zone) == ("host-0002", "zone-2", "host-0004", "zone-2")
    with pytest.raises(VimCapacityExceeded) as info:
        small(vim, "c", flavor="m1.xlarge", zone="zone-2")
    assert (
        info.value.message == "no host in zone zone-2 has 8 vCPU, 16384 MiB RAM, 160 GiB disk free"
    )
    assert small(vim, "d", flavor="m1.xlarge", zone="zone-1").zone == "zone-1"
    with pytest.raises(VimBadRequest, match="zone-7"):
        small(vim, "e", flavor="m1.tiny", zone="zone-7")


def test_host_hint_is_honoured_or_refused_naming_the_host(make) -> None:
    vim = make(zones=2, hosts=3, host_defaults={"vcpus": 4})
    assert small(vim, "a", flavor="m1.large", host="host-0003").host == "host-0003"
    with pytest.raises(VimCapacityExceeded, match="host host-0003 does not have 1 vCPU"):
        small(vim, "b", flavor="m1.tiny", host="host-0003")
    with pytest.raises(VimCapacityExceeded, match="host host-0001 is not in zone zone-2"):
        small(vim, "c", flavor="m1.tiny", host="host-0001", zone="zone-2")
    with pytest.raises(VimBadRequest, match="host-0099"):
        small(vim, "d", flavor="m1.tiny", host="host-0099")


def test_unknown_flavor_or_image_and_missing_sizes(make) -> None:
    vim = make()
    with pytest.raises(VimBadRequest, match="Flavor m9.huge"):
        small(vim, "a", flavor="m9.huge")
    with pytest.raises(VimBadRequest, match="Image nope"):
        vim.create_server(ServerSpec(key="b", name="b", image="nope", flavor="m1.tiny"))
    with pytest.raises(VimBadRequest):
        vim.create_server(ServerSpec(key="c", name="c", vcpus=1))
    flavor_id = vim.list_flavors()[0].id
    assert small(vim, "d", flavor=flavor_id).flavor == vim.list_flavors()[0].name
    assert vim.list_servers() and len(vim.list_servers()) == 1


# --------------------------------------------------------------------------- state machine


def test_build_then_active_after_boot_latency_seen_by_every_instance(make, clock) -> None:
    vim = make(latency_ms={"server_boot": 5000})
    s = small(vim, "a", flavor="m1.tiny")
    assert s.status == "BUILD"
    clock.now += 4.9
    assert vim.get_server(s.id).status == "BUILD"
    clock.now += 0.2
    other = make()  # a second instance (another process would do the same) on the same file
    assert other.get_server(s.id).status == "ACTIVE"
    assert [x.status for x in vim.list_servers()] == ["ACTIVE"]


def test_boot_fault_sends_server_to_error_with_fault_text(make, clock) -> None:
    vim = make(latency_ms={"server_boot": 1000}, faults={"server_boot": {"error_rate": 1.0}})
    s = small(vim, "a", flavor="m1.tiny")
    assert s.status == "BUILD" and s.fault is None
    clock.now += 2
    s = vim.get_server(s.id)
    assert s.status == "ERROR"
    assert "No valid host was found" in (s.fault or "")
    with pytest.raises(VimConflict):
        vim.migrate_server(s.id)  # an ERROR server on an up host cannot be cold-migrated
    assert vim.reboot_server(s.id).status == "ACTIVE"


def test_start_stop_reboot(make, clock) -> None:
    vim = make(latency_ms={"server_boot": 1000})
    s = small(vim, "a", flavor="m1.tiny")
    with pytest.raises(VimConflict, match="BUILD"):
        vim.stop_server(s.id)
    clock.now += 1
    assert vim.stop_server(s.id).status == "SHUTOFF"
    assert vim.stop_server(s.id).status == "SHUTOFF"
    assert vim.reboot_server(s.id).status == "ACTIVE"
    assert vim.stop_server(s.id).status == "SHUTOFF"
    assert vim.start_server(s.id).status == "ACTIVE"
    with pytest.raises(VimNotFound):
        vim.start_server("missing")


def test_migrate_moves_capacity_atomically(make) -> None:
    vim = make(hosts=3, host_defaults={"vcpus": 4})
    s = small(vim, "a", flavor="m1.large")
    assert s.host == "host-0001"
    moved = vim.migrate_server(s.id)
    assert moved.host == "host-0002" and moved.status == "ACTIVE"
    used = {h.name: h.vcpus_used for h in vim.list_hosts()}
    assert used == {"host-0001": 0, "host-0002": 4, "host-0003": 0}
    small(vim, "b", flavor="m1.large", host="host-0001")
    with pytest.raises(VimCapacityExceeded, match="host host-0001"):
        vim.migrate_server(s.id, "host-0001")
    assert vim.migrate_server(s.id, "host-0003").host == "host-0003"
    small(vim, "c", flavor="m1.large", host="host-0002")
    with pytest.raises(VimCapacityExceeded, match="no host other than host-0003"):
        vim.migrate_server(s.id)


def test_host_failure_after_delay_errors_its_servers(make, clock) -> None:
    vim = make(hosts=2, faults={"hosts": {"host-0001": {"fail_after_s": 30}}})
    s = small(vim, "a", flavor="m1.small")
    assert s.host == "host-0001"
    clock.now += 29
    assert vim.get_server(s.id).status == "ACTIVE"
    clock.now += 2
    s = vim.get_server(s.id)
    assert (s.status, s.fault) == ("ERROR", "host host-0001 failed")
    hosts = {h.name: h.state for h in vim.list_hosts()}
    assert hosts == {"host-0001": "down", "host-0002": "up"}
    assert small(vim, "b", flavor="m1.small").host == "host-0002"
    with pytest.raises(VimCapacityExceeded, match="host host-0001 is down"):
        small(vim, "c", flavor="m1.small", host="host-0001")
    with pytest.raises(VimConflict, match="down"):
        vim.reboot_server(s.id)
    evacuated = vim.migrate_server(s.id)  # evacuate from the failed host
    assert (evacuated.host, evacuated.status, evacuated.fault) == ("host-0002", "ACTIVE", None)


def test_host_failure_at_a_wall_clock_time(make, clock) -> None:
    at = datetime.fromtimestamp(T0 + 60, UTC).isoformat()
    vim = make(zones=1, hosts=1, faults={"hosts": {"host-0001": {"fail_at": at}}})
    s = small(vim, "a", flavor="m1.tiny")
    assert vim.list_zones()[0].available
    clock.now += 61
    assert vim.get_server(s.id).status == "ERROR"
    assert not vim.list_zones()[0].available
    faulted = make(faults={"hosts": {"host-0001": {"fail_at": at}}})
    assert faulted.list_hosts()[0].state == "down"  # still faulted for a new instance
    repaired = make()  # a new instance whose config no longer has the fault: host repaired
    assert repaired.list_hosts()[0].state == "up"
    assert repaired.get_server(s.id).status == "ERROR"  # its servers need a reboot or heal
    assert repaired.reboot_server(s.id).status == "ACTIVE"


# --------------------------------------------------------------------------- faults


@pytest.mark.parametrize(
    "error",
    [
        "VimUnavailable",
        "VimQuotaExceeded",
        "VimAuthError",
        "VimConflict",
        "VimBadRequest",
        "VimNotFound",
        "VimCapacityExceeded",
    ],
)
def test_injected_error_raises_the_typed_error_without_acting(make, error: str) -> None:
    vim = make(faults={"network_create": {"error_rate": 1.0, "error": error}})
    with pytest.raises(getattr(base, error)) as info:
        vim.create_network(NetworkSpec(key="n", name="n"))
    assert info.value.request_id and info.value.request_id.startswith("req-")
    assert info.value.request_id in info.value.vim_message
    assert "HTTP" in info.value.vim_message
    assert vim.list_networks() == []


def test_injected_timeout_does_not_perform_the_operation(make) -> None:
    vim = make(faults={"server_create": {"timeout_rate": 1.0}})
    with pytest.raises(VimTimeout) as info:
        small(vim, "a", flavor="m1.tiny")
    assert info.value.retryable
    assert vim.list_servers() == []


def test_seeded_faults_are_deterministic(make) -> None:
    def outcomes(vim: SimVim) -> list[str]:
        out = []
        for i in range(30):
            try:
                vim.create_network(NetworkSpec(key=f"n{i}", name="n"))
                out.append("ok")
            except VimTimeout:
                out.append("timeout")
            except VimQuotaExceeded:
                out.append("error")
        return out

    faults = {
        "network_create": {"error_rate": 0.3, "timeout_rate": 0.2, "error": "VimQuotaExceeded"}
    }
    first = outcomes(make("a", seed=7, faults=faults))
    second = outcomes(make("b", seed=7, faults=faults))
    other = outcomes(make("c", seed=8, faults=faults))
    assert first == second
    assert set(first) == {"ok", "timeout", "error"}
    assert first != other


def test_latency_sleeps_with_jitter(make) -> None:
    slept: list[float] = []
    vim = make(latency_ms={"port_create": 200, "list": 10}, jitter=0.5, seed=1, _sleep=slept.append)
    net = vim.create_network(NetworkSpec(key="n", name="n"))
    assert slept == []
    vim.create_port(PortSpec(key="p", name="p", network_id=net.id))
    vim.create_port(PortSpec(key="q", name="q", network_id=net.id))
    vim.list_hosts()
    assert len(slept) == 3
    assert all(0.1 <= s <= 0.3 for s in slept[:2]) and slept[0] != slept[1]
    assert 0.005 <= slept[2] <= 0.015


def test_auth_failure(make) -> None:
    auth = {"user": "admin", "password": "s3cret"}
    bad = make(auth=auth, _user="admin", _password="wrong")
    with pytest.raises(VimAuthError, match="authentication failed"):
        bad.check()
    with pytest.raises(VimAuthError):
        bad.list_servers()
    good = make(auth=auth, _user="admin", _password="s3cret")
    assert good.check()["vim_type"] == "sim"


# --------------------------------------------------------------------------- quotas


def test_quotas(make) -> None:
    vim = make(quota={"servers": 2, "vcpus": 5, "networks": 1, "ports": 1})
    small(vim, "a", flavor="m1.large")
    with pytest.raises(VimQuotaExceeded, match="cores"):
        small(vim, "b", flavor="m1.medium")
    small(vim, "c", flavor="m1.tiny")
    with pytest.raises(VimQuotaExceeded, match="instances"):
        small(vim, "d", flavor="m1.tiny")
    net = vim.create_network(NetworkSpec(key="n1", name="n1"))
    with pytest.raises(VimQuotaExceeded, match="network"):
        vim.create_network(NetworkSpec(key="n2", name="n2"))
    vim.create_port(PortSpec(key="p1", name="p", network_id=net.id))
    with pytest.raises(VimQuotaExceeded, match="port"):
        vim.create_port(PortSpec(key="p2", name="p", network_id=net.id))
    # a retried create of an existing key is not a new resource, so no quota is consumed
    assert vim.create_network(NetworkSpec(key="n1", name="n1")).id == net.id


# --------------------------------------------------------------------------- idempotency


def test_idempotent_creates_return_the_first_resource(make) -> None:
    vim = make()
    net = vim.create_network(NetworkSpec(key="net", name="first", tags={"nfvo.ns": "ns1"}))
    again = vim.create_network(NetworkSpec(key="net", name="second"))
    assert again == net and again.name == "first"
    sub = vim.create_subnet(SubnetSpec(key="sub", name="s", network_id=net.id, cidr="10.1.0.0/24"))
    assert (
        vim.create_subnet(SubnetSpec(key="sub", name="x", network_id=net.id, cidr="10.9.0.0/24")).id
        == sub.id
    )
    port = vim.create_port(PortSpec(key="port", name="p", network_id=net.id))
    assert vim.create_port(PortSpec(key="port", name="p", network_id=net.id)).id == port.id
    s1 = small(vim, "srv", flavor="m1.tiny", ports=[port.id])
    s2 = small(vim, "srv", flavor="m1.xlarge", ports=[port.id])
    assert s2.id == s1.id and s2.flavor == "m1.tiny"
    assert len(vim.list_servers()) == 1 and len(vim.list_ports()) == 1
    assert len(vim.list_networks()) == 1 and vim.get_network(net.id).subnets == [sub.id]
    vim.delete_server(s1.id)
    assert small(vim, "srv", flavor="m1.tiny").id != s1.id  # a deleted resource frees its key


def test_deleting_absent_resources_succeeds_and_get_absent_is_not_found(make) -> None:
    vim = make()
    vim.delete_server("nope")
    vim.delete_port("nope")
    vim.delete_subnet("nope")
    vim.delete_network("nope")
    for get in (vim.get_server, vim.get_port, vim.get_network):
        with pytest.raises(VimNotFound):
            get("nope")


# --------------------------------------------------------------------------- networking


def test_network_with_ports_cannot_be_deleted(make) -> None:
    vim = make()
    net = vim.create_network(NetworkSpec(key="n", name="n"))
    sub = vim.create_subnet(SubnetSpec(key="s", name="s", network_id=net.id, cidr="10.0.0.0/29"))
    port = vim.create_port(PortSpec(key="p", name="p", network_id=net.id))
    with pytest.raises(VimConflict, match="still in use"):
        vim.delete_network(net.id)
    with pytest.raises(VimConflict, match="IP allocation"):
        vim.delete_subnet(sub.id)
    vim.delete_port(port.id)
    vim.delete_network(net.id)
    assert vim.list_networks() == []
    with pytest.raises(VimBadRequest):
        vim.create_port(PortSpec(key="p2", name="p", network_id=net.id))


def test_ports_get_addresses_bind_to_servers_and_unbind_on_delete(make) -> None:
    vim = make()
    net = vim.create_network(NetworkSpec(key="n", name="n"))
    vim.create_subnet(SubnetSpec(key="s", name="s", network_id=net.id, cidr="10.0.0.0/29"))
    ports = [vim.create_port(PortSpec(key=f"p{i}", name="p", network_id=net.id)) for i in range(3)]
    assert [p.ip_addresses for p in ports] == [["10.0.0.2"], ["10.0.0.3"], ["10.0.0.4"]]
    assert ports[0].mac_address and ports[0].mac_address.startswith("fa:16:3e:")
    assert ports[0].mac_address != ports[1].mac_address
    fixed = vim.create_port(PortSpec(key="f", name="f", network_id=net.id, fixed_ip="10.0.0.6"))
    assert fixed.ip_addresses == ["10.0.0.6"]
    with pytest.raises(VimConflict):
        vim.create_port(PortSpec(key="g", name="g", network_id=net.id, fixed_ip="10.0.0.6"))
    with pytest.raises(VimBadRequest):
        vim.create_port(PortSpec(key="h", name="h", network_id=net.id, fixed_ip="10.9.9.9"))
    s = small(vim, "a", flavor="m1.tiny", ports=[ports[0].id, ports[1].id])
    assert s.ports == [ports[0].id, ports[1].id]
    assert s.addresses == ["10.0.0.2", "10.0.0.3"]
    bound = vim.get_port(ports[0].id)
    assert (bound.status, bound.server_id) == ("ACTIVE", s.id)
    with pytest.raises(VimConflict, match="in use"):
        small(vim, "b", flavor="m1.tiny", ports=[ports[1].id])
    vim.delete_server(s.id)
    free = vim.get_port(ports[0].id)
    assert (free.status, free.server_id) == ("DOWN", None)


@pytest.mark.parametrize(("cidr", "ports"), [("10.0.0.0/30", 1), ("10.8.0.0/22", 1021)])
def test_addresses_come_from_any_prefix_until_the_subnet_is_full(make, cidr, ports) -> None:
    vim = make()
    net = vim.create_network(NetworkSpec(key="n", name="n"))
    vim.create_subnet(SubnetSpec(key="s", name="s", network_id=net.id, cidr=cidr))
    got = [
        vim.create_port(PortSpec(key=f"p{i}", name="p", network_id=net.id)).ip_addresses[0]
        for i in range(ports)
    ]
    subnet = ipaddress.ip_network(cidr)
    assert len(set(got)) == ports
    assert all(ipaddress.ip_address(a) in subnet for a in got)
    # every host address but the gateway (the first) is handed out, past any /24 boundary
    assert set(got) == {str(h) for h in list(subnet.hosts())[1:]}
    with pytest.raises(VimConflict) as err:
        vim.create_port(PortSpec(key="full", name="p", network_id=net.id))
    assert "No more IP addresses" in str(err.value) and cidr in str(err.value)
    assert not [p for p in vim.list_ports() if p.name == "full"]


def test_subnet_validation_and_provider_networks(make) -> None:
    vim = make(networks=[{"name": "public", "cidr": "203.0.113.0/24", "external": True}])
    (public,) = vim.list_networks()
    assert public.external and len(public.subnets) == 1
    with pytest.raises(VimConflict, match="provider"):
        vim.delete_network(public.id)
    net = vim.create_network(NetworkSpec(key="n", name="n"))
    with pytest.raises(VimBadRequest, match="CIDR"):
        vim.create_subnet(SubnetSpec(key="s", name="s", network_id=net.id, cidr="10.0.0.0/33"))
    vim.create_subnet(SubnetSpec(key="s1", name="s", network_id=net.id, cidr="10.0.0.0/24"))
    with pytest.raises(VimBadRequest, match="overlaps"):
        vim.create_subnet(SubnetSpec(key="s2", name="s", network_id=net.id, cidr="10.0.0.128/25"))


def test_list_filters_by_tags(make) -> None:
    vim = make()
    small(vim, "a", flavor="m1.tiny", tags={"nfvo.ns": "ns1", "nfvo.vnf": "v1"})
    small(vim, "b", flavor="m1.tiny", tags={"nfvo.ns": "ns1", "nfvo.vnf": "v2"})
    small(vim, "c", flavor="m1.tiny", tags={"nfvo.ns": "ns2"})
    assert [s.name for s in vim.list_servers({"nfvo.ns": "ns1"})] == ["a", "b"]
    assert [s.name for s in vim.list_servers({"nfvo.ns": "ns1", "nfvo.vnf": "v2"})] == ["b"]
    assert len(vim.list_servers()) == 3


# --------------------------------------------------------------------------- persistence


def test_state_survives_a_new_instance_and_topology_is_written_once(make) -> None:
    first = make(hosts=4, host_defaults={"vcpus": 4})
    s = small(first, "a", flavor="m1.large")
    net = first.create_network(NetworkSpec(key="n", name="n"))
    first.close()
    later = make(hosts=2, faults={"server_create": {"error_rate": 1.0}})
    assert len(later.list_hosts()) == 4  # topology from the first config
    assert later.get_server(s.id).host == "host-0001"
    assert later.get_network(net.id).name == "n"
    with pytest.raises(base.VimUnavailable):  # runtime keys come from the new config
        small(later, "b", flavor="m1.tiny")


# --------------------------------------------------------------------------- metrics


def test_metrics_follow_the_load_pattern(make, clock) -> None:
    vim = make(load={"pattern": "sine", "base": 50, "amplitude": 40, "period_s": 400})
    s = small(vim, "a", flavor="m1.small")
    clock.now = 4_000_000_000.0  # a multiple of the period: phase 0
    m0 = vim.server_metrics(s.id)
    clock.now += 100  # a quarter period: the peak
    m1 = vim.server_metrics(s.id)
    clock.now += 200  # three quarters: the trough
    m2 = vim.server_metrics(s.id)
    assert abs(m0.cpu_percent - 50) <= 1 and abs(m1.cpu_percent - 90) <= 1
    assert abs(m2.cpu_percent - 10) <= 1
    assert m1.ram_used_mib > m2.ram_used_mib and 0 < m2.ram_used_mib < 2048
    assert m1.net_rx_bps > m2.net_rx_bps
    assert m0.timestamp != m1.timestamp


def test_metrics_spike_pattern_from_a_tag_and_stopped_servers(make, clock) -> None:
    vim = make()
    spike = '{"pattern": "spike", "base": 10, "amplitude": 70, "period_s": 100}'
    s = small(vim, "a", flavor="m1.small", tags={"nfvo.load": spike})
    flat = small(vim, "b", flavor="m1.small")
    clock.now = 5_000_000_000.0
    assert vim.server_metrics(s.id).cpu_percent > 75
    assert abs(vim.server_metrics(flat.id).cpu_percent - 20) <= 1
    clock.now += 50
    assert vim.server_metrics(s.id).cpu_percent < 15
    vim.stop_server(s.id)
    assert vim.server_metrics(s.id).cpu_percent == 0


def test_relative_host_fault_is_armed_once_for_every_instance(make, clock) -> None:
    faults = {"hosts": {"host-0001": {"fail_after_s": 30}}}
    first = make(hosts=2, faults=faults)
    s = small(first, "a", flavor="m1.tiny")
    clock.now += 20
    later = make(hosts=2, faults=faults)  # a restart 20 s later keeps the original deadline
    later.check()
    clock.now += 11
    assert later.get_server(s.id).status == "ERROR"
    make(hosts=2).check()  # repaired: the fault is gone from the config
    rearmed = make(hosts=2, faults=faults)  # a new fault counts from when it is first seen
    assert rearmed.list_hosts()[0].state == "up"
    clock.now += 29
    assert rearmed.list_hosts()[0].state == "up"
    clock.now += 2
    assert rearmed.list_hosts()[0].state == "down"


def test_retried_create_returns_the_server_even_if_the_spec_no_longer_resolves(make) -> None:
    vim = make()
    s = small(vim, "a", flavor="m1.tiny")
    assert small(vim, "a", flavor="no-such-flavor").id == s.id


def test_resources_carry_their_idempotency_key_as_a_tag(make) -> None:
    vim = make()
    net = vim.create_network(NetworkSpec(key="net-key", name="n", tags={"nfvo.ns": "ns1"}))
    assert net.tags == {"nfvo.ns": "ns1", "nfvo.key": "net-key"}
    port = vim.create_port(PortSpec(key="port-key", name="p", network_id=net.id))
    server = small(vim, "srv-key", flavor="m1.tiny", ports=[port.id])
    assert [n.id for n in vim.list_networks({"nfvo.key": "net-key"})] == [net.id]
    assert [p.id for p in vim.list_ports({"nfvo.key": "port-key"})] == [port.id]
    assert [s.id for s in vim.list_servers({"nfvo.key": "srv-key"})] == [server.id]


def test_server_on_a_missing_port_is_a_bad_request(make) -> None:
    vim = make()
    with pytest.raises(VimBadRequest, match="port ghost not found"):
        small(vim, "a", flavor="m1.tiny", ports=["ghost"])
    assert vim.list_servers() == []


def test_migrate_keeps_the_zone_the_server_was_booted_into(make) -> None:
    vim = make(zones=2, hosts=4, host_defaults={"vcpus": 4})
    s = small(vim, "a", flavor="m1.tiny", zone="zone-2")
    assert s.host == "host-0002"
    assert vim.migrate_server(s.id).host == "host-0004"  # not host-0001 in zone-1
    assert vim.migrate_server(s.id, "host-0001").zone == "zone-1"  # an explicit host wins
