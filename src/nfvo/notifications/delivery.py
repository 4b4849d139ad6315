"""Durable, at-least-once delivery of queued notifications to subscribers.

A background thread claims due rows of ``notification_deliveries`` (a lease: the claim pushes
``next_attempt_at`` past the time an attempt can take, so a crashed process's claims become due
again) and hands them to a small thread pool that POSTs them. Success marks the row delivered;
failure schedules a retry with exponential backoff and jitter until the row is older than the
maximum age, when it is given up with its last error recorded.
"""

from __future__ import annotations

import base64
import json
import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select, update

from nfvo.inventory.db import Database
from nfvo.inventory.models import LccnSubscriptionRow, NotificationDelivery
from nfvo.netguard import UNREACHABLE, OutboundGuard, describe, read_bounded

log = logging.getLogger(__name__)

BASIC = "BASIC"
OAUTH2 = "OAUTH2_CLIENT_CREDENTIALS"
ANSWER_LIMIT = 64 * 1024  # bytes of a token endpoint's answer read at most
# APIs whose notifications belong to a resource with its own callbackUri (nspm PM jobs and
# thresholds hold a hidden subscription row): no subscriptionId, no subscription link
SUBSCRIPTIONLESS = frozenset({"nspm"})
# the path root of each API's subscriptions (the others are under /{api}/v2)
API_ROOTS = {"nsfm": "/nsfm/v1"}


@dataclass
class DeliveryPolicy:
    """Timing of delivery attempts (small values in tests)."""

    timeout: float = 5.0
    base_delay: float = 1.0
    max_delay: float = 300.0
    max_age: float = 24 * 3600.0
    poll_interval: float = 0.5
    workers: int = 8

    def backoff(self, attempts: int) -> float:
        """Seconds before attempt ``attempts + 1``: doubling from the base, capped, jittered."""
        delay = min(self.max_delay, self.base_delay * (2 ** max(0, attempts - 1)))
        return delay * random.uniform(0.75, 1.25)

    @property
    def lease(self) -> float:
        """How long a claim holds a row: longer than a token request plus a POST."""
        return 2 * self.timeout + 10.0


class TokenEndpointError(Exception):
    """The OAuth2 token endpoint gave no token; the message (status code or a generic
    reason, never the endpoint's own words) can be shown to the subscriber."""


def _token(raw: bytes) -> tuple[str, float]:
    """(access token, lifetime in seconds) of a token response."""
    try:
        body = json.loads(raw)
        token = body["access_token"]
        ttl = float(body.get("expires_in") or 300)
    except (ValueError, TypeError, KeyError, AttributeError):
        raise TokenEndpointError("answered without a JSON access_token") from None
    if not isinstance(token, str) or not token:
        raise TokenEndpointError("answered without a JSON access_token")
    return token, ttl


def answer_status(client: httpx.Client, method: str, url: str, **kwargs: Any) -> int:
    """The status code of one request. The body is never read (a subscriber dripping one
    cannot hold a sender); a connection whose answer had one is closed, not reused."""
    with client.stream(method, url, **kwargs) as r:
        return r.status_code


