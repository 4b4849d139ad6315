"""ETSI GS NFV-SOL 013 query conventions: attribute filters, attribute selectors and paging.

Pure functions and small value types with no web-framework dependency. Every invalid query
parameter raises :class:`QueryError`, which the REST layer turns into a 400 ProblemDetails.

Semantics chosen where the standard leaves room (SOL013 clauses 5.2, 5.3, 5.4.2):

* ``neq``, ``nin`` and ``ncont`` are the negation of ``eq``, ``in`` and ``cont``: on an array
  they hold when *no* element matches, and they hold when the attribute is absent or null.
* ``eq``/``in`` (and ``cont``) with several values match when any value matches.
* The filter value is read as the attribute's type: a number when the attribute is a number,
  ``true``/``false`` when it is a boolean, otherwise text compared lexically. A value that cannot
  be read as the attribute's type does not match.
* A "complex attribute" is one whose value is a JSON object or array.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Container, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from operator import eq, ge, gt, le, lt
from typing import Any
from urllib.parse import quote

AttrPath = tuple[str, ...]
MarkerKey = str | int | float | tuple[str | int | float | bool | None, ...]

OPERATORS = ("eq", "neq", "in", "nin", "gt", "gte", "lt", "lte", "cont", "ncont")
_SINGLE_VALUE = frozenset({"gt", "gte", "lt", "lte"})
_NEGATED = {"neq": "eq", "nin": "in", "ncont": "cont"}
_ORDER_TEST = {"eq": eq, "in": eq, "gt": gt, "gte": ge, "lt": lt, "lte": le}
_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?([eE][+-]?\d+)?", re.ASCII)
_BAD_NAME_CHARS = frozenset("()';") | frozenset(" \t\r\n")
_MARKER_CHARS = re.compile(r"[A-Za-z0-9_-]+")
_MARKER_VERSION = 1
_CHECKSUM_LEN = 6
# Bounds of one filter: SQL engines refuse deeper expression trees than thousands of terms
# (SQLite stops at depth 1000) and bind at most some 32,000 values, and no client needs more.
MAX_FILTER_TERMS = 100
MAX_FILTER_VALUES = 1000
# Integer filter values longer than this are compared as floats (Python refuses to read
# integers of more than 4,300 digits; a float of that size is infinite, which still orders).
_MAX_INT_DIGITS = 400


class QueryError(ValueError):
    """A URI query parameter breaks SOL013 rules; carries the parameter and what is wrong.

    ``position`` is the 1-based character position in the parameter's value when known.
    """

    def __init__(self, param: str, message: str, *, position: int | None = None) -> None:
        self.param = param
        self.message = message
        self.position = position
        super().__init__(f"{param}: {message}")


def _filter_error(message: str, index: int | None = None) -> QueryError:
    """A QueryError for the filter parameter; ``index`` is 0-based and reported 1-based."""
    if index is None:
        return QueryError("filter", message)
    return QueryError("filter", f"{message} at position {index + 1}", position=index + 1)


# --------------------------------------------------------------------------- filtering (5.2)


@dataclass(frozen=True)
class Term:
    """One simple filter expression ``(op,attr/path,value,...)``; ``position`` is 1-based."""

    op: str
    path: AttrPath
    values: tuple[str, ...]
    position: int = 0

    def matches(self, obj: Mapping[str, Any]) -> bool:
        """Whether the resource ``obj`` satisfies this term."""
        positive = _NEGATED.get(self.op, self.op)
        hit = any(_leaf_matches(positive, leaf, self.values) for leaf in _leaves(obj, self.path))
        return not hit if self.op in _NEGATED else hit

    @property
    def negated(self) -> bool:
        """Whether the operator is a negation (``neq``, ``nin``, ``ncont``)."""
        return self.op in _NEGATED

    def positive(self) -> Term:
        """This term with a negated operator replaced by the operator it negates."""
        return Term(_NEGATED.get(self.op, self.op), self.path, self.values, self.position)

    def __str__(self) -> str:
        values = ",".join(quote_value(v) for v in self.values)
        return f"({self.op},{'/'.join(self.path)},{values})"


@dataclass(frozen=True)
class Filter:
    """A parsed SOL013 ``filter`` parameter: a conjunction of terms over a resource's JSON form."""

    terms: tuple[Term, ...]

    def matches(self, obj: Mapping[str, Any]) -> bool:
        """Whether ``obj`` satisfies every term."""
        return all(term.matches(obj) for term in self.terms)

    def attributes(self) -> set[AttrPath]:
        """The attribute paths the filter refers to."""
        return {term.path for term in self.terms}

    def check_attributes(self, known: Container[AttrPath]) -> None:
        """Raise QueryError naming the first attribute path that is not in ``known``."""
        for term in self.terms:
            if term.path not in known:
                raise QueryError(
                    "filter",
                    f"unknown attribute '{'/'.join(term.path)}' in the term at position "
                    f"{term.position}",
                    position=term.position,
                )

    def __str__(self) -> str:
        return ";".join(str(term) for term in self.terms)


