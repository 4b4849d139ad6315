"""Durations: SOL001 scalar-unit.time, ISO 8601 and numbers all become seconds; everything
else is refused with a message naming the accepted forms."""

from __future__ import annotations

import pytest

from nfvo.policy.durations import DurationError, seconds


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30 s", 30.0),
        ("30s", 30.0),
        ("5 min", 300.0),
        ("2 m", 120.0),
        ("1 h", 3600.0),
        ("1 d", 86400.0),
        ("250 ms", 0.25),
        ("1.5 h", 5400.0),
        ("P30D", 30 * 86400.0),
        ("PT1H30M", 5400.0),
        ("P1W", 7 * 86400.0),
        ("P1DT12H", 36 * 3600.0),
        ("pt10s", 10.0),
        ("120", 120.0),
        (120, 120.0),
        (0.5, 0.5),
    ],
)
def test_accepted_forms(text: str | float, expected: float) -> None:
    assert seconds(text) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("5 fortnights", "unit"),
        ("P1Y", "years and months"),
        ("P1M", "years and months"),
        ("P", "ISO 8601"),
        ("PT", "ISO 8601"),
        ("soon", "scalar-unit.time"),
        ("-5 s", "scalar-unit.time"),
        (-1, "≥ 0"),
        (float("nan"), "finite"),
        (float("inf"), "finite"),
        ("P4000D", "ten years"),
        (True, "number of seconds"),
        ("1" * 100, "number of seconds"),
    ],
)
def test_refused_with_a_reason(text: object, says: str) -> None:
    with pytest.raises(DurationError, match=says):
        seconds(text)  # type: ignore[arg-type]
