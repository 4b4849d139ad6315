"""RFC 7807 ProblemDetails for every error the API returns, framework errors included."""

from __future__ import annotations

import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from nfvo.errors import NfvoError

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"


def problem(
    status: int, detail: str, *, title: str | None = None, instance: str | None = None, **extra: Any
) -> JSONResponse:
    """A ProblemDetails response (``type`` defaults to about:blank, as RFC 7807 says)."""
    body: dict[str, Any] = {
        "type": extra.pop("type", "about:blank"),
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


# path prefix -> renderer of errors as pages (the GUI answers its errors in HTML)
HtmlRenderer = Callable[[Request, int, str, str, dict[str, Any]], Response]
_HTML: dict[str, HtmlRenderer] = {}


def render_html_under(prefix: str, renderer: HtmlRenderer) -> None:
    """Answer errors of requests under ``prefix`` with ``renderer(request, status, title,
    detail, extra)`` instead of a ProblemDetails body."""
    _HTML[prefix] = renderer


def _html(request: Request) -> HtmlRenderer | None:
    path = request.url.path
    for prefix, renderer in _HTML.items():
        if path == prefix or path.startswith(prefix + "/"):
            return renderer
    return None


def _loc(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body",)]
    return ".".join(parts) or "body"


async def _nfvo_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, NfvoError)
    html = _html(request)
    if html is not None:
        return html(request, exc.status, exc.title, exc.detail, exc.extra)
    resp = problem(exc.status, exc.detail, title=exc.title, instance=request.url.path, **exc.extra)
    if exc.status == 401:
        resp.headers["WWW-Authenticate"] = 'Bearer realm="nfvo"'
    return resp


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of the application accepts on the request's path."""
    routes = getattr(request.app, "routes", [])
    allowed = []
    for method in _METHODS:
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] is Match.FULL for route in routes):
            allowed.append(method)
    return allowed


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"no resource at {request.url.path}"
    elif exc.status_code == 405:
        detail = f"method {request.method} is not allowed on {request.url.path}"
    html = _html(request)
    if html is not None:
        return html(request, exc.status_code, HTTPStatus(exc.status_code).phrase, detail, {})
    resp = problem(exc.status_code, detail, instance=request.url.path)
    for k, v in (exc.headers or {}).items():
        resp.headers[k] = v
    if exc.status_code == 405:
        allowed = allowed_methods(request)
        if allowed:  # the route that answered names only its own methods
            resp.headers["Allow"] = ", ".join(allowed)
    return resp


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    invalid = [{"field": _loc(tuple(e.get("loc", ()))), "reason": e.get("msg", "")} for e in errors]
    if any(e.get("type") == "json_invalid" for e in errors):
        return problem(
            400, "request body is not valid JSON", instance=request.url.path, invalidParams=invalid
        )
    first = invalid[0] if invalid else {"field": "body", "reason": "invalid"}
    detail = f"{first['field']}: {first['reason']}"
    if len(invalid) > 1:
        detail += f" (and {len(invalid) - 1} more)"
    html = _html(request)
    if html is not None:
        return html(request, 400, "Bad Request", detail, {"invalidParams": invalid})
    return problem(400, detail, instance=request.url.path, invalidParams=invalid)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    resp = problem(
        500,
        "internal error; the server log has the details",
        instance=request.url.path,
    )
    # the server drops the connection after an unhandled error: say so
    resp.headers["Connection"] = "close"
    return resp


async def _not_unicode(request: Request, exc: Exception) -> JSONResponse:
    # JSON may escape lone surrogates ("\udc80"), which no database or file can store: the
    # text came from the request, so the request is what is wrong (not a 500)
    assert isinstance(exc, UnicodeEncodeError)
    return problem(
        400,
        "the request holds text that is not valid Unicode (a lone surrogate escape)",
        instance=request.url.path,
    )


def install(app: FastAPI) -> None:
    """Register the handlers so no error leaves the API without a ProblemDetails body."""
    app.add_exception_handler(NfvoError, _nfvo_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(UnicodeEncodeError, _not_unicode)
    app.add_exception_handler(Exception, _unexpected)
