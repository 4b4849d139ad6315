"""The built-in generic VNFM: deploys a VNF as networks, ports and servers on one VIM driver.

Every create carries a key derived from the deployment spec (see ``nfvo.vnfm.keys``), so
``instantiate`` can be called again after a crash half-way and finishes the job without
creating anything twice. Waiting for servers follows ``PollSchedule``: short first polls, a
small steady interval for the first seconds (a VDU that is ACTIVE after a second is seen
within 50 ms), then backoff to a few seconds for long boots; it takes an injectable
``sleep``/``clock`` so tests run in milliseconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import BinaryIO

from nfvo.vim.base import (
    TAG_KEY,
    TAG_NS,
    TAG_VNF,
    TAG_VNFD,
    Image,
    ImageSpec,
    NetworkSpec,
    Port,
    PortSpec,
    Server,
    ServerSpec,
    SubnetSpec,
    VimConflict,
    VimDriver,
    VimError,
    VimTimeout,
)
from nfvo.vnfm import keys
from nfvo.vnfm.base import (
    CpSpec,
    DriverVnfm,
    VduSpec,
    VlRecord,
    VnfcRecord,
    VnfDeploymentSpec,
    VnfmError,
    VnfRecord,
)

Sleep = Callable[[float], None]
Clock = Callable[[], float]
OpenFile = Callable[[str], BinaryIO]  # a package-relative path -> a stream of that file

# Server states from which a server moves on by itself.
_TRANSIENT = frozenset({"BUILD", "REBOOT", "HARD_REBOOT", "MIGRATING", "RESIZE"})


@dataclass(frozen=True)
class PollSchedule:
    """When to look again at something that changes by itself (a booting server, a network
    whose ports are still being released).

    The gaps start at ``first_s`` and double up to ``steady_s``; they stay there until
    ``steady_until_s`` has elapsed (so a server that becomes ACTIVE after about a second is
    seen within ``steady_s``); then they grow by ``growth`` per poll up to ``max_s``, which
    bounds the calls a long boot costs the VIM. ``steady_until_s=0`` gives plain backoff.
    """

    first_s: float = 0.01
    steady_s: float = 0.05
    steady_until_s: float = 5.0
    growth: float = 1.5
    max_s: float = 2.0

    def next_delay(self, elapsed_s: float, previous_s: float | None) -> float:
        """The gap before the next poll, ``elapsed_s`` after the first one."""
        steady = min(self.steady_s, self.max_s)
        if previous_s is None:
            return min(self.first_s, steady)
        if elapsed_s < self.steady_until_s:
            return min(previous_s * 2, steady)
        return min(max(previous_s, steady) * self.growth, self.max_s)

    def delays(self, total_s: float) -> list[float]:
        """The gaps of a wait of ``total_s`` seconds (each sleep taken in full)."""
        out: list[float] = []
        elapsed, previous = 0.0, None
        while elapsed < total_s:
            previous = self.next_delay(elapsed, previous)
            out.append(previous)
            elapsed += previous
        return out


# Server boots: quick first looks, then every 50 ms for 5 s, then up to 2 s apart.
BOOT_POLL = PollSchedule()
# Retries of a refused delete: no steady phase, 50 ms doubling to 1 s (14 tries in 10 s).
RETRY_POLL = PollSchedule(first_s=0.05, steady_s=0.05, steady_until_s=0.0, growth=2.0, max_s=1.0)


@dataclass
class _Waiter:
    """Polling loop shared by the VNFM and ``cleanup_by_tags``: a schedule and a deadline."""

    sleep: Sleep = time.sleep
    clock: Clock = time.monotonic
    schedule: PollSchedule = BOOT_POLL

    def intervals(self, timeout_s: float) -> Iterator[float]:
        """Yield once per attempt (the seconds elapsed since the first), sleeping between
        attempts as the schedule says, until ``timeout_s`` has passed."""
        start = self.clock()
        deadline = start + timeout_s
        delay: float | None = None
        while True:
            now = self.clock()
            yield now - start
            now = self.clock()
            left = deadline - now
            if left <= 0:
                return
            delay = self.schedule.next_delay(now - start, delay)
            self.sleep(min(delay, left))


@dataclass
class _Ctx:
    """Who an operation is about, for error messages: the VNF and the VIM account."""

    vnf_instance_id: str
    vim_account_id: str | None

    @contextmanager
    def vim(self, what: str, vdu_id: str | None = None) -> Iterator[None]:
        """Turn any ``VimError`` raised inside into a ``VnfmError`` naming VNF, VDU and VIM."""
        try:
            yield
        except VimError as exc:
            raise self.error(f"{what} failed: {exc.message}", vdu_id, exc) from exc

    def error(
        self, detail: str, vdu_id: str | None = None, vim_error: VimError | None = None
    ) -> VnfmError:
        """A VnfmError whose message starts with the VNF, VDU and VIM it is about."""
        where = f"VNF {self.vnf_instance_id}"
        if vdu_id:
            where += f" VDU {vdu_id}"
        if self.vim_account_id:
            where += f" on VIM {self.vim_account_id}"
        return VnfmError(
            f"{where}: {detail}",
            vnf_instance_id=self.vnf_instance_id,
            vdu_id=vdu_id,
            vim_account_id=self.vim_account_id,
            vim_error=vim_error,
        )


@dataclass
class _Pending:
    """A VNFC whose server may still be moving (BUILD, REBOOT) and its wait budget."""

    vnfc: VnfcRecord
    timeout_s: float
    fault: str | None = None


class GenericVnfm(DriverVnfm):
    """The VNFM nfvo ships: drives any ``VimDriver`` directly, no external VNFM needed.

    ``replace_failed``: when ``instantiate`` or ``scale`` finds a server of a previous attempt
    in ERROR, it deletes it and creates the next generation instead of failing again.
    """

    def __init__(
        self,
        *,
        sleep: Sleep = time.sleep,
        clock: Clock = time.monotonic,
        poll_first_s: float = BOOT_POLL.first_s,
        poll_steady_s: float = BOOT_POLL.steady_s,
        poll_steady_until_s: float = BOOT_POLL.steady_until_s,
        poll_max_s: float = BOOT_POLL.max_s,
        conflict_retry_s: float = 10.0,
        replace_failed: bool = True,
    ) -> None:
        boot = replace(
            BOOT_POLL,
            first_s=poll_first_s,
            steady_s=poll_steady_s,
            steady_until_s=poll_steady_until_s,
            max_s=poll_max_s,
        )
        self._waiter = _Waiter(sleep, clock, boot)
        self._retry_waiter = _Waiter(sleep, clock, RETRY_POLL)
        self._conflict_retry_s = conflict_retry_s
        self._replace_failed = replace_failed

    # ------------------------------------------------------------------ contract

    def instantiate(self, spec: VnfDeploymentSpec, driver: VimDriver) -> VnfRecord:
        """Create (or finish creating) the VLs, ports and servers; wait until none is BUILD."""
        ctx = _Ctx(spec.vnf_instance_id, spec.vim_account_id)
        _check_networks(ctx, spec)
        vls = self._ensure_vls(ctx, spec, driver)
        current = self._current_servers(ctx, spec, driver)
        nets = {vl.vl_id: vl.network_id for vl in vls}
        pending = [
            self._ensure_vnfc(ctx, spec, vdu, index, nets, driver, current)
            for vdu in spec.vdus
            for index in range(vdu.count)
        ]
        self._settle(ctx, pending, driver)
        return VnfRecord(spec.vnf_instance_id, spec.vim_account_id, [p.vnfc for p in pending], vls)

    def scale(self, spec: VnfDeploymentSpec, record: VnfRecord, driver: VimDriver) -> VnfRecord:
        """Remove the instances beyond each VDU's count (highest first), create missing ones."""
        ctx = _Ctx(spec.vnf_instance_id, spec.vim_account_id)
        _check_networks(ctx, spec)
        counts = {vdu.vdu_id: vdu.count for vdu in spec.vdus}
        keep = [v for v in record.vnfcs if v.index < counts.get(v.vdu_id, 0)]
        drop = [v for v in record.vnfcs if v.index >= counts.get(v.vdu_id, 0)]
        _remove_vnfcs(ctx, sorted(drop, key=lambda v: (v.vdu_id, -v.index)), driver)
        vls = self._ensure_vls(ctx, spec, driver)
        nets = {vl.vl_id: vl.network_id for vl in vls}
        have = {(v.vdu_id, v.index) for v in keep}
        current = self._current_servers(ctx, spec, driver)
        pending = [
            self._ensure_vnfc(ctx, spec, vdu, index, nets, driver, current)
            for vdu in spec.vdus
            for index in range(vdu.count)
            if (vdu.vdu_id, index) not in have
        ]
        self._settle(ctx, pending, driver)
        return VnfRecord(
            record.vnf_instance_id,
            record.vim_account_id,
            _ordered(spec, keep + [p.vnfc for p in pending]),
            vls,
        )

    def heal(
        self,
        spec: VnfDeploymentSpec,
        record: VnfRecord,
        driver: VimDriver,
        vnfc_keys: list[str],
        *,
        recreate: bool,
    ) -> VnfRecord:
        """Reboot the given VNFCs, or delete and recreate their servers on the same ports."""
        ctx = _Ctx(record.vnf_instance_id, record.vim_account_id)
        by_key = {v.key: v for v in record.vnfcs}
        vdus = {vdu.vdu_id: vdu for vdu in spec.vdus}
        for key in vnfc_keys:
            if key not in by_key:
                raise ctx.error(f"no VNFC with key {key!r} in the record")
            if by_key[key].vdu_id not in vdus:
                raise ctx.error(f"VDU of VNFC {key!r} is not in the spec", by_key[key].vdu_id)
        nets = {vl.vl_id: vl.network_id for vl in record.vls}
        pending: list[_Pending] = []
        for key in dict.fromkeys(vnfc_keys):
            old, vdu = by_key[key], vdus[by_key[key].vdu_id]
            if recreate:
                pending.append(self._recreate(ctx, spec, vdu, old, nets, driver))
            else:
                with ctx.vim(f"reboot of server {old.server_id}", vdu.vdu_id):
                    server = driver.reboot_server(old.server_id)
                pending.append(_Pending(_refresh(replace(old), server), vdu.boot_timeout_s))
        self._settle(ctx, pending, driver)
        healed = {key: p.vnfc for key, p in zip(dict.fromkeys(vnfc_keys), pending, strict=True)}
        vnfcs = [healed.get(v.key, v) for v in record.vnfcs]
        return VnfRecord(record.vnf_instance_id, record.vim_account_id, vnfcs, list(record.vls))

    def terminate(self, record: VnfRecord, driver: VimDriver) -> None:
        """Delete servers, then ports, then subnets and networks; then sweep by the VNF tag."""
        ctx = _Ctx(record.vnf_instance_id, record.vim_account_id)
        _remove_vnfcs(ctx, record.vnfcs, driver)
        for vl in record.vls:
            if vl.subnet_id:
                with ctx.vim(f"delete of subnet {vl.subnet_id} of VL {vl.vl_id}"):
                    driver.delete_subnet(vl.subnet_id)
            _delete_network(ctx, driver, vl.network_id, self._retry_waiter, self._conflict_retry_s)
        # anything created by an attempt that crashed before it could be recorded
        tags = {TAG_VNF: record.vnf_instance_id}
        _purge(ctx, driver, tags, self._retry_waiter, self._conflict_retry_s)

    # ------------------------------------------------------------------ building blocks

    def _ensure_vls(self, ctx: _Ctx, spec: VnfDeploymentSpec, driver: VimDriver) -> list[VlRecord]:
        out = []
        tags = _tags(spec)
        for vl in spec.internal_vls:
            key = keys.vl_key(spec.vnf_instance_id, vl.vl_id)
            name = f"{spec.vnf_profile_id}-{vl.vl_id}"
            with ctx.vim(f"create of network for VL {vl.vl_id}"):
                net = driver.create_network(
                    NetworkSpec(key=key, name=name, tags={**tags, TAG_KEY: key})
                )
            skey = keys.subnet_key(spec.vnf_instance_id, vl.vl_id)
            subnet = SubnetSpec(
                key=skey,
                name=f"{name}-subnet",
                network_id=net.id,
                cidr=vl.cidr,
                ip_version=vl.ip_version,
                gateway_ip=vl.gateway_ip,
                dhcp=vl.dhcp,
                tags={**tags, TAG_KEY: skey},
            )
            with ctx.vim(f"create of subnet {vl.cidr} for VL {vl.vl_id}"):
                sub = driver.create_subnet(subnet)
            out.append(VlRecord(vl.vl_id, net.id, sub.id))
        return out

    @staticmethod
    def _current_servers(
        ctx: _Ctx, spec: VnfDeploymentSpec, driver: VimDriver
    ) -> dict[str, Server]:
        """The VNF's existing servers by base key, the newest generation of each."""
        with ctx.vim("listing of the VNF's servers"):
            servers = driver.list_servers(tags={TAG_VNF: spec.vnf_instance_id})
        best: dict[str, tuple[int, Server]] = {}
        for server in servers:
            key = server.tags.get(TAG_KEY)
            if not key:
                continue
            base, gen = keys.split_generation(key)
            if base not in best or gen > best[base][0]:
                best[base] = (gen, server)
        return {base: s for base, (_, s) in best.items()}

    def _ensure_vnfc(
        self,
        ctx: _Ctx,
        spec: VnfDeploymentSpec,
        vdu: VduSpec,
        index: int,
        nets: dict[str, str],
        driver: VimDriver,
        current: dict[str, Server],
    ) -> _Pending:
        base = keys.vnfc_key(spec.vnf_instance_id, vdu.vdu_id, index)
        ports = self._ensure_ports(ctx, spec, vdu, index, nets, driver)
        found = current.get(base)
        key = found.tags.get(TAG_KEY, base) if found else base
        if found is not None and found.status == "ERROR" and self._replace_failed:
            with ctx.vim(f"delete of failed server {found.id}", vdu.vdu_id):
                driver.delete_server(found.id)
            key = keys.next_generation(key)
        return self._create_server(ctx, spec, vdu, index, key, ports, driver)

    def _ensure_ports(
        self,
        ctx: _Ctx,
        spec: VnfDeploymentSpec,
        vdu: VduSpec,
        index: int,
        nets: dict[str, str],
        driver: VimDriver,
    ) -> list[tuple[CpSpec, Port]]:
        out = []
        name = _server_name(spec, vdu, index)
        for cp in sorted(vdu.cps, key=lambda c: c.order):
            network_id = nets.get(cp.network) or spec.ext_networks[cp.network]
            key = keys.port_key(spec.vnf_instance_id, vdu.vdu_id, index, cp.cp_id)
            port_spec = PortSpec(
                key=key,
                name=f"{name}-{cp.cp_id}",
                network_id=network_id,
                security_rules=list(cp.security_rules),
                tags={**_tags(spec), keys.TAG_VDU: vdu.vdu_id, TAG_KEY: key},
            )
            with ctx.vim(f"create of port for CP {cp.cp_id} (instance {index})", vdu.vdu_id):
                out.append((cp, driver.create_port(port_spec)))
        return out

    def _create_server(
        self,
        ctx: _Ctx,
        spec: VnfDeploymentSpec,
        vdu: VduSpec,
        index: int,
        key: str,
        ports: list[tuple[CpSpec, Port]],
        driver: VimDriver,
    ) -> _Pending:
        explicit = vdu.flavor is None
        server_spec = ServerSpec(
            key=key,
            name=_server_name(spec, vdu, index),
            image=vdu.image,
            flavor=vdu.flavor,
            vcpus=vdu.vcpus if explicit else None,
            ram_mib=vdu.ram_mib if explicit else None,
            disk_gib=vdu.disk_gib if explicit else None,
            ports=[p.id for _, p in ports],
            user_data=vdu.user_data,
            zone=vdu.zone,
            host=spec.hosts.get(f"{vdu.vdu_id}-{index}"),
            tags={**_tags(spec), keys.TAG_VDU: vdu.vdu_id, TAG_KEY: key},
        )
        with ctx.vim(f"create of server {server_spec.name}", vdu.vdu_id):
            server = driver.create_server(server_spec)
        vnfc = VnfcRecord(
            vdu_id=vdu.vdu_id,
            index=index,
            key=key,
            server_id=server.id,
            status=server.status,
            host=server.host,
            zone=server.zone,
            port_ids={cp.cp_id: p.id for cp, p in ports},
            addresses={cp.cp_id: list(p.ip_addresses) for cp, p in ports},
            mac_addresses={cp.cp_id: p.mac_address for cp, p in ports if p.mac_address},
        )
        return _Pending(vnfc, vdu.boot_timeout_s, server.fault)

    def _recreate(
        self,
        ctx: _Ctx,
        spec: VnfDeploymentSpec,
        vdu: VduSpec,
        old: VnfcRecord,
        nets: dict[str, str],
        driver: VimDriver,
    ) -> _Pending:
        with ctx.vim(f"delete of server {old.server_id}", vdu.vdu_id):
            driver.delete_server(old.server_id)
        # keyed creates hand back the ports that still exist and replace any that are gone
        ports = self._ensure_ports(ctx, spec, vdu, old.index, nets, driver)
        key = keys.next_generation(old.key)
        return self._create_server(ctx, spec, vdu, old.index, key, ports, driver)

    def _settle(self, ctx: _Ctx, pending: list[_Pending], driver: VimDriver) -> None:
        """Poll until every server has left BUILD/REBOOT; then the first ERROR (or a timeout)
        raises. All servers settle first, so that a retry finds no server still booting
        towards an ERROR it would then trip over."""
        waiting = list(pending)
        first_error: VnfmError | None = None
        start = self._waiter.clock()
        budget = max((p.timeout_s for p in pending), default=0.0)
        for _ in self._waiter.intervals(budget):
            still = []
            _poll(ctx, [p for p in waiting if p.vnfc.status in _TRANSIENT], driver)
            for p in waiting:
                if p.vnfc.status == "ERROR":
                    first_error = first_error or ctx.error(
                        f"server {p.vnfc.server_id} ({p.vnfc.key}) went to ERROR: "
                        f"{p.fault or 'no fault reported'}",
                        p.vnfc.vdu_id,
                    )
                    continue
                if p.vnfc.status in _TRANSIENT:
                    if self._waiter.clock() - start >= p.timeout_s:
                        raise first_error or _timeout(ctx, p)
                    still.append(p)
            waiting = still
            if not waiting:
                if first_error is not None:
                    raise first_error
                return
        raise first_error or _timeout(ctx, waiting[0])


