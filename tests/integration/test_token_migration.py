"""Migration 0009, on SQLite and PostgreSQL: every existing API client gets a token
generation of its own, the signing-key table appears, and the downgrade undoes both."""

from __future__ import annotations

from sqlalchemy import inspect, text
from tests.support.migrations import alembic

from nfvo.inventory.db import Database


def test_existing_clients_get_distinct_generations(db_url: str) -> None:
    db = Database(db_url)
    try:
        alembic(db, "upgrade", "0008")
        with db.engine.begin() as c:
            for cid in ("admin", "ops", "bot"):
                c.execute(
                    text(
                        "INSERT INTO oauth_clients (client_id, secret_hash, role, disabled, "
                        "created_at) VALUES (:c, 'scrypt$x', 'reader', false, CURRENT_TIMESTAMP)"
                    ),
                    {"c": cid},
                )
        alembic(db, "upgrade", "0009")
        with db.engine.connect() as c:
            rows = c.execute(text("SELECT client_id, token_generation FROM oauth_clients")).all()
            gens = {r[0]: r[1] for r in rows}
        assert set(gens) == {"admin", "ops", "bot"}
        assert all(len(g) == 16 for g in gens.values()) and len(set(gens.values())) == 3
        assert "jwt_signing_keys" in inspect(db.engine).get_table_names()
        alembic(db, "downgrade", "0008")
        assert "jwt_signing_keys" not in inspect(db.engine).get_table_names()
        cols = {c["name"] for c in inspect(db.engine).get_columns("oauth_clients")}
        assert "token_generation" not in cols
        alembic(db, "upgrade", "head")
    finally:
        db.dispose()
