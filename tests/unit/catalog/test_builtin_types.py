"""Conformance of the built-in TOSCA/SOL001 type files against the ETSI SOL001 type definitions.

The ETSI files are an external corpus (``shared/etsi`` beside the repository); the tests that
need it are skipped when it is absent. The built-in files must be a superset of every edition:
each ETSI type exists with the same parent, each property with the same type and default, each
requirement, capability, attribute, interface, operation, target and member name is present, and
a property is mandatory exactly when every edition defining the type makes it mandatory.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from nfvo.catalog.tosca import types as builtin

try:
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - pure-python PyYAML
    _Loader = yaml.SafeLoader

ETSI_DIR = Path(__file__).resolve().parents[3] / ".." / "shared" / "etsi" / "sol001" / "definitions"
VERSIONS = ("v2.6.1", "v3.3.1", "v3.5.1", "v3.6.1", "v4.2.1")
KINDS = ("common", "vnfd", "nsd", "pnfd")
SECTIONS = (
    "data_types",
    "artifact_types",
    "capability_types",
    "relationship_types",
    "interface_types",
    "node_types",
    "group_types",
    "policy_types",
)
PRIMITIVES = {
    "string",
    "integer",
    "float",
    "boolean",
    "timestamp",
    "null",
    "version",
    "range",
    "list",
    "map",
    "scalar-unit.size",
    "scalar-unit.time",
    "scalar-unit.frequency",
    "scalar-unit.bitrate",
}

# Deliberate deviations: an older edition declared a different type; the newest form is kept.
KNOWN_TYPE_CHANGES = {
    ("tosca.nodes.nfv.Vdu.Compute", "boot_order", "v2.6.1"),
    ("tosca.nodes.nfv.Vdu.Compute", "boot_data", "v2.6.1"),
    ("tosca.nodes.nfv.Vdu.Compute", "nfvi_constraints", "v2.6.1"),
    ("tosca.nodes.nfv.Vdu.Compute", "monitoring_parameters", "v2.6.1"),
    ("tosca.nodes.nfv.Vdu.Compute", "monitoring_parameters", "v3.3.1"),
    ("tosca.nodes.nfv.VNF", "monitoring_parameters", "v2.6.1"),
    ("tosca.nodes.nfv.VNF", "monitoring_parameters", "v3.3.1"),
    ("tosca.nodes.nfv.VnfVirtualLink", "monitoring_parameters", "v2.6.1"),
    ("tosca.nodes.nfv.VnfVirtualLink", "monitoring_parameters", "v3.3.1"),
    ("tosca.policies.nfv.NsMonitoring", "ns_monitoring_parameters", "v3.3.1"),
    ("tosca.policies.nfv.VnfMonitoring", "vnf_monitoring_parameters", "v3.3.1"),
    ("tosca.policies.nfv.VnfPackageChange", "selector", "v3.3.1"),
    ("tosca.policies.nfv.VnfPackageChange", "selector", "v3.5.1"),
    ("tosca.policies.nfv.VnfPackageChange", "selector", "v3.6.1"),
    ("tosca.datatypes.nfv.VnfConfigurableProperties", "vnfm_interface_info", "v3.6.1"),
    # v3.6.1 declares it boolean with string valid_values, which no value can satisfy.
    ("tosca.datatypes.nfv.L3AddressData", "ip_address_assignment_subtype", "v3.6.1"),
}
# v2.6.1 derived SecurityGroupRule from tosca.policies.Root; later editions add an abstract parent.
KNOWN_PARENT_CHANGES = {("tosca.policies.nfv.SecurityGroupRule", "v2.6.1")}

OUR_FILE = {kind: f"sol001_{kind}.yaml" for kind in KINDS}


# ----------------------------------------------------------------------------- loading


@cache
def _our_doc(name: str) -> dict[str, Any]:
    return yaml.load(builtin.read_builtin(name), Loader=_Loader)


def _our_types() -> dict[str, dict[str, Any]]:
    table: dict[str, dict[str, Any]] = {}
    for name in builtin.BUILTIN_FILES:
        for section in SECTIONS:
            table.update(_our_doc(name).get(section) or {})
    return table


def _visible(name: str) -> set[str]:
    """Type names a template sees after importing our file ``name`` (normative types implied)."""
    seen: set[str] = set()
    todo = [name, builtin.NORMATIVE]
    names: set[str] = set()
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        doc = _our_doc(current)
        for section in SECTIONS:
            names.update(doc.get(section) or {})
        todo.extend(doc.get("imports") or [])
    return names


def _require_corpus() -> None:
    if not ETSI_DIR.is_dir():
        pytest.skip(
            f"ETSI corpus not found at {ETSI_DIR.resolve()}; place the shared/etsi folder "
            "beside the repo"
        )


@cache
def _etsi_file(version: str, kind: str) -> dict[str, dict[str, Any]]:
    path = ETSI_DIR / version / f"etsi_nfv_sol001_{kind}_types.yaml"
    doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    table: dict[str, dict[str, Any]] = {}
    for section in SECTIONS:
        table.update(doc.get(section) or {})
    return table


@cache
def _etsi_version(version: str) -> dict[str, dict[str, Any]]:
    """All types of one edition, resolved over its four files (normative parents from ours)."""
    table = {n: d for n, d in _our_types().items() if ".nfv." not in n}
    for kind in KINDS:
        table.update(_etsi_file(version, kind))
    return table


# ----------------------------------------------------------------------------- inheritance


def _chain(table: dict[str, dict[str, Any]], name: str) -> Iterator[dict[str, Any]]:
    """Definitions from ``name`` up to its root, child first."""
    seen: set[str] = set()
    while name and name in table and name not in seen:
        seen.add(name)
        yield table[name] or {}
        name = (table[name] or {}).get("derived_from", "")


def _effective(table: dict[str, dict[str, Any]], name: str, key: str) -> dict[str, Any]:
    """Merged map section (properties, attributes, capabilities, interfaces), child wins."""
    merged: dict[str, Any] = {}
    for tdef in reversed(list(_chain(table, name))):
        merged.update(tdef.get(key) or {})
    return merged


def _requirement_names(table: dict[str, dict[str, Any]], name: str) -> set[str]:
    return {
        n for tdef in _chain(table, name) for item in tdef.get("requirements") or [] for n in item
    }


def _operations(tdef: dict[str, Any]) -> set[str]:
    """Operation and notification names of an interface type in 1.2 or 1.3 syntax."""
    names = set(tdef.get("operations") or {}) | set(tdef.get("notifications") or {})
    names |= {
        k
        for k in tdef
        if k
        not in {
            "derived_from",
            "description",
            "operations",
            "notifications",
            "metadata",
            "version",
            "inputs",
        }
    }
    return names


def _schema_type(pdef: dict[str, Any]) -> tuple[Any, Any]:
    entry = pdef.get("entry_schema")
    entry_type = entry.get("type") if isinstance(entry, dict) else entry
    return pdef.get("type"), entry_type


def _required(pdef: dict[str, Any]) -> bool:
    return pdef.get("required", True) is not False


# ----------------------------------------------------------------------------- conformance


def _compare_type(version: str, name: str, etsi: dict[str, Any], errors: list[str]) -> None:
    ours = _our_types()
    mine = ours[name] or {}
    theirs = _etsi_version(version)
    where = f"{version} {name}"
    if etsi.get("derived_from") != mine.get("derived_from"):
        if (name, version) not in KNOWN_PARENT_CHANGES:
            errors.append(
                f"{where}: derived_from {etsi.get('derived_from')} != {mine.get('derived_from')}"
            )
    our_props = _effective(ours, name, "properties")
    for pname, pdef in _effective(theirs, name, "properties").items():
        have = our_props.get(pname)
        if have is None:
            errors.append(f"{where}: property {pname} missing")
            continue
        if (name, pname, version) in KNOWN_TYPE_CHANGES:
            continue
        if _schema_type(pdef) != _schema_type(have):
            errors.append(f"{where}.{pname}: type {_schema_type(pdef)} != {_schema_type(have)}")
        if "default" in pdef and pdef["default"] != have.get("default"):
            errors.append(
                f"{where}.{pname}: default {pdef['default']!r} != {have.get('default')!r}"
            )
    for key in ("attributes", "capabilities", "interfaces"):
        missing = set(_effective(theirs, name, key)) - set(_effective(ours, name, key))
        if missing:
            errors.append(f"{where}: {key} missing {sorted(missing)}")
    missing = _requirement_names(theirs, name) - _requirement_names(ours, name)
    if missing:
        errors.append(f"{where}: requirements missing {sorted(missing)}")
    for key in ("valid_target_types", "valid_source_types", "targets", "members"):
        missing = set(etsi.get(key) or []) - set(mine.get(key) or [])
        if missing:
            errors.append(f"{where}: {key} missing {sorted(missing)}")
    if "operations" in etsi or etsi.get("derived_from") == "tosca.interfaces.Root":
        missing = _operations(etsi) - _operations(mine)
        if missing:
            errors.append(f"{where}: operations missing {sorted(missing)}")


@pytest.mark.parametrize("version", VERSIONS)
def test_every_etsi_type_is_built_in_and_compatible(version: str) -> None:
    _require_corpus()
    errors: list[str] = []
    checked = 0
    for kind in KINDS:
        visible = _visible(OUR_FILE[kind])
        for name, etsi in _etsi_file(version, kind).items():
            checked += 1
            if name not in _our_types():
                errors.append(f"{version} {kind}: type {name} missing")
                continue
            if name not in visible:
                errors.append(f"{version} {kind}: {name} not visible from {OUR_FILE[kind]}")
            _compare_type(version, name, etsi or {}, errors)
    assert checked > 50
    assert not errors, "\n".join(errors)


def test_required_exactly_when_required_in_every_edition() -> None:
    _require_corpus()
    ours = _our_types()
    errors: list[str] = []
    names = {n for v in VERSIONS for k in KINDS for n in _etsi_file(v, k)}
    for name in sorted(names):
        editions = [v for v in VERSIONS if any(name in _etsi_file(v, k) for k in KINDS)]
        our_props = _effective(ours, name, "properties")
        for pname, have in our_props.items():
            if name not in ours or pname not in (ours[name].get("properties") or {}):
                continue  # inherited from a normative or other checked type
            expected = all(
                pname in (props := _effective(_etsi_version(v), name, "properties"))
                and _required(props[pname])
                for v in editions
            )
            if expected != _required(have):
                errors.append(f"{name}.{pname}: required={_required(have)}, expected {expected}")
    assert not errors, "\n".join(errors)


def test_known_deviations_are_real() -> None:
    """The allow-lists above must not hide anything that already conforms."""
    _require_corpus()
    ours = _our_types()
    for name, pname, version in KNOWN_TYPE_CHANGES:
        etsi = _effective(_etsi_version(version), name, "properties")[pname]
        mine = _effective(ours, name, "properties")[pname]
        assert _schema_type(etsi) != _schema_type(mine), (name, pname, version)
    for name, version in KNOWN_PARENT_CHANGES:
        etsi_parent = _etsi_version(version)[name]["derived_from"]
        assert etsi_parent != ours[name]["derived_from"]


# ----------------------------------------------------------------------------- our files alone


def _type_refs(tdef: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(what, type name) for every type reference inside one type definition."""

    def schema_refs(where: str, pdef: Any) -> Iterator[tuple[str, str]]:
        if isinstance(pdef, str):
            yield where, pdef
            return
        if not isinstance(pdef, dict):
            return
        if "type" in pdef:
            yield where, pdef["type"]
        for key in ("entry_schema", "key_schema"):
            if key in pdef:
                yield from schema_refs(f"{where}.{key}", pdef[key])

    if "derived_from" in tdef:
        yield "derived_from", tdef["derived_from"]
    for key in ("properties", "attributes"):
        for pname, pdef in (tdef.get(key) or {}).items():
            yield from schema_refs(f"{key}.{pname}", pdef)
    for cname, cdef in (tdef.get("capabilities") or {}).items():
        yield f"capabilities.{cname}", cdef["type"] if isinstance(cdef, dict) else cdef
        for src in (cdef or {}).get("valid_source_types") or [] if isinstance(cdef, dict) else []:
            yield f"capabilities.{cname}.valid_source_types", src
    for item in tdef.get("requirements") or []:
        for rname, rdef in item.items():
            rdef = rdef if isinstance(rdef, dict) else {"capability": rdef}
            for key in ("capability", "node", "relationship"):
                if key in rdef:
                    yield f"requirements.{rname}.{key}", rdef[key]
    for iname, idef in (tdef.get("interfaces") or {}).items():
        yield f"interfaces.{iname}", idef["type"]
    for key in ("valid_target_types", "valid_source_types", "targets", "members"):
        for ref in tdef.get(key) or []:
            yield key, ref
    for group in ("operations", "notifications"):
        for oname, odef in (tdef.get(group) or {}).items():
            for pname, pdef in ((odef or {}).get("inputs") or {}).items():
                yield from schema_refs(f"{group}.{oname}.inputs.{pname}", pdef)


