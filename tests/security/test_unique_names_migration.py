"""Migration 0010: VIM account and SDN controller names become unique across tenants, on
SQLite and PostgreSQL; duplicates already stored are renamed (the oldest keeps the name)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from tests.support.migrations import alembic

from nfvo.inventory.db import Database

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _vim(conn, vim_id: str, name: str, tenant: str | None, age: int) -> None:
    conn.execute(
        text(
            "INSERT INTO vim_accounts (id, tenant_id, name, vim_type, config, operational_state,"
            " vim_info, revision, created_at, updated_at) VALUES (:id, :t, :n, 'sim', :c,"
            " 'ENABLED', :c, 1, :at, :at)"
        ),
        {"id": vim_id, "t": tenant, "n": name, "c": json.dumps({}), "at": T0 + timedelta(age)},
    )


def _sdn(conn, sdn_id: str, name: str, tenant: str | None, age: int) -> None:
    conn.execute(
        text(
            "INSERT INTO sdn_controllers (id, tenant_id, name, sdn_type, config,"
            " operational_state, revision, created_at, updated_at) VALUES (:id, :t, :n, 'sim',"
            " :c, 'ENABLED', 1, :at, :at)"
        ),
        {"id": sdn_id, "t": tenant, "n": name, "c": json.dumps({}), "at": T0 + timedelta(age)},
    )


def _names(db: Database, table: str) -> dict[str, str]:
    with db.engine.connect() as conn:
        return dict(conn.execute(text(f"SELECT id, name FROM {table}")).all())  # noqa: S608


def test_duplicates_renamed_then_refused_and_downgrade(db_url: str) -> None:
    db = Database(db_url)
    try:
        alembic(db, "upgrade", "0008")
        with db.engine.begin() as conn:
            _vim(conn, "bbbbbbbb-0000-4000-8000-000000000002", "lab", "tenant-b", 2)
            _vim(conn, "aaaaaaaa-0000-4000-8000-000000000001", "lab", "tenant-a", 1)
            _vim(conn, "cccccccc-0000-4000-8000-000000000003", "lab", None, 3)
            _vim(conn, "dddddddd-0000-4000-8000-000000000004", "other", None, 4)
            _sdn(conn, "eeeeeeee-0000-4000-8000-000000000005", "wan", "tenant-a", 1)
            _sdn(conn, "ffffffff-0000-4000-8000-000000000006", "wan", "tenant-b", 2)
        alembic(db, "upgrade", "0010")
        assert _names(db, "vim_accounts") == {
            "aaaaaaaa-0000-4000-8000-000000000001": "lab",  # the oldest keeps its name
            "bbbbbbbb-0000-4000-8000-000000000002": "lab-bbbbbbbb",
            "cccccccc-0000-4000-8000-000000000003": "lab-cccccccc",
            "dddddddd-0000-4000-8000-000000000004": "other",
        }
        assert _names(db, "sdn_controllers") == {
            "eeeeeeee-0000-4000-8000-000000000005": "wan",
            "ffffffff-0000-4000-8000-000000000006": "wan-ffffffff",
        }
        with pytest.raises(IntegrityError), db.engine.begin() as conn:
            _vim(conn, "99999999-0000-4000-8000-000000000009", "other", "tenant-c", 9)
        with pytest.raises(IntegrityError), db.engine.begin() as conn:
            _sdn(conn, "99999999-0000-4000-8000-000000000009", "wan", None, 9)
        alembic(db, "downgrade", "0008")
        with db.engine.begin() as conn:  # no index any more: a duplicate is stored again
            _vim(conn, "99999999-0000-4000-8000-000000000009", "other", "tenant-c", 9)
    finally:
        db.dispose()
