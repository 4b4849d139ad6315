"""The read model of NS life-cycle management: SOL005 ``NsInstance`` (with its
``VnfInstance``s and virtual links) and ``NsLcmOpOcc`` composed from the inventory's rows.

The one place that turns NS rows into their SOL005 views; the API only serves what this
returns. A page of NS instances is composed with one query per table, whatever its size.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from nfvo.catalog.service import CatalogService
from nfvo.catalog.states import PackageKind
from nfvo.inventory.db import Database
from nfvo.inventory.lcm_repo import NsRecordsRepository, OpOccRepository
from nfvo.inventory.models import (
    CatalogPackage,
    NsInstance,
    NsLcmOpOcc,
    NsVl,
    NsVnf,
    NsVnfc,
    NsVnfVl,
)
from nfvo.lcm.codec import spec_from_json, vnfc_id
from nfvo.vim.registry import resource_types


def iso(dt: datetime) -> str:
    """RFC 3339 with an explicit UTC offset (SQLite hands back naive UTC datetimes)."""
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).isoformat()


class NsReadModel:
    """Composes NsInstance and NsLcmOpOcc views from rows (batched per page)."""

    def __init__(self, db: Database, catalog: CatalogService) -> None:
        self.db = db
        self.catalog = catalog

    def ns_views(
        self, rows: Sequence[NsInstance], base: str, *, detail: bool = True
    ) -> list[dict[str, Any]]:
        """The NsInstance of each row, in order. ``detail=False`` leaves out what lists
        exclude by default (``vnfInstance``, ``virtualLinkInfo``) and skips loading it."""
        ids = [ns.id for ns in rows]
        vnfs: dict[str, list[NsVnf]] = {}
        vnfcs: dict[str, list[NsVnfc]] = {}
        vnf_vls: dict[str, list[NsVnfVl]] = {}
        ns_vls: dict[str, list[NsVl]] = {}
        vim_types: dict[str, str] = {}
        if detail and ids:
            with self.db.session() as s:
                repo = NsRecordsRepository(s)
                vnfs = repo.vnfs_of(ids)
                vnfcs = repo.vnfcs_of(ids)
                vnf_vls = repo.vnf_vls_of(ids)
                ns_vls = repo.ns_vls_of(ids)
                vim_types = repo.vim_types(
                    [v.vim_account_id for rows in vnfs.values() for v in rows]
                    + [v.vim_account_id for rows in ns_vls.values() for v in rows]
                )
        kinds = _ResourceTypes(vim_types)
        packages: dict[str, CatalogPackage] = {}
        out = []
        for ns in rows:
            body = _ns_body(ns, base)
            if detail:
                vnf_views = []
                for vnf in vnfs.get(ns.id, []):
                    if vnf.vnfd_id not in packages:
                        packages[vnf.vnfd_id] = self.catalog.find_onboarded(
                            PackageKind.vnf, vnf.vnfd_id
                        )
                    vnf_views.append(
                        _vnf_instance(
                            vnf,
                            vnfcs.get(vnf.id, []),
                            vnf_vls.get(vnf.id, []),
                            packages[vnf.vnfd_id],
                            kinds,
                        )
                    )
                if vnf_views:
                    body["vnfInstance"] = vnf_views
                vls = _ns_vl_views(ns_vls.get(ns.id, []), kinds)
                if vls:
                    body["virtualLinkInfo"] = vls
            out.append(body)
        return out

    def ns_view(self, ns: NsInstance, base: str) -> dict[str, Any]:
        """One NsInstance."""
        return self.ns_views([ns], base)[0]

    def connection_points(self, ns_id: str) -> dict[tuple[str, str, str], tuple[str, bool]]:
        """Where each VDU connection point of the NS's VNFs sits: ``(VNF instance id, VDU id,
        CP id) -> (virtual link id, whether it is an NS virtual link)`` (from the VNF specs;
        the NsInstance view does not say)."""
        with self.db.session() as s:
            vnfs = NsRecordsRepository(s).vnfs(ns_id)
            out: dict[tuple[str, str, str], tuple[str, bool]] = {}
            for vnf in vnfs:
                spec = spec_from_json(vnf.spec)
                ext = set(spec.ext_networks)
                for vdu in spec.vdus:
                    for cp in vdu.cps:
                        out[(vnf.id, vdu.vdu_id, cp.cp_id)] = (cp.network, cp.network in ext)
        return out

    def vnf_states(self, ns_id: str) -> dict[str, bool]:
        """Each VNF instance of the NS and whether it is instantiated (one query)."""
        with self.db.session() as s:
            return {v.id: v.instantiated for v in NsRecordsRepository(s).vnfs(ns_id)}

    def recent_ops(
        self,
        tenant: str | None,
        *,
        before: tuple[datetime, str] | None = None,
        limit: int = 50,
        **equal: str,
    ) -> list[Any]:
        """Op occurrences the caller owns, newest first (keyset paging: ``before`` is the
        ``(start_time, id)`` of the last one seen), filtered by ``ns_instance_id``, ``state``
        or ``operation`` when given; rows with the list's columns only."""
        with self.db.session() as s:
            return OpOccRepository(s).newest(
                tenant=tenant,
                before=before,
                limit=limit,
                equal={k: v for k, v in equal.items() if v},
            )


