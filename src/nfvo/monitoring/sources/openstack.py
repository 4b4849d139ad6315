"""The OpenStack monitoring source: compute host state and server usage, polled.

Each round (every ``interval_s``, default 30 s) it reads, through the driver's connection:

* the project's servers (this call decides whether the VIM is reachable);
* the nova-compute services (``state`` up/down, ``status`` enabled/disabled, ``forced_down``)
  and the hypervisors (``state``): a host is up when its service is up, enabled and not
  forced down and its hypervisor (if listed) is up. ``HOST_DOWN`` / ``HOST_UP`` are reported
  on a change only (a host first seen down is reported down; first seen up, nothing);
* the diagnostics of every ACTIVE server (at most ``max_servers`` per round): CPU
  utilisation from the cumulative CPU time between two rounds, memory utilisation from
  used / maximum.

A read the cloud refuses to this account (403) or does not implement (404 / 501) is logged
once at info and not asked again until the source restarts. Nova's notifications over AMQP
(``nfvo.monitoring.amqp``) give the faults of single servers; this source does not poll for
them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from nfvo.monitoring.model import Resource, ResourceKind, Sample
from nfvo.monitoring.sources.base import Source, SourceContext, host_event, vim_event
from nfvo.vim.base import Server
from nfvo.vim.os.monitoring import (
    ComputeReader,
    ComputeService,
    Diagnostics,
    Hypervisor,
    NotExposed,
)

log = logging.getLogger(__name__)

SOURCE = "openstack"
MAX_SERVERS = 500  # diagnostics calls per round, at most (option max_servers, up to 5,000)
MAX_SERVERS_LIMIT = 5000
MIN_INTERVAL_S = 1.0
MAX_INTERVAL_S = 3600.0


class OpenStackReads(Protocol):
    """What the source reads (``ComputeReader`` plus the driver's server list)."""

    def servers(self) -> list[Server]: ...
    def compute_services(self) -> list[ComputeService]: ...
    def hypervisors(self) -> list[Hypervisor]: ...
    def server_diagnostics(self, server_id: str) -> Diagnostics: ...


class DriverReads:
    """``OpenStackReads`` over an ``OpenStackVim`` driver."""

    def __init__(self, driver: Any) -> None:
        self.driver = driver
        self.compute = ComputeReader(driver.client)

    def servers(self) -> list[Server]:
        return list(self.driver.list_servers())

    def compute_services(self) -> list[ComputeService]:
        return self.compute.compute_services()

    def hypervisors(self) -> list[Hypervisor]:
        return self.compute.hypervisors()

    def server_diagnostics(self, server_id: str) -> Diagnostics:
        return self.compute.server_diagnostics(server_id)


def _bounded(options: dict[str, Any], key: str, default: float, low: float, high: float) -> float:
    value = options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"monitoring.{key} must be a number")
    if not low <= float(value) <= high:
        raise ValueError(f"monitoring.{key} must be between {low:g} and {high:g}")
    return float(value)


def cpu_percent(
    previous: tuple[float, float] | None, now: tuple[float, float], vcpus: int
) -> float | None:
    """CPU utilisation (0-100 % of all the server's vCPUs) between two (wall s, cpu ns)
    readings; None without a previous reading or when the counter went back (a reboot)."""
    if previous is None:
        return None
    wall = now[0] - previous[0]
    used_s = (now[1] - previous[1]) / 1e9
    if wall <= 0 or used_s < 0:
        return None
    return max(0.0, min(100.0, used_s / (wall * max(vcpus, 1)) * 100.0))


