"""What the RCA entity graph is made of, read from the inventory in a few column-only queries.

Two parts, read and changed independently:

* the infrastructure: VIM accounts, their zones, hosts and networks (``vim_accounts``,
  ``vim_zones``, ``vim_hosts``, ``vim_networks``); small, read whole on every change check;
* the NS instances: their VNF instances, VNFCs (servers, with host, zone and ports), NS
  virtual links and VNF-internal virtual links (``ns_instances``, ``ns_vnfs``, ``ns_vnfcs``,
  ``ns_vls``, ``ns_vnf_vls``), read for all NS instances or for the few that changed (one
  query per table, ids in chunks, never one query per row).

A port's network comes from the VNF's deployment spec (``spec.vdus[].cps[].network`` names
a VL: the VNF's internal VL, or an NS virtual link on the VNF's VIM).

:func:`add_infra` and :func:`add_ns` write the vertices and edges into a networkx
``MultiDiGraph`` (vertex keys are ``Resource.key``; edge key = label).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
from sqlalchemy import Connection, Select, func, select

from nfvo.inventory.models import (
    NsInstance,
    NsVl,
    NsVnf,
    NsVnfc,
    NsVnfVl,
    VimAccount,
    VimHost,
    VimNetwork,
    VimZone,
)
from nfvo.monitoring.model import ResourceKind

RESOURCE, ALARM = "RESOURCE", "ALARM"  # vertex categories
CONTAINS, COMPRISES, ATTACHED, ON, CAUSES = "contains", "comprises", "attached", "on", "causes"
RESOURCE_LABELS = frozenset({CONTAINS, COMPRISES, ATTACHED})  # written from the inventory
LABELS = RESOURCE_LABELS | {ON, CAUSES}
OK = "OK"
CHUNK = 500  # ids per IN (...) list

_VIM, _ZONE, _HOST = ResourceKind.VIM.value, ResourceKind.ZONE.value, ResourceKind.HOST.value
_SERVER, _PORT, _NET = ResourceKind.SERVER.value, ResourceKind.PORT.value, "network"
_VNF, _NS = ResourceKind.VNF.value, ResourceKind.NS.value


def vim_key(vim_id: str) -> str:
    return f"{_VIM}:{vim_id}"


def scoped_key(kind: str, vim_id: str, rid: str) -> str:
    """The key of a VIM-scoped resource (zone, host, server, port, network)."""
    return f"{kind}:{vim_id}:{rid}"


# ------------------------------------------------------------------------------ rows


@dataclass(frozen=True)
class Infra:
    """The infrastructure rows (sorted tuples: two reads compare equal when nothing changed)."""

    vims: tuple[tuple[Any, ...], ...] = ()  # (id, tenant_id, name, vim_type)
    zones: tuple[tuple[Any, ...], ...] = ()  # (vim_id, name)
    hosts: tuple[tuple[Any, ...], ...] = ()  # (vim_id, name, zone)
    networks: tuple[tuple[Any, ...], ...] = ()  # (vim_id, id, name)


@dataclass
class NsRows:
    """The rows of some NS instances."""

    ns: list[tuple[Any, ...]] = field(default_factory=list)  # id, tenant, name, state
    vnfs: list[tuple[Any, ...]] = field(default_factory=list)  # id, ns, profile, vnfd, vim
    vnfcs: list[tuple[Any, ...]] = field(default_factory=list)
    vls: list[tuple[Any, ...]] = field(default_factory=list)  # ns, vl, vim, network
    vnf_vls: list[tuple[Any, ...]] = field(default_factory=list)  # vnf, vl, network
    cps: dict[str, dict[tuple[str, str], str]] = field(default_factory=dict)  # vnf -> cp -> vl


def _sorted(conn: Connection, q: Select[Any]) -> tuple[tuple[Any, ...], ...]:
    return tuple(sorted((tuple(r) for r in conn.execute(q)), key=lambda r: tuple(map(str, r))))


def read_infra(conn: Connection) -> Infra:
    """Every VIM account, zone, host and network of the inventory."""
    v, z, h, n = (t.__table__.c for t in (VimAccount, VimZone, VimHost, VimNetwork))
    return Infra(
        _sorted(conn, select(v.id, v.tenant_id, v.name, v.vim_type)),
        _sorted(conn, select(z.vim_id, z.name)),
        _sorted(conn, select(h.vim_id, h.name, h.zone)),
        _sorted(conn, select(n.vim_id, n.id, n.name)),
    )


def ns_aggregate(conn: Connection) -> tuple[Any, ...]:
    """One cheap read that changes when an NS, VNF, VNFC or VL row is added or removed, or an
    NS or VNFC row is updated (a late commit of an older timestamp is left to the resync)."""
    ns, vnfc = NsInstance.__table__.c, NsVnfc.__table__.c
    out = list(conn.execute(select(func.count(), func.max(ns.updated_at))).one())
    out += conn.execute(select(func.count(), func.max(vnfc.updated_at))).one()
    for t in (NsVnf, NsVl, NsVnfVl):
        out.append(conn.scalar(select(func.count()).select_from(t.__table__)))
    return tuple(out)


def ns_signatures(conn: Connection) -> dict[str, tuple[Any, ...]]:
    """Per NS instance: what changes when its rows change (grouped reads, one per table)."""
    ns, vnfc = NsInstance.__table__.c, NsVnfc.__table__.c
    sig: dict[str, list[Any]] = {
        i: [t, name, state, up, 0, None, 0, 0, 0]
        for i, t, name, state, up in conn.execute(
            select(ns.id, ns.tenant_id, ns.name, ns.ns_state, ns.updated_at)
        )
    }

    def put(q: Select[Any], at: int) -> None:
        for row in conn.execute(q):
            if row[0] in sig:
                sig[row[0]][at : at + len(row) - 1] = row[1:]

    put(
        select(vnfc.ns_instance_id, func.count(), func.max(vnfc.updated_at)).group_by(
            vnfc.ns_instance_id
        ),
        4,
    )
    for at, t in ((6, NsVnf), (7, NsVl), (8, NsVnfVl)):
        c = t.__table__.c
        put(select(c.ns_instance_id, func.count()).group_by(c.ns_instance_id), at)
    return {k: tuple(v) for k, v in sig.items()}


def _chunks(ids: Sequence[str] | None) -> Iterator[Sequence[str] | None]:
    if ids is None:
        yield None
        return
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


def _rows(
    conn: Connection, q: Select[Any], col: Any, chunk: Sequence[str] | None
) -> list[tuple[Any, ...]]:
    if chunk is not None:
        q = q.where(col.in_(chunk))
    return [tuple(r) for r in conn.execute(q)]


def read_ns(conn: Connection, ns_ids: Iterable[str] | None = None) -> NsRows:
    """The rows of the NS instances ``ns_ids`` (all when None): six queries per chunk of ids."""
    ids = None if ns_ids is None else sorted(ns_ids)
    ns, vnf, vnfc = NsInstance.__table__.c, NsVnf.__table__.c, NsVnfc.__table__.c
    vl, vvl = NsVl.__table__.c, NsVnfVl.__table__.c
    servers = select(
        vnfc.vnf_instance_id, vnfc.vdu_id, vnfc.key, vnfc.vim_account_id, vnfc.server_id
    ).add_columns(vnfc.host, vnfc.zone, vnfc.port_ids)
    servers = servers.where(vnfc.server_id.is_not(None), vnfc.server_id != "")
    out = NsRows()
    for chunk in _chunks(ids):
        out.ns += _rows(conn, select(ns.id, ns.tenant_id, ns.name, ns.ns_state), ns.id, chunk)
        out.vnfs += _rows(
            conn,
            select(vnf.id, vnf.ns_instance_id, vnf.vnf_profile_id, vnf.vnfd_id, vnf.vim_account_id),
            vnf.ns_instance_id,
            chunk,
        )
        for vid, spec in _rows(conn, select(vnf.id, vnf.spec), vnf.ns_instance_id, chunk):
            out.cps[vid] = cp_networks(spec)
        out.vnfcs += _rows(conn, servers, vnfc.ns_instance_id, chunk)
        out.vls += _rows(
            conn,
            select(vl.ns_instance_id, vl.vl_id, vl.vim_account_id, vl.network_id),
            vl.ns_instance_id,
            chunk,
        )
        out.vnf_vls += _rows(
            conn, select(vvl.vnf_instance_id, vvl.vl_id, vvl.network_id), vvl.ns_instance_id, chunk
        )
    return out


def cp_networks(spec: Mapping[str, Any] | None) -> dict[tuple[str, str], str]:
    """(VDU id, CP id) -> the VL id its port sits on, from a VNF's deployment spec."""
    out: dict[tuple[str, str], str] = {}
    for vdu in (spec or {}).get("vdus") or []:
        for cp in vdu.get("cps") or []:
            if cp.get("network"):
                out[(str(vdu.get("vdu_id")), str(cp.get("cp_id")))] = str(cp["network"])
    return out


