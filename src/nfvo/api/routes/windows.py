"""``/admin/v1/availability_windows``: time-based availability of hosts, zones and VIM
accounts (docs/availability-windows.md). Admins only; a tenant admin sees the windows of its
own and shared VIM accounts and creates, changes and cancels those of its own."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from nfvo.api.deps import Services, admin, services
from nfvo.api.listing import Column, Columns, page_of
from nfvo.api.models.openapi import array_of, responses
from nfvo.api.models.windows import WindowCreate, WindowModify, WindowView
from nfvo.api.security import Principal
from nfvo.policy.windows import WindowService, WindowState, iso

if TYPE_CHECKING:  # row type only: the API does not use the inventory
    from nfvo.inventory.windows_repo import AvailabilityWindowRow

router = APIRouter(prefix="/admin/v1", tags=["admin"])
PATH = "/admin/v1/availability_windows"
COLUMNS: Columns = {
    ("id",): Column("id"),
    ("vimAccountId",): Column("vim_id"),
    ("state",): Column("state"),
    ("scope",): Column("scope"),
}


def _svc(svc: Services) -> WindowService:
    assert svc.windows is not None, "the availability window service is not built"
    return svc.windows


def window_view(w: AvailabilityWindowRow) -> dict[str, Any]:
    """A window as the API shows it."""
    live = w.state in (WindowState.ACTIVE, WindowState.DRAINING)
    return {
        "id": w.id,
        "name": w.name or "",
        "vimAccountId": w.vim_id,
        "scope": w.scope,
        "hostName": w.target if w.scope == "host" else None,
        "zoneName": w.target if w.scope == "zone" else None,
        "start": iso(w.start_ts),
        "end": iso(w.end_ts),
        "recurrence": (
            {"cron": w.cron, "duration": w.duration_s, "timeZone": w.time_zone}
            if w.cron is not None
            else None
        ),
        "noticeSeconds": w.notice_s,
        "state": w.state,
        "currentPeriod": (
            {"start": iso(w.start_ts) if w.cron is None else None, "end": iso(w.period_end_ts)}
            if live and w.period_end_ts is not None
            else None
        ),
        "nextEvent": (
            {"event": w.next_event, "at": iso(w.next_event_ts)}
            if w.next_event is not None and w.next_event_ts is not None
            else None
        ),
        "actionPlanId": w.plan_id,
        "drainAttempts": w.drain_attempts,
        "detail": w.detail or "",
        "tenantId": w.tenant_id,
        "createdAt": w.created_at.isoformat() if w.created_at else None,
    }


@router.post(
    "/availability_windows",
    status_code=201,
    responses=responses(
        201, WindowView, "Created (SCHEDULED)", errors=(400, 403, 422), headers=["Location"]
    ),
)
def create_window(
    body: WindowCreate, svc: Services = Depends(services), who: Principal = Depends(admin)
) -> JSONResponse:
    row = _svc(svc).create(body.model_dump(exclude_unset=True), who.tenant_id)
    return JSONResponse(window_view(row), status_code=201, headers={"Location": f"{PATH}/{row.id}"})


@router.get(
    "/availability_windows",
    responses=responses(200, array_of(WindowView), "A page of availability windows"),
)
def list_windows(
    request: Request, svc: Services = Depends(services), who: Principal = Depends(admin)
) -> JSONResponse:
    windows = _svc(svc)
    return page_of(
        request,
        fetch=lambda page: windows.page(who.tenant_id, page),
        render_page=lambda rows: [window_view(w) for w in rows],
        page_size=svc.settings.page_size,
        default_excluded=[],
        mandatory=[("id",)],
        columns=COLUMNS,
        key=lambda w: (w.created_at, w.id),
    )


@router.get(
    "/availability_windows/{window_id}",
    responses=responses(200, WindowView, "The availability window", errors=(404,)),
)
def get_window(
    window_id: str, svc: Services = Depends(services), who: Principal = Depends(admin)
) -> JSONResponse:
    return JSONResponse(window_view(_svc(svc).get(window_id, who.tenant_id)))


@router.patch(
    "/availability_windows/{window_id}",
    responses=responses(200, WindowView, "Changed", errors=(400, 403, 404, 409, 422)),
)
def modify_window(
    window_id: str,
    body: WindowModify,
    svc: Services = Depends(services),
    who: Principal = Depends(admin),
) -> JSONResponse:
    row = _svc(svc).patch(window_id, body.model_dump(exclude_unset=True), who.tenant_id)
    return JSONResponse(window_view(row))


@router.delete(
    "/availability_windows/{window_id}",
    responses=responses(
        200, WindowView, "Cancelled: the resource is awake", errors=(403, 404, 409)
    ),
)
def cancel_window(
    window_id: str, svc: Services = Depends(services), who: Principal = Depends(admin)
) -> JSONResponse:
    return JSONResponse(window_view(_svc(svc).cancel(window_id, who.tenant_id)))
