"""Brute-force protection of ``POST /oauth2/token``: failed attempts limited per client id and
per source address, and password hashing on a small pool of its own threads."""

from __future__ import annotations

import asyncio
import ipaddress
import math
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class FailureLimiter:
    """A bucket of ``per_minute`` attempts per key, refilled continuously; a failure takes one
    attempt out and a key with an empty bucket is refused until one is back.

    At most ``max_keys`` keys are remembered (least recently failed go first), so the state
    stays bounded whatever an attacker sends; a full bucket carries no state and is dropped."""

    def __init__(
        self,
        per_minute: int,
        *,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.capacity = float(max(per_minute, 1))
        self.rate = self.capacity / 60.0  # attempts regained per second
        self.max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (left, at)
        self._lock = threading.Lock()

    def _left(self, key: str, now: float) -> float:
        entry = self._buckets.get(key)
        if entry is None:
            return self.capacity
        left, at = entry
        return min(self.capacity, left + (now - at) * self.rate)

    def retry_after(self, key: str) -> float:
        """0 when ``key`` may try now, else the seconds until it may."""
        with self._lock:
            left = self._left(key, self._clock())
        return 0.0 if left >= 1.0 else (1.0 - left) / self.rate

    def failed(self, key: str) -> None:
        """Count one failed attempt of ``key``."""
        with self._lock:
            now = self._clock()
            self._buckets[key] = (max(self._left(key, now) - 1.0, 0.0), now)
            self._buckets.move_to_end(key)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)

    def refund(self, key: str) -> None:
        """Give back one attempt taken by :meth:`failed` (it turned out not to fail)."""
        with self._lock:
            if key in self._buckets:
                now = self._clock()
                self._buckets[key] = (min(self._left(key, now) + 1.0, self.capacity), now)

    def reset(self, key: str) -> None:
        """Forget the failures of ``key``."""
        with self._lock:
            self._buckets.pop(key, None)

    def __len__(self) -> int:
        return len(self._buckets)


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """Addresses or CIDR blocks (``10.0.0.1``, ``10.0.0.0/8``); ValueError names a bad one."""
    out = []
    for raw in values:
        value = raw.strip()
        if not value:
            continue
        try:
            out.append(ipaddress.ip_network(value, strict=False))
        except ValueError:
            raise ValueError(f"not an IP address or network: {value!r}") from None
    return tuple(out)


def _ip(value: str) -> Address | None:
    try:
        return ipaddress.ip_address(value.strip().strip("[]"))
    except ValueError:
        return None


def _trusted(addr: Address, nets: tuple[Network, ...]) -> bool:
    return any(addr.version == n.version and addr in n for n in nets)


def source_address(
    peer: str | None, forwarded_for: str | None, trusted: tuple[Network, ...]
) -> str:
    """The address a request comes from: the TCP peer, unless the peer is a trusted proxy; then
    the nearest address of ``X-Forwarded-For`` (read from the right) that is not a trusted
    proxy itself. IPv6 addresses count per /64, the block one host usually holds."""
    addr = _ip(peer or "")
    if addr is None:
        return peer or "unknown"
    if forwarded_for and _trusted(addr, trusted):
        for hop in reversed(forwarded_for.split(",")):
            hop_addr = _ip(hop)
            if hop_addr is None:
                break  # a garbled entry: do not trust anything left of it
            addr = hop_addr
            if not _trusted(hop_addr, trusted):
                break
    if addr.version == 6:
        return str(ipaddress.ip_network(f"{addr}/64", strict=False))
    return str(addr)


def _key(client_id: str) -> str:
    """The limiter key of a client id: no id is longer than 128 characters, so a longer one
    keeps only what tells it apart from real ones (the state stays small per key)."""
    return client_id[:129]


class AuthenticationBusy(Exception):
    """Too many secret checks are waiting already; the caller should come back shortly."""


class LoginGuard:
    """What stands in front of the secret check of the token endpoint.

    It exists so that a flood of wrong secrets costs the server little: a client id or an
    address that failed too often is refused at once (HTTP 429 with ``Retry-After``) without
    hashing, and the hashing that does happen runs on ``workers`` threads of its own (by
    default half the cores, 1 to 4) with at most ``max_pending`` checks queued, so it can
    neither block the event loop nor take the threads or all the cores other requests need."""

    def __init__(
        self,
        *,
        per_client: int = 10,
        per_address: int = 30,
        trusted_proxies: Iterable[str] = (),
        workers: int | None = None,
        max_pending: int = 32,
    ) -> None:
        self.clients = FailureLimiter(per_client)
        self.addresses = FailureLimiter(per_address)
        self.trusted = parse_networks(trusted_proxies)
        self.max_pending = max_pending
        # half the cores at most (one on a 2-core machine): a flood of hashes leaves the rest
        workers = workers or max(1, min(4, (os.cpu_count() or 2) // 2))
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="nfvo-auth")
        self._pending = 0

    def address(self, peer: str | None, forwarded_for: str | None) -> str:
        """The source address to count failures against (see :func:`source_address`)."""
        return source_address(peer, forwarded_for, self.trusted)

    def retry_after(self, client_id: str, address: str) -> int:
        """Whole seconds to wait before this client id may try from this address (0: now)."""
        wait = max(self.clients.retry_after(_key(client_id)), self.addresses.retry_after(address))
        return math.ceil(wait) if wait > 0 else 0

    def attempt(self, client_id: str, address: str) -> None:
        """Count an attempt as failed against both *before* its secret is checked, so that
        attempts in flight at the same time cannot overshoot the limit."""
        self.clients.failed(_key(client_id))
        self.addresses.failed(address)

    def refund(self, client_id: str, address: str) -> None:
        """The attempt was not checked after all (too busy): neither is charged for it."""
        self.clients.refund(_key(client_id))
        self.addresses.refund(address)

    def succeeded(self, client_id: str, address: str) -> None:
        """The attempt had the right secret: its client id's failures are cleared and the
        address gets its attempt back (its other failures stand)."""
        self.clients.reset(_key(client_id))
        self.addresses.refund(address)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on the guard's threads; AuthenticationBusy when too many are queued."""
        if self._pending >= self.max_pending:
            raise AuthenticationBusy()
        self._pending += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)
        finally:
            self._pending -= 1

    def close(self) -> None:
        """Stop the hashing threads (queued checks still run)."""
        self._pool.shutdown(wait=False)