def test_every_type_reference_resolves_within_our_files() -> None:
    ours = _our_types()
    errors = [
        f"{name}.{what}: {ref}"
        for name, tdef in ours.items()
        for what, ref in _type_refs(tdef or {})
        if ref not in ours and ref not in PRIMITIVES
    ]
    assert not errors, "\n".join(errors)
    # every derived_from chain ends at a root type (or a primitive for derived scalars)
    for name in ours:
        root = list(_chain(ours, name))[-1]
        assert root.get("derived_from") in (None, "string", "integer"), name


@pytest.mark.parametrize("version", VERSIONS)
def test_normative_types_cover_what_sol001_references(version: str) -> None:
    _require_corpus()
    normative: set[str] = set()
    for section in SECTIONS:
        normative.update(_our_doc(builtin.NORMATIVE).get(section) or {})
    nfv = {n for k in KINDS for n in _etsi_file(version, k)}
    missing = {
        f"{name}.{what}: {ref}"
        for kind in KINDS
        for name, tdef in _etsi_file(version, kind).items()
        for what, ref in _type_refs(tdef or {})
        if ref not in nfv and ref not in normative and ref not in PRIMITIVES
    }
    assert not missing, "\n".join(sorted(missing))


def test_parents_resolve_from_each_files_own_imports() -> None:
    for kind in KINDS:
        visible = _visible(OUR_FILE[kind])
        for section in SECTIONS:
            for name, tdef in (_our_doc(OUR_FILE[kind]).get(section) or {}).items():
                parent = (tdef or {}).get("derived_from")
                assert parent is None or parent in visible or parent in PRIMITIVES, (kind, name)


