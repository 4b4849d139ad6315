"""Which VIM types exist, how their configs are validated and how a driver is made.

The resource-management service registers VIM accounts through this module only, so adding a
driver (OpenStack, Kubernetes) means adding it here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from nfvo.vim.base import VimConfigError, VimDriver

VIM_TYPES = ("sim", "openstack", "kubernetes")

# Config keys a VIM account's owner may change later (PATCH) without re-creating the VIM.
RUNTIME_CONFIG_KEYS: dict[str, set[str]] = {
    "sim": {"latency_ms", "jitter", "faults", "seed", "load", "placement_strategy", "monitoring"},
}


def validate_config(vim_type: str, config: dict[str, Any]) -> dict[str, Any]:
    """The normalised config; VimConfigError naming the field (``config.hosts[3].vcpus``)."""
    if vim_type not in VIM_TYPES:
        raise VimConfigError("vim_type", f"unknown VIM type {vim_type!r}; one of {VIM_TYPES}")
    if not isinstance(config, dict):
        raise VimConfigError("config", "must be a JSON object")
    if vim_type == "sim":
        from nfvo.vim.sim.config import parse_sim_config

        return parse_sim_config(config).normalised()
    if vim_type == "kubernetes":
        from nfvo.vim.k8s.config import parse_kube_config

        return parse_kube_config(config).normalised()
    from nfvo.vim.os.config import parse_openstack_config

    return parse_openstack_config(config).normalised()


def create_driver(
    vim_type: str,
    *,
    vim_id: str,
    vim_url: str | None,
    vim_user: str | None,
    vim_password: str | None,
    vim_tenant_name: str | None,
    config: dict[str, Any],
    data_dir: Path,
) -> VimDriver:
    """A driver for one VIM account; VimConfigError for an unknown type."""
    if vim_type not in VIM_TYPES:
        raise VimConfigError("vim_type", f"unknown VIM type {vim_type!r}; one of {VIM_TYPES}")
    return _driver_class(vim_type)(
        vim_id=vim_id,
        config=config,
        vim_url=vim_url,
        vim_user=vim_user,
        vim_password=vim_password,
        vim_tenant_name=vim_tenant_name,
        data_dir=data_dir,
    )


def resource_types(vim_type: str) -> tuple[str, str]:
    """SOL005 ``vimLevelResourceType`` of a VIM type's servers and networks."""
    if vim_type not in VIM_TYPES:
        return VimDriver.server_resource_type, VimDriver.network_resource_type
    cls = _driver_class(vim_type)
    return cls.server_resource_type, cls.network_resource_type  # type: ignore[attr-defined]


def _driver_class(vim_type: str) -> Callable[..., VimDriver]:
    """The driver class of a known VIM type, imported only when first needed."""
    if vim_type == "sim":
        from nfvo.vim.sim.driver import SimVim

        return SimVim
    if vim_type == "kubernetes":
        from nfvo.vim.kubernetes import KubernetesVim

        return KubernetesVim
    from nfvo.vim.os.driver import OpenStackVim

    return OpenStackVim
