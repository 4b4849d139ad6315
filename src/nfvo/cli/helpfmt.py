"""Help text as people read it: ``--vnf TEXT``, ``--wait`` (a flag shows no type), and
arguments by their upper-case name (``nfvo ns show [OPTIONS] NS``).

Recent Typer releases print a type after every parameter (``--wait <bool>``, ``<str>``) and
required arguments in braces (``{ns}``); these few methods of Typer's parameter classes are
replaced when the CLI is imported. Releases that do not have them keep their own (classic)
rendering, which already reads this way.
"""

from __future__ import annotations

from typing import Any

from typer import core

_WORDS = {"str": "TEXT", "int": "INTEGER", "float": "FLOAT", "Path": "PATH", "bool": "BOOLEAN"}


def _option_type(self: Any, ctx: Any) -> str | None:
    """What follows an option in help: its metavar, its choices, or its type as a word;
    nothing for a flag or a counter."""
    if getattr(self, "is_flag", False) or getattr(self, "count", False):
        return None
    if self.metavar:
        return str(self.metavar)
    desc = self.type_descriptor
    if desc.is_choice and desc.choices:
        return "|".join(str(getattr(c, "value", c)) for c in desc.choices)
    label = self.bare_type()
    return _WORDS.get(label, label.upper())


def _argument_type(self: Any, ctx: Any) -> str | None:
    return None  # the argument's name (upper case) says it


def _argument_raw_name(self: Any) -> str:
    return str(self.metavar or (self.name or "").upper())


def _argument_name(self: Any) -> str:
    name = _argument_raw_name(self)
    return name if self.nargs == 1 else f"{name}..."


def _argument_usage(self: Any) -> str:
    name = _argument_name(self)
    return name if self.required else f"[{name}]"


def install() -> None:
    """Replace Typer's help rendering of parameters (idempotent)."""
    patches: list[tuple[type, str, Any]] = [
        (core.TyperOption, "display_type_rich", _option_type),
        (core.TyperArgument, "display_type_rich", _argument_type),
        (core.TyperArgument, "display_name_raw", property(_argument_raw_name)),
        (core.TyperArgument, "_rich_display_name", _argument_name),
        (core.TyperArgument, "_usage_display_name", _argument_usage),
    ]
    for cls, name, func in patches:
        if hasattr(cls, name):
            setattr(cls, name, func)
