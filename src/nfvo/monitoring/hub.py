"""The monitoring hub: where every source's samples and fault events arrive, are windowed,
and are handed on to the consumers (PM jobs and thresholds, FM alarms, the policy engine).

- ``samples()`` windows a batch at once, in the caller's thread, under the hub's lock (about
  a microsecond a sample), so a read reflects a sample as soon as ``samples()`` returns; the
  batch is then queued for the listeners.
- One dispatcher thread delivers queued batches and fault events to the listeners in arrival
  order. The queue is bounded (:data:`MAX_QUEUED` items, :data:`MAX_QUEUED_SAMPLES` samples);
  when listeners fall behind, new sample batches are not queued (windows still take them)
  and are counted in ``counters()["dropped_sample_batches"]``; fault events keep a reserve of
  :data:`FAULT_RESERVE` slots and are only dropped (counted, logged as an error) when even
  that is full. Memory never grows without bound.
- Reads of servers, ports and hosts come from their windows; reads of VNFs and NSs aggregate
  over their servers / external-CP ports as :mod:`nfvo.monitoring.metrics` says, using a
  :class:`~nfvo.monitoring.index.ResourceIndex` of the inventory refreshed every
  :data:`INDEX_REFRESH_S` seconds by its own thread.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from nfvo.errors import NfvoError
from nfvo.inventory.db import Database
from nfvo.monitoring import metrics
from nfvo.monitoring.index import ResourceIndex
from nfvo.monitoring.metrics import Aggregation, Level
from nfvo.monitoring.model import FaultEvent, Resource, ResourceKind, Sample
from nfvo.monitoring.windows import Stat, Windows, capacity_for

log = logging.getLogger(__name__)

MAX_QUEUED = 10_000  # batches and events waiting for the listeners
FAULT_RESERVE = 1_000  # of which only fault events may take the last ones
MAX_QUEUED_SAMPLES = 1_000_000  # samples in the queued batches
MAX_FUTURE_S = 300.0  # samples stamped further ahead of the hub's clock are refused
INDEX_REFRESH_S = 5.0
EVICT_EVERY_S = 30.0
MAX_WINDOW_S = 7 * 24 * 3600.0

# listener failures that are not bugs: logged as a warning line, without a traceback
EXPECTED_LISTENER_ERRORS: tuple[type[BaseException], ...] = (NfvoError, OSError, TimeoutError)

_AGGREGATED = frozenset({ResourceKind.VNF, ResourceKind.NS})
_LEVEL = {k.value: Level(k.value) for k in ResourceKind if k.value in Level._value2member_map_}
_SERVER_METRICS = frozenset(metrics.for_level(Level.SERVER))
_KNOWN = {
    n: metrics.canonical(n) for n in (*(m.name for m in metrics.METRICS), *metrics.ifa027_names())
} | {s.name: s.canonical for s in metrics.SOURCE_NAMES}


class Monitor:
    """The one place samples and fault events enter nfvo and are read from (a ``Sink``).

    Exists so that sources know nothing of consumers and consumers nothing of sources: both
    meet here, with bounded memory, thread-safe reads and ordered delivery."""

    def __init__(
        self,
        db: Database | None = None,
        *,
        window_s: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not (0 < window_s <= MAX_WINDOW_S):
            raise ValueError(f"window_s must be in (0, {MAX_WINDOW_S:g}] s")
        self.window_s = float(window_s)
        self.idle_s = max(600.0, 10 * self.window_s)  # a silent series is evicted after this
        self._clock = clock
        self._lock = threading.Lock()
        self._windows = Windows(capacity_for(self.window_s), max_lag_s=self.window_s)
        self.index = ResourceIndex(db)
        self._cond = threading.Condition()
        self._queue: deque[tuple[str, Any]] = deque()
        self._queued_samples = 0
        self._inflight = 0  # queued or being delivered
        self._sample_listeners: list[Callable[[list[Sample]], None]] = []
        self._fault_listeners: list[Callable[[FaultEvent], None]] = []
        self._listener_errors: dict[int, str] = {}
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._overflowing = False
        self._unknown_logged: set[str] = set()
        self._counts: dict[str, int] = dict.fromkeys(
            (
                "samples",
                "dropped_unknown_metric",
                "dropped_future",
                "dropped_sample_batches",
                "dropped_samples",
                "dropped_faults",
                "faults",
                "listener_errors",
                "evicted_series",
                "index_errors",
            ),
            0,
        )

    # ------------------------------------------------------------------ life

    def start(self) -> None:
        """Start the dispatcher and the index refresh threads (idempotent)."""
        if any(t.is_alive() for t in self._threads):
            return
        self._stopping.clear()
        self._threads = [
            threading.Thread(target=self._dispatch, name="monitor-dispatch", daemon=True),
            threading.Thread(target=self._refresh_loop, name="monitor-index", daemon=True),
        ]
        for t in self._threads:
            t.start()

    def stop(self) -> None:
        """Stop the threads; what is queued is delivered first (for at most 5 s)."""
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
        for t in self._threads:
            t.join(5.0)
        self._threads = []

    # ------------------------------------------------------------------ sink

    def samples(self, batch: list[Sample]) -> None:
        """Window a batch now and queue it for the listeners (never blocks on them)."""
        if not batch:
            return
        now = self._clock()
        taken: list[Sample] = []
        with self._lock:
            add = self._windows.add
            for s in batch:
                name = _KNOWN.get(s.metric)
                if name is None:
                    self._unknown(s.metric)
                    continue
                ts = s.timestamp
                if ts > now:
                    if ts > now + MAX_FUTURE_S:
                        self._counts["dropped_future"] += 1
                        continue
                    ts = now  # a little clock skew: counted as now
                if name != s.metric or ts != s.timestamp:
                    s = Sample(s.resource, name, s.value, ts)
                add((s.resource, name), ts, s.value)
                taken.append(s)
            self._counts["samples"] += len(taken)
        if taken:
            self._enqueue_samples(taken)

    def fault(self, event: FaultEvent) -> None:
        """Queue a fault event for the listeners."""
        with self._cond:
            self._counts["faults"] += 1
            if len(self._queue) >= MAX_QUEUED:
                self._counts["dropped_faults"] += 1
                log.error(
                    "monitoring: fault %s on %s dropped: the queue is full",
                    event.kind,
                    event.resource.key,
                )
                return
            self._queue.append(("f", event))
            self._inflight += 1
            self._cond.notify()

    def _enqueue_samples(self, batch: list[Sample]) -> None:
        with self._cond:
            full = (
                len(self._queue) >= MAX_QUEUED - FAULT_RESERVE
                or self._queued_samples + len(batch) > MAX_QUEUED_SAMPLES
            )
            if full:
                self._counts["dropped_sample_batches"] += 1
                self._counts["dropped_samples"] += len(batch)
                if not self._overflowing:
                    self._overflowing = True
                    log.warning(
                        "monitoring: listeners fall behind; sample batches are not "
                        "delivered to them until the queue drains (windows keep them)"
                    )
                return
            if self._overflowing and len(self._queue) < (MAX_QUEUED - FAULT_RESERVE) // 2:
                self._overflowing = False
                log.info("monitoring: listeners caught up")
            self._queue.append(("s", batch))
            self._queued_samples += len(batch)
            self._inflight += 1
            self._cond.notify()

    def _unknown(self, name: str) -> None:
        self._counts["dropped_unknown_metric"] += 1
        if name not in self._unknown_logged and len(self._unknown_logged) < 100:
            self._unknown_logged.add(name)
            log.warning("monitoring: samples of unknown metric %r dropped", name[:200])

    # ------------------------------------------------------------------ listeners

    def on_samples(self, fn: Callable[[list[Sample]], None]) -> None:
        """Call ``fn`` with every batch of samples, on the dispatcher thread, in order."""
        with self._cond:
            self._sample_listeners = [*self._sample_listeners, fn]

    def on_fault(self, fn: Callable[[FaultEvent], None]) -> None:
        """Call ``fn`` with every fault event, on the dispatcher thread, in order."""
        with self._cond:
            self._fault_listeners = [*self._fault_listeners, fn]

    def _dispatch(self) -> None:
        next_evict = time.monotonic() + EVICT_EVERY_S
        while True:
            with self._cond:
                while not self._queue and not self._stopping.is_set():
                    self._cond.wait(EVICT_EVERY_S)
                    if time.monotonic() >= next_evict:
                        break
                if not self._queue and self._stopping.is_set():
                    return
                items = list(self._queue)
                self._queue.clear()
            for kind, item in items:
                self._deliver(kind, item)
            with self._cond:
                self._queued_samples -= sum(len(i) for k, i in items if k == "s")
                self._inflight -= len(items)
                self._cond.notify_all()
            if time.monotonic() >= next_evict:
                next_evict = time.monotonic() + EVICT_EVERY_S
                self.evict_idle()

    def _deliver(self, kind: str, item: Any) -> None:
        listeners: Sequence[Callable[[Any], None]] = (
            self._sample_listeners if kind == "s" else self._fault_listeners
        )
        for fn in listeners:
            try:
                fn(item)
            except Exception as e:  # noqa: BLE001 - one listener must not stop the others
                self._listener_failed(fn, e)

    def _listener_failed(self, fn: Callable[..., None], e: Exception) -> None:
        self._counts["listener_errors"] += 1
        text = f"{type(e).__name__}: {e}"
        if self._listener_errors.get(id(fn)) == text:
            return  # logged once per change of its error, not per batch
        self._listener_errors[id(fn)] = text
        name = getattr(fn, "__qualname__", repr(fn))
        if isinstance(e, EXPECTED_LISTENER_ERRORS):
            log.warning("monitoring listener %s failed: %s", name, text)
        else:
            log.error("monitoring listener %s failed", name, exc_info=e)

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until every queued batch and event has been delivered (for tests)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._inflight:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    # ------------------------------------------------------------------ housekeeping

    def _refresh_loop(self) -> None:
        while not self._stopping.is_set():
            self.refresh_index()
            self._stopping.wait(INDEX_REFRESH_S)

    def refresh_index(self) -> bool:
        """Re-read the inventory index now; False (logged once per change) on failure."""
        try:
            self.index.refresh()
        except Exception as e:  # noqa: BLE001 - a failing refresh keeps the last index
            self._counts["index_errors"] += 1
            text = f"{type(e).__name__}: {e}"
            if text != self.index.last_error:
                log.warning("monitoring: inventory index not refreshed: %s", text[:500])
            self.index.last_error = text
            return False
        self.index.last_error = None
        return True

    def evict_idle(self) -> int:
        """Drop the windows of series silent for ``idle_s`` (their resource is gone)."""
        cutoff = self._clock() - self.idle_s
        with self._lock:
            n = self._windows.evict_idle(cutoff)
            self._counts["evicted_series"] += n
        return n

    def counters(self) -> dict[str, int]:
        """Ingest and delivery counters (for the admin API and logs)."""
        with self._lock:
            out = dict(self._counts)
            out["series"] = len(self._windows)
            out["late_dropped"] = self._windows.late_dropped
            out["series_refused"] = self._windows.series_refused
        with self._cond:
            out["queued"] = len(self._queue)
        return out

    # ------------------------------------------------------------------ reads

    def stat(self, resource: Resource, metric: str, since: float, until: float) -> Stat:
        """Statistics of ``metric`` of ``resource`` over ``[since, until]`` (epoch s).
        ``KeyError`` for an unknown metric, ``ValueError`` for one that is not of the
        resource's kind."""
        row = metrics.metric(metric)
        level = _LEVEL.get(resource.kind.value)
        if level is None or level not in row.levels:
            raise ValueError(f"metric {metric!r} is not a metric of a {resource.kind.value}")
        if not (math.isfinite(since) and math.isfinite(until)):
            raise ValueError("since and until must be finite")
        if resource.kind in _AGGREGATED:
            return self._aggregate(resource, row, since, until)
        with self._lock:
            return self._windows.stat((resource, row.name), since, until)

    def current(self, resource: Resource, metric: str, window_s: float | None = None) -> Stat:
        """Statistics of the last ``window_s`` (default: the hub's window) up to now."""
        w = self.window_s if window_s is None else float(window_s)
        if not (0 < w <= MAX_WINDOW_S):
            raise ValueError(f"window_s must be in (0, {MAX_WINDOW_S:g}] s")
        now = float(self._clock())
        return self.stat(resource, metric, now - w, now)

    def metrics_of(self, resource: Resource, window_s: float | None = None) -> dict[str, Stat]:
        """The current statistics of every metric of the resource's kind (no-data included);
        empty for kinds without metrics (zones, VIMs, networks)."""
        level = _LEVEL.get(resource.kind.value)
        if level is None:
            return {}
        return {name: self.current(resource, name, window_s) for name in metrics.for_level(level)}

    def _aggregate(
        self, resource: Resource, row: metrics.Metric, since: float, until: float
    ) -> Stat:
        members = self.index.of(resource)
        base = row.of or row.name
        parts = members.servers if base in _SERVER_METRICS else members.ext_ports
        with self._lock:
            stats = [self._windows.stat((r, base), since, until) for r in parts]
        return combine(row.aggregation, [s for s in stats if s.count], since, until)


def combine(how: Aggregation, stats: list[Stat], since: float, until: float) -> Stat:
    """One VNF/NS statistic from its parts' statistics (all with data)."""
    if not stats:
        return Stat.empty(since, until)
    means = [s.mean for s in stats if s.mean is not None]
    peaks = [s.peak for s in stats if s.peak is not None]
    lows = [s.low for s in stats if s.low is not None]
    lasts = [s.last for s in stats if s.last is not None]
    if how is Aggregation.SUM:
        mean, peak, low, last = sum(means), sum(peaks), sum(lows), sum(lasts)
    elif how is Aggregation.PEAK:
        mean, peak, low, last = max(means), max(peaks), min(lows), max(lasts)
    else:
        mean, peak, low = sum(means) / len(means), max(peaks), min(lows)
        last = sum(lasts) / len(lasts)
    return Stat(
        count=sum(s.count for s in stats),
        mean=mean,
        peak=peak,
        low=low,
        last=last,
        last_at=max(s.last_at for s in stats if s.last_at is not None),
        since=since,
        until=until,
    )
