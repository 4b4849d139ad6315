"""The sim VIM's monitoring source: its metrics as samples, its state changes as faults.

Each poll reads the sim's state in one snapshot (``SimVim.monitoring_snapshot``), hands
every current metric to the sink in one batch, and compares hosts, servers and networks
with the previous poll: a fault event only on a change. The first poll reports the faults
already present (a host already down, a server in ERROR, a network down) once.

A server in ERROR because its host is down is the host's fault, not its own: it raises no
SERVER_CRASHED (the HOST_DOWN event lists it), so one failed host gives one fault per
affected NS rather than one per server; if its host comes back and it stays in ERROR, it is
reported then.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from nfvo.monitoring.model import FaultEvent, FaultKind, Resource, ResourceKind, Sample, Severity
from nfvo.monitoring.sources.base import Source, SourceContext
from nfvo.vim.base import VimError

log = logging.getLogger(__name__)

MAX_LISTED = 1000  # servers named in one HOST_DOWN event
_KINDS = {"server": ResourceKind.SERVER, "port": ResourceKind.PORT, "host": ResourceKind.HOST}


@dataclass(frozen=True)
class _Seen:
    """What the previous poll saw: down hosts, servers (state per id), down networks."""

    hosts_down: frozenset[str]
    servers: dict[str, str]  # id -> ok | crashed | host_down
    networks_down: frozenset[str]


def _server_state(status: str, host_up: bool) -> str:
    if not host_up:
        return "host_down"
    return "crashed" if status == "ERROR" else "ok"


class SimSource(Source):
    """Polls one sim VIM account (default every 0.5 s)."""

    name = "sim"
    default_interval_s = 0.5

    def __init__(self, ctx: SourceContext) -> None:
        super().__init__(ctx)
        self._seen: _Seen | None = None
        self._error: str | None = None  # the last poll's error text (None: it answered)
        self._crashed: set[str] = set()  # servers whose SERVER_CRASHED is not yet cleared
        self._resources: dict[tuple[str, str], Resource] = {}  # reused from poll to poll

    def poll_once(self) -> None:
        """One round: a snapshot, its samples, and the fault events of what changed."""
        try:
            snap = self.ctx.driver.monitoring_snapshot()  # type: ignore[attr-defined]
        except VimError as exc:
            self._unreachable(str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - a source never raises out of its thread
            log.exception("sim monitoring poll of VIM %s failed", self.ctx.vim_id)
            self._unreachable(f"{type(exc).__name__}: {exc}")
            return
        if self._error is not None:
            self._error = None
            log.info("sim VIM %s answers again", self.ctx.vim_id)
            self._emit(FaultKind.VIM_REACHABLE, self._vim(), Severity.CLEARED, snap.taken_at, {})
        try:
            self._hand(snap)
        except Exception:  # noqa: BLE001 - a sink's trouble must not end the source
            log.exception("sim monitoring of VIM %s: the sink refused a poll", self.ctx.vim_id)

    # ------------------------------------------------------------------ internals

    def _vim(self) -> Resource:
        return Resource(ResourceKind.VIM, self.ctx.vim_id)

    def _res(self, kind: ResourceKind, rid: str) -> Resource:
        return Resource(kind, rid, self.ctx.vim_id)

    def _unreachable(self, text: str) -> None:
        if self._error is None:
            log.warning("sim VIM %s cannot be monitored: %s", self.ctx.vim_id, text)
            self._emit(
                FaultKind.VIM_UNREACHABLE,
                self._vim(),
                Severity.MAJOR,
                time.time(),
                {"error": text[:1024]},
            )
        elif text != self._error:
            log.warning("sim VIM %s still cannot be monitored: %s", self.ctx.vim_id, text)
        self._error = text

    def _emit(
        self,
        kind: FaultKind,
        res: Resource,
        severity: Severity,
        at: float,
        raw: dict[str, Any],
        cause: str = "",
    ) -> None:
        self.ctx.sink.fault(
            FaultEvent(res, kind, severity, at, "sim", raw=raw, probable_cause=cause)
        )

    def _hand(self, snap: Any) -> None:
        vim_id, known = self.ctx.vim_id, self._resources
        fresh: dict[tuple[str, str], Resource] = {}
        batch = []
        for kind, rid, metric, value in snap.samples:
            key = (kind, rid)
            res = fresh.get(key) or known.get(key) or Resource(_KINDS[kind], rid, vim_id)
            fresh[key] = res
            batch.append(Sample(res, metric, value, snap.taken_at))
        self._resources = fresh  # only what measured this poll: bounded by the VIM
        if batch:
            self.ctx.sink.samples(batch)
        seen = self._observe(snap)
        self._compare(self._seen, seen, snap)
        self._seen = seen

    @staticmethod
    def _observe(snap: Any) -> _Seen:
        # a host disabled for an availability window works: it only takes no new server
        up = {h.name: h.state in ("up", "disabled") for h in snap.hosts}
        return _Seen(
            hosts_down=frozenset(h for h, ok in up.items() if not ok),
            servers={s.id: _server_state(s.status, up.get(s.host, True)) for s in snap.servers},
            networks_down=frozenset(n.id for n in snap.networks if n.status != "ACTIVE"),
        )

    def _compare(self, before: _Seen | None, now: _Seen, snap: Any) -> None:
        old = before or _Seen(frozenset(), {}, frozenset())
        at = snap.taken_at
        on_host: dict[str, list[str]] = {}
        for s in snap.servers:
            on_host.setdefault(s.host, []).append(s.id)
        for host in sorted(now.hosts_down - old.hosts_down):
            raw = {"host": host, "servers": on_host.get(host, [])[:MAX_LISTED]}
            res = self._res(ResourceKind.HOST, host)
            self._emit(FaultKind.HOST_DOWN, res, Severity.CRITICAL, at, raw, "host failure")
        for host in sorted(old.hosts_down - now.hosts_down):
            res = self._res(ResourceKind.HOST, host)
            self._emit(FaultKind.HOST_UP, res, Severity.CLEARED, at, {"host": host})
        self._servers(before is None, old, now, snap)
        for nid in sorted(now.networks_down - old.networks_down):
            res = self._res(ResourceKind.NETWORK, nid)
            raw = {"network": nid}
            self._emit(FaultKind.NETWORK_DOWN, res, Severity.MAJOR, at, raw, "network down")
        for nid in sorted(old.networks_down - now.networks_down):
            res = self._res(ResourceKind.NETWORK, nid)
            self._emit(FaultKind.NETWORK_UP, res, Severity.CLEARED, at, {"network": nid})

    def _servers(self, first: bool, old: _Seen, now: _Seen, snap: Any) -> None:
        """SERVER_CRASHED once per crash (not for a server whose host is down), RECOVERED
        when it runs again, GONE when it vanished (never on the first poll)."""
        at = snap.taken_at
        for s in snap.servers:
            state = now.servers[s.id]
            res = self._res(ResourceKind.SERVER, s.id)
            raw = {"server": s.id, "status": s.status, "host": s.host}
            if state == "crashed" and s.id not in self._crashed:
                self._crashed.add(s.id)
                self._emit(FaultKind.SERVER_CRASHED, res, Severity.CRITICAL, at, raw, "crashed")
            elif state == "ok" and s.id in self._crashed:
                self._crashed.discard(s.id)
                self._emit(FaultKind.SERVER_RECOVERED, res, Severity.CLEARED, at, raw)
        if first:
            return
        for sid in sorted(set(old.servers) - set(now.servers)):
            self._crashed.discard(sid)
            res = self._res(ResourceKind.SERVER, sid)
            self._emit(FaultKind.SERVER_GONE, res, Severity.MAJOR, at, {"server": sid}, "deleted")
