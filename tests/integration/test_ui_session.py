"""The GUI's session over plain HTTP (no browser): sign-in limits, the request edge in front
of GUI writes, CSRF bound to the session, and sessions ending with their client. On SQLite
and PostgreSQL (the live server's database)."""

from __future__ import annotations

import re
import socket

import httpx
from tests.support.live import ADMIN_PASSWORD, LiveApi


def _session(live: LiveApi, user: str = "admin", secret: str = ADMIN_PASSWORD) -> httpx.Client:
    s = httpx.Client(base_url=live.base_url, timeout=30)
    r = s.post("/ui/login", data={"client_id": user, "client_secret": secret, "next": "/ui/"})
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/ui/"
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/ui" in cookie
    return s


def _csrf(s: httpx.Client) -> str:
    m = re.search(r'name="csrf_token" value="([0-9a-f]+)"', s.get("/ui/").text)
    assert m, "the page carries no CSRF token"
    return m.group(1)


def test_pages_need_a_session_and_login_redirects_back(live: LiveApi) -> None:
    anon = httpx.Client(base_url=live.base_url)
    r = anon.get("/ui/")
    assert r.status_code == 303 and r.headers["location"] == "/ui/login?next=/ui/"
    r = anon.get("/ui/", headers={"HX-Request": "true"})
    assert r.status_code == 401 and r.headers["HX-Redirect"].startswith("/ui/login")
    # only GUI paths are followed after sign-in: no open redirect
    r = anon.post(
        "/ui/login",
        data={"client_id": "admin", "client_secret": ADMIN_PASSWORD, "next": "//evil.example/"},
    )
    assert r.status_code == 303 and r.headers["location"] == "/ui/"


def test_wrong_secret_is_401_and_repeated_failures_are_429(live: LiveApi) -> None:
    anon = httpx.Client(base_url=live.base_url)
    statuses = []
    for _ in range(30):
        r = anon.post("/ui/login", data={"client_id": "admin", "client_secret": "not-it"})
        statuses.append(r.status_code)
        if r.status_code == 429:
            assert int(r.headers["Retry-After"]) >= 1
            assert "too many failed attempts" in r.text
            break
    assert statuses[0] == 401 and statuses[-1] == 429, statuses


def test_csrf_is_bound_to_the_session(live: LiveApi) -> None:
    a, b = _session(live), _session(live)
    token_a = _csrf(a)
    assert token_a != _csrf(b)
    assert b.post("/ui/logout", data={"csrf_token": token_a}).status_code == 403
    assert b.post("/ui/logout").status_code == 403
    assert a.post("/ui/logout", headers={"X-CSRF-Token": token_a}).status_code == 303


def test_a_deleted_client_loses_its_session(live: LiveApi) -> None:
    r = live.client.post(
        "/admin/v1/users",
        json={"clientId": "ui-gone", "clientSecret": "ui-gone-secret", "role": "operator"},
    )
    assert r.status_code == 201, r.text
    s = _session(live, "ui-gone", "ui-gone-secret")
    assert s.get("/ui/").status_code == 200
    assert live.client.delete("/admin/v1/users/ui-gone").status_code == 204
    r = s.get("/ui/")
    assert r.status_code == 303 and r.headers["location"].startswith("/ui/login")


def _raw(live: LiveApi, head: str) -> bytes:
    host, port = live.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head.encode())
        return sock.recv(65536)


def test_gui_writes_are_refused_before_their_body(live: LiveApi) -> None:
    # no session: 401 at once, though 2 GiB are declared and none sent
    answer = _raw(
        live,
        "POST /ui/packages/vnf/upload HTTP/1.1\r\nHost: x\r\n"
        "Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 2147483648\r\n\r\n",
    )
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
    # the sign-in form is small: a large one is 413 before it is read
    answer = _raw(
        live,
        "POST /ui/login HTTP/1.1\r\nHost: x\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 10000000\r\n\r\n",
    )
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    # signed in, a non-upload GUI write is held to the JSON limit (1 MiB)
    s = _session(live)
    cookie = "; ".join(f"{k}={v}" for k, v in s.cookies.items())
    answer = _raw(
        live,
        f"POST /ui/logout HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 5000000\r\n\r\n",
    )
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


def test_gui_errors_are_pages_and_api_errors_stay_problem_details(live: LiveApi) -> None:
    s = _session(live)
    r = s.get("/ui/no-such-page")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert 'data-testid="problem"' in r.text and "no resource at /ui/no-such-page" in r.text
    r = s.get("/ui/no-such-page", headers={"HX-Request": "true"})
    assert r.status_code == 404 and "<html" not in r.text and "problem" in r.text
    api = live.client.get("/nslcm/v2/ns_instances/nope")
    assert api.headers["content-type"] == "application/problem+json"
