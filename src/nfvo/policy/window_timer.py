"""The durable timers of availability windows: a thread that fires due window events.

Timers are the windows' own rows (``next_event``, ``next_event_ts``). Each poll reads the
windows whose next event is due by the injectable clock, claims each with one conditional
UPDATE (version + lease), fires it and records the outcome with another conditional UPDATE
on the claimed version. Of several processes polling one database, one claims an event; an
event whose process died after its claim is claimed again once the lease runs out. After a
restart, an event that fell due while nothing ran is simply due: it fires at the first poll,
once, and the schedule continues from the clock's now (a recurring window's occurrences
that passed entirely are not replayed).

Side effects that cannot be undone come before the recording UPDATE and are idempotent: the
notice's alarm is raised once per fault key (nsfm's unique index); a drain records the
evacuation plan it started and a re-run checks that plan instead of starting another.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from nfvo.inventory.db import Database
from nfvo.inventory.windows_repo import DRAINING, SLEEPING, AvailabilityWindowRow, WindowRepository
from nfvo.monitoring.model import FaultEvent, FaultKind, Severity
from nfvo.policy import decisions
from nfvo.policy.decisions import Kind, Reason
from nfvo.policy.windows import (
    DRAIN_ATTEMPTS,
    SOURCE,
    Drainer,
    E,
    WindowState,
    _clear_notice,
    _move,
    active_schedule,
    fault_id,
    iso,
    recurrence_of,
    resource_of,
    set_hosts,
    vim_switch,
    wake_hosts,
)

log = logging.getLogger(__name__)

POLL_S = 1.0
LEASE_S = 300.0  # a claimed event not recorded after this long is claimed again
DRAIN_POLL_S = 2.0  # how often a DRAINING window checks its evacuation plan
RETRY_S = 60.0  # wait before another evacuation plan after one failed
BATCH = 50  # events claimed per poll round
ROUNDS = 20  # poll rounds per tick while events keep falling due (a drain's next step)
ENFORCE_S = 30.0  # how often held hosts are checked to still be draining/sleeping


class WindowScheduler:
    """Fires the due events of availability windows (start, notice, end, drain, wake)."""

    def __init__(
        self,
        db: Database,
        drainer: Drainer | None,
        *,
        clock: Callable[[], float] = time.time,
        notify: Callable[[FaultEvent], Any] | None = None,
        poll_s: float = POLL_S,
        lease_s: float = LEASE_S,
        drain_poll_s: float = DRAIN_POLL_S,
        retry_s: float = RETRY_S,
        owner: str | None = None,
    ) -> None:
        self.db = db
        self.drainer = drainer
        self.clock = clock
        self.notify = notify
        self.poll_s = poll_s
        self.lease_s = lease_s
        self.drain_poll_s = drain_poll_s
        self.retry_s = retry_s
        self.owner = owner or f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._stop = threading.Event()
        self._poke = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_enforce = 0.0

    # -- thread ------------------------------------------------------------------------------
    def start(self) -> None:
        """Poll every ``poll_s`` (sooner when poked) until :meth:`stop`."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="window-timers", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop polling (an event being fired finishes first, up to 10 s)."""
        self._stop.set()
        self._poke.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=10)

    def poke(self) -> None:
        """Poll now (a window was created or changed)."""
        self._poke.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # a database hiccup must not end the timers
                log.exception("availability window timers: poll failed")
            self._poke.wait(self.poll_s)
            self._poke.clear()

    # -- one poll ----------------------------------------------------------------------------
    def tick(self) -> int:
        """Fire every event due now; the number fired. Every ``ENFORCE_S`` (by the clock),
        hosts a draining or sleeping window holds are checked to still say so."""
        if self.clock() >= self._next_enforce:
            self._next_enforce = self.clock() + ENFORCE_S
            with self.db.session() as s:
                repaired = WindowRepository(s).enforce()
            for window_id, hosts in repaired.items():
                log.warning(
                    "availability window %s: hosts %s were up again; held again",
                    window_id,
                    ", ".join(hosts),
                )
        fired = 0
        for _ in range(ROUNDS):
            now = self.clock()
            with self.db.session() as s:
                due = WindowRepository(s).due(now, BATCH)
            n = 0
            for window_id, version in due:
                if self._stop.is_set() and self._thread is not None:
                    return fired + n
                n += self._claim_and_fire(window_id, version, now)
            fired += n
            if n == 0:
                break
        return fired

    def _claim_and_fire(self, window_id: str, version: int, now: float) -> int:
        with self.db.session() as s:
            repo = WindowRepository(s)
            if not repo.claim(window_id, version, self.owner, now, self.lease_s):
                return 0
            row = repo.get(window_id)
        if row is None:
            return 0
        handler = {
            E.START.value: self._start,
            E.NOTICE.value: self._notice,
            E.END.value: self._end,
            E.DRAIN.value: self._drain,
            E.WAKE.value: self._wake,
        }.get(row.next_event or "")
        if handler is None:
            return 0
        try:
            handler(row, now)
        except Exception:  # the lease runs out and the event is fired again
            log.exception("availability window %s: %s failed", row.id, row.next_event)
            return 0
        return 1

    # -- the events --------------------------------------------------------------------------
    def _start(self, row: AvailabilityWindowRow, now: float) -> None:
        rec = recurrence_of(row)
        if rec is None:
            period_end = float(row.end_ts or now)
        else:
            period = rec.period_at(now)
            if period is None:  # between occurrences: the resource sleeps until the next
                self._end(row, now, why="the window starts between two occurrences")
                return
            period_end = period[1]
        nxt, at = active_schedule(period_end, row.notice_s, None, now)
        with self.db.session() as s:
            values = {"period_end_ts": period_end, "next_event": nxt, "next_event_ts": at}
            if _move(s, row, E.START, values):
                self._decide(s, row, "START", f"available until {iso(period_end)}")

    def _notice(self, row: AvailabilityWindowRow, now: float) -> None:
        end = float(row.period_end_ts or now)
        if self.notify is not None:
            resource = resource_of(row)
            self.notify(
                FaultEvent(
                    resource,
                    FaultKind.MAINTENANCE_NOTICE,
                    Severity.WARNING,
                    now,
                    SOURCE,
                    raw={"windowId": row.id, "sleepsAt": iso(end)},
                    fault_id=fault_id(row.id),
                    probable_cause=f"availability window: {resource.key} sleeps at {iso(end)}",
                )
            )
        with self.db.session() as s:
            values = {"noticed_ts": end, "next_event": E.END.value, "next_event_ts": end}
            if _move(s, row, E.NOTICE, values):
                self._decide(s, row, "NOTICE", f"sleeps at {iso(end)}")

    def _end(self, row: AvailabilityWindowRow, now: float, why: str = "") -> None:
        with self.db.session() as s:
            values = {
                "next_event": E.DRAIN.value,
                "next_event_ts": now,
                "plan_id": None,
                "drain_attempts": 0,
                "detail": why,
            }
            if _move(s, row, E.END, values):
                hosts = set_hosts(s, row, DRAINING)
                self._decide(s, row, "DRAIN", why or "the period of availability ended", hosts)

    def _drain(self, row: AvailabilityWindowRow, now: float) -> None:
        if row.plan_id is not None:
            self._check_plan(row, now)
            return
        with self.db.session() as s:
            repo = WindowRepository(s)
            hosts = [h.name for h in repo.hosts_of(row.vim_id, row.scope, row.target)]
        plan_id, why = (
            (None, None) if self.drainer is None else self.drainer.start(row.vim_id, hosts)
        )
        if why is not None:
            self._drain_failed(row, now, why)
            return
        with self.db.session() as s:
            if plan_id is not None:
                values = {"plan_id": plan_id, "next_event_ts": now + self.drain_poll_s}
                if _move(s, row, E.DRAIN, values):
                    self._decide(s, row, "DRAIN", f"evacuation plan {plan_id} applied", hosts)
                return
            self._sleep(s, row, now)

    def _check_plan(self, row: AvailabilityWindowRow, now: float) -> None:
        assert self.drainer is not None and row.plan_id is not None
        state = self.drainer.plan_state(row.plan_id)
        if state in ("RECOMMENDED", "APPLYING"):
            with self.db.session() as s:
                _move(s, row, E.DRAIN, {"next_event_ts": now + self.drain_poll_s})
            return
        if state == "SUCCEEDED":  # check again that nothing runs there (a late placement)
            with self.db.session() as s:
                _move(s, row, E.DRAIN, {"plan_id": None, "next_event_ts": now})
            return
        self._drain_failed(row, now, f"evacuation plan {row.plan_id} is {state or 'gone'}")

    def _drain_failed(self, row: AvailabilityWindowRow, now: float, why: str) -> None:
        attempts = row.drain_attempts + 1
        with self.db.session() as s:
            if attempts >= DRAIN_ATTEMPTS:
                values = {"next_event": None, "next_event_ts": None, "plan_id": None}
                detail = f"drain failed {attempts} times; last: {why}"
                if _move(s, row, E.FAIL, {**values, "drain_attempts": attempts, "detail": detail}):
                    self._decide(s, row, "DRAIN", detail, reason=Reason.REFUSED)
                return
            values = {
                "plan_id": None,
                "drain_attempts": attempts,
                "next_event_ts": now + self.retry_s,
                "detail": why,
            }
            if _move(s, row, E.DRAIN, values):
                self._decide(s, row, "DRAIN", f"{why}; retrying", reason=Reason.REFUSED)

    def _sleep(self, s: Any, row: AvailabilityWindowRow, now: float) -> None:
        """Nothing runs on the hosts any more: the window sleeps (until the next occurrence
        of a recurring window; for good, until cancelled, for a one-shot one)."""
        rec = recurrence_of(row)
        nxt = None if rec is None else rec.next_period(now)
        values = {
            "next_event": E.WAKE.value if nxt else None,
            "next_event_ts": max(nxt[0], now) if nxt else None,
            "plan_id": None,
            "detail": "",
        }
        if _move(s, row, E.DRAINED, values):
            hosts = set_hosts(s, row, SLEEPING)
            until = f"until {iso(nxt[0])}" if nxt else "until cancelled"
            self._decide(s, row, "SLEEP", f"drained; asleep {until}", hosts)
            s.commit()
            vim_switch(self.db, self.drainer, row, hosts, False)

    def _wake(self, row: AvailabilityWindowRow, now: float) -> None:
        rec = recurrence_of(row)
        period = None if rec is None else rec.next_period(now)
        with self.db.session() as s:
            repo = WindowRepository(s)
            if period is None or period[0] > now:  # not yet (or never again): re-arm the timer
                values = {"next_event_ts": None if period is None else period[0]}
                if period is None:
                    values["next_event"] = None
                repo.move(row.id, state=row.state, version=row.version, values=values)
                return
            nxt, at = active_schedule(period[1], row.notice_s, None, now)
            values = {
                "period_end_ts": period[1],
                "noticed_ts": None,
                "next_event": nxt,
                "next_event_ts": at,
            }
            if not _move(s, row, E.WAKE, values):
                return
            woke = wake_hosts(s, row)
            self._decide(s, row, "WAKE", f"available until {iso(period[1])}", woke)
        _clear_notice(self.notify, row, now)
        vim_switch(self.db, self.drainer, row, woke, True)

    # -- the decision log --------------------------------------------------------------------
    def _decide(
        self,
        s: Any,
        row: AvailabilityWindowRow,
        action: str,
        detail: str,
        hosts: list[str] | None = None,
        *,
        reason: Reason = Reason.ACTED,
    ) -> None:
        inputs: dict[str, Any] = {
            "windowId": row.id,
            "resource": resource_of(row).key,
            "from": row.state,
            "event": row.next_event,
            "due": iso(row.next_event_ts),
        }
        if hosts is not None:
            inputs["hosts"] = hosts
        if row.plan_id:
            inputs["actionPlanId"] = row.plan_id
        decisions.add(
            s,
            kind=Kind.WINDOW,
            reason=reason,
            action=action,
            policy_id=row.id,
            tenant_id=row.tenant_id,
            inputs=inputs,
            detail=detail,
        )


__all__ = ["WindowScheduler", "WindowState"]
