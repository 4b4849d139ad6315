"""The HTTP session of one command: bearer token handling, ProblemDetails, paging.

Why it exists: every command needs the same things from the API: the cached token (renewed
with ``NFVO_USER``/``NFVO_PASSWORD`` when it expired or the server refuses it), errors turned
into :class:`~nfvo.cli.client.errors.CliError` with a hint, and list endpoints followed
through their ``Link: rel="next"`` pages.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from nfvo import __version__
from nfvo.cli.client.config import Target
from nfvo.cli.client.errors import ApiError, ConnectionFailed, NotAuthenticated, UsageError

# Tests replace this with an httpx.MockTransport; None is the real network.
TRANSPORT: httpx.BaseTransport | None = None
LOGIN_HINT = "run `nfvo login` (or set NFVO_USER and NFVO_PASSWORD)"


def connection_hint(url: str) -> str:
    """What to check when ``url`` does not answer."""
    return (
        f"is `nfvo serve` running at {url}? Point the CLI elsewhere with NFVO_URL=URL "
        "or `nfvo login --url URL`"
    )


def fetch_token(
    url: str, user: str, password: str, *, timeout: float = 30.0
) -> tuple[str, float | None]:
    """(token, expiry as a UNIX time) from ``POST /oauth2/token`` (client credentials)."""
    try:
        with httpx.Client(base_url=url, timeout=timeout, transport=TRANSPORT) as c:
            r = c.post(
                "/oauth2/token",
                data={"grant_type": "client_credentials"},
                auth=(user, password),
                headers={"User-Agent": f"nfvo-cli/{__version__}"},
            )
    except httpx.TransportError as exc:
        raise ConnectionFailed(f"cannot reach nfvo at {url}: {exc}", connection_hint(url)) from None
    if r.status_code == 401:
        raise NotAuthenticated(
            f"{url} refused the credentials of {user!r} (unknown client or wrong secret)",
            hint="check the user and password (NFVO_USER / NFVO_PASSWORD)",
        )
    if r.status_code >= 400:
        raise ApiError.from_response(r)
    try:
        body = r.json()
        token = body["access_token"]
    except (ValueError, KeyError, TypeError):
        raise ConnectionFailed(
            f"{url}/oauth2/token did not answer with a token; is this an nfvo server?",
            connection_hint(url),
        ) from None
    ttl = body.get("expires_in")
    return token, (time.time() + float(ttl)) if isinstance(ttl, int | float) else None


class ApiSession:
    """One command's connection to the API (use as a context manager)."""

    def __init__(self, target: Target, *, timeout: float = 60.0) -> None:
        self.target = target
        self._client = httpx.Client(
            base_url=target.url,
            timeout=timeout,
            transport=TRANSPORT,
            headers={"User-Agent": f"nfvo-cli/{__version__}", "Accept": "application/json"},
        )
        profile = target.profile
        self._token = profile.token if profile and profile.token_valid() else None
        self._fresh = False  # whether the token was obtained by this process

    def __enter__(self) -> ApiSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    # -- tokens ----------------------------------------------------------------------------
    def _login(self) -> None:
        t = self.target
        assert t.user and t.password
        self._token, expires_at = fetch_token(t.url, t.user, t.password)
        self._fresh = True
        if t.profile is not None:  # keep the renewed token for the next command
            t.profile.token, t.profile.expires_at = self._token, expires_at
            t.config.save()

    def _unauthenticated(self, r: httpx.Response) -> NotAuthenticated:
        t = self.target
        detail = ApiError.from_response(r).message
        if self._fresh:
            return NotAuthenticated(f"the server refused a fresh token: {detail}")
        if t.profile is not None and t.profile.token:
            where = "" if t.profile_name == "default" else f" --profile {t.profile_name}"
            return NotAuthenticated(
                f"the login of profile {t.profile_name!r} at {t.url} expired or was revoked",
                hint=f"run `nfvo login{where}` again (or set NFVO_USER and NFVO_PASSWORD)",
            )
        return NotAuthenticated(f"{t.url} requires authentication: {detail}", hint=LOGIN_HINT)

    # -- requests --------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        upload: Path | bytes | None = None,
    ) -> httpx.Response:
        """Send; a 401 with credentials at hand renews the token once; 4xx/5xx raise."""

        def send() -> httpx.Response:  # one attempt, with the token of the moment
            hdrs = dict(headers or {})
            if self._token:
                hdrs["Authorization"] = f"Bearer {self._token}"
            try:
                if isinstance(upload, bytes):
                    return self._client.request(
                        method, path, content=upload, params=params, headers=hdrs
                    )
                if upload is not None:
                    with upload.open("rb") as f:
                        return self._client.request(
                            method, path, content=f, params=params, headers=hdrs
                        )
                return self._client.request(method, path, json=json, params=params, headers=hdrs)
            except httpx.TimeoutException as exc:
                raise ConnectionFailed(
                    f"{self.target.url} did not answer {method} {path} in time ({exc})",
                    connection_hint(self.target.url),
                ) from None
            except httpx.TransportError as exc:
                raise ConnectionFailed(
                    f"cannot reach nfvo at {self.target.url}: {exc}",
                    connection_hint(self.target.url),
                ) from None

        if self._token is None and self.target.can_login:
            self._login()
        r = send()
        if r.status_code == 401 and self.target.can_login and not self._fresh:
            self._login()
            r = send()
        if r.status_code == 401:
            raise self._unauthenticated(r)
        if r.status_code >= 400:
            raise ApiError.from_response(r)
        return r

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET a JSON document."""
        return self.request("GET", path, params=params).json()

    def post(self, path: str, body: Any = None) -> httpx.Response:
        return self.request("POST", path, json=body)

    def patch(self, path: str, body: Any, headers: dict[str, str] | None = None) -> Any:
        return self.request("PATCH", path, json=body, headers=headers).json()

    def delete(self, path: str, params: dict[str, Any] | None = None) -> None:
        self.request("DELETE", path, params=params)

    def list(self, path: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Every item of a SOL013 list, following ``Link: rel="next"`` pages."""
        out: list[dict[str, Any]] = []
        r = self.request("GET", path, params=params)
        while True:
            page = r.json()
            out.extend(page if isinstance(page, list) else [page])
            nxt = r.links.get("next", {}).get("url")
            if not nxt:
                return out
            r = self.request("GET", nxt)

    def find(self, collection: str, ref: str, names: Iterable[str] = ("name",)) -> dict[str, Any]:
        """The item of ``collection`` whose id is ``ref``, else the one item with a field of
        ``names`` equal to ``ref`` (several: a usage error); the API's 404 otherwise."""
        try:
            return self.get(f"{collection}/{quote(ref, safe='')}")
        except ApiError as exc:
            if exc.status not in (400, 404):
                raise
            matches = [
                item for item in self.list(collection) if any(item.get(n) == ref for n in names)
            ]
            if len(matches) == 1:
                return self.get(f"{collection}/{matches[0]['id']}")
            if len(matches) > 1:
                ids = ", ".join(m["id"] for m in matches)
                raise UsageError(
                    f"{len(matches)} items of {collection} are named {ref!r}: {ids}",
                    hint="give the id instead of the name",
                ) from None
            raise
