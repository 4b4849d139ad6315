"""``/admin/v1/action_plans``: consolidation (``server_consolidation``) and rebalance
(``workload_balancing``) plans of a VIM account, computed from its live inventory, stored,
inspected, applied as NS LCM op occurrences that migrate VDU instances, or cancelled.
Admins only; a tenant admin plans on the VIM accounts of its tenant."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from nfvo.api.deps import Services, admin, services
from nfvo.api.listing import Column, Columns, page_of
from nfvo.api.models.action_plans import ActionPlanCreate, ActionPlanView
from nfvo.api.models.openapi import array_of, responses
from nfvo.api.security import Principal

if TYPE_CHECKING:  # row types only: the API does not use the inventory
    from nfvo.inventory.models import ActionPlan, ActionPlanStep
    from nfvo.lcm.actions import ActionPlanService

router = APIRouter(prefix="/admin/v1", tags=["admin"])
PATH = "/admin/v1/action_plans"
COLUMNS: Columns = {
    ("id",): Column("id"),
    ("vimAccountId",): Column("vim_id"),
    ("goal",): Column("goal"),
    ("state",): Column("state"),
}


def _svc(svc: Services) -> ActionPlanService:
    assert svc.action_plans is not None, "the action plan service is not built"
    return svc.action_plans


def plan_view(plan: ActionPlan, steps: list[ActionPlanStep]) -> dict[str, Any]:
    """An action plan as the API shows it."""
    metrics = plan.metrics or {}
    return {
        "id": plan.id,
        "vimAccountId": plan.vim_id,
        "goal": plan.goal,
        "state": plan.state,
        "params": plan.params or {},
        "migrations": [
            {
                "seq": r.seq,
                "vduInstance": r.demand_id,
                "serverId": r.server_id,
                "nsInstanceId": r.ns_instance_id,
                "vnfInstanceId": r.vnf_instance_id,
                "source": r.source,
                "target": r.target,
                "batch": r.batch,
                "state": r.state,
                "nsLcmOpOccId": r.op_occ_id,
                "reason": r.reason,
            }
            for r in steps
        ],
        "hostsEmptied": list(plan.hosts_emptied or []),
        "emptiableBound": plan.emptiable_bound,
        "before": metrics.get("before"),
        "after": metrics.get("after"),
        "unmet": metrics.get("unmet"),
        "solveTimeS": metrics.get("solveTimeS"),
        "nsLcmOpOccIds": list(dict.fromkeys(r.op_occ_id for r in steps if r.op_occ_id)),
        "detail": plan.detail,
        "createdAt": plan.created_at.isoformat() if plan.created_at else None,
        "tenantId": plan.tenant_id,
    }


@router.post(
    "/action_plans",
    status_code=201,
    responses=responses(
        201, ActionPlanView, "Planned (not applied)", errors=(403, 422), headers=["Location"]
    ),
)
def create_plan(
    body: ActionPlanCreate, svc: Services = Depends(services), who: Principal = Depends(admin)
) -> JSONResponse:
    plans = _svc(svc)
    plan = plans.create(body.model_dump(exclude_unset=True), who.tenant_id)
    view = plan_view(*plans.get(plan.id, who.tenant_id))
    return JSONResponse(view, status_code=201, headers={"Location": f"{PATH}/{plan.id}"})


@router.get(
    "/action_plans",
    responses=responses(200, array_of(ActionPlanView), "A page of action plans"),
)
def list_plans(
    request: Request, svc: Services = Depends(services), who: Principal = Depends(admin)
) -> JSONResponse:
    plans = _svc(svc)
    return page_of(
        request,
        fetch=lambda page: plans.page(who.tenant_id, page),
        render_page=lambda rows: [plan_view(p, s) for p, s in rows],
        page_size=svc.settings.page_size,
        default_excluded=[],
        mandatory=[("id",)],
        columns=COLUMNS,
        key=lambda row: (row[0].created_at, row[0].id),
    )


@router.get(
    "/action_plans/{plan_id}",
    responses=responses(200, ActionPlanView, "The action plan", errors=(404,)),
)
def get_plan(
    plan_id: str, svc: Services = Depends(services), who: Principal = Depends(admin)
) -> JSONResponse:
    return JSONResponse(plan_view(*_svc(svc).get(plan_id, who.tenant_id)))


@router.post(
    "/action_plans/{plan_id}/apply",
    status_code=202,
    responses=responses(
        202, ActionPlanView, "Applying: the op occurrences started", errors=(404, 409)
    ),
)
def apply_plan(
    plan_id: str, svc: Services = Depends(services), who: Principal = Depends(admin)
) -> JSONResponse:
    plans = _svc(svc)
    plans.apply(plan_id, who.tenant_id)
    view = plan_view(*plans.get(plan_id, who.tenant_id))
    return JSONResponse(view, status_code=202, headers={"Location": f"{PATH}/{plan_id}"})


@router.delete(
    "/action_plans/{plan_id}",
    status_code=204,
    responses=responses(204, None, "Cancelled", errors=(404, 409)),
)
def cancel_plan(
    plan_id: str, svc: Services = Depends(services), who: Principal = Depends(admin)
) -> Response:
    _svc(svc).cancel(plan_id, who.tenant_id)
    return Response(status_code=204)
