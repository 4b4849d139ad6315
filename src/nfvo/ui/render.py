"""Rendering: one Jinja2 environment over ``templates/``; a full page for a plain request and
only the page's ``content`` block (or the block asked for) for an htmx request; server-sent
events framed for the htmx SSE extension."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, StreamingResponse
from jinja2_fragments import render_block

TEMPLATES = Path(__file__).parent / "templates"
env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=jinja2.select_autoescape(("html",), default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
)
env.filters["tojson_pretty"] = lambda v: json.dumps(v, indent=2, sort_keys=True, default=str)


# Pages load nothing from another origin, run no inline script and may not be framed.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def is_htmx(request: Request) -> bool:
    """Whether htmx sent the request (it wants a fragment, not a page)."""
    return request.headers.get("hx-request") == "true"


def context(request: Request, **values: Any) -> dict[str, Any]:
    """The values every template sees: the request, the signed-in user (or None), the CSRF
    token, and ``values``."""
    user = getattr(request.state, "ui_user", None)
    return {
        "request": request,
        "user": user,
        "csrf": user.csrf if user is not None else "",
        **values,
    }


def page(
    request: Request,
    template: str,
    *,
    block: str | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **values: Any,
) -> HTMLResponse:
    """``template`` as a full page, or, for an htmx request, its ``block`` (``content`` unless
    named); ``block`` given for a plain request renders the whole page all the same."""
    ctx = context(request, **values)
    if is_htmx(request) and request.headers.get("hx-boosted") != "true":
        html = render_block(env, template, block or "content", **ctx)
    else:
        html = env.get_template(template).render(**ctx)
    return HTMLResponse(html, status_code=status, headers={**SECURITY_HEADERS, **(headers or {})})


def fragment(
    request: Request, template: str, block: str, *, status: int = 200, **values: Any
) -> HTMLResponse:
    """One block of ``template`` whatever the request (for SSE payloads and polled parts)."""
    return HTMLResponse(
        render_block(env, template, block, **context(request, **values)),
        status_code=status,
        headers=SECURITY_HEADERS,
    )


def block_html(request: Request, template: str, block: str, **values: Any) -> str:
    """The HTML of one block of ``template`` (for an SSE message)."""
    return render_block(env, template, block, **context(request, **values))


def sse_message(event: str, html: str) -> str:
    """One server-sent event named ``event`` carrying ``html`` (one ``data:`` line per line)."""
    data = "\n".join(f"data: {line}" for line in html.splitlines() or [""])
    return f"event: {event}\n{data}\n\n"


SSE_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}


def sse(
    request: Request,
    poll: Callable[[], Awaitable[tuple[list[tuple[str, str]], bool]]],
    *,
    interval: float = 0.5,
    max_seconds: float = 600.0,
) -> StreamingResponse:
    """A ``text/event-stream`` that calls ``poll`` every ``interval`` seconds: ``poll`` returns
    the events to send (``(name, html)`` pairs, only what changed) and whether the stream is
    done. The stream ends when done, when the client goes away, or after ``max_seconds`` (the
    browser's EventSource reconnects by itself)."""

    async def stream() -> AsyncIterator[str]:
        import asyncio
        import time

        deadline = time.monotonic() + max_seconds
        yield ": stream open\n\n"
        while time.monotonic() < deadline:
            if await request.is_disconnected():
                return
            events, done = await poll()
            for name, html in events:
                yield sse_message(name, html)
            if done:
                yield sse_message("done", "")
                return
            await asyncio.sleep(interval)

    return StreamingResponse(stream(), media_type="text/event-stream", headers=SSE_HEADERS)
