"""``/admin/v1/quotas``: quotas per tenant (set by global admins) and per NS instance (set by
operators of the NS's tenant), with what each subject uses now. Readers read those they
see. The check itself runs where every operation starts (``LcmService.start``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from nfvo.api.deps import Services, operator, reader, services
from nfvo.api.listing import Column, Columns, page_of
from nfvo.api.models import policy as m
from nfvo.api.models.openapi import array_of, responses
from nfvo.api.routes.admin import _global_admin, scope_of
from nfvo.api.security import Principal
from nfvo.policy.quotas import Limits, QuotaService
from nfvo.resources.service import Scope

router = APIRouter(prefix="/admin/v1/quotas", tags=["admin"])
TENANT, NS = "TENANT", "NS"
MANDATORY = [("scope",), ("usage",)]
COLUMNS: Columns = {
    ("id",): Column("id"),
    ("scope",): Column("scope"),
    ("tenantId",): Column("tenant_id"),
    ("nsInstanceId",): Column("ns_instance_id"),
}


def _root(request: Request) -> str:
    """The server's public root (links are absolute URIs)."""
    public = request.app.state.services.settings.public_url
    return (public or str(request.base_url)).rstrip("/")


def _limits(body: m.QuotaLimits) -> Limits:
    return Limits(body.maxVcpus, body.maxRamMib, body.maxInstances)


@router.get("", responses=responses(200, array_of(m.QuotaView), "A page of quotas"))
def list_quotas(
    request: Request, svc: Services = Depends(services), who: Principal = Depends(reader)
) -> JSONResponse:
    quotas = QuotaService(svc.db)
    return page_of(
        request,
        fetch=lambda page: quotas.page(who.tenant_id, page),
        render_page=lambda rows: [quotas.row_view(r, _root(request)) for r in rows],
        page_size=svc.settings.page_size,
        default_excluded=[],
        mandatory=MANDATORY,
        columns=COLUMNS,
    )


# -- a tenant's quota ----------------------------------------------------------------------
@router.get(
    "/tenants/{tenant_id}",
    responses=responses(200, m.QuotaView, "The tenant's quota and usage", errors=(404,)),
)
def get_tenant_quota(
    tenant_id: str,
    request: Request,
    svc: Services = Depends(services),
    who: Principal = Depends(reader),
) -> JSONResponse:
    svc.resources.get_tenant(tenant_id, scope_of(who))
    view = QuotaService(svc.db).view(TENANT, tenant_id, tenant_id, root=_root(request))
    return JSONResponse(view)


@router.put(
    "/tenants/{tenant_id}",
    responses=responses(200, m.QuotaView, "The tenant's quota and usage", errors=(404,)),
)
def put_tenant_quota(
    tenant_id: str,
    body: m.QuotaLimits,
    request: Request,
    svc: Services = Depends(services),
    _: Principal = Depends(_global_admin),
) -> JSONResponse:
    svc.resources.get_tenant(tenant_id, Scope(None))
    quotas = QuotaService(svc.db)
    return JSONResponse(
        quotas.put(TENANT, tenant_id, tenant_id, _limits(body), root=_root(request))
    )


@router.delete(
    "/tenants/{tenant_id}",
    status_code=204,
    responses=responses(204, None, "No quota (unlimited)", errors=(404,)),
)
def delete_tenant_quota(
    tenant_id: str, svc: Services = Depends(services), _: Principal = Depends(_global_admin)
) -> Response:
    svc.resources.get_tenant(tenant_id, Scope(None))
    QuotaService(svc.db).delete(TENANT, tenant_id)
    return Response(status_code=204)


# -- an NS instance's quota ------------------------------------------------------------------
@router.get(
    "/ns_instances/{ns_id}",
    responses=responses(200, m.QuotaView, "The NS instance's quota and usage", errors=(404,)),
)
def get_ns_quota(
    ns_id: str,
    request: Request,
    svc: Services = Depends(services),
    who: Principal = Depends(reader),
) -> JSONResponse:
    ns = svc.lcm.get(ns_id, who.tenant_id)
    return JSONResponse(QuotaService(svc.db).view(NS, ns.id, ns.tenant_id, root=_root(request)))


@router.put(
    "/ns_instances/{ns_id}",
    responses=responses(200, m.QuotaView, "The NS instance's quota and usage", errors=(404,)),
)
def put_ns_quota(
    ns_id: str,
    body: m.QuotaLimits,
    request: Request,
    svc: Services = Depends(services),
    who: Principal = Depends(operator),
) -> JSONResponse:
    ns = svc.lcm.get(ns_id, who.tenant_id)
    quotas = QuotaService(svc.db)
    return JSONResponse(quotas.put(NS, ns.id, ns.tenant_id, _limits(body), root=_root(request)))


@router.delete(
    "/ns_instances/{ns_id}",
    status_code=204,
    responses=responses(204, None, "No quota (unlimited)", errors=(404,)),
)
def delete_ns_quota(
    ns_id: str, svc: Services = Depends(services), who: Principal = Depends(operator)
) -> Response:
    ns = svc.lcm.get(ns_id, who.tenant_id)
    QuotaService(svc.db).delete(NS, ns.id)
    return Response(status_code=204)
