"""Auto-heal: the VNFCs a root fault takes down are recreated through LCM, one HEAL per NS.

Root-cause analysis hands over :class:`~nfvo.policy.model.RootCause` values
(``rca.on_root_cause(healer.on_root)``); symptoms never reach here, so N alarms of one failure
are one heal. A raised root adds the VNFCs it takes down to a batch per NS; the batch fires
``quiet_s`` (default 1 s) after the latest root added to it, and at the latest ``batch_s``
seconds (default 5) after its first root, so the roots of one failure arriving over a few
seconds (a host, then its servers) become one operation, and a single root heals in ~1 s.
When a batch fires, one HEAL op occurrence is started for the NS through
:meth:`LcmService.start` with ``automatic=True`` (``isAutomaticInvocation: true``),
covering every affected VNF and recreating exactly the VNFCs that are down
(``healVnfData[].additionalParams``: ``healType: RECREATE`` and ``vnfcInstanceIds``);
placement puts them on valid hosts.

Guards, each recorded in the decision log (:mod:`nfvo.policy.decisions`, kind AUTO_HEAL):

* a cleared root takes its VNFCs out of pending batches (CLEARED): nothing heals after it;
* VNFCs that no longer run as the failed server (healed, scaled in, terminated) are left
  out (CLEARED), and VNFCs an auto-heal op of the NS is already recreating too (IN_FLIGHT);
* the NS has an open operation (IN_FLIGHT): the batch waits for that operation to finish,
  then is evaluated again (its roots still raised, its VNFCs still down), at most
  ``retries`` times and for at most ``max_wait_s``, then given up (IN_FLIGHT, "gave up");
* the VNFC's host is in a sleep window, ``VimHost.state`` ``draining`` or ``sleeping``
  (WINDOW): the window's drain moves it, auto-heal does not race it;
* ``heal_enabled(vnf_instance_id)`` is False (DISABLED); the NS is not INSTANTIATED or is
  gone, or every root of the VNFC is its VIM being unreachable (NOT_READY);
* LCM refuses: a quota (QUOTA), anything else (REFUSED, with LCM's words);
* ACTED names the op occurrence.

Before recreating VNFCs under a host or zone fault whose host the inventory still shows
``up``, the VIM is re-synced once, so placement sees the host down and chooses another.

Batches live in memory: a restart drops the pending ones (RCA raises its roots again from
the faults still active). The one-operation-per-NS claim of LCM (a conditional UPDATE) is
what keeps two healers, or a healer and a user, from acting on one NS at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from nfvo import limits
from nfvo.errors import Conflict, NfvoError, NotFound, QuotaExceeded
from nfvo.inventory.db import Database
from nfvo.inventory.lcm_repo import NsRecordsRepository, NsRepository
from nfvo.inventory.resources_repo import VimRepository
from nfvo.lcm.codec import vnfc_id
from nfvo.lcm.service import LcmService
from nfvo.lcm.states import NsState, OpType
from nfvo.monitoring.model import FaultKind, ResourceKind
from nfvo.policy import decisions
from nfvo.policy.decisions import Kind, Reason
from nfvo.policy.model import DownVnfc, RootCause

log = logging.getLogger(__name__)

ACTION = "HEAL"
WINDOW_STATES = frozenset({"draining", "sleeping"})  # VimHost.state inside a sleep window
HOST_UP = "up"
RETRIES = 3  # evaluations again after the first IN_FLIGHT, each once the blocking op ended
MAX_WAIT_S = 3600.0  # a batch waits at most this long for the NS's open operation
QUIET_S = 1.0  # a batch fires this long after its latest root (at most batch_s after its first)
POLL_S = 1.0  # how often a waiting batch looks whether the NS's operation has ended
MAX_LISTED = 50  # VNFCs listed in one decision's inputs (the count is always there)
_HOST_LEVEL = frozenset({ResourceKind.HOST, ResourceKind.ZONE})


@dataclass
class _Down:
    """A VNFC waiting in a batch and the raised roots that take it down."""

    vnfc: DownVnfc
    roots: set[str]


@dataclass
class _Batch:
    """The VNFCs of one NS waiting to be healed (by server resource key)."""

    first_at: float
    last_at: float = 0.0  # the latest root added
    down: dict[str, _Down] = field(default_factory=dict)
    waiting_for: str | None = None  # the NS's open operation the batch waits on
    parked_at: float | None = None  # when it first waited
    attempts: int = 0  # IN_FLIGHT evaluations so far

    def due_at(self, batch_s: float, quiet_s: float) -> float:
        """When the batch fires: ``quiet_s`` after its latest root, at most ``batch_s``
        after its first."""
        return min(self.first_at + batch_s, max(self.first_at, self.last_at) + quiet_s)

    def add(self, vnfc: DownVnfc, root: str) -> None:
        entry = self.down.setdefault(vnfc.server.key, _Down(vnfc, set()))
        entry.roots.add(root)


@dataclass(frozen=True)
class Outcome:
    """What one evaluation of a batch decided (also recorded in the decision log)."""

    ns_instance_id: str
    reason: Reason
    vnfc_ids: tuple[str, ...] = ()
    op_occ_id: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class _Vnfc:
    """A down VNFC as the inventory has it now."""

    down: _Down
    key: str
    host: str | None
    vim_id: str


class AutoHealer:
    """Turns root causes into one automatic HEAL operation per NS (see the module text)."""

    def __init__(
        self,
        db: Database,
        lcm: LcmService,
        *,
        batch_s: float = 5.0,
        quiet_s: float = QUIET_S,
        clock: Callable[[], float] = time.time,
        heal_enabled: Callable[[str], bool] | None = None,
        retries: int = RETRIES,
        max_wait_s: float = MAX_WAIT_S,
        poll_s: float = POLL_S,
    ) -> None:
        self.db = db
        self.lcm = lcm
        self.batch_s = batch_s
        self.quiet_s = quiet_s
        self.clock = clock
        self.heal_enabled = heal_enabled
        self.retries = retries
        self.max_wait_s = max_wait_s
        self.poll_s = poll_s
        self._lock = threading.Lock()  # the batches (on_root runs on RCA's thread)
        self._running = threading.Lock()  # one evaluation at a time
        self._batches: dict[str, _Batch] = {}
        self._raised: dict[str, tuple[FaultKind, ResourceKind]] = {}
        self._cleared: list[tuple[str, str, list[DownVnfc]]] = []  # (ns, fault key, VNFCs)
        self._ours: dict[str, tuple[str, frozenset[str]]] = {}  # ns -> (op, server keys)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- input ---------------------------------------------------------------------------
    def on_root(self, rc: RootCause) -> None:
        """A root fault raised or cleared (RCA's listener; cheap, no database access)."""
        with self._lock:
            if rc.raised:
                self._raised[rc.fault_key] = (rc.kind, rc.resource.kind)
                for vnfc in rc.vnfcs:
                    batch = self._batches.get(vnfc.ns_instance_id)
                    if batch is None:
                        batch = self._batches[vnfc.ns_instance_id] = _Batch(self.clock())
                    batch.add(vnfc, rc.fault_key)
                    batch.last_at = self.clock()
            else:
                self._raised.pop(rc.fault_key, None)
                self._drop_root(rc.fault_key)
        self._wake.set()

    def _drop_root(self, fault_key: str) -> None:
        """Take a cleared root out of every batch; VNFCs no other root holds down leave."""
        for ns_id, batch in list(self._batches.items()):
            gone: list[DownVnfc] = []
            for server, entry in list(batch.down.items()):
                entry.roots.discard(fault_key)
                if not entry.roots:
                    gone.append(entry.vnfc)
                    del batch.down[server]
            if gone:
                self._cleared.append((ns_id, fault_key, gone))
            if not batch.down:
                del self._batches[ns_id]

    def pending(self) -> dict[str, int]:
        """VNFCs waiting per NS (batches not fired yet, or waiting for an operation)."""
        with self._lock:
            return {ns: len(b.down) for ns, b in self._batches.items()}

    # -- evaluation ----------------------------------------------------------------------
    def run_due(self) -> list[Outcome]:
        """Record the clears, then evaluate every batch that is due: its window has passed,
        or the operation it waited for has ended. The background thread calls this; tests
        with a fake clock call it themselves."""
        with self._running:
            return self._run_due()

    def _run_due(self) -> list[Outcome]:
        with self._lock:
            cleared, self._cleared = self._cleared, []
        out = [self._record_cleared(ns, key, gone) for ns, key, gone in cleared]
        for ns_id in self._due():
            with self._lock:
                batch = self._batches.pop(ns_id, None)
            if batch is None:
                continue
            try:
                out += self._fire(ns_id, batch)
            except Exception as exc:  # a database or VIM failure must not end the healer
                log.exception("auto-heal of NS %s failed", ns_id)
                out.append(self._decide(ns_id, None, Reason.REFUSED, _entries(batch), str(exc)))
        return out

    def _due(self) -> list[str]:
        now = self.clock()
        with self._lock:
            fresh = [
                ns
                for ns, b in self._batches.items()
                if b.waiting_for is None and now >= b.due_at(self.batch_s, self.quiet_s)
            ]
            waiting = {ns: b.waiting_for for ns, b in self._batches.items() if b.waiting_for}
        if not waiting:
            return fresh
        with self.db.session() as s:
            repo = NsRepository(s)
            current = {ns: getattr(repo.get(ns), "current_op_id", None) for ns in waiting}
        ended = [ns for ns, op in waiting.items() if current[ns] != op]
        with self._lock:
            for ns in ended:
                if ns in self._batches:
                    self._batches[ns].waiting_for = None
            expired = [
                ns
                for ns in waiting
                if ns not in ended
                and ns in self._batches
                and now - (self._batches[ns].parked_at or now) > self.max_wait_s
            ]
        return fresh + ended + expired

    def _fire(self, ns_id: str, batch: _Batch) -> list[Outcome]:
        """Evaluate one batch: decline what a guard stops, heal the rest in one operation."""
        with self._lock:
            raised = dict(self._raised)
        down = [d for d in batch.down.values() if d.roots & raised.keys()]
        gone = [d for d in batch.down.values() if not d.roots & raised.keys()]
        out: list[Outcome] = []
        if gone:  # cleared while the batch was being evaluated
            out.append(self._cleared_now(ns_id, gone, self._tenant_of(ns_id)))
        if not down:
            return out
        with self.db.session() as s:
            ns = NsRepository(s).get(ns_id)
            rows = NsRecordsRepository(s).vnfcs_by_vnf(
                sorted({d.vnfc.vnf_instance_id for d in down})
            )
            servers = {
                (r.vim_account_id, r.server_id): (r.vnf_instance_id, r.key, r.host)
                for vnf_rows in rows.values()
                for r in vnf_rows
                if r.server_id
            }
        tenant = ns.tenant_id if ns else None
        if ns is None or self._ours.get(ns_id, ("",))[0] != ns.current_op_id:
            self._ours.pop(ns_id, None)  # our last heal of the NS has ended
        if ns is None:
            return [*out, self._decide(ns_id, None, Reason.NOT_READY, down, "the NS is gone")]
        if ns.current_op_id:
            return out + self._busy(ns_id, tenant, batch, down, ns.current_op_id)
        if ns.ns_state != NsState.INSTANTIATED:
            detail = f"the NS instance is {ns.ns_state}, not INSTANTIATED"
            return [*out, self._decide(ns_id, tenant, Reason.NOT_READY, down, detail)]
        here = self._still_down(ns_id, tenant, down, servers, raised, out)
        here = self._outside_windows(ns_id, tenant, here, raised, out)
        here = self._enabled_only(ns_id, tenant, here, out)
        if here:
            out += self._heal(ns_id, tenant, batch, here)
        return out

    def _still_down(
        self,
        ns_id: str,
        tenant: str | None,
        down: list[_Down],
        servers: Mapping[tuple[str, str], tuple[str, str, str | None]],
        raised: Mapping[str, tuple[FaultKind, ResourceKind]],
        out: list[Outcome],
    ) -> list[_Vnfc]:
        """The VNFCs still running as the failed servers on a VIM that can be reached; the
        others are declined into ``out`` (CLEARED: replaced since; NOT_READY: the VIM)."""
        here: list[_Vnfc] = []
        replaced: list[_Down] = []
        unreachable: list[_Down] = []
        for d in down:
            at = servers.get((d.vnfc.server.vim_id or "", d.vnfc.server.id))
            if at is None or at[0] != d.vnfc.vnf_instance_id:
                replaced.append(d)
            elif all(raised[r][0] is FaultKind.VIM_UNREACHABLE for r in d.roots if r in raised):
                unreachable.append(d)
            else:
                here.append(_Vnfc(d, at[1], at[2], d.vnfc.server.vim_id or ""))
        if replaced:
            detail = "the VNFCs no longer run as the failed servers (replaced or removed since)"
            out.append(self._decide(ns_id, tenant, Reason.CLEARED, replaced, detail))
        if unreachable:
            detail = "the VIM is unreachable: nothing can be recreated there"
            out.append(self._decide(ns_id, tenant, Reason.NOT_READY, unreachable, detail))
        return here

    def _outside_windows(
        self,
        ns_id: str,
        tenant: str | None,
        here: list[_Vnfc],
        raised: Mapping[str, tuple[FaultKind, ResourceKind]],
        out: list[Outcome],
    ) -> list[_Vnfc]:
        """The VNFCs whose host is not in a sleep window; the others declined (WINDOW)."""
        states = self._host_states(here, raised)
        windowed = [v for v in here if states.get((v.vim_id, v.host)) in WINDOW_STATES]
        if windowed:
            hosts = sorted({f"{v.host} ({states[(v.vim_id, v.host)]})" for v in windowed})
            detail = "inside a sleep window of host " + ", ".join(hosts)
            downs = [v.down for v in windowed]
            out.append(self._decide(ns_id, tenant, Reason.WINDOW, downs, detail))
        return [v for v in here if v not in windowed]

    def _enabled_only(
        self, ns_id: str, tenant: str | None, here: list[_Vnfc], out: list[Outcome]
    ) -> list[_Vnfc]:
        """The VNFCs of VNFs with auto-heal enabled; the others declined (DISABLED)."""
        ask = self.heal_enabled
        vnfs = {v.down.vnfc.vnf_instance_id for v in here}
        enabled = {v: True if ask is None else bool(ask(v)) for v in sorted(vnfs)}
        disabled = [v for v in here if not enabled[v.down.vnfc.vnf_instance_id]]
        if disabled:
            names = sorted({v.down.vnfc.vnf_instance_id for v in disabled})
            detail = "auto-heal is disabled for VNF instance " + ", ".join(names)
            downs = [v.down for v in disabled]
            out.append(self._decide(ns_id, tenant, Reason.DISABLED, downs, detail))
        return [v for v in here if enabled[v.down.vnfc.vnf_instance_id]]

    def _busy(
        self, ns_id: str, tenant: str | None, batch: _Batch, down: list[_Down], op_id: str
    ) -> list[Outcome]:
        """The NS has an open operation: wait for it (bounded), unless it is our own heal
        already recreating these VNFCs."""
        out: list[Outcome] = []
        ours = self._ours.get(ns_id)
        if ours is not None and ours[0] == op_id:
            covered = [d for d in down if d.vnfc.server.key in ours[1]]
            down = [d for d in down if d.vnfc.server.key not in ours[1]]
            if covered:
                detail = f"already being recreated by operation {op_id}"
                out.append(self._decide(ns_id, tenant, Reason.IN_FLIGHT, covered, detail, op_id))
            if not down:
                return out
        batch.attempts += 1
        now = self.clock()
        if batch.parked_at is None:
            batch.parked_at = now
        waited = now - batch.parked_at
        if batch.attempts > self.retries + 1 or waited > self.max_wait_s:
            detail = (
                f"operation {op_id} of the NS is open; gave up after {batch.attempts} "
                f"evaluations over {waited:.0f} s"
            )
            return [*out, self._decide(ns_id, tenant, Reason.IN_FLIGHT, down, detail, op_id)]
        batch.down = {d.vnfc.server.key: d for d in down}
        self._park(ns_id, batch, op_id)
        detail = f"operation {op_id} of the NS is open; healing once it ends"
        return [*out, self._decide(ns_id, tenant, Reason.IN_FLIGHT, down, detail, op_id)]

    def _park(self, ns_id: str, batch: _Batch, op_id: str) -> None:
        """Put a batch back, waiting for ``op_id``, with what arrived for the NS meanwhile."""
        batch.waiting_for = op_id
        if batch.parked_at is None:
            batch.parked_at = self.clock()
        with self._lock:
            newer = self._batches.get(ns_id)
            if newer is not None:
                for server, entry in newer.down.items():
                    mine = batch.down.setdefault(server, _Down(entry.vnfc, set()))
                    mine.roots |= entry.roots
            self._batches[ns_id] = batch
        self._wake.set()

    def _heal(
        self, ns_id: str, tenant: str | None, batch: _Batch, here: list[_Vnfc]
    ) -> list[Outcome]:
        """Start one HEAL for the NS (what one request can hold: the rest waits for it)."""
        out: list[Outcome] = []
        with self._lock:  # a root may have cleared while the VIM was synced
            gone = [v.down for v in here if not v.down.roots & self._raised.keys()]
        if gone:
            out.append(self._cleared_now(ns_id, gone, tenant))
            here = [v for v in here if v.down not in gone]
            if not here:
                return out
        now_part, rest = _split(here)
        params = _request(now_part, self._raised_roots(now_part))
        chosen = [v.down for v in now_part]
        try:
            occ = self.lcm.start(ns_id, OpType.HEAL, params, tenant, automatic=True)
        except QuotaExceeded as exc:
            quota = self._decide(ns_id, tenant, Reason.QUOTA, chosen, exc.detail, extra=exc.extra)
            return [*out, quota]
        except NotFound as exc:
            return [*out, self._decide(ns_id, tenant, Reason.NOT_READY, chosen, exc.detail)]
        except Conflict as exc:
            return out + self._refused(ns_id, tenant, batch, chosen, exc)
        except NfvoError as exc:
            refused = self._decide(
                ns_id, tenant, Reason.REFUSED, chosen, exc.detail, extra=exc.extra
            )
            return [*out, refused]
        with self._lock:
            self._ours[ns_id] = (occ.id, frozenset(d.vnfc.server.key for d in chosen))
        log.info("auto-heal of NS %s: operation %s for %d VNFCs", ns_id, occ.id, len(chosen))
        out.append(self._decide(ns_id, tenant, Reason.ACTED, chosen, "", occ.id))
        if rest:  # more than one request holds: healed right after this operation
            later = _Batch(self.clock(), {v.down.vnfc.server.key: v.down for v in rest})
            self._park(ns_id, later, occ.id)
        return out

    def _refused(
        self, ns_id: str, tenant: str | None, batch: _Batch, chosen: list[_Down], exc: Conflict
    ) -> list[Outcome]:
        """A 409 from LCM: an operation took the NS meanwhile (IN_FLIGHT), the NS is no
        longer INSTANTIATED (NOT_READY), or another refusal (REFUSED)."""
        with self.db.session() as s:
            ns = NsRepository(s).get(ns_id)
        if ns is not None and ns.current_op_id:
            return self._busy(ns_id, tenant, batch, chosen, ns.current_op_id)
        if ns is None or ns.ns_state != NsState.INSTANTIATED:
            return [self._decide(ns_id, tenant, Reason.NOT_READY, chosen, exc.detail)]
        return [self._decide(ns_id, tenant, Reason.REFUSED, chosen, exc.detail, extra=exc.extra)]

    # -- helpers -------------------------------------------------------------------------
    def _raised_roots(self, part: Iterable[_Vnfc]) -> list[str]:
        with self._lock:
            return sorted({r for v in part for r in v.down.roots if r in self._raised})

    def _host_states(
        self, here: list[_Vnfc], raised: Mapping[str, tuple[FaultKind, ResourceKind]]
    ) -> dict[tuple[str, str | None], str]:
        """``VimHost.state`` of the hosts the VNFCs run on. A VIM where a host- or zone-level
        root left a host still ``up`` in the inventory is synced first (once)."""
        vims = sorted({v.vim_id for v in here})
        states = self._read_states(vims)
        stale = sorted(
            {
                v.vim_id
                for v in here
                if states.get((v.vim_id, v.host)) == HOST_UP
                and any(raised[r][1] in _HOST_LEVEL for r in v.down.roots if r in raised)
            }
        )
        resources = self.lcm.resources
        if stale and resources is not None:
            for vim_id in stale:
                resources.check_and_sync(vim_id)
            states = self._read_states(vims)
        return states

    def _read_states(self, vims: list[str]) -> dict[tuple[str, str | None], str]:
        with self.db.session() as s:
            repo = VimRepository(s)
            return {(vim, h.name): h.state for vim in vims for h in repo.hosts(vim)}

    def _record_cleared(self, ns_id: str, fault_key: str, gone: list[DownVnfc]) -> Outcome:
        downs = [_Down(v, {fault_key}) for v in gone]
        return self._cleared_now(ns_id, downs, self._tenant_of(ns_id))

    def _tenant_of(self, ns_id: str) -> str | None:
        with self.db.session() as s:
            ns = NsRepository(s).get(ns_id)
        return ns.tenant_id if ns else None

    def _cleared_now(self, ns_id: str, gone: list[_Down], tenant: str | None) -> Outcome:
        """CLEARED: the roots of ``gone`` cleared before the heal."""
        keys = ", ".join(sorted({r for d in gone for r in d.roots}))
        detail = f"root cause {keys} cleared before the heal"
        return self._decide(ns_id, tenant, Reason.CLEARED, gone, detail)

    def _decide(
        self,
        ns_id: str,
        tenant: str | None,
        reason: Reason,
        down: Iterable[_Down],
        detail: str,
        op_occ_id: str | None = None,
        *,
        extra: Mapping[str, Any] | None = None,
    ) -> Outcome:
        """Record one decision about ``down`` VNFCs of an NS; the outcome."""
        entries = list(down)
        listed = [
            {
                "vnfInstanceId": d.vnfc.vnf_instance_id,
                "vnfcId": d.vnfc.vnfc_id,
                "vduId": d.vnfc.vdu_id,
                "server": d.vnfc.server.key,
            }
            for d in entries[:MAX_LISTED]
        ]
        inputs: dict[str, Any] = {
            "faultKeys": sorted({r for d in entries for r in d.roots}),
            "vnfcCount": len(entries),
            "vnfcs": listed,
        }
        if extra:
            inputs["problem"] = {k: v for k, v in extra.items() if _plain(v)}
        decisions.record(
            self.db,
            kind=Kind.AUTO_HEAL,
            reason=reason,
            action=ACTION,
            ns_instance_id=ns_id,
            tenant_id=tenant,
            inputs=inputs,
            op_occ_id=op_occ_id,
            detail=detail,
            at=datetime.fromtimestamp(self.clock(), UTC),
        )
        if reason is not Reason.ACTED:
            log.info("auto-heal of NS %s declined (%s): %s", ns_id, reason.value, detail)
        ids = tuple(d.vnfc.vnfc_id for d in entries)
        return Outcome(ns_id, reason, ids, op_occ_id, detail)

    # -- background ----------------------------------------------------------------------
    def start(self) -> None:
        """Evaluate due batches in a background thread until :meth:`stop`."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="autoheal", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the background thread (pending batches are dropped with the process)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self.run_due()
            except Exception:  # a database hiccup must not end the healer
                log.exception("auto-heal evaluation failed")
            self._wake.wait(self._next_wait())

    def _next_wait(self) -> float:
        """Seconds until the next batch is due (at most ``poll_s``)."""
        now = self.clock()
        with self._lock:
            dues = [
                b.due_at(self.batch_s, self.quiet_s) - now
                for b in self._batches.values()
                if b.waiting_for is None
            ]
        return max(0.0, min([self.poll_s, *dues]))


def _entries(batch: _Batch) -> list[_Down]:
    return list(batch.down.values())


def _split(here: list[_Vnfc]) -> tuple[list[_Vnfc], list[_Vnfc]]:
    """What one HEAL request can hold (at most ``limits.MAX_LIST`` VNFs, and as many VNFCs
    each) and the rest."""
    now: list[_Vnfc] = []
    rest: list[_Vnfc] = []
    per_vnf: dict[str, int] = {}
    for v in sorted(here, key=lambda v: (v.down.vnfc.vnf_instance_id, v.key)):
        vnf = v.down.vnfc.vnf_instance_id
        fits = vnf in per_vnf or len(per_vnf) < limits.MAX_LIST
        if fits and per_vnf.get(vnf, 0) < limits.MAX_LIST:
            per_vnf[vnf] = per_vnf.get(vnf, 0) + 1
            now.append(v)
        else:
            rest.append(v)
    return now, rest


def _request(part: list[_Vnfc], roots: list[str]) -> dict[str, Any]:
    """The HealNsRequest: per VNF, recreate exactly its down VNFCs (by VNFC id)."""
    cause = "auto-heal: root cause " + (roots[0] if roots else "cleared")
    if len(roots) > 1:
        cause += f" (+{len(roots) - 1} more)"
    by_vnf: dict[str, list[str]] = {}
    for v in part:
        by_vnf.setdefault(v.down.vnfc.vnf_instance_id, []).append(vnfc_id(v.key))
    return {
        "healVnfData": [
            {
                "vnfInstanceId": vnf,
                "cause": cause[: limits.MAX_NAME],
                "additionalParams": {"healType": "RECREATE", "vnfcInstanceIds": ids},
            }
            for vnf, ids in sorted(by_vnf.items())
        ]
    }


def _plain(value: Any) -> bool:
    return isinstance(value, str | int | float | bool | list | dict) or value is None
