"""NS fault management ``nsfm/v1`` (SOL005 §8.4): alarms (list, read, acknowledge). The
subscription routes are the shared ones (``subscriptions.build_router("nsfm")``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import JSONResponse

from nfvo.api import shapes
from nfvo.api.deps import Services, operator, reader, services
from nfvo.api.listing import SUBSCRIPTION_LIST_PARAMS, Column, Columns, page_of, query_params
from nfvo.api.models import nsfm as m
from nfvo.api.models.openapi import array_of, request_body, responses
from nfvo.api.security import Principal
from nfvo.errors import BadRequest, PreconditionFailed
from nfvo.monitoring.fm import ACK_STATES, AlarmStore
from nfvo.notifications.nsfm import alarm_view

if TYPE_CHECKING:
    from nfvo.inventory.alarms_repo import AlarmRow

router = APIRouter()
NONE = [Depends(query_params())]
# GET /alarms takes a filter and paging, no attribute selectors (§8.4.2.3.2)
LIST = [Depends(query_params(SUBSCRIPTION_LIST_PARAMS))]
SOL = (406,)
MANDATORY = [("id",), ("_links",)]
# attributes whose filter terms are evaluated in SQL (each exactly its column's value);
# nsInstanceId is the ETSI YAML's name for managedObjectId (both accepted)
COLUMNS: Columns = {
    ("id",): Column("id"),
    ("managedObjectId",): Column("ns_instance_id"),
    ("nsInstanceId",): Column("ns_instance_id"),
    ("eventType",): Column("event_type"),
    ("perceivedSeverity",): Column("perceived_severity"),
    ("probableCause",): Column("probable_cause"),
    ("ackState",): Column("ack_state"),
    ("faultType",): Column("fault_type"),
    ("rootCauseFaultyResource", "faultyResourceType"): Column("faulty_resource_type"),
}


def _store(svc: Services) -> AlarmStore:
    return AlarmStore(svc.db)


def _root(request: Request) -> str:
    """The server's public root (links are absolute URIs)."""
    public = request.app.state.services.settings.public_url
    return (public or str(request.base_url)).rstrip("/")


def etag(row: AlarmRow) -> str:
    """The alarm's entity tag: its revision (every change increments it)."""
    return f'"{row.revision}"'


def if_match(request: Request) -> int | None:
    """The revision an If-Match names (None without one, or ``*``); 412 when it can name
    no revision of an alarm."""
    value = request.headers.get("if-match")
    if value is None or value.strip() == "*":
        return None
    tag = value.split(",")[0].strip().removeprefix("W/").strip('"')
    if not tag.isdigit() or len(tag) > 18:
        raise PreconditionFailed(f"If-Match {value!r} does not match the current ETag")
    return int(tag)


def _ack_state(body: Any) -> str:
    """The ackState of an AlarmModifications body (400 naming what is wrong)."""
    if not isinstance(body, dict):
        raise BadRequest("the request body must be an AlarmModifications object")
    unknown = sorted(set(body) - {"ackState"})
    if unknown:
        raise BadRequest(f"{unknown[0]!r} cannot be modified: only ackState", field=unknown[0])
    state = body.get("ackState")
    if state not in ACK_STATES:
        raise BadRequest(f"ackState must be one of {list(ACK_STATES)}", field="ackState")
    return str(state)


@router.get(
    "/alarms",
    dependencies=LIST,
    responses=responses(200, array_of(m.Alarm), "A page of alarms", errors=SOL),
)
def list_alarms(
    request: Request, svc: Services = Depends(services), who: Principal = Depends(reader)
) -> JSONResponse:
    store, root = _store(svc), _root(request)
    return page_of(
        request,
        fetch=lambda page: store.page(who.tenant_id, page),
        render_page=lambda rows: [alarm_view(r, root) for r in rows],
        page_size=svc.settings.page_size,
        default_excluded=[],
        mandatory=MANDATORY,
        columns=COLUMNS,
        shape=shapes.ALARM,
    )


@router.get(
    "/alarms/{alarm_id}",
    dependencies=NONE,
    responses=responses(200, m.Alarm, "The alarm", errors=(*SOL, 404), headers=["ETag"]),
)
def get_alarm(
    alarm_id: str,
    request: Request,
    svc: Services = Depends(services),
    who: Principal = Depends(reader),
) -> JSONResponse:
    row = _store(svc).get(alarm_id, who.tenant_id)
    return JSONResponse(alarm_view(row, _root(request)), headers={"ETag": etag(row)})


@router.patch(
    "/alarms/{alarm_id}",
    dependencies=NONE,
    responses=responses(
        200,
        m.AlarmModifications,
        "The modification made",
        errors=(*SOL, 404, 409, 412),
        headers=["ETag"],
    ),
    openapi_extra=request_body(m.AlarmModifications, media="application/merge-patch+json"),
)
def patch_alarm(
    alarm_id: str,
    request: Request,
    body: Any = Body(...),
    svc: Services = Depends(services),
    who: Principal = Depends(operator),
) -> JSONResponse:
    state = _ack_state(body)
    row = _store(svc).acknowledge(alarm_id, who.tenant_id, state, if_match(request))
    return JSONResponse({"ackState": row.ack_state}, headers={"ETag": etag(row)})
