"""``/monitoring/v1``: where external monitoring systems hand nfvo what they observed.

``POST /monitoring/v1/alertmanager`` takes Prometheus Alertmanager's webhook (payload
version 4) from an operator (or admin) client: a tenant's client raises faults on its own
tenant's NS, VNF, servers and hosts of its own VIMs only; a global client on any. See
docs/monitoring-alertmanager.md.

``POST /monitoring/v1/vnffm/notifications`` is nfvo's callback for a VNFM's SOL003 VNF fault
management subscription (``GET`` answers the VNFM's callback test with 204): VNF alarms
become ``VNF_ALARM`` faults on the VNF instance (docs/rca.md).
"""

from __future__ import annotations

import threading
from typing import Any

from fastapi import APIRouter, Body, Depends, Request, Response
from fastapi.responses import JSONResponse

from nfvo.api.deps import Services, operator, services
from nfvo.api.models import alertmanager as m
from nfvo.api.models.openapi import request_body, responses
from nfvo.api.models.rca import VnfFmNotification
from nfvo.api.security import Principal
from nfvo.monitoring.model import Sink
from nfvo.monitoring.sources.alertmanager import (
    AlertmanagerConfig,
    AlertmanagerWebhook,
    InventoryResolver,
    parse_payload,
)
from nfvo.monitoring.sources.vnffm import VnfFmReceiver
from nfvo.monitoring.sources.vnffm import parse as parse_vnffm

router = APIRouter(prefix="/monitoring/v1", tags=["monitoring"])
_create = threading.Lock()


def monitor_of(svc: Services) -> Sink | None:
    """The monitoring hub of the services, None while the runtime does not run it."""
    return svc.monitor


def build_webhook(svc: Services, config: AlertmanagerConfig | None = None) -> AlertmanagerWebhook:
    """The webhook over ``svc``'s inventory and monitor (settings from the environment)."""
    return AlertmanagerWebhook(
        InventoryResolver(svc.db),
        lambda: monitor_of(svc),
        config or AlertmanagerConfig.from_env(),
    )


def webhook_of(request: Request, svc: Services) -> AlertmanagerWebhook:
    """The application's webhook (made at start-up; made here when an application was
    started without it, e.g. in a test)."""
    state = request.app.state
    hook = getattr(state, "alertmanager", None)
    if hook is None:
        with _create:
            hook = getattr(state, "alertmanager", None)
            if hook is None:
                hook = state.alertmanager = build_webhook(svc)
    return hook


@router.post(
    "/alertmanager",
    responses=responses(
        200, m.AlertmanagerOutcome, "Alerts taken, raised, cleared, skipped", errors=(422, 503)
    ),
    openapi_extra=request_body(m.AlertmanagerPayload),
)
def alertmanager(
    request: Request,
    body: Any = Body(...),
    svc: Services = Depends(services),
    who: Principal = Depends(operator),
) -> JSONResponse:
    payload = parse_payload(body)  # whole, before anything is applied
    # scaling alerts first: the guarded decision is taken at once (docs/autoscale.md)
    scaling = svc.scaler.on_alerts(payload.alerts, who.tenant_id) if svc.scaler else []
    outcome = webhook_of(request, svc).handle(payload, who.tenant_id)
    body = outcome.as_json()
    if scaling:  # only when some alert carried scaling labels
        body["scaling"] = scaling
    return JSONResponse(body)


def vnffm_of(request: Request, svc: Services) -> VnfFmReceiver:
    """The application's VNF FM receiver (made on first use)."""
    state = request.app.state
    receiver = getattr(state, "vnffm", None)
    if receiver is None:
        with _create:
            receiver = getattr(state, "vnffm", None)
            if receiver is None:
                receiver = state.vnffm = VnfFmReceiver(svc.db, lambda: monitor_of(svc))
    return receiver


@router.post(
    "/vnffm/notifications",
    status_code=204,
    responses=responses(204, None, "Taken", errors=(422, 503)),
    openapi_extra=request_body(VnfFmNotification),
)
def vnffm_notification(
    request: Request,
    body: Any = Body(...),
    svc: Services = Depends(services),
    who: Principal = Depends(operator),
) -> Response:
    note = parse_vnffm(body)  # whole, before anything is applied
    vnffm_of(request, svc).handle(note, who.tenant_id)
    return Response(status_code=204)


@router.get(
    "/vnffm/notifications",
    status_code=204,
    responses=responses(204, None, "The callback test of a VNFM's subscription"),
)
def vnffm_callback_test(who: Principal = Depends(operator)) -> Response:
    return Response(status_code=204)
