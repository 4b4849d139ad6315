"""The RCA templates in use: the built-in ones (package files) and the custom ones stored
through ``/admin/v1/rca_templates`` (table ``rca_templates``).

A custom template is validated whole before it is stored (422 naming the field); its name
may not be a built-in's (409) nor a stored one's (409). Built-in templates cannot be
deleted. :func:`load` and :func:`mark` are what the engine uses to pick up changes.
"""

from __future__ import annotations

import logging
from typing import Any

from nfvo.errors import Conflict, NotFound, UnprocessableEntity
from nfvo.inventory.db import Database
from nfvo.inventory.rca_repo import RcaTemplateRepository, RcaTemplateRow
from nfvo.policy.rca import templates as tpl
from nfvo.policy.rca.templates import Template

log = logging.getLogger(__name__)
MAX_CUSTOM = 100  # custom templates stored


def mark(db: Database) -> tuple[tuple[str, str], ...]:
    """Cheap: what changes when a custom template is added or removed."""
    with db.session() as s:
        return RcaTemplateRepository(s).mark()


def load(db: Database) -> tuple[tuple[tuple[str, str], ...], list[Template]]:
    """(the :func:`mark` read, the built-in templates then the custom ones). A stored
    template that no longer validates is logged and left out."""
    out = tpl.builtins()
    with db.session() as s:
        repo = RcaTemplateRepository(s)
        now = repo.mark()
        rows = [(r.name, r.text) for r in repo.all()]
    for name, text in rows:
        try:
            out.append(tpl.parse(text))
        except tpl.TemplateError as exc:
            log.error("rca: stored template %s is not usable: %s", name, exc.detail)
    return now, out


def view(t: Template) -> dict[str, Any]:
    """A template as the API shows it."""
    return {
        "name": t.name,
        "description": t.description,
        "builtin": t.builtin,
        "scenarios": [
            {
                "name": s.name,
                "condition": s.condition,
                "actions": [a.kind for a in s.actions],
            }
            for s in t.scenarios
        ],
        "template": t.text,
    }


class TemplateStore:
    """Lists, reads, adds and removes templates (the admin API's service)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def all(self) -> list[Template]:
        """Every template, built-in first (each group by name)."""
        return load(self.db)[1]

    def get(self, name: str) -> Template:
        """One template by name (NotFound)."""
        for t in tpl.builtins():
            if t.name == name:
                return t
        with self.db.session() as s:
            row = RcaTemplateRepository(s).get(name)
            text = row.text if row is not None else None
        if text is None:
            raise NotFound(f"RCA template {name!r} not found")
        return tpl.parse(text)

    def create(self, text: str) -> Template:
        """Validate and store a custom template (422 naming the problem; 409 for a name in
        use)."""
        t = tpl.parse(text)
        if any(b.name == t.name for b in tpl.builtins()):
            raise Conflict(f"{t.name!r} is a built-in template's name", field="metadata.name")
        with self.db.session() as s:
            repo = RcaTemplateRepository(s)
            if repo.count() >= MAX_CUSTOM:
                raise UnprocessableEntity(
                    f"{MAX_CUSTOM} custom templates are stored; delete one first"
                )
            row = RcaTemplateRow(name=t.name, description=t.description, text=text)
            if not repo.add(row):
                raise Conflict(f"a template named {t.name!r} exists", field="metadata.name")
        return t

    def delete(self, name: str) -> None:
        """Remove a custom template (409 for a built-in, 404 for an unknown name)."""
        if any(b.name == name for b in tpl.builtins()):
            raise Conflict(f"{name!r} is a built-in template and cannot be deleted")
        with self.db.session() as s:
            if not RcaTemplateRepository(s).delete(name):
                raise NotFound(f"RCA template {name!r} not found")
