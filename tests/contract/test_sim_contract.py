"""The VIM driver contract bound to the built-in ``sim`` driver.

Every test gets a fresh data directory and a unique vim_id, so each one starts from an
empty simulated VIM with a small topology: two zones of two hosts (4 vCPU, 8 GiB, 80 GiB
each), the default flavors and the ``cirros`` image, no latency.
"""

from __future__ import annotations

import copy
import uuid
from pathlib import Path
from typing import Any

import pytest
from tests.contract.vim_contract import CheckedDriver, VimContract, VimContractAdapter

from nfvo.vim.base import (
    NetworkSpec,
    ServerSpec,
    VimConfigError,
    VimDriver,
    VimNotFound,
    VimTimeout,
)

USER, PASSWORD = "contract", "s3cret"
CONNECTION_FIELDS = ("vim_url", "vim_user", "vim_password", "vim_tenant_name")

# driver method -> the sim's operation name for latency and fault injection
SIM_OPERATIONS = {
    "check": "check",
    "list_zones": "list",
    "list_hosts": "list",
    "list_flavors": "list",
    "list_images": "list",
    "list_networks": "list",
    "list_ports": "list",
    "list_servers": "list",
    "get_network": "get",
    "get_port": "get",
    "get_server": "get",
    "create_network": "network_create",
    "delete_network": "network_delete",
    "create_subnet": "subnet_create",
    "delete_subnet": "subnet_delete",
    "create_port": "port_create",
    "delete_port": "port_delete",
    "create_server": "server_create",
    "delete_server": "server_delete",
    "start_server": "server_start",
    "stop_server": "server_stop",
    "reboot_server": "server_reboot",
    "migrate_server": "server_migrate",
    "server_metrics": "metrics",
}

BASE_CONFIG: dict[str, Any] = {
    "zones": [{"name": "zone-a"}, {"name": "zone-b"}],
    "hosts": [
        {"name": "a1", "zone": "zone-a"},
        {"name": "a2", "zone": "zone-a"},
        {"name": "b1", "zone": "zone-b"},
        {"name": "b2", "zone": "zone-b"},
    ],
    "host_defaults": {"vcpus": 4, "ram_mib": 8192, "disk_gib": 80},
    "seed": 7,
    "latency_ms": {"server_boot": 20},  # servers spend a moment in BUILD
    "auth": {"user": USER, "password": PASSWORD},
}


class SimAdapter(VimContractAdapter):
    """Builds sim drivers on throw-away state files under one test's tmp_path."""

    supports_fault_injection = True
    supports_quota = True
    timeout = 10.0
    poll_interval = 0.01

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._vims: dict[int, tuple[str, dict[str, Any], dict[str, Any]]] = {}

    def open(
        self, vim_id: str, config: dict[str, Any], connection: dict[str, Any] | None = None
    ) -> VimDriver:
        """A driver on the sim VIM ``vim_id`` (created by the first driver that opens it)."""
        from nfvo.vim.registry import create_driver, validate_config

        conn = {
            "vim_url": None,
            "vim_user": USER,
            "vim_password": PASSWORD,
            "vim_tenant_name": "contract",
            **(connection or {}),
        }
        driver = create_driver(
            "sim",
            vim_id=vim_id,
            config=validate_config("sim", copy.deepcopy(config)),
            data_dir=self.data_dir,
            **conn,
        )
        self._vims[id(driver)] = (vim_id, config, conn)
        return driver

    def make_driver(self, **overrides: Any) -> VimDriver:
        conn = {k: overrides.pop(k) for k in CONNECTION_FIELDS if k in overrides}
        config = {**copy.deepcopy(BASE_CONFIG), **overrides}
        return self.open("contract-" + uuid.uuid4().hex[:8], config, conn)

    def reconnect(self, driver: VimDriver) -> VimDriver:
        vim_id, config, conn = self._vims[id(driver)]
        return self.open(vim_id, config, conn)

    def capacity_limited_driver(self) -> tuple[VimDriver, int]:
        hosts = [{"name": "h1", "zone": "zone-a"}, {"name": "h2", "zone": "zone-a"}]
        return self.make_driver(
            hosts=hosts,
            zones=[{"name": "zone-a"}],
            host_defaults={"vcpus": 2, "ram_mib": 4096, "disk_gib": 40},
        ), 4

    def quota_limited_driver(self) -> tuple[VimDriver, int]:
        return self.make_driver(quota={"servers": 3}), 3

    def small_server_spec(self, key: str) -> ServerSpec:
        return ServerSpec(key=key, name=key, image="cirros", flavor="m1.tiny")

    def faulty_driver(self, operation: str, error_name: str) -> VimDriver:
        fault = {"error_rate": 1.0, "error": error_name}
        return self.make_driver(faults={SIM_OPERATIONS[operation]: fault})


