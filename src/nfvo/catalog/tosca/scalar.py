"""TOSCA scalar-unit values (``8 GB``, ``10 s``, ``2.4 GHz``, ``1 Gbps``) and versions.

Scalars are kept as written in the template; these functions turn them into a
number of base units (bytes, seconds, hertz, bits per second) for comparison
and for the typed descriptors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SIZE_UNITS: dict[str, int] = {
    "b": 1,
    "kb": 1000,
    "kib": 1024,
    "mb": 1000**2,
    "mib": 1024**2,
    "gb": 1000**3,
    "gib": 1024**3,
    "tb": 1000**4,
    "tib": 1024**4,
}
TIME_UNITS: dict[str, float] = {
    "d": 86400.0,
    "h": 3600.0,
    "m": 60.0,
    "s": 1.0,
    "ms": 1e-3,
    "us": 1e-6,
    "ns": 1e-9,
}
FREQUENCY_UNITS: dict[str, float] = {"hz": 1.0, "khz": 1e3, "mhz": 1e6, "ghz": 1e9}
BITRATE_UNITS: dict[str, float] = {
    "bps": 1.0,
    "kbps": 1e3,
    "kibps": 1024.0,
    "mbps": 1e6,
    "mibps": 1024.0**2,
    "gbps": 1e9,
    "gibps": 1024.0**3,
    "tbps": 1e12,
    "tibps": 1024.0**4,
}
SCALAR_KINDS: dict[str, dict[str, float] | dict[str, int]] = {
    "scalar-unit.size": SIZE_UNITS,
    "scalar-unit.time": TIME_UNITS,
    "scalar-unit.frequency": FREQUENCY_UNITS,
    "scalar-unit.bitrate": BITRATE_UNITS,
}
_SCALAR_RE = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-z]+)\s*$")
_VERSION_RE = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+)(?:\.(\w+)(?:-(\d+))?)?)?$")


@dataclass(frozen=True, slots=True)
class Scalar:
    """A parsed scalar-unit value: the number written, its unit, and the value in base units."""

    number: float
    unit: str
    base: float

    def __str__(self) -> str:
        num = int(self.number) if float(self.number).is_integer() else self.number
        return f"{num} {self.unit}"


def parse_scalar(value: object, kind: str) -> Scalar:
    """Parse ``value`` as a scalar of ``kind`` (e.g. ``scalar-unit.size``); raise ValueError."""
    units = SCALAR_KINDS[kind]
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a {kind} (expected e.g. '1 {next(iter(units))}')")
    match = _SCALAR_RE.match(value)
    if not match:
        raise ValueError(f"{value!r} is not a {kind}")
    number_text, unit = match.groups()
    factor = units.get(unit.lower())
    if factor is None:
        raise ValueError(f"unknown {kind} unit {unit!r} in {value!r}")
    number = float(number_text)
    return Scalar(number, unit, number * factor)


def scalar_in(value: object, kind: str, unit: str) -> float:
    """Value of a scalar converted to ``unit`` (case-insensitive), e.g. MiB or GiB."""
    scalar = parse_scalar(value, kind)
    return scalar.base / SCALAR_KINDS[kind][unit.lower()]


def parse_version(value: object) -> tuple[int, int, int, str, int]:
    """Parse a TOSCA version ``major.minor[.fix[.qualifier[-build]]]``; raise ValueError."""
    text = str(value) if isinstance(value, int | float) else value
    if not isinstance(text, str):
        raise ValueError(f"{value!r} is not a version")
    match = _VERSION_RE.match(text.strip())
    if not match:
        raise ValueError(f"{value!r} is not a version (major.minor[.fix[.qualifier[-build]]])")
    major, minor, fix, qualifier, build = match.groups()
    return (int(major), int(minor), int(fix or 0), qualifier or "", int(build or 0))
