"""The VIM driver contract bound to the Kubernetes driver on the loopback fake API server.

Every ``make_driver`` starts a fresh fake cluster (two zones of two 4-CPU / 8 GiB / 80 GiB
nodes, pods ready 20 ms after scheduling), so each test starts from an empty VIM; ``reconnect``
opens a second driver on the same fake. Faults are injected into the fake's HTTP answers, so
the driver's whole error mapping (status -> typed error, Audit-Id -> request id) is exercised.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from tests.contract.vim_contract import ERROR_CLASSES, VimContract, VimContractAdapter
from tests.support.fake_kube import FakeKube

from nfvo.vim.base import ServerSpec, VimDriver

TOKEN = "contract-token"

# driver operation -> (HTTP method, path pattern) of the API call that carries it out
OPERATION_CALLS = {
    "check": ("GET", r"^/version$"),
    "create_network": ("POST", r"/configmaps$"),
    "create_server": ("POST", r"/deployments$"),
}
# typed error -> the HTTP status the fake answers with
ERROR_STATUS = {
    "VimNotFound": 404,
    "VimConflict": 409,
    "VimAuthError": 401,
    "VimBadRequest": 422,
    "VimUnavailable": 503,
}


class KubernetesAdapter(VimContractAdapter):
    """Builds Kubernetes drivers, each on its own fake API server."""

    supports_fault_injection = True
    supports_quota = True
    supports_image_upload = False  # images come from a registry, pulled by the kubelet
    timeout = 10.0
    poll_interval = 0.01

    def __init__(self) -> None:
        self.fakes: list[FakeKube] = []
        self._fake_of: dict[int, tuple[FakeKube, dict[str, Any]]] = {}

    def open(self, fake: FakeKube, **overrides: Any) -> VimDriver:
        from nfvo.vim.registry import create_driver, validate_config

        password = overrides.pop("vim_password", TOKEN)
        config = {"images": ["cirros"], "request_timeout": 5.0, **overrides}
        driver = create_driver(
            "kubernetes",
            vim_id="k8s-contract",
            vim_url=fake.url,
            vim_user=None,
            vim_password=password,
            vim_tenant_name=None,
            config=validate_config("kubernetes", config),
            data_dir=None,  # type: ignore[arg-type]
        )
        self._fake_of[id(driver)] = (fake, {"vim_password": password, **overrides})
        return driver

    def new_fake(self, **options: Any) -> FakeKube:
        fake = FakeKube(token=TOKEN, ready_delay=0.02, **options).start()
        self.fakes.append(fake)
        return fake

    def make_driver(self, **overrides: Any) -> VimDriver:
        return self.open(self.new_fake(), **overrides)

    def reconnect(self, driver: VimDriver) -> VimDriver:
        fake, overrides = self._fake_of[id(driver)]
        return self.open(fake, **dict(overrides))

    def capacity_limited_driver(self) -> tuple[VimDriver, int]:
        nodes = [
            {"name": f"h{i}", "zone": "zone-a", "cpu": "2", "memory": "4Gi", "storage": "40Gi"}
            for i in (1, 2)
        ]
        return self.open(self.new_fake(nodes=nodes)), 4

    def quota_limited_driver(self) -> tuple[VimDriver, int]:
        return self.open(self.new_fake(workload_quota=3)), 3

    def small_server_spec(self, key: str) -> ServerSpec:
        return ServerSpec(key=key, name=key, image="cirros", flavor="k8s.tiny")

    def faulty_driver(self, operation: str, error_name: str) -> VimDriver:
        fake = self.new_fake()
        method, pattern = OPERATION_CALLS[operation]
        if error_name == "VimQuotaExceeded":
            fake.fail_quota(method, pattern, count=None)
        elif error_name == "VimTimeout":
            fake.fail(method, pattern, count=None, delay=1.0)
            return self.open(fake, request_timeout=0.3)
        else:
            fake.fail(method, pattern, ERROR_STATUS[error_name], count=None)
        return self.open(fake)

    def close(self) -> None:
        for fake in self.fakes:
            fake.stop()


class TestKubernetesContract(VimContract):
    """The whole contract against the Kubernetes driver."""

    @pytest.fixture
    def adapter(self) -> Iterator[KubernetesAdapter]:
        adapter = KubernetesAdapter()
        yield adapter
        adapter.close()

    @pytest.mark.parametrize("operation", VimContract.FAULT_OPERATIONS)
    @pytest.mark.parametrize("error_name", sorted(ERROR_CLASSES))
    def test_injected_fault_surfaces_typed(self, operation: str, error_name: str) -> None:
        if error_name == "VimCapacityExceeded":
            pytest.skip(
                "the Kubernetes API has no capacity error: the driver raises it from its own "
                "placement check (covered by the capacity tests), never from an API answer"
            )
        super().test_injected_fault_surfaces_typed(operation, error_name)
