"""NS LCM subscriptions ``nslcm/v2/subscriptions`` (and v1): SOL005 §6.4.16-17."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Request, Response
from fastapi.responses import JSONResponse

from nfvo.api.deps import Services, operator, reader, services
from nfvo.api.listing import Column, page_of
from nfvo.api.routes.packages import api_base
from nfvo.api.security import Principal
from nfvo.notifications.service import NotificationService, Subscription

router = APIRouter()
MANDATORY = [("id",), ("_links",)]
COLUMNS = {
    ("id",): Column("id"),
    ("callbackUri",): Column("callback_uri"),
    ("verbosity",): Column("verbosity"),
}


def _notifications(svc: Services) -> NotificationService:
    assert svc.notifications is not None, "the notification service is not configured"
    return svc.notifications


def subscription_view(sub: Subscription, base: str) -> dict[str, Any]:
    """LccnSubscription (SOL005 §6.5.2.4); authentication is never shown."""
    body: dict[str, Any] = {
        "id": sub.id,
        "callbackUri": sub.callback_uri,
        "verbosity": sub.verbosity,
        "_links": {"self": {"href": f"{base}/subscriptions/{sub.id}"}},
    }
    if sub.filter:
        body["filter"] = sub.filter
    return body


@router.post("/subscriptions", status_code=201)
def create_subscription(
    request: Request,
    body: Any = Body(...),
    svc: Services = Depends(services),
    who: Principal = Depends(operator),
) -> Response:
    sub, created = _notifications(svc).create(body, who.tenant_id)
    out = subscription_view(sub, api_base(request))
    location = out["_links"]["self"]["href"]
    if not created:
        return Response(status_code=303, headers={"Location": location})
    return JSONResponse(out, status_code=201, headers={"Location": location})


@router.get("/subscriptions")
def list_subscriptions(
    request: Request, svc: Services = Depends(services), who: Principal = Depends(reader)
) -> JSONResponse:
    base, notifications = api_base(request), _notifications(svc)
    return page_of(
        request,
        fetch=lambda page: notifications.page(who.tenant_id, page),
        render_page=lambda rows: [subscription_view(s, base) for s in rows],
        page_size=svc.settings.page_size,
        default_excluded=[],
        mandatory=MANDATORY,
        columns=COLUMNS,
    )


@router.get("/subscriptions/{subscription_id}")
def get_subscription(
    subscription_id: str,
    request: Request,
    svc: Services = Depends(services),
    who: Principal = Depends(reader),
) -> JSONResponse:
    sub = _notifications(svc).get(subscription_id, who.tenant_id)
    return JSONResponse(subscription_view(sub, api_base(request)))


@router.delete("/subscriptions/{subscription_id}", status_code=204)
def delete_subscription(
    subscription_id: str, svc: Services = Depends(services), who: Principal = Depends(operator)
) -> Response:
    _notifications(svc).delete(subscription_id, who.tenant_id)
    return Response(status_code=204)
