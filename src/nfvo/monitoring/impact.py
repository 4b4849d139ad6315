"""Which NS instances a fault on a resource affects, read from the inventory.

A host fault affects every NS with a VNFC on that host of that VIM; a server fault the NS
of the VNFC it is; a network fault every NS whose virtual links (NS-level or VNF-internal)
use it; a port fault the NS of the VNFC holding it; a zone or VIM fault every NS with VNFCs
there; a VNF or NS fault that NS directly. For each NS the answer also says what to name as
the alarm's root cause (SOL005 FaultyComponentInfo §8.5.3.4 and FaultyResourceInfo §8.5.3.5).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nfvo.inventory.models import NsInstance, NsVl, NsVnf, NsVnfc, NsVnfVl
from nfvo.monitoring.model import Resource, ResourceKind

COMPUTE, STORAGE, NETWORK = "COMPUTE", "STORAGE", "NETWORK"
# the VIM-level type named in ResourceHandle.vimLevelResourceType, per resource kind
_VIM_LEVEL = {
    ResourceKind.HOST: "host",
    ResourceKind.SERVER: "server",
    ResourceKind.NETWORK: "network",
    ResourceKind.PORT: "port",
    ResourceKind.ZONE: "zone",
    ResourceKind.VIM: "vim",
}
_RESOURCE_TYPE = {
    ResourceKind.HOST: COMPUTE,
    ResourceKind.SERVER: COMPUTE,
    ResourceKind.ZONE: COMPUTE,
    ResourceKind.NETWORK: NETWORK,
    ResourceKind.PORT: NETWORK,
    ResourceKind.VIM: NETWORK,
}
# at most this many NS instances are named by one fault (a VIM-wide fault on a huge VIM
# raises alarms on the first ones, in id order)
MAX_AFFECTED = 10_000


@dataclass
class Impact:
    """One NS instance a fault affects and what to name as the alarm's root cause."""

    ns_instance_id: str
    tenant_id: str | None
    vnf_instance_ids: set[str] = field(default_factory=set)
    virtual_link_ids: set[str] = field(default_factory=set)
    resource_handle: dict[str, Any] | None = None
    resource_type: str | None = None

    @property
    def faulty_component(self) -> dict[str, Any] | None:
        """FaultyComponentInfo: the one VNF instance (or NS virtual link) the fault is in,
        when there is exactly one; None otherwise (a host carrying several VNFs of the NS)."""
        if len(self.vnf_instance_ids) == 1:
            return {"faultyVnfInstanceId": next(iter(self.vnf_instance_ids))}
        if not self.vnf_instance_ids and len(self.virtual_link_ids) == 1:
            return {"faultyNsVirtualLinkInstanceId": next(iter(self.virtual_link_ids))}
        return None

    @property
    def faulty_resource(self) -> dict[str, Any] | None:
        """FaultyResourceInfo (None for VNF/NS-level faults, which name no VIM resource)."""
        if self.resource_handle is None or self.resource_type is None:
            return None
        return {"faultyResource": self.resource_handle, "faultyResourceType": self.resource_type}


def _handle(resource: Resource) -> tuple[dict[str, Any] | None, str | None]:
    if resource.kind not in _VIM_LEVEL:
        return None, None
    vim_id = resource.vim_id or resource.id
    handle = {
        "vimId": vim_id,
        "resourceId": resource.id,
        "vimLevelResourceType": _VIM_LEVEL[resource.kind],
    }
    return handle, _RESOURCE_TYPE[resource.kind]


def _vnfcs(s: Session, resource: Resource) -> Iterable[tuple[str, str]]:
    """(NS id, VNF instance id) of the VNFCs a compute-side resource holds."""
    q = select(NsVnfc.ns_instance_id, NsVnfc.vnf_instance_id)
    vim = NsVnfc.vim_account_id
    if resource.kind is ResourceKind.HOST:
        q = q.where(vim == resource.vim_id, NsVnfc.host == resource.id)
    elif resource.kind is ResourceKind.SERVER:
        q = q.where(vim == resource.vim_id, NsVnfc.server_id == resource.id)
    elif resource.kind is ResourceKind.ZONE:
        q = q.where(vim == resource.vim_id, NsVnfc.zone == resource.id)
    elif resource.kind is ResourceKind.VIM:
        q = q.where(vim == resource.id)
    else:
        return []
    return [(ns, vnf) for ns, vnf in s.execute(q.order_by(NsVnfc.ns_instance_id))]


