"""Durations as descriptors and requests write them, always stored in seconds.

SOL001 ``scalar-unit.time`` (``"30 s"``, ``"5 min"``, ``"2h"``, ``"1 d"``; units d, h, m,
min, s, ms, us, ns), ISO 8601 durations (``"P30D"``, ``"PT1H30M"``; no years or months:
their length depends on the calendar) and plain numbers (seconds). OSM's ``cooldown-time``
is seconds in one place and minutes in another: callers pass what the source means, this
module only parses.
"""

from __future__ import annotations

import math
import re

MAX_SECONDS = 10 * 366 * 86400.0  # ten years: every duration a policy or window can name

_SCALAR = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]+)\s*$")
_UNITS = {
    "d": 86400.0,
    "h": 3600.0,
    "m": 60.0,
    "min": 60.0,
    "s": 1.0,
    "ms": 1e-3,
    "us": 1e-6,
    "ns": 1e-9,
}
_ISO = re.compile(
    r"^P(?:(?P<w>\d+(?:\.\d+)?)W)?(?:(?P<d>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)


class DurationError(ValueError):
    """A duration that cannot be read; the message says what is wrong and what is accepted."""


def _bounded(value: float, text: object) -> float:
    if not math.isfinite(value) or value < 0:
        raise DurationError(f"duration {text!r} must be a finite number of seconds ≥ 0")
    if value > MAX_SECONDS:
        raise DurationError(f"duration {text!r} is longer than ten years")
    return value


def seconds(value: str | int | float) -> float:
    """Seconds of a SOL001 ``scalar-unit.time``, an ISO 8601 duration or a number of
    seconds (``DurationError`` naming the accepted forms otherwise)."""
    if isinstance(value, bool):
        raise DurationError("a duration is a number of seconds or a text such as '30 s'")
    if isinstance(value, int | float):
        return _bounded(float(value), value)
    if not isinstance(value, str) or len(value) > 64:
        raise DurationError("a duration is a number of seconds or a text such as '30 s'")
    text = value.strip()
    if text.upper().startswith("P"):
        return _bounded(_iso(text.upper(), value), value)
    match = _SCALAR.match(text)
    if match is None:
        try:
            return _bounded(float(text), value)
        except ValueError:
            raise DurationError(
                f"duration {value!r} is neither a scalar-unit.time such as '30 s' or '5 min' "
                "(units d, h, m, min, s, ms, us, ns) nor an ISO 8601 duration such as 'P30D'"
            ) from None
    number, unit = match.groups()
    factor = _UNITS.get(unit.lower())
    if factor is None:
        units = ", ".join(_UNITS)
        raise DurationError(f"duration {value!r} has unit {unit!r}; units are {units}")
    return _bounded(float(number) * factor, value)


def _iso(text: str, original: str) -> float:
    match = _ISO.match(text)
    if match is None or text in ("P", "PT") or text.endswith("T"):
        raise DurationError(
            f"duration {original!r} is not an ISO 8601 duration of weeks, days, hours, "
            "minutes and seconds (e.g. 'P30D', 'PT1H30M'); years and months are not accepted"
        )
    parts = {k: float(v) for k, v in match.groupdict().items() if v is not None}
    return (
        parts.get("w", 0.0) * 7 * 86400
        + parts.get("d", 0.0) * 86400
        + parts.get("h", 0.0) * 3600
        + parts.get("m", 0.0) * 60
        + parts.get("s", 0.0)
    )
