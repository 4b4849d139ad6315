"""Shared fixtures: databases (SQLite always, PostgreSQL when configured) and API clients."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.pgschema import drop_engine_schemas, pg_schema_url

# The suite's subscribers, token endpoints and package servers listen on loopback: allow it
# for this process and the servers it spawns (they inherit the environment). The SSRF tests
# (tests/security/test_ssrf.py) build their guards and servers with an empty allow-list.
os.environ["NFVO_OUTBOUND_ALLOW"] = "127.0.0.0/8,::1/128"

PG_ENV = "NFVO_TEST_DATABASE_URL"
PG_SKIP = (
    f"PostgreSQL tests need {PG_ENV}, e.g. "
    f"{PG_ENV}=postgresql+psycopg://postgres@127.0.0.1:5432/test (set by .ci/run)"
)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    drop_engine_schemas()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Every inventory/catalog test runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'nfvo.db'}"
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(PG_SKIP)
    yield from pg_schema_url(base)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh schema on the test PostgreSQL (skips when it is not configured)."""
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(PG_SKIP)
    yield from pg_schema_url(base)
