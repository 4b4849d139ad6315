"""``POST /oauth2/token`` (client-credentials grant, SOL013 §8) and API-client administration."""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Body, Depends, Request, Response
from fastapi.responses import JSONResponse

from nfvo.api.deps import Forbidden, Services, Unauthorized, admin, services
from nfvo.api.models import admin as m
from nfvo.api.models.openapi import array_of, request_body, responses
from nfvo.api.problems import problem
from nfvo.api.security import (
    MAX_SECRET_CHARS,
    ApiClient,
    AuthenticationBusy,
    Principal,
    Role,
    SigningKey,
)
from nfvo.errors import BadRequest, Conflict, NfvoError

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


def _too_many(request: Request, retry_after: int, detail: str) -> JSONResponse:
    resp = problem(429, detail, instance=request.url.path, error="too_many_attempts")
    resp.headers["Retry-After"] = str(max(retry_after, 1))
    return resp


def _login(svc: Services, client_id: str, secret: str) -> tuple[ApiClient, str, int] | None:
    """Check the secret and sign a token: blocking, run on the login guard's threads."""
    client = svc.clients.authenticate(client_id, secret)
    if client is None:
        return None
    tok, ttl = svc.tokens.issue(client)
    return client, tok, ttl


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
    """Issue a bearer token for valid client credentials. Repeated failures of one client id
    or from one address answer 429 with Retry-After, without checking the secret."""
    form = await request.form()
    grant = form.get("grant_type")
    if grant != "client_credentials":
        raise BadRequest(
            f"unsupported grant_type {grant!r}; use grant_type=client_credentials",
            field="grant_type",
            error="unsupported_grant_type",
        )
    client_id, secret = _basic(request)
    try:
        client, tok, ttl = await authenticate(request, svc, client_id, secret)
    except TooManyAttempts as exc:
        return _too_many(request, exc.retry_after, exc.detail)
    return JSONResponse(
        {"access_token": tok, "token_type": "Bearer", "expires_in": ttl, "scope": client.role},
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


class TooManyAttempts(NfvoError):
    """Too many failed attempts (or authentications in progress): try again later."""

    status = 429
    title = "Too Many Requests"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = max(retry_after, 1)


async def authenticate(
    request: Request, svc: Services, client_id: str, secret: str
) -> tuple[ApiClient, str, int]:
    """Check a client's secret under the login guard and sign a token: (client, token,
    lifetime in seconds). Repeated failures of one client id or from one address raise
    TooManyAttempts without checking the secret; a wrong secret raises Unauthorized. The
    token endpoint and the GUI's sign-in both come here."""
    guard = svc.clients.guard
    peer = request.client.host if request.client else None
    address = guard.address(peer, request.headers.get("x-forwarded-for"))
    wait = guard.retry_after(client_id, address)
    if wait:
        raise TooManyAttempts(f"too many failed attempts; try again in {wait} s", wait)
    guard.attempt(client_id, address)  # counted as failed until the secret proves right
    try:
        # scrypt takes tens of milliseconds: on threads of its own, never the event loop's
        result = await guard.run(_login, svc, client_id, secret)
    except AuthenticationBusy:
        guard.refund(client_id, address)  # not checked: not held against anyone
        raise TooManyAttempts(
            "too many authentications in progress; try again shortly", 1
        ) from None
    if result is None:
        raise Unauthorized("unknown client or wrong secret", error="invalid_client")
    guard.succeeded(client_id, address)
    return result


def _secret(value: object) -> str:
    if not isinstance(value, str) or not 8 <= len(value) <= MAX_SECRET_CHARS:
        raise BadRequest(
            f"clientSecret must be a string of 8 to {MAX_SECRET_CHARS} characters",
            field="clientSecret",
        )
    return value


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
    secret = _secret(body.get("clientSecret") or secrets.token_urlsafe(18))
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


_PATCHABLE = {"disabled", "clientSecret"}


@router.patch(
    "/admin/v1/users/{client_id}",
    responses=responses(200, m.ApiClientView, "The client", errors=(404, 409)),
    openapi_extra=request_body(m.ApiClientPatch),
)
def update_user(
    client_id: str,
    body: dict[str, Any] = Body(...),
    svc: Services = Depends(services),
    who: Principal = Depends(admin),
) -> JSONResponse:
    """Disable or enable an API client, or set its secret. Disabling it or changing its
    secret ends every token it holds (within seconds on every node)."""
    unknown = sorted(set(body) - _PATCHABLE)
    if unknown or not body:
        raise BadRequest(
            f"only {sorted(_PATCHABLE)} can be changed"
            + (f"; not {unknown}" if unknown else ": the body names neither"),
            field=unknown[0] if unknown else "body",
        )
    disabled = body.get("disabled")
    if "disabled" in body and not isinstance(disabled, bool):
        raise BadRequest("disabled must be true or false", field="disabled")
    secret = _secret(body["clientSecret"]) if "clientSecret" in body else None
    if disabled and client_id == who.client_id:
        raise Conflict("you cannot disable the client you are authenticated as")
    view = svc.clients.update(client_id, who.tenant_id, disabled=disabled, secret=secret)
    return JSONResponse(_client_view(view))


@router.post(
    "/admin/v1/users/{client_id}/revoke_tokens",
    status_code=204,
    responses=responses(204, None, "Its tokens are revoked", errors=(404,)),
)
def revoke_tokens(
    client_id: str, svc: Services = Depends(services), who: Principal = Depends(admin)
) -> Response:
    """End every token issued to the client so far; it can request new ones."""
    svc.clients.revoke_tokens(client_id, who.tenant_id)
    return Response(status_code=204)


def _global_admin(who: Principal) -> None:
    if who.tenant_id is not None:
        raise Forbidden("only a global admin (a client without a tenant) manages signing keys")


def _key_view(k: SigningKey) -> dict[str, Any]:
    def iso(d: datetime | None) -> str | None:
        return d.isoformat().replace("+00:00", "Z") if d else None

    return {
        "kid": k.kid,
        "signing": k.signs(),
        "createdAt": iso(k.created_at),
        "retiredAt": iso(k.retired_at),
        "expiresAt": iso(k.expires_at),
    }


@router.get(
    "/admin/v1/signing_keys",
    responses=responses(200, array_of(m.SigningKeyView), "Signing keys"),
)
def list_signing_keys(
    svc: Services = Depends(services), who: Principal = Depends(admin)
) -> JSONResponse:
    """The token signing keys by id and dates (never the key material)."""
    _global_admin(who)
    return JSONResponse([_key_view(k) for k in svc.tokens.keys.list()])


@router.post(
    "/admin/v1/signing_keys/rotate",
    responses=responses(200, m.SigningKeyView, "The new signing key"),
    openapi_extra=request_body(m.SigningKeyRotation, required=False),
)
def rotate_signing_key(
    body: dict[str, Any] | None = Body(None),
    svc: Services = Depends(services),
    who: Principal = Depends(admin),
) -> JSONResponse:
    """A new key signs from now on. Tokens signed by the previous keys stop working at once
    (the default), or after ``gracePeriodSeconds`` (at most the token lifetime)."""
    _global_admin(who)
    body = body or {}
    unknown = sorted(set(body) - {"gracePeriodSeconds"})
    if unknown:
        raise BadRequest(f"unknown field {unknown[0]!r}", field=unknown[0])
    grace = body.get("gracePeriodSeconds", 0)
    ttl = svc.tokens.ttl
    if isinstance(grace, bool) or not isinstance(grace, int) or not 0 <= grace <= ttl:
        raise BadRequest(
            f"gracePeriodSeconds must be a whole number from 0 to {ttl} (the token lifetime)",
            field="gracePeriodSeconds",
        )
    key = svc.tokens.keys.rotate(grace)
    return JSONResponse(_key_view(key))
