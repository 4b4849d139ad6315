"""Fixtures for tests against a real nfvo server on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.live import LiveApi, start_live


@pytest.fixture
def live(db_url: str, tmp_path: Path) -> Iterator[LiveApi]:
    """A running nfvo (SQLite and PostgreSQL variants through ``db_url``)."""
    api = start_live(tmp_path / "data", db_url)
    try:
        yield api
    finally:
        api.close()
