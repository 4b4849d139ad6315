"""TOSCA constraint clauses (equal, greater_than, in_range, valid_values, pattern ...).

A clause is compiled once from its definition; its arguments are converted to
comparable form (scalar units to base units, versions to tuples) the first time
it is checked against a value of a given primitive type.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from nfvo.catalog.errors import PackageError
from nfvo.catalog.tosca.scalar import SCALAR_KINDS, parse_scalar, parse_version

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "equal": lambda v, a: v == a,
    "greater_than": lambda v, a: v > a,
    "greater_or_equal": lambda v, a: v >= a,
    "less_than": lambda v, a: v < a,
    "less_or_equal": lambda v, a: v <= a,
}
_ALIASES = {
    "eq": "equal",
    "gt": "greater_than",
    "ge": "greater_or_equal",
    "lt": "less_than",
    "le": "less_or_equal",
    "valid_values": "valid_values",
}
OPERATORS = frozenset(
    {
        *_COMPARE,
        "in_range",
        "valid_values",
        "length",
        "min_length",
        "max_length",
        "pattern",
        "schema",
    }
)


def comparable(value: Any, prim: str) -> Any:
    """Value in a form that compares correctly for ``prim`` (raises ValueError)."""
    if prim in SCALAR_KINDS:
        return parse_scalar(value, prim).base
    if prim == "version":
        return parse_version(value)
    return value


@dataclass(slots=True)
class Constraint:
    """One compiled constraint clause; ``check`` returns an error message or None."""

    op: str
    arg: Any
    file: str
    line: int | None
    _cache: dict[str, Any] = field(default_factory=dict)

    def _arg(self, prim: str) -> Any:
        got = self._cache.get(prim)
        if got is None:
            got = self._convert(prim)
            self._cache[prim] = got
        return got

    def _convert(self, prim: str) -> Any:
        try:
            if self.op == "in_range":
                lo, hi = self.arg
                upper = float("inf") if hi == "UNBOUNDED" else comparable(hi, prim)
                return (comparable(lo, prim), upper)
            if self.op == "valid_values":
                return [comparable(x, prim) for x in self.arg]
            if self.op == "pattern":
                return re.compile(self.arg)
            if self.op in _COMPARE:
                return comparable(self.arg, prim)
            return self.arg
        except (ValueError, TypeError, re.error) as exc:
            raise PackageError(
                "INVALID_CONSTRAINT",
                f"bad {self.op} argument {self.arg!r}: {exc}",
                file=self.file,
                line=self.line,
            ) from None

    def check(self, value: Any, prim: str) -> str | None:
        """Check ``value`` (of primitive type ``prim``); return a message when violated."""
        op = self.op
        if op == "schema":
            return None
        arg = self._arg(prim)
        try:
            if op in ("length", "min_length", "max_length"):
                size = len(value)
                ok = (
                    size == arg
                    if op == "length"
                    else size >= arg
                    if op == "min_length"
                    else size <= arg
                )
            elif op == "pattern":
                ok = isinstance(value, str) and arg.fullmatch(value) is not None
            elif prim == "range" and isinstance(value, list):
                return next((m for v in value if (m := self.check(v, "integer"))), None)
            else:
                val = comparable(value, prim)
                if op == "in_range":
                    ok = arg[0] <= val <= arg[1]
                elif op == "valid_values":
                    ok = val in arg
                else:
                    ok = _COMPARE[op](val, arg)
        except (TypeError, ValueError):
            ok = False
        if ok:
            return None
        return f"value {value!r} violates constraint {op}: {self.arg!r}"


def compile_constraints(raw: Any, file: str, path: str, line: int | None) -> tuple[Constraint, ...]:
    """Compile a ``constraints:`` list of single-key clauses."""
    if not raw:
        return ()
    if not isinstance(raw, list):
        raw = [raw]
    out = []
    for clause in raw:
        if not isinstance(clause, dict) or len(clause) != 1:
            raise PackageError(
                "INVALID_CONSTRAINT",
                f"constraint clause {clause!r} must be a one-key map",
                file=file,
                line=line,
                tosca_path=path,
            )
        ((op, arg),) = clause.items()
        op = _ALIASES.get(op, op)
        if op not in OPERATORS:
            raise PackageError(
                "INVALID_CONSTRAINT",
                f"unknown constraint operator {op!r}",
                file=file,
                line=line,
                tosca_path=path,
            )
        if op == "in_range" and not (isinstance(arg, list) and len(arg) == 2):
            raise PackageError(
                "INVALID_CONSTRAINT",
                "in_range needs a list of two values",
                file=file,
                line=line,
                tosca_path=path,
            )
        if op == "valid_values" and not isinstance(arg, list):
            raise PackageError(
                "INVALID_CONSTRAINT",
                "valid_values needs a list",
                file=file,
                line=line,
                tosca_path=path,
            )
        out.append(Constraint(op, arg, file, line))
    return tuple(out)
