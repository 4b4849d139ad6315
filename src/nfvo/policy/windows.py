"""Time-based availability windows (Blazar-like) on a host, a zone or a VIM account.

A window says when a resource is *available*; outside that it *sleeps*: no placement uses
it (its hosts' state is ``sleeping``, which the optimizer's availability window filter and
host state filter exclude) after everything running there was moved away (``draining``).

- **One-shot** (``start``, ``end`` or ``duration``): available from start to end, then
  drained and asleep until the window is cancelled ("compute-1 is available for 30 days
  from now, then sleeps"). Before the start nothing changes on the resource.
- **Recurring** (``recurrence``: cron + duration + IANA time zone, see
  :mod:`nfvo.policy.recurrence`): available during each occurrence, asleep between them
  (``0 8 * * 1-5`` for 10 h in Europe/Berlin: weekdays 08:00-18:00 Berlin time). From its
  start the window follows the occurrences: created between two, the resource is drained
  and sleeps until the next one.

``notice`` before each end (default 60 min) raises a WARNING fault (``MAINTENANCE_NOTICE``)
on the resource: every NS with a VNFC there gets an nsfm alarm and its notification; the
alarm is cleared when the resource wakes up or the window is cancelled.

States are declared once (:class:`WindowState`, :data:`TRANSITIONS`); every change is one
conditional UPDATE on the window's state and version. Timers are rows: the scheduler polls
for windows whose next event is due (injectable clock), claims each with a conditional
UPDATE and a lease, so one process fires it; an event overdue after a restart fires at
once, once. Every action is recorded in the decision log (``Kind.WINDOW``).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol

from nfvo.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NfvoError,
    NotFound,
    UnprocessableEntity,
)
from nfvo.inventory.db import Database
from nfvo.inventory.paging import PageQuery
from nfvo.inventory.resources_repo import VimRepository
from nfvo.inventory.windows_repo import (
    DRAINING,
    HELD_HOST_STATES,
    SLEEPING,
    UP,
    AvailabilityWindowRow,
    WindowRepository,
    held_hosts,
)
from nfvo.monitoring.model import FaultEvent, FaultKind, Resource, ResourceKind, Severity
from nfvo.policy import decisions
from nfvo.policy.decisions import Kind, Reason
from nfvo.policy.durations import DurationError, seconds
from nfvo.policy.recurrence import Recurrence, RecurrenceError

log = logging.getLogger(__name__)

DEFAULT_NOTICE_S = 3600.0
MAX_NOTICE_S = 30 * 86400.0
MAX_SPAN_S = 10 * 366 * 86400.0  # a one-shot window lasts at most ten years
MAX_OPEN_PER_VIM = 1000  # windows of one VIM account not cancelled (each one is a timer)
DRAIN_ATTEMPTS = 3  # evacuation plans tried before the window goes to ERROR
SOURCE = "availability-window"


class WindowState(StrEnum):
    """Where a window is in its life."""

    SCHEDULED = "SCHEDULED"  # before its start: the resource is untouched
    ACTIVE = "ACTIVE"  # inside a period of availability
    DRAINING = "DRAINING"  # the period ended: instances are being moved off
    SLEEPING = "SLEEPING"  # drained; nothing is placed there
    CANCELLED = "CANCELLED"  # cancelled; the resource is awake
    ERROR = "ERROR"  # the drain failed DRAIN_ATTEMPTS times; the hosts stay draining


class WindowEvent(StrEnum):
    """What moves a window; the scheduler's timer events are ``next_event`` values."""

    START = "start"
    NOTICE = "notice"
    END = "end"
    DRAIN = "drain"  # (re)plan the evacuation or check its progress
    DRAINED = "drained"
    WAKE = "wake"
    FAIL = "fail"
    CANCEL = "cancel"
    PATCH = "patch"


