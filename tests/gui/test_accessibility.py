"""Every input has a label and every page can be used from the keyboard: on each page of the
navigation, each visible input, select and textarea has a <label> (or an aria-label), each
button and link has a name, and Tab reaches the page's controls in order, starting with the
skip link."""

from __future__ import annotations

from playwright.sync_api import Page

UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(e => e.type !== 'hidden' && e.offsetParent !== null)
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
               && !e.getAttribute('aria-labelledby'))
  .map(e => e.outerHTML.slice(0, 120))"""
NAMELESS = """() => [...document.querySelectorAll('button, a[href]')]
  .filter(e => e.offsetParent !== null)
  .filter(e => !(e.innerText || '').trim() && !e.getAttribute('aria-label')
               && !e.getAttribute('title'))
  .map(e => e.outerHTML.slice(0, 120))"""


def test_every_control_is_labelled_and_named(page: Page) -> None:
    links = page.locator("header nav a").evaluate_all("els => els.map(e => e.pathname)")
    problems: dict[str, list[str]] = {}
    for path in links:
        page.goto(path)
        page.wait_for_load_state("load")
        bad = page.evaluate(UNLABELLED) + page.evaluate(NAMELESS)
        if bad:
            problems[path] = bad
    assert not problems, problems


def test_tab_reaches_the_controls_from_the_skip_link(page: Page) -> None:
    page.goto("/ui/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")  # skip to the content
    assert page.evaluate("location.hash") == "#main"
    seen = []
    for _ in range(12):
        page.keyboard.press("Tab")
        seen.append(page.evaluate("document.activeElement.tagName"))
    assert {"A", "BUTTON", "INPUT", "SELECT"} & set(seen), seen
