"""Route declarations for ``/openapi.json``: bodies, answers and errors as models.

``responses(...)`` and ``request_body(...)`` return what a route decorator takes
(``responses=`` and ``openapi_extra=``); :func:`install` makes the application's document
use them as written (FastAPI would otherwise merge in its generic ``{}`` schemas and its
422 validation error, which this API answers as a 400 ProblemDetails).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, routing
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from nfvo.api.models.common import ProblemDetails

PROBLEM = "application/problem+json"
JSON = "application/json"
_REF = "#/components/schemas/{model}"
_MODELS: dict[str, type[BaseModel]] = {}

ERRORS: dict[int, str] = {
    400: "The request is malformed: an attribute, parameter or header is invalid (named)",
    401: "No valid bearer token",
    403: "The caller's role or tenant does not allow this",
    404: "No such resource (or not visible to the caller)",
    405: "Method not allowed on this path (Allow lists the methods)",
    406: "The Accept or Version header asks for what this resource does not serve",
    409: "The resource's state does not allow this",
    412: "If-Match does not match the current ETag",
    413: "The request body is too large",
    416: "The Range is outside the content",
    422: "Well-formed but cannot be processed (e.g. an unusable VIM account)",
    500: "Internal error (a bug: the server log has the details)",
}
# Every route: authentication, authorisation, a malformed request, a body too large, a bug
COMMON = (400, 401, 403, 413, 500)


def ref(model: type[BaseModel]) -> dict[str, str]:
    """A ``$ref`` to ``model`` in the document's components (registered for install)."""
    _MODELS[model.__name__] = model
    return {"$ref": _REF.format(model=model.__name__)}


def array_of(model: type[BaseModel]) -> dict[str, Any]:
    """The schema of an array of ``model``."""
    return {"type": "array", "items": ref(model)}


def responses(
    status: int,
    model: type[BaseModel] | dict[str, Any] | None,
    description: str,
    *,
    errors: Iterable[int] = (),
    media: Iterable[str] = (JSON,),
    headers: Iterable[str] = (),
) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route: its success answer and every error it can send."""
    ok: dict[str, Any] = {"description": description}
    if model is not None or media != (JSON,):
        schema = ref(model) if isinstance(model, type) else (model or {})
        ok["content"] = {m: {"schema": schema} for m in media}
    if headers:
        ok["headers"] = {h: {"schema": {"type": "string"}} for h in headers}
    out: dict[int | str, dict[str, Any]] = {status: ok}
    for code in sorted(set(COMMON) | set(errors)):
        out[code] = {
            "description": ERRORS.get(code, HTTPStatus(code).phrase),
            "content": {PROBLEM: {"schema": ref(ProblemDetails)}},
        }
    return out


def request_body(
    model: type[BaseModel] | None, *, required: bool = True, media: str = JSON
) -> dict[str, Any]:
    """The ``openapi_extra=`` declaring a route's request body."""
    schema = ref(model) if model is not None else {"type": "string", "format": "binary"}
    return {"requestBody": {"required": required, "content": {media: {"schema": schema}}}}


def _query_parameters(route: Any) -> list[dict[str, Any]]:
    """The SOL013 query parameters a route's ``query_params`` dependency accepts."""
    names: set[str] = set()
    for dep in route.dependencies:
        names |= set(getattr(dep.dependency, "allowed", ()))
    return [
        {"name": n, "in": "query", "required": False, "schema": {"type": "string"}}
        for n in sorted(names)
    ]


def _fix_operation(route: Any, operation: dict[str, Any]) -> None:
    declared = route.responses or {}
    answers = operation.get("responses", {})
    for code in list(answers):
        if code == "422" and 422 not in declared:
            del answers[code]  # FastAPI's validation error: this API answers 400
    for code, spec in declared.items():
        if "content" in spec:
            answers[str(code)]["content"] = spec["content"]
        elif str(code) in answers and str(code) == str(route.status_code or 200):
            answers[str(code)].pop("content", None)
    extra = route.openapi_extra or {}
    if "requestBody" in extra:
        if extra["requestBody"] is None:
            operation.pop("requestBody", None)  # the body is not read
        else:
            operation["requestBody"] = extra["requestBody"]
    params = [p for p in operation.get("parameters", []) if p.get("in") != "query"]
    known = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}
    params += [p for p in operation.get("parameters", []) if p.get("in") == "query"]
    params += [p for p in _query_parameters(route) if p["name"] not in known]
    if params:
        operation["parameters"] = params


def _api_routes(app: FastAPI) -> Iterator[Any]:
    """Every API route of ``app`` as the document shows it (prefix applied): the route
    contexts of routers included lazily, or the routes themselves."""
    contexts = getattr(routing, "iter_route_contexts", None)
    if contexts is None:
        yield from (r for r in app.routes if isinstance(r, APIRoute))
        return
    for ctx in contexts(app.routes):
        if isinstance(getattr(ctx, "original_route", ctx), APIRoute):
            yield ctx


def build(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document of ``app`` with the declarations applied."""
    doc = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    for route in _api_routes(app):
        if not route.include_in_schema:
            continue
        path = doc.get("paths", {}).get(route.path_format, {})
        for method in route.methods:
            if method.lower() in path:
                _fix_operation(route, path[method.lower()])
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    _, defs = models_json_schema([(m, "validation") for m in _MODELS.values()], ref_template=_REF)
    schemas.update(defs.get("$defs", {}))
    if not schemas:
        doc.pop("components")
    return doc


def install(app: FastAPI) -> None:
    """Serve the declared document at ``/openapi.json`` (built once)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