@pytest.mark.parametrize("name", sorted(builtin.BUILTIN_FILES))
def test_builtin_file_is_plain_tosca_13(name: str) -> None:
    data = builtin.read_builtin(name)
    doc = yaml.load(data, Loader=_Loader)
    assert doc["tosca_definitions_version"] == "tosca_simple_yaml_1_3"
    assert set(doc) <= {"tosca_definitions_version", "metadata", "imports", *SECTIONS}
    for imported in doc.get("imports") or []:
        assert imported in builtin.BUILTIN_FILES
    count = 0
    for section in SECTIONS:
        for tname, tdef in (doc.get(section) or {}).items():
            count += 1
            assert "description" not in (tdef or {}), tname
            for key in ("properties", "attributes"):
                for pname, pdef in ((tdef or {}).get(key) or {}).items():
                    assert "description" not in pdef, (tname, pname)
                    assert "type" in pdef, (tname, pname)
    assert count > 0


def test_type_names_are_defined_once() -> None:
    seen: dict[str, str] = {}
    for name in builtin.BUILTIN_FILES:
        for section in SECTIONS:
            for tname in _our_doc(name).get(section) or {}:
                assert tname not in seen, f"{tname} in {seen.get(tname)} and {name}"
                seen[tname] = name
    assert len(seen) > 200