# ------------------------------------------------------------------------------ vertices


def _resource(kind: str, rid: str, vim_id: str | None, name: str, **extra: Any) -> dict[str, Any]:
    return {
        "category": RESOURCE,
        "type": kind,
        "id": rid,
        "vim_id": vim_id,
        "name": name,
        "state": OK,
        "marked_down": False,
        **extra,
    }


def link(g: nx.MultiDiGraph, src: str, dst: str, label: str, **attrs: Any) -> None:
    """Add the edge ``src -[label]-> dst`` (the edge key is the label: adding it twice keeps
    one)."""
    g.add_edge(src, dst, key=label, label=label, **attrs)


# Building: tens of thousands of vertices and edges go into a graph no one else sees yet, so
# they are written straight into networkx's adjacency dictionaries, as ``add_node`` and
# ``add_edge`` of a MultiDiGraph write them (a vertex: its attribute dict and empty
# successor and predecessor dicts; an edge: one key dict shared by both directions), without
# their per-call checks and copies: a third of the build time at 10,000 VNFCs.


def _put(g: nx.MultiDiGraph, key: str, attrs: dict[str, Any]) -> None:
    """Add vertex ``key`` with ``attrs`` (taken as is), or update an existing one's."""
    if key in g._node:
        g._node[key].update(attrs)
        return
    g._succ[key] = {}
    g._pred[key] = {}
    g._node[key] = attrs


