"""The root-cause analysis engine: the monitoring hub's fault listener.

Every :class:`FaultEvent` becomes an alarm vertex ``on`` its resource in the entity graph
(``alarm:<fault key>``), the templates are evaluated (:mod:`nfvo.policy.rca.evaluator`:
deduced alarms, states, mark-downs, ``causes`` links) and the fault is mapped to SOL005
nsfm alarms (:mod:`nfvo.monitoring.fm`):

- a *root* fault (no ``causes`` link into its alarm) raises one alarm per affected NS with
  ``isRootCause`` true, notified; its listeners (:meth:`RcaEngine.on_root_cause`) hear a
  :class:`RootCause` with the VNFCs it takes down;
- a *symptom* (an alarm some root causes) is stored with ``isRootCause`` false, not
  notified, ``correlatedAlarmIds`` both ways; an alarm that becomes a symptom later (its
  root arrived after it) is demoted the same way. A symptom never produces a RootCause;
- clearing a root clears its NS alarms (notified), undoes its deduced alarms and links and
  tells the listeners (``raised`` false). A symptom of a cleared root stays a symptom until
  its own clear (it is not promoted to a root: that would notify a storm at recovery).

A VNF alarm from a VNFM (``VNF_ALARM``) that no root explains yet is held ``hold_s`` seconds
(default 2) before it is mapped: in a storm the VNFM often reports before the VIM's host down
arrives, and the alarm should become the host's symptom rather than a notified root. Its
vertex is in the graph at once (links form while it is held); a clear while held maps nothing.

Events that arrive before the graph's first snapshot (``graph.ready``) are queued, one per
fault key (the last event of a fault wins: a raise then clear nets out), and evaluated once
the snapshot exists: no start-up storm. :meth:`RcaEngine.start` runs a thread that drains
that queue, re-runs the templates on the whole graph every ``resync_s`` (the consistency
pass) and reloads custom templates when they change.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from nfvo.errors import NotFound
from nfvo.inventory.alarms_repo import AlarmRepository
from nfvo.inventory.db import Database
from nfvo.monitoring.fm import FaultManager, Outcome
from nfvo.monitoring.model import FaultEvent, FaultKind, Resource, ResourceKind
from nfvo.policy.model import DownVnfc, RootCause
from nfvo.policy.rca import store
from nfvo.policy.rca.evaluator import (
    ALARM_PREFIX,
    CAUSES,
    Changes,
    Evaluator,
    GraphPort,
    predecessors,
    successors,
)
from nfvo.policy.rca.templates import Template

log = logging.getLogger(__name__)
__all__ = ["GraphPort", "RcaEngine"]

CATCH_UP_EVERY_S = 0.5  # at most one inventory check before a fault per this many seconds
MAX_PENDING = 100_000  # faults queued before the first snapshot (oldest dropped beyond)
MAX_RCA_NODES = 2000  # alarms one RCA answer shows
MAX_RESTORED = 10_000  # active alarms read back into the graph at the first snapshot
_KINDS = frozenset(k.value for k in FaultKind)
TEMPLATES_POLL_S = 1.0  # how often stored templates are checked for a change
HOLD_KINDS = frozenset({FaultKind.VNF_ALARM})  # symptom-prone: held before they are mapped
_SERVER_FAULTS = (FaultKind.SERVER_CRASHED, FaultKind.SERVER_GONE)
_CAUSES_OF = {FaultKind.HOST_DOWN: "host down", FaultKind.VIM_UNREACHABLE: "VIM unreachable"}


def _iso(epoch: Any) -> str | None:
    if not isinstance(epoch, int | float):
        return None
    return datetime.fromtimestamp(epoch, UTC).isoformat()


class RcaEngine:
    """Root-cause analysis of fault events over the entity graph, mapped to nsfm alarms
    (see the module). ``templates`` None: the built-in and the stored custom templates
    (reloaded when the stored ones change); a list: exactly those."""

    def __init__(
        self,
        db: Database,
        graph: GraphPort,
        faults: FaultManager,
        *,
        templates: list[Template] | None = None,
        clock: Callable[[], float] = time.time,
        resync_s: float = 60.0,
        hold_s: float = 2.0,
    ) -> None:
        self.db = db
        self.graph = graph
        self.faults = faults
        self.clock = clock
        self.resync_s = resync_s
        self.hold_s = hold_s
        self._held: OrderedDict[str, tuple[float, FaultEvent]] = OrderedDict()
        self._own_templates = templates is None
        self._templates_mark: Any = None
        if templates is None:
            self._templates_mark, templates = store.load(db)
        self.evaluator = Evaluator(graph, templates, clock=clock)
        self._lock = threading.RLock()
        self._pending: OrderedDict[str, FaultEvent] = OrderedDict()
        self._pending_lock = threading.Lock()
        self._listeners: list[Callable[[RootCause], None]] = []
        self._primed = False
        self._caught_up_at = -CATCH_UP_EVERY_S  # monotonic time of the last catch-up
        self._mark: tuple[int, int] = (-1, -1)  # the graph's (loads, refreshes) last evaluated
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.counts = {"events": 0, "queued": 0, "dropped": 0, "roots": 0, "symptoms": 0}

    # ------------------------------------------------------------------ wiring

    def on_root_cause(self, fn: Callable[[RootCause], None]) -> None:
        """Call ``fn`` with every root fault raised or cleared (outside any transaction, on
        the thread that evaluated the fault)."""
        self._listeners = [*self._listeners, fn]

    def start(self) -> None:
        """Run the background thread (drain, consistency pass, template reload)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="rca-engine", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the background thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        next_resync = time.monotonic() + self.resync_s
        next_templates = time.monotonic()
        failing = ""  # the error of the last failed pass: logged once, not every pass
        while not self._stop.wait(0.2):
            try:
                self.drain()
                self.release_held()
                if self.graph.ready and self._graph_mark() != self._mark:
                    self.after_graph_change()
                if self._own_templates and time.monotonic() >= next_templates:
                    next_templates = time.monotonic() + TEMPLATES_POLL_S
                    self.reload_templates_if_changed()
                if time.monotonic() >= next_resync and self.graph.ready:
                    next_resync = time.monotonic() + self.resync_s
                    self.resync()
                if failing:
                    log.info("rca: background passes work again")
                    failing = ""
            except Exception as exc:  # noqa: BLE001 - the loop must survive a database hiccup
                text = f"{type(exc).__name__}: {exc}"[:500]
                if text != failing:
                    log.error("rca: background pass failed (logged once until it works): %s", text)
                failing = text

    # ------------------------------------------------------------------ events

    def handle(self, event: FaultEvent) -> Outcome | None:
        """Evaluate one fault event (the hub's fault listener); queued while the graph has
        no first snapshot (None is returned then)."""
        if not self.graph.ready:
            self._queue(event)
            return None
        self._catch_up()  # a fault right after an operation finds its servers in the graph
        with self._lock:
            self._drain_locked()
            return self._process(event)

    def _catch_up(self) -> None:
        """Bring the graph up to date with the inventory now (its own poll may be up to a
        second behind) and re-evaluate if it changed."""
        refresh = getattr(self.graph, "refresh_if_changed", None)
        now = time.monotonic()
        if refresh is None or now - self._caught_up_at < CATCH_UP_EVERY_S:
            return  # a burst of faults shares one check (the graph's own poll covers the rest)
        self._caught_up_at = now
        try:
            changed = refresh()
        except Exception:  # noqa: BLE001 - a database hiccup: evaluate on what the graph has
            log.warning("rca: the entity graph could not be refreshed before a fault")
            return
        if changed:
            self.after_graph_change()

    def _graph_mark(self) -> tuple[int, int]:
        return (getattr(self.graph, "loads", 0), getattr(self.graph, "refreshes", 0))

    def after_graph_change(self) -> int:
        """The graph was re-read (servers appeared, moved or left): every template match is
        recomputed, and each active root that now takes down more VNFCs than it did is told
        again (raised, with all its VNFCs) so that what acts on roots (auto-heal) learns of
        them. Returns the roots told again."""
        grown: list[RootCause] = []
        with self._lock:
            self._mark = self._graph_mark()
            with self.graph.lock:
                g = self.graph.g
                roots = [
                    v
                    for v, a in g.nodes(data=True)
                    if a.get("category") == "ALARM" and not a.get("deduced") and not self._roots(v)
                ]
                before = {r: {v.server.key for v in self._down_vnfcs(r)} for r in roots}
                self.evaluator.resync()
                for r in roots:
                    if r not in g:
                        continue
                    vnfcs = self._down_vnfcs(r)
                    if not {v.server.key for v in vnfcs} - before[r]:
                        continue
                    a = g.nodes[r]
                    try:
                        resource = Resource.parse(str(a.get("resource")))
                        kind = FaultKind(str(a.get("type")))
                    except ValueError:
                        continue
                    at = a.get("raised_at") or self.clock()
                    grown.append(
                        RootCause(self._fault_key(r), resource, kind, True, float(at), vnfcs)
                    )
        for rc in grown:
            self._tell(rc)
        return len(grown)

    def drain(self) -> int:
        """Evaluate the events queued before the first snapshot, once it exists; how many."""
        if not self.graph.ready:
            return 0
        with self._lock:
            return self._drain_locked()

    def _queue(self, event: FaultEvent) -> None:
        with self._pending_lock:
            self.counts["queued"] += 1
            self._pending.pop(event.key, None)
            self._pending[event.key] = event
            if len(self._pending) > MAX_PENDING:
                self._pending.popitem(last=False)
                self.counts["dropped"] += 1

    def _drain_locked(self) -> int:
        if not self._primed:
            self._primed = True
            restored = self._restore()
            with self.graph.lock:
                self.evaluator.resync()
            if restored:
                log.info(
                    "rca: %d active fault(s) of the alarm list put back in the graph", restored
                )
        with self._pending_lock:
            events = list(self._pending.values())
            self._pending.clear()
        for event in events:
            try:
                self._process(event)
            except Exception:  # noqa: BLE001 - one event must not stop the others
                log.exception("rca: fault %s could not be evaluated", event.key)
        return len(events)

    def _process(self, event: FaultEvent) -> Outcome:
        self.counts["events"] += 1
        if event.cleared:
            return self._clear(event)
        return self._raise(event)

    def _raise(self, event: FaultEvent) -> Outcome:
        key = ALARM_PREFIX + event.key
        resource = event.resource.key
        demoted: dict[str, list[str]] = {}
        with self.graph.lock:
            g = self.graph.g
            if key in g:  # a repeat of an active fault: nothing new
                return Outcome()
            if resource in g:
                self.graph.add_alarm(key, resource, **self._attrs(event))
                changes = self.evaluator.alarm_added(key)
                demoted = {
                    self._fault_key(a): [self._fault_key(r) for r in rs]
                    for a, rs in self._demoted(changes, key).items()
                }
                if event.kind in HOLD_KINDS and self.hold_s > 0 and not self._roots(key):
                    self._held[event.key] = (self.clock() + self.hold_s, event)
        out = Outcome() if event.key in self._held else self._map(event)
        for fault_key, root_keys in demoted.items():  # after: the roots' alarms exist now
            self.faults.demote(fault_key, root_keys)
        return out

    def _map(self, event: FaultEvent) -> Outcome:
        """Raise the nsfm alarms of a raised fault: a symptom's or a root's (and tell)."""
        key = ALARM_PREFIX + event.key
        roots: list[str] = []
        root_keys: list[str] = []
        vnfcs: tuple[DownVnfc, ...] = ()
        with self.graph.lock:
            if key in self.graph.g:
                roots = self._roots(key)
                root_keys = [self._fault_key(r) for r in roots]
                if not roots:
                    vnfcs = self._down_vnfcs(key)
        out = self.faults.raise_alarms(event, root_of=root_keys)
        if roots:
            self.counts["symptoms"] += 1
        elif out.raised or vnfcs:  # not a repeat of a fault the graph does not place
            self.counts["roots"] += 1
            self._tell(RootCause(event.key, event.resource, event.kind, True, event.timestamp,
                                 vnfcs, dict(out.roots)))  # fmt: skip
        return out

    def release_held(self) -> int:
        """Map the held VNF alarms whose hold is over; how many."""
        with self._lock:
            now = self.clock()
            due = [e for when, e in self._held.values() if when <= now]
            for event in due:
                del self._held[event.key]
                try:
                    self._map(event)
                except Exception:  # noqa: BLE001 - one event must not stop the others
                    log.exception("rca: fault %s could not be mapped", event.key)
            return len(due)

    def _clear(self, event: FaultEvent) -> Outcome:
        key = ALARM_PREFIX + event.key
        vnfcs: tuple[DownVnfc, ...] = ()
        self._held.pop(event.key, None)
        with self.graph.lock:
            if key in self.graph.g:
                if not self._roots(key):
                    vnfcs = self._down_vnfcs(key)
                self.evaluator.alarm_removed(key)
        out = self.faults.clear(event.key)
        if out.roots:  # it was mapped as a root: its listeners heard of it
            self._tell(RootCause(event.key, event.resource, event.kind, False, event.timestamp,
                                 vnfcs, dict(out.roots)))  # fmt: skip
        return out

    def _restore(self) -> int:
        """Put the faults whose nsfm alarms are active (raised before a restart) back in the
        graph, so that what follows links to them and their clear undoes what they deduce."""
        with self.db.session() as s:
            rows = [
                (r.fault_key, list(r.fault_details or []), r.perceived_severity, r.event_time)
                for r in AlarmRepository(s).active(MAX_RESTORED)
            ]
        done = 0
        with self.graph.lock:
            g = self.graph.g
            for fault_key, details, severity, at in rows:
                key = ALARM_PREFIX + fault_key
                facts = dict(d.split("=", 1) for d in details if isinstance(d, str) and "=" in d)
                resource = facts.get("resource")
                if key in g or resource not in g or facts.get("fault") not in _KINDS:
                    continue
                kind = FaultKind(facts["fault"])
                self.graph.add_alarm(
                    key, resource, category="ALARM", type=kind.value,
                    name=_CAUSES_OF.get(kind, kind.value), severity=severity, deduced=False,
                    fault_key=fault_key, raised_at=at.timestamp() if at else None,
                    source=facts.get("source", ""), resource=resource,
                )  # fmt: skip
                done += 1
        return done

    def _tell(self, rc: RootCause) -> None:
        if not rc.ns_ids:
            return
        for fn in self._listeners:
            try:
                fn(rc)
            except Exception:  # noqa: BLE001 - a listener must not stop the engine
                log.exception("rca: root cause listener %r failed", fn)

    @staticmethod
    def _attrs(event: FaultEvent) -> dict[str, Any]:
        cause = event.probable_cause or _CAUSES_OF.get(event.kind, event.kind.value)
        return {
            "category": "ALARM",
            "type": event.kind.value,
            "name": cause,
            "severity": event.severity.value,
            "deduced": False,
            "fault_key": event.key,
            "raised_at": event.timestamp,
            "source": event.source,
            "resource": event.resource.key,
        }

    # ------------------------------------------------------------------ graph reads

    def _fault_key(self, alarm: str) -> str:
        return str(self.graph.g.nodes[alarm].get("fault_key") or alarm.removeprefix(ALARM_PREFIX))

    def _observed(self, alarm: str) -> bool:
        g = self.graph.g
        return alarm in g and not g.nodes[alarm].get("deduced", False)

    def _roots(self, alarm: str) -> list[str]:
        """The observed alarms at the origin of the ``causes`` links into ``alarm`` (empty:
        ``alarm`` is a root itself)."""
        g = self.graph.g
        if not predecessors(g, alarm, CAUSES):
            return []
        seen, todo, out = {alarm}, deque([alarm]), []
        while todo:
            v = todo.popleft()
            before = predecessors(g, v, CAUSES)
            if not before and v != alarm and self._observed(v):
                out.append(v)
            for p in before:
                if p not in seen:
                    seen.add(p)
                    todo.append(p)
        return sorted(out)

    def _demoted(self, changes: Changes, new: str) -> dict[str, list[str]]:
        """Observed alarms (but ``new``) that gained a ``causes`` link into them: symptoms
        now, with their roots."""
        targets = {dst for _, dst in changes.links_added if dst != new and self._observed(dst)}
        return {t: roots for t in sorted(targets) if (roots := self._roots(t))}

    def _down_vnfcs(self, root: str) -> tuple[DownVnfc, ...]:
        """The VNFCs root alarm ``root`` takes down: its own server (a server fault) and the
        servers the matches of its causal closure (itself and the alarms it causes) mark
        down. Read from the evaluator's effects, not the vertices' flags, which a graph
        reload resets."""
        g = self.graph.g
        attrs = g.nodes[root]
        servers: set[str] = set()
        if attrs.get("type") in _SERVER_FAULTS:
            servers.add(attrs.get("resource", ""))
        seen, todo = {root}, deque([root])
        while todo:
            alarm = todo.popleft()
            servers |= self.evaluator.marked_down_by(alarm)
            for nxt in successors(g, alarm, CAUSES):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        out = [self._vnfc(s) for s in sorted(servers) if s in g]
        return tuple(v for v in out if v is not None)

    def _vnfc(self, server: str) -> DownVnfc | None:
        a = self.graph.g.nodes[server]
        if a.get("type") != ResourceKind.SERVER.value or not a.get("ns_instance_id"):
            return None
        return DownVnfc(
            ns_instance_id=a["ns_instance_id"],
            vnf_instance_id=a.get("vnf_instance_id") or "",
            vnfc_id=a.get("vnfc_id") or "",
            vdu_id=a.get("vdu_id") or "",
            server=Resource(ResourceKind.SERVER, str(a.get("id")), a.get("vim_id")),
        )

    # ------------------------------------------------------------------ templates, resync

    def resync(self) -> Changes:
        """The consistency pass: every match recomputed from the graph."""
        with self._lock, self.graph.lock:
            return self.evaluator.resync()

    def set_templates(self, templates: list[Template]) -> Changes:
        """Evaluate with ``templates`` from now on (what the old ones did and the new ones
        do not is undone at once)."""
        with self._lock, self.graph.lock:
            self.evaluator.set_templates(templates)
            return self.evaluator.resync() if self.graph.ready else Changes()

    def reload_templates_if_changed(self) -> bool:
        """Reload the built-in and stored templates when the stored ones changed."""
        mark = store.mark(self.db)
        if mark == self._templates_mark:
            return False
        self._templates_mark, templates = store.load(self.db)
        self.set_templates(templates)
        return True

    # ------------------------------------------------------------------ the RCA view

    def rca(self, alarm_id: str, tenant: str | None) -> dict[str, Any]:
        """The causal graph around nsfm alarm ``alarm_id`` as Vitrage showed it:
        ``{nodes, links, inspectedIndex}``; the alarms a tenant caller sees are those on its
        own resources and on shared infrastructure (NotFound for another tenant's alarm)."""
        row = self.faults.get(alarm_id, tenant)
        key = ALARM_PREFIX + row.fault_key
        with self.graph.lock:
            g = self.graph.g
            if key not in g:
                return correlated_view(self.faults, row, tenant)
            order, links = [key], []
            seen = {key}
            todo = deque([key])
            while todo and len(order) < MAX_RCA_NODES:
                v = todo.popleft()
                for nxt, edge in [(n, (v, n)) for n in successors(g, v, CAUSES)] + [
                    (p, (p, v)) for p in predecessors(g, v, CAUSES)
                ]:
                    if not _visible(g, nxt, tenant):
                        continue
                    if nxt not in seen and len(order) < MAX_RCA_NODES:
                        seen.add(nxt)
                        order.append(nxt)
                        todo.append(nxt)
                    if nxt in seen:
                        links.append(edge)
            index = {v: i for i, v in enumerate(order)}
            nodes = [_node(g, v) for v in order]
            nodes[0]["nsfmAlarmId"] = row.id
            pairs = sorted({(index[s], index[d]) for s, d in links})
        return {
            "nodes": nodes,
            "links": [{"source": s, "target": d, "relationshipType": CAUSES} for s, d in pairs],
            "inspectedIndex": 0,
        }


