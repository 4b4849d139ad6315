"""Throw-away PostgreSQL schemas for tests: one per database fixture, dropped afterwards
together with the durable engine's schema beside it."""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Iterator
from urllib.parse import quote

from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

# The durable engine's schemas (nfvo.lcm.engine._system_db) beside each test schema: its
# background threads may outlive a fixture, so they are dropped once, when the session ends.
ENGINE_SCHEMAS: list[tuple[str, str]] = []


def pg_schema_url(base: str) -> Iterator[str]:
    """A fresh schema on the test PostgreSQL, as a URL whose search_path points at it."""
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
        ENGINE_SCHEMAS.append((base, f"{schema}_dbos"))


def drop_engine_schemas() -> None:
    """Drop every durable-engine schema the session's fixtures left (end of session)."""
    by_base: dict[str, list[str]] = {}
    for base, schema in ENGINE_SCHEMAS:
        by_base.setdefault(base, []).append(schema)
    ENGINE_SCHEMAS.clear()
    for base, schemas in by_base.items():
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            # the last engine of the session may still hold a lock: never wait for it
            c.execute(text("SET lock_timeout = '2s'"))
            for schema in schemas:
                try:
                    c.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                except OperationalError:
                    warnings.warn(f"test schema {schema} left behind (locked)", stacklevel=1)
        admin.dispose()
