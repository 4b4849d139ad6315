"""NS life-cycle management ``nslcm/v2`` (and v1): NS instances, operations, op occurrences."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Request, Response
from fastapi.responses import JSONResponse

from nfvo.api.deps import Services, operator, reader, services
from nfvo.api.listing import page_of
from nfvo.api.routes.packages import api_base
from nfvo.api.security import Principal
from nfvo.errors import BadRequest
from nfvo.lcm import read
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


def _tenant(p: Principal) -> str | None:
    return p.tenant_id


def _accepted(op: Any, base: str) -> Response:
    return Response(status_code=202, headers={"Location": f"{base}/ns_lcm_op_occs/{op.id}"})


@router.post("/ns_instances", status_code=201)
def create_ns(
    request: Request,
    body: dict[str, Any] = Body(...),
    svc: Services = Depends(services),
    who: Principal = Depends(operator),
) -> JSONResponse:
    ns = svc.lcm.create(body, _tenant(who))
    out = svc.lcm.read.ns_view(ns, api_base(request))
    return JSONResponse(out, status_code=201, headers={"Location": out["_links"]["self"]["href"]})


@router.get("/ns_instances")
def list_ns(
    request: Request, svc: Services = Depends(services), who: Principal = Depends(reader)
) -> JSONResponse:
    base = api_base(request)
    return page_of(
        request,
        svc.lcm.list(_tenant(who)),
        key=lambda n: f"{n.created_at.isoformat()}|{n.id}",
        render=lambda n: svc.lcm.read.ns_view(n, base),
        page_size=svc.settings.page_size,
        default_excluded=NS_DEFAULT_EXCLUDED,
        mandatory=MANDATORY,
    )


@router.get("/ns_instances/{ns_id}")
def get_ns(
    ns_id: str,
    request: Request,
    svc: Services = Depends(services),
    who: Principal = Depends(reader),
) -> JSONResponse:
    return JSONResponse(svc.lcm.read.ns_view(svc.lcm.get(ns_id, _tenant(who)), api_base(request)))


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
    base = api_base(request)
    return page_of(
        request,
        svc.lcm.ops(_tenant(who)),
        key=lambda o: f"{o.start_time.isoformat()}|{o.id}",
        render=lambda o: read.op_view(o, base),
        page_size=svc.settings.page_size,
        default_excluded=OP_DEFAULT_EXCLUDED,
        mandatory=MANDATORY,
    )


@router.get("/ns_lcm_op_occs/{op_id}")
def get_op(
    op_id: str,
    request: Request,
    svc: Services = Depends(services),
    who: Principal = Depends(reader),
) -> JSONResponse:
    return JSONResponse(read.op_view(svc.lcm.op(op_id, _tenant(who)), api_base(request)))


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
            return JSONResponse(read.op_view(op, api_base(request)))
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
