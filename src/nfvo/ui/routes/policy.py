"""Policies: auto-scaling policies (as ``/admin/v1/policies``), the policy engine's
decision log (as ``/admin/v1/policy_decisions``) and availability windows (as
``/admin/v1/availability_windows``: administrators only, like the API). Every write makes
the API route's service call; a refused one shows its problem next to the form."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from nfvo.api.deps import Services, services
from nfvo.api.models.windows import WindowCreate
from nfvo.api.routes.windows import window_view
from nfvo.errors import BadRequest, NfvoError
from nfvo.monitoring import metrics
from nfvo.policy.decision_log import DecisionLog
from nfvo.policy.decision_log import view as decision_view
from nfvo.policy.decisions import Kind, Reason
from nfvo.policy.model import Aggregation
from nfvo.policy.store import IN_RELATIONS, OUT_RELATIONS, PolicyStore
from nfvo.policy.store import view as policy_view
from nfvo.policy.windows import TRANSITIONS, WindowEvent, WindowService, WindowState
from nfvo.query import ColumnTest, PageQuery, SortKey
from nfvo.ui.render import SECURITY_HEADERS, block_html, fragment, page
from nfvo.ui.session import UiUser, admin_viewer, administrator, operator, viewer

router = APIRouter()
T = TypeVar("T")
CHUNK = 500
LISTED = 2000  # policies / windows / NS instances / VIM accounts read at most for a page
DECISIONS_PAGE = 50
WINDOWS = "policy/windows.html"
POLICY_FIELDS = (
    "name",
    "nsInstanceId",
    "vnfInstanceId",
    "aspectId",
    "metric",
    "aggregation",
    "thresholdTime",
    "scaleOutThreshold",
    "scaleOutRelationalOperation",
    "scaleInThreshold",
    "scaleInRelationalOperation",
    "cooldown",
    "scaleOutCooldown",
    "scaleInCooldown",
    "numberOfSteps",
    "maxScaleLevel",
)
NUMBERS = ("scaleOutThreshold", "scaleInThreshold")
INTEGERS = ("numberOfSteps", "maxScaleLevel")
DURATIONS = ("thresholdTime", "cooldown", "scaleOutCooldown", "scaleInCooldown")
WINDOW_FIELDS = (
    "vimAccountId",
    "targetKind",
    "target",
    "name",
    "start",
    "end",
    "duration",
    "cron",
    "recurrenceDuration",
    "timeZone",
    "noticeMinutes",
)
DECISION_FILTERS = {
    "ns": "ns_instance_id",
    "policy": "policy_id",
    "reason": "reason",
    "kind": "kind",
    "decision": "decision",
}


def _all(fetch: Callable[[PageQuery], list[T]], key: Callable[[T], SortKey]) -> list[T]:
    """Every row ``fetch`` pages through (at most LISTED), in its order."""
    rows: list[T] = []
    after: SortKey | None = None
    while len(rows) < LISTED:
        chunk = fetch(PageQuery(after, (), CHUNK))
        rows += chunk
        if len(chunk) < CHUNK:
            break
        after = key(chunk[-1])
    return rows[:LISTED]


def _created(row: Any) -> SortKey:
    return (row.created_at, row.id)


def _store(svc: Services) -> PolicyStore:
    assert svc.policies is not None, "the policy store is not built"
    return svc.policies


def _windows(svc: Services) -> WindowService:
    assert svc.windows is not None, "the availability window service is not built"
    return svc.windows


async def _form(request: Request, fields: tuple[str, ...]) -> dict[str, str]:
    """The named fields of a posted form, stripped (missing ones empty)."""
    form = await request.form()
    out = {}
    for name in fields:
        value = form.get(name)
        out[name] = value.strip() if isinstance(value, str) else ""
    return out


# -- auto-scaling policies ---------------------------------------------------------------
def policy_body(form: dict[str, str], enabled: bool) -> dict[str, Any]:
    """The ``/admin/v1/policies`` request body a form makes: empty fields left out, numbers
    as numbers (anything else goes as typed, for the service to name what is wrong)."""
    body: dict[str, Any] = {}
    for name in POLICY_FIELDS:
        text = form.get(name, "")
        if not text:
            continue
        value: Any = text
        try:
            if name in INTEGERS:
                value = int(text)
            elif name in NUMBERS or (name in DURATIONS and text[0].isdigit()):
                value = float(text)
        except ValueError:
            value = text
        body[name] = value
    body["enabled"] = enabled
    return body


def _policy_values(svc: Services, user: UiUser) -> dict[str, Any]:
    store = _store(svc)
    rows = _all(lambda q: store.page(user.tenant_id, q), _created)
    ns_rows = _all(lambda q: svc.lcm.page(user.tenant_id, q), _created)
    return {
        "policies": [policy_view(r) for r in rows],
        "ns_instances": [{"id": n.id, "name": n.name, "state": n.ns_state} for n in ns_rows],
        "ns_names": {n.id: n.name for n in ns_rows},
        "metrics": sorted(
            set(metrics.for_level(metrics.Level.VNF)) | set(metrics.for_level(metrics.Level.NS))
        ),
        "aggregations": [a.value for a in Aggregation],
        "out_relations": [r.value for r in OUT_RELATIONS],
        "in_relations": [r.value for r in IN_RELATIONS],
    }


def _empty_policy_form() -> dict[str, str]:
    return {name: "" for name in POLICY_FIELDS} | {"enabled": "on"}


async def _policies_section(
    request: Request,
    svc: Services,
    user: UiUser,
    form: dict[str, str],
    problem: NfvoError | None,
    message: str | None,
) -> HTMLResponse:
    """The policies section (list and form) as the page shows it, answering with the
    problem's status when there is one."""
    values = await run_in_threadpool(_policy_values, svc, user)
    return page(
        request,
        "policy/policies.html",
        block="section",
        status=problem.status if problem else 200,
        form=form,
        problem=problem,
        message=message,
        **values,
    )


