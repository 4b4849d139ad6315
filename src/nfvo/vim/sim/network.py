"""Networks, subnets and ports of the sim VIM, with IP allocation from the subnet CIDR."""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import sqlite3
import uuid
from typing import Any

from nfvo.vim.base import (
    TAG_KEY,
    Network,
    NetworkSpec,
    Port,
    PortSpec,
    SecurityRule,
    Subnet,
    SubnetSpec,
    VimBadRequest,
    VimConflict,
    VimNotFound,
    VimQuotaExceeded,
)
from nfvo.vim.sim.behaviour import dumps, mac_for, request_id, tags_match, tags_where
from nfvo.vim.sim.core import SimCore, operation

_NET_COLS = "id, name, status, external, tags"
_PORT_COLS = "id, name, network_id, status, server_id, mac, rules, tags"
_SUBNET_COLS = "id, name, network_id, cidr, ip_version, gateway_ip, dhcp, tags"


def _quota(c: sqlite3.Connection, limit: int | None, what: str, sql: str) -> None:
    if limit is None:
        return
    used = c.execute(sql).fetchone()[0]
    if used + 1 > limit:
        raise VimQuotaExceeded(
            f"Quota exceeded for resources: ['{what}']: limit {limit}, in use {used}",
            request_id=request_id(),
        )


