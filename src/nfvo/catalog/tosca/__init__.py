"""A TOSCA Simple Profile (YAML 1.2/1.3) parser for ETSI SOL001 descriptors.

Entry point: :func:`load_template`.  Every invalid-package condition raises
:class:`nfvo.catalog.errors.PackageError` naming the file, line and TOSCA path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nfvo.catalog.errors import PackageError
from nfvo.catalog.tosca.imports import ImportResolver, LoadedFile
from nfvo.catalog.tosca.model import (
    Artifact,
    Group,
    NodeTemplate,
    Operation,
    Policy,
    Requirement,
    ServiceTemplate,
    SubstitutionMappings,
    Topology,
)
from nfvo.catalog.tosca.topology import TopologyParser
from nfvo.catalog.tosca.typesys import KINDS, TypeRegistry, kind_for
from nfvo.catalog.tosca.values import Unresolved
from nfvo.catalog.tosca.yamlload import line_of

__all__ = [
    "Artifact",
    "Group",
    "NodeTemplate",
    "Operation",
    "PackageError",
    "Policy",
    "Requirement",
    "ServiceTemplate",
    "SubstitutionMappings",
    "Topology",
    "Unresolved",
    "load_template",
]

_REGISTRY_CACHE: dict[tuple, TypeRegistry] = {}
_REGISTRY_CACHE_MAX = 64


def load_template(
    files: Mapping[str, bytes],
    entry: str,
    inputs: Mapping[str, Any] | None = None,
    *,
    defer_inputs: bool = False,
) -> ServiceTemplate:
    """Load, resolve and check the service template ``entry`` of a package.

    ``files`` maps package-relative POSIX paths to bytes.  ``inputs`` supplies
    values for the entry topology's inputs.  A ``get_input`` of an input with
    neither value nor default raises ``MISSING_INPUT`` unless ``defer_inputs``
    is set, in which case it stays as an :class:`Unresolved` ``{get_input: ...}``
    (used when onboarding a descriptor whose inputs come at instantiation).
    """
    loaded = ImportResolver(files).load(entry)
    registry = _build_registry(loaded)
    entry_file = loaded[-1]
    doc = entry_file.doc
    topology = None
    imported: list[Topology] = []
    substituted: dict[str, Any] = {}
    if entry_file.has_topology:
        topology = _parse_topology(registry, entry_file, inputs or {}, defer_inputs)
        substituted = _abstract_node_properties(topology)
    for item in loaded[:-1]:
        if item.has_topology and not item.builtin:
            supplied = substituted.get(_subst_type(item), {})
            imported.append(_parse_topology(registry, item, supplied, True))
    return ServiceTemplate(
        entry=entry_file.path,
        tosca_definitions_version=str(doc.get("tosca_definitions_version")),
        metadata=dict(doc.get("metadata") or {}),
        description=doc.get("description"),
        registry=registry,
        topology=topology,
        imported_topologies=imported,
        files=[f.path for f in loaded],
    )


def _parse_topology(
    registry: TypeRegistry, item: LoadedFile, supplied: Mapping[str, Any], defer: bool
) -> Topology:
    raw = item.doc["topology_template"]
    parser = TopologyParser(registry, item.path, raw, supplied, defer)
    description = raw.get("description") or item.doc.get("description")
    return parser.parse(description, dict(item.doc.get("metadata") or {}))


def _subst_type(item: LoadedFile) -> str | None:
    sub = item.doc["topology_template"].get("substitution_mappings")
    return sub.get("node_type") if isinstance(sub, dict) else None


def _abstract_node_properties(topology: Topology) -> dict[str, dict[str, Any]]:
    """Property values of the entry's nodes by type: inputs of the topologies substituting them."""
    out: dict[str, dict[str, Any]] = {}
    for node in topology.node_templates.values():
        for name in node.type_def.ancestors:
            out.setdefault(name, node.properties)
    return out


def _build_registry(loaded: list[LoadedFile]) -> TypeRegistry:
    """Type-library files (no topology) form a cached base; topology files add an overlay."""
    libraries = [f for f in loaded if not f.has_topology]
    key = tuple((f.path, f.digest, tuple(f.prefixes)) for f in libraries)
    base = _REGISTRY_CACHE.get(key)
    if base is None:
        base = TypeRegistry()
        for item in libraries:
            _add_types(base, item)
        if len(_REGISTRY_CACHE) >= _REGISTRY_CACHE_MAX:
            _REGISTRY_CACHE.pop(next(iter(_REGISTRY_CACHE)))
        _REGISTRY_CACHE[key] = base
    others = [f for f in loaded if f.has_topology]
    if not others:
        return base
    registry = TypeRegistry(base)
    for item in others:
        _add_types(registry, item)
    return registry


def _add_types(registry: TypeRegistry, item: LoadedFile) -> None:
    doc = item.doc
    for section, kind in KINDS.items():
        table = doc.get(section)
        if not table:
            continue
        if not isinstance(table, dict):
            raise PackageError(
                "INVALID_DEFINITION",
                f"{section} must be a map",
                file=item.path,
                line=line_of(doc, section),
                tosca_path=section,
            )
        for name, raw in table.items():
            actual = kind_for(kind, str(name))
            registry.add(actual, name, raw, item.path, builtin=item.builtin)
            for prefix in item.prefixes:
                registry.add(actual, f"{prefix}:{name}", raw, item.path, builtin=item.builtin)
