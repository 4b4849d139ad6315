"""The VIM driver contract: one reusable test suite every ``VimDriver`` must pass.

A binding module (``test_<driver>_contract.py``) provides a ``VimContractAdapter`` as a pytest
fixture named ``adapter`` and subclasses ``VimContract``::

    class TestSimContract(VimContract):
        @pytest.fixture
        def adapter(self, tmp_path): return SimAdapter(tmp_path)

Every resource a test creates carries a per-test ``nfvo.ns`` tag and every listing is filtered
by it, so the suite also runs against a shared, long-lived VIM (a real OpenStack project);
whatever a test leaves behind is deleted at teardown. Every driver call goes through
``CheckedDriver``, which turns any exception that is not a ``VimError`` (and any result of the
wrong type) into a test failure.
"""

from __future__ import annotations

import hashlib
import io
import ipaddress
import itertools
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, BinaryIO, ClassVar, TypeVar

import pytest

from nfvo.vim.base import (
    TAG_KEY,
    TAG_NS,
    TAG_VNF,
    Flavor,
    Host,
    Image,
    ImageLookup,
    ImageRef,
    ImageSpec,
    Network,
    NetworkSpec,
    Port,
    PortSpec,
    Server,
    ServerMetrics,
    ServerSpec,
    Subnet,
    SubnetSpec,
    VimAuthError,
    VimBadRequest,
    VimCapacityExceeded,
    VimConflict,
    VimDriver,
    VimError,
    VimNotFound,
    VimQuotaExceeded,
    VimTimeout,
    VimUnavailable,
    Zone,
)

T = TypeVar("T")

# Every typed error a driver may raise, by class name (the names fault injection uses).
ERROR_CLASSES: dict[str, type[VimError]] = {
    cls.__name__: cls
    for cls in (
        VimNotFound,
        VimConflict,
        VimQuotaExceeded,
        VimCapacityExceeded,
        VimAuthError,
        VimBadRequest,
        VimUnavailable,
        VimTimeout,
    )
}
RETRYABLE = {"VimUnavailable", "VimTimeout"}

# What each driver method must return (None: returns nothing).
_RETURNS: dict[str, Any] = {
    "check": dict,
    "list_zones": (list, Zone),
    "list_hosts": (list, Host),
    "list_flavors": (list, Flavor),
    "list_images": (list, Image),
    "ensure_image": Image,
    "find_image": ImageLookup,
    "create_network": Network,
    "get_network": Network,
    "list_networks": (list, Network),
    "delete_network": None,
    "create_subnet": Subnet,
    "delete_subnet": None,
    "create_port": Port,
    "get_port": Port,
    "list_ports": (list, Port),
    "delete_port": None,
    "create_server": Server,
    "get_server": Server,
    "list_servers": (list, Server),
    "delete_server": None,
    "start_server": Server,
    "stop_server": Server,
    "reboot_server": Server,
    "migrate_server": Server,
    "server_metrics": ServerMetrics,
}


def _check_result(method: str, result: object) -> None:
    expected = _RETURNS.get(method, object)
    if expected is None:
        assert result is None, f"{method} returned {result!r}, expected None"
    elif isinstance(expected, tuple):
        container, item = expected
        assert isinstance(result, container), f"{method} returned {type(result).__name__}"
        bad = [r for r in result if not isinstance(r, item)]
        assert not bad, f"{method} returned items that are not {item.__name__}: {bad[:3]!r}"
    else:
        assert isinstance(result, expected), f"{method} returned {type(result).__name__}"


class CheckedDriver:
    """Wraps a driver so a bare exception or a wrongly typed result fails the test.

    The contract says drivers raise only ``VimError`` subclasses; wrapping every call is how
    the suite asserts that on every path it exercises, not only in dedicated tests.
    """

    def __init__(self, driver: VimDriver) -> None:
        self.raw = driver

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.raw, name)
        if name.startswith("_") or not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                result = attr(*args, **kwargs)
            except VimError as exc:
                assert str(exc), f"{name} raised {type(exc).__name__} without a message"
                raise
            except Exception as exc:  # the contract violation under test
                raise AssertionError(
                    f"driver.{name} raised {type(exc).__name__} (not a VimError): {exc}"
                ) from exc
            _check_result(name, result)
            return result

        return call