def test_nsd_types_import_vnfd_pnfd_and_common() -> None:
    assert set(_our_doc("sol001_nsd.yaml")["imports"]) == {
        "sol001_common.yaml",
        "sol001_vnfd.yaml",
        "sol001_pnfd.yaml",
    }
    for kind in ("vnfd", "pnfd"):
        assert _our_doc(OUR_FILE[kind])["imports"] == ["sol001_common.yaml"]
    assert "imports" not in _our_doc("sol001_common.yaml")


def test_superset_choices_for_older_editions() -> None:
    ours = _our_types()
    compute = _effective(ours, "tosca.nodes.nfv.Vdu.Compute", "properties")
    assert compute["boot_order"]["type"] == "boolean"
    assert compute["boot_order"]["required"] is False
    assert compute["vdu_profile"].get("required", True) is True
    image = _effective(ours, "tosca.artifacts.nfv.SwImage", "properties")
    assert image["checksum"]["required"] is False  # optional in 2.6.1, mandatory later
    rule = ours["tosca.policies.nfv.SecurityGroupRule"]
    assert {"tosca.nodes.nfv.VduCp", "tosca.nodes.nfv.Sap", "tosca.nodes.nfv.PnfExtCp"} <= set(
        rule["targets"]
    )
    assert "tosca.policies.nfv.SecurityGroupRule" in _visible("sol001_pnfd.yaml")