S, E = WindowState, WindowEvent
# (from, event) -> to; anything else is refused (409 through the API)
TRANSITIONS: dict[tuple[WindowState, WindowEvent], WindowState] = {
    (S.SCHEDULED, E.START): S.ACTIVE,
    (S.SCHEDULED, E.END): S.DRAINING,  # recurring, started between two occurrences
    (S.ACTIVE, E.NOTICE): S.ACTIVE,
    (S.ACTIVE, E.END): S.DRAINING,
    (S.DRAINING, E.DRAIN): S.DRAINING,
    (S.DRAINING, E.DRAINED): S.SLEEPING,
    (S.DRAINING, E.FAIL): S.ERROR,
    (S.SLEEPING, E.WAKE): S.ACTIVE,  # recurring: the next occurrence began
    (S.SCHEDULED, E.PATCH): S.SCHEDULED,
    (S.ACTIVE, E.PATCH): S.ACTIVE,
    **{
        (s, E.CANCEL): S.CANCELLED for s in (S.SCHEDULED, S.ACTIVE, S.DRAINING, S.SLEEPING, S.ERROR)
    },
}
# what the hosts of a window in each state are set to (other states leave them up)
HOST_STATE = {S.DRAINING: DRAINING, S.SLEEPING: SLEEPING}


def transition(state: WindowState | str, event: WindowEvent) -> WindowState:
    """The window's state after ``event``; Conflict (409) naming the state when refused."""
    current = WindowState(state)
    target = TRANSITIONS.get((current, event))
    if target is None:
        allowed = sorted(e.value for (s, e) in TRANSITIONS if s == current)
        raise Conflict(
            f"the availability window is {current.value}; '{event.value}' is not allowed"
            + (f" (allowed now: {', '.join(allowed)})" if allowed else ""),
            state=current.value,
        )
    return target


def iso(t: float | None) -> str | None:
    """An epoch instant as ISO 8601 UTC."""
    return None if t is None else datetime.fromtimestamp(t, UTC).isoformat()


def recurrence_of(row: AvailabilityWindowRow) -> Recurrence | None:
    """The window's recurrence (None: a one-shot window)."""
    if row.cron is None or row.duration_s is None:
        return None
    return Recurrence(row.cron, row.duration_s, row.time_zone or "UTC")


def resource_of(row: AvailabilityWindowRow) -> Resource:
    """The monitored resource a window covers (what its notice fault is raised on)."""
    if row.scope == "host":
        return Resource(ResourceKind.HOST, row.target, row.vim_id)
    if row.scope == "zone":
        return Resource(ResourceKind.ZONE, row.target, row.vim_id)
    return Resource(ResourceKind.VIM, row.vim_id)


def fault_id(window_id: str) -> str:
    """The fault key of a window's notice (raised and cleared under it)."""
    return f"{SOURCE}:{window_id}"


def active_schedule(
    period_end: float, notice_s: float, noticed: float | None, now: float
) -> tuple[str, float]:
    """The next event of an ACTIVE window: the notice (once per period) or the end."""
    if noticed != period_end and notice_s > 0:
        return E.NOTICE.value, max(now, period_end - notice_s)
    return E.END.value, period_end


# -- what the windows need of the LCM side ----------------------------------------------------
class Drainer(Protocol):
    """Moves VDU instances off hosts through LCM (an adapter of the action plan service)."""

    def short_dimension(self, vim_id: str, hosts: list[str]) -> str | None:
        """The dimension (vcpus, ram_mib, disk_gib) the other hosts lack to take everything
        running on ``hosts``; None when it all fits."""

    def start(self, vim_id: str, hosts: list[str]) -> tuple[str | None, str | None]:
        """Start moving everything off ``hosts``: ``(plan id, None)``, ``(None, None)`` when
        nothing runs there, ``(None, why)`` when it does not fit."""

    def plan_state(self, plan_id: str) -> str | None:
        """An evacuation plan's state (APPLYING, SUCCEEDED, FAILED, ...; None: gone)."""

    def set_schedulable(
        self, vim_id: str, hosts: list[str], schedulable: bool, reason: str
    ) -> tuple[list[str], list[str]]:
        """Disable or enable ``hosts`` at the VIM itself: ``(changed, failures)``."""


