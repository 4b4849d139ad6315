"""TOSCA type definitions: parameter schemas, type hierarchies and their resolution.

A :class:`TypeRegistry` holds every type defined by the imported files, by kind
(``node``, ``data``, ``capability`` ...).  Types are resolved lazily: the first
look-up walks ``derived_from``, merges inherited properties (child definitions
refine the parent's), requirements, capabilities and interfaces, and caches
the result, so a registry built from cached built-in files is cheap to reuse.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nfvo.catalog.errors import PackageError
from nfvo.catalog.tosca.constraints import Constraint, compile_constraints
from nfvo.catalog.tosca.yamlload import LineDict, line_of

PRIMITIVES = frozenset(
    {
        "string",
        "integer",
        "float",
        "boolean",
        "timestamp",
        "version",
        "range",
        "list",
        "map",
        "scalar-unit.size",
        "scalar-unit.time",
        "scalar-unit.frequency",
        "scalar-unit.bitrate",
        "any",
    }
)

KINDS = {
    "data_types": "data",
    "capability_types": "capability",
    "relationship_types": "relationship",
    "interface_types": "interface",
    "artifact_types": "artifact",
    "node_types": "node",
    "group_types": "group",
    "policy_types": "policy",
}
_PREFIX_KINDS = {
    "tosca.datatypes.": "data",
    "tosca.capabilities.": "capability",
    "tosca.relationships.": "relationship",
    "tosca.interfaces.": "interface",
    "tosca.artifacts.": "artifact",
    "tosca.nodes.": "node",
    "tosca.groups.": "group",
    "tosca.policies.": "policy",
}


def kind_for(section_kind: str, name: str) -> str:
    """The kind of a type; a ``tosca.<kind>s.*`` name declared in the wrong section (seen in
    real packages, e.g. data types under ``node_types``) is filed by its name."""
    if name.startswith("tosca."):
        for prefix, kind in _PREFIX_KINDS.items():
            if name.startswith(prefix):
                return kind
    return section_kind


_ROOTS = {
    "data": "tosca.datatypes.Root",
    "capability": "tosca.capabilities.Root",
    "relationship": "tosca.relationships.Root",
    "interface": "tosca.interfaces.Root",
    "artifact": "tosca.artifacts.Root",
    "node": "tosca.nodes.Root",
    "group": "tosca.groups.Root",
    "policy": "tosca.policies.Root",
}


@dataclass(slots=True)
class Schema:
    """A property, input or entry schema: type, requiredness, default and constraints."""

    type: str
    required: bool = True
    has_default: bool = False
    default: Any = None
    constraints: tuple[Constraint, ...] = ()
    entry_schema: Schema | None = None
    key_schema: Schema | None = None
    file: str = ""
    line: int | None = None


@dataclass(slots=True)
class CapabilityDef:
    """A capability declared by a node type: its type and any property refinements."""

    name: str
    type: str
    properties: dict[str, Schema] = field(default_factory=dict)


@dataclass(slots=True)
class TypeDef:
    """One TOSCA type as declared in a file, plus its resolved (inherited) view."""

    kind: str
    name: str
    raw: LineDict
    file: str
    parent: str | None = None
    resolved: bool = False
    ancestors: tuple[str, ...] = ()
    properties: dict[str, Schema] = field(default_factory=dict)
    requirements: dict[str, Any] = field(default_factory=dict)
    capabilities: dict[str, CapabilityDef] = field(default_factory=dict)
    interfaces: dict[str, Any] = field(default_factory=dict)
    targets: tuple[str, ...] = ()
    primitive: str | None = None
    builtin: bool = False
    constraints: tuple[Constraint, ...] = ()

    def is_a(self, name: str) -> bool:
        """True when this type is ``name`` or derives from it."""
        return name in self.ancestors


def parse_schema(raw: Any, file: str, path: str, line: int | None) -> Schema:
    """Build a :class:`Schema` from a property/parameter definition (or a bare type name)."""
    if isinstance(raw, str):
        return Schema(type=raw, file=file, line=line)
    if not isinstance(raw, dict):
        raise PackageError(
            "INVALID_DEFINITION", "definition must be a map", file=file, line=line, tosca_path=path
        )
    line = line_of(raw) or line
    type_name = raw.get("type")
    if not isinstance(type_name, str):
        raise PackageError(
            "INVALID_DEFINITION", "definition has no type", file=file, line=line, tosca_path=path
        )
    entry = raw.get("entry_schema")
    key = raw.get("key_schema")
    required = raw.get("required", True)
    return Schema(
        type=type_name,
        required=required is not False,
        has_default="default" in raw,
        default=raw.get("default"),
        constraints=compile_constraints(raw.get("constraints"), file, path, line),
        entry_schema=parse_schema(entry, file, path + ".entry_schema", line) if entry else None,
        key_schema=parse_schema(key, file, path + ".key_schema", line) if key else None,
        file=file,
        line=line,
    )


def refine_schema(parent: Schema, raw: Any, file: str, path: str, line: int | None) -> Schema:
    """A child type's redefinition of an inherited property: fields override, constraints add up."""
    if not isinstance(raw, dict):
        return parse_schema(raw, file, path, line)
    if "type" not in raw:
        merged = LineDict(raw)
        merged.line = line_of(raw) or line or 0
        merged["type"] = parent.type
        raw = merged
    child = parse_schema(raw, file, path, line)
    child.constraints = parent.constraints + child.constraints
    if "required" not in raw:
        child.required = parent.required
    if "default" not in raw and parent.has_default:
        child.has_default, child.default = True, parent.default
    if child.entry_schema is None:
        child.entry_schema = parent.entry_schema
    if child.key_schema is None:
        child.key_schema = parent.key_schema
    return child