# ---------------------------------------------------------------------- module functions


def _poll(ctx: _Ctx, moving: list[_Pending], driver: VimDriver) -> None:
    """Refresh the status of the moving servers: one ``get_server`` for a single server, one
    listing of the VNF's servers for several (the VIM's load per poll stays one call)."""
    if not moving:
        return
    found: dict[str, Server] = {}
    if len(moving) > 1:
        with ctx.vim("status poll of the VNF's servers"):
            found = {s.id: s for s in driver.list_servers(tags={TAG_VNF: ctx.vnf_instance_id})}
    for p in moving:
        server = found.get(p.vnfc.server_id)
        if server is None:
            with ctx.vim(f"status poll of server {p.vnfc.server_id}", p.vnfc.vdu_id):
                server = driver.get_server(p.vnfc.server_id)
        _refresh(p.vnfc, server)
        p.fault = server.fault


def _remove_vnfcs(ctx: _Ctx, vnfcs: list[VnfcRecord], driver: VimDriver) -> None:
    """Delete the VNFCs' servers (every delete started before waiting), then their ports."""
    if not vnfcs:
        return
    vdus = {v.vdu_id for v in vnfcs}
    servers = ", ".join(v.server_id for v in vnfcs)
    with ctx.vim(f"delete of server {servers}", next(iter(vdus)) if len(vdus) == 1 else None):
        driver.delete_servers([v.server_id for v in vnfcs])
    for vnfc in vnfcs:
        for port_id in vnfc.port_ids.values():
            with ctx.vim(f"delete of port {port_id}", vnfc.vdu_id):
                driver.delete_port(port_id)


