"""Custom root-cause analysis templates: the table and its repository.

One row per custom template, keyed by its name (the unique key is what refuses a second
template of one name, on SQLite and PostgreSQL alike). ``text`` is the YAML document as
posted; the built-in templates are package files, not rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import DateTime, String, Text, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from nfvo.inventory.models import Base, utcnow


class RcaTemplateRow(Base):
    """One custom RCA template (YAML ``text``), by ``name``."""

    __tablename__ = "rca_templates"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    description: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RcaTemplateRepository:
    """Custom templates: add once per name, read, list, remove."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, row: RcaTemplateRow) -> bool:
        """Insert ``row``; False when a template of that name exists."""
        try:
            with self.s.begin_nested():
                self.s.add(row)
        except IntegrityError:
            return False
        return True

    def get(self, name: str) -> RcaTemplateRow | None:
        return self.s.get(RcaTemplateRow, name)

    def all(self) -> Sequence[RcaTemplateRow]:
        return self.s.scalars(select(RcaTemplateRow).order_by(RcaTemplateRow.name)).all()

    def count(self) -> int:
        return int(self.s.scalar(select(func.count()).select_from(RcaTemplateRow)) or 0)

    def delete(self, name: str) -> bool:
        done = self.s.execute(
            delete(RcaTemplateRow)
            .where(RcaTemplateRow.name == name)
            .execution_options(synchronize_session=False)
        ).rowcount
        return bool(done)

    def mark(self) -> tuple[tuple[str, str], ...]:
        """What changes whenever a template is added or removed."""
        rows = self.s.execute(
            select(RcaTemplateRow.name, RcaTemplateRow.created_at).order_by(RcaTemplateRow.name)
        )
        return tuple((n, str(c)) for n, c in rows)
