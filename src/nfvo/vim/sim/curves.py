"""Evaluating the sim VIM's load curves (``LoadConfig``) at a point in time.

Kept apart from the driver so the curve arithmetic can be tested alone, and cached by the
curve's JSON text: a poll evaluates every server's curve, and most servers share a few.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import json
import math
from dataclasses import dataclass

from pydantic import ValidationError

from nfvo.vim.sim.config import LoadConfig

# the utilisations a curve can drive; memory and disk follow CPU when given no curve
SERVER_METRICS = ("cpu_utilization", "memory_utilization", "disk_utilization")
PORT_METRICS = ("bytes_in", "bytes_out", "packets_in", "packets_out")
BYTES_PER_PERCENT = 12_500.0  # port bytes/s per percent of CPU: 100 % is 10 Mbit/s in
OUT_SHARE = 0.8  # outgoing traffic is this share of the incoming
PACKET_BYTES = 800.0  # average packet size


@dataclass(frozen=True)
class Curve:
    """A validated curve with its points split for bisection."""

    load: LoadConfig
    offsets: tuple[float, ...]
    values: tuple[float, ...]
    period: float  # repeat period of a replay (0: played once)
    noise: float

    def at(self, now: float, origin: float, key: str) -> float:
        """The value at ``now`` (epoch s) of a curve whose offsets count from ``origin``
        (its ``start`` wins), plus the noise fixed per ``key`` and second, in [0, 100]."""
        load = self.load
        if load.pattern in ("sine", "spike"):
            phase = ((now - (load.start or 0.0)) % load.period_s) / load.period_s
            if load.pattern == "sine":
                value = load.base + load.amplitude * math.sin(2 * math.pi * phase)
            else:
                value = load.base + (load.amplitude if phase < 0.1 else 0.0)
        elif load.pattern in ("step", "replay"):
            value = self._held(now - (load.start if load.start is not None else origin))
        else:
            value = load.base
        if self.noise:
            digest = hashlib.sha256(f"{key}:{int(now)}".encode()).digest()
            value += (digest[0] / 255.0 - 0.5) * 2.0 * self.noise
        return max(0.0, min(100.0, value))

    def _held(self, t: float) -> float:
        if self.period and t >= 0:
            t %= self.period
        i = bisect.bisect_right(self.offsets, t) - 1
        if i < 0:  # before the first point: a step curve's value before, else the first
            points = self.load.steps or self.load.series
            return self.values[0] if points else self.load.base
        return self.values[i]


def compile_curve(load: LoadConfig) -> Curve:
    """The evaluable form of ``load``."""
    points: list[tuple[float, float]] = []
    period = 0.0
    if load.pattern == "step":
        points = list(load.steps) if load.steps else [(load.at_s or 0.0, load.after or 0.0)]
    elif load.pattern == "replay":
        points = list(load.series or [])
        if load.repeat:
            if "period_s" in load.model_fields_set:
                period = load.period_s
            else:
                gap = points[-1][0] - points[-2][0] if len(points) > 1 else 1.0
                period = points[-1][0] + gap
    noise = load.noise
    if noise is None:
        noise = 0.0 if load.pattern in ("step", "replay") else 1.0
    return Curve(
        load,
        tuple(p[0] for p in points),
        tuple(p[1] for p in points),
        period,
        noise,
    )


@functools.lru_cache(maxsize=4096)
def curve_of_text(text: str) -> Curve | None:
    """The curve a stored or tagged JSON text describes (None when it is not one)."""
    try:
        raw = json.loads(text)
        if not isinstance(raw, dict):
            return None
        return compile_curve(LoadConfig.model_validate(raw))
    except (ValueError, ValidationError):
        return None


def derived(metric: str, cpu: float) -> float:
    """Memory or disk utilisation of a server given no curve of its own: following CPU."""
    if metric == "memory_utilization":
        return min(100.0, 25.0 + 0.5 * cpu)
    return min(100.0, 30.0 + 0.1 * cpu)  # disk


def port_rates(cpu: float) -> tuple[float, float, float, float]:
    """(bytes_in, bytes_out, packets_in, packets_out) per second of one port at ``cpu`` %."""
    b_in = cpu * BYTES_PER_PERCENT
    b_out = b_in * OUT_SHARE
    return b_in, b_out, b_in / PACKET_BYTES, b_out / PACKET_BYTES
