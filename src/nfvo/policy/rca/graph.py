"""The entity graph root-cause analysis reasons over: VIM -> zone -> host -> server (VNFC)
<- VNF <- NS, plus virtual links (networks) and ports, with alarms attached ``on`` resources.

Built from the inventory (:mod:`nfvo.policy.rca.topology` reads it in a few column-only
queries) and kept current by a background thread: a cheap change check every ``poll_s``
(the infrastructure rows and one aggregate over the NS tables; when an NS changed, only that
NS's vertices are re-read and replaced) and a full re-read every ``resync_s``. Nothing reads
it as meaningful before the first full snapshot: :attr:`EntityGraph.ready`.

Alarm vertices belong to root-cause analysis (it adds and removes them); a reload keeps them,
and their edges, as long as the resource they are ``on`` exists. A reload also keeps what
RCA wrote on a resource vertex that still exists (``state``, ``marked_down``).
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from nfvo.inventory.db import Database
from nfvo.policy.rca import topology as topo
from nfvo.policy.rca.topology import (
    ALARM,
    ATTACHED,
    COMPRISES,
    CONTAINS,
    LABELS,
    OK,
    ON,
    RESOURCE_LABELS,
)

log = logging.getLogger(__name__)

POLL_S = 1.0  # change check interval of the background thread
RESYNC_S = 300.0  # full re-read interval
_KEPT_ATTRS = ("state", "marked_down")  # written by RCA on resource vertices: survive reloads
_SERVER = "server"


@dataclass(frozen=True)
class Impact:
    """What a resource takes down: per NS instance, its VNF instances affected; every VNF
    instance affected; every server (VNFC) vertex key affected. Sorted, for stable output."""

    ns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    vnfs: tuple[str, ...] = ()
    servers: tuple[str, ...] = ()


class EntityGraph:
    """The topology of the inventory as a networkx ``MultiDiGraph`` with RCA's alarms on it.

    Exists so that root-cause analysis and impact questions ("which NS does this host take
    down?") are answered from memory in milliseconds, not with queries per fault. Hold
    :attr:`lock` to read or change :attr:`g` (the graph object is replaced by a full reload:
    read ``self.g`` under the lock, not a reference kept from before).
    """

    def __init__(
        self,
        db: Database,
        *,
        clock: Callable[[], float] = time.time,
        poll_s: float = POLL_S,
        resync_s: float = RESYNC_S,
    ) -> None:
        self.db = db
        self.clock = clock
        self.poll_s = poll_s
        self.resync_s = resync_s
        self.g: nx.MultiDiGraph = nx.MultiDiGraph()
        self.lock = threading.RLock()
        self.ready = False
        self.last_error: str | None = None
        self.loads = 0  # full loads done
        self.refreshes = 0  # incremental NS refreshes done
        self._sync = threading.Lock()  # one reader of the inventory at a time
        self._infra = topo.Infra()
        self._infra_keys: frozenset[str] = frozenset()
        self._agg: tuple[Any, ...] | None = None
        self._sigs: dict[str, tuple[Any, ...]] = {}
        self._owned: dict[str, set[str]] = {}  # NS id -> the vertices it owns
        self._full_at: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ loading

    def load(self) -> None:
        """Re-read the whole inventory and replace the graph (alarm vertices, their edges and
        RCA's state on resources that still exist are carried over). Errors propagate."""
        with self._sync:
            self._load()

    def _load(self) -> None:
        with self.db.engine.connect() as conn:
            infra = topo.read_infra(conn)
            agg = topo.ns_aggregate(conn)
            sigs = topo.ns_signatures(conn)
            rows = topo.read_ns(conn)
        with _collector_paused():  # tens of thousands of new dicts: no collection midway
            g = nx.MultiDiGraph()
            topo.add_infra(g, infra)
            owned = topo.add_ns(g, rows)
            topo.label_networks(g, (k for k, d in g.nodes(data=True) if d["type"] == "network"))
        with self.lock:
            old = self.g
            _carry_over(old, g)
            self.g = g
            self.ready = True
        del old  # freed here, not while readers wait for the lock
        self._infra, self._infra_keys = infra, topo.infra_keys(infra)
        self._agg, self._sigs, self._owned = agg, sigs, owned
        self._full_at = self.clock()
        self.loads += 1

    def refresh_if_changed(self) -> bool:
        """Bring the graph up to date if the inventory changed (a full load before the first
        snapshot or when VIMs, zones, hosts or networks changed; only the changed NS
        instances otherwise); True if it re-read anything. Errors propagate."""
        with self._sync:
            if not self.ready:
                self._load()
                return True
            with self.db.engine.connect() as conn:
                infra = topo.read_infra(conn)
                agg = None if infra != self._infra else topo.ns_aggregate(conn)
                if agg is not None and agg == self._agg:
                    return False
                if agg is not None:
                    sigs = topo.ns_signatures(conn)
                    changed = {
                        k
                        for k in sigs.keys() | self._sigs.keys()
                        if sigs.get(k) != self._sigs.get(k)
                    }
                    rows = topo.read_ns(conn, changed & sigs.keys())
            if agg is None:  # the infrastructure changed: read everything again
                self._load()
                return True
            self._apply(changed, rows)
            self._agg, self._sigs = agg, sigs
            self.refreshes += 1
            return True

    def _apply(self, changed: set[str], rows: topo.NsRows) -> None:
        """Replace the vertices of the ``changed`` NS instances by those built from ``rows``
        (vertices kept keep their alarms and RCA's state)."""
        sub = nx.MultiDiGraph()
        owned = topo.add_ns(sub, rows)
        new: set[str] = set().union(*owned.values()) if owned else set()
        with self.lock:
            g = self.g
            old: set[str] = set()
            for ns_id in changed:
                old |= {k for k in self._owned.pop(ns_id, ()) if k in g}
            # what may be left holding nothing: the networks and parents of the old vertices
            loose = {n for k in old for n in _networks_of(g, k)}
            loose |= {p for k in old for p in _parents(g, k)}
            for key in old:
                if key in new:
                    _drop_resource_edges(g, key)
                else:
                    _remove_vertex(g, key)
            added = set()
            for key, attrs in sub.nodes(data=True):
                if key not in g:
                    g.add_node(key, **attrs)
                    added.add(key)
                elif key in new:
                    node = g.nodes[key]
                    kept = {a: node[a] for a in _KEPT_ATTRS if a in node}
                    node.clear()
                    node.update(attrs, **kept)
            g.add_edges_from(
                (u, v, k, d)
                for u, v, k, d in sub.edges(keys=True, data=True)
                if u in new or v in new or v in added
            )
            nets = {k for k, d in sub.nodes(data=True) if d["type"] == "network"}
            self._prune(g, loose)
            topo.label_networks(g, loose | nets)
            self._owned.update(owned)

    def _prune(self, g: nx.MultiDiGraph, keys: Iterable[str]) -> None:
        """Remove networks, hosts and zones that neither the inventory's rows back nor any
        resource edge holds any longer (a host only the VNFCs named, now all gone)."""
        for key in keys:
            if key in g and key not in self._infra_keys and not _held(g, key):
                parents = list(_parents(g, key))
                _remove_vertex(g, key)
                self._prune(g, parents)

    # ------------------------------------------------------------------ background

    def sync(self) -> bool:
        """One step of the background thread: a full load when ``resync_s`` has passed since
        the last one (by ``clock``), a change check otherwise. Errors are logged (once per
        distinct message) and kept in :attr:`last_error`, not raised."""
        try:
            due = self._full_at is None or self.clock() - self._full_at >= self.resync_s
            if due:
                self.load()
                changed = True
            else:
                changed = self.refresh_if_changed()
        except Exception as exc:  # a database hiccup must not end the thread
            message = f"{type(exc).__name__}: {exc}"
            if message != self.last_error:
                log.warning("RCA entity graph: reading the inventory failed: %s", message)
            self.last_error = message
            return False
        self.last_error = None
        return changed

    def start(self) -> None:
        """Start the background thread (its first step builds the graph at once)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()

        def loop() -> None:
            self.sync()
            while not self._stop.wait(self.poll_s):
                self.sync()

        self._thread = threading.Thread(target=loop, name="rca-graph", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the background thread (the graph stays as it is)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    # ------------------------------------------------------------------ RCA's writes

    def add_alarm(self, key: str, resource_key: str, **attrs: Any) -> None:
        """Add (or update) the alarm vertex ``key`` ``on`` the resource vertex
        ``resource_key`` (KeyError when the graph has no such resource; ValueError when
        ``key`` is a resource vertex)."""
        with self.lock:
            g = self.g
            if resource_key not in g or g.nodes[resource_key].get("category") == ALARM:
                raise KeyError(f"no resource vertex {resource_key}")
            if key in g and g.nodes[key].get("category") != ALARM:
                raise ValueError(f"{key} is a resource vertex, not an alarm")
            if key in g:
                old = g.nodes[key].get("resource")
                if old != resource_key and g.has_edge(key, old, ON):
                    g.remove_edge(key, old, ON)
                g.nodes[key].update(attrs)
            else:
                g.add_node(
                    key,
                    **{
                        "type": None,
                        "name": key,
                        "severity": None,
                        "deduced": False,
                        "fault_key": None,
                        "raised_at": None,
                        "source": None,
                        **attrs,
                    },
                )
            g.nodes[key].update(category=ALARM, resource=resource_key)
            topo.link(g, key, resource_key, ON)

    def remove_alarm(self, key: str) -> bool:
        """Remove the alarm vertex ``key`` and its edges; False if there was none."""
        with self.lock:
            if key not in self.g or self.g.nodes[key].get("category") != ALARM:
                return False
            self.g.remove_node(key)
            return True

    def add_edge(self, src: str, dst: str, label: str) -> None:
        """Add the edge ``src -[label]-> dst`` (both vertices must exist: KeyError; a label
        outside contains/comprises/attached/on/causes: ValueError)."""
        if label not in LABELS:
            raise ValueError(f"edge label {label!r} is not one of {', '.join(sorted(LABELS))}")
        with self.lock:
            for v in (src, dst):
                if v not in self.g:
                    raise KeyError(f"no vertex {v}")
            topo.link(self.g, src, dst, label)

    def remove_edge(self, src: str, dst: str, label: str) -> bool:
        """Remove the edge ``src -[label]-> dst``; False if there was none."""
        with self.lock:
            if not self.g.has_edge(src, dst, label):
                return False
            self.g.remove_edge(src, dst, label)
            return True

    # ------------------------------------------------------------------ reads

    def has(self, key: str) -> bool:
        """Whether the graph has the vertex ``key``."""
        with self.lock:
            return key in self.g

    def vertex(self, key: str) -> dict[str, Any] | None:
        """A copy of the attributes of vertex ``key`` (None when absent)."""
        with self.lock:
            attrs = self.g.nodes.get(key)
            return None if attrs is None else dict(attrs)

    def servers_under(self, resource_key: str) -> list[str]:
        """The server vertex keys a resource holds, sorted: contained by a VIM, zone or host;
        comprised by a VNF or NS; attached (through ports) to a network; the server a port is
        attached to; a server itself. Empty for anything else, or an unknown key."""
        with self.lock:
            return sorted(self._servers(self.g, resource_key))

    def impact(self, resource_key: str) -> Impact:
        """The NS instances, VNF instances and servers a fault on the resource takes down
        (empty for an unknown key: test :meth:`has` to tell). A VNF or NS counts itself even
        without servers; a network also counts the NS instances comprising it (with no VNF
        when none of their ports is on it)."""
        with self.lock:
            g = self.g
            nodes = g._node  # the attribute dicts themselves: no view object per look-up
            servers = self._servers(g, resource_key)
            ns: dict[str, set[str]] = {}
            pairs = {
                (a.get("ns_instance_id"), a.get("vnf_instance_id"))
                for a in map(nodes.__getitem__, servers)
            }
            for ns_id, vnf in pairs:
                if vnf and ns_id:
                    if ns_id in ns:
                        ns[ns_id].add(vnf)
                    else:
                        ns[ns_id] = {vnf}
            attrs = nodes.get(resource_key) or {}
            kind = attrs.get("type")
            if kind == "vnf" and attrs.get("ns_instance_id"):
                ns.setdefault(attrs["ns_instance_id"], set()).add(attrs["id"])
            elif kind == "ns":
                mine = ns.setdefault(attrs["id"], set())
                mine |= {
                    g.nodes[v]["id"]
                    for v, keyed in g.succ[resource_key].items()
                    if COMPRISES in keyed and g.nodes[v]["type"] == "vnf"
                }
            elif kind == "network":
                for src, keyed in g.pred[resource_key].items():
                    if COMPRISES in keyed and g.nodes[src]["type"] == "ns":
                        ns.setdefault(g.nodes[src]["id"], set())
        return Impact(
            ns={k: tuple(sorted(v)) for k, v in sorted(ns.items())},
            vnfs=tuple(sorted(v for vs in ns.values() for v in vs)),
            servers=tuple(sorted(servers)),
        )

    @staticmethod
    def _servers(g: nx.MultiDiGraph, key: str) -> set[str]:
        attrs = g.nodes.get(key)
        if attrs is None or attrs.get("category") == ALARM:
            return set()
        kind = attrs.get("type")
        if kind == _SERVER:
            return {key}
        if kind == "port":
            return {v for v, k in g.succ[key].items() if ATTACHED in k and _is_server(g, v)}
        if kind == "network":
            return {
                s
                for p, keyed in g.pred[key].items()
                if ATTACHED in keyed
                for s, k in g.succ[p].items()
                if ATTACHED in k and _is_server(g, s)
            }
        label = CONTAINS if kind in ("vim", "zone", "host") else COMPRISES
        if kind not in ("vim", "zone", "host", "vnf", "ns"):
            return set()
        out: set[str] = set()
        stack = [key]
        nodes, succ = g._node, g._succ  # the dicts themselves: 10,000 servers in milliseconds
        while stack:
            for v, k in succ[stack.pop()].items():
                if label not in k:
                    continue
                if nodes[v]["type"] == _SERVER:
                    out.add(v)
                else:
                    stack.append(v)
        return out

    def counts(self) -> dict[str, int]:
        """Vertices per type (alarms as ``alarm``) and edges, for figures."""
        with self.lock:
            out: dict[str, int] = {}
            for _k, d in self.g.nodes(data=True):
                t = "alarm" if d.get("category") == ALARM else str(d.get("type"))
                out[t] = out.get(t, 0) + 1
            out["edges"] = self.g.number_of_edges()
            return out


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a graph is built: it would otherwise run
    every few hundred allocations over a growing heap and double the build time (the graph
    holds no cycles to collect; reference counting frees what is dropped)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _is_server(g: nx.MultiDiGraph, key: str) -> bool:
    return g.nodes[key].get("type") == _SERVER


def _networks_of(g: nx.MultiDiGraph, key: str) -> Iterable[str]:
    """The networks a vertex has a resource edge to (an NS comprising it, a port on it)."""
    for v, keyed in g.succ[key].items():
        if (COMPRISES in keyed or ATTACHED in keyed) and g.nodes[v].get("type") == "network":
            yield v


def _parents(g: nx.MultiDiGraph, key: str) -> Iterable[str]:
    """The vertices holding ``key`` by ``contains``."""
    if key not in g:
        return ()
    return [u for u, keyed in g.pred[key].items() if CONTAINS in keyed]


def _held(g: nx.MultiDiGraph, key: str) -> bool:
    """Whether any resource edge other than its own parent's holds the vertex: something
    under it, an NS comprising it, a port attached to it."""
    if any(RESOURCE_LABELS & keyed.keys() for keyed in g.succ[key].values()):
        return True
    return any((COMPRISES in keyed or ATTACHED in keyed) for keyed in g.pred[key].values())


def _drop_resource_edges(g: nx.MultiDiGraph, key: str) -> None:
    """Remove the inventory's edges of a vertex (its alarms' ``on`` edges stay)."""
    out = [(key, v, k) for v, keyed in g.succ[key].items() for k in keyed if k in RESOURCE_LABELS]
    inc = [(u, key, k) for u, keyed in g.pred[key].items() for k in keyed if k in RESOURCE_LABELS]
    g.remove_edges_from(out + inc)


def _remove_vertex(g: nx.MultiDiGraph, key: str) -> None:
    """Remove a resource vertex and the alarms ``on`` it (their resource is gone)."""
    alarms = [u for u, keyed in g.pred[key].items() if ON in keyed]
    g.remove_nodes_from([key, *alarms])


def _carry_over(old: nx.MultiDiGraph, new: nx.MultiDiGraph) -> None:
    """Bring RCA's writes from ``old`` into a freshly built ``new``: alarm vertices whose
    resource exists in ``new``, with their edges between vertices both present; ``state`` and
    ``marked_down`` of resource vertices present in both."""
    alarms = []
    for key, attrs in old.nodes(data=True):
        if attrs.get("category") == ALARM:
            if attrs.get("resource") in new:
                alarms.append(key)
                new.add_node(key, **attrs)
        elif (attrs.get("state", OK) != OK or attrs.get("marked_down")) and key in new:
            target = new.nodes[key]
            for a in _KEPT_ATTRS:
                if a in attrs:
                    target[a] = attrs[a]
    for key in alarms:
        for _u, v, k, d in old.out_edges(key, keys=True, data=True):
            if v in new:
                new.add_edge(key, v, key=k, **d)
        for u, _v, k, d in old.in_edges(key, keys=True, data=True):
            if u in new:
                new.add_edge(u, key, key=k, **d)
