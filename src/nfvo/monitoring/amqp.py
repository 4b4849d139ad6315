"""Consumer of a VIM's OpenStack notifications over AMQP (RabbitMQ), and the manager that runs
one per opted-in VIM account.

Delivery guarantee: a message is acknowledged only after its effect on the inventory was
committed, so an acknowledged event is never lost and a crash before the ack makes the broker
redeliver it (effects are idempotent, see ``nfvo.monitoring.events``). The queue is durable, so
notifications sent while nfvo is down or reconnecting wait for it. Malformed or irrelevant
messages are acknowledged and dropped.

Declarations match oslo.messaging's rabbit driver: the control exchange (``nova``) is a
``topic`` exchange with ``durable`` = ``amqp_durable_queues`` (default false) and
``auto_delete`` false. Because a deployment may have changed that option and a mismatched
declaration is refused by the broker, an existing exchange is only checked (passively) and
declared by us only when it does not exist yet.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import kombu
from amqp import exceptions as amqp_exc

from nfvo.inventory.db import Database
from nfvo.inventory.models import VimAccount
from nfvo.inventory.resources_repo import VimRepository
from nfvo.monitoring import events, nova
from nfvo.monitoring.model import Sink
from nfvo.resources.vault import Vault, join_secrets

log = logging.getLogger(__name__)

DEFAULT_TOPICS = (
    "versioned_notifications.info",
    "versioned_notifications.error",
    "notifications.info",
    "notifications.error",
)
DEFAULT_QUEUE_ARGUMENTS: dict[str, Any] = {"x-max-length": 100_000}  # bounded while nfvo is away


class NovaNotificationConsumer:
    """Consumes one VIM's Nova notifications in a background thread and applies them.

    It exists so that nfvo learns within a second that a server was deleted or failed, or a
    compute host went down, instead of at the next inventory sync; it survives broker
    restarts by reconnecting with exponential backoff.
    """

    def __init__(
        self,
        amqp_url: str,
        vim_id: str,
        db: Database,
        exchange: str = "nova",
        topics: Sequence[str] = DEFAULT_TOPICS,
        queue_name: str | None = None,
        *,
        exchange_durable: bool = False,
        queue_arguments: dict[str, Any] | None = None,
        min_backoff: float = 0.2,
        max_backoff: float = 10.0,
        heartbeat: int = 10,
        sink: Sink | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.amqp_url = amqp_url
        self.sink = sink  # gets each applied event as a FaultEvent (the monitoring hub)
        self.clock = clock
        self.vim_id = vim_id
        self.db = db
        self.exchange = exchange
        self.topics = tuple(topics)
        self.queue_name = queue_name or f"nfvo-{vim_id}"
        self.exchange_durable = exchange_durable
        self.queue_arguments = (
            DEFAULT_QUEUE_ARGUMENTS if queue_arguments is None else dict(queue_arguments)
        )
        self.min_backoff = min_backoff
        self.max_backoff = max_backoff
        self.heartbeat = heartbeat
        self.processed = 0  # messages acknowledged (applied or dropped)
        self.dropped = 0  # of which malformed or irrelevant
        self.connections = 0  # successful (re)connections
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._busy = False
        self._last_activity = time.monotonic()
        self._lock = threading.Lock()

    # -- life cycle ----------------------------------------------------------------------
    def start(self) -> None:
        """Start consuming in a daemon thread (returns at once; see ``connected``)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, name=f"nova-notifications-{self.vim_id}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop consuming; unacknowledged messages go back to the queue."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._thread = None
        self.connected.clear()

    @property
    def alive(self) -> bool:
        """Whether the consumer thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def wait_connected(self, timeout: float = 10.0) -> bool:
        """Wait until the queue is declared, bound and consumed."""
        return self.connected.wait(timeout)

    def wait_processed(self, count: int, timeout: float = 10.0) -> bool:
        """Wait until ``processed`` reaches ``count``."""
        deadline = time.monotonic() + timeout
        while self.processed < count:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def wait_idle(self, timeout: float = 10.0, quiet: float = 0.2) -> bool:
        """Wait until connected, nothing is being handled or waiting in the queue, and no
        message arrived for ``quiet`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if (
                self.connected.is_set()
                and not self._busy
                and time.monotonic() - self._last_activity >= quiet
                and self.queue_depth() == 0
            ):
                return True
            time.sleep(0.05)
        return False

    def queue_depth(self) -> int | None:
        """Messages ready in the queue, from the broker (``None`` when it cannot be asked)."""
        try:
            with kombu.Connection(self.amqp_url, connect_timeout=2) as conn:
                _, count, _ = conn.default_channel.queue_declare(self.queue_name, passive=True)
                return int(count)
        except Exception:  # broker away or queue not declared yet
            return None

    # -- consuming -----------------------------------------------------------------------
    def _run(self) -> None:
        backoff = self.min_backoff
        while not self._stop.is_set():
            before = self.connections
            try:
                self._consume()
            except Exception as exc:  # never let the thread die: log, back off, reconnect
                self.connected.clear()
                if self._stop.is_set():
                    break
                if self.connections > before:  # it was connected: start the backoff over
                    backoff = self.min_backoff
                log.warning(
                    "VIM %s notifications: %s; reconnecting in %.1f s",
                    self.vim_id,
                    exc or type(exc).__name__,
                    backoff,
                )
                self._stop.wait(backoff)
                backoff = min(backoff * 2, self.max_backoff)
        self.connected.clear()

    def _consume(self) -> None:
        with kombu.Connection(self.amqp_url, heartbeat=self.heartbeat, connect_timeout=5) as conn:
            conn.connect()
            channel = self._declare(conn)
            consumer = kombu.Consumer(
                channel,
                queues=[self._queue()],
                on_message=self._on_message,
                auto_declare=False,
                prefetch_count=20,
            )
            with consumer:
                self.connections += 1
                self.connected.set()
                log.info("VIM %s: consuming %s", self.vim_id, self.queue_name)
                while not self._stop.is_set():
                    try:
                        conn.drain_events(timeout=0.5)
                    except TimeoutError:
                        conn.heartbeat_check()
        self.connected.clear()

    def _exchange(self, *, no_declare: bool = False) -> kombu.Exchange:
        return kombu.Exchange(
            self.exchange,
            type="topic",
            durable=self.exchange_durable,
            auto_delete=False,
            no_declare=no_declare,
        )

    def _queue(self) -> kombu.Queue:
        ex = self._exchange(no_declare=True)
        return kombu.Queue(
            self.queue_name,
            bindings=[kombu.binding(ex, routing_key=t) for t in self.topics],
            durable=True,
            auto_delete=False,
            queue_arguments=self.queue_arguments or None,
        )

    def _declare(self, conn: kombu.Connection) -> Any:
        """Ensure the exchange (checking an existing one as it is), then the bound queue."""
        channel = conn.channel()
        try:
            self._exchange().declare(passive=True, channel=channel)
        except amqp_exc.NotFound:
            channel = conn.channel()  # the broker closed the previous one
            self._exchange().declare(channel=channel)
        self._queue().declare(channel=channel)
        return channel

    def _on_message(self, message: Any) -> None:
        self._busy = True
        try:
            self._handle(message)
        finally:
            self._last_activity = time.monotonic()
            self._busy = False

    def _handle(self, message: Any) -> None:
        event = nova.parse(message.body)
        if event is not None:
            try:
                events.apply(self.db, self.vim_id, event)
            except Exception:
                log.exception("VIM %s: applying %r failed; will retry", self.vim_id, event)
                self._stop.wait(1.0)
                message.requeue()
                return
            self._forward(event)
        message.ack()
        with self._lock:
            self.processed += 1
            if event is None:
                self.dropped += 1

    def _forward(self, event: nova.NovaEvent) -> None:
        """Hand the event to the sink as a FaultEvent; a failing sink is logged, never
        blocks the inventory update (the event is already applied)."""
        if self.sink is None:
            return
        try:
            self.sink.fault(nova.to_fault(event, self.vim_id, self.clock()))
        except Exception:
            log.exception("VIM %s: the monitoring sink refused %r", self.vim_id, event)


# -- which VIM accounts get a consumer ---------------------------------------------------
def notification_settings(config: dict[str, Any]) -> dict[str, Any] | None:
    """The ``notifications`` part of a VIM account's config when it opts in (has an
    ``amqp_url``), else ``None``. ``amqp_password``, if given, goes into the URL."""
    opt = (config or {}).get("notifications")
    if not isinstance(opt, dict) or not isinstance(opt.get("amqp_url"), str):
        return None
    url = opt["amqp_url"]
    password = opt.get("amqp_password")
    if isinstance(password, str) and password:
        url = _with_password(url, password)
    topics = opt.get("topics")
    return {
        "amqp_url": url,
        "exchange": str(opt.get("exchange") or "nova"),
        "topics": tuple(topics) if isinstance(topics, list) and topics else DEFAULT_TOPICS,
        "exchange_durable": bool(opt.get("exchange_durable", False)),
    }


def _with_password(url: str, password: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    user = parts.username or "guest"
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}"
    return urlunsplit(parts._replace(netloc=netloc))


class NotificationConsumers:
    """Runs one ``NovaNotificationConsumer`` per VIM account whose config has
    ``notifications: {"amqp_url": ..., "exchange": "nova"}``; ``refresh`` picks up accounts
    added, changed or deleted since (the app calls it periodically)."""

    def __init__(self, db: Database, vault: Vault | None = None, sink: Sink | None = None) -> None:
        self.db = db
        self.sink = sink  # where every consumer hands its fault events (the monitoring hub)
        self.vault = vault  # to read an ``amqp_password`` kept with the other credentials
        self.consumers: dict[str, tuple[dict[str, Any], NovaNotificationConsumer]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _wanted(self) -> dict[str, dict[str, Any]]:
        with self.db.session() as s:
            vims: Iterable[VimAccount] = list(VimRepository(s).list())
        out = {}
        for vim in vims:
            try:
                config = self._config(vim)
            except Exception as exc:  # undecryptable secrets: skip, say why
                log.warning("VIM %s: notifications config unreadable: %s", vim.id, exc)
                continue
            opts = notification_settings(config or {})
            if opts is not None:
                out[vim.id] = opts
        return out

    def _config(self, vim: VimAccount) -> dict[str, Any]:
        if self.vault is None or not vim.secrets:
            return vim.config or {}
        secrets = self.vault.open(vim.secrets)
        return join_secrets(
            vim.config or {}, {k: v for k, v in secrets.items() if k != "vim_password"}
        )

    def refresh(self) -> None:
        """Start, restart or stop consumers to match the VIM accounts now registered."""
        wanted = self._wanted()
        for vim_id in list(self.consumers):
            opts, consumer = self.consumers[vim_id]
            if wanted.get(vim_id) != opts:
                consumer.stop()
                del self.consumers[vim_id]
        for vim_id, opts in wanted.items():
            if vim_id not in self.consumers:
                consumer = NovaNotificationConsumer(
                    opts["amqp_url"],
                    vim_id,
                    self.db,
                    exchange=opts["exchange"],
                    topics=opts["topics"],
                    exchange_durable=opts["exchange_durable"],
                    sink=self.sink,
                )
                consumer.start()
                self.consumers[vim_id] = (opts, consumer)

    def start(self, interval: float = 30.0) -> None:
        """Start the consumers now and re-check the VIM accounts every ``interval`` s."""
        self._safe_refresh()
        self._stop.clear()

        def loop() -> None:
            while not self._stop.wait(interval):
                self._safe_refresh()

        self._thread = threading.Thread(target=loop, name="nova-notifications", daemon=True)
        self._thread.start()

    def _safe_refresh(self) -> None:
        try:
            self.refresh()
        except Exception:
            log.exception("refreshing the notification consumers failed")

    def stop(self) -> None:
        """Stop every consumer."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        for _, consumer in self.consumers.values():
            consumer.stop()
        self.consumers.clear()
