"""The sim VIM's runtime behaviour: call latency, injected faults and synthetic load.

Kept apart from the state store so it can change per driver instance (an operator PATCHes
latency or faults without touching the topology) and so the random choices can be seeded:
each operation draws from its own generator, so the outcome sequence of one operation does
not depend on how calls to other operations interleave with it.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
import uuid
from collections.abc import Callable
from typing import Any

from nfvo.vim import base
from nfvo.vim.sim.config import LoadConfig, SimConfig

_MESSAGES: dict[str, str] = {
    "VimUnavailable": "Service Unavailable: the {service} service is temporarily unavailable "
    "(HTTP 503)",
    "VimQuotaExceeded": "Quota exceeded for resources: ['instances'] (HTTP 403)",
    "VimAuthError": "The request you have made requires authentication. (HTTP 401)",
    "VimConflict": "Conflict: the resource is in a state that does not allow {op} (HTTP 409)",
    "VimBadRequest": "Bad Request: invalid input for {op} (HTTP 400)",
    "VimNotFound": "Not Found: the resource could not be found (HTTP 404)",
    "VimCapacityExceeded": "No valid host was found. There are not enough hosts available. "
    "(HTTP 500)",
    "VimTimeout": "Gateway Timeout: {op} did not complete in time (HTTP 504)",
}


def request_id() -> str:
    """A VIM-style request id."""
    return f"req-{uuid.uuid4()}"


def injected_error(name: str, op: str) -> base.VimError:
    """The typed error an injected fault raises, with VIM-style words and a request id."""
    cls: type[base.VimError] = getattr(base, name)
    service = "network" if op.split("_")[0] in ("network", "subnet", "port") else "compute"
    rid = request_id()
    words = _MESSAGES[name].format(service=service, op=op) + f" (Request-ID: {rid})"
    return cls(f"sim VIM: injected {name} on {op}: {words}", vim_message=words, request_id=rid)


class Behaviour:
    """Latency, faults and load of one driver instance, from its config's runtime keys."""

    def __init__(self, cfg: SimConfig, sleep: Callable[[float], None]) -> None:
        top = cfg.top
        self.latency = top.latency_ms
        self.jitter = top.jitter
        self.faults = top.faults
        self.seed = top.seed
        self.load = top.load
        self._sleep = sleep
        self._rngs: dict[str, random.Random] = {}
        self._lock = threading.Lock()

    def _draw(self, stream: str) -> float:
        with self._lock:
            rng = self._rngs.get(stream)
            if rng is None:
                rng = random.Random(None if self.seed is None else f"{self.seed}:{stream}")
                self._rngs[stream] = rng
            return rng.random()

    def delay_s(self, op: str) -> float:
        """Seconds an operation (or a boot) takes, with jitter applied."""
        ms = float(getattr(self.latency, op, 0.0) or 0.0)
        if ms <= 0:
            return 0.0
        if self.jitter:
            ms *= 1.0 + self.jitter * (2.0 * self._draw(f"jitter:{op}") - 1.0)
        return ms / 1000.0

    def before(self, op: str) -> None:
        """Sleep the call latency (outside any transaction), then maybe inject a fault."""
        delay = self.delay_s(op)
        if delay > 0:
            self._sleep(delay)
        fault = getattr(self.faults, op, None)
        if fault is None or (fault.error_rate <= 0 and fault.timeout_rate <= 0):
            return
        r = self._draw(f"fault:{op}")
        if r < fault.timeout_rate:
            raise injected_error("VimTimeout", op)
        if r < fault.timeout_rate + fault.error_rate:
            raise injected_error(fault.error, op)

    def boot_outcome(self) -> tuple[str, str | None]:
        """Final status of a new server (ACTIVE, or ERROR with the fault text)."""
        boot = self.faults.server_boot
        if boot is not None and boot.error_rate > 0 and self._draw("boot") < boot.error_rate:
            return "ERROR", boot.message
        return "ACTIVE", None


def load_for(tags: dict[str, str], default: LoadConfig) -> LoadConfig:
    """The load pattern of a server: its ``nfvo.load`` tag (JSON) over the VIM default."""
    raw = tags.get("nfvo.load")
    if not raw:
        return default
    try:
        override = json.loads(raw)
        if not isinstance(override, dict):
            return default
        return LoadConfig.model_validate({**default.model_dump(), **override})
    except ValueError:
        return default


def cpu_percent(load: LoadConfig, now: float, server_id: str) -> float:
    """CPU usage at ``now`` from the pattern plus a small noise fixed per server and second
    (step and replay curves count from ``start``, or from the epoch here)."""
    from nfvo.vim.sim.curves import compile_curve

    return compile_curve(load).at(now, 0.0, server_id)


def mac_for(resource_id: str) -> str:
    """A deterministic locally administered MAC address in OpenStack's fa:16:3e range."""
    d = hashlib.sha256(resource_id.encode()).digest()
    return "fa:16:3e:" + ":".join(f"{b:02x}" for b in d[:3])


def tags_match(tags: dict[str, str], wanted: dict[str, str] | None) -> bool:
    """True if ``tags`` carries every key/value of ``wanted``."""
    return not wanted or all(tags.get(k) == v for k, v in wanted.items())


def dumps(value: Any) -> str:
    """Compact JSON for storage."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def tags_where(tags: dict[str, str] | None) -> tuple[str, tuple[str, ...]]:
    """SQL narrowing rows to those whose JSON ``tags`` carry every given tag (callers still
    check each row: this only keeps listings from reading every row of the VIM)."""
    terms: list[str] = []
    args: list[str] = []
    for key, value in (tags or {}).items():
        if '"' in key or "\\" in key:
            continue  # not expressible as a JSON path: left to the caller's check
        terms.append("json_extract(tags, ?) = ?")
        args += [f'$."{key}"', value]
    return " AND ".join(terms), tuple(args)
