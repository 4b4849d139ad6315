"""Validation of sim VIM configs and the driver registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from nfvo.vim.base import VimConfigError
from nfvo.vim.registry import RUNTIME_CONFIG_KEYS, VIM_TYPES, create_driver, validate_config
from nfvo.vim.sim import SimVim
from nfvo.vim.sim.config import DEFAULT_IMAGES


def _field(config: object) -> str:
    with pytest.raises(VimConfigError) as info:
        validate_config("sim", config)  # type: ignore[arg-type]
    return info.value.field


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"hosts": [{"name": "a"}, {"name": "b", "vcpus": -4}]}, "config.hosts[1].vcpus"),
        ({"hosts": [{"name": "a", "ram_mib": 0}]}, "config.hosts[0].ram_mib"),
        ({"host_defaults": {"disk_gib": -1}}, "config.host_defaults.disk_gib"),
        (
            {"host_defaults": {"cpu_allocation_ratio": 0}},
            "config.host_defaults.cpu_allocation_ratio",
        ),
        (
            {"hosts": [{"name": "a", "ram_allocation_ratio": -1.5}]},
            "config.hosts[0].ram_allocation_ratio",
        ),
        ({"colour": "blue"}, "config.colour"),
        ({"hosts": [{"name": "a", "rack": 3}]}, "config.hosts[0].rack"),
        ({"zones": 2, "hosts": [{"name": "a", "zone": "zone-9"}]}, "config.hosts[0].zone"),
        ({"hosts": [{"name": "a"}, {"name": "a"}]}, "config.hosts[1].name"),
        ({"zones": [{"name": "z"}, {"name": "z"}]}, "config.zones[1].name"),
        ({"zones": 0}, "config.zones"),
        ({"hosts": 0}, "config.hosts"),
        ({"hosts": 10_001}, "config.hosts"),
        ({"hosts": True}, "config.hosts"),
        ({"hosts": "4"}, "config.hosts"),
        ({"latency_ms": {"server_boot": -1}}, "config.latency_ms.server_boot"),
        ({"latency_ms": {"teleport": 5}}, "config.latency_ms.teleport"),
        ({"jitter": 1.5}, "config.jitter"),
        (
            {"faults": {"server_create": {"error_rate": 2}}},
            "config.faults.server_create.error_rate",
        ),
        ({"faults": {"list": {"error": "Boom"}}}, "config.faults.list.error"),
        (
            {"faults": {"hosts": {"host-0099": {"fail_after_s": 1}}}},
            "config.faults.hosts.host-0099",
        ),
        ({"faults": {"hosts": {"host-0001": {}}}}, "config.faults.hosts.host-0001"),
        (
            {"flavors": [{"name": "f", "vcpus": "2", "ram_mib": 1, "disk_gib": 1}]},
            "config.flavors[0].vcpus",
        ),
        ({"flavors": [{"name": "f", "vcpus": 1, "ram_mib": 1}]}, "config.flavors[0].disk_gib"),
        ({"networks": [{"name": "n", "cidr": "10.0.0.1/24"}]}, "config.networks[0].cidr"),
        ({"quota": {"servers": -1}}, "config.quota.servers"),
        ({"load": {"pattern": "sawtooth"}}, "config.load.pattern"),
        ({"auth": {"user": "u"}}, "config.auth.password"),
    ],
)
def test_invalid_configs_name_the_field(config: dict, field: str) -> None:
    assert _field(config) == field


def test_config_must_be_an_object() -> None:
    assert _field([1, 2]) == "config"


def test_defaults_are_filled_in() -> None:
    out = validate_config("sim", {})
    assert out["zones"] == 1 and out["hosts"] == 4
    assert out["host_defaults"]["vcpus"] == 64
    assert {f["name"] for f in out["flavors"]} == {
        "m1.tiny",
        "m1.small",
        "m1.medium",
        "m1.large",
        "m1.xlarge",
    }
    assert [i["name"] for i in out["images"]] == [n for n, _ in DEFAULT_IMAGES]
    assert {"cirros", "ubuntu-22.04"} <= {i["name"] for i in out["images"]}
    assert out["latency_ms"]["server_boot"] == 0
    # idempotent: validating the normalised config gives it back unchanged
    assert validate_config("sim", out) == out


def test_unknown_vim_type() -> None:
    with pytest.raises(VimConfigError) as info:
        validate_config("vmware", {})
    assert info.value.field == "vim_type"


def test_unknown_vim_type_is_refused_by_name(tmp_path: Path) -> None:
    assert set(VIM_TYPES) == {"sim", "openstack", "kubernetes"}
    with pytest.raises(VimConfigError) as info:
        validate_config("vmware", {})
    assert info.value.field == "vim_type"
    with pytest.raises(VimConfigError, match="unknown VIM type 'vmware'"):
        create_driver(
            "vmware",
            vim_id="k",
            vim_url="https://vcenter.example/sdk",
            vim_user=None,
            vim_password=None,
            vim_tenant_name=None,
            config={},
            data_dir=tmp_path,
        )


def test_create_driver_makes_a_sim_vim(tmp_path: Path) -> None:
    driver = create_driver(
        "sim",
        vim_id="vim-1",
        vim_url=None,
        vim_user=None,
        vim_password=None,
        vim_tenant_name=None,
        config={"hosts": 3, "zones": 2},
        data_dir=tmp_path,
    )
    assert isinstance(driver, SimVim)
    assert driver.check() == {"vim_type": "sim", "hosts": 3, "zones": 2, "version": "nfvo-sim 1"}
    assert (tmp_path / "sim" / "vim-1.db").is_file()
    driver.close()


def test_unsafe_vim_id_is_refused(tmp_path: Path) -> None:
    with pytest.raises(VimConfigError) as info:
        SimVim(vim_id="../escape", config={}, data_dir=tmp_path)
    assert info.value.field == "vim_id"


def test_runtime_keys() -> None:
    assert RUNTIME_CONFIG_KEYS["sim"] == {
        "latency_ms",
        "jitter",
        "faults",
        "seed",
        "load",
        "placement_strategy",
        "monitoring",  # enabling / disabling the account's monitoring source
    }
