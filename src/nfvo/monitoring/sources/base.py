"""The contract every per-VIM monitoring source keeps.

A source watches one VIM account: it polls or subscribes in its own daemon thread and hands
``Sample``s and ``FaultEvent``s to the sink. It never writes the database and never raises
out of its thread: a failing poll is logged once per change of its error (not per attempt)
and retried on the next interval; while the VIM cannot be reached the source reports one
``VIM_UNREACHABLE`` fault, and ``VIM_REACHABLE`` when it answers again.
"""

from __future__ import annotations

import abc
import threading
from dataclasses import dataclass, field
from typing import Any

from nfvo.monitoring.model import FaultEvent, FaultKind, Resource, ResourceKind, Severity, Sink
from nfvo.vim.base import VimDriver


@dataclass(frozen=True)
class SourceContext:
    """What a source is started with: its VIM account, a driver for it (the source owns
    and closes it), the sink, and the account's ``config.monitoring`` options."""

    vim_id: str
    vim_type: str
    driver: VimDriver
    sink: Sink
    options: dict[str, Any] = field(default_factory=dict)
    secrets: dict[str, Any] = field(default_factory=dict)


class Source(abc.ABC):
    """One VIM account's monitoring adapter, run in its own daemon thread."""

    name: str = "source"
    default_interval_s: float = 1.0

    def __init__(self, ctx: SourceContext) -> None:
        self.ctx = ctx
        self.interval_s = float(ctx.options.get("interval_s", self.default_interval_s))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start watching (idempotent)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, name=f"monitor-{self.name}-{self.ctx.vim_id[:8]}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop watching and release the driver."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        try:
            self.ctx.driver.close()
        except Exception:  # noqa: BLE001 - closing a driver of a gone account must not fail a stop
            pass

    def alive(self) -> bool:
        """Whether the source's thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.poll_once()
            self._stop.wait(self.interval_s)

    @abc.abstractmethod
    def poll_once(self) -> None:
        """One round: read the VIM, hand samples and events to the sink. Must not raise."""


def host_event(
    vim_id: str, host: str, up: bool, at: float, source: str, raw: dict[str, Any], cause: str
) -> FaultEvent:
    """A host of ``vim_id`` went down (CRITICAL, with its ``cause``) or came back up."""
    resource = Resource(ResourceKind.HOST, host, vim_id)
    if up:
        return FaultEvent(resource, FaultKind.HOST_UP, Severity.CLEARED, at, source, raw)
    return FaultEvent(
        resource, FaultKind.HOST_DOWN, Severity.CRITICAL, at, source, raw, probable_cause=cause
    )


def vim_event(vim_id: str, reachable: bool, at: float, source: str, error: str = "") -> FaultEvent:
    """``vim_id`` stopped answering (CRITICAL, naming the ``error``) or answers again."""
    resource = Resource(ResourceKind.VIM, vim_id)
    if reachable:
        return FaultEvent(resource, FaultKind.VIM_REACHABLE, Severity.CLEARED, at, source)
    return FaultEvent(
        resource,
        FaultKind.VIM_UNREACHABLE,
        Severity.CRITICAL,
        at,
        source,
        {"error": error[:1000]},
        probable_cause=error[:200],
    )