def _link(g: nx.MultiDiGraph, src: str, dst: str, label: str, **attrs: Any) -> None:
    """:func:`link` between two vertices that exist, in a graph being built."""
    keyed = g._succ[src].get(dst)
    if keyed is None:
        keyed = g._succ[src][dst] = g._pred[dst][src] = {}
    data = keyed.get(label)
    if data is None:
        keyed[label] = {"label": label, **attrs}
    else:
        data.update(attrs)


class _Parents:
    """Finds or creates the VIM, zone and host vertices servers hang under."""

    def __init__(self, g: nx.MultiDiGraph) -> None:
        self.g = g

    def vim(self, vim_id: str) -> str:
        key = vim_key(vim_id)
        if key not in self.g:
            attrs = _resource(_VIM, vim_id, vim_id, vim_id, tenant_id=None, registered=False)
            _put(self.g, key, attrs)
        return key

    def zone(self, vim_id: str, name: str) -> str:
        key = scoped_key(_ZONE, vim_id, name)
        if key not in self.g:
            _put(self.g, key, _resource(_ZONE, name, vim_id, name))
            _link(self.g, self.vim(vim_id), key, CONTAINS)
        return key

    def host(self, vim_id: str, name: str, zone: str | None) -> str:
        key = scoped_key(_HOST, vim_id, name)
        if key not in self.g:
            _put(self.g, key, _resource(_HOST, name, vim_id, name, zone=zone or None))
            parent = self.zone(vim_id, zone) if zone else self.vim(vim_id)
            _link(self.g, parent, key, CONTAINS)
        return key

    def of_server(self, vim_id: str, host: str | None, zone: str | None) -> str:
        if host:
            return self.host(vim_id, host, zone)
        return self.zone(vim_id, zone) if zone else self.vim(vim_id)


