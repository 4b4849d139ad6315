"""Users, that is API clients (``/ui/users``, admins only): list, create (the secret is shown
once), disable / enable, delete. Each write runs the very handler of ``/admin/v1/users``, so
the rules (client id syntax, roles, a tenant admin only in its own tenant, never yourself)
are the API's."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from nfvo.api.deps import Services, services
from nfvo.api.routes import auth as auth_api
from nfvo.api.security import Role
from nfvo.ui.render import page
from nfvo.ui.routes.resources import blocks, tenant_choices, tenant_names, text
from nfvo.ui.session import UiUser, admin_viewer, administrator

router = APIRouter()
TEMPLATE = "resources/users.html"


def user_list_values(svc: Services, user: UiUser) -> dict[str, Any]:
    """What the users page lists: the clients the admin may see (its tenant's, or all)."""
    return {
        "clients": svc.clients.list(user.tenant_id),
        "tenants": tenant_names(svc, user),
        "oob": False,
    }


@router.get("/ui/users", response_class=HTMLResponse)
def users_page(
    request: Request, user: UiUser = Depends(admin_viewer), svc: Services = Depends(services)
) -> HTMLResponse:
    """API clients and the form creating one."""
    return page(
        request,
        TEMPLATE,
        roles=list(Role.__members__),
        tenant_choices=tenant_choices(svc, user),
        **user_list_values(svc, user),
    )


def _answer(
    request: Request, svc: Services, user: UiUser, status: int = 200, **values: Any
) -> HTMLResponse:
    listed = user_list_values(svc, user) | {"oob": True}
    return blocks(request, TEMPLATE, ["message", "user_table"], status=status, **listed, **values)


@router.post("/ui/users", response_class=HTMLResponse)
async def create_user(
    request: Request, user: UiUser = Depends(administrator), svc: Services = Depends(services)
) -> HTMLResponse:
    """Create an API client as ``POST /admin/v1/users``; its secret is shown this once."""
    form = await request.form()
    body: dict[str, Any] = {
        "clientId": text(form, "client_id") or "",
        "clientSecret": text(form, "client_secret"),
        "role": text(form, "role") or "reader",
        "tenantId": text(form, "tenant_id"),
    }
    resp = await run_in_threadpool(auth_api.create_user, body=body, svc=svc, who=user.principal)
    made = json.loads(bytes(resp.body))
    return await run_in_threadpool(
        _answer, request, svc, user, 201, message=f"Created {made['clientId']}.", created=made
    )


def _set_disabled(
    client_id: str, disabled: bool, request: Request, user: UiUser, svc: Services
) -> HTMLResponse:
    auth_api.update_user(client_id, body={"disabled": disabled}, svc=svc, who=user.principal)
    word = "Disabled" if disabled else "Enabled"
    return _answer(request, svc, user, message=f"{word} {client_id}.", created=None)


@router.post("/ui/users/{client_id}/disable", response_class=HTMLResponse)
def disable_user(
    client_id: str,
    request: Request,
    user: UiUser = Depends(administrator),
    svc: Services = Depends(services),
) -> HTMLResponse:
    """Disable a client as ``PATCH /admin/v1/users/{id} {"disabled": true}``: its tokens
    end at once."""
    return _set_disabled(client_id, True, request, user, svc)


@router.post("/ui/users/{client_id}/enable", response_class=HTMLResponse)
def enable_user(
    client_id: str,
    request: Request,
    user: UiUser = Depends(administrator),
    svc: Services = Depends(services),
) -> HTMLResponse:
    """Enable a client again (it requests new tokens)."""
    return _set_disabled(client_id, False, request, user, svc)


@router.delete("/ui/users/{client_id}", response_class=HTMLResponse)
def delete_user(
    client_id: str,
    request: Request,
    user: UiUser = Depends(administrator),
    svc: Services = Depends(services),
) -> HTMLResponse:
    """Delete a client as ``DELETE /admin/v1/users/{id}`` (not the one signed in)."""
    auth_api.delete_user(client_id, svc=svc, who=user.principal)
    return _answer(request, svc, user, message=f"Deleted {client_id}.", created=None)
