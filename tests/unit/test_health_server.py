"""The stdlib ``/healthz`` server a worker process answers probes with."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from nfvo.health import HealthServer


@pytest.fixture
def server() -> Iterator[HealthServer]:
    calls: list[int] = []

    def body() -> dict[str, object]:
        calls.append(1)
        return {"status": "ok", "role": "worker", "calls": len(calls)}

    srv = HealthServer("127.0.0.1", 0, body)
    srv.start()
    yield srv
    srv.stop()


def base(srv: HealthServer) -> str:
    return f"http://127.0.0.1:{srv.port}"


def test_healthz_answers_the_current_body(server: HealthServer) -> None:
    assert server.port != 0
    first = httpx.get(base(server) + "/healthz")
    assert first.status_code == 200
    assert first.headers["content-type"] == "application/json"
    assert first.json() == {"status": "ok", "role": "worker", "calls": 1}
    assert httpx.get(base(server) + "/healthz?x=1").json()["calls"] == 2  # asked every time
    head = httpx.head(base(server) + "/healthz")
    assert head.status_code == 200 and head.content == b""


def test_other_paths_are_404_problem_details(server: HealthServer) -> None:
    for method in ("GET", "POST", "DELETE"):
        r = httpx.request(method, base(server) + "/nslcm/v2/ns_instances?limit=1")
        assert r.status_code == 404
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json() == {
            "type": "about:blank",
            "title": "Not Found",
            "status": 404,
            "detail": "no resource at /nslcm/v2/ns_instances",
            "instance": "/nslcm/v2/ns_instances",
        }


def test_other_methods_on_healthz_are_405(server: HealthServer) -> None:
    r = httpx.post(base(server) + "/healthz", json={})
    assert r.status_code == 405
    assert r.headers["allow"] == "GET, HEAD"
    assert r.json()["detail"] == "method POST is not allowed on /healthz"


def test_keep_alive_connection_serves_several_requests(server: HealthServer) -> None:
    with httpx.Client(base_url=base(server)) as c:
        assert [c.get("/healthz").status_code for _ in range(3)] == [200, 200, 200]
        assert c.get("/nope").status_code == 404
        assert c.get("/healthz").json()["calls"] == 4


def test_stop_closes_the_port() -> None:
    srv = HealthServer("127.0.0.1", 0, lambda: {"status": "ok"})
    srv.start()
    url = base(srv) + "/healthz"
    assert httpx.get(url).status_code == 200
    srv.stop()
    srv.stop()  # idempotent
    with pytest.raises(httpx.ConnectError):
        httpx.get(url)


def test_a_busy_port_fails_to_start() -> None:
    first = HealthServer("127.0.0.1", 0, lambda: {})
    first.start()
    try:
        with pytest.raises(OSError):
            HealthServer("127.0.0.1", first.port, lambda: {}).start()
    finally:
        first.stop()


def test_a_request_body_does_not_spoil_the_next_request(server: HealthServer) -> None:
    with httpx.Client(base_url=base(server)) as c:
        assert c.post("/healthz", content=b"x" * 5000).status_code == 405
        assert c.put("/other", content=b"y" * 100).status_code == 404
        assert c.get("/healthz").status_code == 200