class TypeRegistry:
    """All types visible to one service template, by kind, resolved on demand.

    A registry may sit on a frozen ``base`` registry (e.g. the cached built-in and
    type-library files): look-ups fall through to it, additions stay local.
    """

    def __init__(self, base: TypeRegistry | None = None) -> None:
        self.base = base
        self.types: dict[str, dict[str, TypeDef]] = {kind: {} for kind in KINDS.values()}

    def add(self, kind: str, name: str, raw: Any, file: str, *, builtin: bool = False) -> None:
        """Register a type; identical redefinitions are ignored, package ones replace built-ins.

        A differing redefinition of a package type is a ``DUPLICATE_TYPE`` error, except for
        ``tosca.*`` names, where the first definition wins.
        """
        if not isinstance(raw, dict):
            raw = LineDict()
        old = self._lookup(kind, name)
        if old is not None and old.file != file and old.raw is not raw and old.raw != raw:
            if builtin:
                return
            if not old.builtin and name.startswith("tosca."):
                return  # SOL001 itself defines some tosca.* types twice (e.g. PlacementGroup)
            if not old.builtin:
                raise PackageError(
                    "DUPLICATE_TYPE",
                    f"type {name} is already defined differently in {old.file}",
                    file=file,
                    line=line_of(raw),
                    tosca_path=f"{kind}_types.{name}",
                )
        elif old is not None:
            return
        parent = raw.get("derived_from")
        tdef = TypeDef(kind=kind, name=name, raw=raw, file=file, parent=parent, builtin=builtin)
        table = self.types[kind]
        table[name] = tdef
        if name.startswith("tosca."):
            short = name.rsplit(".", 1)[1]
            table.setdefault("tosca:" + short, tdef)
            table.setdefault(short, tdef)

    def _lookup(self, kind: str, name: str) -> TypeDef | None:
        tdef = self.types[kind].get(name)
        if tdef is None and self.base is not None:
            return self.base._lookup(kind, name)
        return tdef

    def find(self, kind: str, name: str) -> TypeDef | None:
        """The resolved type ``name`` of ``kind``, or None when unknown."""
        tdef = self.types[kind].get(name)
        if tdef is None:
            return self.base.find(kind, name) if self.base is not None else None
        if not tdef.resolved:
            self._resolve(tdef, ())
        return tdef

    def is_a(self, kind: str, name: str, ancestor: str) -> bool:
        """True when type ``name`` of ``kind`` is ``ancestor`` or derives from it."""
        tdef = self.find(kind, name)
        if tdef is None:
            return False
        if ancestor in tdef.ancestors:
            return True
        anc = self._lookup(kind, ancestor)
        return anc is not None and anc.name in tdef.ancestors

    def _resolve(self, tdef: TypeDef, chain: tuple[str, ...]) -> None:
        if tdef.name in chain:
            raise PackageError(
                "TYPE_CYCLE",
                f"derived_from cycle: {' -> '.join((*chain, tdef.name))}",
                file=tdef.file,
                line=line_of(tdef.raw),
            )
        parent: TypeDef | None = None
        pname = tdef.parent
        if tdef.kind == "data" and pname in PRIMITIVES:
            tdef.primitive = pname
        elif pname:
            parent = self._lookup(tdef.kind, pname)
            if parent is None:
                raise PackageError(
                    "UNKNOWN_PARENT_TYPE",
                    f"{tdef.kind} type {tdef.name} derives from unknown type {pname}",
                    file=tdef.file,
                    line=line_of(tdef.raw, "derived_from"),
                    tosca_path=f"{tdef.kind}_types.{tdef.name}.derived_from",
                )
            if not parent.resolved:
                if self.types[tdef.kind].get(pname) is parent:
                    self._resolve(parent, (*chain, tdef.name))
                else:
                    self.find(tdef.kind, pname)
        self._inherit(tdef, parent)
        tdef.resolved = True

    def _inherit(self, tdef: TypeDef, parent: TypeDef | None) -> None:
        raw, file = tdef.raw, tdef.file
        base = f"{tdef.kind}_types.{tdef.name}"
        tdef.ancestors = (tdef.name, *(parent.ancestors if parent else ()))
        if parent is not None:
            tdef.primitive = tdef.primitive or parent.primitive
            tdef.constraints = parent.constraints
            tdef.targets = parent.targets
        tdef.constraints = tdef.constraints + compile_constraints(
            raw.get("constraints"), file, base, line_of(raw)
        )
        tdef.properties = _merge_props(
            parent.properties if parent else {}, raw.get("properties"), file, base, raw
        )
        if "targets" in raw and isinstance(raw["targets"], list):
            tdef.targets = tuple(raw["targets"])
        if tdef.kind == "node":
            self._inherit_node(tdef, parent)

    def _inherit_node(self, tdef: TypeDef, parent: TypeDef | None) -> None:
        raw, file = tdef.raw, tdef.file
        reqs = dict(parent.requirements) if parent else {}
        for item in raw.get("requirements") or ():
            if isinstance(item, dict):
                reqs.update(item)
        tdef.requirements = reqs
        caps = dict(parent.capabilities) if parent else {}
        for name, cdef in (raw.get("capabilities") or {}).items():
            ctype = cdef if isinstance(cdef, str) else (cdef or {}).get("type")
            old = caps.get(name)
            if ctype is None and old is not None:
                ctype = old.type
            path = f"node_types.{tdef.name}.capabilities.{name}"
            props = old.properties if old else {}
            if isinstance(cdef, dict) and isinstance(cdef.get("properties"), dict):
                props = _merge_props(props, cdef["properties"], file, path, cdef)
            caps[name] = CapabilityDef(name=name, type=str(ctype), properties=props)
        tdef.capabilities = caps
        ifaces = dict(parent.interfaces) if parent else {}
        for name, idef in (raw.get("interfaces") or {}).items():
            merged = dict(ifaces.get(name) or {})
            merged.update(idef or {})
            ifaces[name] = merged
        tdef.interfaces = ifaces


def _merge_props(
    inherited: dict[str, Schema], raw: Any, file: str, base: str, owner: Any
) -> dict[str, Schema]:
    if not raw:
        return inherited
    if not isinstance(raw, dict):
        raise PackageError(
            "INVALID_DEFINITION",
            "properties must be a map",
            file=file,
            line=line_of(owner, "properties"),
            tosca_path=base + ".properties",
        )
    out = dict(inherited)
    for name, pdef in raw.items():
        path = f"{base}.properties.{name}"
        line = line_of(raw, name)
        old = out.get(name)
        out[name] = (
            refine_schema(old, pdef, file, path, line)
            if old is not None
            else parse_schema(pdef, file, path, line)
        )
    return out
