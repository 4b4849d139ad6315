"""Checking property, input and entry values against their TOSCA schemas.

Values are returned as written (scalars stay ``"8 GB"`` strings) except that
defaults of complex data types are filled in (in a fresh dict: parsed
documents are shared and never mutated) and ``get_input`` is resolved.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from nfvo.catalog.errors import PackageError
from nfvo.catalog.tosca.scalar import SCALAR_KINDS, parse_scalar, parse_version
from nfvo.catalog.tosca.typesys import PRIMITIVES, Schema, TypeRegistry
from nfvo.catalog.tosca.yamlload import LineDict, line_of

FUNCTIONS = frozenset(
    {
        "get_input",
        "get_property",
        "get_attribute",
        "get_operation_output",
        "get_artifact",
        "get_nodes_of_type",
        "concat",
        "join",
        "token",
    }
)

InputResolver = Callable[[Any, str, int | None, str], Any]


class Unresolved(dict):
    """A ``get_input`` left unresolved on purpose (deferred inputs): kept as written."""


def is_function(value: Any) -> bool:
    """True for a TOSCA intrinsic function call such as ``{get_input: x}``."""
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in FUNCTIONS


class ValueChecker:
    """Validates values for one template: knows the type registry and how to resolve inputs."""

    def __init__(self, registry: TypeRegistry, file: str, resolve_input: InputResolver) -> None:
        self.registry = registry
        self.file = file
        self.resolve_input = resolve_input

    def fail(self, cause: str, detail: str, line: int | None, path: str) -> PackageError:
        """Build a PackageError located in this checker's file."""
        return PackageError(cause, detail, file=self.file, line=line, tosca_path=path)

    def check(self, value: Any, schema: Schema, line: int | None, path: str) -> Any:
        """Check ``value`` against ``schema``; return it (defaults filled, inputs resolved)."""
        if isinstance(value, dict) and len(value) == 1:
            key = next(iter(value))
            if key == "get_input":
                value = self.resolve_input(value[key], path, line, schema.type)
                if isinstance(value, Unresolved):
                    return value
            elif key in FUNCTIONS:
                return value
        return self.check_type(value, schema.type, schema, line, path)

    def check_type(
        self, value: Any, type_name: str, schema: Schema | None, line: int | None, path: str
    ) -> Any:
        """Check a value against a type name (primitive or data type) and schema constraints."""
        if type_name in PRIMITIVES:
            value = self._primitive(value, type_name, schema, line, path)
            prim = type_name
        else:
            tdef = self.registry.find("data", type_name)
            if tdef is None:
                raise self.fail("UNKNOWN_DATA_TYPE", f"unknown data type {type_name}", line, path)
            if tdef.primitive:
                prim = tdef.primitive
                value = self._primitive(value, prim, schema, line, path)
                self._constraints(value, tdef.constraints, prim, line, path)
            else:
                value = self._complex(value, tdef.name, tdef.properties, line, path)
                prim = "map"
        if schema is not None and schema.constraints:
            self._constraints(value, schema.constraints, prim, line, path)
        return value

    def _constraints(
        self, value: Any, constraints: tuple, prim: str, line: int | None, path: str
    ) -> None:
        for constraint in constraints:
            msg = constraint.check(value, prim)
            if msg:
                raise self.fail("CONSTRAINT_VIOLATION", msg, line, path)

    def _primitive(
        self, value: Any, prim: str, schema: Schema | None, line: int | None, path: str
    ) -> Any:
        if prim == "string":
            if isinstance(value, str):
                return value
            if isinstance(value, int | float) and not isinstance(value, bool):
                return str(value)
        elif prim == "integer":
            if isinstance(value, int) and not isinstance(value, bool):
                return value
        elif prim == "float":
            if isinstance(value, int | float) and not isinstance(value, bool):
                return value
        elif prim == "boolean":
            if isinstance(value, bool):
                return value
        elif prim in SCALAR_KINDS:
            try:
                parse_scalar(value, prim)
                return value
            except ValueError as exc:
                raise self.fail("INVALID_VALUE", str(exc), line, path) from None
        elif prim == "list":
            return self._list(value, schema, line, path)
        elif prim == "map":
            return self._map(value, schema, line, path)
        elif prim == "version":
            try:
                parse_version(value)
                return value
            except ValueError as exc:
                raise self.fail("INVALID_VALUE", str(exc), line, path) from None
        elif prim == "timestamp":
            if isinstance(value, dt.date | str):
                return value
        elif prim == "range":
            if isinstance(value, list) and len(value) == 2:
                return value
        elif prim == "any":
            return value
        raise self.fail("INVALID_VALUE", f"{value!r} is not a valid {prim}", line, path)

    def _list(self, value: Any, schema: Schema | None, line: int | None, path: str) -> Any:
        if not isinstance(value, list):
            raise self.fail("INVALID_VALUE", f"{value!r} is not a list", line, path)
        entry = schema.entry_schema if schema is not None else None
        if entry is None:
            return value
        line = line_of(value) or line
        out = [self.check(item, entry, line, f"{path}[{i}]") for i, item in enumerate(value)]
        return value if all(a is b for a, b in zip(out, value, strict=True)) else out

    def _map(self, value: Any, schema: Schema | None, line: int | None, path: str) -> Any:
        if not isinstance(value, dict):
            raise self.fail("INVALID_VALUE", f"{value!r} is not a map", line, path)
        entry = schema.entry_schema if schema is not None else None
        key_schema = schema.key_schema if schema is not None else None
        if entry is None and key_schema is None:
            return value
        changed = False
        out = {}
        for key, item in value.items():
            kline = line_of(value, key) or line
            if key_schema is not None:
                self.check(key, key_schema, kline, f"{path}.{key}")
            new = self.check(item, entry, kline, f"{path}.{key}") if entry is not None else item
            changed = changed or new is not item
            out[key] = new
        return _relined(value, out) if changed else value

    def _complex(
        self, value: Any, type_name: str, props: dict[str, Schema], line: int | None, path: str
    ) -> Any:
        if not isinstance(value, dict):
            raise self.fail(
                "INVALID_VALUE",
                f"{value!r} is not a map as data type {type_name} needs",
                line,
                path,
            )
        return self.check_properties(value, props, line, path, f"data type {type_name}")

    def check_properties(
        self,
        values: Any,
        props: dict[str, Schema],
        line: int | None,
        path: str,
        owner: str,
        *,
        enforce_required: bool = True,
    ) -> Any:
        """Check a map of property values against definitions: unknown, missing, defaults.

        ``enforce_required=False`` tolerates missing required properties (used for group
        properties, which widely deployed packages omit).
        """
        values = values or {}
        changed = False
        out: dict[Any, Any] = {}
        for key, item in values.items():
            schema = props.get(key)
            kline = line_of(values, key) or line
            if schema is None:
                raise self.fail(
                    "UNKNOWN_PROPERTY",
                    f"property {key!r} is not defined by {owner}",
                    kline,
                    f"{path}.{key}",
                )
            new = self.check(item, schema, kline, f"{path}.{key}")
            changed = changed or new is not item
            out[key] = new
        for key, schema in props.items():
            if key in out:
                continue
            if schema.has_default:
                out[key] = self.check(schema.default, schema, schema.line, f"{path}.{key}")
                changed = True
            elif schema.required and enforce_required:
                raise self.fail(
                    "MISSING_PROPERTY",
                    f"required property {key!r} of {owner} is missing",
                    line,
                    f"{path}.{key}",
                )
        return _relined(values, out) if changed else values


def _relined(original: Any, data: dict) -> LineDict:
    out = LineDict(data)
    if isinstance(original, LineDict):
        out.line, out.lines = original.line, original.lines
    return out
