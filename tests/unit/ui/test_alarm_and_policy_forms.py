"""The GUI's alarm list shows the newest alarms first without reading the whole alarm
history on every look (the store pages oldest first); the policy and window forms make the
API's request bodies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from nfvo.errors import BadRequest
from nfvo.query import PageQuery
from nfvo.ui.routes import alarms
from nfvo.ui.routes.policy import policy_body, window_body


@dataclass
class _Alarm:
    id: str
    created_at: datetime
    revision: int = 1


class _Store:
    """Alarms paged oldest first by (created_at, id), as the alarm store pages them."""

    def __init__(self, rows: list[_Alarm]) -> None:
        self.alarms = sorted(rows, key=lambda a: (a.created_at, a.id))
        self.read = 0

    def page(self, tenant: str | None, query: PageQuery) -> list[_Alarm]:
        after = query.after
        rows = [a for a in self.alarms if after is None or (a.created_at, a.id) > after]
        rows = rows[: query.limit]
        self.read += len(rows)
        return rows


def test_the_newest_alarms_are_shown_without_reading_the_whole_history() -> None:
    now = datetime.now(UTC)
    old = [_Alarm(f"old-{i:05d}", now - timedelta(days=40, seconds=i)) for i in range(3000)]
    week = [_Alarm(f"week-{i:03d}", now - timedelta(days=3, seconds=i)) for i in range(100)]
    recent = [_Alarm(f"new-{i:03d}", now - timedelta(minutes=30, seconds=i)) for i in range(150)]
    store = _Store(old + week + recent)
    shown = alarms._rows(store, None, {})  # type: ignore[arg-type]
    assert len(shown) == alarms.SHOWN
    # newest first: the last half hour, then the newest of three days ago
    assert [a.id for a in shown] == [a.id for a in recent] + [a.id for a in week[:50]]
    assert store.read < 1000  # the 40-day-old history was not read
    # fewer alarms than a page: all of them, however old
    few = _Store(old[:3] + recent[:2])
    assert [a.id for a in alarms._rows(few, None, {})] == [  # type: ignore[arg-type]
        "new-000",
        "new-001",
        "old-00000",
        "old-00001",
        "old-00002",
    ]


def test_policy_form_makes_the_api_body() -> None:
    form = {
        "nsInstanceId": "ns-1",
        "aspectId": "web",
        "metric": "VCpuUsageMeanVnf",
        "scaleOutThreshold": "80.5",
        "scaleInThreshold": "abc",
        "thresholdTime": "PT2M",
        "cooldown": "120",
        "numberOfSteps": "2",
        "name": "",
    }
    assert policy_body(form, enabled=False) == {
        "nsInstanceId": "ns-1",
        "aspectId": "web",
        "metric": "VCpuUsageMeanVnf",
        "scaleOutThreshold": 80.5,
        "scaleInThreshold": "abc",  # as typed: the store names it ("must be a number")
        "thresholdTime": "PT2M",
        "cooldown": 120.0,
        "numberOfSteps": 2,
        "enabled": False,
    }


def test_window_form_makes_the_api_body() -> None:
    base = {"vimAccountId": "v1", "target": "h1", "duration": "P30D", "noticeMinutes": "30"}
    assert window_body({**base, "targetKind": "host"}) == {
        "vimAccountId": "v1",
        "hostName": "h1",
        "duration": "P30D",
        "notice": 1800.0,
    }
    assert window_body({**base, "targetKind": "zone"})["zoneName"] == "h1"
    whole = window_body({**base, "targetKind": "vim"})
    assert "hostName" not in whole and "zoneName" not in whole
    daily = window_body(
        {
            "vimAccountId": "v1",
            "targetKind": "vim",
            "cron": "0 8 * * 1-5",
            "recurrenceDuration": "PT10H",
            "timeZone": "Europe/Berlin",
        }
    )
    assert daily["recurrence"] == {
        "cron": "0 8 * * 1-5",
        "duration": "PT10H",
        "timeZone": "Europe/Berlin",
    }
    with pytest.raises(BadRequest, match="targetKind"):
        window_body({**base, "targetKind": "rack"})
