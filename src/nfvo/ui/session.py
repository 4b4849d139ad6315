"""Signing in to the GUI: a session cookie holding the same bearer token the API issues (so a
revoked client or a rotated key ends GUI sessions too), a CSRF token derived from it, and the
role checks of the API.

The cookie is HttpOnly and SameSite=Strict; every write also carries the CSRF token, in the
``X-CSRF-Token`` header (htmx sends it on every request) or the ``csrf_token`` form field, so a
page of another site can neither read nor use a session."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from nfvo.api.deps import Services, Unauthorized, _verified, services
from nfvo.api.routes.auth import TooManyAttempts, authenticate
from nfvo.api.security import Principal, Role
from nfvo.errors import Forbidden, NfvoError
from nfvo.resources.service import Scope
from nfvo.ui.render import is_htmx, page

COOKIE = "nfvo_ui"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
# with authentication off everyone is the anonymous admin; the CSRF token is still checked
_ANONYMOUS_CSRF = secrets.token_urlsafe(32)
_ANONYMOUS = Principal("anonymous", Role.admin, None)

router = APIRouter()


class LoginRequired(NfvoError):
    """No valid session: sign in first (a page redirects to the sign-in form)."""

    status = 401
    title = "Unauthorized"


def csrf_of(cookie: str) -> str:
    """The CSRF token of a session: a digest of its cookie, which a page of another site
    cannot read (the cookie is HttpOnly) and so cannot compute."""
    return hashlib.sha256(b"nfvo-ui-csrf\0" + cookie.encode()).hexdigest()


def cookie_value(token: str) -> str:
    """A new session's cookie: a random nonce (two sign-ins in one second get the same bearer
    token, never the same session) and the bearer token."""
    return f"{secrets.token_urlsafe(18)}.{token}"


def token_of(cookie: str) -> str:
    """The bearer token inside a session cookie ('' when it has none)."""
    nonce, _, token = cookie.partition(".")
    return token if nonce and token else ""


@dataclass(frozen=True)
class UiUser:
    """The signed-in user of a GUI request."""

    principal: Principal
    csrf: str

    @property
    def client_id(self) -> str:
        return self.principal.client_id

    @property
    def role(self) -> str:
        return self.principal.role.name

    @property
    def tenant_id(self) -> str | None:
        return self.principal.tenant_id

    @property
    def scope(self) -> Scope:
        """The visibility scope the services take (as the API's ``scope_of``)."""
        return Scope(self.principal.tenant_id)

    @property
    def can_operate(self) -> bool:
        """Whether write actions are shown (operator or admin)."""
        return self.principal.role >= Role.operator

    @property
    def is_admin(self) -> bool:
        return self.principal.role >= Role.admin


async def session_token(svc: Services, token: str) -> Principal:
    """The principal of a session cookie's token; Unauthorized when it is not valid."""
    return await _verified(svc, token)


async def current_user(request: Request, svc: Services = Depends(services)) -> UiUser:
    """Dependency: the signed-in user (LoginRequired when there is none)."""
    if not svc.settings.auth_enabled:
        user = UiUser(_ANONYMOUS, _ANONYMOUS_CSRF)
    else:
        cookie = request.cookies.get(COOKIE, "")
        token = token_of(cookie)
        if not token:
            raise LoginRequired("sign in to use the GUI")
        try:
            principal = await session_token(svc, token)
        except Unauthorized as exc:
            raise LoginRequired(f"the session ended: {exc.detail}") from None
        user = UiUser(principal, csrf_of(cookie))
    request.state.ui_user = user
    return user


def require(role: Role) -> Any:
    """Dependency: a signed-in user holding at least ``role`` (403 otherwise)."""

    async def check(user: UiUser = Depends(current_user)) -> UiUser:
        if user.principal.role < role:
            raise Forbidden(
                f"'{user.client_id}' has role '{user.role}'; this page needs '{role.name}'"
            )
        return user

    return check


async def _csrf_sent(request: Request) -> str:
    sent = request.headers.get(CSRF_HEADER)
    if sent:
        return sent
    ctype = request.headers.get("content-type", "")
    if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


def writes(role: Role) -> Any:
    """Dependency of every GUI route that changes something: ``role`` or higher and the
    session's CSRF token (403 naming which is missing)."""
    needs_role = require(role)

    async def check(request: Request, user: UiUser = Depends(needs_role)) -> UiUser:
        if not hmac.compare_digest(await _csrf_sent(request), user.csrf):
            raise Forbidden("the form's CSRF token is missing or stale; reload the page")
        return user

    return check


viewer = require(Role.reader)
# a POST that changes nothing (a form's preview or check) still carries the CSRF token: no
# page of another site makes the server work for it
previewer = writes(Role.reader)
operator = writes(Role.operator)
administrator = writes(Role.admin)
admin_viewer = require(Role.admin)


def _safe_next(target: str | None) -> str:
    """Only a path of the GUI itself (no open redirect)."""
    if target and target.startswith("/ui") and not target.startswith("//"):
        return target
    return "/ui/"


@router.get("/ui/login", response_class=HTMLResponse)
async def login_form(request: Request, next: str | None = None) -> Response:
    """The sign-in form."""
    return page(request, "login.html", next=_safe_next(next), error=None)


@router.post("/ui/login", response_class=HTMLResponse)
async def login(
    request: Request,
    client_id: str = Form(..., max_length=128),
    client_secret: str = Form(..., max_length=1024),
    next: str = Form("/ui/"),
    svc: Services = Depends(services),
) -> Response:
    """Check the client's credentials (as ``POST /oauth2/token`` does, with its limits) and
    start a session."""
    target = _safe_next(next)
    try:
        _, token, ttl = await authenticate(request, svc, client_id, client_secret)
    except (Unauthorized, TooManyAttempts) as exc:
        status = 429 if isinstance(exc, TooManyAttempts) else 401
        headers = (
            {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyAttempts) else None
        )
        return page(
            request, "login.html", status=status, headers=headers, next=target, error=exc.detail
        )
    resp = RedirectResponse(target, status_code=303)
    resp.set_cookie(
        COOKIE,
        cookie_value(token),
        max_age=ttl,
        path="/ui",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return resp


@router.post("/ui/logout")
async def logout(request: Request, user: UiUser = Depends(writes(Role.reader))) -> Response:
    """End the session (the cookie goes; the token itself lives until it expires)."""
    resp = RedirectResponse("/ui/login", status_code=303)
    resp.delete_cookie(COOKIE, path="/ui")
    if is_htmx(request):
        resp = Response(status_code=204, headers={"HX-Redirect": "/ui/login"})
        resp.delete_cookie(COOKIE, path="/ui")
    return resp


def login_redirect(request: Request) -> Response:
    """Where a request without a valid session goes: the sign-in form, coming back after."""
    target = "/ui/login?next=" + quote(request.url.path, safe="/")
    if is_htmx(request):
        return Response(status_code=401, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)