def ensure_images(spec: VnfDeploymentSpec, driver: VimDriver, open_file: OpenFile) -> list[Image]:
    """Make sure the VIM has every distinct image the VNF's VDUs name.

    A VDU whose package carries its image file gets it uploaded when the VIM lacks an image of
    that name (``open_file`` opens a package-relative path); others must exist by name.
    Images are shared by everything on the VIM: nothing here is tagged per NS or removed by
    ``terminate``. Failures raise ``VnfmError`` naming the VNF, the VDU, the image and the VIM.
    """
    ctx = _Ctx(spec.vnf_instance_id, spec.vim_account_id)
    done: dict[str, Image] = {}
    for vdu in spec.vdus:
        if not vdu.image or vdu.image in done:
            continue
        image = _image_spec(ctx, spec, vdu, open_file)
        with ctx.vim(f"provisioning of image {vdu.image!r}", vdu.vdu_id):
            done[vdu.image] = driver.ensure_image(image)
    return list(done.values())


def _image_spec(ctx: _Ctx, spec: VnfDeploymentSpec, vdu: VduSpec, open_file: OpenFile) -> ImageSpec:
    assert vdu.image is not None
    art = vdu.image_artifact
    if art is None:
        return ImageSpec(name=vdu.image)

    def open_image() -> BinaryIO:
        try:
            return open_file(art.file)
        except Exception as exc:  # noqa: BLE001 - whatever the package store raises
            raise ctx.error(
                f"image {vdu.image!r}: file {art.file} of VNF package {spec.vnfd_id} cannot be "
                f"read: {exc}",
                vdu.vdu_id,
            ) from exc

    return ImageSpec(name=vdu.image, open=open_image, tags={TAG_VNFD: spec.vnfd_id}, **art.facts())


