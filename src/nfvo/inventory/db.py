"""Engine, sessions and schema migrations. The one place nfvo opens database connections."""

from __future__ import annotations

import fcntl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from nfvo.private_files import private_file, private_sqlite_file

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_PG_MIGRATION_LOCK = 7_201_455_001  # arbitrary constant: one migrator at a time across processes
_MIGRATION_THREAD_LOCK = threading.Lock()  # alembic's context is process-global


def sqlite_path(url: str) -> str | None:
    """The file of a ``sqlite:///`` URL; None for other databases and in-memory SQLite."""
    if not url.startswith("sqlite"):
        return None
    from sqlalchemy.engine import make_url

    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return database


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


class Database:
    """Owns the engine and hands out transactional sessions.

    Every component persists through repositories that receive a session from
    here; nothing else creates engines or connections.
    """

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        if self.is_sqlite:
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 10}
        else:
            kwargs.update(pool_pre_ping=True, pool_size=10, max_overflow=10)
        db_file = sqlite_path(url)
        if db_file is not None:
            private_sqlite_file(db_file)
        self.engine: Engine = create_engine(url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        s = self._sessions()
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise
        finally:
            s.close()

    @contextmanager
    def _sqlite_file_lock(self) -> Iterator[None]:
        """Serialise first-time migrations of one SQLite file across processes."""
        db_path = self.engine.url.database
        if not self.is_sqlite or not db_path or db_path == ":memory:":
            yield
            return
        lock = f"{db_path}.migrate-lock"
        private_file(lock)
        with open(lock, "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def migrate(self) -> None:
        """Create or upgrade the schema to the latest revision (safe to call from
        several processes at once on PostgreSQL: an advisory lock serialises them)."""
        from alembic import command  # imported here: alembic is only needed at start
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        with _MIGRATION_THREAD_LOCK, self._sqlite_file_lock(), self.engine.begin() as conn:
            if not self.is_sqlite:
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
