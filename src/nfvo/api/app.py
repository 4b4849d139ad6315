"""The FastAPI application: SOL005 routers, SOL013 conventions, OAuth2."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nfvo import __version__, ui
from nfvo.api import problems
from nfvo.api.edge import RequestEdge
from nfvo.api.models import openapi
from nfvo.api.models.common import ApiVersionInformation
from nfvo.api.routes import (
    action_plans,
    admin,
    auth,
    impact,
    metrics,
    monitoring,
    nsfm,
    nslcm,
    nspm,
    packages,
    placements,
    plans,
    policies,
    policy_decisions,
    quotas,
    rca,
    sim,
    subscriptions,
    windows,
)
from nfvo.monitoring.sources.alertmanager import AlertmanagerConfig
from nfvo.runtime import Runtime, serves_api

# SOL005 API name -> the API version implemented under its v2 paths (v1 paths answer 1.3.0)
APIS: dict[str, str] = {
    "vnfpkgm": "2.4.0",
    "nsd": "2.3.0",
    "nslcm": "2.3.0",
    "nsfm": "1.3.0",
    "nspm": "2.3.0",
}
# the path majors each API serves (SOL005 V3.7.1: nsfm exists only as v1, nspm only as v2)
MAJORS: dict[str, tuple[str, ...]] = {"nsfm": ("v1",), "nspm": ("v2",)}


def _versions_body(api: str, prefix: str) -> dict[str, Any]:
    major = prefix.rsplit("/v", 1)[1]
    version = APIS[api] if major == "2" else "1.3.0"
    return {"uriPrefix": prefix, "apiVersions": [{"version": version}]}


def _add_api_versions(app: FastAPI, api: str) -> None:
    majors = MAJORS.get(api, ("v1", "v2"))
    latest = majors[-1]

    async def versions(request: Request) -> JSONResponse:
        path = request.url.path.removesuffix("/api_versions")
        prefix = path if path.count("/") >= 2 else f"/{api}/{latest}"
        return JSONResponse(_versions_body(api, prefix))

    for path in (f"/{api}/api_versions", *(f"/{api}/{m}/api_versions" for m in majors)):
        app.add_api_route(
            path,
            versions,
            methods=["GET"],
            include_in_schema=path.endswith(f"{latest}/api_versions"),
            responses=openapi.responses(
                200, ApiVersionInformation, "The versions this API serves", errors=(406,)
            ),
        )


# Header names as SOL005/SOL013 and RFC 9110 write them. HTTP names are case-insensitive, but
# some conformance tools compare them case-sensitively, and Starlette sends them lower-case.
CANONICAL_HEADERS: dict[bytes, bytes] = {
    name.lower().encode(): name.encode()
    for name in (
        "Content-Type",
        "Content-Length",
        "Content-Range",
        "Accept-Ranges",
        "Location",
        "ETag",
        "Link",
        "Version",
        "WWW-Authenticate",
        "Retry-After",
    )
}


def canonical_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``headers`` with the known names in their canonical case (others unchanged)."""
    return [(CANONICAL_HEADERS.get(name, name), value) for name, value in headers]


class VersionHeader:
    """SOL013 §4.6 ``Version`` header: refuse a requested version the path's major does not
    serve (406), and name the version served on every response of a SOL005 API, whose
    header names go out in their canonical case (``Content-Type``, ``ETag``...).

    A plain ASGI middleware: it costs a dictionary look-up per request, where an ``http``
    middleware function would add a task and memory streams to every request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        parts = path.split("/")
        api = parts[1] if len(parts) > 1 else ""
        if api not in APIS:
            await self.app(scope, receive, send)
            return
        asked = Headers(scope=scope).get("version")
        major = parts[2][1:] if len(parts) > 2 and parts[2] in ("v1", "v2") else None
        version = APIS[api] if major != "1" else "1.3.0"

        async def send_with_version(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["Version"] = version
                message["headers"] = canonical_headers(list(message["headers"]))
            await send(message)

        if asked and major and not asked.startswith(major + "."):
            refusal = problems.problem(
                406,
                f"Version {asked!r} is not supported under /{api}/v{major}; "
                f"see /{api}/api_versions",
                instance=path,
            )
            await refusal(scope, receive, send_with_version)
            return
        await self.app(scope, receive, send_with_version)


def create_app(runtime: Runtime) -> FastAPI:
    """The ASGI application over ``runtime``'s services; the runtime starts with the
    application and stops with it."""
    if not serves_api(runtime.settings.role):
        raise ValueError(f"a {runtime.settings.role} process serves no API")
    alerts = AlertmanagerConfig.from_env()  # a bad NFVO_ALERTMANAGER_* refuses the start

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # off the event loop: migrations and the workflow engine's start-up block
        await asyncio.to_thread(runtime.start)
        app.state.services = runtime.services
        app.state.alertmanager = monitoring.build_webhook(runtime.services, alerts)
        app.state.alertmanager.start()
        yield
        app.state.alertmanager.stop()
        await asyncio.to_thread(runtime.stop)

    app = FastAPI(
        title="nfvo",
        version=__version__,
        description="ETSI NFV Orchestrator: SOL005 northbound APIs",
        lifespan=lifespan,
    )
    problems.install(app)
    openapi.install(app)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, Any]:
        return runtime.health()

    # added first, so it runs inside VersionHeader: its refusals carry the Version header too
    app.add_middleware(RequestEdge, settings=runtime.settings)
    app.add_middleware(VersionHeader)
    app.include_router(auth.router, tags=["auth"])
    app.include_router(admin.router)
    app.include_router(placements.router)
    app.include_router(plans.router)
    app.include_router(action_plans.router)
    app.include_router(windows.router)
    app.include_router(rca.router)
    app.include_router(policies.router)
    app.include_router(metrics.router)
    app.include_router(sim.router)
    app.include_router(monitoring.router)
    app.include_router(quotas.router)
    app.include_router(policy_decisions.router)
    app.include_router(impact.router)
    for major in ("v1", "v2"):
        app.include_router(
            nslcm.router, prefix=f"/nslcm/{major}", tags=["nslcm"], include_in_schema=major == "v2"
        )
        app.include_router(
            subscriptions.router,
            prefix=f"/nslcm/{major}",
            tags=["nslcm"],
            include_in_schema=major == "v2",
        )
    for major in ("v1", "v2"):
        app.include_router(
            packages.build_router(packages.VNF),
            prefix=f"/vnfpkgm/{major}",
            tags=["vnfpkgm"],
            include_in_schema=major == "v2",
        )
        for api in ("vnfpkgm", "nsd"):
            app.include_router(
                subscriptions.build_router(api),
                prefix=f"/{api}/{major}",
                tags=[api],
                include_in_schema=major == "v2",
            )
        for coll in (packages.NSD, packages.PNFD):
            app.include_router(
                packages.build_router(coll),
                prefix=f"/nsd/{major}",
                tags=["nsd"],
                include_in_schema=major == "v2",
            )
    app.include_router(nsfm.router, prefix="/nsfm/v1", tags=["nsfm"])
    app.include_router(subscriptions.build_router("nsfm"), prefix="/nsfm/v1", tags=["nsfm"])
    # nspm has no v1 paths: SOL005 V3.7.1 serves it under v2 only
    app.include_router(nspm.router, prefix="/nspm/v2", tags=["nspm"])
    for api in APIS:
        _add_api_versions(app, api)
    ui.mount(app)
    return app