def quote_value(value: str) -> str:
    """Write ``value`` as a filter value, quoting it when it holds ``,`` ``)`` ``'`` or is empty."""
    if value and not any(c in value for c in ",)'"):
        return value
    return "'" + value.replace("'", "''") + "'"


def parse_filter(expr: str) -> Filter:
    """Parse ``(op,attr[/attr...],value[,value...])[;(...)]*`` into a :class:`Filter`."""
    if not expr:
        raise _filter_error("empty filter expression")
    terms: list[Term] = []
    pos = values = 0
    while True:
        term, pos = _parse_term(expr, pos)
        terms.append(term)
        values += len(term.values)
        if len(terms) > MAX_FILTER_TERMS:
            raise _filter_error(f"more than {MAX_FILTER_TERMS} terms", term.position - 1)
        if values > MAX_FILTER_VALUES:
            raise _filter_error(f"more than {MAX_FILTER_VALUES} values", term.position - 1)
        if pos == len(expr):
            return Filter(tuple(terms))
        if expr[pos] == ")":
            raise _filter_error("unbalanced ')' with no matching '('", pos)
        if expr[pos] != ";":
            raise _filter_error(
                f"expected ';' or end of filter after ')', found {expr[pos]!r}", pos
            )
        pos += 1
        if pos == len(expr):
            raise _filter_error("empty term after ';'", pos)


def _parse_term(expr: str, start: int) -> tuple[Term, int]:
    """Parse one parenthesised term beginning at ``start``; return it and the index after ')'."""
    if expr[start] != "(":
        raise _filter_error(f"expected '(' to start a term, found {expr[start]!r}", start)
    op_end = _next_delimiter(expr, start + 1)
    op = expr[start + 1 : op_end]
    if op not in OPERATORS:
        what = "missing operator" if not op else f"unknown operator {op!r}"
        raise _filter_error(f"{what} (expected one of {', '.join(OPERATORS)})", start + 1)
    if op_end == len(expr) or expr[op_end] == ")":
        raise _filter_error(f"expected ',' and an attribute name after operator '{op}'", op_end)
    pos = _next_delimiter(expr, op_end + 1)
    path = _parse_path(expr[op_end + 1 : pos], op_end + 1)
    values: list[str] = []
    while pos < len(expr) and expr[pos] == ",":
        if op in _SINGLE_VALUE and values:
            raise _filter_error(f"operator '{op}' takes exactly one value, found several", pos + 1)
        value, pos = _read_value(expr, pos + 1)
        values.append(value)
    if pos == len(expr):
        raise _filter_error(f"missing ')' closing the term opened at position {start + 1}", pos)
    if not values:
        raise _filter_error(f"operator '{op}' needs at least one value", pos)
    return Term(op, path, tuple(values), start + 1), pos + 1


def _next_delimiter(expr: str, pos: int) -> int:
    """Index of the next ',' or ')' at or after ``pos`` (``len(expr)`` when none)."""
    while pos < len(expr) and expr[pos] not in ",)":
        pos += 1
    return pos


