"""Keyset (cursor) paging over one table, with simple column predicates evaluated in SQL.

Every list of the API reads its rows through :func:`fetch_after`: rows in a stable order by a
sort key (a timestamp, then the primary key), starting after the key of the last row a client
saw, with tenant visibility and the translatable filter terms in the ``WHERE`` clause. So a page
costs one indexed range scan of ``limit`` rows whatever the size of the table.

The predicates come in a neutral form, :class:`ColumnTest`, so that this module knows nothing of
the REST filter syntax; the API layer decides which filter terms translate faithfully.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Collection, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    false,
    func,
    literal,
    not_,
    null,
    or_,
    select,
    true,
    tuple_,
)
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.base import ExecutableOption

from nfvo.query import ColumnTest, PageQuery, SortKey, TestOp

# The query values are shared with the API and the services (nfvo.query); re-exported here.
__all__ = ["ColumnTest", "PageQuery", "SortKey", "TestOp", "fetch_after", "owned_by"]


def _text_order(col: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    # PostgreSQL orders text by the database collation; "C" compares bytes, which for UTF-8
    # is code-point order. SQLite's default BINARY collation already is.
    return col.collate("C") if dialect == "postgresql" else col


def _contains(col: ColumnElement[Any], value: str, dialect: str) -> ColumnElement[bool]:
    # LIKE is case-insensitive on SQLite and needs escaping; position functions are neither
    fn = func.strpos(col, value) if dialect == "postgresql" else func.instr(col, value)
    return fn > 0


def _positive(col: ColumnElement[Any], test: ColumnTest, dialect: str) -> ColumnElement[bool]:
    if test.op == "in":
        return col.in_(list(test.values)) if test.values else false()
    if test.op == "contains":
        return or_(false(), *(_contains(col, str(v), dialect) for v in test.values))
    (value,) = test.values
    ordered = _text_order(col, dialect) if isinstance(value, str) else col
    if test.op == "gt":
        return ordered > value
    if test.op == "gte":
        return ordered >= value
    if test.op == "lt":
        return ordered < value
    return ordered <= value


def sql_condition(model: type[Any], test: ColumnTest, dialect: str) -> ColumnElement[bool]:
    """The SQL condition of one :class:`ColumnTest` on ``model``'s column."""
    col = getattr(model, test.column)
    positive = and_(col.is_not(None), _positive(col, test, dialect))
    if not test.negated:
        return positive
    return or_(col.is_(None), not_(_positive(col, test, dialect)))


def owned_by(model: type[Any], tenant: str | None) -> ColumnElement[bool]:
    """Rows a caller may see under ``Scope.owns``: all for a global caller, else its own."""
    return true() if tenant is None else model.tenant_id == tenant


def own_or_shared(model: type[Any], tenant: str | None) -> ColumnElement[bool]:
    """Rows a caller may see under ``Scope.sees``: all for a global caller, else its own and
    the shared ones (no tenant)."""
    if tenant is None:
        return true()
    return or_(model.tenant_id == tenant, model.tenant_id.is_(None))


@lru_cache(maxsize=64)
def _record_type(names: tuple[str, ...]) -> type[tuple[Any, ...]]:
    return namedtuple("Record", names)  # type: ignore[return-value]


def fetch_after(
    session: Session,
    model: type[Any],
    sort: tuple[InstrumentedAttribute[Any], InstrumentedAttribute[Any]],
    query: PageQuery,
    *,
    visible: ColumnElement[bool] | None = None,
    options: Sequence[ExecutableOption] = (),
    without: Collection[str] = (),
) -> list[Any]:
    """Up to ``query.limit`` rows of ``model`` ordered by ``sort`` strictly after
    ``query.after``, visible and passing every test.

    The rows are ORM objects; with ``without`` (column names) they are read-only records with
    an attribute per column, where those columns are not read and hold None: a list spares
    reading and decoding large columns its page does not show."""
    dialect = session.get_bind().dialect.name
    if without:
        table = model.__table__
        columns = [null().label(c.name) if c.name in without else c for c in table.c]
        stmt = select(*columns)
    else:
        stmt = select(model)
    stmt = stmt.order_by(*sort).limit(query.limit)
    if visible is not None:
        stmt = stmt.where(visible)
    if query.after is not None:
        bound = (literal(v, type_=c.type) for c, v in zip(sort, query.after, strict=True))
        stmt = stmt.where(tuple_(*sort) > tuple_(*bound))
    for test in query.tests:
        stmt = stmt.where(sql_condition(model, test, dialect))
    if options:
        stmt = stmt.options(*options)
    result = session.execute(stmt)
    if not without:
        return list(result.scalars())
    record = _record_type(tuple(result.keys()))
    return [record._make(row) for row in result]
