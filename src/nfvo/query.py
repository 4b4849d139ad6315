"""Plain values that describe one page of a list: which rows, after which sort key, passing
which column tests. Shared by the API (which translates SOL013 filters into them), the
services and the inventory (which turns them into SQL); they depend on nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

SortKey = tuple[datetime, str]
TestOp = Literal["in", "gt", "gte", "lt", "lte", "contains"]


@dataclass(frozen=True)
class ColumnTest:
    """One predicate on one column: the column is not null and satisfies ``op`` for any of
    ``values``; ``negated`` turns it into "null, or satisfies it for none of them".

    ``in`` tests equality with any value, ``gt``..``lte`` order against the single value
    (text in code-point order, as Python compares strings), ``contains`` substring containment
    (case-sensitive) of any value.
    """

    column: str
    op: TestOp
    values: tuple[str | bool, ...]
    negated: bool = False


@dataclass(frozen=True)
class PageQuery:
    """What one SQL chunk of a list asks for: rows after ``after`` passing every test."""

    after: SortKey | None
    tests: tuple[ColumnTest, ...]
    limit: int
