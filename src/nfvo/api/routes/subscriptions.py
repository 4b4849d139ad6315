"""Subscriptions of the SOL005 APIs, one router per API on the same machinery:
``nslcm/v2/subscriptions`` (§6.4.16-17), ``vnfpkgm/v2/subscriptions`` (§9.4.8-9) and
``nsd/v2/subscriptions`` (§5.4.8-9), and their v1 paths; ``nsfm/v1/subscriptions``
(§8.4.4-5)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Body, Depends, Request, Response
from fastapi.responses import JSONResponse

from nfvo import limits
from nfvo.api import shapes
from nfvo.api.deps import Services, operator, reader, services
from nfvo.api.listing import SUBSCRIPTION_LIST_PARAMS, Column, page_of, query_params
from nfvo.api.models import subscriptions as m
from nfvo.api.models.nsfm import FmSubscriptionRequest
from nfvo.api.models.openapi import array_of, request_body, responses
from nfvo.api.routes.packages import api_base
from nfvo.api.security import Principal
from nfvo.errors import BadRequest
from nfvo.notifications.service import NotificationService, Subscription

MANDATORY = [("id",), ("_links",)]
COLUMNS = {
    ("id",): Column("id"),
    ("callbackUri",): Column("callback_uri"),
    ("verbosity",): Column("verbosity"),
}
SHAPES: dict[str, shapes.Shape] = {
    "nslcm": shapes.LCCN_SUBSCRIPTION,
    "vnfpkgm": shapes.PKGM_SUBSCRIPTION,
    "nsd": shapes.NSDM_SUBSCRIPTION,
    "nsfm": shapes.FM_SUBSCRIPTION,
}


def _notifications(svc: Services) -> NotificationService:
    assert svc.notifications is not None, "the notification service is not configured"
    return svc.notifications


def subscription_view(sub: Subscription, base: str) -> dict[str, Any]:
    """LccnSubscription (SOL005 §6.5.2.4), PkgmSubscription (§9.5.2.4) or NsdmSubscription
    (§5.5.2.8); authentication is never shown."""
    body: dict[str, Any] = {"id": sub.id, "callbackUri": sub.callback_uri}
    if sub.api == "nslcm":
        body["verbosity"] = sub.verbosity
    body["_links"] = {"self": {"href": f"{base}/subscriptions/{sub.id}"}}
    if sub.filter:
        body["filter"] = sub.filter
    return body


REQUESTS = {
    "nslcm": m.LccnSubscriptionRequest,
    "vnfpkgm": m.PkgmSubscriptionRequest,
    "nsd": m.NsdmSubscriptionRequest,
    "nsfm": FmSubscriptionRequest,
}
SOL = (406,)  # a Version header the path's major does not serve


def check_callback(body: Any) -> None:
    """400 naming callbackUri when it is beyond its bound or not a parseable URI."""
    if not isinstance(body, dict) or not isinstance(body.get("callbackUri"), str):
        return  # the service names what is missing
    limits.check_string(body["callbackUri"], "callbackUri", limits.MAX_URI)
    try:
        urlsplit(body["callbackUri"])
    except ValueError as exc:
        raise BadRequest(f"callbackUri is not a URI: {exc}", field="callbackUri") from None


def build_router(api: str) -> APIRouter:
    """The four subscription routes of ``api`` (nslcm, vnfpkgm, nsd or nsfm)."""
    router = APIRouter()
    none = [Depends(query_params())]
    columns = (
        COLUMNS if api == "nslcm" else {k: v for k, v in COLUMNS.items() if k[0] != "verbosity"}
    )

    created = responses(201, m.Subscription, "Created", errors=(*SOL, 422), headers=["Location"])
    created[303] = {
        "description": "An equal subscription exists: Location names it",
        "headers": {"Location": {"schema": {"type": "string"}}},
    }

    @router.post(
        "/subscriptions",
        status_code=201,
        dependencies=none,
        responses=created,
        openapi_extra=request_body(REQUESTS[api]),
    )
    def create_subscription(
        request: Request,
        body: Any = Body(...),
        svc: Services = Depends(services),
        who: Principal = Depends(operator),
    ) -> Response:
        check_callback(body)
        sub, created = _notifications(svc).create(body, who.tenant_id, api)
        out = subscription_view(sub, api_base(request))
        location = out["_links"]["self"]["href"]
        if not created:
            return Response(status_code=303, headers={"Location": location})
        return JSONResponse(out, status_code=201, headers={"Location": location})

    @router.get(
        "/subscriptions",
        dependencies=[Depends(query_params(SUBSCRIPTION_LIST_PARAMS))],
        responses=responses(200, array_of(m.Subscription), "A page of subscriptions", errors=SOL),
    )
    def list_subscriptions(
        request: Request, svc: Services = Depends(services), who: Principal = Depends(reader)
    ) -> JSONResponse:
        base, notifications = api_base(request), _notifications(svc)
        return page_of(
            request,
            fetch=lambda page: notifications.page(who.tenant_id, page, api),
            render_page=lambda rows: [subscription_view(s, base) for s in rows],
            page_size=svc.settings.page_size,
            default_excluded=[],
            mandatory=MANDATORY,
            columns=columns,
            shape=SHAPES[api],
        )

    @router.get(
        "/subscriptions/{subscription_id}",
        dependencies=none,
        responses=responses(200, m.Subscription, "The subscription", errors=(*SOL, 404)),
    )
    def get_subscription(
        subscription_id: str,
        request: Request,
        svc: Services = Depends(services),
        who: Principal = Depends(reader),
    ) -> JSONResponse:
        sub = _notifications(svc).get(subscription_id, who.tenant_id, api)
        return JSONResponse(subscription_view(sub, api_base(request)))

    @router.delete(
        "/subscriptions/{subscription_id}",
        status_code=204,
        dependencies=none,
        responses=responses(204, None, "Deleted", errors=(*SOL, 404)),
    )
    def delete_subscription(
        subscription_id: str,
        svc: Services = Depends(services),
        who: Principal = Depends(operator),
    ) -> Response:
        _notifications(svc).delete(subscription_id, who.tenant_id, api)
        return Response(status_code=204)

    return router


router = build_router("nslcm")