def cleanup_by_tags(
    driver: VimDriver,
    *,
    ns_instance_id: str,
    vnf_instance_id: str | None = None,
    sleep: Sleep = time.sleep,
    clock: Clock = time.monotonic,
    conflict_retry_s: float = 10.0,
) -> int:
    """Delete every server, port, subnet and network carrying the NS (and VNF) tags.

    Used by LCM rollback and the "nothing leaked" checks; returns how many resources were
    deleted (subnets included). VIM failures raise ``VnfmError`` (for an NS-wide clean-up its
    ``vnf_instance_id`` is empty).
    """
    tags = {TAG_NS: ns_instance_id}
    if vnf_instance_id is not None:
        tags[TAG_VNF] = vnf_instance_id
    ctx = _Ctx(vnf_instance_id or "", None)
    return _purge(ctx, driver, tags, _Waiter(sleep, clock, RETRY_POLL), conflict_retry_s)


def _purge(
    ctx: _Ctx, driver: VimDriver, tags: dict[str, str], waiter: _Waiter, conflict_retry_s: float
) -> int:
    what = ", ".join(f"{k}={v}" for k, v in sorted(tags.items()))
    deleted = 0
    with ctx.vim(f"listing of servers tagged {what}"):
        servers = driver.list_servers(tags=tags)
    if servers:
        with ctx.vim(f"delete of server {', '.join(s.id for s in servers)}"):
            driver.delete_servers([s.id for s in servers])
        deleted += len(servers)
    with ctx.vim(f"listing of ports tagged {what}"):
        ports = driver.list_ports(tags=tags)
    for port in ports:
        with ctx.vim(f"delete of port {port.id}", port.tags.get(keys.TAG_VDU)):
            driver.delete_port(port.id)
        deleted += 1
    with ctx.vim(f"listing of networks tagged {what}"):
        networks = driver.list_networks(tags=tags)
    for net in networks:
        for subnet_id in net.subnets:
            with ctx.vim(f"delete of subnet {subnet_id}"):
                driver.delete_subnet(subnet_id)
            deleted += 1
        _delete_network(ctx, driver, net.id, waiter, conflict_retry_s)
        deleted += 1
    return deleted


