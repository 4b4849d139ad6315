"""How client commands print: rich tables for people, ``-o json|yaml`` for scripts.

Why it exists: one place decides what goes to stdout. In ``json``/``yaml`` mode stdout holds
the document and nothing else (notes go to stderr), so ``nfvo ns show ID -o json | jq`` works;
in ``table`` mode values from the API are printed as plain text (never as rich markup).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import yaml
from rich import box
from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

# width used when stdout is not a terminal: wide enough that no row is ever folded, so a
# pipe or a log gets one line per row (trailing blanks are stripped, see ``emit``)
PIPE_WIDTH = 10_000


class Format(StrEnum):
    """``-o`` values."""

    table = "table"
    json = "json"
    yaml = "yaml"


Getter = str | Callable[[dict[str, Any]], Any]
Column = tuple[str, Getter]

_GOOD = {"COMPLETED", "ONBOARDED", "ENABLED", "INSTANTIATED", "ACTIVE", "STARTED", "NOT_IN_USE"}
_BAD = {"FAILED", "FAILED_TEMP", "ERROR", "ROLLED_BACK", "PARTIALLY_COMPLETED", "LOST"}
_BUSY = {"PROCESSING", "STARTING", "ROLLING_BACK", "UPLOADING", "CREATED", "BUILD"}


def console(stderr: bool = False) -> Console:
    """A console on the current stdout (or stderr); wide when it is not a terminal."""
    stream = sys.stderr if stderr else sys.stdout
    tty = stream.isatty()
    return Console(
        file=stream,
        highlight=False,
        width=None if tty else PIPE_WIDTH,
    )


def value_at(obj: Any, path: Getter) -> Any:
    """``obj["a"]["b"]`` for ``"a.b"`` (None when absent); a callable is called."""
    if callable(path):
        return path(obj)
    for part in path.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def text_of(value: Any) -> str:
    """A cell: ``-`` for nothing, yes/no, comma-joined scalars, compact JSON otherwise."""
    if value is None or value == "" or value == [] or value == {}:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(", ", ": "), default=str)
    return str(value)


def when(value: Any) -> str:
    """A timestamp (RFC 3339 string or UNIX seconds) as ``YYYY-MM-DD HH:MM:SS`` UTC."""
    if value is None:
        return "-"
    try:
        if isinstance(value, int | float):
            dt = datetime.fromtimestamp(value, UTC)
        else:
            dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            if dt.tzinfo is None:
                dt = dt.replace(tzinfo=UTC)
        return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    except (ValueError, OverflowError, OSError):
        return str(value)


def state_style(state: Any) -> str:
    """Colour of a state word."""
    s = str(state)
    if s in _GOOD:
        return "green"
    if s in _BAD:
        return "red"
    if s in _BUSY:
        return "yellow"
    return ""


def state_text(state: Any) -> Text:
    """A state word, coloured."""
    return Text(text_of(state), style=state_style(state))


def _cell(value: Any, header: str) -> Text:
    if isinstance(value, Text):
        return value
    if "STATE" in header.upper() or header.upper() == "STATUS":
        return state_text(value)
    return Text(text_of(value))


def _detail(value: Any, label: str) -> Text:
    """A value of a key/value table: a non-empty mapping, or a list holding mappings or
    lists, as an indented YAML block (one key per line), else as a table cell."""
    nested = isinstance(value, dict) or (
        isinstance(value, list) and any(isinstance(v, dict | list) for v in value)
    )
    if nested and value:
        dumped = yaml.safe_dump(value, sort_keys=False, allow_unicode=True, width=10_000)
        return Text(dumped.rstrip("\n"))
    return _cell(value, label)


def table(
    rows: Iterable[dict[str, Any]],
    columns: Sequence[Column],
    title: str | None = None,
    empty: str | None = None,
) -> RenderableType:
    """One row per item, one column per (header, getter); ``empty``: what to say instead
    of a bare header when there are no items (e.g. "no NS instances")."""
    rows = list(rows)
    if not rows and empty:
        return Text(empty)
    t = Table(box=box.SIMPLE_HEAD, title=title, title_justify="left", pad_edge=False)
    for header, _ in columns:
        t.add_column(header, overflow="fold")
    for row in rows:
        t.add_row(*(_cell(value_at(row, g), h) for h, g in columns))
    return t


def details(obj: dict[str, Any], fields: Sequence[Column], title: str | None = None) -> Table:
    """A two-column key/value table of one item."""
    t = Table(box=None, show_header=False, title=title, title_justify="left", pad_edge=False)
    t.add_column(style="bold", no_wrap=True)
    t.add_column(overflow="fold")
    for label, getter in fields:
        t.add_row(label, _detail(value_at(obj, getter), label))
    return t


def emit(data: Any, fmt: Format, *renderables: RenderableType | None) -> None:
    """``data`` as JSON/YAML on stdout, or the renderables (tables) for people."""
    if fmt is Format.json:
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    elif fmt is Format.yaml:
        sys.stdout.write(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    else:
        out = console()
        shown = [r for r in renderables if r is not None]
        if out.is_terminal:
            for i, r in enumerate(shown):
                if i:
                    out.print()
                out.print(r)
        else:  # a pipe or a file: no padding blanks at the ends of lines
            with out.capture() as captured:
                for i, r in enumerate(shown):
                    if i:
                        out.print()
                    out.print(r)
            lines = captured.get().splitlines()
            sys.stdout.write("".join(line.rstrip() + "\n" for line in lines))
    sys.stdout.flush()


def note(fmt: Format, message: str, style: str = "") -> None:
    """A line for people: stdout in table mode, stderr when stdout holds JSON/YAML."""
    out = console(stderr=fmt is not Format.table)
    out.print(Text(message, style=style), soft_wrap=True)
