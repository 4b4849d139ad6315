"""The HTTP server nfvo runs its API on: uvicorn, with bounds on slow and idle connections.

uvicorn bounds the size of a request head (``h11_max_incomplete_event_size``) and the idle
time between requests (``timeout_keep_alive``), but not the time a client may take to send a
request head: its keep-alive timer restarts on every byte received, so a client that sends a
header line now and then holds its connection for ever. ``GuardedH11Protocol`` adds that
deadline. The request body has its own bounds, in ``nfvo.api.edge``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from nfvo.config import Settings

log = logging.getLogger(__name__)


class ServerConfig(uvicorn.Config):
    """uvicorn's configuration plus the request-head deadline its protocol enforces."""

    def __init__(self, app: Any, *, header_timeout: float, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.header_timeout = header_timeout


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline on each request head.

    The deadline runs whenever the connection waits for a request: from the connection's
    start, and from the end of each response on a kept-alive connection, until the head is
    complete; a connection that misses it is closed. A response given before the request's
    body was read in full also ends the connection, rather than reading and dropping a body
    nobody asked for."""

    def __init__(self, config: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self.header_timeout: float = getattr(config, "header_timeout", 5.0)
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._watch_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        super().handle_events()
        self._watch_head()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.conn.their_state is h11.SEND_BODY and not self.transport.is_closing():
            # answered before the body was read: do not drain what is left of it
            self._close()
        self._watch_head()

    def _watch_head(self) -> None:
        waiting = self.conn.their_state is h11.IDLE and not self.transport.is_closing()
        if waiting and self._head_timer is None:
            self._head_timer = self.loop.call_later(self.header_timeout, self._head_timed_out)
        elif not waiting:
            self._stop_head_timer()

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            if self.client and self.conn.trailing_data[0]:
                log.info(
                    "%s:%d sent no complete request head within %g s; connection closed",
                    *self.client,
                    self.header_timeout,
                )
            self._close()

    def _close(self) -> None:
        try:
            self.conn.send(h11.ConnectionClosed())
        except h11.LocalProtocolError:
            pass
        self.transport.close()


def server_config(
    app: Any, settings: Settings, host: str, port: int, log_level: str = "info"
) -> ServerConfig:
    """The uvicorn configuration nfvo serves ``app`` with, bounded by ``settings``."""
    return ServerConfig(
        app,
        header_timeout=settings.header_timeout_seconds,
        host=host,
        port=port,
        log_level=log_level.lower(),
        http=GuardedH11Protocol,
        timeout_keep_alive=settings.keep_alive_seconds,
        limit_concurrency=settings.max_connections,
        h11_max_incomplete_event_size=settings.max_header_bytes,
        # uvicorn would otherwise believe X-Forwarded-For from any local peer; nfvo reads it
        # only from NFVO_TRUSTED_PROXIES (see nfvo.auth.limits.source_address)
        proxy_headers=False,
    )
