"""Acceptance 8: with every request to another origin aborted (the ``context`` fixture aborts
and records them, and fails the test if a page asked for one or threw a JavaScript error),
every page of the navigation still loads, for an admin and for a reader; the vendored
scripts are served from the package with the checksums VENDOR.md records."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import httpx
from playwright.sync_api import BrowserContext, expect
from tests.gui.conftest import login
from tests.support.live import LiveApi

import nfvo.ui

VENDOR = Path(nfvo.ui.__file__).parent / "static" / "vendor"


def _nav_links(context: BrowserContext, user: str) -> list[str]:
    page = context.new_page()
    login(page, user)
    links = page.locator("header nav a").evaluate_all("els => els.map(e => e.pathname)")
    assert links, "the navigation has no links"
    for path in links:
        resp = page.goto(path)
        assert resp is not None and resp.status == 200, f"{path}: {resp and resp.status}"
        expect(page.get_by_test_id("problem")).to_have_count(0)
        expect(page.locator("h1")).to_have_count(1)
        # htmx is loaded from the server and running
        assert page.evaluate("typeof window.htmx") == "object", path
    page.close()
    return links


def test_every_page_works_offline(context: BrowserContext) -> None:
    admin_links = _nav_links(context, "admin")
    reader_links = _nav_links(context, "reader")
    assert set(reader_links) < set(admin_links)  # tenants and users are admin pages


def test_vendored_scripts_match_their_recorded_checksums(gui_server: LiveApi) -> None:
    rows = re.findall(
        r"^\| (\S+) \| (\S+) \| (\S+) \| [^|]+ \| `([0-9a-f]{64})` \|$",
        (VENDOR / "VENDOR.md").read_text(),
        flags=re.M,
    )
    assert {r[0] for r in rows} == {"htmx.min.js", "htmx-ext-sse.min.js", "cytoscape.min.js"}
    for name, _package, _version, digest in rows:
        served = httpx.get(f"{gui_server.base_url}/ui/static/vendor/{name}")
        assert served.status_code == 200
        assert hashlib.sha256(served.content).hexdigest() == digest, name
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name
    htmx_version = dict((r[0], r[2]) for r in rows)["htmx.min.js"]
    assert htmx_version.startswith("2."), "stay on htmx 2.x (htmx 4 changed its SSE extension)"
