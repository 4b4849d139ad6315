"""Validation of the ``monitoring`` key of a VIM account's ``config`` (every VIM type).

``config.monitoring`` says whether the account's monitoring source runs (``enabled``, default
true) and how often it polls (``interval_s``); the source receives the validated object as
its options. Kept free of any driver or source import so each VIM type's config parser can
call it. A source needing its own keys registers them in ``TYPE_KEYS`` for its VIM type.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from nfvo.vim.base import VimConfigError

MIN_INTERVAL_S = 0.1
MAX_INTERVAL_S = 3600.0

Checker = Callable[[Any, str], Any]  # (value, field path) -> normalised value


def _enabled(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise VimConfigError(path, "must be true or false")
    return value


def _interval(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise VimConfigError(path, "must be a number of seconds")
    if not MIN_INTERVAL_S <= value <= MAX_INTERVAL_S:
        raise VimConfigError(
            path, f"must be between {MIN_INTERVAL_S:g} and {MAX_INTERVAL_S:g} seconds"
        )
    return float(value)


# keys every VIM type's ``config.monitoring`` accepts
COMMON_KEYS: dict[str, Checker] = {"enabled": _enabled, "interval_s": _interval}
# VIM type -> further keys its source reads (added by the source's module)
TYPE_KEYS: dict[str, dict[str, Checker]] = {}


def parse_monitoring(value: Any, vim_type: str) -> dict[str, Any] | None:
    """The validated ``config.monitoring`` of a ``vim_type`` account (None when absent);
    VimConfigError naming the field (``config.monitoring.interval_s``) otherwise."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise VimConfigError("config.monitoring", "must be a JSON object")
    known = COMMON_KEYS | TYPE_KEYS.get(vim_type, {})
    out: dict[str, Any] = {}
    for key, item in value.items():
        check = known.get(key)
        if check is None:
            raise VimConfigError(f"config.monitoring.{key}", f"unknown key; known: {sorted(known)}")
        out[key] = check(item, f"config.monitoring.{key}")
    return out


def monitoring_enabled(config: dict[str, Any] | None) -> bool:
    """Whether an account's (validated) config lets its monitoring source run."""
    options = (config or {}).get("monitoring") or {}
    return options.get("enabled", True) is not False
