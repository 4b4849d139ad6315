"""Signing in, roles and CSRF (acceptance 1)."""

from __future__ import annotations

from playwright.sync_api import BrowserContext, Page, expect
from tests.gui.conftest import login, login_with_form


def test_sign_in_and_out(context: BrowserContext) -> None:
    page = context.new_page()
    page.goto("/ui/")
    expect(page).to_have_url(page.url)  # redirected to the sign-in form
    assert "/ui/login" in page.url
    page.get_by_label("Client id").fill("admin")
    page.get_by_label("Secret").fill("wrong-secret")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("login-error")).to_contain_text("wrong secret")
    login_with_form(page)
    expect(page.get_by_test_id("whoami")).to_contain_text("admin")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/ui/login")
    page.goto("/ui/")
    assert "/ui/login" in page.url


def test_reader_gets_403_on_admin_pages(context: BrowserContext) -> None:
    page = context.new_page()
    login(page, "reader")
    for path in ("/ui/users", "/ui/tenants"):
        resp = page.goto(path)
        assert resp is not None and resp.status == 403, path
        expect(page.get_by_test_id("problem")).to_contain_text("reader")
    # no admin links in the navigation
    expect(page.get_by_role("link", name="Users")).to_have_count(0)


def test_forged_post_without_csrf_is_refused(page: Page) -> None:
    # the session cookie is sent, the CSRF token is not: 403, and the session stays
    resp = page.request.post("/ui/logout", form={"csrf_token": "forged"})
    assert resp.status == 403
    page.goto("/ui/")
    assert page.url.endswith("/ui/")
