"""``GET /admin/v1/impact?resource=<key>``: the NS instances, VNF instances and servers a
fault on a host, zone, VIM, network (virtual link), port, server, VNF or NS takes down, from
the RCA entity graph (docs/rca-graph.md).

Read-only: any role may read; a tenant caller names only resources it may see and is
answered with its own NS instances only (``nfvo.policy.rca.impact``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from nfvo.api.deps import Services, reader, services
from nfvo.api.models import impact as m
from nfvo.api.models.openapi import responses
from nfvo.api.security import Principal
from nfvo.monitoring.current import MAX_RESOURCE_KEY
from nfvo.policy.rca.impact import impact_view

router = APIRouter(prefix="/admin/v1", tags=["admin"])


@router.get(
    "/impact",
    responses=responses(
        200, m.Impact, "What a fault on the resource takes down", errors=(404, 503)
    ),
)
async def impact(
    resource: str | None = Query(
        None,
        max_length=MAX_RESOURCE_KEY,
        description="the resource key: ns:<id>, vnf:<id>, vim:<id>, "
        "zone|host|server|port|network:<vimAccountId>:<id>",
    ),
    svc: Services = Depends(services),
    who: Principal = Depends(reader),
) -> JSONResponse:
    body = await run_in_threadpool(impact_view, svc.rca_graph, resource, who.tenant_id)
    return JSONResponse(body)
