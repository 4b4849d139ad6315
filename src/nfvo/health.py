"""``/healthz`` for a process that serves no API (a worker), from a standard-library HTTP server
thread, so that such a process never loads the web framework."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
PROBLEM = "application/problem+json"
_MAX_BODY = 1 << 16


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str, port: int, body: Callable[[], dict[str, Any]]) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.body = body
        super().__init__((host, port), _Handler)


class _Handler(BaseHTTPRequestHandler):
    """``GET``/``HEAD /healthz``; any other path is 404, another method on it 405, both as
    RFC 7807 ProblemDetails like the API's own."""

    server: _Server
    protocol_version = "HTTP/1.1"

    def _send(self, status: int, body: dict[str, Any], media_type: str, **headers: str) -> None:
        data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", media_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _problem(self, status: int, detail: str, **headers: str) -> None:
        path = urlsplit(self.path).path
        body = {
            "type": "about:blank",
            "title": HTTPStatus(status).phrase,
            "status": status,
            "detail": detail,
            "instance": path,
        }
        self._send(status, body, PROBLEM, **headers)

    def _discard_body(self) -> None:
        """Read a small request body so the connection can serve the next request; close
        the connection after the answer instead of reading a large or chunked one."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if self.headers.get("Transfer-Encoding") or not 0 <= length <= _MAX_BODY:
            self.close_connection = True
        elif length:
            self.rfile.read(length)

    def _answer(self) -> None:
        self._discard_body()
        path = urlsplit(self.path).path
        if path != HEALTH_PATH:
            self._problem(404, f"no resource at {path}")
        elif self.command in ("GET", "HEAD"):
            self._send(200, self.server.body(), "application/json")
        else:
            self._problem(405, f"method {self.command} is not allowed on {path}", Allow="GET, HEAD")

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _answer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug("%s %s", self.address_string(), format % args)


class HealthServer:
    """Serves ``GET /healthz`` (the body ``body()`` returns) from a daemon thread.

    It exists so that container health checks and Kubernetes probes find a worker alive the
    same way they find an API node, without the worker importing FastAPI or uvicorn.
    """

    def __init__(self, host: str, port: int, body: Callable[[], dict[str, Any]]) -> None:
        self.host = host
        self.port = port
        self.body = body
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Bind ``host:port`` (port 0: any free port, see ``port`` after) and start serving."""
        if self._server is not None:
            return
        server = _Server(self.host, self.port, self.body)
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="healthz", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None