class PlanDrainer:
    """:class:`Drainer` over :class:`nfvo.lcm.actions.ActionPlanService` (``host_evacuation``
    plans: the optimizer's evacuation planner, applied as UPDATE op occurrences)."""

    def __init__(self, actions: Any) -> None:
        self.actions = actions

    def short_dimension(self, vim_id: str, hosts: list[str]) -> str | None:
        result = self.actions.evacuation(vim_id, hosts)
        return None if result.complete else result.short_dimension

    def start(self, vim_id: str, hosts: list[str]) -> tuple[str | None, str | None]:
        try:
            plan, result = self.actions.evacuate(vim_id, hosts)
        except NfvoError as exc:  # e.g. the VIM could not be synced, a plan went stale
            return None, f"{exc.status}: {exc.detail}"
        if not result.complete:
            return None, "; ".join(result.plan.unmet)
        return (plan.id if plan is not None else None), None

    def plan_state(self, plan_id: str) -> str | None:
        try:
            plan, _ = self.actions.get(plan_id, None)
        except NotFound:
            return None
        return str(plan.state)

    def set_schedulable(
        self, vim_id: str, hosts: list[str], schedulable: bool, reason: str
    ) -> tuple[list[str], list[str]]:
        changed: list[str] = []
        failures: list[str] = []
        try:
            driver = self.actions.resources.driver(vim_id)
        except Exception as exc:  # noqa: BLE001 - the VIM account is gone or broken
            return [], [f"VIM account {vim_id}: {exc}"]
        for host in hosts:
            try:
                if driver.set_host_schedulable(host, schedulable, reason):
                    changed.append(host)
            except Exception as exc:  # noqa: BLE001 - a VIM error is reported, not raised
                failures.append(f"{host}: {exc}")
        if failures:
            log.warning("availability window: VIM %s refused: %s", vim_id, "; ".join(failures))
        return changed, failures


