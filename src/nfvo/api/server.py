"""The HTTP server nfvo runs its API on: uvicorn, with bounds on slow and idle connections.

uvicorn bounds the size of a request head (``h11_max_incomplete_event_size``) and the idle
time between requests (``timeout_keep_alive``), but not the time a client may take to send a
request head: its keep-alive timer restarts on every byte received, so a client that sends a
header line now and then holds its connection for ever. ``GuardedH11Protocol`` adds that
deadline. The request body has its own bounds, in ``nfvo.api.edge``.

A connection ended while the client may still be sending (a malformed or oversized head, an
answer given before the body was read) is closed without losing the answer, as HTTP servers
close such connections: the answer is sent, the sending side shut (the client reads the
answer, then the end of the stream), and what the client still sends is read and dropped for
a bounded time and size before the socket closes. A socket closed with unread bytes in it
makes the kernel send a reset, and a client that gets the reset before it read the answer
never sees the answer.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from nfvo.config import Settings

log = logging.getLogger(__name__)

# a connection ended while the client may still be sending drops what it sends for at most
# this long and this much before the socket closes
LINGER_SECONDS = 2.0
LINGER_BYTES = 1 << 20
# h11's own bound on a request head when uvicorn is given none
DEFAULT_MAX_HEAD_BYTES = 16 << 10


class ServerConfig(uvicorn.Config):
    """uvicorn's configuration plus the request-head deadline its protocol enforces."""

    def __init__(self, app: Any, *, header_timeout: float, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.header_timeout = header_timeout


class _LingeringTransport:
    """The connection's transport as uvicorn's protocol sees it: ``close`` lingers when the
    client may still be sending (see the module's text); everything else is the transport's."""

    def __init__(self, transport: asyncio.Transport, protocol: GuardedH11Protocol) -> None:
        self._transport = transport
        self._protocol = protocol

    def close(self) -> None:
        self._protocol._close_or_linger()

    def is_closing(self) -> bool:
        return self._protocol._lingering or self._transport.is_closing()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline on each request head.

    The deadline runs while a request head is awaited: from the connection's start, and on
    a kept-alive connection from the first byte of the next request (an idle kept-alive
    connection is closed by the keep-alive timeout), until the head is complete; a
    connection that misses it is closed at once. A response given before the request's body
    was read in full ends the connection rather than reading a body nobody asked for; such
    a connection, and one refused for a bad head, lingers (see the module's text)."""

    def __init__(self, config: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self.header_timeout: float = getattr(config, "header_timeout", 5.0)
        self._head_timer: asyncio.TimerHandle | None = None
        self._served = False
        self._raw: asyncio.Transport | None = None
        self._linger_left = 0  # bytes still dropped while lingering
        self._linger_timer: asyncio.TimerHandle | None = None

    @property
    def _lingering(self) -> bool:
        return self._linger_timer is not None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._raw = transport
        self.transport = _LingeringTransport(transport, self)  # type: ignore[assignment]
        self._watch_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        if self._linger_timer is not None:
            self._linger_timer.cancel()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._lingering:
            self._linger_left -= len(data)
            if self._linger_left <= 0:
                self._close()
            return
        self._unset_keepalive_if_required()
        self.conn.receive_data(data)
        # h11 bounds a head only while it is incomplete: one that arrives whole in a single
        # read would pass however large
        if self.conn.their_state is h11.IDLE and self._head_too_large():
            self.send_400_response("")
            return
        self.handle_events()

    def eof_received(self) -> bool | None:
        if self._lingering:
            self._close()
        return None

    def handle_events(self) -> None:
        if not self._lingering:
            super().handle_events()
            self._watch_head()

    def send_400_response(self, msg: str) -> None:
        """A head h11 cannot parse (or one over the size bound): a ProblemDetails answer,
        as every other error nfvo gives, then the connection ends."""
        limit = self._head_limit()
        if self._head_too_large():
            self.logger.info("request head over %d bytes refused", limit)
            self._refuse_head(
                431,
                "Request Header Fields Too Large",
                f"the request line and headers exceed {limit} bytes (NFVO_MAX_HEADER_BYTES)",
            )
        else:
            self.logger.info("malformed request head refused")
            self._refuse_head(400, "Bad Request", "the request line or a header is malformed")

    def _head_limit(self) -> int:
        return self.config.h11_max_incomplete_event_size or DEFAULT_MAX_HEAD_BYTES

    def _head_too_large(self) -> bool:
        limit = self._head_limit()
        buf = self.conn.trailing_data[0]
        if len(buf) <= limit:
            return False
        return buf.find(b"\r\n\r\n", 0, limit + 4) < 0 and buf.find(b"\n\n", 0, limit + 2) < 0

    def _refuse_head(self, status: int, title: str, detail: str) -> None:
        problem = {"type": "about:blank", "title": title, "status": status, "detail": detail}
        body = json.dumps(problem).encode()
        headers = [
            (b"content-type", b"application/problem+json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        for event in (h11.Response(status_code=status, headers=headers), h11.Data(data=body)):
            self.transport.write(self.conn.send(event))
        self.transport.write(self.conn.send(h11.EndOfMessage()))
        self.transport.close()

    def on_response_complete(self) -> None:
        self._served = True
        super().on_response_complete()
        if self.conn.their_state is h11.SEND_BODY and not self.transport.is_closing():
            # answered before the body was read: do not read what is left of it
            self.transport.close()
        self._watch_head()

    def _close_or_linger(self) -> None:
        """Close, or linger when the client may still be sending what nobody will read."""
        raw = self._raw
        if raw is None or raw.is_closing() or self._lingering:
            return
        unread = self.conn.their_state in (h11.SEND_BODY, h11.ERROR) or bool(
            self.conn.trailing_data[0]
        )
        if not unread or not raw.can_write_eof():
            raw.close()
            return
        self._stop_head_timer()
        self._unset_keepalive_if_required()
        self._linger_left = LINGER_BYTES
        self._linger_timer = self.loop.call_later(LINGER_SECONDS, self._close)
        try:
            raw.write_eof()
        except OSError:
            self._close()
            return
        if self.flow is not None:
            self.flow.resume_reading()

    def _watch_head(self) -> None:
        waiting = (
            self.conn.their_state is h11.IDLE
            and not self.transport.is_closing()
            and (not self._served or bool(self.conn.trailing_data[0]))
        )
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
        """Close the socket now, without lingering."""
        try:
            self.conn.send(h11.ConnectionClosed())
        except h11.LocalProtocolError:
            pass
        if self._raw is not None:
            self._raw.close()


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
