"""Request-scoped dependencies: the application services and the caller's identity."""

from __future__ import annotations

from collections.abc import Callable

import jwt
from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from nfvo.api.security import Principal, RevokedToken, Role
from nfvo.errors import Forbidden, NfvoError
from nfvo.runtime import Services


class Unauthorized(NfvoError):
    """No valid bearer token (SOL013 §8: 401 with WWW-Authenticate)."""

    status = 401
    title = "Unauthorized"


# The dependencies below are coroutines although they do not wait for anything: FastAPI runs
# a plain function dependency in the thread pool, and a thread hop per dependency per request
# costs more than the work itself (a token check is some tens of microseconds).


async def services(request: Request) -> Services:
    """The application's services."""
    return request.app.state.services


_ANONYMOUS_ADMIN = Principal("anonymous", Role.admin, None)


async def _principal(request: Request, svc: Services = Depends(services)) -> Principal:
    if not svc.settings.auth_enabled:
        return _ANONYMOUS_ADMIN
    return await verify_bearer(svc, request.headers.get("authorization", ""))


async def verify_bearer(svc: Services, authorization: str) -> Principal:
    """The caller named by an ``Authorization`` header value; Unauthorized unless it is a
    valid bearer token (the request edge calls this too, before reading a request body)."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(
            "a bearer token is required: POST /oauth2/token with your client credentials "
            "(HTTP Basic, grant_type=client_credentials), then send 'Authorization: Bearer <token>'"
        )
    return await _verified(svc, token.strip())


async def _verified(svc: Services, token: str) -> Principal:
    """The principal of a bearer token, or Unauthorized saying why not. Usually answered from
    memory; when a client or the keys are due for a re-read, that read runs in a thread."""
    try:
        principal = svc.tokens.verify_cached(token)
        if principal is None:
            principal = await run_in_threadpool(svc.tokens.verify, token)
        return principal
    except jwt.ExpiredSignatureError:
        raise Unauthorized("the bearer token has expired; request a new one") from None
    except RevokedToken as exc:
        raise Unauthorized(f"the bearer token is no longer valid: {exc}") from None
    except jwt.InvalidTokenError as exc:
        raise Unauthorized(f"the bearer token is invalid: {exc}") from None


def require(role: Role) -> Callable[..., Principal]:
    """Dependency: a caller holding at least ``role``."""

    async def check(p: Principal = Depends(_principal)) -> Principal:
        if p.role < role:
            raise Forbidden(
                f"client '{p.client_id}' has role '{p.role.name}'; "
                f"this needs '{role.name}' or higher"
            )
        return p

    return check


reader = require(Role.reader)
operator = require(Role.operator)
admin = require(Role.admin)
