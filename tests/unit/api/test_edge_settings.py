"""The request edge's settings, its per-route limits and the server configuration built from
them (their behaviour on the wire: tests/integration/test_http_edge.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nfvo.api.edge import TOKEN_FORM_BYTES, _declared_body, body_limit
from nfvo.api.server import GuardedH11Protocol, server_config
from nfvo.config import EDGE_ENV, Settings, SettingsError


def test_defaults(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path)
    assert s.max_json_bytes == 1 << 20
    assert s.header_timeout_seconds == 5.0 and s.body_timeout_seconds == 10.0
    assert s.body_min_rate == 16 << 10
    s.validate()


@pytest.mark.parametrize(
    ("var", "raw", "attr", "value"),
    [
        ("NFVO_MAX_JSON_BYTES", "65536", "max_json_bytes", 65536),
        ("NFVO_MAX_UPLOAD_BYTES", "1048576", "max_upload_bytes", 1 << 20),
        ("NFVO_HEADER_TIMEOUT", "2.5", "header_timeout_seconds", 2.5),
        ("NFVO_BODY_TIMEOUT", "30", "body_timeout_seconds", 30.0),
        ("NFVO_BODY_MIN_RATE", "0", "body_min_rate", 0),
        ("NFVO_KEEP_ALIVE", "15", "keep_alive_seconds", 15),
        ("NFVO_MAX_CONNECTIONS", "200", "max_connections", 200),
        ("NFVO_MAX_HEADER_BYTES", "32768", "max_header_bytes", 32768),
    ],
)
def test_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, var: str, raw: str, attr: str, value: float
) -> None:
    monkeypatch.setenv(var, raw)
    assert getattr(Settings.from_env(data_dir=tmp_path), attr) == value


@pytest.mark.parametrize("var", [var for _, var, _, _ in EDGE_ENV])
@pytest.mark.parametrize("raw", ["ten", "-1", "nan", "0.01"])
def test_bad_values_stop_the_start_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, var: str, raw: str
) -> None:
    monkeypatch.setenv(var, raw)
    with pytest.raises(SettingsError, match=var):
        Settings.from_env(data_dir=tmp_path)


def test_limits_by_route(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path, max_json_bytes=1000, max_upload_bytes=5000)
    assert body_limit(s, "POST", "/nslcm/v2/ns_instances") == (1000, "request body")
    assert body_limit(s, "PUT", "/vnfpkgm/v1/vnf_packages/p/package_content")[0] == 5000
    assert body_limit(s, "PUT", "/nsd/v2/ns_descriptors/d/nsd_content")[0] == 5000
    assert body_limit(s, "PUT", "/nsd/v2/pnf_descriptors/d/pnfd_content")[0] == 5000
    # the URI of an upload is a small JSON body; only PUT carries an archive
    assert body_limit(s, "POST", "/vnfpkgm/v2/vnf_packages/p/package_content")[0] == 1000
    assert body_limit(s, "POST", "/oauth2/token")[0] == TOKEN_FORM_BYTES


def _scope(*headers: tuple[bytes, bytes]) -> dict[str, object]:
    return {"type": "http", "headers": list(headers)}


def test_which_requests_carry_a_body() -> None:
    assert _declared_body(_scope()) == (False, None)
    assert _declared_body(_scope((b"content-length", b"0"))) == (False, 0)
    assert _declared_body(_scope((b"content-length", b"12"))) == (True, 12)
    chunked = (b"transfer-encoding", b"chunked")
    assert _declared_body(_scope(chunked)) == (True, None)
    assert _declared_body(_scope((b"content-length", b"12"), chunked)) == (True, None)


def test_server_config_carries_the_bounds(tmp_path: Path) -> None:
    s = Settings(
        data_dir=tmp_path,
        header_timeout_seconds=3,
        keep_alive_seconds=7,
        max_connections=50,
        max_header_bytes=8192,
    )
    config = server_config(object(), s, "127.0.0.1", 0, "WARNING")
    assert config.http is GuardedH11Protocol
    assert config.header_timeout == 3
    assert config.timeout_keep_alive == 7
    assert config.limit_concurrency == 50
    assert config.h11_max_incomplete_event_size == 8192
