"""The sim VIM's state and metrics in one read, for its monitoring source.

One snapshot holds every host, server, port and network with its state, and the current
value of every metric: a poll is one read transaction, never a round trip per server.
Only running things measure: a server not ACTIVE, or on a host that is down, has no
samples (no data, not zero), nor have its ports; a down host has none; a port on a down
network has none.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from nfvo.vim.base import TAG_VNF
from nfvo.vim.sim.behaviour import dumps
from nfvo.vim.sim.core import SimCore, operation
from nfvo.vim.sim.curves import (
    PORT_METRICS,
    SERVER_METRICS,
    Curve,
    compile_curve,
    curve_of_text,
    derived,
    port_rates,
)

LOAD_TAG = "nfvo.load"


@dataclass(frozen=True)
class HostState:
    """A host and whether it is up."""

    name: str
    zone: str
    state: str  # up | down


@dataclass(frozen=True)
class ServerState:
    """A server's status, host, ports and VNF instance (from its tag)."""

    id: str
    name: str
    status: str
    host: str
    ports: tuple[str, ...]
    vnf_id: str | None


@dataclass(frozen=True)
class NetworkState:
    """A network and its status (ACTIVE, or DOWN while a fault holds it)."""

    id: str
    name: str
    status: str


@dataclass(frozen=True)
class SimSnapshot:
    """Everything a monitoring poll needs, read at ``taken_at`` (the driver's clock).

    ``samples`` are ``(kind, id, metric, value)`` with kind ``server``, ``port`` or
    ``host`` and the canonical metric names."""

    taken_at: float
    hosts: list[HostState]
    servers: list[ServerState]
    networks: list[NetworkState]
    samples: list[tuple[str, str, str, float]] = field(default_factory=list)


@dataclass
class _Loads:
    """The curves set through the API, by (target kind, target id, metric)."""

    curves: dict[tuple[str, str, str], tuple[Curve, float]]

    def find(self, sid: str, vnf: str | None, host: str, metric: str) -> tuple[Curve, float] | None:
        if not self.curves:
            return None
        for key in (("server", sid), ("vnf", vnf or ""), ("host", host)):
            found = self.curves.get((*key, metric))
            if found is not None:
                return found
        return None


class MonitorOps(SimCore):
    """The monitoring read of the sim VIM driver."""

    @operation("metrics")
    def monitoring_snapshot(self) -> SimSnapshot:
        """Hosts, servers (status, host, ports), networks and current metrics, in one read."""
        self._settle()
        now = self.clock()
        with self.store.read() as c:
            hosts = c.execute(
                "SELECT name, zone, state, vcpus, ram_mib, disk_gib FROM hosts ORDER BY name"
            ).fetchall()
            servers = c.execute(
                "SELECT id, name, status, host, vcpus, ram_mib, disk_gib, "
                f"json_extract(tags, '$.\"{TAG_VNF}\"'), json_extract(tags, '$.\"{LOAD_TAG}\"'), "
                "created FROM servers ORDER BY created, rowid"
            ).fetchall()
            ports = c.execute(
                "SELECT id, server_id, network_id FROM ports WHERE server_id IS NOT NULL "
                "ORDER BY created, rowid"
            ).fetchall()
            networks = c.execute("SELECT id, name, status FROM networks ORDER BY created, rowid")
            networks = networks.fetchall()
            load_rows = c.execute("SELECT target_kind, target_id, metric, curve, set_at FROM loads")
            load_rows = load_rows.fetchall()
        loads = _Loads({})
        for kind, tid, metric, text, set_at in load_rows:
            curve = curve_of_text(text)
            if curve is not None:
                loads.curves[(kind, tid, metric)] = (curve, set_at)
        down_nets = {n[0] for n in networks if n[2] != "ACTIVE"}
        host_up = {h[0]: h[2] == "up" for h in hosts}
        by_server: dict[str, list[tuple[str, str]]] = {}
        for pid, sid, nid in ports:
            by_server.setdefault(sid, []).append((pid, nid))
        default = compile_curve(self.behaviour.load)
        samples: list[tuple[str, str, str, float]] = []
        used: dict[str, list[float]] = {h[0]: [0.0, 0.0, 0.0] for h in hosts}
        states: list[ServerState] = []
        for sid, name, status, host, vcpus, ram, disk, vnf, tagged, created in servers:
            mine = by_server.get(sid, [])
            states.append(ServerState(sid, name, status, host, tuple(p for p, _ in mine), vnf))
            if status != "ACTIVE" or not host_up.get(host, False):
                continue
            values = self._server_values(loads, default, tagged, sid, vnf, host, now, created)
            for metric, value in zip(SERVER_METRICS, values, strict=True):
                samples.append(("server", sid, metric, value))
            acc = used[host]
            acc[0] += values[0] * vcpus
            acc[1] += values[1] * ram
            acc[2] += values[2] * disk
            rates = port_rates(values[0])
            for pid, nid in mine:
                if nid in down_nets:
                    continue
                for metric, rate in zip(PORT_METRICS, rates, strict=True):
                    samples.append(("port", pid, metric, rate))
        for name, _zone, state, vcpus, ram, disk in hosts:
            if state != "up":
                continue
            acc = used[name]
            for metric, total, cap in zip(SERVER_METRICS, acc, (vcpus, ram, disk), strict=True):
                samples.append(("host", name, metric, min(100.0, total / max(cap, 1))))
        return SimSnapshot(
            taken_at=now,
            hosts=[HostState(h[0], h[1], h[2]) for h in hosts],
            servers=states,
            networks=[NetworkState(*n) for n in networks],
            samples=samples,
        )

    @staticmethod
    def _server_values(
        loads: _Loads,
        default: Curve,
        tagged: str | None,
        sid: str,
        vnf: str | None,
        host: str,
        now: float,
        created: float,
    ) -> tuple[float, float, float]:
        """(cpu, memory, disk) % of one running server: an API curve of the server, its VNF
        or its host; else (CPU) its ``nfvo.load`` tag (``tagged``) or the VIM default, and
        (memory, disk) a share following CPU."""
        found = loads.find(sid, vnf, host, "cpu_utilization")
        if found is not None:
            cpu = found[0].at(now, found[1], sid)
        else:
            curve = _tagged(tagged, default) if tagged else default
            cpu = curve.at(now, created, sid)
        out = [cpu]
        for metric in SERVER_METRICS[1:]:
            found = loads.find(sid, vnf, host, metric)
            out.append(found[0].at(now, found[1], sid) if found else derived(metric, cpu))
        return out[0], out[1], out[2]


def _tagged(text: str, default: Curve) -> Curve:
    """A server's ``nfvo.load`` tag over the VIM default (the default when unreadable)."""
    try:
        override = json.loads(text)
    except ValueError:
        return default
    if not isinstance(override, dict):
        return default
    merged = {**default.load.model_dump(exclude_unset=True), **override}
    return curve_of_text(dumps(merged)) or default