def add_infra(g: nx.MultiDiGraph, infra: Infra) -> None:
    """The VIM, zone, host and network vertices of the inventory, and their ``contains``
    edges (a host of no known zone hangs under its VIM)."""
    parents = _Parents(g)
    for vim_id, tenant, name, vim_type in infra.vims:
        _put(
            g,
            vim_key(vim_id),
            _resource(
                _VIM, vim_id, vim_id, name, tenant_id=tenant, vim_type=vim_type, registered=True
            ),
        )
    for vim_id, name in infra.zones:
        parents.zone(vim_id, name)
    for vim_id, name, zone in infra.hosts:
        parents.host(vim_id, name, zone)
    for vim_id, net_id, name in infra.networks:
        parents.vim(vim_id)
        _put(g, scoped_key(_NET, vim_id, net_id), _network(net_id, vim_id, name))


def infra_keys(infra: Infra) -> frozenset[str]:
    """The vertices the infrastructure rows themselves back (kept with no server under)."""
    keys = {vim_key(v[0]) for v in infra.vims}
    keys |= {scoped_key(_ZONE, vim, name) for vim, name in infra.zones}
    keys |= {scoped_key(_HOST, vim, name) for vim, name, _zone in infra.hosts}
    keys |= {scoped_key(_NET, vim, net) for vim, net, _name in infra.networks}
    return frozenset(keys)


def _network(net_id: str, vim_id: str, name: str | None) -> dict[str, Any]:
    return _resource(_NET, net_id, vim_id, name or net_id, ns_instance_id=None, vl_id=None)


def add_ns(g: nx.MultiDiGraph, rows: NsRows) -> dict[str, set[str]]:
    """The vertices and edges of the NS instances in ``rows`` (with the VIM, zone and host
    vertices they need, created when missing); returns the vertices each NS owns (its own,
    its VNFs', servers' and ports'), networks aside: several NS may share one."""
    parents = _Parents(g)
    owned: dict[str, set[str]] = {}
    ns_tenant: dict[str, str | None] = {}
    for ns_id, tenant, name, state in rows.ns:
        key = f"{_NS}:{ns_id}"
        _put(g, key, _resource(_NS, ns_id, None, name, tenant_id=tenant, ns_state=state))
        owned[ns_id] = {key}
        ns_tenant[ns_id] = tenant
    vnfs: dict[str, tuple[str, str]] = {}  # vnf id -> (ns id, vim id)
    for vnf_id, ns_id, profile, vnfd, vim_id in rows.vnfs:
        if ns_id not in owned:
            continue
        key = f"{_VNF}:{vnf_id}"
        _put(
            g,
            key,
            _resource(
                _VNF,
                vnf_id,
                vim_id,
                profile,
                tenant_id=ns_tenant[ns_id],
                ns_instance_id=ns_id,
                vnfd_id=vnfd,
            ),
        )
        _link(g, f"{_NS}:{ns_id}", key, COMPRISES)
        owned[ns_id].add(key)
        vnfs[vnf_id] = (ns_id, vim_id)
    nets = _add_networks(g, rows, vnfs, set(owned))
    for vnf_id, vdu_id, vnfc_key, vim_id, server_id, host, zone, port_ids in rows.vnfcs:
        if vnf_id not in vnfs:
            continue
        ns_id = vnfs[vnf_id][0]
        key = scoped_key(_SERVER, vim_id, server_id)
        vnfc = vnfc_key.replace("/", "-")
        _put(
            g,
            key,
            _resource(
                _SERVER,
                server_id,
                vim_id,
                vnfc,
                tenant_id=ns_tenant[ns_id],
                ns_instance_id=ns_id,
                vnf_instance_id=vnf_id,
                vnfc_id=vnfc,
                vdu_id=vdu_id,
                host=host or None,
                zone=zone or None,
            ),
        )
        _link(g, parents.of_server(vim_id, host, zone), key, CONTAINS)
        _link(g, f"{_VNF}:{vnf_id}", key, COMPRISES)
        owned[ns_id].add(key)
        cps = rows.cps.get(vnf_id, {})
        for cp_id, port_id in sorted((port_ids or {}).items()):
            if not port_id:
                continue
            pkey = scoped_key(_PORT, vim_id, str(port_id))
            _put(
                g,
                pkey,
                _resource(
                    _PORT,
                    str(port_id),
                    vim_id,
                    f"{vnfc}-{cp_id}",
                    tenant_id=ns_tenant[ns_id],
                    ns_instance_id=ns_id,
                    vnf_instance_id=vnf_id,
                    cp_id=cp_id,
                ),
            )
            _link(g, pkey, key, ATTACHED)
            owned[ns_id].add(pkey)
            net = nets.get((vnf_id, cps.get((vdu_id, cp_id), "")))
            if net is not None:
                _link(g, pkey, net, ATTACHED)
    return owned


