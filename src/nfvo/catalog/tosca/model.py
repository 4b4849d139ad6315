"""The parsed, validated form of a TOSCA service template.

These plain dataclasses are what :func:`nfvo.catalog.tosca.load_template`
returns and what the typed-descriptor builder reads.  Property values are as
written in the template (scalar units stay strings such as ``"8 GB"``), with
defaults filled in and ``get_input`` resolved where a value is known.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nfvo.catalog.tosca.typesys import Schema, TypeDef, TypeRegistry


@dataclass(slots=True)
class Requirement:
    """One requirement assignment of a node template (``virtual_link: internalVL1``)."""

    name: str
    node: str | None
    capability: str | None = None
    relationship: str | None = None
    line: int | None = None


@dataclass(slots=True)
class Artifact:
    """An artifact of a node template; ``path`` is package-relative when the file is local."""

    name: str
    type: str | None
    file: str
    path: str | None
    properties: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)
    line: int | None = None
    file_line: int | None = None  # line of the artifact's ``file`` key, when written as a map
    carried: bool = True  # False: a SwImage the package does not carry (a VIM image by name)


@dataclass(slots=True)
class Operation:
    """An interface operation: its implementation (primary artifact, dependencies) and inputs."""

    name: str
    implementation: str | None = None
    dependencies: list[str] = field(default_factory=list)
    inputs: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class NodeTemplate:
    """A node template with its type resolved and its values checked."""

    name: str
    type: str
    type_def: TypeDef
    properties: dict[str, Any]
    capabilities: dict[str, dict[str, Any]]
    requirements: list[Requirement]
    interfaces: dict[str, dict[str, Operation]]
    artifacts: dict[str, Artifact]
    file: str
    line: int | None
    directives: list[str] = field(default_factory=list)

    def is_a(self, type_name: str) -> bool:
        """True when this node's type is ``type_name`` or derives from it."""
        return type_name in self.type_def.ancestors

    def requirement_targets(self, name: str) -> list[str]:
        """Names of the nodes targeted by every assignment of requirement ``name``."""
        return [r.node for r in self.requirements if r.name == name and r.node]


@dataclass(slots=True)
class Policy:
    """A policy of a topology (``tosca.policies.nfv.ScalingAspects`` ...) with its targets."""

    name: str
    type: str
    type_def: TypeDef
    properties: dict[str, Any]
    targets: list[str]
    line: int | None = None

    def is_a(self, type_name: str) -> bool:
        """True when this policy's type is ``type_name`` or derives from it."""
        return type_name in self.type_def.ancestors


@dataclass(slots=True)
class Group:
    """A group of node templates (e.g. a placement group)."""

    name: str
    type: str
    type_def: TypeDef
    properties: dict[str, Any]
    members: list[str]


@dataclass(slots=True)
class SubstitutionMappings:
    """How a topology substitutes an abstract node type (a VNF flavour, an NS ...).

    ``requirements``/``capabilities`` map the abstract node's requirement or
    capability name to ``(node_template, requirement_or_capability)``;
    ``property_filters`` are the ``substitution_filter.properties`` clauses (TOSCA 1.3).
    """

    node_type: str
    type_def: TypeDef
    properties: dict[str, Any]
    requirements: dict[str, tuple[str, str]]
    capabilities: dict[str, tuple[str, str]]
    line: int | None = None
    property_filters: list[Any] = field(default_factory=list)


@dataclass(slots=True)
class Topology:
    """The ``topology_template`` of one file of the service template."""

    file: str
    description: str | None
    metadata: dict[str, Any]
    inputs: dict[str, Schema]
    input_values: dict[str, Any]
    node_templates: dict[str, NodeTemplate]
    groups: dict[str, Group]
    policies: list[Policy]
    substitution: SubstitutionMappings | None
    outputs: dict[str, Any]

    def nodes_of(self, type_name: str) -> list[NodeTemplate]:
        """Node templates whose type is or derives from ``type_name``, in template order."""
        return [n for n in self.node_templates.values() if n.is_a(type_name)]

    def policies_of(self, type_name: str) -> list[Policy]:
        """Policies whose type is or derives from ``type_name``, in template order."""
        return [p for p in self.policies if p.is_a(type_name)]


@dataclass(slots=True)
class ServiceTemplate:
    """A loaded service template: the entry file's topology plus every imported topology.

    ``topology`` is the entry file's own topology (None for a pure type file).
    ``imported_topologies`` are topologies found in imported files (SOL001 VNF
    packages put one deployment flavour per imported file); use
    :meth:`substitution_topologies` to get every topology that substitutes a node.
    """

    entry: str
    tosca_definitions_version: str
    metadata: dict[str, Any]
    description: str | None
    registry: TypeRegistry
    topology: Topology | None
    imported_topologies: list[Topology]
    files: list[str]

    def substitution_topologies(self) -> list[Topology]:
        """All topologies (entry first) that have substitution_mappings."""
        tops = [self.topology, *self.imported_topologies]
        return [t for t in tops if t is not None and t.substitution is not None]

    def node_type(self, name: str) -> TypeDef | None:
        """A resolved node type by name, or None."""
        return self.registry.find("node", name)
