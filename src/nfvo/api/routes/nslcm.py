"""NS life-cycle management ``nslcm/v2`` (and v1): NS instances, operations, op occurrences."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Body, Depends, Request, Response
from fastapi.responses import JSONResponse

from nfvo.api.deps import Services, operator, reader, services
from nfvo.api.listing import Column, Columns, ListQuery, created_key, parse_list
from nfvo.api.routes.packages import api_base
from nfvo.api.security import Principal
from nfvo.catalog.states import PackageKind
from nfvo.errors import BadRequest
from nfvo.inventory.models import CatalogPackage, NsInstance, NsLcmOpOcc
from nfvo.lcm.codec import vnfc_id
from nfvo.lcm.states import OpType, Trigger

router = APIRouter()
MANDATORY = [("id",), ("_links",)]
NS_DEFAULT_EXCLUDED = [
    ("vnfInstance",),
    ("pnfInfo",),
    ("virtualLinkInfo",),
    ("nestedNsInstanceId",),
    ("vnfSnapshotInfoIds",),
]
OP_DEFAULT_EXCLUDED = [("operationParams",), ("changedVnfInfo",), ("error",), ("resourceChanges",)]
# Attributes whose filter terms are evaluated in SQL: each is exactly the column's value.
NS_COLUMNS: Columns = {
    ("id",): Column("id"),
    ("nsInstanceName",): Column("name"),
    ("nsdId",): Column("nsd_id"),
    ("nsdInfoId",): Column("nsd_info_id"),
    ("nsState",): Column("ns_state"),
}
OP_COLUMNS: Columns = {
    ("id",): Column("id"),
    ("nsInstanceId",): Column("ns_instance_id"),
    ("operationState",): Column("state"),
    ("lcmOperationType",): Column("operation"),
    ("isAutomaticInvocation",): Column("is_automatic_invocation", bool),
    ("isCancelPending",): Column("cancel_pending", bool),
}
# Columns a list page reads only when the response or the filter uses the attributes built
# from them (those are excluded by default): the NS deployment records, the op parameters
# and error. Columns mapped to no attribute are never read: ns_view and op_view do not use them.
NS_LAZY = {
    ("plan", "vnf_records", "vl_records"): ("vnfInstance", "virtualLinkInfo"),
    ("tenant_id", "instantiation_level_id", "revision", "updated_at"): (),
}
OP_LAZY = {
    ("params",): ("operationParams",),
    ("error",): ("error",),
    ("tenant_id", "changes", "generation"): (),
}


def _unread(q: ListQuery, lazy: dict[tuple[str, ...], tuple[str, ...]]) -> set[str]:
    """The lazy columns that this list request does not need."""
    return {c for cols, attrs in lazy.items() if not any(q.needs(a) for a in attrs) for c in cols}


def _vnf_instance(
    vnf_id: str,
    spec: dict[str, Any],
    record: dict[str, Any] | None,
    pkg: CatalogPackage,
    levels: dict[str, int],
) -> dict[str, Any]:
    info = pkg.info or {}
    out: dict[str, Any] = {
        "id": vnf_id,
        "vnfInstanceName": f"{spec['vnf_profile_id']}",
        "vnfdId": spec["vnfd_id"],
        "vnfProvider": info.get("vnfProvider") or "",
        "vnfProductName": info.get("vnfProductName") or "",
        "vnfSoftwareVersion": info.get("vnfSoftwareVersion") or "",
        "vnfdVersion": info.get("vnfdVersion") or "",
        "vnfPkgId": pkg.id,
        "vnfProfileId": spec["vnf_profile_id"],
        "vimId": spec["vim_account_id"],
        "instantiationState": "INSTANTIATED" if record else "NOT_INSTANTIATED",
    }
    if record:
        vnfcs = []
        for c in record["vnfcs"]:
            vnfcs.append(
                {
                    "id": vnfc_id(c["key"]),
                    "vduId": c["vdu_id"],
                    "computeResource": {
                        "vimId": record["vim_account_id"],
                        "resourceId": c["server_id"],
                        "vimLevelResourceType": "OS::Nova::Server",
                    },
                    "vnfcCpInfo": [
                        {"id": cp, "cpdId": cp, "vnfLinkPortId": port}
                        for cp, port in c["port_ids"].items()
                    ],
                    "metadata": {
                        "host": c["host"],
                        "zone": c["zone"],
                        "status": c["status"],
                        "addresses": c["addresses"],
                    },
                }
            )
        vls = [
            {
                "id": v["vl_id"],
                "vnfVirtualLinkDescId": v["vl_id"],
                "networkResource": {
                    "vimId": record["vim_account_id"],
                    "resourceId": v["network_id"],
                    "vimLevelResourceType": "OS::Neutron::Net",
                },
                "vnfLinkPorts": [],
            }
            for v in record["vls"]
        ]
        out["instantiatedVnfInfo"] = {
            "flavourId": spec["flavour_id"],
            "vnfState": "STARTED",
            "scaleStatus": [{"aspectId": a, "scaleLevel": lvl} for a, lvl in levels.items()],
            "extCpInfo": _ext_cps(spec, record) or [_placeholder_ext_cp(vnf_id)],
            "vnfcResourceInfo": vnfcs,
            "vnfVirtualLinkResourceInfo": vls,
        }
    return out


def _ext_cps(spec: dict[str, Any], record: dict[str, Any]) -> list[dict[str, Any]]:
    """One VnfExtCpInfo per VDU CP that sits on an NS virtual link."""
    ext = set(spec.get("ext_networks") or {})
    ext_cps = {
        (v["vdu_id"], c["cp_id"]) for v in spec["vdus"] for c in v["cps"] if c["network"] in ext
    }
    out = []
    for c in record["vnfcs"]:
        vnfc = vnfc_id(c["key"])
        for cp, addrs in c["addresses"].items():
            if (c["vdu_id"], cp) not in ext_cps:
                continue
            out.append(
                {
                    "id": f"{vnfc}-{cp}",
                    "cpdId": cp,
                    "associatedVnfcCpId": cp,
                    "cpProtocolInfo": [
                        {
                            "layerProtocol": "IP_OVER_ETHERNET",
                            "ipOverEthernet": {
                                "ipAddresses": [{"type": "IPV4", "addresses": addrs}]
                            },
                        }
                    ],
                }
            )
    return out


def _placeholder_ext_cp(vnf_id: str) -> dict[str, Any]:
    # SOL005 requires at least one extCpInfo; a VNF without external CPs reports its id only
    return {
        "id": f"{vnf_id}-none",
        "cpdId": "none",
        "associatedVnfcCpId": "none",
        "cpProtocolInfo": [{"layerProtocol": "IP_OVER_ETHERNET"}],
    }


def ns_view(
    svc: Services, ns: NsInstance, base: str, packages: dict[str, CatalogPackage] | None = None
) -> dict[str, Any]:
    """NsInstance (SOL005 §6.5.2.10). ``packages`` caches VNF packages by vnfdId across the
    NS instances of one response."""
    href = f"{base}/ns_instances/{ns.id}"
    plan = ns.plan or {}
    packages = {} if packages is None else packages
    vnfs = []
    for vid, spec in (plan.get("vnfs") or {}).items():
        vnfd_id = spec["vnfd_id"]
        if vnfd_id not in packages:
            packages[vnfd_id] = svc.catalog.find_onboarded(PackageKind.vnf, vnfd_id)
        levels = (ns.scale_status or {}).get("vnf", {}).get(vid) or {}
        record = (ns.vnf_records or {}).get(vid)
        vnfs.append(_vnf_instance(vid, spec, record, packages[vnfd_id], levels))
    vls = []
    for vl_id, per_vim in (ns.vl_records or {}).items():
        vls.append(
            {
                "id": vl_id,
                "nsVirtualLinkDescId": vl_id,
                "nsVirtualLinkProfileId": vl_id,
                "resourceHandle": [
                    {
                        "vimId": vim,
                        "resourceId": r["network_id"],
                        "vimLevelResourceType": "OS::Neutron::Net",
                    }
                    for vim, r in per_vim.items()
                ],
            }
        )
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
    if vnfs:
        body["vnfInstance"] = vnfs
    if vls:
        body["virtualLinkInfo"] = vls
    ns_scale = (ns.scale_status or {}).get("ns") or {}
    if ns_scale:
        body["nsScaleStatus"] = [
            {"nsScalingAspectId": a, "nsScaleLevelId": str(lvl)} for a, lvl in ns_scale.items()
        ]
    if ns.current_op_id:
        body["_links"]["currentLcmOpOcc"] = {"href": f"{base}/ns_lcm_op_occs/{ns.current_op_id}"}
    return body


def ns_page_renderer(svc: Services, base: str) -> Callable[[Sequence[Any]], list[dict[str, Any]]]:
    """``render_page(rows) -> bodies`` for a page of NS instances: the one call that turns the
    rows of a list page into NsInstance bodies (rows without deployment records render
    without vnfInstance and virtualLinkInfo)."""

    def render_page(rows: Sequence[Any]) -> list[dict[str, Any]]:
        packages: dict[str, CatalogPackage] = {}  # VNF packages by vnfdId, across the page
        return [ns_view(svc, ns, base, packages) for ns in rows]

    return render_page


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


def iso(dt: datetime) -> str:
    """RFC 3339 with an explicit UTC offset (SQLite hands back naive UTC datetimes)."""
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).isoformat()


def _tenant(p: Principal) -> str | None:
    return p.tenant_id


def _accepted(op: NsLcmOpOcc, base: str) -> Response:
    return Response(status_code=202, headers={"Location": f"{base}/ns_lcm_op_occs/{op.id}"})


@router.post("/ns_instances", status_code=201)
def create_ns(
    request: Request,
    body: dict[str, Any] = Body(...),
    svc: Services = Depends(services),
    who: Principal = Depends(operator),
) -> JSONResponse:
    ns = svc.lcm.create(body, _tenant(who))
    out = ns_view(svc, ns, api_base(request))
    return JSONResponse(out, status_code=201, headers={"Location": out["_links"]["self"]["href"]})


@router.get("/ns_instances")
def list_ns(
    request: Request, svc: Services = Depends(services), who: Principal = Depends(reader)
) -> JSONResponse:
    q = parse_list(
        request,
        page_size=svc.settings.page_size,
        default_excluded=NS_DEFAULT_EXCLUDED,
        mandatory=MANDATORY,
    )
    tenant, unread = _tenant(who), _unread(q, NS_LAZY)
    return q.respond(
        fetch=lambda page: svc.lcm.page(tenant, page, without=unread),
        key=created_key,
        render_page=ns_page_renderer(svc, api_base(request)),
        columns=NS_COLUMNS,
    )


@router.get("/ns_instances/{ns_id}")
def get_ns(
    ns_id: str,
    request: Request,
    svc: Services = Depends(services),
    who: Principal = Depends(reader),
) -> JSONResponse:
    return JSONResponse(ns_view(svc, svc.lcm.get(ns_id, _tenant(who)), api_base(request)))


@router.delete("/ns_instances/{ns_id}", status_code=204)
def delete_ns(
    ns_id: str, svc: Services = Depends(services), who: Principal = Depends(operator)
) -> Response:
    svc.lcm.delete(ns_id, _tenant(who))
    return Response(status_code=204)


def _operation(op_type: OpType):  # noqa: ANN202 - returns a route handler
    def handler(
        ns_id: str,
        request: Request,
        body: dict[str, Any] = Body(default_factory=dict),
        svc: Services = Depends(services),
        who: Principal = Depends(operator),
    ) -> Response:
        if not isinstance(body, dict):
            raise BadRequest("the request body must be a JSON object", field="body")
        op = svc.lcm.start(ns_id, op_type, body, _tenant(who))
        return _accepted(op, api_base(request))

    return handler


for _op, _path in (
    (OpType.INSTANTIATE, "instantiate"),
    (OpType.TERMINATE, "terminate"),
    (OpType.SCALE, "scale"),
    (OpType.HEAL, "heal"),
    (OpType.UPDATE, "update"),
):
    router.add_api_route(
        f"/ns_instances/{{ns_id}}/{_path}",
        _operation(_op),
        methods=["POST"],
        status_code=202,
        name=f"{_path}_ns",
    )


@router.get("/ns_lcm_op_occs")
def list_ops(
    request: Request, svc: Services = Depends(services), who: Principal = Depends(reader)
) -> JSONResponse:
    q = parse_list(
        request,
        page_size=svc.settings.page_size,
        default_excluded=OP_DEFAULT_EXCLUDED,
        mandatory=MANDATORY,
    )
    base, tenant, unread = api_base(request), _tenant(who), _unread(q, OP_LAZY)
    return q.respond(
        fetch=lambda page: svc.lcm.ops_page(tenant, page, without=unread),
        key=lambda o: (o.start_time, o.id),
        render_page=lambda rows: [op_view(o, base) for o in rows],
        columns=OP_COLUMNS,
    )


@router.get("/ns_lcm_op_occs/{op_id}")
def get_op(
    op_id: str,
    request: Request,
    svc: Services = Depends(services),
    who: Principal = Depends(reader),
) -> JSONResponse:
    return JSONResponse(op_view(svc.lcm.op(op_id, _tenant(who)), api_base(request)))


def _task(trigger: Trigger):  # noqa: ANN202 - returns a route handler
    def handler(
        op_id: str,
        request: Request,
        body: dict[str, Any] | None = Body(None),
        svc: Services = Depends(services),
        who: Principal = Depends(operator),
    ) -> Response:
        mode = (body or {}).get("cancelMode") if trigger is Trigger.CANCEL else None
        if mode is not None and mode not in ("GRACEFUL", "FORCEFUL"):
            raise BadRequest("cancelMode must be GRACEFUL or FORCEFUL", field="cancelMode")
        op = svc.lcm.act(op_id, trigger, _tenant(who), cancel_mode=mode)
        if trigger is Trigger.FAIL:
            return JSONResponse(op_view(op, api_base(request)))
        return _accepted(op, api_base(request))

    return handler


for _trigger in (Trigger.RETRY, Trigger.ROLLBACK, Trigger.CONTINUE, Trigger.FAIL, Trigger.CANCEL):
    router.add_api_route(
        f"/ns_lcm_op_occs/{{op_id}}/{_trigger.value}",
        _task(_trigger),
        methods=["POST"],
        status_code=202,
        name=f"{_trigger.value}_op",
    )
