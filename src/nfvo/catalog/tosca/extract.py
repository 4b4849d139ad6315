"""Small functions that read SOL001 values out of parsed templates for the typed descriptors."""

from __future__ import annotations

import math
from typing import Any

from nfvo.catalog.tosca.model import Policy, ServiceTemplate, Topology
from nfvo.catalog.tosca.scalar import parse_scalar
from nfvo.catalog.tosca.values import Unresolved

GIB = 1024**3
MIB = 1024**2


def known(value: Any) -> Any:
    """The value, or None when it is an unresolved ``get_input`` or another function call."""
    if isinstance(value, Unresolved):
        return None
    if isinstance(value, dict) and len(value) == 1:
        key = next(iter(value))
        if isinstance(key, str) and key.startswith(("get_", "concat", "join", "token")):
            return None
    return value


def dig(data: Any, *keys: Any, default: Any = None) -> Any:
    """``data[k1][k2]...`` or ``default`` when a step is missing or unresolved."""
    for key in keys:
        data = known(data)
        if not isinstance(data, dict) or key not in data:
            return default
        data = data[key]
    data = known(data)
    return default if data is None else data


def size_bytes(value: Any) -> int | None:
    """A scalar-unit.size in bytes (None when absent or unresolved)."""
    value = known(value)
    if value is None:
        return None
    return int(parse_scalar(value, "scalar-unit.size").base)


def size_in(value: Any, unit: int) -> int | None:
    """A scalar-unit.size rounded up to whole ``unit`` (e.g. GIB, MIB)."""
    size = size_bytes(value)
    return None if size is None else math.ceil(size / unit)


def as_str_list(value: Any) -> list[str]:
    """A list of strings from a list (or a single value); unresolved values give []."""
    value = known(value)
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value if known(v) is not None]
    return [str(value)]


def as_int(value: Any) -> int | None:
    """An int, or None when absent or unresolved."""
    value = known(value)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def jsonable(value: Any) -> Any:
    """A JSON-friendly deep copy (dates to ISO strings, keys to strings, functions kept)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def policies(topology: Topology, *type_names: str) -> list[Policy]:
    """Policies of any of ``type_names`` (or subtypes), in template order."""
    return [p for p in topology.policies if any(p.is_a(t) for t in type_names)]


def flavour_id_of(st: ServiceTemplate, topology: Topology) -> str | None:
    """The deployment flavour a substituting topology implements.

    Looked up in order: the substitution ``properties.flavour_id``, a
    ``substitution_filter`` clause on flavour_id, the substituted node template
    inside the topology, a single ``valid_values`` or default of the node type.
    """
    subst = topology.substitution
    if subst is None:
        return None
    value = known(subst.properties.get("flavour_id"))
    if isinstance(value, list) and value:
        value = None
    if value is not None:
        return str(value)
    value = _filter_flavour(topology)
    if value is not None:
        return value
    for node in topology.node_templates.values():
        if node.type == subst.node_type:
            value = known(node.properties.get("flavour_id"))
            if value is not None:
                return str(value)
    schema = subst.type_def.properties.get("flavour_id")
    if schema is not None:
        for constraint in schema.constraints:
            if constraint.op == "valid_values" and len(constraint.arg) == 1:
                return str(constraint.arg[0])
            if constraint.op == "equal":
                return str(constraint.arg)
        if schema.has_default and known(schema.default) is not None:
            return str(schema.default)
    return None


def _filter_flavour(topology: Topology) -> str | None:
    subst = topology.substitution
    for clause in subst.property_filters if subst is not None else ():
        if not isinstance(clause, dict) or "flavour_id" not in clause:
            continue
        cond = clause["flavour_id"]
        if isinstance(cond, list) and cond:
            cond = cond[0]
        if isinstance(cond, dict):
            for op in ("equal", "valid_values"):
                if op in cond:
                    arg = cond[op]
                    return str(arg[0] if isinstance(arg, list) else arg)
        elif cond is not None:
            return str(cond)
    return None
