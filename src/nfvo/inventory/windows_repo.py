"""Availability windows of hosts, zones and VIM accounts (see :mod:`nfvo.policy.windows`).

One row per window. Instants are epoch seconds (UTC) in floating-point columns, so the
scheduler's "due" comparison is the same number on SQLite and PostgreSQL. Every change of a
row is one conditional UPDATE on its ``version`` (and state): the scheduler claims a due
event by bumping the version with a lease, so one process fires it; a cancel racing it bumps
the version too and the scheduler's completion then changes nothing.

The host states a window sets (``draining``, ``sleeping``) live on ``vim_hosts.state``;
:func:`held_hosts` says which hosts a draining or sleeping window holds, so a VIM sync keeps
those states and a window waking up leaves hosts another window still holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from nfvo.inventory.models import Base, VimHost, utcnow
from nfvo.inventory.paging import PageQuery, fetch_after, own_or_shared

DRAINING, SLEEPING, UP = "draining", "sleeping", "up"
HELD_HOST_STATES = (DRAINING, SLEEPING)
# window states that hold their hosts (as nfvo.policy.windows.WindowState values)
HOLDING = {"DRAINING": DRAINING, "SLEEPING": SLEEPING}
FINAL_STATES = ("CANCELLED",)


class AvailabilityWindowRow(Base):
    """One availability window: what it covers, when, and where it is in its life."""

    __tablename__ = "availability_windows"
    __table_args__ = (
        Index("ix_availability_windows_created", "created_at", "id"),
        Index("ix_availability_windows_due", "next_event_ts"),
        Index("ix_availability_windows_vim", "vim_id", "state"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str | None] = mapped_column(String(36), nullable=True)  # the VIM's
    vim_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("vim_accounts.id", ondelete="CASCADE")
    )
    scope: Mapped[str] = mapped_column(String(8))  # host | zone | vim
    target: Mapped[str] = mapped_column(String(255))  # host or zone name; the VIM id
    name: Mapped[str] = mapped_column(String(255), default="")
    start_ts: Mapped[float] = mapped_column(Float)
    end_ts: Mapped[float | None] = mapped_column(Float, nullable=True)
    cron: Mapped[str | None] = mapped_column(String(255), nullable=True)
    duration_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    time_zone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    notice_s: Mapped[float] = mapped_column(Float)
    state: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer, default=0)
    period_end_ts: Mapped[float | None] = mapped_column(Float, nullable=True)
    noticed_ts: Mapped[float | None] = mapped_column(Float, nullable=True)  # period noticed
    next_event: Mapped[str | None] = mapped_column(String(16), nullable=True)
    next_event_ts: Mapped[float | None] = mapped_column(Float, nullable=True)
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_until_ts: Mapped[float | None] = mapped_column(Float, nullable=True)
    plan_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    drain_attempts: Mapped[int] = mapped_column(Integer, default=0)
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WindowRepository:
    """Windows: add, read, page, the scheduler's due list and claim, conditional moves."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, row: AvailabilityWindowRow) -> AvailabilityWindowRow:
        """Insert a window (flushed)."""
        self.s.add(row)
        self.s.flush()
        return row

    def get(self, window_id: str) -> AvailabilityWindowRow | None:
        """A window by id, read afresh."""
        q = select(AvailabilityWindowRow).where(AvailabilityWindowRow.id == window_id)
        return self.s.execute(q.execution_options(populate_existing=True)).scalar_one_or_none()

    def page(self, query: PageQuery, *, tenant: str | None) -> list[AvailabilityWindowRow]:
        """One chunk of the windows a caller sees (on its own and shared VIM accounts)."""
        return fetch_after(
            self.s,
            AvailabilityWindowRow,
            (AvailabilityWindowRow.created_at, AvailabilityWindowRow.id),
            query,
            visible=own_or_shared(AvailabilityWindowRow, tenant),
        )

    def due(self, now: float, limit: int) -> list[tuple[str, int]]:
        """``(id, version)`` of windows whose next event is due and not leased, oldest due
        first."""
        W = AvailabilityWindowRow
        q = (
            select(W.id, W.version)
            .where(
                W.next_event_ts.is_not(None),
                W.next_event_ts <= now,
                or_(W.lease_until_ts.is_(None), W.lease_until_ts < now),
            )
            .order_by(W.next_event_ts, W.id)
            .limit(limit)
        )
        return [(i, v) for i, v in self.s.execute(q)]

    def claim(self, window_id: str, version: int, owner: str, now: float, lease_s: float) -> bool:
        """Take the due event of a window for ``lease_s`` (one conditional UPDATE: of two
        processes claiming the same version, one wins)."""
        W = AvailabilityWindowRow
        res = self.s.execute(
            update(W)
            .where(
                W.id == window_id,
                W.version == version,
                W.next_event_ts.is_not(None),
                W.next_event_ts <= now,
                or_(W.lease_until_ts.is_(None), W.lease_until_ts < now),
            )
            .values(version=W.version + 1, lease_owner=owner[:64], lease_until_ts=now + lease_s)
        )
        return res.rowcount == 1

    def move(self, window_id: str, *, state: str, version: int, values: Mapping[str, Any]) -> bool:
        """Change a window still in ``state`` at ``version`` (one conditional UPDATE; the
        lease is released). False when it changed meanwhile."""
        W = AvailabilityWindowRow
        res = self.s.execute(
            update(W)
            .where(W.id == window_id, W.state == state, W.version == version)
            .values(
                **values,
                version=W.version + 1,
                lease_owner=None,
                lease_until_ts=None,
                updated_at=utcnow(),
            )
        )
        return res.rowcount == 1

    # -- hosts ---------------------------------------------------------------------------
    def hosts_of(self, vim_id: str, scope: str, target: str) -> list[VimHost]:
        """The synced hosts a window covers (a host, a zone's hosts, a VIM's hosts)."""
        q = select(VimHost).where(VimHost.vim_id == vim_id)
        if scope == "host":
            q = q.where(VimHost.name == target)
        elif scope == "zone":
            q = q.where(VimHost.zone == target)
        return list(self.s.execute(q.order_by(VimHost.name)).scalars())

    def set_host_state(
        self, vim_id: str, names: Iterable[str], state: str, only_from: Sequence[str]
    ) -> int:
        """Set ``state`` on the named hosts of a VIM that are in one of ``only_from``."""
        names = list(names)
        if not names:
            return 0
        res = self.s.execute(
            update(VimHost)
            .where(VimHost.vim_id == vim_id, VimHost.name.in_(names), VimHost.state.in_(only_from))
            .values(state=state)
        )
        return int(res.rowcount or 0)

    def enforce(self) -> dict[str, list[str]]:
        """Put back the state of every host a draining or sleeping window holds that shows
        another one (``up``: something wrote over it); window id -> hosts repaired."""
        W = AvailabilityWindowRow
        out: dict[str, list[str]] = {}
        for w in self.s.execute(select(W).where(W.state.in_(list(HOLDING)))).scalars():
            want = HOLDING[w.state]
            wrong = [h.name for h in self.hosts_of(w.vim_id, w.scope, w.target) if h.state == UP]
            if wrong and self.set_host_state(w.vim_id, wrong, want, (UP,)):
                out[w.id] = wrong
        return out

    def open_count(self, vim_id: str) -> int:
        """How many windows of a VIM account are not in a final state (cancelled)."""
        W = AvailabilityWindowRow
        q = (
            select(func.count())
            .select_from(W)
            .where(W.vim_id == vim_id, W.state.not_in(FINAL_STATES))
        )
        return int(self.s.scalar(q) or 0)

    def holding(self, vim_id: str, *, except_id: str | None = None) -> list[AvailabilityWindowRow]:
        """The windows of a VIM that hold their hosts (draining or sleeping)."""
        W = AvailabilityWindowRow
        q = select(W).where(W.vim_id == vim_id, W.state.in_(list(HOLDING)))
        if except_id is not None:
            q = q.where(W.id != except_id)
        return list(self.s.execute(q).scalars())


def covers(window: AvailabilityWindowRow, host: str, zone: str) -> bool:
    """Whether ``window`` covers a host named ``host`` in ``zone`` (of the window's VIM)."""
    if window.scope == "host":
        return window.target == host
    if window.scope == "zone":
        return window.target == zone
    return True


def held_hosts(
    session: Session, vim_id: str, hosts: Iterable[tuple[str, str]]
) -> dict[str, tuple[str, str]]:
    """Of ``hosts`` (name, zone) of a VIM, those a draining or sleeping window holds:
    name -> (host state, window id); sleeping wins over draining."""
    windows = WindowRepository(session).holding(vim_id)
    if not windows:
        return {}
    out: dict[str, tuple[str, str]] = {}
    for name, zone in hosts:
        for w in windows:
            if covers(w, name, zone):
                state = HOLDING[w.state]
                if name not in out or state == SLEEPING:
                    out[name] = (state, w.id)
    return out


def window_label(held: tuple[str, str] | None) -> dict[str, str] | None:
    """The optimizer host label naming the window that holds a host (``held``: an entry of
    :func:`held_hosts`), so a placement's explanation can name it."""
    return None if held is None else {"availability_window": held[1]}
