"""SOL013 list responses: attribute filter, attribute selectors and paging, in one place.

A list reads its rows in SQL chunks in a stable order (creation time, then id), after the sort
key carried by ``nextpage_opaque_marker``. Filter terms on attributes that a column holds
exactly (:class:`Column`) are evaluated in SQL with the semantics of :mod:`nfvo.api.sol013`;
the other terms are evaluated on the rendered rows, and further chunks are read until the page
is full or the rows run out, so a page never comes back short while more matches exist.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import JSONResponse

from nfvo.api import sol013
from nfvo.api.shapes import Shape, unknown_part
from nfvo.errors import BadRequest
from nfvo.query import ColumnTest, PageQuery, SortKey, TestOp

Path = tuple[str, ...]
Row = TypeVar("Row")
MAX_CHUNK = 1000  # rows read per SQL chunk at most while residual filter terms reject rows
_MARKER = "nextpage_opaque_marker"
_MAX_ID_CHARS = 255
# SOL013 query parameters a SOL005 list takes (§5.2 filter, §5.3 selectors, §5.4 paging)
LIST_PARAMS = frozenset(
    {"filter", "all_fields", "fields", "exclude_fields", "exclude_default", _MARKER}
)
# an individual resource is always shown whole; the selectors are tolerated on it because
# clients send the same parameters to a list and to its members
SELECTOR_PARAMS = frozenset({"all_fields", "fields", "exclude_fields", "exclude_default"})
# subscription lists take no attribute selectors (SOL005 §6.4.16.3.2, §9.4.8.3.2, §5.4.8.3.2)
SUBSCRIPTION_LIST_PARAMS = frozenset({"filter", _MARKER})
_TEST_OPS: dict[str, TestOp] = {
    "eq": "in",
    "in": "in",
    "gt": "gt",
    "gte": "gte",
    "lt": "lt",
    "lte": "lte",
    "cont": "contains",
}


@dataclass(frozen=True)
class Column:
    """A filterable attribute held exactly by one column: the rendered attribute is the column
    value, and it is absent (or null) exactly when the column is null. ``type`` is the JSON
    type of the value (``str`` or ``bool``)."""

    name: str
    type: type = str


Columns = Mapping[Path, Column]


def _bad(exc: sol013.QueryError) -> BadRequest:
    return BadRequest(f"invalid '{exc.param}' parameter: {exc.message}", invalidParams=[exc.param])


def _probe(path: Path, value: Any) -> dict[str, Any]:
    node: Any = value
    for name in reversed(path):
        node = {name: node}
    return node


def translate(term: sol013.Term, columns: Columns) -> ColumnTest | None:
    """The SQL form of ``term`` when its attribute maps to a column, else None.

    Boolean attributes become the set of values that satisfy the term's positive operator
    (computed by :mod:`sol013` itself, so the semantics cannot drift); text attributes keep the
    operator. Values SQL text cannot hold (NUL) are left to the in-memory evaluation.
    """
    col = columns.get(term.path)
    if col is None or any("\x00" in v for v in term.values):
        return None
    positive = term.positive()
    if col.type is bool:
        hits = tuple(b for b in (True, False) if positive.matches(_probe(term.path, b)))
        return ColumnTest(col.name, "in", hits, term.negated)
    if col.type is not str:
        return None
    return ColumnTest(col.name, _TEST_OPS[positive.op], term.values, term.negated)


def _marker_key(key: SortKey) -> tuple[str, str]:
    at, ident = key
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return at.isoformat(), ident


def _sort_key(raw: sol013.MarkerKey) -> SortKey:
    """The sort key inside a decoded marker (QueryError when it is not one of ours).

    The marker's checksum is no secret, so a client can forge one: only an aware time that
    holds in UTC and an id a database can compare (no NUL, at most 255 characters) pass."""
    if isinstance(raw, tuple) and len(raw) == 2 and all(isinstance(v, str) for v in raw):
        at_text, ident = str(raw[0]), str(raw[1])
        try:
            at = datetime.fromisoformat(at_text)
            at = at.astimezone(UTC) if at.tzinfo is not None else None
        except (ValueError, OverflowError):
            at = None
        if at is not None and "\x00" not in ident and len(ident) <= _MAX_ID_CHARS:
            return at, ident
    raise sol013.QueryError(_MARKER, "stale marker: request the first page again")


@dataclass
class ListQuery:
    """The parsed SOL013 query of one list request: filter, selectors, page position."""

    request: Request
    filter: sol013.Filter | None
    selector: sol013.Selector
    filter_hash: str
    after: SortKey | None
    page_size: int

    def needs(self, attribute: str) -> bool:
        """Whether the response or the filter may use the top-level ``attribute``: a renderer
        may skip costly attributes that neither the selectors keep nor the filter reads."""
        if self.filter is not None and any(p[0] == attribute for p in self.filter.attributes()):
            return True
        return attribute in self.selector.apply({attribute: {"_": 0}})

    def respond(
        self,
        *,
        fetch: Callable[[PageQuery], Sequence[Row]],
        key: Callable[[Row], SortKey],
        render_page: Callable[[Sequence[Row]], list[dict[str, Any]]],
        columns: Columns,
    ) -> JSONResponse:
        """One page: read chunks with ``fetch`` (rows after a key, in key order), render them
        with ``render_page`` and answer with the selected bodies and the next-page link."""
        rows, bodies = _collect(self, fetch, key, render_page, columns)
        more = len(rows) > self.page_size
        resp = JSONResponse([self.selector.apply(b) for b in bodies[: self.page_size]])
        if more:
            last = key(rows[self.page_size - 1])
            marker = sol013.encode_marker(_marker_key(last), filter_hash=self.filter_hash)
            params = self.request.query_params
            base = str(self.request.url).split("?", 1)[0]
            keep = {k: v for k, v in params.items() if k != _MARKER}
            resp.headers["Link"] = sol013.link_header(base, keep, marker)
        return resp


def _collect(
    q: ListQuery,
    fetch: Callable[[PageQuery], Sequence[Row]],
    key: Callable[[Row], SortKey],
    render_page: Callable[[Sequence[Row]], list[dict[str, Any]]],
    columns: Columns,
) -> tuple[list[Row], list[dict[str, Any]]]:
    """Up to ``page_size + 1`` matching rows and their bodies (the extra one tells that a next
    page exists; it is rendered only when a residual filter term needs its body)."""
    terms = q.filter.terms if q.filter is not None else ()
    tests: list[ColumnTest] = []
    residual: list[sol013.Term] = []
    for term in terms:
        test = translate(term, columns)
        if test is None:
            residual.append(term)
        else:
            tests.append(test)
    want = q.page_size + 1
    if not residual:
        rows = list(fetch(PageQuery(q.after, tuple(tests), want)))
        return rows, render_page(rows[: q.page_size])
    out_rows: list[Row] = []
    out_bodies: list[dict[str, Any]] = []
    after, chunk = q.after, want
    while len(out_rows) < want:
        rows = list(fetch(PageQuery(after, tuple(tests), chunk)))
        if not rows:
            break
        for row, body in zip(rows, render_page(rows), strict=True):
            if all(t.matches(body) for t in residual):
                out_rows.append(row)
                out_bodies.append(body)
                if len(out_rows) == want:
                    break
        if len(rows) < chunk:
            break
        after, chunk = key(rows[-1]), min(chunk * 2, max(MAX_CHUNK, want))
    return out_rows, out_bodies


def query_params(*allowed: str | Iterable[str]) -> Callable[[Request], Awaitable[None]]:
    """A dependency refusing (400, named) any query parameter not in ``allowed`` (SOL013
    §4.3: a parameter the resource does not define is an error, not silently ignored)."""
    names = frozenset(n for a in allowed for n in ((a,) if isinstance(a, str) else tuple(a)))

    async def check(request: Request) -> None:
        unknown = [k for k in request.query_params if k not in names]
        if unknown:
            expected = ", ".join(sorted(names)) or "none"
            raise BadRequest(
                f"unknown query parameter '{unknown[0]}' (this resource takes: {expected})",
                invalidParams=sorted(set(unknown)),
            )

    check.allowed = names  # type: ignore[attr-defined] - declared in /openapi.json
    return check


def check_attributes(shape: Shape, flt: sol013.Filter | None, selector: sol013.Selector) -> None:
    """QueryError naming the first attribute of the filter or the selectors that the
    resource does not have (SOL013 §5.2.2, §5.3.2)."""
    for term in flt.terms if flt is not None else ():
        bad = unknown_part(shape, term.path)
        if bad is not None:
            raise sol013.QueryError(
                "filter",
                f"unknown attribute '{bad}' in the term at position {term.position}",
                position=term.position,
            )
    for param, paths in (("fields", selector.fields), ("exclude_fields", selector.exclude_fields)):
        for path in paths or ():
            bad = unknown_part(shape, path)
            if bad is not None:
                raise sol013.QueryError(param, f"unknown attribute '{bad}'")


def parse_list(
    request: Request,
    *,
    page_size: int,
    default_excluded: Iterable[Path],
    mandatory: Iterable[Path],
    shape: Shape | None = None,
) -> ListQuery:
    """Read ``filter``, the attribute selectors and ``nextpage_opaque_marker`` (400 when bad);
    with ``shape``, an attribute the resource does not have is refused too."""
    params = request.query_params
    try:
        flt = sol013.parse_filter(params["filter"]) if params.get("filter") else None
        selector = sol013.parse_selectors(
            dict(params), default_excluded=list(default_excluded), mandatory=list(mandatory)
        )
        if shape is not None:
            check_attributes(shape, flt, selector)
        filter_hash = sol013.query_fingerprint(params.get("filter"))
        after = None
        if params.get(_MARKER):
            after = _sort_key(sol013.decode_marker(params[_MARKER], filter_hash=filter_hash))
    except sol013.QueryError as exc:
        raise _bad(exc) from None
    return ListQuery(request, flt, selector, filter_hash, after, page_size)


def page_of(
    request: Request,
    *,
    fetch: Callable[[PageQuery], Sequence[Row]],
    render_page: Callable[[Sequence[Row]], list[dict[str, Any]]],
    page_size: int,
    default_excluded: Iterable[Path],
    mandatory: Iterable[Path],
    columns: Columns,
    key: Callable[[Row], SortKey] | None = None,
    shape: Shape | None = None,
) -> JSONResponse:
    """Filter, select and page a collection per SOL013 §5 (see :meth:`ListQuery.respond`);
    ``key`` defaults to ``(created_at, id)``."""
    q = parse_list(
        request,
        page_size=page_size,
        default_excluded=default_excluded,
        mandatory=mandatory,
        shape=shape,
    )
    return q.respond(fetch=fetch, key=key or created_key, render_page=render_page, columns=columns)


def created_key(row: Any) -> SortKey:
    """The usual sort key: creation time, then id."""
    return row.created_at, row.id
