"""What the browser tests of the GUI (tests/gui) share besides their fixtures: the users, and
signing a browser profile in."""

from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.sync_api import Page
from tests.support.live import ADMIN_PASSWORD, LiveApi

from nfvo.ui.session import COOKIE

PASSWORDS = {"admin": ADMIN_PASSWORD, "reader": "reader-secret-1", "operator": "operator-secret-1"}
BASE: list[str] = []  # the test session's server, set by the gui_server fixture
_SESSIONS: dict[tuple[str, str], str] = {}


def _session_cookie(base_url: str, user: str) -> str:
    """A session cookie of ``user``, signed in once per test session through the form's
    endpoint (each sign-in costs a password hash; the tests of signing in use the form)."""
    key = (base_url, user)
    if key not in _SESSIONS:
        r = httpx.post(
            f"{base_url}/ui/login",
            data={"client_id": user, "client_secret": PASSWORDS[user], "next": "/ui/"},
        )
        assert r.status_code == 303, r.text
        _SESSIONS[key] = r.cookies[COOKIE]
    return _SESSIONS[key]


def login(page: Page, user: str = "admin") -> None:
    """Sign ``page``'s browser profile in as ``user`` and open the dashboard."""
    origin = BASE[0]
    page.context.clear_cookies()
    page.context.add_cookies(
        [{"name": COOKIE, "value": _session_cookie(origin, user), "url": origin + "/ui"}]
    )
    page.goto("/ui/")
    assert page.url.endswith("/ui/"), page.url


def login_with_form(page: Page, user: str = "admin", password: str | None = None) -> None:
    """Sign in through the form, as a person does, and land on the dashboard."""
    page.goto("/ui/login")
    page.get_by_label("Client id").fill(user)
    page.get_by_label("Secret").fill(password or PASSWORDS[user])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/ui/$"))


def api_json(live: LiveApi, path: str, **params: Any) -> Any:
    """GET ``path`` from the API as admin, asserting 200."""
    r = live.client.get(path, params=params)
    assert r.status_code == 200, r.text
    return r.json()
