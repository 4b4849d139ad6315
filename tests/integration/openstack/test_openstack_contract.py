"""The VIM driver contract bound to the OpenStack driver on a real Nova + Placement.

Needs the loopback cloud of ``up.py`` (Nova 34 with its fake hypervisor, Placement, Neutron and
Glance stand-ins); ``up.py`` prints the ``NFVO_TEST_OPENSTACK_*`` variables this module reads.
Without them every test is skipped. The cloud is shared by all tests: the contract scopes each
test by its own ``nfvo.ns`` tag and cleans up after it.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest
from tests.contract.vim_contract import VimContract, VimContractAdapter

from nfvo.vim.base import ServerSpec, VimDriver

URL = os.environ.get("NFVO_TEST_OPENSTACK_URL")
pytestmark = pytest.mark.skipif(
    not URL,
    reason="no OpenStack test cloud: run tests/integration/openstack/up.py and export the "
    "NFVO_TEST_OPENSTACK_* variables it prints",
)
FLAVOR = "nfvo.tiny"


class RealNovaAdapter(VimContractAdapter):
    """Drivers on the shared loopback Nova; capacity comes from what Placement reports."""

    supports_fault_injection = False
    supports_quota = True
    supports_migration = True
    timeout = 60.0
    poll_interval = 0.2

    def config(self, **overrides: Any) -> dict[str, Any]:
        env = os.environ
        return {
            "auth_type": "admin_token",
            "endpoint_override": {
                "compute": env["NFVO_TEST_OPENSTACK_URL"],
                "network": env["NFVO_TEST_OPENSTACK_NETWORK_URL"],
                "image": env["NFVO_TEST_OPENSTACK_IMAGE_URL"],
                "placement": env["NFVO_TEST_OPENSTACK_PLACEMENT_URL"],
            },
            "request_timeout": 30,
            "build_timeout": 60,
            **overrides,
        }

    def make_driver(self, **overrides: Any) -> VimDriver:
        from nfvo.vim.registry import create_driver, validate_config

        password = overrides.pop("vim_password", os.environ["NFVO_TEST_OPENSTACK_TOKEN"])
        return create_driver(
            "openstack",
            vim_id="openstack-contract",
            vim_url=URL,
            vim_user=None,
            vim_password=password,
            vim_tenant_name=None,
            config=validate_config("openstack", self.config(**overrides)),
            data_dir=None,  # type: ignore[arg-type]
        )

    def reconnect(self, driver: VimDriver) -> VimDriver:
        return self.make_driver()

    def capacity_limited_driver(self) -> tuple[VimDriver, int]:
        driver = self.make_driver()
        flavor = next(f for f in driver.list_flavors() if f.name == FLAVOR)
        room = 0
        for h in driver.list_hosts():
            if h.state != "up":
                continue
            cpu = (int(h.vcpus * h.cpu_allocation_ratio) - h.vcpus_used) // flavor.vcpus
            ram = (int(h.ram_mib * h.ram_allocation_ratio) - h.ram_mib_used) // flavor.ram_mib
            room += max(min(cpu, ram), 0)
        return driver, room

    def quota_limited_driver(self) -> tuple[VimDriver, int]:
        """A driver scoped to a fresh project whose Nova instance quota is 3."""
        token = os.environ["NFVO_TEST_OPENSTACK_TOKEN"]
        project = "quota-" + uuid.uuid4().hex[:12]
        admin = self.make_driver()
        body = {"quota_set": {"instances": 3}}
        admin.client.request("compute", "PUT", f"/os-quota-sets/{project}", json=body)  # type: ignore[attr-defined]
        admin.close()
        return self.make_driver(vim_password=f"{token}:{project}"), 3

    def small_server_spec(self, key: str) -> ServerSpec:
        return ServerSpec(key=key, name=key, image="cirros", flavor=FLAVOR)


class TestOpenStackContract(VimContract):
    """The whole contract against real Nova."""

    @pytest.fixture
    def adapter(self) -> RealNovaAdapter:
        return RealNovaAdapter()