class VimContractAdapter(ABC):
    """What a binding module supplies so the contract can run against its driver.

    The suite never builds drivers itself: the adapter knows how to reach (or fake) the VIM,
    which image and flavor exist there, and how to shape a VIM with limited capacity or
    injected faults. Optional abilities are declared by the ``supports_*`` flags; tests that
    need an ability the driver lacks are skipped, not failed.
    """

    supports_fault_injection: bool = False
    supports_quota: bool = False
    supports_migration: bool = True
    supports_explicit_sizes: bool = True
    # False for a VIM whose images live elsewhere (a container registry): ensure_image only
    # names them, nothing is uploaded or listed.
    supports_image_upload: bool = True
    # Seconds allowed for a server to become ACTIVE / a state change to settle.
    timeout: float = 60.0
    poll_interval: float = 0.05

    @abstractmethod
    def make_driver(self, **overrides: Any) -> VimDriver:
        """A driver on a fresh, isolated VIM with >= 2 zones and >= 2 up hosts per zone.

        ``overrides`` are connection fields (``vim_user``, ``vim_password``...) or
        adapter-specific config keys.
        """

    @abstractmethod
    def capacity_limited_driver(self) -> tuple[VimDriver, int]:
        """A driver on a VIM where exactly N servers of ``small_server_spec()`` fit."""

    @abstractmethod
    def small_server_spec(self, key: str) -> ServerSpec:
        """A small server spec (image and flavor that exist on the VIM), no ports."""

    def bad_credentials_driver(self) -> VimDriver:
        """A driver whose credentials the VIM rejects."""
        return self.make_driver(vim_password="wrong-" + uuid.uuid4().hex[:8])

    def faulty_driver(self, operation: str, error_name: str) -> VimDriver:
        """A driver whose VIM fails every ``operation`` call with ``error_name``."""
        raise NotImplementedError

    def reconnect(self, driver: VimDriver) -> VimDriver:
        """Another driver instance on the same VIM as ``driver`` (as a separate request has)."""
        raise NotImplementedError

    def quota_limited_driver(self) -> tuple[VimDriver, int]:
        """A driver on a VIM whose server quota allows exactly N servers."""
        raise NotImplementedError

    def cidr(self, index: int) -> str:
        """A subnet CIDR for the index-th network of a test."""
        return f"10.{90 + index}.0.0/24"

    def wait_active(self, driver: VimDriver, server_id: str, timeout: float) -> Server:
        """Poll until the server is ACTIVE; fail on ERROR or timeout."""
        deadline = time.monotonic() + timeout
        while True:
            server = driver.get_server(server_id)
            if server.status == "ACTIVE":
                return server
            assert server.status != "ERROR", f"server {server_id} went to ERROR: {server.fault}"
            assert time.monotonic() < deadline, f"{server_id} still {server.status} at timeout"
            time.sleep(self.poll_interval)