def _add_networks(
    g: nx.MultiDiGraph, rows: NsRows, vnfs: Mapping[str, tuple[str, str]], nss: set[str]
) -> dict[tuple[str, str], str]:
    """NS and VNF-internal VL networks with their ``comprises`` edges from the NS; returns
    (VNF id, VL id) -> network vertex, for the VNFs' ports."""
    ns_vls: dict[tuple[str, str, str], str] = {}  # (ns, vl, vim) -> network key
    out: dict[tuple[str, str], str] = {}

    def network(ns_id: str, vim_id: str, net_id: str, vl_id: str) -> str:
        key = scoped_key(_NET, vim_id, net_id)
        if key not in g:
            _put(g, key, _network(net_id, vim_id, None))
        _link(g, f"{_NS}:{ns_id}", key, COMPRISES, vl_id=vl_id)
        return key

    for ns_id, vl_id, vim_id, net_id in rows.vls:
        if ns_id in nss and net_id:
            ns_vls[(ns_id, vl_id, vim_id)] = network(ns_id, vim_id, net_id, vl_id)
    for vnf_id, (ns_id, vim_id) in vnfs.items():
        for vl_id in set(rows.cps.get(vnf_id, {}).values()):
            if (ns_id, vl_id, vim_id) in ns_vls:
                out[(vnf_id, vl_id)] = ns_vls[(ns_id, vl_id, vim_id)]
    for vnf_id, vl_id, net_id in rows.vnf_vls:
        if vnf_id in vnfs and net_id:
            ns_id, vim_id = vnfs[vnf_id]
            out[(vnf_id, vl_id)] = network(ns_id, vim_id, net_id, vl_id)
    return out


def label_networks(g: nx.MultiDiGraph, keys: Iterable[str]) -> None:
    """Set ``ns_instance_id`` and ``vl_id`` of network vertices from the NS comprising them
    (the smallest NS id, when several share one network; None when none does)."""
    for key in keys:
        if key not in g or g.nodes[key].get("type") != _NET:
            continue
        best: tuple[str, str | None] | None = None
        for src, keyed in g.pred[key].items():
            data = keyed.get(COMPRISES)
            if data is not None and (best is None or src < best[0]):
                best = (src, data.get("vl_id"))
        attrs = g.nodes[key]
        attrs["ns_instance_id"] = best[0].partition(":")[2] if best else None
        attrs["vl_id"] = best[1] if best else None