class NetworkOps(SimCore):
    """The networking half of the sim VIM driver."""

    # ------------------------------------------------------------------ networks

    @operation("network_create")
    def create_network(self, spec: NetworkSpec) -> Network:
        """Create (or return the existing network with the same key)."""
        quota = self.cfg.top.quota

        def insert(c: sqlite3.Connection) -> str:
            limit = quota.networks if quota else None
            _quota(c, limit, "network", "SELECT COUNT(*) FROM networks WHERE provider = 0")
            nid = str(uuid.uuid4())
            c.execute(
                "INSERT INTO networks VALUES (?, ?, 'ACTIVE', ?, ?, 0, ?, ?)",
                (
                    nid,
                    spec.name,
                    int(spec.external),
                    spec.mtu,
                    dumps({**spec.tags, TAG_KEY: spec.key}),
                    self.clock(),
                ),
            )
            return nid

        nid = self._create("network", spec.key, insert)
        return self._networks(nid)[0]

    @operation("get")
    def get_network(self, network_id: str) -> Network:
        """A network; VimNotFound if absent."""
        found = self._networks(network_id)
        if not found:
            raise VimNotFound(f"network {network_id} not found", request_id=request_id())
        return found[0]

    @operation("list")
    def list_networks(self, tags: dict[str, str] | None = None) -> list[Network]:
        """Networks, optionally only those carrying all ``tags``."""
        return [n for n in self._networks(None, tags) if tags_match(n.tags, tags)]

    @operation("network_delete")
    def delete_network(self, network_id: str) -> None:
        """Delete with its subnets; absent is fine; VimConflict while ports use it."""
        with self.store.write() as c:
            row = c.execute("SELECT provider FROM networks WHERE id = ?", (network_id,)).fetchone()
            if row is None:
                return
            if row[0]:
                raise VimConflict(
                    f"network {network_id} is a provider network and cannot be deleted",
                    request_id=request_id(),
                )
            ports = c.execute(
                "SELECT COUNT(*) FROM ports WHERE network_id = ?", (network_id,)
            ).fetchone()[0]
            if ports:
                raise VimConflict(
                    f"Unable to complete operation on network {network_id}. There are "
                    f"{ports} port(s) still in use on the network.",
                    request_id=request_id(),
                )
            subnets = [
                r[0]
                for r in c.execute("SELECT id FROM subnets WHERE network_id = ?", (network_id,))
            ]
            for sid in subnets:
                c.execute("DELETE FROM keys WHERE resource_id = ?", (sid,))
            c.execute("DELETE FROM subnets WHERE network_id = ?", (network_id,))
            c.execute("DELETE FROM networks WHERE id = ?", (network_id,))
            c.execute("DELETE FROM keys WHERE resource_id = ?", (network_id,))

    def _networks(
        self, network_id: str | None, tags: dict[str, str] | None = None
    ) -> list[Network]:
        where, args = ("WHERE id = ?", (network_id,)) if network_id else ("", ())
        sub_where = "WHERE network_id = ?" if network_id else ""
        tag_sql, tag_args = tags_where(tags)
        if tag_sql and not network_id:  # only the tagged networks, and only their subnets
            where, args = f"WHERE {tag_sql}", tag_args
            sub_where = f"WHERE network_id IN (SELECT id FROM networks WHERE {tag_sql})"
        with self.store.read() as c:
            rows = c.execute(
                f"SELECT {_NET_COLS} FROM networks {where} ORDER BY created, rowid", args
            ).fetchall()
            subnets: dict[str, list[str]] = {}
            for nid, sid in c.execute(
                f"SELECT network_id, id FROM subnets {sub_where} ORDER BY created, rowid", args
            ):
                subnets.setdefault(nid, []).append(sid)
        return [
            Network(
                id=r[0],
                name=r[1],
                status=r[2],
                external=bool(r[3]),
                tags=json.loads(r[4]),
                subnets=subnets.get(r[0], []),
            )
            for r in rows
        ]

    # ------------------------------------------------------------------ subnets

    @operation("subnet_create")
    def create_subnet(self, spec: SubnetSpec) -> Subnet:
        """Create (or return the existing subnet with the same key)."""

        def insert(c: sqlite3.Connection) -> str:
            net, gateway = self._check_subnet(c, spec)
            sid = str(uuid.uuid4())
            c.execute(
                "INSERT INTO subnets VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    sid,
                    spec.name,
                    spec.network_id,
                    str(net),
                    net.version,
                    gateway,
                    int(spec.dhcp),
                    dumps({**spec.tags, TAG_KEY: spec.key}),
                    self.clock(),
                ),
            )
            return sid

        sid = self._create("subnet", spec.key, insert)
        row = (
            self.store.conn()
            .execute(f"SELECT {_SUBNET_COLS} FROM subnets WHERE id = ?", (sid,))
            .fetchone()
        )
        return Subnet(
            id=row[0],
            name=row[1],
            network_id=row[2],
            cidr=row[3],
            ip_version=row[4],
            gateway_ip=row[5],
            dhcp=bool(row[6]),
            tags=json.loads(row[7]),
        )

    @staticmethod
    def _check_subnet(
        c: sqlite3.Connection, spec: SubnetSpec
    ) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str | None]:
        rid = request_id()
        if not c.execute("SELECT 1 FROM networks WHERE id = ?", (spec.network_id,)).fetchone():
            raise VimBadRequest(f"network {spec.network_id} not found", request_id=rid)
        try:
            net = ipaddress.ip_network(spec.cidr, strict=True)
        except ValueError as exc:
            raise VimBadRequest(f"invalid CIDR {spec.cidr!r}: {exc}", request_id=rid) from None
        if net.version != spec.ip_version:
            raise VimBadRequest(
                f"CIDR {spec.cidr} is not an IPv{spec.ip_version} network", request_id=rid
            )
        gateway = spec.gateway_ip
        if gateway is None:
            gateway = str(next(net.hosts(), net.network_address))
        else:
            try:
                inside = ipaddress.ip_address(gateway) in net
            except ValueError:
                inside = False
            if not inside:
                raise VimBadRequest(f"gateway {gateway} is not in {net}", request_id=rid)
        for (other,) in c.execute(
            "SELECT cidr FROM subnets WHERE network_id = ?", (spec.network_id,)
        ):
            if ipaddress.ip_network(other).overlaps(net):
                raise VimBadRequest(
                    f"CIDR {net} overlaps subnet {other} of network {spec.network_id}",
                    request_id=rid,
                )
        return net, gateway

    @operation("subnet_delete")
    def delete_subnet(self, subnet_id: str) -> None:
        """Delete; absent is fine; VimConflict while a port holds an address in it."""
        with self.store.write() as c:
            used = c.execute("SELECT COUNT(*) FROM ips WHERE subnet_id = ?", (subnet_id,))
            if used.fetchone()[0]:
                raise VimConflict(
                    f"Unable to complete operation on subnet {subnet_id}: one or more ports "
                    "have an IP allocation from this subnet.",
                    request_id=request_id(),
                )
            c.execute("DELETE FROM subnets WHERE id = ?", (subnet_id,))
            c.execute("DELETE FROM keys WHERE resource_id = ?", (subnet_id,))

    # ------------------------------------------------------------------ ports

    @operation("port_create")
    def create_port(self, spec: PortSpec) -> Port:
        """Create (or return the existing port with the same key); allocates an address."""
        quota = self.cfg.top.quota

        def insert(c: sqlite3.Connection) -> str:
            if not c.execute("SELECT 1 FROM networks WHERE id = ?", (spec.network_id,)).fetchone():
                raise VimBadRequest(f"network {spec.network_id} not found", request_id=request_id())
            _quota(c, quota.ports if quota else None, "port", "SELECT COUNT(*) FROM ports")
            pid = str(uuid.uuid4())
            addresses = self._allocate_ip(c, spec.network_id, spec.fixed_ip)
            rules = [dataclasses.asdict(r) for r in spec.security_rules]
            c.execute(
                "INSERT INTO ports VALUES (?, ?, ?, 'DOWN', NULL, ?, ?, ?, ?)",
                (
                    pid,
                    spec.name,
                    spec.network_id,
                    mac_for(pid),
                    dumps(rules),
                    dumps({**spec.tags, TAG_KEY: spec.key}),
                    self.clock(),
                ),
            )
            c.executemany("INSERT INTO ips VALUES (?, ?, ?)", [(s, a, pid) for s, a in addresses])
            return pid

        pid = self._create("port", spec.key, insert)
        return self._ports(pid)[0]

    @staticmethod
    def _allocate_ip(
        c: sqlite3.Connection, network_id: str, fixed_ip: str | None
    ) -> list[tuple[str, str]]:
        subnets = c.execute(
            "SELECT id, cidr, gateway_ip FROM subnets WHERE network_id = ? ORDER BY created, rowid",
            (network_id,),
        ).fetchall()
        rid = request_id()
        if fixed_ip:
            try:
                ip = ipaddress.ip_address(fixed_ip)
            except ValueError:
                raise VimBadRequest(f"invalid IP address {fixed_ip!r}", request_id=rid) from None
            for sid, cidr, _gw in subnets:
                if ip in ipaddress.ip_network(cidr):
                    taken = c.execute(
                        "SELECT 1 FROM ips WHERE subnet_id = ? AND address = ?", (sid, str(ip))
                    ).fetchone()
                    if taken:
                        raise VimConflict(
                            f"IP address {ip} already allocated in subnet {sid}", request_id=rid
                        )
                    return [(sid, str(ip))]
            raise VimBadRequest(
                f"IP address {ip} is not in any subnet of network {network_id}", request_id=rid
            )
        if not subnets:
            return []
        sid, cidr, gateway = subnets[0]
        used = {r[0] for r in c.execute("SELECT address FROM ips WHERE subnet_id = ?", (sid,))}
        for candidate in ipaddress.ip_network(cidr).hosts():
            text = str(candidate)
            if text != gateway and text not in used:
                return [(sid, text)]
        raise VimConflict(
            f"No more IP addresses available on subnet {sid} ({cidr}) of network {network_id}: "
            f"all {len(used)} port addresses and the gateway are in use",
            request_id=rid,
        )

    @operation("get")
    def get_port(self, port_id: str) -> Port:
        """A port; VimNotFound if absent."""
        found = self._ports(port_id)
        if not found:
            raise VimNotFound(f"port {port_id} not found", request_id=request_id())
        return found[0]

    @operation("list")
    def list_ports(self, tags: dict[str, str] | None = None) -> list[Port]:
        """Ports, optionally only those carrying all ``tags``."""
        return [p for p in self._ports(None, tags) if tags_match(p.tags, tags)]

    @operation("port_delete")
    def delete_port(self, port_id: str) -> None:
        """Delete (detaching it from its server, releasing its addresses); absent is fine."""
        with self.store.write() as c:
            c.execute("DELETE FROM ips WHERE port_id = ?", (port_id,))
            c.execute("DELETE FROM ports WHERE id = ?", (port_id,))
            c.execute("DELETE FROM keys WHERE resource_id = ?", (port_id,))

    def _ports(self, port_id: str | None, tags: dict[str, str] | None = None) -> list[Port]:
        where, args = ("WHERE id = ?", (port_id,)) if port_id else ("", ())
        ip_where = "WHERE port_id = ?" if port_id else ""
        tag_sql, tag_args = tags_where(tags)
        if tag_sql and not port_id:  # only the tagged ports, and only their addresses
            where, args = f"WHERE {tag_sql}", tag_args
            ip_where = f"WHERE port_id IN (SELECT id FROM ports WHERE {tag_sql})"
        with self.store.read() as c:
            rows = c.execute(
                f"SELECT {_PORT_COLS} FROM ports {where} ORDER BY created, rowid", args
            ).fetchall()
            ips: dict[str, list[str]] = {}
            for pid, addr in c.execute(
                f"SELECT port_id, address FROM ips {ip_where} ORDER BY rowid", args
            ):
                ips.setdefault(pid, []).append(addr)
        return [_port(r, ips.get(r[0], [])) for r in rows]


def _port(r: tuple[Any, ...], ips: list[str]) -> Port:
    return Port(
        id=r[0],
        name=r[1],
        network_id=r[2],
        status=r[3],
        server_id=r[4],
        mac_address=r[5],
        ip_addresses=ips,
        security_rules=[SecurityRule(**x) for x in json.loads(r[6])],
        tags=json.loads(r[7]),
    )
