"""A small bounded, thread-safe least-recently-used map for per-process caches."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


class Lru:
    """At most ``size`` entries; the least recently used one goes first. Values are computed
    outside the lock, so a slow computation never blocks readers of other keys."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any | None:
        """The value kept for ``key`` (now the most recently used), or None."""
        with self._lock:
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key]

    def put(self, key: Hashable, value: Any) -> None:
        """Keep ``value`` for ``key``, dropping the least recently used entry when full."""
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def get_or(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The value for ``key``, computed and kept when absent."""
        value = self.get(key)
        if value is None:
            value = compute()
            self.put(key, value)
        return value
