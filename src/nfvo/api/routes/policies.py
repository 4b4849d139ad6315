"""``/admin/v1/policies``: auto-scaling policies (create, list, get, patch, delete).

Tenant-scoped: a tenant's caller sees and writes the policies of its own NS instances only;
the NS and VNF instance a body names are resolved within the caller's view (400 otherwise).
Operators write, readers read. See docs/autoscale.md."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Body, Depends, Request, Response
from fastapi.responses import JSONResponse

from nfvo.api.deps import Services, operator, reader, services
from nfvo.api.listing import Column, Columns, page_of
from nfvo.api.models.openapi import array_of, request_body, responses
from nfvo.api.models.policies import ScalingPolicyCreate, ScalingPolicyView
from nfvo.api.security import Principal
from nfvo.policy.store import view

if TYPE_CHECKING:
    from nfvo.policy.store import PolicyStore

router = APIRouter(prefix="/admin/v1", tags=["admin"])
PATH = "/admin/v1/policies"
COLUMNS: Columns = {
    ("id",): Column("id"),
    ("nsInstanceId",): Column("ns_instance_id"),
    ("vnfInstanceId",): Column("vnf_instance_id"),
    ("aspectId",): Column("aspect_id"),
    ("name",): Column("name"),
}


def _store(svc: Services) -> PolicyStore:
    assert svc.policies is not None, "the policy store is not built"
    return svc.policies


@router.post(
    "/policies",
    status_code=201,
    responses=responses(201, ScalingPolicyView, "Created", errors=(400, 422), headers=["Location"]),
    openapi_extra=request_body(ScalingPolicyCreate),
)
def create_policy(
    body: Any = Body(...), svc: Services = Depends(services), who: Principal = Depends(operator)
) -> JSONResponse:
    row = _store(svc).create(body, who.tenant_id)
    return JSONResponse(view(row), status_code=201, headers={"Location": f"{PATH}/{row.id}"})


@router.get("/policies", responses=responses(200, array_of(ScalingPolicyView), "A page"))
def list_policies(
    request: Request, svc: Services = Depends(services), who: Principal = Depends(reader)
) -> JSONResponse:
    store = _store(svc)
    return page_of(
        request,
        fetch=lambda page: store.page(who.tenant_id, page),
        render_page=lambda rows: [view(r) for r in rows],
        page_size=svc.settings.page_size,
        default_excluded=[],
        mandatory=[("id",)],
        columns=COLUMNS,
        key=lambda row: (row.created_at, row.id),
    )


@router.get(
    "/policies/{policy_id}",
    responses=responses(200, ScalingPolicyView, "The policy", errors=(404,)),
)
def get_policy(
    policy_id: str, svc: Services = Depends(services), who: Principal = Depends(reader)
) -> JSONResponse:
    return JSONResponse(view(_store(svc).get(policy_id, who.tenant_id)))


@router.patch(
    "/policies/{policy_id}",
    responses=responses(200, ScalingPolicyView, "Changed", errors=(400, 404, 409, 422)),
    openapi_extra=request_body(ScalingPolicyCreate),
)
def patch_policy(
    policy_id: str,
    body: Any = Body(...),
    svc: Services = Depends(services),
    who: Principal = Depends(operator),
) -> JSONResponse:
    return JSONResponse(view(_store(svc).patch(policy_id, body, who.tenant_id)))


@router.delete(
    "/policies/{policy_id}",
    status_code=204,
    responses=responses(204, None, "Deleted", errors=(404,)),
)
def delete_policy(
    policy_id: str, svc: Services = Depends(services), who: Principal = Depends(operator)
) -> Response:
    _store(svc).delete(policy_id, who.tenant_id)
    return Response(status_code=204)
