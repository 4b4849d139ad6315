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
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from nfvo.inventory.db import Database
from nfvo.inventory.models import NsVnf, NsVnfc
from nfvo.monitoring.model import Resource, ResourceKind

log = logging.getLogger(__name__)


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
    owner: dict[Resource, tuple[str, str]] = field(default_factory=dict)  # -> (vnf, ns)
    hosts: dict[Resource, Resource] = field(default_factory=dict)  # server -> host


_EMPTY = Membership()


class ResourceIndex:
    """A read-only, periodically refreshed map from VNF/NS to their servers and ports.

    Exists so that aggregate reads never query the database: lookups read an immutable
    snapshot swapped in whole by :meth:`refresh`."""

    def __init__(self, db: Database | None) -> None:
        self.db = db
        self._snap = _Snapshot()
        self._ext_cps: dict[str, frozenset[tuple[str, str]]] = {}  # vnf id -> {(vdu, cp)}
        self._lock = threading.Lock()  # one refresh at a time
        self.refreshed_at: float | None = None
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
        return tuple(s for s, h in self._snap.hosts.items() if h == host)

    def vnf_count(self) -> int:
        """VNFs in the index."""
        return len(self._snap.vnfs)

    # ------------------------------------------------------------------ refresh

    def refresh(self) -> None:
        """Re-read the inventory now (a no-op without a database). Errors propagate."""
        if self.db is None:
            return
        with self._lock:
            self._snap = self._build(self._read())

    def _read(self) -> list[Any]:
        assert self.db is not None
        with self.db.session() as s:
            rows = list(
                s.execute(
                    select(
                        NsVnfc.vnf_instance_id,
                        NsVnfc.ns_instance_id,
                        NsVnfc.vdu_id,
                        NsVnfc.vim_account_id,
                        NsVnfc.server_id,
                        NsVnfc.host,
                        NsVnfc.port_ids,
                    ).where(NsVnfc.server_id.is_not(None), NsVnfc.server_id != "")
                )
            )
            vnf_ids = set(s.scalars(select(NsVnf.id)))
            for gone in set(self._ext_cps) - vnf_ids:
                del self._ext_cps[gone]
            new = [v for v in vnf_ids if v not in self._ext_cps]
            for chunk in range(0, len(new), 500):
                ids = new[chunk : chunk + 500]
                for vid, spec in s.execute(select(NsVnf.id, NsVnf.spec).where(NsVnf.id.in_(ids))):
                    self._ext_cps[vid] = _ext_cps_of(spec)
        return rows

    def _build(self, rows: list[Any]) -> _Snapshot:
        servers: dict[str, list[Resource]] = {}
        ports: dict[str, list[Resource]] = {}
        ns_vnfs: dict[str, set[str]] = {}
        snap = _Snapshot()
        for vnf_id, ns_id, vdu_id, vim_id, server_id, host, port_ids in rows:
            server = Resource(ResourceKind.SERVER, server_id, vim_id)
            servers.setdefault(vnf_id, []).append(server)
            ns_vnfs.setdefault(ns_id, set()).add(vnf_id)
            snap.owner[server] = (vnf_id, ns_id)
            if host:
                snap.hosts[server] = Resource(ResourceKind.HOST, host, vim_id)
            ext = self._ext_cps.get(vnf_id, frozenset())
            for cp, port_id in (port_ids or {}).items():
                if not port_id:
                    continue
                port = Resource(ResourceKind.PORT, str(port_id), vim_id)
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
        return snap


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
