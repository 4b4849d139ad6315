"""The GUI suite: one nfvo server (embedded SQLite, sim VIMs) per test session, driven by
Playwright through Debian's headless chromium. Every request the pages make to anything but
that server is aborted and recorded, so each test also proves the GUI works offline.

Needs the ``playwright`` package (test extra) and ``/usr/bin/chromium`` (``apt-get install -y
chromium``); without them the suite skips and says so. Screenshots go to
``$NFVO_GUI_ARTIFACTS`` (default ``build/gui-artifacts``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from tests.support.gui import BASE, PASSWORDS, api_json, login, login_with_form
from tests.support.live import LiveApi, start_live

CHROMIUM = os.environ.get("NFVO_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"]
ROOT = Path(__file__).resolve().parents[2]

try:
    from playwright.sync_api import Browser, BrowserContext, Page, Route, sync_playwright
except ImportError:  # pragma: no cover - the test extra installs it
    sync_playwright = None  # type: ignore[assignment]

if sync_playwright is None:
    pytest.skip(
        "the GUI tests need the playwright package: pip install -e '.[test]'",
        allow_module_level=True,
    )
if not Path(CHROMIUM).exists():
    pytest.skip(
        f"the GUI tests need chromium at {CHROMIUM}: apt-get install -y chromium "
        "(or set NFVO_TEST_CHROMIUM to another chromium binary)",
        allow_module_level=True,
    )


# Package scope, not session: the browser must be gone when the GUI tests end, because
# Playwright's sync API keeps an event loop running in the main thread while it is open, and
# the tests after this package start runtimes that refuse to start beside one.
@pytest.fixture(scope="package")
def gui_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApi]:
    """The one server of the GUI tests, with a reader and an operator client besides admin."""
    data = tmp_path_factory.mktemp("gui-data")
    live = start_live(data, f"sqlite:///{data}/nfvo.db")
    for role in ("reader", "operator"):
        r = live.client.post(
            "/admin/v1/users",
            json={"clientId": role, "clientSecret": PASSWORDS[role], "role": role},
        )
        assert r.status_code == 201, r.text
    BASE[:] = [live.base_url]
    yield live
    live.close()


@pytest.fixture(scope="package")
def browser(gui_server: LiveApi) -> Iterator[Browser]:
    # after the server: Playwright's sync API keeps an event loop running in this thread,
    # and the workflow engine's start-up refuses to run beside one
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots are kept."""
    out = Path(os.environ.get("NFVO_GUI_ARTIFACTS", ROOT / "build" / "gui-artifacts"))
    out.mkdir(parents=True, exist_ok=True)
    return out


@dataclass
class Offline:
    """The requests aborted because they went to another origin than the server."""

    origin: str
    aborted: list[str] = field(default_factory=list)

    def __call__(self, route: Route) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" == self.origin or parts.scheme in ("data", "blob"):
            route.continue_()
        else:
            self.aborted.append(url)
            route.abort("internetdisconnected")


@pytest.fixture
def context(browser: Browser, gui_server: LiveApi) -> Iterator[BrowserContext]:
    """A fresh browser profile whose requests to other origins are aborted (and recorded:
    a page that tried one fails the test)."""
    ctx = browser.new_context(base_url=gui_server.base_url, viewport={"width": 1400, "height": 900})
    ctx.set_default_timeout(10_000)
    offline = Offline(gui_server.base_url)
    ctx.route("**/*", offline)
    errors: list[str] = []
    ctx.on("weberror", lambda e: errors.append(str(e.error)))
    yield ctx
    ctx.close()
    assert not offline.aborted, f"the pages asked for other origins: {offline.aborted}"
    assert not errors, f"JavaScript errors on the pages: {errors}"


@pytest.fixture
def page(context: BrowserContext) -> Page:
    """A page signed in as admin."""
    p = context.new_page()
    login(p)
    return p


__all__ = ["PASSWORDS", "api_json", "login", "login_with_form"]