def _parse_path(text: str, offset: int) -> AttrPath:
    """Split ``a/b/c`` into names, rejecting empty names and delimiter characters."""
    names = text.split("/")
    index = offset
    for name in names:
        if not name:
            raise _filter_error("empty attribute name", index)
        for i, char in enumerate(name):
            if char in _BAD_NAME_CHARS:
                raise _filter_error(f"invalid character {char!r} in attribute name", index + i)
        index += len(name) + 1
    return tuple(names)


def _read_value(expr: str, pos: int) -> tuple[str, int]:
    """Read one value (quoted or bare) at ``pos``; return it and the index of ',' / ')' / end."""
    if pos < len(expr) and expr[pos] == "'":
        parts: list[str] = []
        i = pos + 1
        while True:
            j = expr.find("'", i)
            if j < 0:
                raise _filter_error("unbalanced quote: quoted value is never closed", pos)
            parts.append(expr[i:j])
            if not expr.startswith("''", j):
                break
            parts.append("'")
            i = j + 2
        if j + 1 < len(expr) and expr[j + 1] not in ",)":
            found = expr[j + 1]
            raise _filter_error(f"expected ',' or ')' after a quoted value, found {found!r}", j + 1)
        return "".join(parts), j + 1
    end = _next_delimiter(expr, pos)
    quote_at = expr.find("'", pos, end)
    if quote_at >= 0:
        raise _filter_error(
            "single quote inside an unquoted value (quote the value and write a quote as '')",
            quote_at,
        )
    if end == pos:
        raise _filter_error("empty value (write '' for an empty string)", pos)
    return expr[pos:end], end


def _leaves(node: Any, path: AttrPath) -> Iterator[Any]:
    """The non-null values at ``path`` below ``node``, looking through arrays at every level."""
    if isinstance(node, list):
        for item in node:
            yield from _leaves(item, path)
    elif not path:
        if node is not None:
            yield node
    elif isinstance(node, Mapping) and path[0] in node:
        yield from _leaves(node[path[0]], path[1:])


def _leaf_matches(op: str, leaf: Any, values: tuple[str, ...]) -> bool:
    """Whether one attribute value satisfies a non-negated operator for any of ``values``."""
    if op == "cont":
        return isinstance(leaf, str) and any(v in leaf for v in values)
    test = _ORDER_TEST[op]
    for value in values:
        order = _compare(leaf, value)
        if order is not None and test(order, 0):
            return True
    return False


def _compare(leaf: Any, raw: str) -> int | None:
    """-1/0/1 comparing ``leaf`` with ``raw`` read as the leaf's type; None when incomparable."""
    if isinstance(leaf, bool):
        if raw not in ("true", "false"):
            return None
        return int(leaf) - int(raw == "true")
    if isinstance(leaf, int | float):
        if not _NUMBER.fullmatch(raw):
            return None
        digits = raw.lstrip("+-")
        number = int(raw) if digits.isdigit() and len(digits) <= _MAX_INT_DIGITS else float(raw)
        return (leaf > number) - (leaf < number)
    if isinstance(leaf, str):
        return (leaf > raw) - (leaf < raw)
    return None


# --------------------------------------------------------------------- attribute selectors (5.3)


