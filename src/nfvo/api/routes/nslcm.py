"""NS life-cycle management ``nslcm/v2`` (and v1): NS instances, operations, op occurrences."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fastapi import APIRouter, Body, Depends, Request, Response
from fastapi.responses import JSONResponse

from nfvo.api import shapes
from nfvo.api.deps import Services, operator, reader, services
from nfvo.api.listing import (
    LIST_PARAMS,
    SELECTOR_PARAMS,
    Column,
    Columns,
    ListQuery,
    created_key,
    parse_list,
    query_params,
)
from nfvo.api.models import nslcm as m
from nfvo.api.models.openapi import array_of, request_body, responses
from nfvo.api.routes.packages import api_base
from nfvo.api.security import Principal
from nfvo.errors import BadRequest
from nfvo.lcm import read
from nfvo.lcm.states import OpType, Trigger

router = APIRouter()
NONE = [Depends(query_params())]
LIST = [Depends(query_params(LIST_PARAMS))]
ONE = [Depends(query_params(SELECTOR_PARAMS))]
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
    ("tenant_id", "instantiation_level_id", "revision", "updated_at"): (),
}
# Attributes composed from the NS's own rows (VNF instances, VNFCs, virtual links)
NS_DETAIL = ("vnfInstance", "virtualLinkInfo")
OP_LAZY = {
    ("params",): ("operationParams",),
    ("error",): ("error",),
    ("tenant_id", "changes", "generation"): (),
}


def _unread(q: ListQuery, lazy: dict[tuple[str, ...], tuple[str, ...]]) -> set[str]:
    """The lazy columns that this list request does not need."""
    return {c for cols, attrs in lazy.items() if not any(q.needs(a) for a in attrs) for c in cols}


def ns_page_renderer(
    svc: Services, base: str, q: ListQuery
) -> Callable[[Sequence[Any]], list[dict[str, Any]]]:
    """``render_page(rows) -> bodies`` for a page of NS instances: one call to the LCM read
    model per page; what lists exclude by default is composed only when asked for."""
    detail = any(q.needs(a) for a in NS_DETAIL)

    def render_page(rows: Sequence[Any]) -> list[dict[str, Any]]:
        return svc.lcm.read.ns_views(rows, base, detail=detail)

    return render_page


def _tenant(p: Principal) -> str | None:
    return p.tenant_id


def _accepted(op: Any, base: str) -> Response:
    return Response(status_code=202, headers={"Location": f"{base}/ns_lcm_op_occs/{op.id}"})


# every SOL005 route may answer 406 (a Version header its major does not serve)
SOL = (406,)
OP_BODIES = {
    OpType.INSTANTIATE: m.InstantiateNsRequest,
    OpType.TERMINATE: m.TerminateNsRequest,
    OpType.SCALE: m.ScaleNsRequest,
    OpType.HEAL: m.HealNsRequest,
    OpType.UPDATE: m.UpdateNsRequest,
}


@router.post(
    "/ns_instances",
    status_code=201,
    dependencies=NONE,
    responses=responses(
        201,
        m.NsInstance,
        "The NS instance, NOT_INSTANTIATED",
        errors=(*SOL, 409),
        headers=["Location"],
    ),
    openapi_extra=request_body(m.CreateNsRequest),
)
def create_ns(
    request: Request,
    body: dict[str, Any] = Body(...),
    svc: Services = Depends(services),
    who: Principal = Depends(operator),
) -> JSONResponse:
    ns = svc.lcm.create(body, _tenant(who))
    out = svc.lcm.read.ns_view(ns, api_base(request))
    return JSONResponse(out, status_code=201, headers={"Location": out["_links"]["self"]["href"]})


@router.get(
    "/ns_instances",
    dependencies=LIST,
    responses=responses(200, array_of(m.NsInstance), "A page of NS instances", errors=SOL),
)
def list_ns(
    request: Request, svc: Services = Depends(services), who: Principal = Depends(reader)
) -> JSONResponse:
    q = parse_list(
        request,
        page_size=svc.settings.page_size,
        default_excluded=NS_DEFAULT_EXCLUDED,
        mandatory=MANDATORY,
        shape=shapes.NS_INSTANCE,
    )
    tenant, unread = _tenant(who), _unread(q, NS_LAZY)
    return q.respond(
        fetch=lambda page: svc.lcm.page(tenant, page, without=unread),
        key=created_key,
        render_page=ns_page_renderer(svc, api_base(request), q),
        columns=NS_COLUMNS,
    )


@router.get(
    "/ns_instances/{ns_id}",
    dependencies=ONE,
    responses=responses(200, m.NsInstance, "The NS instance", errors=(*SOL, 404)),
)
def get_ns(
    ns_id: str,
    request: Request,
    svc: Services = Depends(services),
    who: Principal = Depends(reader),
) -> JSONResponse:
    return JSONResponse(svc.lcm.read.ns_view(svc.lcm.get(ns_id, _tenant(who)), api_base(request)))


@router.delete(
    "/ns_instances/{ns_id}",
    status_code=204,
    dependencies=NONE,
    responses=responses(204, None, "Deleted", errors=(*SOL, 404, 409)),
)
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
        dependencies=NONE,
        responses=responses(
            202,
            None,
            "Accepted: Location names the operation occurrence",
            errors=(*SOL, 404, 409, 422),
            headers=["Location"],
        ),
        openapi_extra=request_body(OP_BODIES[_op], required=_op is not OpType.TERMINATE),
    )


@router.get(
    "/ns_lcm_op_occs",
    dependencies=LIST,
    responses=responses(200, array_of(m.NsLcmOpOcc), "A page of operation occurrences", errors=SOL),
)
def list_ops(
    request: Request, svc: Services = Depends(services), who: Principal = Depends(reader)
) -> JSONResponse:
    q = parse_list(
        request,
        page_size=svc.settings.page_size,
        default_excluded=OP_DEFAULT_EXCLUDED,
        mandatory=MANDATORY,
        shape=shapes.NS_LCM_OP_OCC,
    )
    base, tenant, unread = api_base(request), _tenant(who), _unread(q, OP_LAZY)
    return q.respond(
        fetch=lambda page: svc.lcm.ops_page(tenant, page, without=unread),
        key=lambda o: (o.start_time, o.id),
        render_page=lambda rows: [read.op_view(o, base) for o in rows],
        columns=OP_COLUMNS,
    )


@router.get(
    "/ns_lcm_op_occs/{op_id}",
    dependencies=ONE,
    responses=responses(200, m.NsLcmOpOcc, "The operation occurrence", errors=(*SOL, 404)),
)
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
    _fail = _trigger is Trigger.FAIL
    router.add_api_route(
        f"/ns_lcm_op_occs/{{op_id}}/{_trigger.value}",
        _task(_trigger),
        methods=["POST"],
        status_code=200 if _fail else 202,
        name=f"{_trigger.value}_op",
        dependencies=NONE,
        responses=responses(
            200 if _fail else 202,
            m.NsLcmOpOcc if _fail else None,
            "The operation occurrence, FAILED" if _fail else "Accepted",
            errors=(*SOL, 404, 409),
            headers=[] if _fail else ["Location"],
        ),
        openapi_extra=request_body(m.CancelMode, required=False)
        if _trigger is Trigger.CANCEL
        else {"requestBody": None},
    )