@router.get("/ui/policies", response_class=HTMLResponse)
async def policies_page(
    request: Request, svc: Services = Depends(services), user: UiUser = Depends(viewer)
) -> HTMLResponse:
    """The auto-scaling policies and (for operators) the create form."""
    return await _policies_section(request, svc, user, _empty_policy_form(), None, None)


@router.post("/ui/policies", response_class=HTMLResponse)
async def create_policy(
    request: Request, svc: Services = Depends(services), user: UiUser = Depends(operator)
) -> HTMLResponse:
    """Create a policy (the API's service call); a refusal shows its problem by the form,
    which keeps what was typed."""
    form = await _form(request, POLICY_FIELDS)
    enabled = (await request.form()).get("enabled") == "on"
    body = policy_body(form, enabled)
    problem: NfvoError | None = None
    message = None
    try:
        row = await run_in_threadpool(_store(svc).create, body, user.tenant_id)
        message = f"Policy {row.name} created."
        form = _empty_policy_form()
    except NfvoError as exc:
        problem = exc
        form["enabled"] = "on" if enabled else ""
    return await _policies_section(request, svc, user, form, problem, message)


@router.post("/ui/policies/{policy_id}/enabled", response_class=HTMLResponse)
async def set_enabled(
    policy_id: str,
    request: Request,
    svc: Services = Depends(services),
    user: UiUser = Depends(operator),
) -> HTMLResponse:
    """Enable or disable a policy (the API's PATCH service call with ``enabled``)."""
    enabled = (await request.form()).get("enabled") == "true"
    problem: NfvoError | None = None
    message = None
    try:
        row = await run_in_threadpool(
            _store(svc).patch, policy_id, {"enabled": enabled}, user.tenant_id
        )
        message = f"Policy {row.name} {'enabled' if row.enabled else 'disabled'}."
    except NfvoError as exc:
        problem = exc
    return await _policies_section(request, svc, user, _empty_policy_form(), problem, message)


@router.delete("/ui/policies/{policy_id}", response_class=HTMLResponse)
async def delete_policy(
    policy_id: str,
    request: Request,
    svc: Services = Depends(services),
    user: UiUser = Depends(operator),
) -> HTMLResponse:
    """Delete a policy (the API's service call); the section again."""
    problem: NfvoError | None = None
    message = None
    try:
        await run_in_threadpool(_store(svc).delete, policy_id, user.tenant_id)
        message = f"Policy {policy_id} deleted."
    except NfvoError as exc:
        problem = exc
    return await _policies_section(request, svc, user, _empty_policy_form(), problem, message)


