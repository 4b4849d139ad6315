"""Recurring availability: a cron expression read in an IANA time zone, and a duration.

An occurrence starts at each instant the cron expression matches on the zone's wall clock
(``0 8 * * 1-5`` in ``Europe/Berlin``: 08:00 Berlin time on weekdays, whatever the UTC
offset is that day) and lasts ``duration_s`` seconds of elapsed time. The resource is
*available* inside an occurrence and *asleep* between occurrences. Occurrences that overlap
or touch merge into one period of availability.

All instants in and out are epoch seconds (UTC); wall-clock arithmetic happens only inside
``cronsim`` with ``zoneinfo`` time zones, which handles the daylight saving changes (a
wall-clock time skipped in spring fires at the first instant after the gap, one repeated in
autumn fires once).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

MIN_DURATION_S = 60.0
MAX_DURATION_S = 366 * 86400.0
MAX_CRON = 255  # characters of a cron expression
# occurrences merged into one period of availability at most (cron every minute for a
# duration of days would otherwise walk thousands of matches)
MAX_MERGED = 10_000


class RecurrenceError(ValueError):
    """A recurrence that cannot be used; ``field`` names the request field at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Recurrence:
    """Available for ``duration_s`` from each match of ``cron`` in ``tz``; asleep otherwise."""

    cron: str
    duration_s: float
    tz: str

    def __post_init__(self) -> None:
        if not self.cron.strip() or len(self.cron) > MAX_CRON:
            raise RecurrenceError("recurrence.cron", f"must be 1 to {MAX_CRON} characters")
        if not MIN_DURATION_S <= self.duration_s <= MAX_DURATION_S:
            raise RecurrenceError(
                "recurrence.duration",
                f"must be between {MIN_DURATION_S:g} s and {MAX_DURATION_S:g} s "
                f"(got {self.duration_s:g} s)",
            )
        try:
            zone = ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise RecurrenceError(
                "recurrence.timeZone", f"{self.tz!r} is not an IANA time zone"
            ) from None
        try:
            CronSim(self.cron, datetime(2026, 1, 1, tzinfo=zone))
        except CronSimError as exc:
            raise RecurrenceError("recurrence.cron", f"{self.cron!r}: {exc}") from None

    @property
    def zone(self) -> ZoneInfo:
        """The time zone the cron expression is read in."""
        return ZoneInfo(self.tz)

    def _local(self, t: float) -> datetime:
        return datetime.fromtimestamp(t, UTC).astimezone(self.zone)

    def start_at_or_before(self, t: float) -> float | None:
        """The last occurrence start at or before ``t`` (None: none in the past year)."""
        it = CronSim(self.cron, self._local(t) + timedelta(microseconds=1), reverse=True)
        try:
            start = next(it).timestamp()
        except StopIteration:
            return None
        return start if start >= t - MAX_DURATION_S - 366 * 86400 else None

    def next_start_after(self, t: float) -> float | None:
        """The first occurrence start strictly after ``t`` (None: the expression never
        matches again)."""
        try:
            return next(CronSim(self.cron, self._local(t))).timestamp()
        except StopIteration:
            return None

    def period_end(self, start: float) -> float:
        """The end of the period of availability that an occurrence starting at ``start``
        opens: its end, extended by every occurrence starting before the period ends."""
        end = start + self.duration_s
        for _ in range(MAX_MERGED):
            nxt = self.next_start_after(start)
            if nxt is None or nxt > end:
                return end
            start = nxt
            end = max(end, start + self.duration_s)
        return end

    def period_at(self, t: float) -> tuple[float, float] | None:
        """``(start, end)`` of the period of availability containing ``t`` (start ≤ t <
        end), or None when ``t`` falls between occurrences."""
        last = self.start_at_or_before(t)
        if last is None:
            return None
        # an earlier occurrence may still cover t when occurrences overlap: walk back while
        # the previous start's occurrence reaches the one after it
        first = last
        for _ in range(MAX_MERGED):
            prev = self.start_at_or_before(first - 1e-6)
            if prev is None or prev + self.duration_s < first:
                break
            first = prev
        end = self.period_end(first)
        return (first, end) if t < end else None

    def next_period(self, t: float) -> tuple[float, float] | None:
        """The period of availability containing ``t``, else the next one to begin."""
        inside = self.period_at(t)
        if inside is not None:
            return inside
        start = self.next_start_after(t)
        return None if start is None else (start, self.period_end(start))
