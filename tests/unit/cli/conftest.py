"""Fixtures of the client's unit tests: the fake API installed as the HTTP transport."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.support.fake_nfvo import URL, FakeApi

from nfvo.cli.client import context, session


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> FakeApi:
    fake = FakeApi()
    monkeypatch.setattr(session, "TRANSPORT", httpx.MockTransport(fake))
    return fake


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, api: FakeApi) -> Iterator[Path]:
    """Environment credentials for the fake API; the config dir under tmp_path."""
    for name in ("NFVO_PROFILE", "NFVO_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("NFVO_URL", URL)
    monkeypatch.setenv("NFVO_USER", "admin")
    monkeypatch.setenv("NFVO_PASSWORD", api.password)
    context.reset()
    yield tmp_path / "config" / "nfvo" / "config.yaml"
    context.reset()
