"""Run one Alembic command of nfvo's migrations on a test database."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from nfvo.inventory.db import MIGRATIONS_DIR, Database


def alembic(db: Database, action: str, revision: str) -> None:
    """``alembic <action> <revision>`` (upgrade / downgrade) on ``db``, in one transaction."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, action)(cfg, revision)
