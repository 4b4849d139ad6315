"""``/admin/v1/availability_windows`` representations: when a host, zone or VIM account is
available, and when it sleeps."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from nfvo.api.models.common import Closed, Open, optional

Duration = str | float  # SOL001 scalar-unit.time ("30 d"), ISO 8601 ("P30D") or seconds


class RecurrenceBody(Closed):
    """Available during each occurrence, asleep between them."""

    cron: str = Field(min_length=1, max_length=255, description="5-field cron, e.g. 0 8 * * 1-5")
    duration: Duration = Field(description="length of each occurrence, e.g. PT10H or '10 h'")
    timeZone: str = Field("UTC", min_length=1, max_length=64, description="IANA time zone")


class WindowCreate(Closed):
    """A window on a host (``hostName``), a zone (``zoneName``) or a whole VIM account."""

    vimAccountId: str = Field(min_length=1, max_length=36)
    hostName: str = optional("the host the window covers", min_length=1, max_length=255)
    zoneName: str = optional("the zone the window covers", min_length=1, max_length=255)
    name: str = optional("a label", max_length=255)
    start: str = optional("ISO 8601 date-time or 'now' (default)", max_length=64)
    end: str = optional("ISO 8601 date-time: one-shot window end", max_length=64)
    duration: Duration = optional("one-shot window length, e.g. P30D")
    recurrence: RecurrenceBody = optional("a recurring window (no end or duration)")
    notice: Duration = optional("notice before each end (default 60 min)")


class WindowModify(Closed):
    """What may change while a window is SCHEDULED or ACTIVE."""

    notice: Duration = optional("notice before each end")
    end: str = optional("new end of a one-shot window (ISO 8601)", max_length=64)
    duration: Duration = optional("new length of a one-shot window, from its start")


class Period(Open):
    """A period of availability (ISO 8601 UTC instants)."""

    start: str | None = None
    end: str | None = None


class NextEvent(Open):
    """The window's next timer event."""

    event: Literal["start", "notice", "end", "drain", "wake"]
    at: str


class RecurrenceView(Open):
    """A recurring window's recurrence (``duration`` in seconds)."""

    cron: str
    duration: float
    timeZone: str


class WindowView(Open):
    """An availability window."""

    id: str
    name: str = ""
    vimAccountId: str
    scope: Literal["host", "zone", "vim"]
    hostName: str | None = None
    zoneName: str | None = None
    start: str
    end: str | None = None
    recurrence: RecurrenceView | None = None
    noticeSeconds: float
    state: Literal["SCHEDULED", "ACTIVE", "DRAINING", "SLEEPING", "CANCELLED", "ERROR"]
    currentPeriod: Period | None = None
    nextEvent: NextEvent | None = None
    actionPlanId: str | None = None
    drainAttempts: int = 0
    detail: str = ""
    tenantId: str | None = None
    createdAt: str | None = None
