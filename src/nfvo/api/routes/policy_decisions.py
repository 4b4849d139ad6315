"""``/admin/v1/policy_decisions``: the policy engine's decision log (read-only, tenant-
scoped: a tenant caller sees the decisions about its own NSs and policies)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from nfvo.api.deps import Services, reader, services
from nfvo.api.listing import Column, Columns, page_of
from nfvo.api.models import policy as m
from nfvo.api.models.openapi import array_of, responses
from nfvo.api.security import Principal
from nfvo.policy.decision_log import DecisionLog, view

router = APIRouter(prefix="/admin/v1/policy_decisions", tags=["admin"])
MANDATORY = [("id",), ("_links",)]
# every filterable attribute is exactly one column: evaluated in SQL, paged by keyset
COLUMNS: Columns = {
    ("id",): Column("id"),
    ("kind",): Column("kind"),
    ("decision",): Column("decision"),
    ("reason",): Column("reason"),
    ("action",): Column("action"),
    ("policyId",): Column("policy_id"),
    ("nsInstanceId",): Column("ns_instance_id"),
    ("tenantId",): Column("tenant_id"),
    ("nsLcmOpOccId",): Column("op_occ_id"),
}


def _root(request: Request) -> str:
    """The server's public root (links are absolute URIs)."""
    public = request.app.state.services.settings.public_url
    return (public or str(request.base_url)).rstrip("/")


@router.get("", responses=responses(200, array_of(m.PolicyDecision), "A page of decisions"))
def list_decisions(
    request: Request, svc: Services = Depends(services), who: Principal = Depends(reader)
) -> JSONResponse:
    log = DecisionLog(svc.db)
    return page_of(
        request,
        fetch=lambda page: log.page(who.tenant_id, page),
        render_page=lambda rows: [view(r, _root(request)) for r in rows],
        page_size=svc.settings.page_size,
        default_excluded=[],
        mandatory=MANDATORY,
        columns=COLUMNS,
    )


@router.get(
    "/{decision_id}",
    responses=responses(200, m.PolicyDecision, "The decision", errors=(404,)),
)
def get_decision(
    decision_id: str,
    request: Request,
    svc: Services = Depends(services),
    who: Principal = Depends(reader),
) -> JSONResponse:
    row = DecisionLog(svc.db).get(decision_id, who.tenant_id)
    return JSONResponse(view(row, _root(request)))
