"""``POST /oauth2/token`` (client-credentials grant, SOL013 §8) and API-client administration."""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from typing import Any

from fastapi import APIRouter, Body, Depends, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from nfvo.api.deps import Forbidden, Services, Unauthorized, admin, services
from nfvo.api.models import admin as m
from nfvo.api.models.openapi import array_of, request_body, responses
from nfvo.api.security import ApiClient, Principal, Role
from nfvo.errors import BadRequest, Conflict

router = APIRouter()
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_.@-]{1,128}$")


def _basic(request: Request) -> tuple[str, str]:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        raise Unauthorized(
            "authenticate the client with HTTP Basic (client_id:client_secret)",
            error="invalid_client",
        )
    try:
        user, _, pw = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthorized("malformed Basic credentials", error="invalid_client") from None
    return user, pw


TOKEN_FORM = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "grant_type": {"type": "string", "enum": ["client_credentials"]}
                    },
                    "required": ["grant_type"],
                }
            }
        },
    }
}


@router.post(
    "/oauth2/token",
    responses=responses(200, m.TokenResponse, "A bearer token", errors=(429,)),
    openapi_extra=TOKEN_FORM,
)
async def token(request: Request, svc: Services = Depends(services)) -> JSONResponse:
    """Issue a bearer token for valid client credentials."""
    form = await request.form()
    grant = form.get("grant_type")
    if grant != "client_credentials":
        raise BadRequest(
            f"unsupported grant_type {grant!r}; use grant_type=client_credentials",
            field="grant_type",
            error="unsupported_grant_type",
        )
    client_id, secret = _basic(request)
    # scrypt takes tens of milliseconds: off the event loop, like the synchronous routes
    client = await run_in_threadpool(svc.clients.authenticate, client_id, secret)
    if client is None:
        raise Unauthorized("unknown client or wrong secret", error="invalid_client")
    tok, ttl = svc.tokens.issue(client)
    return JSONResponse(
        {"access_token": tok, "token_type": "Bearer", "expires_in": ttl, "scope": client.role},
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


def _client_view(c: ApiClient) -> dict[str, Any]:
    out: dict[str, Any] = {"clientId": c.client_id, "role": c.role, "disabled": c.disabled}
    if c.tenant_id:
        out["tenantId"] = c.tenant_id
    return out


@router.post(
    "/admin/v1/users",
    status_code=201,
    responses=responses(201, m.ApiClientView, "Created", errors=(409,), headers=["Location"]),
    openapi_extra=request_body(m.ApiClientCreate),
)
def create_user(
    body: dict[str, Any] = Body(...),
    svc: Services = Depends(services),
    who: Principal = Depends(admin),
) -> JSONResponse:
    """Create an API client; the secret is returned once (generated if not given)."""
    m.check_client_request(body)
    cid = body.get("clientId")
    if not isinstance(cid, str) or not _CLIENT_ID.match(cid):
        raise BadRequest(
            "clientId must be 1-128 characters of letters, digits, _ . @ -", field="clientId"
        )
    role = body.get("role", "reader")
    if role not in Role.__members__:
        raise BadRequest(f"role must be one of {list(Role.__members__)}", field="role")
    tenant_id = body.get("tenantId")
    if who.tenant_id is not None:
        if tenant_id not in (None, who.tenant_id):
            raise Forbidden("a tenant admin creates clients only in its own tenant")
        tenant_id = who.tenant_id
    elif tenant_id is not None and not svc.resources.tenant_exists(tenant_id):
        raise BadRequest(f"tenant {tenant_id} does not exist", field="tenantId")
    secret = body.get("clientSecret") or secrets.token_urlsafe(18)
    if not isinstance(secret, str) or len(secret) < 8:
        raise BadRequest(
            "clientSecret must be a string of at least 8 characters", field="clientSecret"
        )
    view = _client_view(svc.clients.create(cid, secret, Role[role], tenant_id))
    view["clientSecret"] = secret
    return JSONResponse(view, status_code=201, headers={"Location": f"/admin/v1/users/{cid}"})


@router.get("/admin/v1/users", responses=responses(200, array_of(m.ApiClientView), "API clients"))
def list_users(svc: Services = Depends(services), who: Principal = Depends(admin)) -> JSONResponse:
    """API clients the caller may see (secrets never returned)."""
    return JSONResponse([_client_view(c) for c in svc.clients.list(who.tenant_id)])


@router.delete(
    "/admin/v1/users/{client_id}",
    status_code=204,
    responses=responses(204, None, "Deleted", errors=(404, 409)),
)
def delete_user(
    client_id: str, svc: Services = Depends(services), who: Principal = Depends(admin)
) -> Response:
    """Remove an API client (not yourself)."""
    if client_id == who.client_id:
        raise Conflict("you cannot delete the client you are authenticated as")
    svc.clients.delete(client_id, who.tenant_id)
    return Response(status_code=204)