# -- the decision log --------------------------------------------------------------------
def _marker(after: str | None) -> SortKey | None:
    """The page position a ``after`` parameter names (``<ISO time>~<id>``)."""
    if not after:
        return None
    at_text, sep, ident = after.partition("~")
    try:
        at = datetime.fromisoformat(at_text)
    except ValueError:
        at = None
    if not sep or at is None or not ident or len(ident) > 255 or "\x00" in ident:
        raise BadRequest("after is not a page marker of this list: open the first page again")
    return (at if at.tzinfo else at.replace(tzinfo=UTC), ident)


def _decision_page(
    svc: Services, tenant: str | None, filters: dict[str, str], after: SortKey | None
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of decisions and the marker of the next one (None: the last page)."""
    tests = tuple(ColumnTest(DECISION_FILTERS[k], "in", (v,)) for k, v in filters.items())
    rows = DecisionLog(svc.db).page(tenant, PageQuery(after, tests, DECISIONS_PAGE + 1))
    nxt = None
    if len(rows) > DECISIONS_PAGE:
        rows = rows[:DECISIONS_PAGE]
        at = rows[-1].created_at
        at = at if at.tzinfo else at.replace(tzinfo=UTC)
        nxt = f"{at.isoformat()}~{rows[-1].id}"
    return [decision_view(r) for r in rows], nxt


@router.get("/ui/policies/decisions", response_class=HTMLResponse)
async def decisions_page(
    request: Request,
    ns: str | None = None,
    policy: str | None = None,
    reason: str | None = None,
    kind: str | None = None,
    decision: str | None = None,
    after: str | None = None,
    svc: Services = Depends(services),
    user: UiUser = Depends(viewer),
) -> HTMLResponse:
    """The policy engine's decisions, oldest first, filtered and paged."""
    given = {"ns": ns, "policy": policy, "reason": reason, "kind": kind, "decision": decision}
    filters = {k: v.strip()[:255] for k, v in given.items() if v and v.strip()}
    position = _marker(after)
    rows, nxt = await run_in_threadpool(_decision_page, svc, user.tenant_id, filters, position)
    query = urlencode(filters)
    return page(
        request,
        "policy/decisions.html",
        block="log",
        decisions=rows,
        filters=filters,
        next_after=nxt,
        query=query,
        paged=position is not None,
        reasons=[r.value for r in Reason],
        kinds=[k.value for k in Kind],
        outcomes=["ACTED", "DECLINED"],
    )


# -- availability windows ----------------------------------------------------------------
TARGET_KINDS = ("host", "zone", "vim")
CANCELLABLE = frozenset(s.value for (s, e) in TRANSITIONS if e is WindowEvent.CANCEL)


def window_body(form: dict[str, str]) -> dict[str, Any]:
    """The ``/admin/v1/availability_windows`` request body a form makes (empty fields left
    out; the notice given in minutes); BadRequest for a target kind the form does not offer."""
    body: dict[str, Any] = {"vimAccountId": form["vimAccountId"]}
    kind = form.get("targetKind") or "host"
    if kind not in TARGET_KINDS:
        raise BadRequest(f"targetKind must be one of {list(TARGET_KINDS)}", field="targetKind")
    if kind == "host":
        body["hostName"] = form["target"]
    elif kind == "zone":
        body["zoneName"] = form["target"]
    for name in ("name", "start", "end", "duration"):
        if form.get(name):
            body[name] = form[name]
    if form.get("cron") or form.get("recurrenceDuration"):
        rec: dict[str, Any] = {"cron": form["cron"], "duration": form["recurrenceDuration"]}
        if form.get("timeZone"):
            rec["timeZone"] = form["timeZone"]
        body["recurrence"] = rec
    if form.get("noticeMinutes"):
        try:
            body["notice"] = float(form["noticeMinutes"]) * 60
        except ValueError:
            body["notice"] = form["noticeMinutes"]
    return body


def invalid(exc: ValidationError) -> BadRequest:
    """The problem the API answers for a body its model refuses (400 naming the field)."""
    params = [
        {"field": ".".join(str(p) for p in e.get("loc", ())) or "body", "reason": e.get("msg", "")}
        for e in exc.errors()
    ]
    first = params[0] if params else {"field": "body", "reason": "invalid"}
    detail = f"{first['field']}: {first['reason']}"
    if len(params) > 1:
        detail += f" (and {len(params) - 1} more)"
    return BadRequest(detail, invalidParams=params)


def _window_values(svc: Services, user: UiUser) -> dict[str, Any]:
    windows = _windows(svc)
    rows = _all(lambda q: windows.page(user.tenant_id, q), _created)
    vims = _all(lambda q: svc.resources.vims_page(user.scope, q), _created)
    rows.reverse()
    return {
        "windows": [window_view(w) for w in rows],
        "vims": [{"id": v.id, "name": v.name} for v in vims],
        "vim_names": {v.id: v.name for v in vims},
        "cancellable": CANCELLABLE,
        "states": [s.value for s in WindowState],
        "cancel_problem": None,
    }


def _empty_window_form() -> dict[str, str]:
    return {name: "" for name in WINDOW_FIELDS} | {"targetKind": "host", "timeZone": "UTC"}


def _create_window(svc: Services, form: dict[str, str], tenant: str | None) -> Any:
    try:
        model = WindowCreate.model_validate(window_body(form))
    except ValidationError as exc:
        raise invalid(exc) from None
    return _windows(svc).create(model.model_dump(exclude_unset=True), tenant)


async def _windows_section(
    request: Request,
    svc: Services,
    user: UiUser,
    form: dict[str, str],
    problem: NfvoError | None,
    message: str | None,
) -> HTMLResponse:
    """The windows section (table and form) as the page shows it, answering with the
    problem's status when there is one."""
    values = await run_in_threadpool(_window_values, svc, user)
    return page(
        request,
        WINDOWS,
        block="section",
        status=problem.status if problem else 200,
        form=form,
        problem=problem,
        message=message,
        **values,
    )


@router.get("/ui/windows", response_class=HTMLResponse)
async def windows_page(
    request: Request, svc: Services = Depends(services), user: UiUser = Depends(admin_viewer)
) -> HTMLResponse:
    """The availability windows and the create form (administrators, as the API)."""
    return await _windows_section(request, svc, user, _empty_window_form(), None, None)


@router.get("/ui/windows/table", response_class=HTMLResponse)
async def windows_table(
    request: Request, svc: Services = Depends(services), user: UiUser = Depends(admin_viewer)
) -> HTMLResponse:
    """The window table alone (the page polls it: states move on by themselves)."""
    values = await run_in_threadpool(_window_values, svc, user)
    return fragment(request, WINDOWS, "table", problem=None, **values)


@router.post("/ui/windows", response_class=HTMLResponse)
async def create_window(
    request: Request, svc: Services = Depends(services), user: UiUser = Depends(administrator)
) -> HTMLResponse:
    """Create a window (the API's model and service call); a refusal (e.g. 422 naming the
    dimension the drain would lack) shows its problem by the form."""
    form = await _form(request, WINDOW_FIELDS)
    problem: NfvoError | None = None
    message = None
    try:
        row = await run_in_threadpool(_create_window, svc, form, user.tenant_id)
        message = f"Availability window {row.name or row.id} created ({row.state})."
        form = _empty_window_form()
    except NfvoError as exc:
        problem = exc
    return await _windows_section(request, svc, user, form, problem, message)


@router.delete("/ui/windows/{window_id}", response_class=HTMLResponse)
async def cancel_window(
    window_id: str,
    request: Request,
    svc: Services = Depends(services),
    user: UiUser = Depends(administrator),
) -> HTMLResponse:
    """Cancel a window (the API's service call): the table again, with the problem when
    refused (e.g. 409)."""
    problem: NfvoError | None = None
    try:
        await run_in_threadpool(_windows(svc).cancel, window_id, user.tenant_id)
    except NfvoError as exc:
        problem = exc
    values = await run_in_threadpool(_window_values, svc, user)
    values["cancel_problem"] = problem
    html = block_html(request, WINDOWS, "table", problem=None, **values)
    html += block_html(request, WINDOWS, "cancel_problem", problem=None, **values)
    return HTMLResponse(
        html, status_code=problem.status if problem else 200, headers=SECURITY_HEADERS
    )