def _port_holders(s: Session, resource: Resource) -> Iterable[tuple[str, str]]:
    q = select(NsVnfc.ns_instance_id, NsVnfc.vnf_instance_id, NsVnfc.port_ids).where(
        NsVnfc.vim_account_id == resource.vim_id
    )
    return [(ns, vnf) for ns, vnf, ports in s.execute(q) if resource.id in (ports or {}).values()]


def _network_users(s: Session, resource: Resource) -> tuple[list[tuple[str, str]], list]:
    """(NS id, VNF id) of VNF-internal links and (NS id, VL id) of NS links on a network."""
    internal = s.execute(
        select(NsVnfVl.ns_instance_id, NsVnfVl.vnf_instance_id)
        .join(NsVnf, NsVnf.id == NsVnfVl.vnf_instance_id)
        .where(NsVnfVl.network_id == resource.id, NsVnf.vim_account_id == resource.vim_id)
    ).all()
    ns_level = s.execute(
        select(NsVl.ns_instance_id, NsVl.vl_id).where(
            NsVl.network_id == resource.id, NsVl.vim_account_id == resource.vim_id
        )
    ).all()
    return [tuple(r) for r in internal], [tuple(r) for r in ns_level]


def affected(s: Session, resource: Resource) -> list[Impact]:
    """The NS instances a fault on ``resource`` affects (in NS id order), each with the
    VNF instances / NS virtual links it touches there; an empty list when none."""
    handle, rtype = _handle(resource)
    found: dict[str, Impact] = {}

    def touch(ns_id: str) -> Impact:
        if ns_id not in found:
            found[ns_id] = Impact(ns_id, None, resource_handle=handle, resource_type=rtype)
        return found[ns_id]

    kind = resource.kind
    if kind in (ResourceKind.HOST, ResourceKind.SERVER, ResourceKind.ZONE, ResourceKind.VIM):
        for ns_id, vnf_id in _vnfcs(s, resource):
            touch(ns_id).vnf_instance_ids.add(vnf_id)
        if kind is ResourceKind.VIM:  # NS links on the VIM too (an NS of networks only)
            for (ns_id,) in s.execute(
                select(NsVl.ns_instance_id).where(NsVl.vim_account_id == resource.id)
            ):
                touch(ns_id)
    elif kind is ResourceKind.PORT:
        for ns_id, vnf_id in _port_holders(s, resource):
            touch(ns_id).vnf_instance_ids.add(vnf_id)
    elif kind is ResourceKind.NETWORK:
        internal, ns_level = _network_users(s, resource)
        for ns_id, vnf_id in internal:
            touch(ns_id).vnf_instance_ids.add(vnf_id)
        for ns_id, vl_id in ns_level:
            touch(ns_id).virtual_link_ids.add(vl_id)
    elif kind is ResourceKind.VNF:
        ns_id = s.scalar(select(NsVnf.ns_instance_id).where(NsVnf.id == resource.id))
        if ns_id:
            touch(ns_id).vnf_instance_ids.add(resource.id)
    elif kind is ResourceKind.NS:
        touch(resource.id)
    return _with_tenants(s, found)


def _with_tenants(s: Session, found: dict[str, Impact]) -> list[Impact]:
    """The impacts whose NS exists, with its tenant; at most MAX_AFFECTED (in id order)."""
    ids = sorted(found)[:MAX_AFFECTED]
    out: list[Impact] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = s.execute(
            select(NsInstance.id, NsInstance.tenant_id).where(NsInstance.id.in_(chunk))
        )
        for ns_id, tenant in rows:
            found[ns_id].tenant_id = tenant
            out.append(found[ns_id])
    return sorted(out, key=lambda i: i.ns_instance_id)