def _ns_body(ns: NsInstance, base: str) -> dict[str, Any]:
    href = f"{base}/ns_instances/{ns.id}"
    body: dict[str, Any] = {
        "id": ns.id,
        "nsInstanceName": ns.name,
        "nsInstanceDescription": ns.description or "",
        "nsdId": ns.nsd_id,
        "nsdInfoId": ns.nsd_info_id,
        "nsState": ns.ns_state,
        "_links": {
            "self": {"href": href},
            "instantiate": {"href": f"{href}/instantiate"},
            "terminate": {"href": f"{href}/terminate"},
            "scale": {"href": f"{href}/scale"},
            "update": {"href": f"{href}/update"},
            "heal": {"href": f"{href}/heal"},
        },
    }
    if ns.flavour_id:
        body["flavourId"] = ns.flavour_id
    ns_scale = ns.scale_status or {}
    if ns_scale:
        body["nsScaleStatus"] = [
            {"nsScalingAspectId": a, "nsScaleLevelId": str(lvl)} for a, lvl in ns_scale.items()
        ]
    if ns.current_op_id:
        body["_links"]["currentLcmOpOcc"] = {"href": f"{base}/ns_lcm_op_occs/{ns.current_op_id}"}
    return body


class _ResourceTypes:
    """``vimLevelResourceType`` of servers and networks on each VIM (by its type)."""

    def __init__(self, vim_types: dict[str, str]) -> None:
        self._types = vim_types

    def server(self, vim_id: str) -> str:
        return resource_types(self._types.get(vim_id, ""))[0]

    def network(self, vim_id: str) -> str:
        return resource_types(self._types.get(vim_id, ""))[1]


def _ns_vl_views(rows: Sequence[NsVl], kinds: _ResourceTypes) -> list[dict[str, Any]]:
    by_vl: dict[str, list[NsVl]] = {}
    for row in rows:
        by_vl.setdefault(row.vl_id, []).append(row)
    return [
        {
            "id": vl_id,
            "nsVirtualLinkDescId": vl_id,
            "nsVirtualLinkProfileId": vl_id,
            "resourceHandle": [
                {
                    "vimId": r.vim_account_id,
                    "resourceId": r.network_id,
                    "vimLevelResourceType": kinds.network(r.vim_account_id),
                }
                for r in per_vim
            ],
        }
        for vl_id, per_vim in by_vl.items()
    ]


def _vnf_instance(
    vnf: NsVnf,
    vnfcs: Sequence[NsVnfc],
    vls: Sequence[NsVnfVl],
    pkg: CatalogPackage,
    kinds: _ResourceTypes,
) -> dict[str, Any]:
    info = pkg.info or {}
    spec = vnf.spec
    out: dict[str, Any] = {
        "id": vnf.id,
        "vnfInstanceName": vnf.vnf_profile_id,
        "vnfdId": vnf.vnfd_id,
        "vnfProvider": info.get("vnfProvider") or "",
        "vnfProductName": info.get("vnfProductName") or "",
        "vnfSoftwareVersion": info.get("vnfSoftwareVersion") or "",
        "vnfdVersion": info.get("vnfdVersion") or "",
        "vnfPkgId": pkg.id,
        "vnfProfileId": vnf.vnf_profile_id,
        "vimId": vnf.vim_account_id,
        "instantiationState": "INSTANTIATED" if vnf.instantiated else "NOT_INSTANTIATED",
    }
    if not vnf.instantiated:
        return out
    created = _ordered(spec, [c for c in vnfcs if c.server_id])
    out["instantiatedVnfInfo"] = {
        "flavourId": vnf.flavour_id,
        "vnfState": "STARTED",
        "scaleStatus": [
            {"aspectId": a, "scaleLevel": lvl} for a, lvl in (vnf.scale_levels or {}).items()
        ],
        "extCpInfo": _ext_cps(spec, created) or [_placeholder_ext_cp(vnf.id)],
        "vnfcResourceInfo": [
            {
                "id": vnfc_id(c.key),
                "vduId": c.vdu_id,
                "computeResource": {
                    "vimId": c.vim_account_id,
                    "resourceId": c.server_id,
                    "vimLevelResourceType": kinds.server(c.vim_account_id),
                },
                "vnfcCpInfo": [
                    {
                        "id": cp,
                        "cpdId": cp,
                        "vnfLinkPortId": port,
                        "cpProtocolInfo": _cp_protocol(c, cp),
                    }
                    for cp, port in (c.port_ids or {}).items()
                ],
                "metadata": {
                    "host": c.host,
                    "zone": c.zone,
                    "status": c.status,
                    "addresses": c.addresses or {},
                },
            }
            for c in created
        ],
        "vnfVirtualLinkResourceInfo": [
            {
                "id": v.vl_id,
                "vnfVirtualLinkDescId": v.vl_id,
                "networkResource": {
                    "vimId": vnf.vim_account_id,
                    "resourceId": v.network_id,
                    "vimLevelResourceType": kinds.network(vnf.vim_account_id),
                },
                "vnfLinkPorts": [],
            }
            for v in _ordered_vls(spec, vls)
        ],
    }
    return out


