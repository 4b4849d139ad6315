"""The client's HTTP session: tokens from the environment, renewal of an expired or refused
token, errors with hints, paging, lookup by name."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from tests.support.fake_nfvo import URL, FakeApi, problem

from nfvo.cli.client.config import ConfigFile, Profile, resolve
from nfvo.cli.client.errors import (
    EXIT_AUTH,
    EXIT_CONNECTION,
    ApiError,
    ConnectionFailed,
    NotAuthenticated,
    UsageError,
)
from nfvo.cli.client.session import ApiSession


def session(tmp_path: Path, env: dict[str, str], profile: Profile | None = None) -> ApiSession:
    cfg = ConfigFile(tmp_path / "config.yaml")
    if profile is not None:
        cfg.profiles[profile.name] = profile
        cfg.current = profile.name
    return ApiSession(resolve(cfg, None, env))


def creds(api: FakeApi) -> dict[str, str]:
    return {"NFVO_URL": URL, "NFVO_USER": "admin", "NFVO_PASSWORD": api.password}


def test_environment_credentials_get_a_token_once(api: FakeApi, tmp_path: Path) -> None:
    api.on("GET", "/admin/v1/tenants", [])
    with session(tmp_path, creds(api)) as s:
        assert s.get("/admin/v1/tenants") == []
        assert s.get("/admin/v1/tenants") == []
    assert api.issued == 1
    assert api.requests[-1].headers["authorization"] == "Bearer tok-1"
    assert api.requests[-1].headers["user-agent"].startswith("nfvo-cli/")
    assert not (tmp_path / "config.yaml").exists()  # nothing cached without a profile


def test_expired_cached_token_is_renewed_and_saved(api: FakeApi, tmp_path: Path) -> None:
    api.on("GET", "/x", {"ok": True})
    old = Profile("default", URL, "admin", "tok-old", time.time() - 10)
    with session(tmp_path, creds(api), old) as s:
        assert s.get("/x") == {"ok": True}
    assert api.issued == 1
    assert [r.url.path for r in api.requests] == ["/oauth2/token", "/x"]  # old one not sent
    saved = ConfigFile.load(tmp_path / "config.yaml").profiles["default"]
    assert saved.token == "tok-1" and saved.expires_at > time.time() + 3000


def test_a_refused_token_is_renewed_once_then_the_request_repeated(
    api: FakeApi, tmp_path: Path
) -> None:
    api.on("POST", "/y", lambda r: httpx.Response(201, json={"body": r.read().decode()}))
    revoked = Profile("default", URL, "admin", "tok-revoked", time.time() + 3600)
    with session(tmp_path, creds(api), revoked) as s:
        r = s.post("/y", {"a": 1})
    assert r.status_code == 201 and r.json() == {"body": '{"a":1}'}
    assert [r.url.path for r in api.requests] == ["/y", "/oauth2/token", "/y"]


def test_a_cached_token_serves_without_credentials(api: FakeApi, tmp_path: Path) -> None:
    api.valid.add("tok-cached")
    api.on("GET", "/z", [1])
    good = Profile("default", URL, "admin", "tok-cached", time.time() + 600)
    with session(tmp_path, {}, good) as s:
        assert s.get("/z") == [1]
    assert api.issued == 0


def test_without_credentials_401_says_how_to_log_in(api: FakeApi, tmp_path: Path) -> None:
    expired = Profile("lab", URL, "admin", "tok-x", time.time() - 1)
    with session(tmp_path, {}, expired) as s, pytest.raises(NotAuthenticated) as exc:
        s.get("/z")
    assert exc.value.exit_code == EXIT_AUTH
    assert "profile 'lab'" in exc.value.message and "nfvo login --profile lab" in exc.value.hint
    with session(tmp_path, {"NFVO_URL": URL}) as s, pytest.raises(NotAuthenticated) as exc:
        s.get("/z")
    assert "requires authentication" in exc.value.message and "nfvo login" in exc.value.hint


def test_wrong_password_is_not_authenticated(api: FakeApi, tmp_path: Path) -> None:
    env = creds(api) | {"NFVO_PASSWORD": "wrong"}
    with session(tmp_path, env) as s, pytest.raises(NotAuthenticated, match="refused"):
        s.get("/z")


def test_problem_details_become_api_errors(api: FakeApi, tmp_path: Path) -> None:
    api.on("POST", "/bad", lambda r: problem(400, "nsFlavourId is required", field="nsFlavourId"))
    api.on("GET", "/html", lambda r: httpx.Response(502, text="<html>bad gateway</html>"))
    with session(tmp_path, creds(api)) as s:
        with pytest.raises(ApiError) as exc:
            s.post("/bad", {})
        assert exc.value.status == 400 and exc.value.problem["field"] == "nsFlavourId"
        with pytest.raises(ApiError) as exc:
            s.get("/html")
        assert exc.value.status == 502 and "bad gateway" in exc.value.problem["detail"]


def test_connection_errors_carry_a_hint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from nfvo.cli.client import session as mod

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Connection refused", request=request)

    monkeypatch.setattr(mod, "TRANSPORT", httpx.MockTransport(refuse))
    with session(tmp_path, {"NFVO_URL": URL}) as s, pytest.raises(ConnectionFailed) as exc:
        s.get("/x")
    assert exc.value.exit_code == EXIT_CONNECTION
    assert URL in exc.value.message and "NFVO_URL" in exc.value.hint


def test_lists_follow_next_links(api: FakeApi, tmp_path: Path) -> None:
    def page(r: httpx.Request) -> httpx.Response:
        marker = r.url.params.get("nextpage_opaque_marker")
        if marker is None:
            link = f'<{URL}/items?nextpage_opaque_marker=m1>; rel="next"'
            return httpx.Response(200, json=[{"id": "a"}, {"id": "b"}], headers={"Link": link})
        return httpx.Response(200, json=[{"id": "c"}])

    api.on("GET", "/items", page)
    with session(tmp_path, creds(api)) as s:
        assert [i["id"] for i in s.list("/items")] == ["a", "b", "c"]


def test_find_by_id_then_by_unique_name(api: FakeApi, tmp_path: Path) -> None:
    items = [{"id": "1", "name": "lab"}, {"id": "2", "name": "twin"}, {"id": "3", "name": "twin"}]
    api.on("GET", "/v", items)
    for it in items:
        api.on("GET", f"/v/{it['id']}", it)
    with session(tmp_path, creds(api)) as s:
        assert s.find("/v", "2")["id"] == "2"
        assert s.find("/v", "lab")["id"] == "1"
        with pytest.raises(UsageError, match="named 'twin'"):
            s.find("/v", "twin")
        with pytest.raises(ApiError) as exc:
            s.find("/v", "nothing")
        assert exc.value.status == 404