class TokenCache:
    """OAuth2 client-credentials tokens per (token endpoint, client id), kept until expiry."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[tuple[str, str], tuple[str, float]] = {}
        self._fetching: dict[tuple[str, str], threading.Lock] = {}

    def get(self, client: httpx.Client, params: dict[str, Any]) -> str:
        """A valid access token, fetched from the token endpoint when none is cached."""
        key = (params["tokenEndpoint"], params["clientId"])
        with self._lock:
            fetch_lock = self._fetching.setdefault(key, threading.Lock())
        with fetch_lock:  # concurrent senders share one token request
            with self._lock:
                cached = self._tokens.get(key)
            if cached and cached[1] > time.monotonic():
                return cached[0]
            return self._fetch(client, params, key)

    def _fetch(self, client: httpx.Client, params: dict[str, Any], key: tuple[str, str]) -> str:
        try:
            with client.stream(
                "POST",
                params["tokenEndpoint"],
                data={"grant_type": "client_credentials"},
                auth=(params["clientId"], params["clientPassword"]),
            ) as r:
                if r.status_code != 200:  # its body is never copied anywhere
                    raise TokenEndpointError(f"answered HTTP {r.status_code} instead of 200")
                raw = read_bounded(r, ANSWER_LIMIT, seconds=client.timeout.read or 5.0)
        except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
            log.info("token endpoint %s failed: %s", params["tokenEndpoint"], describe(exc))
            raise TokenEndpointError(UNREACHABLE) from None
        token, ttl = _token(raw)
        with self._lock:
            self._tokens[key] = (token, time.monotonic() + max(0.0, ttl - 10))
        return token

    def forget(self, params: dict[str, Any]) -> None:
        """Drop a token the subscriber refused."""
        with self._lock:
            self._tokens.pop((params.get("tokenEndpoint", ""), params.get("clientId", "")), None)


def auth_headers(
    client: httpx.Client, tokens: TokenCache, auth_type: str | None, secrets: dict[str, Any]
) -> dict[str, str]:
    """The Authorization header a subscription asks for (none without authentication)."""
    if auth_type == BASIC:
        raw = f"{secrets['userName']}:{secrets['password']}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}
    if auth_type == OAUTH2:
        return {"Authorization": "Bearer " + tokens.get(client, secrets)}
    return {}


def _absolute(links: dict[str, Any], root: str) -> dict[str, Any]:
    out = {}
    for name, link in links.items():
        href = link.get("href", "") if isinstance(link, dict) else ""
        out[name] = {"href": root + href} if href.startswith("/") and root else link
    return out


class DeliveryWorker:
    """The per-process sender: claims due deliveries and POSTs them from a thread pool, so a
    slow or dead subscriber ties up one pool thread and never the LCM or other subscribers."""

    def __init__(
        self,
        db: Database,
        open_secrets: Callable[[str | None], dict[str, Any]],
        policy: DeliveryPolicy,
        public_url: str | None = None,
        guard: OutboundGuard | None = None,
    ) -> None:
        self.db = db
        self.policy = policy
        self.public_root = (public_url or "").rstrip("/")
        self._open_secrets = open_secrets
        self._tokens = TokenCache()
        # checked at every connect, so a callback whose name now resolves elsewhere (DNS
        # rebinding after the subscription's test) is refused here too
        self._http = (guard or OutboundGuard.from_env()).client(policy.timeout)
        self._pool: ThreadPoolExecutor | None = None
        self._inflight: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start the polling thread and the sender pool (idempotent)."""
        if self._thread and self._thread.is_alive():
            return
        self._stop.clear()
        self._pool = ThreadPoolExecutor(self.policy.workers, thread_name_prefix="notify")
        self._thread = threading.Thread(target=self._loop, name="notify-poll", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop claiming and let the attempts in flight finish (each is bounded by the HTTP
        timeout). Claimed rows not attempted stay leased until the lease ends, then any
        process sends them: delivery is at-least-once."""
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)
            self._thread = None
        if self._pool:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                pool = self._pool
                free = self.policy.workers - len(self._inflight)
                if pool is not None and free > 0:
                    for row_id in self.claim(free):
                        with self._lock:
                            self._inflight.add(row_id)
                        pool.submit(self._attempt_tracked, row_id)
            except Exception:  # noqa: BLE001 - keep polling after a database hiccup
                log.exception("notification poll failed")
            self._stop.wait(self.policy.poll_interval)

    def _attempt_tracked(self, row_id: str) -> None:
        try:
            self.attempt(row_id)
        finally:
            with self._lock:
                self._inflight.discard(row_id)

    def deliver_once(self) -> int:
        """Claim every due delivery and attempt it now, waiting for the results (tests, CLI).
        Returns the number of attempts made."""
        ids = self.claim(1000)
        if not ids:
            return 0
        with ThreadPoolExecutor(self.policy.workers) as pool:
            futures: list[Future[None]] = [pool.submit(self.attempt, i) for i in ids]
            wait(futures)
        return len(ids)

    # ------------------------------------------------------------------ claiming

    def claim(self, limit: int) -> list[str]:
        """Lease up to ``limit`` due deliveries to this process and return their ids."""
        now = datetime.now(UTC)
        lease_until = now + timedelta(seconds=self.policy.lease)
        due = (
            select(NotificationDelivery.id)
            .where(NotificationDelivery.next_attempt_at <= now)
            .order_by(NotificationDelivery.next_attempt_at)
            .limit(limit)
        )
        with self.db.session() as s:
            if not self.db.is_sqlite:
                ids = list(s.scalars(due.with_for_update(skip_locked=True)))
                if ids:
                    s.execute(
                        update(NotificationDelivery)
                        .where(NotificationDelivery.id.in_(ids))
                        .values(next_attempt_at=lease_until)
                    )
                return ids
            claimed = []
            for row_id in list(s.scalars(due)):
                # compare-and-set: a row another process leased meanwhile is no longer due
                result = s.execute(
                    update(NotificationDelivery)
                    .where(NotificationDelivery.id == row_id)
                    .where(NotificationDelivery.next_attempt_at <= now)
                    .values(next_attempt_at=lease_until)
                )
                if result.rowcount == 1:  # type: ignore[attr-defined]
                    claimed.append(row_id)
            return claimed

    # ------------------------------------------------------------------ sending

    def attempt(self, row_id: str) -> bool:
        """POST one claimed delivery and record the outcome. True when delivered."""
        with self.db.session() as s:
            row = s.get(NotificationDelivery, row_id)
            sub = s.get(LccnSubscriptionRow, row.subscription_id) if row else None
            if row is None or sub is None:
                return False  # the subscription (and its deliveries) was deleted
            body = dict(row.notification)
            created = row.created_at
            callback, auth_type, sealed = sub.callback_uri, sub.auth_type, sub.secrets
            api = sub.api or "nslcm"
        links = dict(body.get("_links") or {})
        if api not in SUBSCRIPTIONLESS:
            body["subscriptionId"] = sub.id
            root = API_ROOTS.get(api, f"/{api}/v2")
            links["subscription"] = {"href": f"{root}/subscriptions/{sub.id}"}
        body["_links"] = _absolute(links, self.public_root)
        alarm = body.get("alarm")
        if isinstance(alarm, dict) and isinstance(alarm.get("_links"), dict):
            # AlarmNotification carries the alarm with its own links
            body["alarm"] = {**alarm, "_links": _absolute(alarm["_links"], self.public_root)}
        error = self._post(callback, auth_type, sealed, body)
        self._record(row_id, created, error)
        return error is None

    def _post(
        self, callback: str, auth_type: str | None, sealed: str | None, body: dict[str, Any]
    ) -> str | None:
        """None on success, else a short description of what went wrong."""
        secrets: dict[str, Any] = {}
        try:
            secrets = self._open_secrets(sealed)
            headers = auth_headers(self._http, self._tokens, auth_type, secrets)
        except TokenEndpointError as exc:
            return f"tokenEndpoint {exc}"
        except Exception as exc:  # noqa: BLE001 - e.g. secrets the vault cannot open
            return f"authentication failed ({describe(exc)})"
        headers["Content-Type"] = "application/json"
        headers["Accept"] = "application/json"
        try:
            status = answer_status(self._http, "POST", callback, json=body, headers=headers)
        except httpx.TimeoutException:
            return f"no answer from the callbackUri within {self.policy.timeout} s"
        except Exception as exc:  # noqa: BLE001 - any failure is a failed attempt
            return f"callbackUri could not be reached ({describe(exc)})"
        if 200 <= status < 300:
            return None
        if status == 401 and auth_type == OAUTH2:
            self._tokens.forget(secrets)
        return f"callbackUri answered HTTP {status}"

    def _record(self, row_id: str, created: datetime, error: str | None) -> None:
        now = datetime.now(UTC)
        with self.db.session() as s:
            row = s.get(NotificationDelivery, row_id)
            if row is None:
                return
            row.attempts += 1
            if error is None:
                row.delivered_at, row.next_attempt_at, row.last_error = now, None, None
                return
            row.last_error = error
            created = created if created.tzinfo else created.replace(tzinfo=UTC)
            retry_at = now + timedelta(seconds=self.policy.backoff(row.attempts))
            if (retry_at - created).total_seconds() > self.policy.max_age:
                row.next_attempt_at = None
                row.last_error = f"gave up after {row.attempts} attempts: {error}"
                log.warning("notification %s given up: %s", row_id, error)
            else:
                row.next_attempt_at = retry_at

    def close(self) -> None:
        """Stop and release the HTTP connection pool."""
        self.stop()
        self._http.close()
