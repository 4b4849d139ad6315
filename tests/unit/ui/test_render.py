"""One template answers both: the full page for a plain request, the named block for htmx;
server-sent events are framed one ``data:`` line per HTML line."""

from __future__ import annotations

from starlette.requests import Request

from nfvo.ui.render import SECURITY_HEADERS, page, sse_message


def _request(headers: dict[str, str]) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "method": "GET", "path": "/ui/x", "headers": raw})


def test_a_plain_request_gets_the_page_and_htmx_the_block() -> None:
    full = page(_request({}), "error.html", code=404, title="Not Found", detail="gone", extra={})
    body = full.body.decode()
    assert body.startswith("<!doctype html>") and "gone" in body
    assert full.headers["content-security-policy"] == SECURITY_HEADERS["Content-Security-Policy"]
    part = page(
        _request({"HX-Request": "true"}),
        "error.html",
        block="error",
        code=404,
        title="Not Found",
        detail="gone <b>",
        extra={},
    )
    text = part.body.decode()
    assert "<html" not in text and 'data-status="404"' in text
    assert "gone &lt;b&gt;" in text  # escaped


def test_sse_message_frames_every_line() -> None:
    assert sse_message("state", "<p>a</p>\n<p>b</p>") == (
        "event: state\ndata: <p>a</p>\ndata: <p>b</p>\n\n"
    )
    assert sse_message("done", "") == "event: done\ndata: \n\n"
