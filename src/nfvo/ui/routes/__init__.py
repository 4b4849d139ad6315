"""The GUI's pages, one module per area; each module has a ``router``."""

from __future__ import annotations

from fastapi import APIRouter

from nfvo.ui.routes import dashboard, resources, users

ROUTERS: list[APIRouter] = [dashboard.router, resources.router, users.router]
