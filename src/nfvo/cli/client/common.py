"""Pieces every command group shares: option types, the session, JSON arguments.

Why it exists: the same ``-o``, ``--wait``, ``--timeout`` and ``--body JSON|@file`` options
behave the same on every command, and every command opens its session the same way.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from nfvo.cli.client import context
from nfvo.cli.client.config import ConfigFile, resolve
from nfvo.cli.client.errors import CliError, UsageError
from nfvo.cli.client.output import Column, Format, details, emit, table
from nfvo.cli.client.progress import DEFAULT_TIMEOUT
from nfvo.cli.client.session import ApiSession

OutputOpt = Annotated[
    Format,
    typer.Option("--output", "-o", help="table (default, for people), json or yaml (for scripts)."),
]
WaitOpt = Annotated[
    bool, typer.Option("--wait", "-w", help="Follow the operation to its end (live progress).")
]
TimeoutOpt = Annotated[
    float, typer.Option("--timeout", help="Seconds --wait waits before giving up (exit 5).")
]
BodyOpt = Annotated[
    str | None,
    typer.Option(
        "--body",
        help="Raw request body: JSON (or YAML) text, or @FILE. Options given beside it are "
        "added to it.",
    ),
]
DEFAULT_WAIT_TIMEOUT = DEFAULT_TIMEOUT


def open_session() -> ApiSession:
    """The session for this command: profile and environment resolved."""
    return ApiSession(resolve(ConfigFile.load(), context.STATE.profile))


def emit_list(path: str, columns: Sequence[Column], output: Format, what: str) -> None:
    """Every item of the collection at ``path``, as a table of ``columns`` (or -o json|yaml);
    ``what``: the items' plural name, for "no ..." when there are none."""
    with open_session() as s:
        rows = s.list(path)
    emit(rows, output, table(rows, columns, empty=f"no {what}"))


def emit_one(path: str, item_id: str, columns: Sequence[Column], output: Format) -> None:
    """The item ``path/item_id``, as a table of ``columns`` (or -o json|yaml)."""
    with open_session() as s:
        item = s.get(f"{path}/{item_id}")
    emit(item, output, details(item, columns))


def load_document(value: str, what: str) -> Any:
    """JSON or YAML from a string, or from a file given as ``@path`` (``@-``: stdin)."""
    text = value
    if value.startswith("@"):
        path = value[1:]
        try:
            text = typer.get_text_stream("stdin").read() if path == "-" else Path(path).read_text()
        except OSError as exc:
            raise UsageError(f"{what}: cannot read {path}: {exc.strerror}") from None
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UsageError(f"{what} is neither JSON nor YAML: {exc}") from None
    if isinstance(doc, str | int | float) or doc is None:
        raise UsageError(f'{what} must be a JSON object, e.g. \'{{"key": "value"}}\'')
    return doc


def load_object(value: str | None, what: str) -> dict[str, Any]:
    """A JSON object argument (empty dict when not given)."""
    if value is None:
        return {}
    doc = load_document(value, what)
    if not isinstance(doc, dict):
        raise UsageError(f"{what} must be a JSON object, not a {type(doc).__name__}")
    return doc


def parse_pairs(items: list[str] | None, what: str) -> dict[str, Any]:
    """``KEY=VALUE`` arguments; a VALUE that parses as JSON (numbers, true, lists) is taken
    as such, anything else as a string."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise UsageError(f"{what} {item!r} must be KEY=VALUE")
        try:
            out[key] = json.loads(raw)
        except ValueError:
            out[key] = raw
    return out


def op_id_of(location: str | None) -> str:
    """The op occurrence id at the end of a 202's ``Location``."""
    if not location:
        raise CliError("the server accepted the operation but sent no Location header")
    return location.rstrip("/").rsplit("/", 1)[-1]
