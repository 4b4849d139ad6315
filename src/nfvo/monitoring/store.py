"""Keeps monitoring samples for a bounded time: 10 s aggregates in the inventory.

The hub calls :meth:`SampleStore.add` (a sample listener) with every batch; the store folds
the samples into per (resource, metric, 10 s bucket) aggregates in memory (count, sum, peak,
low, last) and a background thread writes what accumulated every ``flush_s`` in one
statement, so 10,000 samples/s become at most one row per resource and metric per bucket,
written in batches, not 10,000 inserts/s. The same thread deletes rows older than the
retention in bounded batches.

Memory is bounded: at most ``max_pending`` aggregates wait for a flush; samples arriving
beyond that are dropped and counted (logged once per flush that dropped any).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

from nfvo.inventory.db import Database
from nfvo.inventory.samples_repo import Bucket, SampleRepository
from nfvo.monitoring.model import Sample

log = logging.getLogger(__name__)

BUCKET_S = 10
DEFAULT_FLUSH_S = 5.0
DEFAULT_PRUNE_S = 60.0
MAX_PENDING = 200_000  # aggregates waiting for a flush (~100 bytes each)
WRITE_BATCH = 5_000  # rows per INSERT statement
DELETE_BATCH = 5_000  # rows per DELETE statement
MAX_DELETE_ROUNDS = 100  # per prune pass: the rest waits for the next pass

_Key = tuple[str, str, int]  # resource key, metric, bucket start


class SampleStore:
    """Aggregates samples per 10 s bucket and writes them in batches; deletes old rows.

    It exists so that samples outlive the hub's in-memory windows (PM reports, history)
    without turning each sample into a database write. ``clock`` decides what is old.
    """

    def __init__(
        self,
        db: Database,
        *,
        retention_s: float,
        flush_s: float = DEFAULT_FLUSH_S,
        prune_s: float = DEFAULT_PRUNE_S,
        max_pending: int = MAX_PENDING,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.retention_s = retention_s
        self.flush_s = flush_s
        self.prune_s = prune_s
        self.max_pending = max_pending
        self.clock = clock
        self._pending: dict[_Key, list[float]] = {}
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._dropped = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_prune = 0.0

    # -- ingest (the hub's dispatcher thread) ----------------------------------------------
    def add(self, batch: Iterable[Sample]) -> None:
        """Fold a batch of samples into the pending aggregates (cheap: no I/O)."""
        with self._lock:
            pending = self._pending
            for s in batch:
                key = (s.resource.key, s.metric, int(s.timestamp // BUCKET_S) * BUCKET_S)
                agg = pending.get(key)
                v = s.value
                if agg is None:
                    if len(pending) >= self.max_pending:
                        self._dropped += 1
                        continue
                    pending[key] = [1, v, v, v, v, s.timestamp]
                    continue
                agg[0] += 1
                agg[1] += v
                if v > agg[2]:
                    agg[2] = v
                if v < agg[3]:
                    agg[3] = v
                if s.timestamp >= agg[5]:
                    agg[4], agg[5] = v, s.timestamp

    # -- writes -------------------------------------------------------------------------------
    def flush(self) -> int:
        """Write the pending aggregates (merged into stored rows); how many rows. On a
        database error the batch is put back, to be merged at the next flush."""
        with self._flush_lock:
            with self._lock:
                taken, self._pending = self._pending, {}
                dropped, self._dropped = self._dropped, 0
            if dropped:
                log.warning("monitoring store: %d samples dropped (flush backlog full)", dropped)
            if not taken:
                return 0
            rows = [
                Bucket(k[0], k[1], k[2], int(a[0]), a[1], a[2], a[3], a[4], a[5])
                for k, a in taken.items()
            ]
            try:
                for i in range(0, len(rows), WRITE_BATCH):
                    with self.db.session() as s:
                        SampleRepository(s).merge(rows[i : i + WRITE_BATCH])
            except Exception:
                self._put_back(rows[i:])
                raise
            return len(rows)

    def _put_back(self, rows: list[Bucket]) -> None:
        with self._lock:
            for b in rows:
                key = (b.resource_key, b.metric, b.bucket_at)
                if key in self._pending or len(self._pending) < self.max_pending:
                    self._pending.setdefault(key, [0, 0.0, b.peak, b.low, b.last, b.last_at])
                    agg = self._pending[key]
                    agg[0] += b.count
                    agg[1] += b.total
                    agg[2], agg[3] = max(agg[2], b.peak), min(agg[3], b.low)
                    if b.last_at >= agg[5]:
                        agg[4], agg[5] = b.last, b.last_at

    def prune(self) -> int:
        """Delete rows whose bucket is older than the retention, in bounded batches; how
        many were deleted."""
        cutoff = int(self.clock() - self.retention_s)
        deleted = 0
        for _ in range(MAX_DELETE_ROUNDS):
            with self.db.session() as s:
                n = SampleRepository(s).delete_before(cutoff, DELETE_BATCH)
            deleted += n
            if n < DELETE_BATCH or self._stop.is_set():
                break
        return deleted

    # -- background ------------------------------------------------------------------------
    def start(self) -> None:
        """Flush every ``flush_s`` and prune every ``prune_s`` in a thread (idempotent)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="monitor-store", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.flush_s):
            self._round()

    def _round(self) -> None:
        try:
            self.flush()
        except Exception as exc:  # noqa: BLE001 - retried at the next flush
            log.warning("monitoring store: writing samples failed (retried): %s", exc)
        now = time.monotonic()
        if now >= self._next_prune:
            self._next_prune = now + self.prune_s
            try:
                self.prune()
            except Exception as exc:  # noqa: BLE001 - retried at the next prune
                log.warning("monitoring store: deleting old samples failed: %s", exc)

    def stop(self) -> None:
        """Stop the thread and write what is pending (idempotent)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        try:
            self.flush()
        except Exception as exc:  # noqa: BLE001 - a stop must not fail on a database error
            log.warning("monitoring store: final write failed: %s", exc)
