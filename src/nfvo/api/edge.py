"""The request edge: what a request carrying a body must satisfy before and while it is read.

Before a single body byte is read, the caller must hold a valid bearer token (except on
``POST /oauth2/token``, which authenticates with HTTP Basic) and a declared ``Content-Length``
must fit the route's limit. While the body is read, it must keep fitting the limit and keep
arriving: a pause longer than the body timeout, or an average rate below the minimum once the
grace period has passed, ends the request with 408. Every refusal is a ProblemDetails that
says ``Connection: close``, and so is any answer given before the body was read in full, so
the server never drains an unwanted body. See docs/security-edge.md.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nfvo.api import problems
from nfvo.api.deps import verify_bearer
from nfvo.config import Settings
from nfvo.errors import NfvoError, PayloadTooLarge

log = logging.getLogger(__name__)

TOKEN_PATH = "/oauth2/token"
# the token request is a small form: grant_type (and perhaps a scope)
TOKEN_FORM_BYTES = 16 << 10
# PUT on these collection sub-resources carries a package archive
CONTENT_SUFFIXES = ("/package_content", "/nsd_content", "/pnfd_content")
CLOSE = (b"connection", b"close")
# the GUI: its sign-in form is a small form; its other writes are signed in by the session
# cookie; a package upload through it carries an archive
UI_PREFIX = "/ui/"
UI_LOGIN = "/ui/login"
UI_UPLOAD_SUFFIX = "/upload"


class RequestTimeout(NfvoError):
    """The request body did not arrive in time (408)."""

    status = 408
    title = "Request Timeout"


def body_limit(settings: Settings, method: str, path: str) -> tuple[int, str]:
    """The largest body ``method path`` may carry, and what kind of body that is."""
    if path in (TOKEN_PATH, UI_LOGIN):
        return TOKEN_FORM_BYTES, "token request"
    if path.startswith(UI_PREFIX) and path.endswith(UI_UPLOAD_SUFFIX):
        return settings.max_upload_bytes, "package upload"
    if method == "PUT" and path.endswith(CONTENT_SUFFIXES):
        return settings.max_upload_bytes, "package content"
    return settings.max_json_bytes, "request body"


def _declared_body(scope: Scope) -> tuple[bool, int | None]:
    """(whether the request carries a body, its declared length when it has one)."""
    length: int | None = None
    chunked = False
    for name, value in scope["headers"]:
        if name == b"content-length":
            length = int(value) if value.strip().isdigit() else None
        elif name == b"transfer-encoding":
            chunked = True
    if chunked:
        return True, None
    return bool(length), length


def refusal(scope: Scope, exc: NfvoError) -> JSONResponse:
    """The ProblemDetails answer for ``exc``, closing the connection (the body is unread)."""
    resp = problems.problem(
        exc.status, exc.detail, title=exc.title, instance=scope.get("path"), **exc.extra
    )
    if exc.status == 401:
        resp.headers["WWW-Authenticate"] = 'Bearer realm="nfvo"'
    resp.headers["Connection"] = "close"
    return resp


async def _session(services: Any, scope: Scope) -> None:
    """A GUI request with a body must come from a signed-in session (its cookie's token)."""
    from nfvo.ui.session import COOKIE, LoginRequired, session_token, token_of

    token = ""
    for part in Headers(scope=scope).get("cookie", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE:
            token = token_of(value)
    if not token:
        raise LoginRequired("sign in to use the GUI")
    await session_token(services, token)


async def _no_body() -> Message:
    return {"type": "http.disconnect"}


class RequestEdge:
    """ASGI middleware guarding requests that carry a body (see the module's docstring).

    A request without a body passes through untouched: the middleware costs a scan of the
    header list, no task and no copy."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        has_body, length = _declared_body(scope)
        if not has_body:
            await self.app(scope, receive, send)
            return
        try:
            limit, what = await self._admit(scope, length)
        except NfvoError as exc:
            await refusal(scope, exc)(scope, _no_body, send)
            return
        guard = BodyGuard(scope, receive, send, limit, what, self.settings)
        try:
            await self.app(scope, guard.receive, guard.send)
        except ClientDisconnect:
            log.info(
                "%s %s: the client went away after %d body bytes",
                scope["method"],
                scope["path"],
                guard.received,
            )
        except Exception:
            if guard.verdict is None:
                raise
            # the app gave up reading because of the verdict: answer it, once
            if not guard.started:
                await guard.answer_verdict()

    async def _admit(self, scope: Scope, length: int | None) -> tuple[int, str]:
        """The body limit for this request and what the body is; raises the refusal when it
        may not send one."""
        path = scope["path"]
        if path not in (TOKEN_PATH, UI_LOGIN) and self.settings.auth_enabled:
            services = scope["app"].state.services
            if path.startswith(UI_PREFIX):
                await _session(services, scope)
            else:
                await verify_bearer(services, Headers(scope=scope).get("authorization", ""))
        limit, what = body_limit(self.settings, scope["method"], path)
        if length is not None and length > limit:
            raise PayloadTooLarge(
                f"the {what} declares {length} bytes; the limit on {path} is {limit} bytes"
            )
        return limit, what


class BodyGuard:
    """One request's body under watch: its size against ``limit``, its pace against the
    timeouts, and the response's ``Connection`` header while the body is not read in full."""

    def __init__(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        limit: int,
        what: str,
        settings: Settings,
    ) -> None:
        self.scope = scope
        self._receive = receive
        self._send = send
        self.limit = limit
        self.what = what
        self.idle = settings.body_timeout_seconds
        self.min_rate = settings.body_min_rate
        self.started_at = time.monotonic()
        self.received = 0
        self.complete = False
        self.started = False
        self.verdict: NfvoError | None = None

    def _allowance(self) -> float:
        """Seconds the next piece of the body may take to arrive."""
        wait = self.idle
        if self.min_rate:
            deadline = self.started_at + self.idle + self.received / self.min_rate
            wait = min(wait, deadline - time.monotonic())
        return wait

    def _refuse(self, exc: NfvoError) -> NfvoError:
        if self.verdict is None:
            self.verdict = exc
            log.info("%s %s refused: %s", self.scope["method"], self.scope["path"], exc.detail)
        return self.verdict

    async def receive(self) -> Message:
        """The next body message, within the limit and in time."""
        if self.complete:
            return await self._receive()
        if self.verdict is not None:
            raise self.verdict
        wait = self._allowance()
        try:
            if wait <= 0:
                raise TimeoutError
            async with asyncio.timeout(wait):
                message = await self._receive()
        except TimeoutError:
            raise self._refuse(self._too_slow()) from None
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit:
                raise self._refuse(
                    PayloadTooLarge(
                        f"the {self.what} exceeds the limit of {self.limit} bytes "
                        f"on {self.scope['path']}"
                    )
                )
            self.complete = not message.get("more_body", False)
        return message

    def _too_slow(self) -> RequestTimeout:
        elapsed = time.monotonic() - self.started_at
        return RequestTimeout(
            f"the request body arrived too slowly: {self.received} bytes in {elapsed:.1f} s "
            f"(a body may pause at most {self.idle:g} s"
            + (f" and must average {self.min_rate} bytes/s" if self.min_rate else "")
            + ")"
        )

    async def send(self, message: Message) -> None:
        """Pass the app's response on; once a verdict is out, it replaces the app's answer."""
        if self.verdict is not None:
            if not self.started:
                await self.answer_verdict()
            return
        if message["type"] == "http.response.start":
            self.started = True
            if not self.complete:
                message["headers"] = _with_close(message.get("headers", []))
        await self._send(message)

    async def answer_verdict(self) -> None:
        """Send the refusal that ended the body (the app's own answer is dropped)."""
        assert self.verdict is not None
        self.started = True
        await refusal(self.scope, self.verdict)(self.scope, _no_body, self._send)


def _with_close(headers: Any) -> list[tuple[bytes, bytes]]:
    out = [(k, v) for k, v in headers if k.lower() != b"connection"]
    out.append(CLOSE)
    return out
