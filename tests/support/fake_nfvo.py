"""A fake nfvo API on httpx.MockTransport, for the command-line client's unit tests."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import httpx

Handler = Callable[[httpx.Request], httpx.Response]
URL = "http://nfvo.test"


def problem(status: int, detail: str, **extra: Any) -> httpx.Response:
    body = {"type": "about:blank", "title": "Error", "status": status, "detail": detail} | extra
    return httpx.Response(status, json=body, headers={"Content-Type": "application/problem+json"})


class FakeApi:
    """Routes by (method, path); a bearer token from ``/oauth2/token`` is required."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Handler] = {}
        self.requests: list[httpx.Request] = []
        self.valid: set[str] = set()
        self.issued = 0
        self.password = "s3cret-pw"
        self.ttl = 3600

    def on(self, method: str, path: str, reply: Handler | Any, status: int = 200) -> None:
        if callable(reply):
            self.routes[(method, path)] = reply
        else:
            self.routes[(method, path)] = lambda _r: httpx.Response(status, json=reply)

    def bodies(self, method: str, path: str) -> list[Any]:
        return [
            json.loads(r.content or b"null")
            for r in self.requests
            if r.method == method and r.url.path == path
        ]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/oauth2/token":
            scheme, _, value = request.headers.get("authorization", "").partition(" ")
            user, _, pw = base64.b64decode(value).decode().partition(":")
            if scheme != "Basic" or pw != self.password:
                return problem(401, "unknown client or wrong secret")
            self.issued += 1
            token = f"tok-{self.issued}"
            self.valid.add(token)
            return httpx.Response(
                200, json={"access_token": token, "token_type": "Bearer", "expires_in": self.ttl}
            )
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme != "Bearer" or token not in self.valid:
            return problem(401, "missing or invalid bearer token")
        handler = self.routes.get((request.method, request.url.path))
        if handler is None:
            return problem(404, f"no resource at {request.url.path}")
        return handler(request)