def _ordered(spec: dict[str, Any], vnfcs: list[NsVnfc]) -> list[NsVnfc]:
    """VNFCs in the VNFD's VDU order, then by index (as the VNFM reports them)."""
    rank = {v["vdu_id"]: i for i, v in enumerate(spec.get("vdus") or [])}
    return sorted(vnfcs, key=lambda c: (rank.get(c.vdu_id, len(rank)), c.idx))


def _ordered_vls(spec: dict[str, Any], vls: Sequence[NsVnfVl]) -> list[NsVnfVl]:
    rank = {v["vl_id"]: i for i, v in enumerate(spec.get("internal_vls") or [])}
    return sorted(vls, key=lambda v: (rank.get(v.vl_id, len(rank)), v.vl_id))


def _ext_cps(spec: dict[str, Any], vnfcs: Sequence[NsVnfc]) -> list[dict[str, Any]]:
    """One VnfExtCpInfo per VDU CP that sits on an NS virtual link."""
    ext = set(spec.get("ext_networks") or {})
    ext_cps = {
        (v["vdu_id"], c["cp_id"]) for v in spec["vdus"] for c in v["cps"] if c["network"] in ext
    }
    out = []
    for c in vnfcs:
        vnfc = vnfc_id(c.key)
        for cp in c.addresses or {}:
            if (c.vdu_id, cp) not in ext_cps:
                continue
            out.append(
                {
                    "id": f"{vnfc}-{cp}",
                    "cpdId": cp,
                    "associatedVnfcCpId": cp,
                    "cpProtocolInfo": _cp_protocol(c, cp),
                }
            )
    return out


def _cp_protocol(c: NsVnfc, cp: str) -> list[dict[str, Any]]:
    """CpProtocolInfo of one VNFC port: IpOverEthernetAddressInfo with the port's MAC address
    (as the VIM reported it) and its IP addresses."""
    address: dict[str, Any] = {}
    mac = (c.mac_addresses or {}).get(cp)
    if mac:
        address["macAddress"] = mac
    addrs = list((c.addresses or {}).get(cp) or [])
    if addrs or not mac:
        address["ipAddresses"] = [{"type": "IPV4", "addresses": addrs}]
    return [{"layerProtocol": "IP_OVER_ETHERNET", "ipOverEthernet": address}]


def _placeholder_ext_cp(vnf_id: str) -> dict[str, Any]:
    # SOL005 requires at least one extCpInfo; a VNF without external CPs reports its id only
    return {
        "id": f"{vnf_id}-none",
        "cpdId": "none",
        "associatedVnfcCpId": "none",
        "cpProtocolInfo": [{"layerProtocol": "IP_OVER_ETHERNET"}],
    }


def op_view(op: NsLcmOpOcc, base: str) -> dict[str, Any]:
    """NsLcmOpOcc (SOL005 §6.5.2.3)."""
    href = f"{base}/ns_lcm_op_occs/{op.id}"
    body: dict[str, Any] = {
        "id": op.id,
        "operationState": op.state,
        "statusEnteredTime": iso(op.state_entered_time),
        "nsInstanceId": op.ns_instance_id,
        "lcmOperationType": op.operation,
        "startTime": iso(op.start_time),
        "isAutomaticInvocation": op.is_automatic_invocation,
        "operationParams": op.params or {},
        "isCancelPending": op.cancel_pending,
        "_links": {
            "self": {"href": href},
            "nsInstance": {"href": f"{base}/ns_instances/{op.ns_instance_id}"},
            "retry": {"href": f"{href}/retry"},
            "rollback": {"href": f"{href}/rollback"},
            "continue": {"href": f"{href}/continue"},
            "fail": {"href": f"{href}/fail"},
            "cancel": {"href": f"{href}/cancel"},
        },
    }
    if op.cancel_mode:
        body["cancelMode"] = op.cancel_mode
    if op.error:
        body["error"] = op.error
    return body
