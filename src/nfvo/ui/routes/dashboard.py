"""The dashboard: NS by state, operations running, alarms by severity, VIM capacity."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from nfvo.ui.render import page
from nfvo.ui.session import UiUser, viewer

router = APIRouter()


@router.get("/ui/", response_class=HTMLResponse)
async def dashboard(request: Request, user: UiUser = Depends(viewer)) -> HTMLResponse:
    """The dashboard page."""
    return page(request, "dashboard.html")
