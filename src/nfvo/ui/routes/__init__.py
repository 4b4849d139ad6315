"""The GUI's pages, one module per area; each module has a ``router``."""

from __future__ import annotations

from fastapi import APIRouter

from nfvo.ui.routes import (
    alarms,
    dashboard,
    ns_detail,
    ns_list,
    ops,
    packages,
    policy,
    resources,
    users,
)

ROUTERS: list[APIRouter] = [
    dashboard.router,
    packages.router,
    ns_list.router,
    ns_detail.router,
    ops.router,
    alarms.router,
    policy.router,
    resources.router,
    users.router,
]
