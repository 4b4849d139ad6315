"""``/admin/v1``: tenants, VIM accounts (with sync and owned resources), SDN controllers.

Field names follow OSM's (``vim_type``, ``vim_url``, ``_admin.operationalState``...), which
its users know. Credentials are write-only: the API never returns them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from nfvo.api.deps import Forbidden, Services, admin, reader, services
from nfvo.api.listing import Column, Columns, page_of
from nfvo.api.models import admin as m
from nfvo.api.models.common import optional
from nfvo.api.models.openapi import array_of, responses
from nfvo.api.security import Principal
from nfvo.errors import BadRequest
from nfvo.query import PageQuery
from nfvo.resources.service import VIM_TYPES, Scope

if TYPE_CHECKING:  # row types only: the API does not use the inventory
    from nfvo.inventory.models import SdnController, Tenant, VimAccount

router = APIRouter(prefix="/admin/v1", tags=["admin"])
MANDATORY = [("_id",), ("id",)]
_NAME = {"min_length": 1, "max_length": 128, "pattern": r"^[^\x00-\x1f]+$"}
Name = Field(**_NAME)
_OWNED: Columns = {
    ("_id",): Column("id"),
    ("id",): Column("id"),
    ("name",): Column("name"),
    ("description",): Column("description"),
}
TENANT_COLUMNS = _OWNED
_MANAGED: Columns = {
    **_OWNED,
    ("tenant_id",): Column("tenant_id"),
    ("_admin", "operationalState"): Column("operational_state"),
    ("_admin", "detailed-status"): Column("detailed_status"),
}
VIM_COLUMNS: Columns = {
    **_MANAGED,
    ("vim_type",): Column("vim_type"),
    ("vim_url",): Column("vim_url"),
    ("vim_user",): Column("vim_user"),
    ("vim_tenant_name",): Column("vim_tenant_name"),
}
SDN_COLUMNS: Columns = {
    **_MANAGED,
    ("type",): Column("sdn_type"),
    ("url",): Column("url"),
    ("user",): Column("user"),
}
OptName = optional(**_NAME)  # may be omitted, never null


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TenantCreate(_Body):
    name: str = Name
    description: str | None = Field(None, max_length=4096)


class TenantPatch(_Body):
    name: str = OptName
    description: str | None = Field(None, max_length=4096)


class VimCreate(_Body):
    name: str = Name
    vim_type: str = Field(description=f"one of {', '.join(VIM_TYPES)}")
    vim_url: str | None = Field(None, max_length=2048)
    vim_user: str | None = Field(None, max_length=255)
    vim_password: str | None = Field(None, max_length=4096)
    vim_tenant_name: str | None = Field(None, max_length=255)
    description: str | None = Field(None, max_length=4096)
    config: dict[str, Any] = Field(default_factory=dict)
    tenant_id: str | None = None


class VimPatch(_Body):
    name: str = OptName
    vim_url: str | None = Field(None, max_length=2048)
    vim_user: str | None = Field(None, max_length=255)
    vim_password: str | None = Field(None, max_length=4096)
    vim_tenant_name: str | None = Field(None, max_length=255)
    description: str | None = Field(None, max_length=4096)
    config: dict[str, Any] | None = None


class SdnCreate(_Body):
    name: str = Name
    type: str
    url: str | None = Field(None, max_length=2048)
    user: str | None = Field(None, max_length=255)
    password: str | None = Field(None, max_length=4096)
    description: str | None = Field(None, max_length=4096)
    config: dict[str, Any] = Field(default_factory=dict)
    tenant_id: str | None = None


class SdnPatch(_Body):
    name: str = OptName
    url: str | None = Field(None, max_length=2048)
    user: str | None = Field(None, max_length=255)
    password: str | None = Field(None, max_length=4096)
    description: str | None = Field(None, max_length=4096)
    config: dict[str, Any] | None = None


def scope_of(p: Principal) -> Scope:
    """The visibility scope of a caller."""
    return Scope(p.tenant_id)


def _global_admin(p: Principal = Depends(admin)) -> Principal:
    if p.tenant_id is not None:
        raise Forbidden("only a global admin (a client without a tenant) may manage tenants")
    return p


def _ts(dt: Any) -> float | None:
    return dt.timestamp() if dt else None


def tenant_view(t: Tenant) -> dict[str, Any]:
    """A tenant as the API shows it."""
    return {
        "_id": t.id,
        "id": t.id,
        "name": t.name,
        "description": t.description,
        "_admin": {"created": _ts(t.created_at)},
    }


def vim_view(svc: Services, v: VimAccount) -> dict[str, Any]:
    """A VIM account as the API shows it (OSM field names; no credentials)."""
    return {
        "_id": v.id,
        "id": v.id,
        "name": v.name,
        "vim_type": v.vim_type,
        "vim_url": v.vim_url,
        "vim_user": v.vim_user,
        "vim_tenant_name": v.vim_tenant_name,
        "description": v.description,
        "config": svc.resources.public_config(v),
        "tenant_id": v.tenant_id,
        "_admin": {
            "operationalState": v.operational_state,
            "detailed-status": v.detailed_status,
            "created": _ts(v.created_at),
            "modified": _ts(v.updated_at),
            "lastSync": v.last_sync_at.isoformat() if v.last_sync_at else None,
            "vimInfo": v.vim_info or {},
        },
    }


def sdn_view(svc: Services, r: SdnController) -> dict[str, Any]:
    """An SDN controller as the API shows it (no credentials)."""
    return {
        "_id": r.id,
        "id": r.id,
        "name": r.name,
        "type": r.sdn_type,
        "url": r.url,
        "user": r.user,
        "description": r.description,
        "config": svc.resources.sdn_public_config(r),
        "tenant_id": r.tenant_id,
        "_admin": {
            "operationalState": r.operational_state,
            "detailed-status": r.detailed_status,
            "created": _ts(r.created_at),
            "modified": _ts(r.updated_at),
        },
    }


def _created(body: dict[str, Any], path: str) -> JSONResponse:
    return JSONResponse(body, status_code=201, headers={"Location": f"{path}/{body['id']}"})


def _list(
    request: Request,
    svc: Services,
    fetch: Callable[[PageQuery], Sequence[Any]],
    render: Callable[[Any], dict[str, Any]],
    columns: Columns,
) -> JSONResponse:
    return page_of(
        request,
        fetch=fetch,
        render_page=lambda rows: [render(r) for r in rows],
        page_size=svc.settings.page_size,
        default_excluded=[],
        mandatory=MANDATORY,
        columns=columns,
    )


# -- tenants -------------------------------------------------------------------
@router.post(
    "/tenants",
    status_code=201,
    responses=responses(201, m.TenantView, "Created", errors=(409,), headers=["Location"]),
)
def create_tenant(
    body: TenantCreate, svc: Services = Depends(services), _: Principal = Depends(_global_admin)
) -> JSONResponse:
    t = svc.resources.create_tenant(body.name, body.description)
    return _created(tenant_view(t), "/admin/v1/tenants")


@router.get(
    "/tenants",
    responses=responses(200, array_of(m.TenantView), "A page of tenants"),
)
def list_tenants(
    request: Request, svc: Services = Depends(services), who: Principal = Depends(reader)
) -> JSONResponse:
    scope = scope_of(who)
    return _list(
        request,
        svc,
        lambda page: svc.resources.tenants_page(scope, page),
        tenant_view,
        TENANT_COLUMNS,
    )


@router.get(
    "/tenants/{tenant_id}",
    responses=responses(200, m.TenantView, "The tenant", errors=(404,)),
)
def get_tenant(
    tenant_id: str, svc: Services = Depends(services), who: Principal = Depends(reader)
) -> JSONResponse:
    return JSONResponse(tenant_view(svc.resources.get_tenant(tenant_id, scope_of(who))))


@router.patch(
    "/tenants/{tenant_id}",
    responses=responses(200, m.TenantView, "The tenant", errors=(404, 409)),
)
def patch_tenant(
    tenant_id: str,
    body: TenantPatch,
    svc: Services = Depends(services),
    _: Principal = Depends(_global_admin),
) -> JSONResponse:
    t = svc.resources.update_tenant(tenant_id, body.model_dump(exclude_unset=True))
    return JSONResponse(tenant_view(t))


@router.delete(
    "/tenants/{tenant_id}",
    status_code=204,
    responses=responses(204, None, "Deleted", errors=(404, 409)),
)
def delete_tenant(
    tenant_id: str, svc: Services = Depends(services), _: Principal = Depends(_global_admin)
) -> Response:
    svc.resources.delete_tenant(tenant_id)
    return Response(status_code=204)


# -- VIM accounts --------------------------------------------------------------
@router.post(
    "/vim_accounts",
    status_code=201,
    responses=responses(
        201, m.VimAccountView, "Created", errors=(404, 409, 422), headers=["Location"]
    ),
)
def create_vim(
    body: VimCreate,
    background: BackgroundTasks,
    svc: Services = Depends(services),
    who: Principal = Depends(admin),
) -> JSONResponse:
    if body.vim_type not in VIM_TYPES:
        raise BadRequest(
            f"vim_type must be one of {list(VIM_TYPES)}, not {body.vim_type!r}",
            field="vim_type",
        )
    vim = svc.resources.create_vim(body.model_dump(), scope_of(who))
    background.add_task(svc.resources.check_and_sync, vim.id)
    background.add_task(svc.refresh_vim_events)
    return _created(vim_view(svc, vim), "/admin/v1/vim_accounts")


@router.get(
    "/vim_accounts",
    responses=responses(200, array_of(m.VimAccountView), "A page of VIM accounts"),
)
def list_vims(
    request: Request, svc: Services = Depends(services), who: Principal = Depends(reader)
) -> JSONResponse:
    scope = scope_of(who)
    return _list(
        request,
        svc,
        lambda page: svc.resources.vims_page(scope, page),
        lambda v: vim_view(svc, v),
        VIM_COLUMNS,
    )


@router.get(
    "/vim_accounts/{vim_id}",
    responses=responses(200, m.VimAccountView, "The VIM account", errors=(404,)),
)
def get_vim(
    vim_id: str, svc: Services = Depends(services), who: Principal = Depends(reader)
) -> JSONResponse:
    return JSONResponse(vim_view(svc, svc.resources.get_vim(vim_id, scope_of(who))))


@router.patch(
    "/vim_accounts/{vim_id}",
    responses=responses(200, m.VimAccountView, "The VIM account", errors=(404, 409, 422)),
)
def patch_vim(
    vim_id: str,
    body: VimPatch,
    background: BackgroundTasks,
    svc: Services = Depends(services),
    who: Principal = Depends(admin),
) -> JSONResponse:
    vim = svc.resources.update_vim(vim_id, body.model_dump(exclude_unset=True), scope_of(who))
    background.add_task(svc.resources.check_and_sync, vim.id)
    background.add_task(svc.refresh_vim_events)
    return JSONResponse(vim_view(svc, vim))


@router.delete(
    "/vim_accounts/{vim_id}",
    status_code=204,
    responses=responses(204, None, "Deleted", errors=(404, 409)),
)
def delete_vim(
    vim_id: str,
    background: BackgroundTasks,
    force: bool = False,
    svc: Services = Depends(services),
    who: Principal = Depends(admin),
) -> Response:
    svc.resources.delete_vim(vim_id, scope_of(who), force=force)
    background.add_task(svc.refresh_vim_events)
    return Response(status_code=204)


@router.post(
    "/vim_accounts/{vim_id}/sync",
    responses=responses(200, m.VimSyncResult, "Synced", errors=(404, 409, 422)),
)
def sync_vim(
    vim_id: str, svc: Services = Depends(services), who: Principal = Depends(admin)
) -> JSONResponse:
    counts = svc.resources.sync(vim_id, scope_of(who))
    return JSONResponse({"vimAccountId": vim_id, "synced": counts})


@router.get(
    "/vim_accounts/{vim_id}/resources",
    responses=responses(
        200, m.VimOwnedResources, "What nfvo created on it", errors=(404, 409, 422)
    ),
)
def vim_resources(
    vim_id: str, svc: Services = Depends(services), who: Principal = Depends(reader)
) -> JSONResponse:
    return JSONResponse(svc.resources.resources(vim_id, scope_of(who)))


# -- SDN controllers -----------------------------------------------------------
@router.post(
    "/sdn_controllers",
    status_code=201,
    responses=responses(
        201, m.SdnControllerView, "Created", errors=(404, 409, 422), headers=["Location"]
    ),
)
def create_sdn(
    body: SdnCreate,
    background: BackgroundTasks,
    svc: Services = Depends(services),
    who: Principal = Depends(admin),
) -> JSONResponse:
    row = svc.resources.create_sdn(body.model_dump(), scope_of(who))
    background.add_task(svc.resources.check_sdn, row.id)
    return _created(sdn_view(svc, row), "/admin/v1/sdn_controllers")


@router.get(
    "/sdn_controllers",
    responses=responses(200, array_of(m.SdnControllerView), "A page of SDN controllers"),
)
def list_sdns(
    request: Request, svc: Services = Depends(services), who: Principal = Depends(reader)
) -> JSONResponse:
    scope = scope_of(who)
    return _list(
        request,
        svc,
        lambda page: svc.resources.sdns_page(scope, page),
        lambda r: sdn_view(svc, r),
        SDN_COLUMNS,
    )


@router.get(
    "/sdn_controllers/{sdn_id}",
    responses=responses(200, m.SdnControllerView, "The SDN controller", errors=(404,)),
)
def get_sdn(
    sdn_id: str, svc: Services = Depends(services), who: Principal = Depends(reader)
) -> JSONResponse:
    return JSONResponse(sdn_view(svc, svc.resources.get_sdn(sdn_id, scope_of(who))))


@router.patch(
    "/sdn_controllers/{sdn_id}",
    responses=responses(200, m.SdnControllerView, "The SDN controller", errors=(404, 409, 422)),
)
def patch_sdn(
    sdn_id: str,
    body: SdnPatch,
    background: BackgroundTasks,
    svc: Services = Depends(services),
    who: Principal = Depends(admin),
) -> JSONResponse:
    row = svc.resources.update_sdn(sdn_id, body.model_dump(exclude_unset=True), scope_of(who))
    background.add_task(svc.resources.check_sdn, row.id)
    return JSONResponse(sdn_view(svc, row))


@router.delete(
    "/sdn_controllers/{sdn_id}",
    status_code=204,
    responses=responses(204, None, "Deleted", errors=(404, 409)),
)
def delete_sdn(
    sdn_id: str, svc: Services = Depends(services), who: Principal = Depends(admin)
) -> Response:
    svc.resources.delete_sdn(sdn_id, scope_of(who))
    return Response(status_code=204)
