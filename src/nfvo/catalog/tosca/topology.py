"""Parsing and checking one ``topology_template`` against the type registry."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from typing import Any

from nfvo.catalog.errors import PackageError
from nfvo.catalog.tosca.model import (
    Artifact,
    Group,
    NodeTemplate,
    Operation,
    Policy,
    Requirement,
    SubstitutionMappings,
    Topology,
)
from nfvo.catalog.tosca.typesys import Schema, TypeDef, TypeRegistry, parse_schema
from nfvo.catalog.tosca.values import Unresolved, ValueChecker
from nfvo.catalog.tosca.yamlload import LineDict, line_of

_TT = "topology_template"


class TopologyParser:
    """Parses the topology of one file; ``supplied`` are input values given by the caller."""

    def __init__(
        self,
        registry: TypeRegistry,
        file: str,
        raw: LineDict,
        supplied: Mapping[str, Any],
        defer_inputs: bool,
    ) -> None:
        self.registry = registry
        self.file = file
        self.raw = raw
        self.supplied = supplied
        self.defer_inputs = defer_inputs
        self.checker = ValueChecker(registry, file, self._get_input)
        self.inputs: dict[str, Schema] = {}
        self.values: dict[str, Any] = {}

    def fail(self, cause: str, detail: str, line: int | None, path: str) -> PackageError:
        """A PackageError located in this file."""
        return PackageError(cause, detail, file=self.file, line=line, tosca_path=path)

    def _section(self, name: str) -> Any:
        value = self.raw.get(name)
        if value is None:
            return {} if name != "policies" else []
        return value

    def parse(self, description: str | None, metadata: dict[str, Any]) -> Topology:
        """Parse inputs, node templates, groups, policies and substitution mappings."""
        self._parse_inputs()
        nodes = self._section("node_templates")
        if not isinstance(nodes, dict):
            raise self.fail(
                "INVALID_TEMPLATE",
                "node_templates must be a map",
                line_of(self.raw, "node_templates"),
                f"{_TT}.node_templates",
            )
        templates = {name: self._node(name, raw, nodes) for name, raw in nodes.items()}
        self._check_requirements(templates)
        groups = self._groups(templates)
        policies = self._policies(templates, groups)
        subst = self._substitution(templates)
        return Topology(
            file=self.file,
            description=description,
            metadata=metadata,
            inputs=self.inputs,
            input_values=self.values,
            node_templates=templates,
            groups=groups,
            policies=policies,
            substitution=subst,
            outputs=dict(self._section("outputs")),
        )

    # -- inputs -------------------------------------------------------------------------------
    def _parse_inputs(self) -> None:
        raw = self._section("inputs")
        for name, pdef in raw.items():
            path = f"{_TT}.inputs.{name}"
            line = line_of(raw, name)
            schema = parse_schema(pdef, self.file, path, line)
            self.inputs[name] = schema
            if name in self.supplied and not isinstance(self.supplied[name], Unresolved):
                self.values[name] = self.checker.check(self.supplied[name], schema, line, path)
            elif schema.has_default:
                self.values[name] = self.checker.check(schema.default, schema, line, path)

    def _get_input(self, ref: Any, path: str, line: int | None, _type: str) -> Any:
        name = ref[0] if isinstance(ref, list) and ref else ref
        if name not in self.inputs:
            raise self.fail(
                "UNKNOWN_INPUT", f"get_input names undeclared input {name!r}", line, path
            )
        if name not in self.values:
            if self.defer_inputs:
                return Unresolved(get_input=ref)
            raise self.fail(
                "MISSING_INPUT",
                f"input {name!r} has no default and no value was supplied",
                line,
                path,
            )
        value = self.values[name]
        if isinstance(ref, list):
            for step in ref[1:]:
                try:
                    value = value[step]
                except (KeyError, IndexError, TypeError):
                    raise self.fail(
                        "INVALID_VALUE", f"get_input {ref!r} does not resolve", line, path
                    ) from None
        return value

    # -- node templates -----------------------------------------------------------------------
    def _node(self, name: str, raw: Any, nodes: LineDict) -> NodeTemplate:
        path = f"{_TT}.node_templates.{name}"
        line = line_of(nodes, name)
        if not isinstance(raw, dict):
            raise self.fail("INVALID_TEMPLATE", "a node template must be a map", line, path)
        type_name = raw.get("type")
        tdef = self.registry.find("node", type_name) if isinstance(type_name, str) else None
        if tdef is None:
            raise self.fail(
                "UNKNOWN_NODE_TYPE",
                f"unknown node type {type_name!r}",
                line_of(raw, "type"),
                path + ".type",
            )
        props = self.checker.check_properties(
            raw.get("properties"),
            tdef.properties,
            line_of(raw, "properties") or line,
            path + ".properties",
            f"node type {type_name}",
        )
        return NodeTemplate(
            name=name,
            type=type_name,
            type_def=tdef,
            properties=props,
            capabilities=self._capabilities(raw, tdef, path),
            requirements=self._requirements(raw, tdef, path),
            interfaces=self._interfaces(raw, tdef, path),
            artifacts=self._artifacts(raw, path),
            file=self.file,
            line=line,
            directives=list(raw.get("directives") or ()),
        )

    def _capabilities(self, raw: LineDict, tdef: TypeDef, path: str) -> dict[str, dict]:
        caps = raw.get("capabilities") or {}
        out: dict[str, dict] = {}
        for cname, assignment in caps.items():
            cpath = f"{path}.capabilities.{cname}"
            cline = line_of(caps, cname)
            cdef = tdef.capabilities.get(cname)
            if cdef is None:
                raise self.fail(
                    "UNKNOWN_CAPABILITY",
                    f"node type {tdef.name} has no capability {cname!r}",
                    cline,
                    cpath,
                )
            ctype = self.registry.find("capability", cdef.type)
            if ctype is None:
                raise self.fail(
                    "UNKNOWN_CAPABILITY_TYPE", f"unknown capability type {cdef.type}", cline, cpath
                )
            schema = {**ctype.properties, **cdef.properties}
            values = (assignment or {}).get("properties")
            out[cname] = self.checker.check_properties(
                values,
                schema,
                line_of(assignment, "properties") or cline,
                cpath + ".properties",
                f"capability type {ctype.name}",
            )
        return out

    def _requirements(self, raw: LineDict, tdef: TypeDef, path: str) -> list[Requirement]:
        reqs = raw.get("requirements") or []
        if not isinstance(reqs, list):
            raise self.fail(
                "INVALID_TEMPLATE",
                "requirements must be a list",
                line_of(raw, "requirements"),
                path + ".requirements",
            )
        out = []
        for index, item in enumerate(reqs):
            rpath = f"{path}.requirements[{index}]"
            rline = line_of(item) or line_of(reqs)
            if not isinstance(item, dict) or len(item) != 1:
                raise self.fail(
                    "INVALID_TEMPLATE", "a requirement must be a one-key map", rline, rpath
                )
            ((rname, value),) = item.items()
            if rname not in tdef.requirements:
                raise self.fail(
                    "UNKNOWN_REQUIREMENT",
                    f"node type {tdef.name} has no requirement {rname!r}",
                    rline,
                    f"{rpath}.{rname}",
                )
            if isinstance(value, dict):
                rel = value.get("relationship")
                rel = rel.get("type") if isinstance(rel, dict) else rel
                out.append(
                    Requirement(rname, value.get("node"), value.get("capability"), rel, rline)
                )
            else:
                out.append(
                    Requirement(rname, value if isinstance(value, str) else None, line=rline)
                )
        return out

    def _check_requirements(self, templates: dict[str, NodeTemplate]) -> None:
        for node in templates.values():
            for index, req in enumerate(node.requirements):
                target = req.node
                if target is None or target in templates:
                    continue
                if self.registry.find("node", target) is not None:
                    continue
                raise self.fail(
                    "UNKNOWN_REQUIREMENT_TARGET",
                    f"requirement {req.name!r} targets unknown node template {target!r}",
                    req.line,
                    f"{_TT}.node_templates.{node.name}.requirements[{index}]",
                )

    def _interfaces(self, raw: LineDict, tdef: TypeDef, path: str) -> dict[str, dict]:
        ifaces = raw.get("interfaces") or {}
        out: dict[str, dict[str, Operation]] = {}
        for iname, body in ifaces.items():
            if iname not in tdef.interfaces:
                raise self.fail(
                    "UNKNOWN_INTERFACE",
                    f"node type {tdef.name} has no interface {iname!r}",
                    line_of(ifaces, iname),
                    f"{path}.interfaces.{iname}",
                )
            body = body or {}
            ops = body.get("operations") if isinstance(body.get("operations"), dict) else body
            out[iname] = {
                oname: _operation(oname, odef)
                for oname, odef in ops.items()
                if oname not in ("type", "inputs", "notifications")
            }
        return out

    def _artifacts(self, raw: LineDict, path: str) -> dict[str, Artifact]:
        arts = raw.get("artifacts") or {}
        out = {}
        for aname, adef in arts.items():
            if isinstance(adef, str):
                adef = {"file": adef}
            atype = adef.get("type")
            known_type = atype is None or self.registry.find("artifact", atype) is not None
            if not known_type and not str(atype).startswith("tosca.artifacts."):
                raise self.fail(
                    "UNKNOWN_ARTIFACT_TYPE",
                    f"unknown artifact type {atype!r}",
                    line_of(arts, aname),
                    f"{path}.artifacts.{aname}.type",
                )
            ref = str(adef.get("file") or "")
            out[aname] = Artifact(
                name=aname,
                type=atype,
                file=ref,
                path=self._artifact_path(ref),
                properties=dict(adef.get("properties") or {}),
                raw=dict(adef),
                line=line_of(arts, aname),
                file_line=line_of(adef, "file") if isinstance(adef, LineDict) else None,
            )
        return out

    def _artifact_path(self, ref: str) -> str | None:
        if not ref or "://" in ref or ref.startswith("/"):
            return None
        target = posixpath.normpath(posixpath.join(posixpath.dirname(self.file), ref))
        return None if target.startswith("../") or target == ".." else target

    # -- groups, policies, substitution -------------------------------------------------------
    def _groups(self, templates: dict[str, NodeTemplate]) -> dict[str, Group]:
        raw = self._section("groups")
        out = {}
        for gname, gdef in raw.items():
            path = f"{_TT}.groups.{gname}"
            line = line_of(raw, gname)
            tdef = self.registry.find("group", gdef.get("type"))
            if tdef is None:
                raise self.fail(
                    "UNKNOWN_GROUP_TYPE",
                    f"unknown group type {gdef.get('type')!r}",
                    line,
                    path + ".type",
                )
            members = list(gdef.get("members") or [])
            for member in members:
                if member not in templates:
                    raise self.fail(
                        "UNKNOWN_GROUP_MEMBER",
                        f"unknown member {member!r}",
                        line_of(gdef, "members"),
                        path + ".members",
                    )
            props = self.checker.check_properties(
                gdef.get("properties"),
                tdef.properties,
                line,
                path + ".properties",
                f"group type {tdef.name}",
                enforce_required=False,
            )
            out[gname] = Group(gname, tdef.name, tdef, props, members)
        return out

    def _policies(self, templates: dict[str, NodeTemplate], groups: dict[str, Group]) -> list:
        raw = self._section("policies")
        items = list(raw.items()) if isinstance(raw, dict) else []
        if isinstance(raw, list):
            for entry in raw:
                if not isinstance(entry, dict) or len(entry) != 1:
                    raise self.fail(
                        "INVALID_TEMPLATE",
                        "a policy must be a one-key map",
                        line_of(entry) or line_of(raw),
                        f"{_TT}.policies",
                    )
                items.extend(entry.items())
        return [self._policy(name, body, templates, groups, raw) for name, body in items]

    def _policy(self, name: str, body: Any, templates: dict, groups: dict, raw: Any) -> Policy:
        path = f"{_TT}.policies.{name}"
        line = line_of(body) or line_of(raw)
        if not isinstance(body, dict):
            raise self.fail("INVALID_TEMPLATE", "a policy must be a map", line, path)
        tdef = self.registry.find("policy", body.get("type"))
        if tdef is None:
            raise self.fail(
                "UNKNOWN_POLICY_TYPE",
                f"unknown policy type {body.get('type')!r}",
                line_of(body, "type"),
                path + ".type",
            )
        props = self.checker.check_properties(
            body.get("properties"),
            tdef.properties,
            line_of(body, "properties") or line,
            path + ".properties",
            f"policy type {tdef.name}",
        )
        targets = list(body.get("targets") or [])
        for target in targets:
            node = templates.get(target)
            group = groups.get(target)
            if node is None and group is None:
                raise self.fail(
                    "UNKNOWN_POLICY_TARGET",
                    f"policy target {target!r} is unknown",
                    line_of(body, "targets"),
                    path + ".targets",
                )
            if tdef.targets:
                anc = (node or group).type_def.ancestors
                if not any(self._same_type(t, anc) for t in tdef.targets):
                    raise self.fail(
                        "INVALID_POLICY_TARGET",
                        f"{target!r} ({(node or group).type}) is not a valid target of "
                        f"{tdef.name} (allowed: {', '.join(tdef.targets)})",
                        line_of(body, "targets"),
                        path + ".targets",
                    )
        return Policy(name, tdef.name, tdef, props, targets, line)

    def _same_type(self, allowed: str, ancestors: tuple[str, ...]) -> bool:
        if allowed in ancestors:
            return True
        for kind in ("node", "group"):
            tdef = self.registry.find(kind, allowed)
            if tdef is not None and tdef.name in ancestors:
                return True
        return False

    def _substitution(self, templates: dict[str, NodeTemplate]) -> SubstitutionMappings | None:
        raw = self.raw.get("substitution_mappings")
        if raw is None:
            return None
        path = f"{_TT}.substitution_mappings"
        line = line_of(self.raw, "substitution_mappings")
        if not isinstance(raw, dict):
            raise self.fail("INVALID_TEMPLATE", "substitution_mappings must be a map", line, path)
        tdef = self.registry.find("node", raw.get("node_type"))
        if tdef is None:
            raise self.fail(
                "UNKNOWN_NODE_TYPE",
                f"unknown node type {raw.get('node_type')!r}",
                line_of(raw, "node_type"),
                path + ".node_type",
            )
        props = dict(raw.get("properties") or {})
        for pname in props:
            if pname not in tdef.properties:
                raise self.fail(
                    "UNKNOWN_PROPERTY",
                    f"node type {tdef.name} has no property {pname!r}",
                    line_of(raw, "properties"),
                    path + ".properties",
                )
        reqs = self._mapping(raw, "requirements", templates, path)
        caps = self._mapping(raw, "capabilities", templates, path)
        flt = raw.get("substitution_filter")
        clauses = flt.get("properties") if isinstance(flt, dict) else None
        return SubstitutionMappings(
            tdef.name,
            tdef,
            props,
            reqs,
            caps,
            line,
            list(clauses) if isinstance(clauses, list) else [],
        )

    def _mapping(self, raw: LineDict, key: str, templates: dict, path: str) -> dict:
        section = raw.get(key) or {}
        pairs: list[tuple[str, Any]] = []
        if isinstance(section, list):
            for entry in section:
                if isinstance(entry, dict):
                    pairs.extend(entry.items())
        elif isinstance(section, dict):
            pairs = list(section.items())
        out = {}
        for name, target in pairs:
            line = line_of(section, name) or line_of(raw, key)
            if target == []:
                continue  # declared but not mapped (seen in real packages)
            if not (isinstance(target, list) and len(target) == 2):
                raise self.fail(
                    "INVALID_TEMPLATE",
                    f"{key} mapping {name!r} must be [node_template, name]",
                    line,
                    f"{path}.{key}.{name}",
                )
            if target[0] not in templates:
                raise self.fail(
                    "UNKNOWN_NODE_TEMPLATE",
                    f"{key} mapping {name!r} names unknown node template {target[0]!r}",
                    line,
                    f"{path}.{key}.{name}",
                )
            out[name] = (str(target[0]), str(target[1]))
        return out


def _operation(name: str, odef: Any) -> Operation:
    if odef is None or isinstance(odef, list):
        return Operation(name)
    if isinstance(odef, str):
        return Operation(name, implementation=odef)
    impl = odef.get("implementation")
    deps: list[str] = []
    if isinstance(impl, dict):
        deps = [str(d) for d in impl.get("dependencies") or []]
        impl = impl.get("primary")
        if isinstance(impl, dict):
            impl = impl.get("file")
    return Operation(
        name, implementation=impl, dependencies=deps, inputs=dict(odef.get("inputs") or {})
    )
