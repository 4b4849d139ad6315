"""How nfvo's HTTP protocol ends a connection the client is still sending on: the answer,
then a shut sending side, then a bounded read-and-drop, never a close with bytes unread
(which resets the connection under the client's answer).

The protocol is driven here over a recording transport, so what it does to the socket
(write, write_eof, close) is seen in order; tests/integration/test_http_edge.py checks the
same over real sockets."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from uvicorn.server import ServerState

from nfvo.api import server as srv
from nfvo.config import Settings


class Recording(asyncio.Transport):
    """A transport that records what the protocol does to it."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []
        self.out = bytearray()
        self.eof = False
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        assert not self.eof and not self.closed, "written after the sending side was shut"
        self.out += data
        self.calls.append("write")

    def write_eof(self) -> None:
        self.eof = True
        self.calls.append("write_eof")

    def can_write_eof(self) -> bool:
        return True

    def close(self) -> None:
        if not self.closed:
            self.calls.append("close")
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 40000)}.get(
            name, default
        )

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def _app(scope: Any, receive: Any, send: Any) -> None:
    """Answers 413 without reading the body, as nfvo's edge does."""
    await send(
        {"type": "http.response.start", "status": 413, "headers": [(b"content-length", b"0")]}
    )
    await send({"type": "http.response.body", "body": b""})


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    lp = asyncio.new_event_loop()
    try:
        yield lp
    finally:
        lp.close()


def _protocol(
    loop: asyncio.AbstractEventLoop, tmp_path: Path
) -> tuple[srv.GuardedH11Protocol, Recording]:
    config = srv.server_config(_app, Settings(data_dir=tmp_path), "127.0.0.1", 0, "warning")
    config.load()
    proto = srv.GuardedH11Protocol(config, ServerState(), {}, _loop=loop)
    transport = Recording()
    proto.connection_made(transport)
    return proto, transport


def _head(size: int) -> bytes:
    return b"GET / HTTP/1.1\r\nHost: x\r\nX-Junk: " + b"a" * size + b"\r\n\r\n"


def test_an_oversized_head_arriving_whole_is_431_then_lingers(
    loop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    proto, t = _protocol(loop, tmp_path)
    proto.data_received(_head(60_000))  # the whole head in one read: h11 alone would take it
    assert bytes(t.out).startswith(b"HTTP/1.1 431 ")
    problem = json.loads(bytes(t.out).partition(b"\r\n\r\n")[2])
    assert problem["status"] == 431 and "NFVO_MAX_HEADER_BYTES" in problem["detail"]
    assert b"content-type: application/problem+json" in t.out.lower()
    assert t.calls[-1] == "write_eof" and not t.closed
    proto.data_received(b"b" * 10_000)  # the client still sending: read and dropped
    assert not t.closed and b"HTTP/1.1 431" in t.out and t.out.count(b"HTTP/1.1") == 1
    proto.eof_received()  # the client read the answer and ended its side
    assert t.closed
    proto.connection_lost(None)


def test_an_oversized_head_in_pieces_is_431(
    loop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    proto, t = _protocol(loop, tmp_path)
    head = _head(40_000)
    for i in range(0, 20_000, 4000):  # past the 16 KiB bound while still incomplete
        proto.data_received(head[i : i + 4000])
    assert bytes(t.out).startswith(b"HTTP/1.1 431 ")
    assert "write_eof" in t.calls and not t.closed
    proto.connection_lost(None)


def test_a_malformed_head_is_a_400_problem_then_lingers(
    loop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    proto, t = _protocol(loop, tmp_path)
    proto.data_received(b"GET / HTTP/1.1\r\nHost x\r\n\r\nmore bytes the client sent")
    assert bytes(t.out).startswith(b"HTTP/1.1 400 ")
    problem = json.loads(bytes(t.out).partition(b"\r\n\r\n")[2])
    assert problem["status"] == 400 and problem["detail"]
    assert t.calls[-1] == "write_eof" and not t.closed
    proto.connection_lost(None)


def test_a_head_within_the_bound_is_served(loop: asyncio.AbstractEventLoop, tmp_path: Path) -> None:
    proto, t = _protocol(loop, tmp_path)
    proto.data_received(_head(8_000) + _head(8_000))  # two pipelined heads: 16 KiB together
    loop.run_until_complete(asyncio.sleep(0.05))
    assert bytes(t.out).startswith(b"HTTP/1.1 413 ")
    proto.connection_lost(None)


def test_an_answer_before_the_body_lingers_then_closes_on_the_byte_bound(
    loop: asyncio.AbstractEventLoop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(srv, "LINGER_BYTES", 100_000)
    proto, t = _protocol(loop, tmp_path)
    proto.data_received(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n{")
    loop.run_until_complete(asyncio.sleep(0.05))  # the app answers 413 unread
    assert bytes(t.out).startswith(b"HTTP/1.1 413 ")
    assert t.calls.index("write_eof") > t.calls.index("write") and not t.closed
    proto.data_received(b"x" * 60_000)
    assert not t.closed
    proto.data_received(b"x" * 60_000)  # past the bound: closed without waiting for the client
    assert t.closed
    proto.connection_lost(None)


def test_a_lingering_connection_closes_on_the_time_bound(
    loop: asyncio.AbstractEventLoop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(srv, "LINGER_SECONDS", 0.1)
    proto, t = _protocol(loop, tmp_path)
    proto.data_received(_head(60_000))
    assert not t.closed
    loop.run_until_complete(asyncio.sleep(0.3))
    assert t.closed
    proto.connection_lost(None)


def test_a_served_connection_waits_idle_without_the_head_deadline(
    loop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    proto, t = _protocol(loop, tmp_path)
    assert proto._head_timer is not None  # a fresh connection must send a head in time
    proto.data_received(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    loop.run_until_complete(asyncio.sleep(0.05))
    assert bytes(t.out).startswith(b"HTTP/1.1 413 ") and not t.closed
    assert proto._head_timer is None  # idle now: the keep-alive timeout's to close
    proto.data_received(b"GET / HTTP/1.1\r\n")  # the next head begins: its deadline runs
    assert proto._head_timer is not None
    proto.connection_lost(None)