class OpenStackSource(Source):
    """One OpenStack account's polled monitoring: host state changes and server usage."""

    name = "openstack"
    default_interval_s = 30.0

    def __init__(
        self,
        ctx: SourceContext,
        reads: OpenStackReads | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(ctx)
        opts = ctx.options
        self.interval_s = _bounded(
            opts, "interval_s", self.default_interval_s, MIN_INTERVAL_S, MAX_INTERVAL_S
        )
        self.max_servers = int(_bounded(opts, "max_servers", MAX_SERVERS, 1, MAX_SERVERS_LIMIT))
        self.reads: OpenStackReads = reads if reads is not None else DriverReads(ctx.driver)
        self.clock = clock
        self.hosts: dict[str, bool] = {}  # host -> up, as last reported
        self.unreachable = False
        self.not_exposed: set[str] = set()  # "services", "hypervisors", "diagnostics"
        self._cpu: dict[str, tuple[float, float]] = {}  # server -> (wall s, cpu ns)
        self._last_error: str | None = None

    # ------------------------------------------------------------------ one round

    def poll_once(self) -> None:
        """Read the cloud once; hand changes and samples to the sink. Never raises."""
        try:
            self._round()
        except Exception:  # noqa: BLE001 - a bug must not kill the source's thread
            log.exception("VIM %s: OpenStack monitoring round failed", self.ctx.vim_id)

    def _round(self) -> None:
        try:
            servers = self.reads.servers()
        except Exception as exc:  # noqa: BLE001 - any failure to answer is "unreachable"
            self._set_unreachable(str(exc) or type(exc).__name__)
            return
        self._set_reachable()
        self._hosts()
        self._usage(servers)

    def _set_unreachable(self, error: str) -> None:
        if error != self._last_error:
            log.warning("VIM %s unreachable: %s", self.ctx.vim_id, error)
            self._last_error = error
        if not self.unreachable:
            self.unreachable = True
            self.ctx.sink.fault(vim_event(self.ctx.vim_id, False, self.clock(), SOURCE, error))

    def _set_reachable(self) -> None:
        self._last_error = None
        if self.unreachable:
            self.unreachable = False
            log.info("VIM %s answers again", self.ctx.vim_id)
            self.ctx.sink.fault(vim_event(self.ctx.vim_id, True, self.clock(), SOURCE))

    def _optional(self, what: str, fn: Callable[[], Any]) -> Any:
        """``fn()``, or None when the cloud does not expose ``what`` (then never again) or
        the read failed this round (logged once per change of its error)."""
        if what in self.not_exposed:
            return None
        try:
            return fn()
        except NotExposed as exc:
            self.not_exposed.add(what)
            log.info("VIM %s does not expose %s (%s); not asking again", self.ctx.vim_id,
                     what, exc.message)  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - logged, retried next round
            text = f"{what}: {exc}"
            if text != self._last_error:
                log.warning("VIM %s: reading %s", self.ctx.vim_id, text)
                self._last_error = text
        return None

    # ------------------------------------------------------------------ hosts

    def _hosts(self) -> None:
        services = self._optional("services", self.reads.compute_services)
        hypervisors = self._optional("hypervisors", self.reads.hypervisors)
        if services is None and hypervisors is None:
            return
        state = host_states(services or [], hypervisors or [])
        for host, (up, why, raw) in sorted(state.items()):
            before = self.hosts.get(host)
            self.hosts[host] = up
            if before == up or (before is None and up):
                continue
            event = host_event(self.ctx.vim_id, host, up, self.clock(), SOURCE, raw, why)
            log.info("VIM %s: host %s is %s", self.ctx.vim_id, host, "up" if up else "down")
            self.ctx.sink.fault(event)

    # ------------------------------------------------------------------ servers

    def _usage(self, servers: list[Server]) -> None:
        active = [s for s in servers if s.status == "ACTIVE"][: self.max_servers]
        live = {s.id for s in active}
        for gone in set(self._cpu) - live:
            del self._cpu[gone]
        batch: list[Sample] = []
        for server in active:
            if "diagnostics" in self.not_exposed:
                break
            diag = self._diagnostics(server.id)
            if diag is not None:
                batch.extend(self._samples(server, diag))
        if batch:
            self.ctx.sink.samples(batch)

    def _diagnostics(self, server_id: str) -> Diagnostics | None:
        try:
            return self.reads.server_diagnostics(server_id)
        except NotExposed as exc:
            if exc.status == 404 and self._server_vanished(server_id):
                return None  # deleted since the list: the notifications report that
            self.not_exposed.add("diagnostics")
            log.info("VIM %s does not expose server diagnostics (%s); not asking again",
                     self.ctx.vim_id, exc.message)  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - one server's failure skips that server
            log.debug("VIM %s: diagnostics of %s: %s", self.ctx.vim_id, server_id, exc)
        return None

    def _server_vanished(self, server_id: str) -> bool:
        try:
            still = {s.id for s in self.reads.servers()}
        except Exception:  # noqa: BLE001 - cannot tell: do not give diagnostics up
            return True
        return server_id not in still

    def _samples(self, server: Server, diag: Diagnostics) -> list[Sample]:
        now = self.clock()
        resource = Resource(ResourceKind.SERVER, server.id, self.ctx.vim_id)
        out: list[Sample] = []
        cpu: float | None = None
        if diag.cpu_time_ns is not None:
            reading = (now, diag.cpu_time_ns)
            cpu = cpu_percent(self._cpu.get(server.id), reading, diag.num_cpus or server.vcpus)
            self._cpu[server.id] = reading
        elif diag.cpu_utilisation is not None:
            cpu = max(0.0, min(100.0, diag.cpu_utilisation))
        if cpu is not None:
            out.append(Sample(resource, "cpu_utilization", cpu, now))
        total = diag.memory_max_mib or float(server.ram_mib or 0)
        if diag.memory_used_mib is not None and total > 0:
            memory = max(0.0, min(100.0, diag.memory_used_mib / total * 100.0))
            out.append(Sample(resource, "memory_utilization", memory, now))
        return out


def host_states(
    services: list[ComputeService], hypervisors: list[Hypervisor]
) -> dict[str, tuple[bool, str, dict[str, Any]]]:
    """host -> (up, why down, raw) from the services and hypervisors read together."""
    out: dict[str, tuple[bool, str, dict[str, Any]]] = {}
    for s in services:
        raw = {
            "service": {
                "state": s.state,
                "status": s.status,
                "forced_down": s.forced_down,
                "disabled_reason": s.disabled_reason,
                "zone": s.zone,
            }
        }
        out[s.host] = (s.up, s.why_down, raw)
    for h in hypervisors:
        up, why, raw = out.get(h.host, (True, "", {}))
        raw = {**raw, "hypervisor": {"name": h.name, "state": h.state, "status": h.status}}
        if h.state != "up" and up:
            up, why = False, f"hypervisor {h.name} state {h.state}"
        out[h.host] = (up, why, raw)
    return out