class VimContract:
    """The contract tests; pytest collects them through ``Test*`` subclasses only."""

    __test__ = False
    adapter: VimContractAdapter

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.__test__ = cls.__name__.startswith("Test")

    # ------------------------------------------------------------------ harness

    @pytest.fixture(autouse=True)
    def _bind_adapter(self, adapter: VimContractAdapter) -> Iterator[None]:
        self.adapter = adapter
        self.run_id = "contract-" + uuid.uuid4().hex[:10]
        self._counter = itertools.count(1)
        self._drivers: list[CheckedDriver] = []
        yield
        for d in self._drivers:
            self._cleanup(d)
        for d in self._drivers:
            try:
                d.raw.close()
            except Exception:  # noqa: BLE001 - closing is best effort
                pass

    def wrap(self, driver: VimDriver) -> CheckedDriver:
        """Check every call of ``driver`` and clean up after it at teardown."""
        checked = CheckedDriver(driver)
        self._drivers.append(checked)
        return checked

    def driver(self, **overrides: Any) -> CheckedDriver:
        """A checked driver on a fresh VIM."""
        return self.wrap(self.adapter.make_driver(**overrides))

    def tags(self, **extra: str) -> dict[str, str]:
        """The per-test tag set (plus ``extra``), which scopes every listing."""
        return {TAG_NS: self.run_id, **extra}

    def key(self, kind: str) -> str:
        """A fresh idempotency key."""
        return f"{self.run_id}-{kind}-{next(self._counter)}"

    def server_spec(self, key: str | None = None, **changes: Any) -> ServerSpec:
        """The adapter's small server, tagged for this test, with ``changes`` applied."""
        spec = self.adapter.small_server_spec(key or self.key("srv"))
        spec.tags = {**spec.tags, **self.tags()}
        for name, value in changes.items():
            setattr(spec, name, value)
        return spec

    def wait_active(self, d: CheckedDriver, server_id: str) -> Server:
        return self.adapter.wait_active(d, server_id, self.adapter.timeout)  # type: ignore[arg-type]

    def eventually(self, probe: Callable[[], T | None], what: str) -> T:
        """Poll ``probe`` until it returns something truthy."""
        deadline = time.monotonic() + self.adapter.timeout
        while True:
            value = probe()
            if value:
                return value
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            time.sleep(self.adapter.poll_interval)

    def wait_status(self, d: CheckedDriver, server_id: str, status: str) -> Server:
        def probe() -> Server | None:
            s = d.get_server(server_id)
            assert s.status != "ERROR", f"server went to ERROR: {s.fault}"
            return s if s.status == status else None

        return self.eventually(probe, f"server {server_id} to become {status}")

    def wait_gone(self, d: CheckedDriver, server_id: str) -> None:
        def probe() -> bool:
            try:
                return d.get_server(server_id).status == "DELETED"
            except VimNotFound:
                return True

        self.eventually(probe, f"server {server_id} to disappear")

    def servers(self, d: CheckedDriver) -> list[Server]:
        return [s for s in d.list_servers(tags=self.tags()) if s.status != "DELETED"]

    def hosts(self, d: CheckedDriver) -> dict[str, Host]:
        return {h.name: h for h in d.list_hosts()}

    def up_hosts(self, d: CheckedDriver) -> list[Host]:
        zones = {z.name for z in d.list_zones() if z.available}
        return [h for h in d.list_hosts() if h.state == "up" and h.zone in zones]

    def flavor_size(self, d: CheckedDriver, spec: ServerSpec) -> tuple[int, int, int]:
        """(vcpus, ram_mib, disk_gib) a spec asks for."""
        if spec.flavor is None:
            return spec.vcpus or 0, spec.ram_mib or 0, spec.disk_gib or 0
        for f in d.list_flavors():
            if spec.flavor in (f.id, f.name):
                return f.vcpus, f.ram_mib, f.disk_gib
        raise AssertionError(f"flavor {spec.flavor!r} of small_server_spec() is not listed")

    @staticmethod
    def fits(host: Host, size: tuple[int, int, int]) -> int:
        """How many more servers of ``size`` fit on ``host``."""
        vcpus, ram, disk = size
        room = [
            (int(host.vcpus * host.cpu_allocation_ratio) - host.vcpus_used) // max(vcpus, 1),
            (int(host.ram_mib * host.ram_allocation_ratio) - host.ram_mib_used) // max(ram, 1),
        ]
        if disk:
            cap = int(host.disk_gib * host.disk_allocation_ratio)
            room.append((cap - host.disk_gib_used) // disk)
        return max(min(room), 0)

    def network_with_subnet(self, d: CheckedDriver, index: int = 0) -> tuple[Network, Subnet]:
        net = d.create_network(NetworkSpec(self.key("net"), f"net{index}", tags=self.tags()))
        sub = d.create_subnet(
            SubnetSpec(
                self.key("sub"), f"sub{index}", net.id, self.adapter.cidr(index), tags=self.tags()
            )
        )
        return net, sub

    def port(self, d: CheckedDriver, net: Network, **changes: Any) -> Port:
        spec = PortSpec(self.key("port"), "port", net.id, tags=self.tags())
        for name, value in changes.items():
            setattr(spec, name, value)
        return d.create_port(spec)

    def _cleanup(self, d: CheckedDriver) -> None:
        tags = self.tags()
        for action in (
            lambda: [d.raw.delete_server(s.id) for s in d.raw.list_servers(tags=tags)],
            lambda: [d.raw.delete_port(p.id) for p in d.raw.list_ports(tags=tags)],
            lambda: [
                d.raw.delete_subnet(s) for n in d.raw.list_networks(tags=tags) for s in n.subnets
            ],
            lambda: [d.raw.delete_network(n.id) for n in d.raw.list_networks(tags=tags)],
        ):
            try:
                action()
            except Exception:  # noqa: BLE001 - cleanup must not hide the test's own outcome
                pass

    # ------------------------------------------------------------------ check / auth

    def test_check_returns_facts(self) -> None:
        facts = self.driver().check()
        assert isinstance(facts, dict) and facts

    def test_wrong_credentials_raise_auth_error(self) -> None:
        d = self.wrap(self.adapter.bad_credentials_driver())
        with pytest.raises(VimAuthError) as info:
            d.check()
        assert info.value.retryable is False
        with pytest.raises(VimAuthError):
            d.list_servers()

    # ------------------------------------------------------------------ inventory

    def test_inventory_is_consistent(self) -> None:
        d = self.driver()
        zones = d.list_zones()
        names = [z.name for z in zones]
        assert names and len(names) == len(set(names)), names
        hosts = d.list_hosts()
        assert hosts and len({h.name for h in hosts}) == len(hosts)
        for h in hosts:
            assert h.zone in names, f"host {h.name} is in unknown zone {h.zone}"
            assert h.vcpus > 0 and h.ram_mib > 0 and h.disk_gib > 0, h
            ratios = (h.cpu_allocation_ratio, h.ram_allocation_ratio, h.disk_allocation_ratio)
            assert min(ratios) > 0, h
            assert min(h.vcpus_used, h.ram_mib_used, h.disk_gib_used, h.servers) >= 0, h
            assert h.state in ("up", "down"), h
        flavors = d.list_flavors()
        assert flavors and len({f.id for f in flavors}) == len(flavors)
        assert all(f.vcpus > 0 and f.ram_mib > 0 and f.disk_gib >= 0 for f in flavors)
        images = d.list_images()
        assert images and all(i.id and i.name for i in images)

    def test_small_server_spec_uses_listed_image_and_flavor(self) -> None:
        d = self.driver()
        spec = self.server_spec()
        if spec.image is not None:
            assert spec.image in {i.id for i in d.list_images()} | {i.name for i in d.list_images()}
        assert self.flavor_size(d, spec)[0] > 0

    # ------------------------------------------------------------------ images

    def test_ensure_image_returns_an_existing_image_without_reading_bytes(self) -> None:
        d = self.driver()
        name = self.server_spec().image
        if name is None:
            pytest.skip("the adapter's small server names no image")

        def never() -> BinaryIO:
            raise AssertionError("an image the VIM has must not be read again")

        image = d.ensure_image(ImageSpec(name=name, open=never))
        assert image.id and name in (image.name, image.id)

    def test_ensure_image_uploads_once_and_a_server_boots_from_it(self) -> None:
        d = self.driver()
        name = f"{self.run_id}-img"
        data = b"nfvo contract image\n" * 200
        opened: list[int] = []

        def opener() -> BinaryIO:
            opened.append(1)
            return io.BytesIO(data)

        spec = ImageSpec(
            name=name,
            disk_format="raw",
            container_format="bare",
            checksum_algorithm="sha-256",
            checksum_hash=hashlib.sha256(data).hexdigest(),
            size_bytes=len(data),
            open=opener,
        )
        first = d.ensure_image(spec)
        assert first.id and first.name == name
        assert d.ensure_image(spec).id == first.id
        if not self.adapter.supports_image_upload:
            assert opened == [], "nothing to upload, so nothing may be read"
            return
        assert opened == [1], "an image is uploaded once, then found by name"
        listed = [i for i in d.list_images() if i.name == name]
        assert [(i.id, i.size_bytes) for i in listed] == [(first.id, len(data))]
        server = self.wait_active(d, d.create_server(self.server_spec(image=name)).id)
        assert server.image in (first.id, name)

    def test_ensure_image_refuses_a_checksum_mismatch(self) -> None:
        if not self.adapter.supports_image_upload:
            pytest.skip("the VIM takes no image bytes")
        d = self.driver()
        name = f"{self.run_id}-bad"
        spec = ImageSpec(
            name=name,
            disk_format="raw",
            container_format="bare",
            checksum_algorithm="sha-256",
            checksum_hash=hashlib.sha256(b"other bytes").hexdigest(),
            open=lambda: io.BytesIO(b"these bytes"),
        )
        with pytest.raises(VimBadRequest) as info:
            d.ensure_image(spec)
        assert name in info.value.message and not info.value.retryable
        assert name not in {i.name for i in d.list_images()}

    def test_find_image_finds_a_listed_image_and_creates_nothing(self) -> None:
        d = self.driver()
        name = self.server_spec().image
        if name is None:
            pytest.skip("the adapter's small server names no image")
        before = {i.id for i in d.list_images()}
        found = d.find_image(ImageRef(name))
        assert isinstance(found, ImageLookup) and found.image is not None, found
        assert name in (found.image.name, found.image.id)
        absent = f"{self.run_id}-never-there"
        missing = d.find_image(ImageRef(absent, "1", "sha-256", "0" * 64))
        if self.adapter.supports_image_upload:  # a VIM with an image service answers "no"
            assert missing.image is None and absent in (missing.detail or "")
        assert {i.id for i in d.list_images()} == before

    def test_ensure_image_of_an_absent_image_without_bytes_is_bad_request(self) -> None:
        if not self.adapter.supports_image_upload:
            pytest.skip("any image reference is valid until the kubelet pulls it")
        d = self.driver()
        name = f"{self.run_id}-absent"
        with pytest.raises(VimBadRequest) as info:
            d.ensure_image(ImageSpec(name=name))
        assert name in info.value.message

    # ------------------------------------------------------------------ networks

    def test_network_create_get_list_delete(self) -> None:
        d = self.driver()
        spec = NetworkSpec(self.key("net"), "contract-net", tags=self.tags(**{TAG_VNF: "a"}))
        net = d.create_network(spec)
        assert net.id and net.name == "contract-net"
        assert spec.tags.items() <= net.tags.items(), net.tags
        other = d.create_network(NetworkSpec(self.key("net"), "other", tags=self.tags()))
        got = d.get_network(net.id)
        assert (got.id, got.name) == (net.id, net.name)
        assert {n.id for n in d.list_networks(tags=self.tags())} == {net.id, other.id}
        listed = d.list_networks(tags=self.tags(**{TAG_VNF: "a"}))
        assert [n.id for n in listed] == [net.id]
        d.delete_network(net.id)
        with pytest.raises(VimNotFound):
            d.get_network(net.id)
        assert [n.id for n in d.list_networks(tags=self.tags())] == [other.id]

    def test_subnet_create_appears_on_network_and_delete(self) -> None:
        d = self.driver()
        net, sub = self.network_with_subnet(d)
        assert sub.id and sub.network_id == net.id
        assert ipaddress.ip_network(sub.cidr) == ipaddress.ip_network(self.adapter.cidr(0))
        assert d.get_network(net.id).subnets == [sub.id]
        d.delete_subnet(sub.id)
        assert d.get_network(net.id).subnets == []
        d.delete_subnet(sub.id)  # absent is fine

    def test_subnet_with_bad_cidr_is_bad_request(self) -> None:
        d = self.driver()
        net = d.create_network(NetworkSpec(self.key("net"), "n", tags=self.tags()))
        with pytest.raises(VimBadRequest):
            d.create_subnet(SubnetSpec(self.key("sub"), "s", net.id, "10.0.0.300/24"))
        assert d.get_network(net.id).subnets == []

    def test_port_create_get_list_delete(self) -> None:
        d = self.driver()
        net, sub = self.network_with_subnet(d)
        port = self.port(d, net)
        assert port.id and port.network_id == net.id
        assert port.status == "DOWN" and port.server_id is None
        got = d.get_port(port.id)
        assert (got.id, got.network_id) == (port.id, net.id)
        other = self.port(d, net, tags=self.tags(**{TAG_VNF: "b"}))
        assert {p.id for p in d.list_ports(tags=self.tags())} == {port.id, other.id}
        assert [p.id for p in d.list_ports(tags=self.tags(**{TAG_VNF: "b"}))] == [other.id]
        d.delete_port(port.id)
        with pytest.raises(VimNotFound):
            d.get_port(port.id)
        assert [p.id for p in d.list_ports(tags=self.tags())] == [other.id]

    def test_port_addresses_come_from_the_subnet(self) -> None:
        d = self.driver()
        net, sub = self.network_with_subnet(d)
        cidr = ipaddress.ip_network(sub.cidr)
        fixed = str(next(itertools.islice(cidr.hosts(), 20, None)))
        pinned = self.port(d, net, fixed_ip=fixed)
        assert d.get_port(pinned.id).ip_addresses == [fixed]
        ips = [fixed]
        for _ in range(3):
            port = d.get_port(self.port(d, net).id)
            assert len(port.ip_addresses) == 1, port
            assert ipaddress.ip_address(port.ip_addresses[0]) in cidr
            ips += port.ip_addresses
        assert len(set(ips)) == len(ips), f"duplicate addresses {ips}"

    # ------------------------------------------------------------------ idempotency

    def test_idempotent_create_of_every_kind(self) -> None:
        d = self.driver()
        nspec = NetworkSpec(self.key("net"), "n", tags=self.tags())
        net = d.create_network(nspec)
        assert d.create_network(nspec).id == net.id
        assert [n.id for n in d.list_networks(tags=self.tags())] == [net.id]
        sspec = SubnetSpec(self.key("sub"), "s", net.id, self.adapter.cidr(0), tags=self.tags())
        sub = d.create_subnet(sspec)
        assert d.create_subnet(sspec).id == sub.id
        assert d.get_network(net.id).subnets == [sub.id]
        pspec = PortSpec(self.key("port"), "p", net.id, tags=self.tags())
        port = d.create_port(pspec)
        assert d.create_port(pspec).id == port.id
        assert [p.id for p in d.list_ports(tags=self.tags())] == [port.id]
        vspec = self.server_spec()
        server = d.create_server(vspec)
        assert d.create_server(vspec).id == server.id
        assert [s.id for s in self.servers(d)] == [server.id]

    def test_idempotency_key_is_tagged(self) -> None:
        d = self.driver()
        spec = NetworkSpec(self.key("net"), "n", tags=self.tags())
        net = d.create_network(spec)
        assert [n.id for n in d.list_networks(tags={TAG_KEY: spec.key})] == [net.id]

    def test_idempotent_create_survives_a_new_driver(self) -> None:
        """A retry from another request (a new driver instance) still finds the first create."""
        d = self.driver()
        vspec = self.server_spec()
        server = d.create_server(vspec)
        try:
            again = self.wrap(self.adapter.reconnect(d.raw))
        except NotImplementedError:
            pytest.skip("adapter cannot open a second driver on the same VIM")
        assert [s.id for s in again.list_servers(tags=self.tags())] == [server.id]
        assert again.create_server(vspec).id == server.id
        assert len(self.servers(again)) == 1

    # ------------------------------------------------------------------ servers

    def test_server_becomes_active_with_bound_ports(self) -> None:
        d = self.driver()
        net, sub = self.network_with_subnet(d)
        ports = [self.port(d, net), self.port(d, net)]
        spec = self.server_spec(ports=[p.id for p in ports])
        created = d.create_server(spec)
        assert created.status in ("BUILD", "ACTIVE"), created.status
        assert spec.tags.items() <= created.tags.items()
        server = self.wait_active(d, created.id)
        assert server.host and server.zone
        assert server.ports == [p.id for p in ports]
        cidr = ipaddress.ip_network(sub.cidr)
        for p in ports:
            port = d.get_port(p.id)
            assert port.status == "ACTIVE" and port.server_id == server.id, port
            assert port.ip_addresses and ipaddress.ip_address(port.ip_addresses[0]) in cidr
            assert set(port.ip_addresses) <= set(server.addresses), (port, server.addresses)
        assert all(ipaddress.ip_address(a) in cidr for a in server.addresses)
        assert [s.id for s in d.list_servers(tags=self.tags())] == [server.id]

    def test_server_delete_unbinds_ports_and_is_gone(self) -> None:
        d = self.driver()
        net, _ = self.network_with_subnet(d)
        port = self.port(d, net)
        server = d.create_server(self.server_spec(ports=[port.id]))
        self.wait_active(d, server.id)
        d.delete_server(server.id)
        self.wait_gone(d, server.id)
        with pytest.raises(VimNotFound):
            d.get_server(server.id)
        assert self.servers(d) == []
        unbound = d.get_port(port.id)
        assert unbound.server_id is None and unbound.status == "DOWN", unbound
        d.delete_server(server.id)  # absent is fine

    def test_list_servers_by_tags(self) -> None:
        d = self.driver()
        a = d.create_server(self.server_spec(tags=self.tags(**{TAG_VNF: "a"})))
        b = d.create_server(self.server_spec(tags=self.tags(**{TAG_VNF: "b"})))
        assert {s.id for s in self.servers(d)} == {a.id, b.id}
        assert [s.id for s in d.list_servers(tags=self.tags(**{TAG_VNF: "b"}))] == [b.id]
        assert d.list_servers(tags=self.tags(**{TAG_VNF: "c"})) == []

    def test_unknown_image_or_flavor_is_bad_request(self) -> None:
        d = self.driver()
        with pytest.raises(VimBadRequest):
            d.create_server(self.server_spec(image="no-such-image-" + self.run_id))
        with pytest.raises(VimBadRequest):
            d.create_server(self.server_spec(flavor="no-such-flavor-" + self.run_id))
        assert self.servers(d) == []

    def test_host_usage_follows_create_and_delete(self) -> None:
        d = self.driver()
        before = self.hosts(d)
        server = self.wait_active(d, d.create_server(self.server_spec()).id)
        after = self.hosts(d)[server.host]
        old = before[server.host]
        assert after.vcpus_used == old.vcpus_used + server.vcpus
        assert after.ram_mib_used == old.ram_mib_used + server.ram_mib
        assert after.servers == old.servers + 1
        d.delete_server(server.id)
        self.wait_gone(d, server.id)

        def freed() -> Host | None:
            h = self.hosts(d)[server.host]
            return h if h.vcpus_used == old.vcpus_used else None

        h = self.eventually(freed, "usage to drop after delete")
        assert (h.ram_mib_used, h.servers) == (old.ram_mib_used, old.servers)

    # ------------------------------------------------------------------ capacity / placement

    def test_capacity_refusal_is_typed_and_leaves_nothing(self) -> None:
        raw, n = self.adapter.capacity_limited_driver()
        d = self.wrap(raw)
        specs = [self.server_spec() for _ in range(n)]
        made = [d.create_server(s) for s in specs]
        assert len({s.id for s in made}) == n
        usage = {h.name: (h.vcpus_used, h.ram_mib_used) for h in d.list_hosts()}
        with pytest.raises(VimCapacityExceeded) as info:
            d.create_server(self.server_spec())
        assert info.value.message and not info.value.retryable
        assert len(self.servers(d)) == n
        assert {h.name: (h.vcpus_used, h.ram_mib_used) for h in d.list_hosts()} == usage
        # a retry of an existing key at full capacity returns the original, no refusal
        assert d.create_server(specs[0]).id == made[0].id
        d.delete_server(made[0].id)
        self.wait_gone(d, made[0].id)
        assert d.create_server(self.server_spec()).id
        assert len(self.servers(d)) == n

    def test_quota_refusal_is_typed(self) -> None:
        if not self.adapter.supports_quota:
            pytest.skip("adapter cannot shape a quota")
        raw, n = self.adapter.quota_limited_driver()
        d = self.wrap(raw)
        for _ in range(n):
            d.create_server(self.server_spec())
        with pytest.raises(VimQuotaExceeded) as info:
            d.create_server(self.server_spec())
        assert info.value.message and not info.value.retryable
        assert len(self.servers(d)) == n

    def test_zone_hint_is_honoured(self) -> None:
        d = self.driver()
        by_zone: dict[str, set[str]] = {}
        for h in self.up_hosts(d):
            by_zone.setdefault(h.zone, set()).add(h.name)
        assert len(by_zone) >= 2, "the adapter must give >= 2 zones with up hosts"
        for zone in sorted(by_zone, reverse=True)[:3]:
            server = self.wait_active(d, d.create_server(self.server_spec(zone=zone)).id)
            assert server.zone == zone and server.host in by_zone[zone], (zone, server)

    def test_host_hint_is_honoured(self) -> None:
        d = self.driver()
        hosts = self.up_hosts(d)
        assert len(hosts) >= 2
        for host in (hosts[-1], hosts[0]):
            server = self.wait_active(d, d.create_server(self.server_spec(host=host.name)).id)
            assert server.host == host.name and server.zone == host.zone

    def test_host_hint_fills_exactly_that_host(self) -> None:
        d = self.driver()
        spec0 = self.server_spec()
        size = self.flavor_size(d, spec0)
        host = max(self.up_hosts(d), key=lambda h: self.fits(h, size))
        room = self.fits(host, size)
        if not 0 < room <= 32:
            pytest.skip(f"host {host.name} takes {room} small servers; too many to fill")
        for _ in range(room):
            d.create_server(self.server_spec(host=host.name))
        with pytest.raises(VimCapacityExceeded):
            d.create_server(self.server_spec(host=host.name))
        assert len(self.servers(d)) == room
        assert all(s.host == host.name for s in self.servers(d))
        assert self.fits(self.hosts(d)[host.name], size) == 0
        elsewhere = self.wait_active(d, d.create_server(self.server_spec()).id)
        assert elsewhere.host != host.name

    def test_impossible_host_hints_are_refused(self) -> None:
        d = self.driver()
        hosts = self.up_hosts(d)
        with pytest.raises((VimCapacityExceeded, VimBadRequest)):
            d.create_server(self.server_spec(host="no-such-host-" + self.run_id))
        other_zone = next(h.zone for h in hosts if h.zone != hosts[0].zone)
        with pytest.raises((VimCapacityExceeded, VimBadRequest)):
            d.create_server(self.server_spec(host=hosts[0].name, zone=other_zone))
        if self.adapter.supports_explicit_sizes:
            h = hosts[0]
            too_big = self.server_spec(
                flavor=None,
                vcpus=int(h.vcpus * h.cpu_allocation_ratio) + 1,
                ram_mib=512,
                disk_gib=1,
                host=h.name,
            )
            with pytest.raises(VimCapacityExceeded):
                d.create_server(too_big)
        assert self.servers(d) == []

    # ------------------------------------------------------------------ absent resources

    def test_deleting_absent_resources_succeeds(self) -> None:
        d = self.driver()
        ghost = str(uuid.uuid4())
        d.delete_server(ghost)
        d.delete_port(ghost)
        d.delete_subnet(ghost)
        d.delete_network(ghost)
        net, sub = self.network_with_subnet(d)
        port = self.port(d, net)
        for delete, rid in (
            (d.delete_port, port.id),
            (d.delete_subnet, sub.id),
            (d.delete_network, net.id),
        ):
            delete(rid)
            delete(rid)

    def test_get_of_absent_is_not_found(self) -> None:
        d = self.driver()
        ghost = str(uuid.uuid4())
        for call in (
            d.get_network,
            d.get_port,
            d.get_server,
            d.stop_server,
            d.start_server,
            d.reboot_server,
            d.server_metrics,
        ):
            with pytest.raises(VimNotFound) as info:
                call(ghost)
            assert not info.value.retryable

    def test_create_on_absent_network_is_refused(self) -> None:
        d = self.driver()
        ghost = str(uuid.uuid4())
        with pytest.raises((VimNotFound, VimBadRequest)):
            d.create_port(PortSpec(self.key("port"), "p", ghost, tags=self.tags()))
        with pytest.raises((VimNotFound, VimBadRequest)):
            d.create_subnet(SubnetSpec(self.key("sub"), "s", ghost, self.adapter.cidr(0)))
        with pytest.raises((VimNotFound, VimBadRequest)):
            d.create_server(self.server_spec(ports=[ghost]))
        assert d.list_ports(tags=self.tags()) == [] and self.servers(d) == []

    def test_delete_network_with_bound_port_conflicts(self) -> None:
        d = self.driver()
        net, sub = self.network_with_subnet(d)
        port = self.port(d, net)
        server = self.wait_active(d, d.create_server(self.server_spec(ports=[port.id])).id)
        with pytest.raises(VimConflict) as info:
            d.delete_network(net.id)
        assert not info.value.retryable
        assert d.get_network(net.id).id == net.id
        assert d.get_port(port.id).server_id == server.id
        d.delete_server(server.id)
        self.wait_gone(d, server.id)
        d.delete_port(port.id)
        d.delete_network(net.id)
        with pytest.raises(VimNotFound):
            d.get_network(net.id)

    def test_delete_subnet_with_allocated_port_conflicts(self) -> None:
        d = self.driver()
        net, sub = self.network_with_subnet(d)
        port = self.port(d, net)
        with pytest.raises(VimConflict):
            d.delete_subnet(sub.id)
        assert d.get_network(net.id).subnets == [sub.id]
        d.delete_port(port.id)
        d.delete_subnet(sub.id)
        assert d.get_network(net.id).subnets == []

    # ------------------------------------------------------------------ power / migrate

    def test_stop_start_reboot(self) -> None:
        d = self.driver()
        server = self.wait_active(d, d.create_server(self.server_spec()).id)
        d.stop_server(server.id)
        assert self.wait_status(d, server.id, "SHUTOFF").host == server.host
        d.start_server(server.id)
        self.wait_status(d, server.id, "ACTIVE")
        assert d.reboot_server(server.id).status in ("REBOOT", "ACTIVE")
        self.wait_status(d, server.id, "ACTIVE")

    def _migration_pair(self, d: CheckedDriver) -> tuple[Host, Host]:
        if not self.adapter.supports_migration:
            pytest.skip("driver does not migrate servers")
        hosts = self.up_hosts(d)
        for a in hosts:
            for b in hosts:
                if a.name != b.name and a.zone == b.zone:
                    return a, b
        pytest.fail("the adapter must give a zone with >= 2 up hosts")

    def test_migrate_moves_usage(self) -> None:
        d = self.driver()
        a, b = self._migration_pair(d)
        server = self.wait_active(d, d.create_server(self.server_spec(host=a.name)).id)
        before = self.hosts(d)
        moved = d.migrate_server(server.id, host=b.name)
        assert moved.id == server.id
        self.eventually(
            lambda: (s := d.get_server(server.id)).status == "ACTIVE" and s.host == b.name,
            f"server to be ACTIVE on {b.name}",
        )

        def usage_moved() -> bool:
            # a real cloud frees the source's allocation a moment after the host changed
            after = self.hosts(d)
            return (
                after[a.name].vcpus_used == before[a.name].vcpus_used - server.vcpus
                and after[b.name].vcpus_used == before[b.name].vcpus_used + server.vcpus
                and after[a.name].servers == before[a.name].servers - 1
                and after[b.name].servers == before[b.name].servers + 1
            )

        self.eventually(
            usage_moved, f"{server.vcpus} vCPU and 1 server to move {a.name} -> {b.name}"
        )

    def test_migrate_without_host_changes_host(self) -> None:
        d = self.driver()
        a, _ = self._migration_pair(d)
        server = self.wait_active(d, d.create_server(self.server_spec(host=a.name)).id)
        d.migrate_server(server.id)
        moved = self.eventually(
            lambda: (s := d.get_server(server.id)).status == "ACTIVE" and s.host != a.name and s,
            "server to leave its host",
        )
        assert moved.host in {h.name for h in d.list_hosts()}

    def test_migrate_keeps_the_requested_zone(self) -> None:
        """A server booted into a zone stays there when the VIM picks the target host."""
        d = self.driver()
        self._migration_pair(d)
        zones: dict[str, list[str]] = {}
        for h in self.up_hosts(d):
            zones.setdefault(h.zone, []).append(h.name)
        zone = max(sorted(zones, reverse=True), key=lambda z: len(zones[z]))
        if len(zones[zone]) < 2:
            pytest.skip("no zone with two up hosts")
        server = self.wait_active(d, d.create_server(self.server_spec(zone=zone)).id)
        d.migrate_server(server.id)
        first = server.host
        moved = self.eventually(
            lambda: (s := d.get_server(server.id)).status == "ACTIVE" and s.host != first and s,
            "server to leave its host",
        )
        assert moved.zone == zone and moved.host in zones[zone], moved

    def test_migrate_to_full_host_is_refused_and_server_stays(self) -> None:
        d = self.driver()
        a, b = self._migration_pair(d)
        size = self.flavor_size(d, self.server_spec())
        room = self.fits(b, size)
        if not 0 < room <= 32:
            pytest.skip(f"host {b.name} takes {room} small servers; too many to fill")
        server = self.wait_active(d, d.create_server(self.server_spec(host=a.name)).id)
        for _ in range(room):
            d.create_server(self.server_spec(host=b.name))
        full = self.hosts(d)
        with pytest.raises(VimCapacityExceeded):
            d.migrate_server(server.id, host=b.name)
        still = self.wait_status(d, server.id, "ACTIVE")
        assert still.host == a.name
        after = self.hosts(d)
        for name in (a.name, b.name):
            assert (after[name].vcpus_used, after[name].servers) == (
                full[name].vcpus_used,
                full[name].servers,
            )

    # ------------------------------------------------------------------ metrics

    def test_server_metrics_are_sane(self) -> None:
        d = self.driver()
        server = self.wait_active(d, d.create_server(self.server_spec()).id)
        for _ in range(3):
            m = d.server_metrics(server.id)
            assert m.server_id == server.id
            datetime.fromisoformat(m.timestamp.replace("Z", "+00:00"))
            assert 0.0 <= m.cpu_percent <= 100.0 * max(server.vcpus, 1), m
            assert 0.0 <= m.ram_used_mib <= server.ram_mib, m
            assert m.net_rx_bps >= 0.0 and m.net_tx_bps >= 0.0, m

    # ------------------------------------------------------------------ fault injection

    # Operations faults are injected into; listings must keep working meanwhile.
    FAULT_OPERATIONS: ClassVar[tuple[str, ...]] = ("check", "create_network", "create_server")

    def _invoke(self, d: CheckedDriver, operation: str) -> None:
        if operation == "check":
            d.check()
        elif operation == "create_network":
            d.create_network(NetworkSpec(self.key("net"), "n", tags=self.tags()))
        else:
            d.create_server(self.server_spec())

    @pytest.mark.parametrize("operation", FAULT_OPERATIONS)
    @pytest.mark.parametrize("error_name", sorted(ERROR_CLASSES))
    def test_injected_fault_surfaces_typed(self, operation: str, error_name: str) -> None:
        if not self.adapter.supports_fault_injection:
            pytest.skip("adapter cannot inject faults")
        d = self.wrap(self.adapter.faulty_driver(operation, error_name))
        with pytest.raises(VimError) as info:
            self._invoke(d, operation)
        err = info.value
        assert type(err) is ERROR_CLASSES[error_name], f"got {type(err).__name__}"
        assert err.request_id, "a VIM error must carry the VIM's request id"
        assert err.vim_message, "a VIM error must carry the VIM's own words"
        assert err.retryable is (error_name in RETRYABLE)
        body = err.to_dict()
        assert body["vimError"] == error_name and body["vimRequestId"] == err.request_id
        if error_name != "VimTimeout":  # a timeout may or may not have happened
            assert self.servers(d) == [] and d.list_networks(tags=self.tags()) == []
        assert d.list_zones(), "a fault on one operation must not break the others"
