"""Alarms: the nsfm alarm list the caller's tenant sees (as ``GET /nsfm/v1/alarms``), kept
live by server-sent events, filtered by severity and acknowledgement state, and the
Acknowledge action (as ``PATCH /nsfm/v1/alarms/{id}``)."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from nfvo.api.deps import Services, services
from nfvo.errors import BadRequest, NfvoError
from nfvo.monitoring.fm import ACK_STATES, AlarmStore
from nfvo.monitoring.model import Severity
from nfvo.notifications.nsfm import alarm_view
from nfvo.query import ColumnTest, PageQuery, SortKey
from nfvo.ui.render import block_html, fragment, page, sse
from nfvo.ui.session import UiUser, operator, viewer

if TYPE_CHECKING:  # row type only: the GUI does not use the inventory
    from nfvo.inventory.alarms_repo import AlarmRow

router = APIRouter()
TEMPLATE = "alarms/alarms.html"
SEVERITIES = tuple(s.value for s in Severity)
SHOWN = 200  # the newest alarms shown
CHUNK = 500  # rows read per query
SCANNED = 5000  # rows read at most for one list
# how far back the list looks, widened until it finds SHOWN alarms (seconds; None: all)
LOOK_BACK = (3600.0, 86400.0, 7 * 86400.0, 30 * 86400.0, None)
ACKNOWLEDGED = "ACKNOWLEDGED"  # the ackState the Acknowledge button sets (of ACK_STATES)
LIVE_INTERVAL = 1.0  # seconds between two looks at the list (SSE)


def _filters(severity: str | None, ack: str | None) -> dict[str, str]:
    """The list's filters, each checked (400 naming the unknown value)."""
    out: dict[str, str] = {}
    if severity:
        if severity not in SEVERITIES:
            raise BadRequest(f"severity must be one of {list(SEVERITIES)}", field="severity")
        out["severity"] = severity
    if ack:
        if ack not in ACK_STATES:
            raise BadRequest(f"ack must be one of {list(ACK_STATES)}", field="ack")
        out["ack"] = ack
    return out


def _tests(filters: dict[str, str]) -> tuple[ColumnTest, ...]:
    tests = []
    if "severity" in filters:
        tests.append(ColumnTest("perceived_severity", "in", (filters["severity"],)))
    if "ack" in filters:
        tests.append(ColumnTest("ack_state", "in", (filters["ack"],)))
    return tuple(tests)


def _scan(
    store: AlarmStore, tenant: str | None, tests: tuple[ColumnTest, ...], since: float | None
) -> list[AlarmRow]:
    """The alarms created after ``since`` (epoch seconds; None: all), oldest first, at
    most SCANNED."""
    after: SortKey | None = None
    if since is not None:
        after = (datetime.fromtimestamp(since, UTC), "")
    rows: list[AlarmRow] = []
    while len(rows) < SCANNED:
        chunk = store.page(tenant, PageQuery(after, tests, CHUNK))
        rows += chunk
        if len(chunk) < CHUNK:
            break
        after = (chunk[-1].created_at, chunk[-1].id)
    return rows


def _rows(store: AlarmStore, tenant: str | None, filters: dict[str, str]) -> list[AlarmRow]:
    """The newest alarms the caller sees that pass ``filters``, newest first (at most
    SHOWN). The list is read oldest first, so it is read from the last hour, then further
    back until SHOWN are found: a long alarm history is not read on every look."""
    tests = _tests(filters)
    now = time.time()
    rows: list[AlarmRow] = []
    for span in LOOK_BACK:
        rows = _scan(store, tenant, tests, None if span is None else now - span)
        if len(rows) >= SHOWN:
            break
    rows.reverse()
    return rows[:SHOWN]


def _digest(rows: list[AlarmRow]) -> str:
    """What changes whenever a shown alarm is raised, changed or goes."""
    text = ",".join(f"{r.id}:{r.revision}" for r in rows)
    return hashlib.sha256(text.encode()).hexdigest()


def _values(rows: list[AlarmRow], filters: dict[str, str]) -> dict[str, Any]:
    """What the template shows; the events URL carries the filters and the digest of the
    rows shown, so the stream sends the table only once it differs from them."""
    query = urlencode({**filters, "seen": _digest(rows)})
    return {
        "alarms": [alarm_view(r) for r in rows],
        "filters": filters,
        "severities": SEVERITIES,
        "ack_states": ACK_STATES,
        "shown": SHOWN,
        "events_url": f"/ui/alarms/events?{query}",
        "problem": None,
    }


@router.get("/ui/alarms", response_class=HTMLResponse)
async def alarms_page(
    request: Request,
    severity: str | None = None,
    ack: str | None = None,
    svc: Services = Depends(services),
    user: UiUser = Depends(viewer),
) -> HTMLResponse:
    """The alarm list with its filters (the live part only for an htmx request)."""
    filters = _filters(severity, ack)
    rows = await run_in_threadpool(_rows, AlarmStore(svc.db), user.tenant_id, filters)
    return page(request, TEMPLATE, block="live", **_values(rows, filters))


@router.get("/ui/alarms/events")
async def alarm_events(
    request: Request,
    severity: str | None = None,
    ack: str | None = None,
    seen: str | None = None,
    svc: Services = Depends(services),
    user: UiUser = Depends(viewer),
) -> Response:
    """Server-sent events: the alarm table (event ``alarms``) each time it differs from
    what the page shows (``seen``: the digest of the rows it was rendered with)."""
    filters = _filters(severity, ack)
    store = AlarmStore(svc.db)
    last: list[str] = [seen[:64]] if seen else []

    async def poll() -> tuple[list[tuple[str, str]], bool]:
        rows = await run_in_threadpool(_rows, store, user.tenant_id, filters)
        digest = _digest(rows)
        if last and last[0] == digest:
            return [], False
        last[:] = [digest]
        return [("alarms", block_html(request, TEMPLATE, "table", **_values(rows, filters)))], False

    return sse(request, poll, interval=LIVE_INTERVAL)


@router.post("/ui/alarms/{alarm_id}/ack", response_class=HTMLResponse)
async def acknowledge(
    alarm_id: str,
    request: Request,
    svc: Services = Depends(services),
    user: UiUser = Depends(operator),
) -> HTMLResponse:
    """Acknowledge an alarm (the nsfm PATCH's service call): its row, or the row with the
    problem when refused (e.g. 409: already acknowledged)."""
    store = AlarmStore(svc.db)
    problem: NfvoError | None = None
    try:
        row = await run_in_threadpool(
            store.acknowledge, alarm_id, user.tenant_id, ACKNOWLEDGED, None
        )
    except NfvoError as exc:
        problem = exc
        row = await run_in_threadpool(store.get, alarm_id, user.tenant_id)
    return fragment(
        request,
        TEMPLATE,
        "row",
        status=problem.status if problem else 200,
        alarm=alarm_view(row),
        problem=problem,
    )
