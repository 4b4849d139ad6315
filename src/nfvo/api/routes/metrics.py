"""``/admin/v1/.../metrics``: the current value of every metric of an NS (per VNF and per
VNFC, with its host), of a VIM (per zone and per host), or of one resource.

Read-only: any role may read (reader included), within the same tenant scope as the NS and
VIM routes (another tenant's NS or VIM is a 404). A metric without samples in the window is
``noData: true`` with null values. ``window`` (seconds, 1 to 3600) overrides the hub's window.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from nfvo.api.deps import Services, reader, services
from nfvo.api.models import metrics as m
from nfvo.api.models.openapi import responses
from nfvo.api.security import Principal
from nfvo.monitoring.current import (
    MAX_RESOURCE_KEY,
    CurrentMetrics,
    parse_resource,
    parse_window,
)

router = APIRouter(prefix="/admin/v1", tags=["admin"])
WindowQuery = Query(
    None, max_length=32, description="seconds of the window (1 to 3600; default: the hub's)"
)


def _views(svc: Services) -> CurrentMetrics:
    assert svc.metrics is not None  # set when the services are built
    return svc.metrics


@router.get(
    "/ns_instances/{ns_id}/metrics",
    responses=responses(200, m.NsMetrics, "The NS's current metrics", errors=(404,)),
)
async def ns_metrics(
    ns_id: str,
    window: str | None = WindowQuery,
    svc: Services = Depends(services),
    who: Principal = Depends(reader),
) -> JSONResponse:
    w = parse_window(window)
    body = await run_in_threadpool(_views(svc).of_ns, ns_id, who.tenant_id, w)
    return JSONResponse(body)


@router.get(
    "/vim_accounts/{vim_id}/metrics",
    responses=responses(200, m.VimMetrics, "The VIM's current metrics", errors=(404,)),
)
async def vim_metrics(
    vim_id: str,
    window: str | None = WindowQuery,
    svc: Services = Depends(services),
    who: Principal = Depends(reader),
) -> JSONResponse:
    w = parse_window(window)
    body = await run_in_threadpool(_views(svc).of_vim, vim_id, who.tenant_id, w)
    return JSONResponse(body)


@router.get(
    "/metrics",
    responses=responses(200, m.ResourceMetrics, "One resource's current metrics", errors=(404,)),
)
async def resource_metrics(
    resource: str | None = Query(
        None,
        max_length=MAX_RESOURCE_KEY,
        description="the resource key: ns:<id>, vnf:<id>, vim:<id>, "
        "zone|host|server|port|network:<vimAccountId>:<id>",
    ),
    window: str | None = WindowQuery,
    svc: Services = Depends(services),
    who: Principal = Depends(reader),
) -> JSONResponse:
    r, w = parse_resource(resource), parse_window(window)
    body = await run_in_threadpool(_views(svc).of_resource, r, who.tenant_id, w)
    return JSONResponse(body)
