"""The web GUI served at ``/ui``: server-rendered pages (Jinja2), htmx fragments, server-sent
events for live progress and Cytoscape graphs, all from the same services as the API. The
JavaScript is vendored under ``static/vendor`` (see VENDOR.md there): nothing is fetched from
another origin. See docs/gui.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from nfvo.api import problems

STATIC = Path(__file__).parent / "static"


def _error_page(
    request: Request, status: int, title: str, detail: str, extra: dict[str, Any]
) -> Response:
    from nfvo.ui.render import page
    from nfvo.ui.session import login_redirect

    if status == 401:
        return login_redirect(request)
    return page(
        request,
        "error.html",
        block="error",
        status=status,
        code=status,
        title=title,
        detail=detail,
        extra=extra,
    )


def mount(app: FastAPI) -> None:
    """Add the GUI's routes, its static files and its HTML error pages to ``app``."""
    from nfvo.ui.routes import ROUTERS
    from nfvo.ui.session import router as session_router

    app.mount("/ui/static", StaticFiles(directory=STATIC), name="ui-static")
    app.include_router(session_router, include_in_schema=False)
    for router in ROUTERS:
        app.include_router(router, include_in_schema=False)

    @app.get("/ui", include_in_schema=False)
    async def ui_root() -> Response:
        return RedirectResponse("/ui/", status_code=308)

    problems.render_html_under("/ui", _error_page)