# ----------------------------------------------------------------------------- URL mapping

FORGE = "https://forge.etsi.org/rep/nfv/SOL001"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (f"{FORGE}/raw/v2.6.1/etsi_nfv_sol001_vnfd_types.yaml", "sol001_vnfd.yaml"),
        (f"{FORGE}/raw/v3.3.1/etsi_nfv_sol001_common_types.yaml", "sol001_common.yaml"),
        (f"{FORGE}/raw/v3.5.1/etsi_nfv_sol001_nsd_types.yaml", "sol001_nsd.yaml"),
        (f"{FORGE}/raw/v3.6.1/etsi_nfv_sol001_pnfd_types.yaml", "sol001_pnfd.yaml"),
        (f"{FORGE}/raw/v4.2.1/etsi_nfv_sol001_vnfd_types.yaml", "sol001_vnfd.yaml"),
        (f"{FORGE}/raw/v4.4.1/etsi_nfv_sol001_vnfd_types.yaml", "sol001_vnfd.yaml"),
        (f"{FORGE}/raw/master/etsi_nfv_sol001_nsd_types.yaml", "sol001_nsd.yaml"),
        (f"{FORGE}/-/raw/v3.3.1/etsi_nfv_sol001_vnfd_types.yaml", "sol001_vnfd.yaml"),
        (f"{FORGE}/-/raw/v4.2.1/etsi_nfv_sol001_nsd_types.yaml?inline=false", "sol001_nsd.yaml"),
        (
            "http://forge.etsi.org/rep/nfv/SOL001/raw/v2.6.1/etsi_nfv_sol001_pnfd_types.yaml",
            "sol001_pnfd.yaml",
        ),
        (
            "HTTPS://Forge.ETSI.org/rep/nfv/sol001/raw/v2.6.1/etsi_nfv_sol001_common_types.yaml",
            "sol001_common.yaml",
        ),
        (f"  {FORGE}/raw/v3.3.1/etsi_nfv_sol001_vnfd_types.yaml  ", "sol001_vnfd.yaml"),
        ("etsi_nfv_sol001_vnfd_types.yaml", None),
        ("Definitions/etsi_nfv_sol001_common_types.yaml", None),
        (f"{FORGE}/raw/v2.6.1/etsi_nfv_sol001_other_types.yaml", None),
        (f"{FORGE}/raw/etsi_nfv_sol001_vnfd_types.yaml", None),
        (f"{FORGE}/blob/v2.6.1/etsi_nfv_sol001_vnfd_types.yaml", None),
        ("https://forge.etsi.org/rep/nfv/SOL006/raw/v2.6.1/etsi_nfv_sol001_vnfd_types.yaml", None),
        ("https://example.com/rep/nfv/SOL001/raw/v2.6.1/etsi_nfv_sol001_vnfd_types.yaml", None),
        (
            "https://forge.etsi.org.evil.example/rep/nfv/SOL001/raw/v2.6.1/"
            "etsi_nfv_sol001_vnfd_types.yaml",
            None,
        ),
        ("ftp://forge.etsi.org/rep/nfv/SOL001/raw/v2.6.1/etsi_nfv_sol001_vnfd_types.yaml", None),
        (f"{FORGE}/raw/v2.6.1/etsi_nfv_sol001_vnfd_types.yaml.bak", None),
    ],
)
def test_resolve_etsi_url(url: str, expected: str | None) -> None:
    assert builtin.resolve_etsi_url(url) == expected


def test_every_resolved_name_is_a_builtin_file() -> None:
    for kind in KINDS:
        name = builtin.resolve_etsi_url(f"{FORGE}/raw/v3.3.1/etsi_nfv_sol001_{kind}_types.yaml")
        assert name in builtin.BUILTIN_FILES
        assert builtin.read_builtin(name).startswith(b"tosca_definitions_version:")


def test_read_builtin_is_cached_and_rejects_unknown_names() -> None:
    assert builtin.NORMATIVE in builtin.BUILTIN_FILES
    assert builtin.read_builtin(builtin.NORMATIVE) is builtin.read_builtin(builtin.NORMATIVE)
    with pytest.raises(KeyError):
        builtin.read_builtin("etsi_nfv_sol001_vnfd_types.yaml")
    with pytest.raises(KeyError):
        builtin.read_builtin("../pyproject.toml")
