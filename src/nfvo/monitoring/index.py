"""Which servers and ports make up which VNF and NS, read from the inventory.

The hub aggregates VNF and NS metrics over their servers (VNFCs) and external-CP ports; this
index answers "whose are these" from the inventory's ``ns_vnfcs`` and ``ns_vnfs`` rows. It is
refreshed on an interval and on demand (:meth:`ResourceIndex.refresh`); a refresh is two
column-only queries over ``ns_vnfcs`` and ``ns_vnfs`` ids, plus one read of the deployment
spec of VNFs not seen before (a spec's external networks do not change with scaling), so it
stays cheap at tens of thousands of VNFCs.

External CPs: a VNFC's ``port_ids`` is keyed by CP id; the CPs whose network in the VNF's
deployment spec (``spec.vdus[].cps[].network``) is one of ``spec.ext_networks`` (the NS
virtual links the VNF is bound to) are the VNF's external CPs, as the NS LCM's ``extCpInfo``
reads them. A VNF without a spec (rows of older versions) counts no external CP.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, literal, select, union_all

from nfvo.inventory.db import Database
from nfvo.inventory.models import NsVl, NsVnf, NsVnfc, NsVnfVl
from nfvo.monitoring.model import Resource, ResourceKind

log = logging.getLogger(__name__)

FULL_REFRESH_S = 60.0  # the index is re-read whole at least this often


@dataclass(frozen=True)
class Membership:
    """What one VNF or NS is made of: its servers and its external-CP ports."""

    servers: tuple[Resource, ...] = ()
    ext_ports: tuple[Resource, ...] = ()
    vnfs: tuple[str, ...] = ()  # NS only: its VNF instance ids


@dataclass
class _Snapshot:
    vnfs: dict[str, Membership] = field(default_factory=dict)
    nss: dict[str, Membership] = field(default_factory=dict)
    vnf_ns: dict[str, str] = field(default_factory=dict)
    owner: dict[Resource, tuple[str, str]] = field(default_factory=dict)  # -> (vnf, ns)
    hosts: dict[Resource, Resource] = field(default_factory=dict)  # server -> host
    on_host: dict[Resource, list[Resource]] = field(default_factory=dict)  # host -> servers
    # host, zone, VIM, network -> (vnf id, ns id) of what it carries ("" vnf: an NS link)
    carries: dict[Resource, set[tuple[str, str]]] = field(default_factory=dict)


_EMPTY = Membership()


class ResourceIndex:
    """A read-only, periodically refreshed map from VNF/NS to their servers and ports.

    Exists so that aggregate reads never query the database: lookups read an immutable
    snapshot swapped in whole by :meth:`refresh`."""

    def __init__(self, db: Database | None) -> None:
        self.db = db
        self._snap = _Snapshot()
        self._ext_cps: dict[str, frozenset[tuple[str, str]]] = {}  # vnf id -> {(vdu, cp)}
        self._resources: dict[tuple[ResourceKind, str, str], Resource] = {}
        self._lock = threading.Lock()  # one refresh at a time
        self.refreshed_at: float | None = None
        self._sig: tuple[Any, ...] | None = None
        self._full_at = -FULL_REFRESH_S
        self.last_error: str | None = None

    # ------------------------------------------------------------------ reads

    def of(self, resource: Resource) -> Membership:
        """The servers and external ports of a VNF or NS resource (empty when unknown)."""
        snap = self._snap
        if resource.kind is ResourceKind.VNF:
            return snap.vnfs.get(resource.id, _EMPTY)
        if resource.kind is ResourceKind.NS:
            return snap.nss.get(resource.id, _EMPTY)
        return _EMPTY

    def owner(self, resource: Resource) -> tuple[str, str] | None:
        """(VNF instance id, NS instance id) a server or port belongs to, if known."""
        return self._snap.owner.get(resource)

    def host_of(self, server: Resource) -> Resource | None:
        """The host a server runs on, if the inventory knows it."""
        return self._snap.hosts.get(server)

    def servers_on(self, host: Resource) -> tuple[Resource, ...]:
        """The servers the inventory places on a host."""
        return tuple(self._snap.on_host.get(host, ()))

    def owners(self, resource: Resource) -> frozenset[tuple[str, str]]:
        """(VNF instance id, NS instance id) of everything a fault on ``resource`` touches:
        the owner of a server or port; the VNFCs on a host, in a zone or on a VIM; the VNFs
        on a network (``""`` as VNF id for an NS virtual link); a VNF itself; the VNFs of an
        NS. Empty when the inventory knows none."""
        snap = self._snap
        kind = resource.kind
        if kind in (ResourceKind.SERVER, ResourceKind.PORT):
            one = snap.owner.get(resource)
            return frozenset((one,)) if one else frozenset()
        if kind is ResourceKind.VNF:
            ns = snap.vnf_ns.get(resource.id)
            return frozenset(((resource.id, ns),)) if ns else frozenset()
        if kind is ResourceKind.NS:
            m = snap.nss.get(resource.id)
            return frozenset((v, resource.id) for v in m.vnfs) if m else frozenset()
        return frozenset(snap.carries.get(resource, ()))

    def ns_ids(self, resource: Resource) -> frozenset[str]:
        """The NS instances a fault on ``resource`` touches (see :meth:`owners`)."""
        return frozenset(ns for _vnf, ns in self.owners(resource))

    def vnf_count(self) -> int:
        """VNFs in the index."""
        return len(self._snap.vnfs)

    # ------------------------------------------------------------------ refresh

    def refresh(self) -> None:
        """Re-read the inventory now (a no-op without a database). Errors propagate."""
        if self.db is None:
            return
        with self._lock:
            sig = self._signature()
            self._snap = self._build(*self._read())
            self._sig, self._full_at = sig, time.monotonic()
            self.refreshed_at = time.time()

    def refresh_if_changed(self) -> bool:
        """Re-read the inventory if its VNFC and VNF rows changed (one cheap aggregate query
        tells), and at least every :data:`FULL_REFRESH_S` regardless; True if it re-read."""
        if self.db is None:
            return False
        fresh = time.monotonic() - self._full_at < FULL_REFRESH_S
        if fresh and self._sig is not None and self._signature() == self._sig:
            return False
        self.refresh()
        return True

    def _signature(self) -> tuple[Any, ...]:
        # rows added, deleted or updated change a count or the newest updated_at; a
        # transaction committing an older updated_at late is caught by the full refresh
        assert self.db is not None
        with self.db.session() as s:
            vnfcs = s.execute(select(func.count(), func.max(NsVnfc.updated_at))).one()
            counts = [s.scalar(select(func.count()).select_from(t)) for t in (NsVnf, NsVl, NsVnfVl)]
        return (*vnfcs, *counts)

    def _read(self) -> tuple[list[Any], list[Any]]:
        assert self.db is not None
        c = NsVnfc.__table__.c
        query = select(
            c.vnf_instance_id, c.ns_instance_id, c.vdu_id, c.vim_account_id, c.server_id
        ).add_columns(c.host, c.zone, c.port_ids)
        # Core rows, not ORM entities: a refresh of 10,000 VNFCs stays in tens of ms
        with self.db.engine.connect() as conn:
            rows = list(conn.execute(query.where(c.server_id.is_not(None), c.server_id != "")))
            vnf_ids = set(conn.scalars(select(NsVnf.__table__.c.id)))
            for gone in set(self._ext_cps) - vnf_ids:
                del self._ext_cps[gone]
            new = [v for v in vnf_ids if v not in self._ext_cps]
            v = NsVnf.__table__.c
            for chunk in range(0, len(new), 500):
                ids = new[chunk : chunk + 500]
                for vid, spec in conn.execute(select(v.id, v.spec).where(v.id.in_(ids))):
                    self._ext_cps[vid] = _ext_cps_of(spec)
            links = list(conn.execute(_LINKS))
        return rows, links

    def _build(self, rows: list[Any], links: list[Any]) -> _Snapshot:
        servers: dict[str, list[Resource]] = {}
        ports: dict[str, list[Resource]] = {}
        ns_vnfs: dict[str, set[str]] = {}
        snap = _Snapshot()
        known = self._resources
        fresh: dict[tuple[ResourceKind, str, str], Resource] = {}

        def resource(kind: ResourceKind, rid: str, vim_id: str) -> Resource:
            k = (kind, vim_id, rid)
            r = known.get(k) or fresh.get(k)
            if r is None:
                r = Resource(kind, rid, vim_id)
            fresh[k] = r
            return r

        def carries(r: Resource, vnf_id: str, ns_id: str) -> None:
            snap.carries.setdefault(r, set()).add((vnf_id, ns_id))

        vims: dict[str, Resource] = {}
        for vnf_id, ns_id, vdu_id, vim_id, server_id, host, zone, port_ids in rows:
            server = resource(ResourceKind.SERVER, server_id, vim_id)
            servers.setdefault(vnf_id, []).append(server)
            ns_vnfs.setdefault(ns_id, set()).add(vnf_id)
            snap.vnf_ns[vnf_id] = ns_id
            snap.owner[server] = (vnf_id, ns_id)
            vim = vims.get(vim_id) or vims.setdefault(vim_id, Resource(ResourceKind.VIM, vim_id))
            carries(vim, vnf_id, ns_id)
            if host:
                h = resource(ResourceKind.HOST, host, vim_id)
                snap.hosts[server] = h
                snap.on_host.setdefault(h, []).append(server)
                carries(h, vnf_id, ns_id)
            if zone:
                carries(resource(ResourceKind.ZONE, zone, vim_id), vnf_id, ns_id)
            ext = self._ext_cps.get(vnf_id, frozenset())
            for cp, port_id in (port_ids or {}).items():
                if not port_id:
                    continue
                port = resource(ResourceKind.PORT, str(port_id), vim_id)
                snap.owner[port] = (vnf_id, ns_id)
                if (vdu_id, cp) in ext:
                    ports.setdefault(vnf_id, []).append(port)
        for vnf_id in set(servers) | set(ports):
            snap.vnfs[vnf_id] = Membership(
                tuple(servers.get(vnf_id, ())), tuple(ports.get(vnf_id, ()))
            )
        for ns_id, vids in ns_vnfs.items():
            ordered = tuple(sorted(vids))
            snap.nss[ns_id] = Membership(
                tuple(s for v in ordered for s in snap.vnfs[v].servers),
                tuple(p for v in ordered for p in snap.vnfs[v].ext_ports),
                ordered,
            )
        for vnf_id, ns_id, vim_id, network_id in links:
            if network_id and vim_id:
                carries(resource(ResourceKind.NETWORK, network_id, vim_id), vnf_id or "", ns_id)
        self._resources = fresh  # the next build reuses these objects (and their hashes)
        return snap


# every network of an NS: its own virtual links (per VIM) and its VNFs' internal ones
_NS_LINKS = select(
    literal("").label("vnf_instance_id"),
    NsVl.__table__.c.ns_instance_id,
    NsVl.__table__.c.vim_account_id,
    NsVl.__table__.c.network_id,
)
_VNF_LINKS = select(
    NsVnfVl.__table__.c.vnf_instance_id,
    NsVnfVl.__table__.c.ns_instance_id,
    NsVnf.__table__.c.vim_account_id,
    NsVnfVl.__table__.c.network_id,
).join(NsVnf.__table__, NsVnf.__table__.c.id == NsVnfVl.__table__.c.vnf_instance_id)
_LINKS = union_all(_NS_LINKS, _VNF_LINKS)


def _ext_cps_of(spec: Mapping[str, Any] | None) -> frozenset[tuple[str, str]]:
    """(vdu id, cp id) of the CPs of a deployment spec that sit on the VNF's external
    networks (NS virtual links)."""
    if not spec:
        return frozenset()
    ext = set(spec.get("ext_networks") or {})
    out = set()
    for vdu in spec.get("vdus") or []:
        for cp in vdu.get("cps") or []:
            if cp.get("network") in ext:
                out.add((vdu.get("vdu_id"), cp.get("cp_id")))
    return frozenset(out)