def _delete_network(
    ctx: _Ctx, driver: VimDriver, network_id: str, waiter: _Waiter, retry_s: float
) -> None:
    """Delete a network, retrying (``RETRY_POLL``: backoff from 50 ms to 1 s) while the VIM
    still releases its ports."""
    last: VimConflict | None = None
    for _ in waiter.intervals(retry_s):
        try:
            driver.delete_network(network_id)
            return
        except VimConflict as exc:
            last = exc
        except VimError as exc:
            raise ctx.error(
                f"delete of network {network_id} failed: {exc.message}", None, exc
            ) from exc
    assert last is not None
    raise ctx.error(f"delete of network {network_id} failed: {last.message}", None, last)


def _check_networks(ctx: _Ctx, spec: VnfDeploymentSpec) -> None:
    """Every CP must land on an internal VL or a network in ``ext_networks``; checked first."""
    internal = {vl.vl_id for vl in spec.internal_vls}
    for vdu in spec.vdus:
        for cp in vdu.cps:
            if cp.network not in internal and cp.network not in spec.ext_networks:
                raise ctx.error(
                    f"CP {cp.cp_id} is on {cp.network!r}, which is neither an internal VL of "
                    "the VNF nor an external network given in ext_networks",
                    vdu.vdu_id,
                )


def _tags(spec: VnfDeploymentSpec) -> dict[str, str]:
    return {TAG_NS: spec.ns_instance_id, TAG_VNF: spec.vnf_instance_id}


def _server_name(spec: VnfDeploymentSpec, vdu: VduSpec, index: int) -> str:
    return f"{spec.vnf_profile_id}-{vdu.vdu_id}-{index}"


def _refresh(vnfc: VnfcRecord, server: Server) -> VnfcRecord:
    vnfc.server_id = server.id
    vnfc.status = server.status
    vnfc.host = server.host
    vnfc.zone = server.zone
    return vnfc


def _timeout(ctx: _Ctx, p: _Pending) -> VnfmError:
    detail = (
        f"server {p.vnfc.server_id} ({p.vnfc.key}) still {p.vnfc.status} after {p.timeout_s:g} s"
    )
    return ctx.error(detail, p.vnfc.vdu_id, VimTimeout(detail))


def _ordered(spec: VnfDeploymentSpec, vnfcs: list[VnfcRecord]) -> list[VnfcRecord]:
    rank = {vdu.vdu_id: i for i, vdu in enumerate(spec.vdus)}
    return sorted(vnfcs, key=lambda v: (rank.get(v.vdu_id, len(rank)), v.index))