@dataclass(frozen=True)
class Selector:
    """The validated attribute-selector parameters of one request; ``apply`` shapes a resource.

    No parameter means ``exclude_default``. ``fields`` alone keeps simple attributes plus the
    listed complex ones; with ``exclude_default`` it re-includes listed default-excluded ones.
    Mandatory paths, their ancestors and their contents are never removed.
    """

    all_fields: bool = False
    fields: tuple[AttrPath, ...] | None = None
    exclude_fields: tuple[AttrPath, ...] | None = None
    exclude_default: bool = False
    default_excluded: tuple[AttrPath, ...] = ()
    mandatory: tuple[AttrPath, ...] = ()

    def __post_init__(self) -> None:
        if self.all_fields:
            names = ("fields", "exclude_fields", "exclude_default")
            others = [n for n in names if getattr(self, n) not in (None, False)]
            if others:
                message = f"'all_fields' cannot be combined with {', '.join(others)}"
                raise QueryError("all_fields", message)
        if self.fields is not None and self.exclude_fields is not None:
            raise QueryError("fields", "'fields' and 'exclude_fields' cannot be combined")

    @cached_property
    def _removed(self) -> tuple[frozenset[str], tuple[AttrPath, ...]]:
        """The attributes ``apply`` removes: (top-level names, deeper paths); worked out once
        per request, not once per resource."""
        removed = list(self.exclude_fields or ())
        if self.exclude_default or self.exclude_fields is None:
            listed = self.fields or ()
            removed += [d for d in self.default_excluded if not any(_related(d, p) for p in listed)]
        paths = [p for p in removed if p and not any(_related(p, m) for m in self.mandatory)]
        return frozenset(p[0] for p in paths if len(p) == 1), tuple(p for p in paths if len(p) > 1)

    def apply(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of ``obj`` without the deselected attributes; unchanged sub-objects are shared."""
        if self.all_fields:
            return dict(obj)
        if self.fields is not None and not self.exclude_default:
            return _prune(obj, frozenset(self.fields) | frozenset(self.mandatory), ())
        top, deep = self._removed
        out: Any = {k: v for k, v in obj.items() if k not in top}
        for path in deep:
            out = _remove(out, path)
        return out


def parse_selectors(
    params: Mapping[str, str | None],
    *,
    default_excluded: Iterable[AttrPath],
    mandatory: Iterable[AttrPath] = (),
) -> Selector:
    """Read ``all_fields``, ``fields``, ``exclude_fields``, ``exclude_default`` from a query."""
    return Selector(
        all_fields=_flag(params, "all_fields"),
        fields=_path_list(params, "fields"),
        exclude_fields=_path_list(params, "exclude_fields"),
        exclude_default=_flag(params, "exclude_default"),
        default_excluded=tuple(default_excluded),
        mandatory=tuple(mandatory),
    )


def select_fields(
    obj: Mapping[str, Any],
    *,
    all_fields: bool,
    fields: Iterable[AttrPath] | None,
    exclude_fields: Iterable[AttrPath] | None,
    exclude_default: bool,
    default_excluded: Iterable[AttrPath],
    mandatory: Iterable[AttrPath] = (),
) -> dict[str, Any]:
    """Apply SOL013 attribute selectors (clause 5.3.2) to one resource; see :class:`Selector`."""
    return Selector(
        all_fields=all_fields,
        fields=None if fields is None else tuple(fields),
        exclude_fields=None if exclude_fields is None else tuple(exclude_fields),
        exclude_default=exclude_default,
        default_excluded=tuple(default_excluded),
        mandatory=tuple(mandatory),
    ).apply(obj)


def _flag(params: Mapping[str, str | None], name: str) -> bool:
    """Whether the value-less flag ``name`` is present."""
    if name not in params:
        return False
    if params[name] not in (None, ""):
        raise QueryError(name, f"'{name}' is a flag and takes no value, got {params[name]!r}")
    return True


def _path_list(params: Mapping[str, str | None], name: str) -> tuple[AttrPath, ...] | None:
    """Parse a comma-separated list of ``/``-separated attribute paths."""
    if name not in params:
        return None
    text = params[name]
    if not text:
        raise QueryError(name, f"'{name}' needs a comma-separated list of attribute names")
    paths: list[AttrPath] = []
    index = 0
    for item in text.split(","):
        names = tuple(item.split("/"))
        if not all(names):
            raise QueryError(
                name, f"empty attribute name at position {index + 1}", position=index + 1
            )
        paths.append(names)
        index += len(item) + 1
    return tuple(paths)


def _related(a: AttrPath, b: AttrPath) -> bool:
    """Whether one path is the other or lies below it."""
    n = min(len(a), len(b))
    return a[:n] == b[:n]


def _prune(node: Any, keep: frozenset[AttrPath], prefix: AttrPath) -> Any:
    """Drop complex attributes that are neither in ``keep`` nor on the way to a path in it."""
    if isinstance(node, list):
        return [_prune(item, keep, prefix) for item in node]
    if not isinstance(node, Mapping):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        here = (*prefix, key)
        if not isinstance(value, Mapping | list) or here in keep:
            out[key] = value
        elif any(p[: len(here)] == here for p in keep):
            out[key] = _prune(value, keep, here)
    return out


def _remove(node: Any, path: AttrPath) -> Any:
    """Copy of ``node`` without the attribute at ``path`` (in every element of arrays passed)."""
    if isinstance(node, list):
        return [_remove(item, path) for item in node]
    if not isinstance(node, Mapping) or path[0] not in node:
        return node
    if len(path) == 1:
        return {k: v for k, v in node.items() if k != path[0]}
    out = dict(node)
    out[path[0]] = _remove(node[path[0]], path[1:])
    return out


# ---------------------------------------------------------------------------- paging (5.4.2)


def query_fingerprint(*parts: str | None) -> str:
    """A short stable hash of the query parts a marker is bound to (e.g. the filter text)."""
    data = json.dumps(list(parts), separators=(",", ":"), ensure_ascii=False).encode()
    return hashlib.sha256(data).hexdigest()[:16]


def encode_marker(last_key: MarkerKey, *, filter_hash: str) -> str:
    """An opaque URL-safe ``nextpage_opaque_marker`` for the page after ``last_key``."""
    items = last_key if isinstance(last_key, tuple) else (last_key,)
    if not all(v is None or isinstance(v, str | int | float) for v in items):
        raise TypeError(f"marker keys must be JSON scalars or a tuple of them: {last_key!r}")
    key = list(last_key) if isinstance(last_key, tuple) else last_key
    payload = json.dumps(
        [_MARKER_VERSION, filter_hash, key], separators=(",", ":"), ensure_ascii=False
    ).encode()
    checksum = hashlib.sha256(payload).digest()[:_CHECKSUM_LEN]
    return base64.urlsafe_b64encode(checksum + payload).rstrip(b"=").decode("ascii")


def decode_marker(marker: str, *, filter_hash: str) -> MarkerKey:
    """The ``last_key`` given to :func:`encode_marker`; QueryError for foreign or stale markers."""
    param = "nextpage_opaque_marker"
    if not _MARKER_CHARS.fullmatch(marker or ""):
        raise QueryError(param, "malformed marker: not one issued by this server")
    try:
        raw = base64.urlsafe_b64decode(marker + "=" * (-len(marker) % 4))
    except (binascii.Error, ValueError):
        raise QueryError(param, "malformed marker: not one issued by this server") from None
    checksum, payload = raw[:_CHECKSUM_LEN], raw[_CHECKSUM_LEN:]
    if not payload or hashlib.sha256(payload).digest()[:_CHECKSUM_LEN] != checksum:
        raise QueryError(param, "corrupted marker: checksum mismatch")
    try:
        version, issued_for, key = json.loads(payload)
    except (ValueError, TypeError):
        raise QueryError(param, "corrupted marker: unreadable content") from None
    if version != _MARKER_VERSION:
        raise QueryError(param, f"marker format {version!r} is not supported")
    if issued_for != filter_hash:
        raise QueryError(
            param, "marker was issued for a different filter; request the first page again"
        )
    return tuple(key) if isinstance(key, list) else key


def link_header(base_url: str, params: Mapping[str, str | None], marker: str) -> str:
    """The ``Link`` header value pointing at the next page: ``<url?...>; rel="next"``.

    ``params`` are the request's other query parameters (a None value is a flag); any old
    ``nextpage_opaque_marker`` among them is replaced by ``marker``.
    """
    pairs = [
        quote(k, safe="") if v is None else f"{quote(k, safe='')}={quote(v, safe='/,()')}"
        for k, v in params.items()
        if k != "nextpage_opaque_marker"
    ]
    pairs.append(f"nextpage_opaque_marker={quote(marker, safe='')}")
    sep = "" if base_url.endswith(("?", "&")) else ("&" if "?" in base_url else "?")
    return f'<{base_url}{sep}{"&".join(pairs)}>; rel="next"'
