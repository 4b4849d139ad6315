"""The GUI's pages, one module per area; each module has a ``router``."""

from __future__ import annotations

from fastapi import APIRouter

from nfvo.ui.routes import dashboard, ns_list

ROUTERS: list[APIRouter] = [dashboard.router, ns_list.router]