# -- the service (API) ------------------------------------------------------------------------
class WindowService:
    """Create, list, show, change and cancel availability windows (tenant-scoped by the VIM
    account: a tenant sees the windows of its own and shared VIM accounts and changes those
    of its own)."""

    def __init__(
        self,
        db: Database,
        drainer: Drainer | None,
        *,
        clock: Callable[[], float] = time.time,
        notify: Callable[[FaultEvent], Any] | None = None,
        poke: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.drainer = drainer
        self.clock = clock
        self.notify = notify
        self.poke = poke or (lambda: None)

    # -- create ------------------------------------------------------------------------------
    def create(self, body: dict[str, Any], tenant: str | None) -> AvailabilityWindowRow:
        """Validate and store a window SCHEDULED (422 when what runs on its resource could
        not be drained elsewhere, naming the short dimension)."""
        now = self.clock()
        vim = self._vim(body.get("vimAccountId"), tenant)
        scope, target, field = _scope(body, vim.id)
        with self.db.session() as s:
            hosts = [h.name for h in WindowRepository(s).hosts_of(vim.id, scope, target)]
        if scope != "vim" and not hosts:
            raise UnprocessableEntity(
                f"VIM account {vim.name} has no {scope} named {target!r} (as last synced)",
                field=field,
            )
        start = _instant(body.get("start"), now, "start")
        start = max(start, now)
        end, rec = _span(body, start)
        notice = _seconds(body.get("notice"), "notice", DEFAULT_NOTICE_S)
        if not 0 <= notice <= MAX_NOTICE_S:
            raise BadRequest(f"notice must be between 0 and {MAX_NOTICE_S:g} s", field="notice")
        self._check_drain(vim, hosts, field)
        row = AvailabilityWindowRow(
            id=str(uuid.uuid4()),
            tenant_id=vim.tenant_id,
            vim_id=vim.id,
            scope=scope,
            target=target,
            name=str(body.get("name") or ""),
            start_ts=start,
            end_ts=end,
            cron=rec.cron if rec else None,
            duration_s=rec.duration_s if rec else None,
            time_zone=rec.tz if rec else None,
            notice_s=notice,
            state=WindowState.SCHEDULED.value,
            version=0,
            next_event=E.START.value,
            next_event_ts=start,
            drain_attempts=0,
            detail="",
        )
        with self.db.session() as s:
            repo = WindowRepository(s)
            if repo.open_count(vim.id) >= MAX_OPEN_PER_VIM:
                raise UnprocessableEntity(
                    f"VIM account {vim.name} has {MAX_OPEN_PER_VIM} windows that are not "
                    "cancelled, the limit: cancel one first",
                    field="vimAccountId",
                )
            repo.add(row)
            decisions.add(
                s,
                kind=Kind.WINDOW,
                reason=Reason.ACTED,
                action="CREATE",
                policy_id=row.id,
                tenant_id=row.tenant_id,
                inputs={"resource": resource_of(row).key, "hosts": hosts},
                detail=f"availability window created on {resource_of(row).key}",
            )
        self.poke()
        return self.get(row.id, tenant)

    def _vim(self, vim_id: Any, tenant: str | None) -> Any:
        if not isinstance(vim_id, str) or not vim_id:
            raise BadRequest("vimAccountId is required", field="vimAccountId")
        with self.db.session() as s:
            vim = VimRepository(s).get(vim_id)
        if vim is None or not (tenant is None or vim.tenant_id in (None, tenant)):
            raise UnprocessableEntity(
                f"VIM account {vim_id!r} does not exist", field="vimAccountId"
            )
        if tenant is not None and vim.tenant_id != tenant:
            raise Forbidden(
                f"VIM account {vim.name} is shared; only a global admin may put it to sleep"
            )
        if vim.vim_type == "kubernetes":
            raise UnprocessableEntity(
                "availability windows on Kubernetes VIM accounts are not supported yet "
                "(nfvo does not move pods)",
                field="vimAccountId",
            )
        return vim

    def _check_drain(self, vim: Any, hosts: list[str], field: str) -> None:
        """422 naming the short dimension when the hosts' instances cannot go elsewhere."""
        if self.drainer is None:
            return
        short = self.drainer.short_dimension(vim.id, hosts)
        if short is not None:
            raise UnprocessableEntity(
                f"what runs on {', '.join(hosts) or 'the VIM account'} cannot be drained to "
                f"the other hosts of VIM account {vim.name}: not enough {short}",
                field=field,
                shortDimension=short,
            )

    # -- read --------------------------------------------------------------------------------
    def get(self, window_id: str, tenant: str | None) -> AvailabilityWindowRow:
        """One window the caller sees."""
        with self.db.session() as s:
            row = WindowRepository(s).get(window_id)
        if row is None or not (tenant is None or row.tenant_id in (None, tenant)):
            raise NotFound(f"availability window {window_id} does not exist")
        return row

    def page(self, tenant: str | None, query: PageQuery) -> list[AvailabilityWindowRow]:
        """One chunk of the windows the caller sees, by creation."""
        with self.db.session() as s:
            return WindowRepository(s).page(query, tenant=tenant)

    def _writable(self, window_id: str, tenant: str | None) -> AvailabilityWindowRow:
        row = self.get(window_id, tenant)
        if tenant is not None and row.tenant_id != tenant:
            raise Forbidden(
                f"availability window {window_id} is on a shared VIM account; only a global "
                "admin may change it"
            )
        return row

    # -- change, cancel ----------------------------------------------------------------------
    def patch(
        self, window_id: str, body: dict[str, Any], tenant: str | None
    ) -> AvailabilityWindowRow:
        """Change the notice, or the end of a one-shot window, while SCHEDULED or ACTIVE."""
        row = self._writable(window_id, tenant)
        transition(row.state, E.PATCH)
        values: dict[str, Any] = {}
        now = self.clock()
        if body.get("notice") is not None:
            notice = _seconds(body["notice"], "notice", DEFAULT_NOTICE_S)
            if not 0 <= notice <= MAX_NOTICE_S:
                raise BadRequest(f"notice must be between 0 and {MAX_NOTICE_S:g} s", field="notice")
            values["notice_s"] = notice
        if body.get("end") is not None or body.get("duration") is not None:
            if row.cron is not None:
                raise BadRequest("a recurring window has no end", field="end")
            end, _ = _span({k: body.get(k) for k in ("end", "duration")}, row.start_ts)
            if end is not None and end <= now:
                raise UnprocessableEntity("end must be in the future", field="end")
            values["end_ts"] = end
            if row.state == WindowState.ACTIVE:
                values["period_end_ts"] = end
        if row.state == WindowState.ACTIVE:
            period_end = values.get("period_end_ts", row.period_end_ts)
            notice_s = values.get("notice_s", row.notice_s)
            nxt, at = active_schedule(period_end, notice_s, row.noticed_ts, now)
            values |= {"next_event": nxt, "next_event_ts": at}
        if not values:
            return row
        with self.db.session() as s:
            if not WindowRepository(s).move(
                row.id, state=row.state, version=row.version, values=values
            ):
                s.rollback()
                raise Conflict(f"availability window {window_id} changed meanwhile; read it again")
        self.poke()
        return self.get(window_id, tenant)

    def cancel(self, window_id: str, tenant: str | None) -> AvailabilityWindowRow:
        """Cancel a window: its hosts wake up (unless another window holds them) and its
        notice alarm is cleared."""
        for _ in range(5):
            row = self._writable(window_id, tenant)
            transition(row.state, E.CANCEL)
            with self.db.session() as s:
                if not _move(s, row, E.CANCEL, {"next_event": None, "next_event_ts": None}):
                    s.rollback()
                    continue
                woke = wake_hosts(s, row)
                decisions.add(
                    s,
                    kind=Kind.WINDOW,
                    reason=Reason.ACTED,
                    action="CANCEL",
                    policy_id=row.id,
                    tenant_id=row.tenant_id,
                    inputs={"resource": resource_of(row).key, "from": row.state, "hosts": woke},
                    detail=f"cancelled in state {row.state}; hosts up again: {len(woke)}",
                )
            _clear_notice(self.notify, row, self.clock())
            vim_switch(self.db, self.drainer, row, woke, True)
            return self.get(window_id, tenant)
        raise Conflict(f"availability window {window_id} keeps changing; try again")


# -- helpers shared by the service and the scheduler -------------------------------------------
def _move(s: Any, row: AvailabilityWindowRow, event: WindowEvent, values: dict[str, Any]) -> bool:
    """Apply ``event`` to ``row`` as read (state and version): one conditional UPDATE."""
    target = transition(row.state, event)
    return WindowRepository(s).move(
        row.id, state=row.state, version=row.version, values={"state": target.value, **values}
    )


def set_hosts(s: Any, row: AvailabilityWindowRow, state: str) -> list[str]:
    """Put the window's hosts into ``state`` (draining from up; sleeping from draining or
    up); the hosts changed."""
    VimRepository(s).get(row.vim_id, lock=True)  # a VIM sync replacing the hosts waits
    repo = WindowRepository(s)
    only_from = (UP,) if state == DRAINING else (UP, DRAINING)
    hosts = repo.hosts_of(row.vim_id, row.scope, row.target)
    changed = [h.name for h in hosts if h.state in only_from]
    repo.set_host_state(row.vim_id, changed, state, only_from)
    return changed


def wake_hosts(s: Any, row: AvailabilityWindowRow) -> list[str]:
    """The window's hosts back ``up``, except those another draining or sleeping window
    holds; the hosts woken."""
    VimRepository(s).get(row.vim_id, lock=True)
    repo = WindowRepository(s)
    hosts = repo.hosts_of(row.vim_id, row.scope, row.target)
    others = {
        name
        for name, (_, wid) in held_hosts(s, row.vim_id, [(h.name, h.zone) for h in hosts]).items()
        if wid != row.id
    }
    names = [h.name for h in hosts if h.name not in others and h.state in HELD_HOST_STATES]
    repo.set_host_state(row.vim_id, names, UP, HELD_HOST_STATES)
    return names


def vim_switch(
    db: Database, drainer: Drainer | None, row: AvailabilityWindowRow, hosts: list[str], on: bool
) -> None:
    """Disable (asleep) or enable (awake) ``hosts`` at the VIM too, and log the decision."""
    if drainer is None or not hosts:
        return
    why = f"availability window {row.id}"
    changed, failures = drainer.set_schedulable(row.vim_id, hosts, on, why)
    if not changed and not failures:
        return  # this VIM cannot: nfvo's placement alone keeps off the hosts
    decisions.record(
        db,
        kind=Kind.WINDOW,
        reason=Reason.REFUSED if failures else Reason.ACTED,
        action="VIM_ENABLE" if on else "VIM_DISABLE",
        policy_id=row.id,
        tenant_id=row.tenant_id,
        inputs={"resource": resource_of(row).key, "hosts": changed, "failures": failures},
        detail=("; ".join(failures) if failures else f"{len(changed)} host(s) at the VIM"),
    )


def _clear_notice(
    notify: Callable[[FaultEvent], Any] | None, row: AvailabilityWindowRow, now: float
) -> None:
    if notify is None:
        return
    event = FaultEvent(
        resource_of(row),
        FaultKind.MAINTENANCE_NOTICE,
        Severity.CLEARED,
        now,
        SOURCE,
        raw={"windowId": row.id},
        fault_id=fault_id(row.id),
    )
    try:
        notify(event)
    except Exception:  # noqa: BLE001 - a notice must never stop the window
        log.exception("availability window %s: clearing its notice failed", row.id)


def _scope(body: dict[str, Any], vim_id: str) -> tuple[str, str, str]:
    host, zone = body.get("hostName"), body.get("zoneName")
    if host is not None and zone is not None:
        raise BadRequest("name a host or a zone, not both", field="zoneName")
    if host is not None:
        return "host", str(host), "hostName"
    if zone is not None:
        return "zone", str(zone), "zoneName"
    return "vim", vim_id, "vimAccountId"


def _seconds(value: Any, field: str, default: float) -> float:
    if value is None:
        return default
    try:
        return seconds(value)
    except DurationError as exc:
        raise BadRequest(f"{field}: {exc}", field=field) from None


def _instant(value: Any, now: float, field: str) -> float:
    """An ISO 8601 date-time (with an offset, or UTC) or ``now`` as epoch seconds."""
    if value is None or value == "now":
        return now
    if not isinstance(value, str) or len(value) > 64:
        raise BadRequest(f"{field} must be an ISO 8601 date-time or 'now'", field=field)
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(
            f"{field} must be an ISO 8601 date-time or 'now' (got {value!r})", field=field
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def _span(body: dict[str, Any], start: float) -> tuple[float | None, Recurrence | None]:
    """The end of a one-shot window, or the recurrence of a recurring one."""
    rec_body = body.get("recurrence")
    end_value, duration = body.get("end"), body.get("duration")
    if rec_body is not None:
        if end_value is not None or duration is not None:
            field = "end" if end_value is not None else "duration"
            raise BadRequest(
                "a recurring window repeats until cancelled: give no end or duration",
                field=field,
            )
        if not isinstance(rec_body, dict):
            raise BadRequest("recurrence must be an object", field="recurrence")
        try:
            rec = Recurrence(
                str(rec_body.get("cron") or ""),
                _seconds(rec_body.get("duration"), "recurrence.duration", 0.0),
                str(rec_body.get("timeZone") or "UTC"),
            )
        except RecurrenceError as exc:
            raise BadRequest(f"{exc.field}: {exc.message}", field=exc.field) from None
        return None, rec
    if end_value is not None and duration is not None:
        raise BadRequest("give end or duration, not both", field="duration")
    if end_value is None and duration is None:
        raise BadRequest("end or duration (or recurrence) is required", field="end")
    if duration is not None:
        end = start + _seconds(duration, "duration", 0.0)
        field = "duration"
    else:
        end = _instant(end_value, start, "end")
        field = "end"
    if end <= start:
        raise UnprocessableEntity("the window ends before it starts", field=field)
    if end - start > MAX_SPAN_S:
        raise BadRequest(f"a window lasts at most {MAX_SPAN_S:g} s", field=field)
    return end, None


def __getattr__(name: str) -> Any:
    # the scheduler lives in window_timer (which imports this module); offered here too
    if name == "WindowScheduler":
        from nfvo.policy.window_timer import WindowScheduler

        return WindowScheduler
    raise AttributeError(name)


__all__ = [
    "TRANSITIONS",
    "Drainer",
    "PlanDrainer",
    "WindowEvent",
    "WindowService",
    "WindowState",
    "transition",
]