class TestSimContract(VimContract):
    """The whole contract against the sim."""

    @pytest.fixture
    def adapter(self, tmp_path: Path) -> SimAdapter:
        return SimAdapter(tmp_path)


# ---------------------------------------------------------------------- sim-only behaviour


def test_same_vim_id_shares_state_and_other_ids_do_not(tmp_path: Path) -> None:
    adapter = SimAdapter(tmp_path)
    first = adapter.make_driver()
    second = adapter.reconnect(first)
    other = adapter.make_driver()
    server = first.create_server(adapter.small_server_spec("k1"))
    assert [s.id for s in second.list_servers()] == [server.id]
    assert other.list_servers() == []
    assert sum(h.servers for h in second.list_hosts()) == 1


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"zones": 0}, "config.zones"),
        ({"hosts": [{"name": "h", "zone": "nowhere"}]}, "config.hosts[0].zone"),
        ({"faults": {"server_create": {"error": "KeyError", "error_rate": 1}}}, "config.faults"),
        ({"quota": {"servers": -1}}, "config.quota"),
    ],
)
def test_invalid_config_names_the_field(config: dict[str, Any], field: str) -> None:
    from nfvo.vim.registry import validate_config

    with pytest.raises(VimConfigError) as info:
        validate_config("sim", config)
    assert info.value.field.startswith(field), info.value.field


def test_boot_fault_puts_server_in_error_and_delete_frees_it(tmp_path: Path) -> None:
    adapter = SimAdapter(tmp_path)
    d = adapter.make_driver(faults={"server_boot": {"error_rate": 1.0}})
    server = d.create_server(adapter.small_server_spec("doomed"))
    with pytest.raises(AssertionError, match="ERROR"):
        adapter.wait_active(d, server.id, 5.0)
    failed = d.get_server(server.id)
    assert failed.status == "ERROR" and failed.fault
    d.delete_server(server.id)
    assert sum(h.vcpus_used for h in d.list_hosts()) == 0


def test_timeout_rate_raises_retryable_timeout(tmp_path: Path) -> None:
    adapter = SimAdapter(tmp_path)
    d = adapter.make_driver(faults={"network_create": {"timeout_rate": 1.0}})
    with pytest.raises(VimTimeout) as info:
        d.create_network(NetworkSpec("k", "n"))
    assert info.value.retryable and info.value.request_id


def test_checked_driver_flags_bare_exceptions_and_wrong_types(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The harness itself: a contract breach must fail the calling test."""
    raw = SimAdapter(tmp_path).make_driver()
    checked = CheckedDriver(raw)

    def boom(network_id: str) -> None:
        raise KeyError(network_id)

    monkeypatch.setattr(raw, "get_network", boom)
    monkeypatch.setattr(raw, "list_zones", lambda: ["zone-a"])
    with pytest.raises(AssertionError, match="raised KeyError"):
        checked.get_network("x")
    with pytest.raises(AssertionError, match="list_zones returned items"):
        checked.list_zones()
    with pytest.raises(VimNotFound):
        checked.get_port("absent")
