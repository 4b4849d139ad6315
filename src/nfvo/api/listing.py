"""SOL013 list responses: attribute filter, attribute selectors and paging, in one place."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from nfvo.api import sol013
from nfvo.errors import BadRequest

Path = tuple[str, ...]


def _bad(exc: sol013.QueryError) -> BadRequest:
    return BadRequest(f"invalid '{exc.param}' parameter: {exc.message}", invalidParams=[exc.param])


def page_of(
    request: Request,
    items: Sequence[Any],
    *,
    key: Callable[[Any], str],
    render: Callable[[Any], dict[str, Any]],
    page_size: int,
    default_excluded: Iterable[Path],
    mandatory: Iterable[Path],
) -> JSONResponse:
    """Filter, select and page ``items`` (already in a stable order) per SOL013 §5."""
    params = request.query_params
    try:
        flt = sol013.parse_filter(params["filter"]) if params.get("filter") else None
        selector = sol013.parse_selectors(
            dict(params), default_excluded=list(default_excluded), mandatory=list(mandatory)
        )
    except sol013.QueryError as exc:
        raise _bad(exc) from None
    filter_hash = sol013.query_fingerprint(params.get("filter"))
    start_after = None
    if params.get("nextpage_opaque_marker"):
        try:
            start_after = sol013.decode_marker(
                params["nextpage_opaque_marker"], filter_hash=filter_hash
            )
        except sol013.QueryError as exc:
            raise _bad(exc) from None
    out: list[dict[str, Any]] = []
    last_key = None
    more = False
    for item in items:
        k = key(item)  # keys sort like the items, so a deleted marker item is harmless
        if start_after is not None and k <= start_after:
            continue
        body = render(item)
        if flt is not None and not flt.matches(body):
            continue
        if len(out) == page_size:
            more = True
            break
        out.append(selector.apply(body))
        last_key = k
    resp = JSONResponse(out)
    if more and last_key is not None:
        marker = sol013.encode_marker(last_key, filter_hash=filter_hash)
        base = str(request.url).split("?", 1)[0]
        keep = {k: v for k, v in params.items() if k != "nextpage_opaque_marker"}
        resp.headers["Link"] = sol013.link_header(base, keep, marker)
    return resp
