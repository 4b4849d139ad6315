"""The sim VIM driver: inventory, placement and the server state machine.

Placement is one SQL query over hosts joined with the usage summed from the servers table
(so usage can never drift from the servers that exist), run inside ``BEGIN IMMEDIATE`` so
concurrent creates from threads or processes never oversubscribe a host. Server status is
evaluated lazily from stored timestamps, so no background thread is needed and every
process sharing the state file agrees.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nfvo.vim.base import (
    TAG_KEY,
    Flavor,
    Host,
    Image,
    ImageSpec,
    Server,
    ServerMetrics,
    ServerSpec,
    VimBadRequest,
    VimCapacityExceeded,
    VimConflict,
    VimDriver,
    VimNotFound,
    VimQuotaExceeded,
    Zone,
)
from nfvo.vim.images import HashingReader, check_declared, declared_algorithm
from nfvo.vim.sim.behaviour import cpu_percent, dumps, load_for, request_id, tags_match, tags_where
from nfvo.vim.sim.config import SimConfig
from nfvo.vim.sim.core import iso, operation
from nfvo.vim.sim.faults import FaultOps
from nfvo.vim.sim.monitor import MonitorOps
from nfvo.vim.sim.network import NetworkOps

VERSION = "nfvo-sim 1"

_USAGE = (
    "LEFT JOIN (SELECT host, SUM(vcpus) AS v, SUM(ram_mib) AS r, SUM(disk_gib) AS d, "
    "COUNT(*) AS n FROM servers GROUP BY host) u ON u.host = h.name"
)
_PLACE = (
    f"SELECT h.name, h.zone FROM hosts h {_USAGE} "
    "WHERE h.state = 'up' AND (:zone IS NULL OR h.zone = :zone) "
    "AND (:host IS NULL OR h.name = :host) AND (:skip IS NULL OR h.name <> :skip) "
    "AND COALESCE(u.v, 0) + :v <= h.vcpus * h.cpu_ratio "
    "AND COALESCE(u.r, 0) + :r <= h.ram_mib * h.ram_ratio "
    "AND COALESCE(u.d, 0) + :d <= h.disk_gib * h.disk_ratio "
    "ORDER BY h.name LIMIT 1"
)
_IMAGE_COLS = "id, name, disk_format, container_format, size_bytes, checksum"
_SERVER_COLS = (
    "id, name, status, host, zone, vcpus, ram_mib, disk_gib, image, flavor, tags, fault, created_at"
)


def _demand_text(v: int, r: int, d: int) -> str:
    return f"{v} vCPU, {r} MiB RAM, {d} GiB disk"


class SimVim(NetworkOps, FaultOps, MonitorOps, VimDriver):
    """The built-in simulated VIM: capacity, zones, boot latency, faults, persisted state.

    A first-class driver rather than a test mock: nfvo deploys onto it exactly as onto a real
    VIM, which makes demos, scale tests and fault drills possible without any cloud.
    """

    vim_type = "sim"

    def __init__(
        self,
        *,
        vim_id: str,
        config: dict[str, Any] | SimConfig,
        data_dir: Path | str,
        vim_url: str | None = None,
        vim_user: str | None = None,
        vim_password: str | None = None,
        vim_tenant_name: str | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        super().__init__(
            vim_id=vim_id,
            config=config,
            data_dir=Path(data_dir),
            vim_user=vim_user,
            vim_password=vim_password,
            clock=clock,
            sleep=sleep,
        )
        self.vim_url = vim_url  # informational: the simulated VIM has no endpoint
        self.vim_tenant_name = vim_tenant_name

    # ------------------------------------------------------------------ inventory

    @operation("check")
    def check(self) -> dict[str, Any]:
        """Verify credentials and the state file; facts about the simulated VIM."""
        c = self.store.conn()
        hosts = c.execute("SELECT COUNT(*) FROM hosts").fetchone()[0]
        zones = c.execute("SELECT COUNT(*) FROM zones").fetchone()[0]
        return {"vim_type": "sim", "hosts": hosts, "zones": zones, "version": VERSION}

    @operation("list")
    def list_zones(self) -> list[Zone]:
        """Zones; a zone is available while at least one of its hosts is up."""
        rows = self.store.conn().execute(
            "SELECT z.name, EXISTS (SELECT 1 FROM hosts h WHERE h.zone = z.name "
            "AND h.state = 'up') FROM zones z ORDER BY z.name"
        )
        return [Zone(name=n, available=bool(a)) for n, a in rows]

    @operation("list")
    def list_hosts(self) -> list[Host]:
        """Hosts with capacity and the usage summed from the servers placed on them."""
        rows = self.store.conn().execute(
            "SELECT h.name, h.zone, h.vcpus, h.ram_mib, h.disk_gib, h.cpu_ratio, h.ram_ratio, "
            "h.disk_ratio, COALESCE(u.v, 0), COALESCE(u.r, 0), COALESCE(u.d, 0), "
            f"COALESCE(u.n, 0), h.state FROM hosts h {_USAGE} ORDER BY h.name"
        )
        return [Host(*r) for r in rows]

    @operation("list")
    def list_flavors(self) -> list[Flavor]:
        """Flavors, by name."""
        rows = self.store.conn().execute(
            "SELECT id, name, vcpus, ram_mib, disk_gib FROM flavors ORDER BY name"
        )
        return [Flavor(*r) for r in rows]

    @operation("list")
    def list_images(self) -> list[Image]:
        """Images, by name."""
        rows = self.store.conn().execute(f"SELECT {_IMAGE_COLS} FROM images ORDER BY name")
        return [Image(*r) for r in rows]

    # ------------------------------------------------------------------ images

    @operation("get")
    def ensure_image(self, spec: ImageSpec) -> Image:
        """The image of that name (or id); without one, ``spec.open()``'s bytes are read
        (size and md5 computed, the declared checksum verified) and the image added."""
        found = self._find_image(spec.name)
        if found is not None:
            return found
        if spec.open is None:
            raise VimBadRequest(
                f"image {spec.name!r} does not exist on VIM {self.vim_id}, and the VNF package "
                "carries no image file to upload",
                request_id=request_id(),
            )
        return self._upload_image(spec)

    def _find_image(self, ref: str) -> Image | None:
        row = (
            self.store.conn()
            .execute(
                f"SELECT {_IMAGE_COLS} FROM images WHERE name = ? OR id = ? "
                "ORDER BY name = ? DESC LIMIT 1",
                (ref, ref, ref),
            )
            .fetchone()
        )
        return Image(*row) if row else None

    @operation("image_create")
    def _upload_image(self, spec: ImageSpec) -> Image:
        assert spec.open is not None
        rid = request_id()
        algorithm = declared_algorithm(spec, rid)
        with spec.open() as stream:  # read outside any transaction: images may be large
            reader = HashingReader(stream, {"md5", *([algorithm] if algorithm else [])})
            reader.drain()
        check_declared(spec, reader, rid)
        with self.store.write() as c:  # a concurrent upload of the same name wins: keep it
            c.execute(
                f"INSERT OR IGNORE INTO images ({_IMAGE_COLS}) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    str(uuid.uuid4()),
                    spec.name,
                    spec.disk_format,
                    spec.container_format,
                    reader.size,
                    reader.hexdigest("md5"),
                ),
            )
        found = self._find_image(spec.name)
        assert found is not None
        return found

    # ------------------------------------------------------------------ servers

    @operation("server_create")
    def create_server(self, spec: ServerSpec) -> Server:
        """Create (or return the existing server with the same key); status BUILD or later."""
        existing = self._keyed(self.store.conn(), "server", spec.key)
        if existing:  # a retry: return it even if the spec no longer resolves
            return self._server(existing)
        vcpus, ram, disk, flavor = self._demand(spec)
        image = self._image(spec.image)
        status, fault = self.behaviour.boot_outcome()
        boot_s = self.behaviour.delay_s("server_boot")

        def insert(c: sqlite3.Connection) -> str:
            now = self.clock()
            self._settle_in(c, now)
            self._check_quota(c, vcpus, ram)
            self._check_target(c, spec)
            ports = self._check_ports(c, spec.ports)
            host, zone = self._place(c, vcpus, ram, disk, spec.zone, spec.host, None)
            sid = str(uuid.uuid4())
            pending = boot_s > 0
            c.execute(
                "INSERT INTO servers (id, name, status, host, zone, vcpus, ram_mib, disk_gib, "
                "image, flavor, user_data, tags, fault, requested_zone, next_status, next_fault, "
                "next_at, created_at, created) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    sid,
                    spec.name,
                    "BUILD" if pending else status,
                    host,
                    zone,
                    vcpus,
                    ram,
                    disk,
                    image,
                    flavor,
                    spec.user_data,
                    dumps({**spec.tags, TAG_KEY: spec.key}),
                    None if pending else fault,
                    spec.zone,
                    status if pending else None,
                    fault if pending else None,
                    now + boot_s if pending else None,
                    iso(now),
                    now,
                ),
            )
            c.executemany(
                "UPDATE ports SET server_id = ?, status = 'ACTIVE' WHERE id = ?",
                [(sid, pid) for pid in ports],
            )
            return sid

        sid = self._create("server", spec.key, insert)
        return self._server(sid)

    def _demand(self, spec: ServerSpec) -> tuple[int, int, int, str | None]:
        if spec.flavor:
            row = (
                self.store.conn()
                .execute(
                    "SELECT vcpus, ram_mib, disk_gib, name FROM flavors WHERE id = ? OR name = ?",
                    (spec.flavor, spec.flavor),
                )
                .fetchone()
            )
            if row is None:
                raise VimBadRequest(
                    f"Flavor {spec.flavor} could not be found.", request_id=request_id()
                )
            return row[0], row[1], row[2], row[3]
        v, r, d = spec.vcpus, spec.ram_mib, spec.disk_gib
        if v is None or r is None or d is None or v < 1 or r < 0 or d < 0:
            raise VimBadRequest(
                "give a flavor or vcpus (>= 1), ram_mib and disk_gib (>= 0)",
                request_id=request_id(),
            )
        return v, r, d, None

    def _image(self, ref: str | None) -> str | None:
        if ref is None:
            return None
        row = (
            self.store.conn()
            .execute("SELECT name FROM images WHERE id = ? OR name = ?", (ref, ref))
            .fetchone()
        )
        if row is None:
            raise VimBadRequest(f"Image {ref} could not be found.", request_id=request_id())
        return ref

    def _check_quota(self, c: sqlite3.Connection, vcpus: int, ram: int) -> None:
        quota = self.cfg.top.quota
        if quota is None:
            return
        count, used_v, used_r = c.execute(
            "SELECT COUNT(*), COALESCE(SUM(vcpus), 0), COALESCE(SUM(ram_mib), 0) FROM servers"
        ).fetchone()
        for what, limit, used, want in (
            ("instances", quota.servers, count, 1),
            ("cores", quota.vcpus, used_v, vcpus),
            ("ram", quota.ram_mib, used_r, ram),
        ):
            if limit is not None and used + want > limit:
                raise VimQuotaExceeded(
                    f"Quota exceeded for {what}: requested {want}, but already used {used} "
                    f"of {limit} {what}",
                    request_id=request_id(),
                )

    @staticmethod
    def _check_target(c: sqlite3.Connection, spec: ServerSpec) -> None:
        rid = request_id()
        if (
            spec.zone
            and not c.execute("SELECT 1 FROM zones WHERE name = ?", (spec.zone,)).fetchone()
        ):
            raise VimBadRequest(f"availability zone {spec.zone} not found", request_id=rid)
        if (
            spec.host
            and not c.execute("SELECT 1 FROM hosts WHERE name = ?", (spec.host,)).fetchone()
        ):
            raise VimBadRequest(f"host {spec.host} not found", request_id=rid)

    @staticmethod
    def _check_ports(c: sqlite3.Connection, ports: list[str]) -> list[str]:
        if len(set(ports)) != len(ports):
            raise VimBadRequest("a port is listed twice", request_id=request_id())
        for pid in ports:
            row = c.execute("SELECT server_id FROM ports WHERE id = ?", (pid,)).fetchone()
            if row is None:
                raise VimBadRequest(f"port {pid} not found", request_id=request_id())
            if row[0] is not None:
                raise VimConflict(
                    f"port {pid} is still in use by server {row[0]}", request_id=request_id()
                )
        return ports

    @staticmethod
    def _place(
        c: sqlite3.Connection,
        v: int,
        r: int,
        d: int,
        zone: str | None,
        host: str | None,
        skip: str | None,
    ) -> tuple[str, str]:
        args = {"zone": zone, "host": host, "skip": skip, "v": v, "r": r, "d": d}
        row = c.execute(_PLACE, args).fetchone()
        if row is not None:
            return row[0], row[1]
        demand = _demand_text(v, r, d)
        if host:
            state = c.execute("SELECT state, zone FROM hosts WHERE name = ?", (host,)).fetchone()
            if state and state[0] != "up":
                msg = f"host {host} is {state[0]}; cannot place {demand}"
            elif state and zone and state[1] != zone:
                msg = f"host {host} is not in zone {zone}"
            else:
                msg = f"host {host} does not have {demand} free"
        elif zone:
            msg = f"no host in zone {zone} has {demand} free"
        elif skip:
            msg = f"no host other than {skip} has {demand} free"
        else:
            msg = f"no host has {demand} free"
        raise VimCapacityExceeded(msg, request_id=request_id())

    @operation("get")
    def get_server(self, server_id: str) -> Server:
        """A server with its current status; VimNotFound if absent."""
        return self._server(server_id)

    @operation("list")
    def list_servers(self, tags: dict[str, str] | None = None) -> list[Server]:
        """Servers, optionally only those carrying all ``tags``."""
        return [s for s in self._servers(None, tags) if tags_match(s.tags, tags)]

    def _server(self, server_id: str) -> Server:
        found = self._servers(server_id)
        if not found:
            raise VimNotFound(f"server {server_id} not found", request_id=request_id())
        return found[0]

    def _servers(self, server_id: str | None, tags: dict[str, str] | None = None) -> list[Server]:
        self._settle()
        where, args = ("WHERE id = ?", (server_id,)) if server_id else ("", ())
        pwhere = "AND p.server_id = ?" if server_id else ""
        tag_sql, tag_args = tags_where(tags)
        if tag_sql and not server_id:  # only the tagged servers, and only their ports
            where, args = f"WHERE {tag_sql}", tag_args
            pwhere = f"AND p.server_id IN (SELECT id FROM servers WHERE {tag_sql})"
        ports: dict[str, list[str]] = {}
        addrs: dict[str, list[str]] = {}
        with self.store.read() as c:
            rows = c.execute(
                f"SELECT {_SERVER_COLS} FROM servers {where} ORDER BY created, rowid", args
            ).fetchall()
            for sid, pid in c.execute(
                "SELECT p.server_id, p.id FROM ports p WHERE p.server_id IS NOT NULL "
                f"{pwhere} ORDER BY p.created, p.rowid",
                args,
            ):
                ports.setdefault(sid, []).append(pid)
            for sid, addr in c.execute(
                "SELECT p.server_id, i.address FROM ips i JOIN ports p ON p.id = i.port_id "
                f"WHERE p.server_id IS NOT NULL {pwhere} ORDER BY p.created, p.rowid, i.rowid",
                args,
            ):
                addrs.setdefault(sid, []).append(addr)
        return [
            Server(
                id=r[0],
                name=r[1],
                status=r[2],
                host=r[3],
                zone=r[4],
                vcpus=r[5],
                ram_mib=r[6],
                disk_gib=r[7],
                image=r[8],
                flavor=r[9],
                ports=ports.get(r[0], []),
                addresses=addrs.get(r[0], []),
                tags=json.loads(r[10]),
                fault=r[11],
                created_at=r[12],
            )
            for r in rows
        ]

    @operation("server_delete")
    def delete_server(self, server_id: str) -> None:
        """Delete (frees its capacity, unbinds its ports); absent is fine."""
        with self.store.write() as c:
            c.execute(
                "UPDATE ports SET server_id = NULL, status = 'DOWN' WHERE server_id = ?",
                (server_id,),
            )
            c.execute("DELETE FROM servers WHERE id = ?", (server_id,))
            c.execute("DELETE FROM keys WHERE resource_id = ?", (server_id,))

    # ------------------------------------------------------------------ actions

    def _transition(self, server_id: str, allowed: dict[str, str], action: str) -> Server:
        """Move a server from one of ``allowed``'s keys to its value, atomically."""
        with self.store.write() as c:
            self._settle_in(c, self.clock())
            row = c.execute(
                "SELECT s.status, h.state, s.host FROM servers s JOIN hosts h ON h.name = s.host "
                "WHERE s.id = ?",
                (server_id,),
            ).fetchone()
            if row is None:
                raise VimNotFound(f"server {server_id} not found", request_id=request_id())
            status, host_state, host = row
            if host_state != "up":
                raise VimConflict(
                    f"Cannot '{action}' server {server_id}: its host {host} is {host_state}",
                    request_id=request_id(),
                )
            if status not in allowed:
                raise VimConflict(
                    f"Cannot '{action}' server {server_id} while it is in vm_state {status}",
                    request_id=request_id(),
                )
            c.execute(
                "UPDATE servers SET status = ?, fault = NULL WHERE id = ?",
                (allowed[status], server_id),
            )
        return self._server(server_id)

    @operation("server_start")
    def start_server(self, server_id: str) -> Server:
        """SHUTOFF -> ACTIVE (ACTIVE stays ACTIVE)."""
        return self._transition(server_id, {"SHUTOFF": "ACTIVE", "ACTIVE": "ACTIVE"}, "start")

    @operation("server_stop")
    def stop_server(self, server_id: str) -> Server:
        """ACTIVE -> SHUTOFF (SHUTOFF stays SHUTOFF)."""
        return self._transition(server_id, {"ACTIVE": "SHUTOFF", "SHUTOFF": "SHUTOFF"}, "stop")

    @operation("server_reboot")
    def reboot_server(self, server_id: str) -> Server:
        """Hard reboot: ACTIVE, SHUTOFF or ERROR (on an up host) -> ACTIVE."""
        allowed = {"ACTIVE": "ACTIVE", "SHUTOFF": "ACTIVE", "ERROR": "ACTIVE"}
        return self._transition(server_id, allowed, "reboot")

    @operation("server_migrate")
    def migrate_server(self, server_id: str, host: str | None = None) -> Server:
        """Move to ``host`` (or the first host with room); evacuates servers of a down host."""
        with self.store.write() as c:
            self._settle_in(c, self.clock())
            row = c.execute(
                "SELECT s.status, s.host, s.vcpus, s.ram_mib, s.disk_gib, h.state, "
                "s.requested_zone "
                "FROM servers s JOIN hosts h ON h.name = s.host WHERE s.id = ?",
                (server_id,),
            ).fetchone()
            if row is None:
                raise VimNotFound(f"server {server_id} not found", request_id=request_id())
            status, current, v, r, d, host_state, requested_zone = row
            evacuate = host_state != "up"
            if status == "BUILD" or (status == "ERROR" and not evacuate):
                raise VimConflict(
                    f"Cannot 'migrate' server {server_id} while it is in vm_state {status}",
                    request_id=request_id(),
                )
            if host == current:
                raise VimBadRequest(
                    f"server {server_id} is already on host {host}", request_id=request_id()
                )
            if host and not c.execute("SELECT 1 FROM hosts WHERE name = ?", (host,)).fetchone():
                raise VimBadRequest(f"host {host} not found", request_id=request_id())
            # the VIM keeps a server in the zone it was booted into; an explicit host wins
            keep_zone = None if host else requested_zone
            target, zone = self._place(c, v, r, d, keep_zone, host, current)
            new_status = "SHUTOFF" if status == "SHUTOFF" else "ACTIVE"
            c.execute(
                "UPDATE servers SET host = ?, zone = ?, status = ?, fault = NULL WHERE id = ?",
                (target, zone, new_status, server_id),
            )
        return self._server(server_id)

    @operation("host_control")
    def set_host_schedulable(self, host: str, schedulable: bool, reason: str = "") -> bool:
        """``disabled`` (no new server; those there keep running) or back ``up``; a host
        that is down stays down."""
        before, after = ("disabled", "up") if schedulable else ("up", "disabled")
        with self.store.write() as c:
            if not c.execute("SELECT 1 FROM hosts WHERE name = ?", (host,)).fetchone():
                raise VimNotFound(f"host {host} not found", request_id=request_id())
            c.execute(
                "UPDATE hosts SET state = ? WHERE name = ? AND state = ?", (after, host, before)
            )
        return True

    # ------------------------------------------------------------------ metrics

    @operation("metrics")
    def server_metrics(self, server_id: str) -> ServerMetrics:
        """CPU from the load pattern (tag ``nfvo.load`` overrides) plus per-second noise."""
        server = self._server(server_id)
        now = self.clock()
        if server.status != "ACTIVE":
            return ServerMetrics(server.id, iso(now), 0.0, 0.0, 0.0, 0.0)
        cpu = cpu_percent(load_for(server.tags, self.behaviour.load), now, server.id)
        ram = server.ram_mib * (0.25 + 0.5 * cpu / 100.0)
        return ServerMetrics(
            server_id=server.id,
            timestamp=iso(now),
            cpu_percent=round(cpu, 3),
            ram_used_mib=round(ram, 1),
            net_rx_bps=round(cpu * 125_000.0, 1),
            net_tx_bps=round(cpu * 100_000.0, 1),
        )
