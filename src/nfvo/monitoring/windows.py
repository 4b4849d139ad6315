"""Per (resource, metric) ring buffers of recent samples, and statistics over a window.

Storage is array based so that tens of thousands of series stay small: every series is one
row of a slab of ``numpy`` arrays (timestamps and values, ``float64``, ``capacity`` slots),
allocated in blocks of :data:`BLOCK_ROWS` rows; a series costs ``16 * capacity`` bytes plus
a dictionary entry, and no Python object per sample.

Rules (documented in docs/monitoring.md):

- A ring keeps the newest ``capacity`` samples in arrival order; a read filters by sample
  timestamp, so samples arriving slightly out of order are counted where they belong.
- A sample whose timestamp equals the series' newest one replaces that value (a re-sent
  sample is not counted twice).
- A sample older than the series' newest by more than ``max_lag_s`` is dropped and counted
  (``Windows.late_dropped``): the ring would otherwise overwrite newer data with stale data.
- A window with no sample in it is "no data": ``Stat.count == 0`` and every figure is
  ``None``, never ``0.0``. A source that stops sending turns to no data once its last sample
  has left the window.
- A series that received nothing for ``idle_s`` (its resource is gone) is evicted by
  :meth:`Windows.evict_idle`; its row is reused.
- At most ``max_series`` series exist; samples of a new series beyond it are dropped and
  counted (``Windows.series_refused``): memory stays bounded whatever sources send.

:class:`Windows` is not thread-safe by itself; the hub serialises access with its lock.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

import numpy as np

BLOCK_ROWS = 1024  # series per allocated slab block
DEFAULT_CAPACITY = 96  # slots per series: 60 s at 1 sample/s plus half again
DEFAULT_MAX_SERIES = 500_000  # 96 slots -> 16 * 96 B = 1.5 KiB per series at most


@dataclass(frozen=True)
class Stat:
    """Statistics of one metric of one resource over ``[since, until]``.

    ``count == 0`` means no data: mean, peak, low, last and last_at are then ``None`` (never
    0.0), so a silent source is never read as zero load."""

    count: int
    mean: float | None
    peak: float | None
    low: float | None
    last: float | None
    last_at: float | None
    since: float
    until: float

    @property
    def no_data(self) -> bool:
        """Whether the window holds no sample."""
        return self.count == 0

    @classmethod
    def empty(cls, since: float, until: float) -> Stat:
        """The "no data" statistic of a window."""
        return cls(0, None, None, None, None, None, since, until)


def capacity_for(window_s: float, rate_hz: float = 1.0) -> int:
    """Slots a ring needs to hold ``window_s`` of samples at ``rate_hz`` with 50 % slack."""
    return max(16, math.ceil(window_s * rate_hz * 1.5))


class Windows:
    """Ring buffers of (timestamp, value) per series key, with window statistics.

    Exists so that the hub keeps a bounded, compact recent history of every metric of every
    resource without one Python object per sample."""

    def __init__(
        self,
        capacity: int = DEFAULT_CAPACITY,
        *,
        max_lag_s: float = 60.0,
        max_series: int = DEFAULT_MAX_SERIES,
    ) -> None:
        if capacity < 2:
            raise ValueError("a ring needs at least 2 slots")
        self.capacity = capacity
        self.max_lag_s = max_lag_s
        self.max_series = max_series
        self._rows: dict[Hashable, int] = {}
        self._free: list[int] = []
        self._ts: list[np.ndarray] = []  # blocks of (BLOCK_ROWS, capacity) timestamps
        self._val: list[np.ndarray] = []  # blocks of (BLOCK_ROWS, capacity) values
        self._pos: list[np.ndarray] = []  # next slot per row
        self._n: list[np.ndarray] = []  # filled slots per row
        self._newest: list[np.ndarray] = []  # newest timestamp per row (-inf: empty)
        self._allocated = 0
        self.late_dropped = 0
        self.series_refused = 0

    # ---------------------------------------------------------------- writes

    def add(self, key: Hashable, timestamp: float, value: float) -> bool:
        """Record one sample; False when it was dropped (too late, or no room for a new
        series, or not a finite number)."""
        row = self._rows.get(key)
        if row is None:
            row = self._new_row(key)
            if row is None:
                self.series_refused += 1
                return False
        if not (math.isfinite(value) and math.isfinite(timestamp)):
            return False
        b, r = divmod(row, BLOCK_ROWS)
        newest_arr = self._newest[b]
        newest = float(newest_arr[r])
        pos_arr = self._pos[b]
        pos = int(pos_arr[r])
        prev = (pos - 1) % self.capacity
        if timestamp == newest and self._ts[b][r, prev] == timestamp:
            self._val[b][r, prev] = value  # a re-sent sample replaces the newest value
            return True
        if timestamp < newest - self.max_lag_s:
            self.late_dropped += 1
            return False
        self._ts[b][r, pos] = timestamp
        self._val[b][r, pos] = value
        pos_arr[r] = (pos + 1) % self.capacity
        n_arr = self._n[b]
        if n_arr[r] < self.capacity:
            n_arr[r] += 1
        if timestamp > newest:
            newest_arr[r] = timestamp
        return True

    def _new_row(self, key: Hashable) -> int | None:
        if self._free:
            row = self._free.pop()
        elif len(self._rows) >= self.max_series:
            return None
        else:
            if self._allocated % BLOCK_ROWS == 0:
                self._grow()
            row = self._allocated
            self._allocated += 1
        self._rows[key] = row
        return row

    def _grow(self) -> None:
        cap = self.capacity
        self._ts.append(np.zeros((BLOCK_ROWS, cap), dtype=np.float64))
        self._val.append(np.zeros((BLOCK_ROWS, cap), dtype=np.float64))
        self._pos.append(np.zeros(BLOCK_ROWS, dtype=np.int32))
        self._n.append(np.zeros(BLOCK_ROWS, dtype=np.int32))
        self._newest.append(np.full(BLOCK_ROWS, -np.inf, dtype=np.float64))

    def _release(self, key: Hashable) -> None:
        row = self._rows.pop(key)
        b, r = divmod(row, BLOCK_ROWS)
        self._pos[b][r] = 0
        self._n[b][r] = 0
        self._newest[b][r] = -np.inf
        self._free.append(row)

    def evict_idle(self, older_than: float) -> int:
        """Drop every series whose newest sample is older than ``older_than`` (epoch s);
        returns how many were dropped."""
        gone = [k for k, row in self._rows.items() if self._newest_of(row) < older_than]
        for k in gone:
            self._release(k)
        return len(gone)

    def forget(self, keys: Iterable[Hashable]) -> None:
        """Drop the given series (unknown keys are ignored)."""
        for k in keys:
            if k in self._rows:
                self._release(k)

    # ---------------------------------------------------------------- reads

    def _newest_of(self, row: int) -> float:
        b, r = divmod(row, BLOCK_ROWS)
        return float(self._newest[b][r])

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._rows

    def keys(self) -> list[Hashable]:
        """The series keys held now."""
        return list(self._rows)

    def newest(self, key: Hashable) -> float | None:
        """Timestamp of the series' newest sample (None: no such series)."""
        row = self._rows.get(key)
        return None if row is None else self._newest_of(row)

    def stat(self, key: Hashable, since: float, until: float) -> Stat:
        """Statistics of the samples of ``key`` with ``since <= timestamp <= until``."""
        row = self._rows.get(key)
        if row is None:
            return Stat.empty(since, until)
        b, r = divmod(row, BLOCK_ROWS)
        n = int(self._n[b][r])
        if n == 0:
            return Stat.empty(since, until)
        ts = self._ts[b][r, :n] if n < self.capacity else self._ts[b][r]
        vals = self._val[b][r, :n] if n < self.capacity else self._val[b][r]
        mask = (ts >= since) & (ts <= until)
        count = int(np.count_nonzero(mask))
        if count == 0:
            return Stat.empty(since, until)
        t_in = ts[mask]
        v_in = vals[mask]
        i_last = int(np.argmax(t_in))  # the latest timestamp (first of equal ones)
        return Stat(
            count=count,
            mean=float(v_in.mean()),
            peak=float(v_in.max()),
            low=float(v_in.min()),
            last=float(v_in[i_last]),
            last_at=float(t_in[i_last]),
            since=since,
            until=until,
        )

    def nbytes(self) -> int:
        """Bytes held by the sample slabs (not counting the key dictionary)."""
        arrays = [*self._ts, *self._val, *self._pos, *self._n, *self._newest]
        return sum(int(a.nbytes) for a in arrays)