def _visible(g: Any, alarm: str, tenant: str | None) -> bool:
    if tenant is None:
        return True
    res = g.nodes[alarm].get("resource")
    owner = g.nodes[res].get("tenant_id") if res in g else None
    return owner is None or owner == tenant


def _node(g: Any, alarm: str) -> dict[str, Any]:
    a = g.nodes[alarm]
    res = a.get("resource")
    r = g.nodes[res] if res in g else {}
    return {
        "id": alarm,
        "category": "ALARM",
        "type": a.get("type"),
        "name": a.get("name"),
        "severity": a.get("severity"),
        "deduced": bool(a.get("deduced")),
        "isRootCause": not predecessors(g, alarm, CAUSES),
        "faultKey": a.get("fault_key"),
        "raisedAt": _iso(a.get("raised_at")),
        "resource": {
            "id": res,
            "type": r.get("type"),
            "name": r.get("name"),
            "state": r.get("state", "OK"),
            "markedDown": bool(r.get("marked_down", False)),
        },
    }


def correlated_view(faults: FaultManager, row: Any, tenant: str | None) -> dict[str, Any]:
    """The RCA view from the nsfm alarms alone (the alarm is no longer in the graph, or no
    graph runs in this process): the alarm and the alarms it is correlated with."""
    nodes = [_row_node(row)]
    links = []
    for other_id in list(row.correlated_alarm_ids or [])[: MAX_RCA_NODES - 1]:
        try:
            other = faults.get(other_id, tenant)
        except NotFound:
            continue
        nodes.append(_row_node(other))
        i = len(nodes) - 1
        links.append(
            {"source": i, "target": 0} if other.is_root_cause else {"source": 0, "target": i}
        )
    for link in links:
        link["relationshipType"] = CAUSES
    return {"nodes": nodes, "links": links, "inspectedIndex": 0}


def _row_node(row: Any) -> dict[str, Any]:
    handle = (row.faulty_resource or {}).get("faultyResource") or {}
    cleared = row.cleared_at is not None
    return {
        "id": ALARM_PREFIX + row.fault_key,
        "category": "ALARM",
        "type": row.fault_type,
        "name": row.probable_cause,
        "severity": row.perceived_severity,
        "deduced": False,
        "isRootCause": bool(row.is_root_cause),
        "faultKey": row.fault_key,
        "raisedAt": row.raised_at.isoformat() if row.raised_at else None,
        "nsfmAlarmId": row.id,
        "cleared": cleared,
        "resource": {
            "id": handle.get("resourceId"),
            "type": handle.get("vimLevelResourceType"),
            "name": None,
            "state": None,
            "markedDown": False,
        },
    }
