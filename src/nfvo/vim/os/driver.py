"""The OpenStack VIM driver: Nova servers, Neutron networks, Glance images, Placement capacity.

One driver is one VIM account (Keystone auth URL, user, password, project). Servers carry
nfvo's tags twice: as Nova tags ``key=value`` (server-side filtering) and as metadata (the
complete map, since Nova tags are limited to 60 characters). Creates look the idempotency key
up first. Nova schedules asynchronously, so ``create_server`` and ``migrate_server`` wait for
the scheduler's verdict and turn "No valid host" into ``VimCapacityExceeded`` (deleting the
failed server so nothing is left behind).
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from nfvo.vim.base import (
    TAG_KEY,
    Flavor,
    Host,
    Image,
    Server,
    ServerMetrics,
    ServerSpec,
    VimBadRequest,
    VimCapacityExceeded,
    VimDriver,
    VimNotFound,
    VimTimeout,
    Zone,
)
from nfvo.vim.os.client import OpenStackClient
from nfvo.vim.os.config import parse_openstack_config
from nfvo.vim.os.images import ImageOps
from nfvo.vim.os.inventory import InventoryOps
from nfvo.vim.os.networks import NeutronOps, decode_tags, encode_tags

_NOVA_TAG = re.compile(r"^[^,/]{1,60}$")
_NO_HOST = ("no valid host", "novalidhost")
PORTS_META = "nfvo.ports"


def pick_flavor(flavors: list[Flavor], vcpus: int, ram_mib: int, disk_gib: int) -> Flavor | None:
    """The smallest flavor with at least the asked vcpus, RAM and disk (ties: by name)."""
    fitting = [f for f in flavors if f.vcpus >= vcpus and f.ram_mib >= ram_mib]
    fitting = [f for f in fitting if f.disk_gib >= disk_gib]
    return min(fitting, key=lambda f: (f.vcpus, f.ram_mib, f.disk_gib, f.name), default=None)


def _server_tags(body: dict[str, Any]) -> dict[str, str]:
    meta = {k: v for k, v in (body.get("metadata") or {}).items() if k.startswith("nfvo.")}
    meta.pop(PORTS_META, None)
    return {**decode_tags(body.get("tags")), **meta}


class OpenStackVim(NeutronOps, ImageOps, InventoryOps, VimDriver):
    """A VIM account on an OpenStack cloud (Nova + Neutron + Glance + Placement)."""

    vim_type: ClassVar[str] = "openstack"

    def __init__(
        self,
        *,
        vim_id: str,
        config: dict[str, Any],
        vim_url: str | None,
        vim_user: str | None,
        vim_password: str | None,
        vim_tenant_name: str | None,
        data_dir: Path | None = None,
    ) -> None:
        self.vim_id = vim_id
        self.cfg = parse_openstack_config(config)
        self.client = OpenStackClient(
            self.cfg,
            auth_url=vim_url,
            username=vim_user,
            password=vim_password,
            project_name=vim_tenant_name,
        )
        self._flavors: list[Flavor] | None = None
        self._cpu_samples: dict[str, tuple[float, float]] = {}

    def close(self) -> None:
        """Release the connection."""
        self.client.close()

    # ------------------------------------------------------------------ flavors

    def _flavor_for(self, spec: ServerSpec) -> Flavor:
        flavors = self.list_flavors()
        if spec.flavor is not None:
            for f in flavors:
                if spec.flavor in (f.id, f.name):
                    return f
            raise VimBadRequest(f"flavor {spec.flavor!r} does not exist on VIM {self.vim_id}")
        chosen = pick_flavor(flavors, spec.vcpus or 1, spec.ram_mib or 1, spec.disk_gib or 0)
        if chosen is None:
            raise VimBadRequest(
                f"no flavor has {spec.vcpus} vCPU / {spec.ram_mib} MiB / {spec.disk_gib} GiB"
            )
        return chosen

    # ------------------------------------------------------------------ servers

    def _to_server(self, body: dict[str, Any]) -> Server:
        flavor = body.get("flavor") or {}
        addresses = [
            a["addr"]
            for nets in (body.get("addresses") or {}).values()
            for a in nets
            if "addr" in a
        ]
        meta = body.get("metadata") or {}
        ports = [p for p in str(meta.get(PORTS_META, "")).split(",") if p]
        image = body.get("image")
        fault = body.get("fault") or {}
        return Server(
            id=body["id"],
            name=body.get("name") or "",
            status=body.get("status") or "BUILD",
            host=body.get("OS-EXT-SRV-ATTR:host"),
            zone=body.get("OS-EXT-AZ:availability_zone") or None,
            vcpus=int(flavor.get("vcpus") or 0),
            ram_mib=int(flavor.get("ram") or 0),
            disk_gib=int(flavor.get("disk") or 0),
            image=image.get("id") if isinstance(image, dict) else None,
            flavor=flavor.get("original_name") or flavor.get("id"),
            ports=ports,
            addresses=addresses,
            tags=_server_tags(body),
            fault=fault.get("message"),
            created_at=body.get("created"),
        )

    def _find_by_key(self, key: str) -> dict[str, Any] | None:
        tag = f"{TAG_KEY}={key}"
        params = {"tags": tag} if _NOVA_TAG.match(tag) else {}
        for body in self.client.get("compute", "/servers/detail", **params).get("servers") or []:
            if _server_tags(body).get(TAG_KEY) == key and body.get("status") != "DELETED":
                return body
        return None

    def _create_body(self, spec: ServerSpec, flavor: Flavor) -> dict[str, Any]:
        tags = {**spec.tags, TAG_KEY: spec.key}
        meta = {k: v[:255] for k, v in tags.items()}
        if spec.ports:
            meta[PORTS_META] = ",".join(spec.ports)
        body: dict[str, Any] = {
            "name": spec.name,
            "flavorRef": flavor.id,
            "metadata": meta,
            "tags": [t for t in encode_tags(tags) if _NOVA_TAG.match(t)],
            "networks": [{"port": p} for p in spec.ports] or "none",
        }
        image = spec.image or self.cfg.default_image
        if image is None:
            raise VimBadRequest(
                f"server {spec.name!r} names no image and VIM {self.vim_id} has no "
                "config.default_image (Nova boots only from an image or a volume)"
            )
        body["imageRef"] = self._image_id(image)
        if spec.user_data:
            body["user_data"] = base64.b64encode(spec.user_data.encode()).decode()
        if spec.host and self.cfg.host_hint == "zone":
            body["availability_zone"] = f"{spec.zone or ''}:{spec.host}"
        else:
            if spec.zone:
                body["availability_zone"] = spec.zone
            if spec.host:
                body["host"] = spec.host
        return body

    def create_server(self, spec: ServerSpec) -> Server:
        """Create (or return the existing server with the same key), once scheduled."""
        existing = self._find_by_key(spec.key)
        if existing:
            return self._to_server(existing)
        flavor = self._flavor_for(spec)
        body = self._create_body(spec, flavor)
        for port in spec.ports:
            self.get_port(port)  # VimNotFound now rather than an ERROR server later
        made = self.client.request("compute", "POST", "/servers", json={"server": body})
        server_id = made["server"]["id"]
        return self._await_scheduled(server_id)

    def _fault_of(self, server: Server, wait: float = 2.0) -> str | None:
        """The fault of a server in ERROR. Nova sets the vm_state before it records the
        fault, so a read in between shows ERROR without one: re-read briefly."""
        deadline = time.monotonic() + wait
        while not server.fault and time.monotonic() < deadline:
            time.sleep(0.1)
            server = self.get_server(server.id)
        return server.fault

    def _await_scheduled(self, server_id: str) -> Server:
        """Poll until Nova placed the server (or refused); refusals leave nothing behind."""
        deadline = time.monotonic() + self.cfg.build_timeout
        delay = 0.05
        while True:
            server = self.get_server(server_id)
            if server.status == "ERROR":
                fault = self._fault_of(server) or "the server went to ERROR"
                self.delete_server(server_id)
                if any(word in fault.lower() for word in _NO_HOST):
                    raise VimCapacityExceeded(f"no host has room: {fault}", vim_message=fault)
                raise VimBadRequest(f"server failed to build: {fault}", vim_message=fault)
            if server.host or server.status != "BUILD":
                return server
            if time.monotonic() > deadline:
                raise VimTimeout(f"server {server_id} not scheduled in {self.cfg.build_timeout}s")
            time.sleep(delay)
            delay = min(delay * 1.5, 1.0)

    def get_server(self, server_id: str) -> Server:
        """A server with its current status; VimNotFound if absent (or already deleted: Nova
        still shows a deleted server to an admin for a while)."""
        body = self.client.get("compute", f"/servers/{server_id}")["server"]
        if body.get("status") == "DELETED":
            raise VimNotFound(f"server {server_id} is deleted", vim_message="status DELETED")
        return self._to_server(body)

    def list_servers(self, tags: dict[str, str] | None = None) -> list[Server]:
        """Servers carrying all ``tags``."""
        wanted = tags or {}
        nova_tags = [t for t in encode_tags(wanted) if _NOVA_TAG.match(t)]
        params = {"tags": ",".join(nova_tags)} if nova_tags else {}
        bodies = self.client.get("compute", "/servers/detail", **params).get("servers") or []
        servers = [self._to_server(b) for b in bodies if b.get("status") != "DELETED"]
        return [s for s in servers if wanted.items() <= s.tags.items()]

    def delete_server(self, server_id: str) -> None:
        """Delete and wait until Nova no longer has the server (its capacity freed, its ports
        unbound); absent is fine. Nova deletes asynchronously: the DELETE only starts it."""
        self.delete_servers([server_id])

    def delete_servers(self, server_ids: Sequence[str]) -> None:
        """Start every delete, then wait until Nova has deleted them all (so N servers take
        about as long as one), bounded by ``build_timeout``."""
        pending = []
        for server_id in dict.fromkeys(server_ids):
            try:
                self.client.request("compute", "DELETE", f"/servers/{server_id}")
            except VimNotFound:
                continue
            pending.append(server_id)
        deadline = time.monotonic() + self.cfg.build_timeout
        delay = 0.05
        while pending:
            still: dict[str, str] = {}
            for server_id in pending:
                try:
                    body = self.client.get("compute", f"/servers/{server_id}")["server"]
                except VimNotFound:
                    continue
                if body.get("status") != "DELETED":
                    still[server_id] = str(body.get("status"))
            if not still:
                return
            if time.monotonic() > deadline:
                states = ", ".join(f"{k} {v}" for k, v in still.items())
                raise VimTimeout(
                    f"server {states}: still there {self.cfg.build_timeout:g} s after its delete"
                )
            pending = list(still)
            time.sleep(delay)
            delay = min(delay * 2, 0.5)

    def _action(self, server_id: str, action: dict[str, Any]) -> None:
        self.client.request("compute", "POST", f"/servers/{server_id}/action", json=action)

    def start_server(self, server_id: str) -> Server:
        """SHUTOFF -> ACTIVE."""
        self._action(server_id, {"os-start": None})
        return self.get_server(server_id)

    def stop_server(self, server_id: str) -> Server:
        """ACTIVE -> SHUTOFF."""
        self._action(server_id, {"os-stop": None})
        return self.get_server(server_id)

    def reboot_server(self, server_id: str) -> Server:
        """Soft reboot."""
        self._action(server_id, {"reboot": {"type": "SOFT"}})
        return self.get_server(server_id)

    def migrate_server(self, server_id: str, host: str | None = None) -> Server:
        """Live-migrate to ``host`` (or where Nova's scheduler chooses); waits for the verdict."""
        before = self.get_server(server_id)
        self._action(server_id, {"os-migrateLive": {"host": host, "block_migration": "auto"}})
        deadline = time.monotonic() + self.cfg.build_timeout
        while time.monotonic() < deadline:
            status = self._last_migration_status(server_id)
            if status in ("error", "failed", "cancelled"):
                raise VimCapacityExceeded(
                    f"Nova could not migrate server {server_id} to {host or 'any host'}"
                    f" (migration {status})"
                )
            now = self.get_server(server_id)
            if status == "completed" or (now.host != before.host and now.status == "ACTIVE"):
                return now
            time.sleep(0.1)
        raise VimTimeout(f"migration of {server_id} undecided after {self.cfg.build_timeout}s")

    def _last_migration_status(self, server_id: str) -> str | None:
        found = self.client.get("compute", "/os-migrations", instance_uuid=server_id)
        migrations = found.get("migrations") or []
        if not migrations:
            return None
        latest = max(migrations, key=lambda m: (m.get("created_at") or "", m.get("id") or 0))
        return str(latest.get("status") or "")

    def server_metrics(self, server_id: str) -> ServerMetrics:
        """A usage sample from Nova's server diagnostics (CPU % from the time delta)."""
        server = self.get_server(server_id)
        diag = self.client.get("compute", f"/servers/{server_id}/diagnostics")
        now = time.monotonic()
        cpu_ns = sum(float(c.get("time") or 0) for c in diag.get("cpu_details") or [])
        last = self._cpu_samples.get(server_id)
        self._cpu_samples[server_id] = (now, cpu_ns)
        cpu = 0.0
        if last and now > last[0]:
            cpu = max(0.0, (cpu_ns - last[1]) / 1e9 / (now - last[0]) * 100.0)
        memory = diag.get("memory_details") or {}
        ram_used = min(float(memory.get("used") or 0), float(server.ram_mib))
        nics = diag.get("nic_details") or []
        return ServerMetrics(
            server_id=server_id,
            timestamp=datetime.now(UTC).isoformat(),
            cpu_percent=min(cpu, 100.0 * max(server.vcpus, 1)),
            ram_used_mib=max(ram_used, 0.0),
            net_rx_bps=float(sum(n.get("rx_rate") or 0 for n in nics)),
            net_tx_bps=float(sum(n.get("tx_rate") or 0 for n in nics)),
        )


__all__ = ["OpenStackVim", "pick_flavor", "Image", "Host", "Zone"]
