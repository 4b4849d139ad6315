"""Error handling of the TOSCA parser: every invalid template names a cause, file, line, path."""

from __future__ import annotations

import time

import pytest

from nfvo.catalog.errors import PackageError
from nfvo.catalog.tosca import load_template
from nfvo.catalog.tosca.yamlload import FastLoader, PureLoader, load_yaml

HEAD = b"tosca_definitions_version: tosca_simple_yaml_1_3\n"
VNFD_IMPORT = (
    b"imports:\n"
    b"  - https://forge.etsi.org/rep/nfv/SOL001/raw/v4.2.1/etsi_nfv_sol001_vnfd_types.yaml\n"
)


def _vdu_template(extra_props: bytes = b"", cpu: bytes = b"2") -> bytes:
    return (
        HEAD + VNFD_IMPORT + b"topology_template:\n"
        b"  node_templates:\n"
        b"    VDU1:\n"
        b"      type: tosca.nodes.nfv.Vdu.Compute\n"
        b"      properties:\n"
        b"        name: vdu1\n"
        b"        description: a vdu\n"
        b"        vdu_profile: {min_number_of_instances: 1, max_number_of_instances: 2}\n"
        + extra_props
        + b"      capabilities:\n"
        b"        virtual_compute:\n"
        b"          properties:\n"
        b"            virtual_memory: {virtual_mem_size: 512 MiB}\n"
        b"            virtual_cpu: {num_virtual_cpu: " + cpu + b"}\n"
    )


def _fail(files: dict[str, bytes], entry: str = "main.yaml", **kwargs) -> PackageError:
    with pytest.raises(PackageError) as info:
        load_template(files, entry, **kwargs)
    return info.value


def test_valid_vdu_template_loads_with_defaults_applied():
    st = load_template({"main.yaml": _vdu_template()}, "main.yaml")
    vdu = st.topology.node_templates["VDU1"]
    assert vdu.capabilities["virtual_compute"]["virtual_cpu"]["num_virtual_cpu"] == 2
    assert vdu.is_a("tosca.nodes.Root")
    # boot_order has a default (false) in SOL001 v4 Vdu.Compute
    assert vdu.properties["boot_order"] is False


def test_unknown_node_type_names_file_line_and_path():
    doc = HEAD + b"topology_template:\n  node_templates:\n    n1:\n      type: no.such.Type\n"
    err = _fail({"Definitions/main.yaml": doc}, "Definitions/main.yaml")
    assert err.cause == "UNKNOWN_NODE_TYPE"
    assert err.file == "Definitions/main.yaml"
    assert err.line == 5
    assert err.tosca_path == "topology_template.node_templates.n1.type"
    assert "no.such.Type" in str(err)


def test_missing_required_property():
    doc = _vdu_template().replace(b"        name: vdu1\n", b"")
    err = _fail({"main.yaml": doc})
    assert err.cause == "MISSING_PROPERTY"
    assert err.tosca_path == "topology_template.node_templates.VDU1.properties.name"


def test_constraint_violation_on_nested_data_type():
    err = _fail({"main.yaml": _vdu_template(cpu=b"0")})
    assert err.cause == "CONSTRAINT_VIOLATION"
    assert err.tosca_path.endswith("virtual_compute.properties.virtual_cpu.num_virtual_cpu")
    assert err.line == 16


def test_wrong_value_type_and_unknown_property():
    err = _fail({"main.yaml": _vdu_template(cpu=b"two")})
    assert err.cause == "INVALID_VALUE"
    err = _fail({"main.yaml": _vdu_template(extra_props=b"        colour: red\n")})
    assert err.cause == "UNKNOWN_PROPERTY"
    assert err.tosca_path == "topology_template.node_templates.VDU1.properties.colour"


def test_scalar_unit_constraint_in_custom_type():
    doc = (
        HEAD + b"data_types:\n  my.Timer:\n    derived_from: tosca.datatypes.Root\n"
        b"    properties:\n      period:\n        type: scalar-unit.time\n"
        b"        constraints: [greater_than: 0 s]\n"
        b"node_types:\n  my.Node:\n    derived_from: tosca.nodes.Root\n"
        b"    properties:\n      timer: {type: my.Timer}\n"
        b"topology_template:\n  node_templates:\n    a:\n      type: my.Node\n"
        b"      properties: {timer: {period: TIME}}\n"
    )
    ok = load_template({"m.yaml": doc.replace(b"TIME", b"500 ms")}, "m.yaml")
    assert ok.topology.node_templates["a"].properties["timer"]["period"] == "500 ms"
    err = _fail({"m.yaml": doc.replace(b"TIME", b"0 h")}, "m.yaml")
    assert err.cause == "CONSTRAINT_VIOLATION"


INPUT_DOC = (
    HEAD + b"node_types:\n  my.Node:\n    derived_from: tosca.nodes.Root\n"
    b"    properties:\n      size: {type: integer, constraints: [in_range: [1, 10]]}\n"
    b"topology_template:\n  inputs:\n    n: {type: integer}\n"
    b"  node_templates:\n    a:\n      type: my.Node\n      properties:\n"
    b"        size: {get_input: n}\n"
)


def test_missing_input_and_supplied_input():
    err = _fail({"m.yaml": INPUT_DOC}, "m.yaml")
    assert err.cause == "MISSING_INPUT"
    assert err.tosca_path == "topology_template.node_templates.a.properties.size"
    st = load_template({"m.yaml": INPUT_DOC}, "m.yaml", inputs={"n": 4})
    assert st.topology.node_templates["a"].properties["size"] == 4
    err = _fail({"m.yaml": INPUT_DOC}, "m.yaml", inputs={"n": 11})
    assert err.cause == "CONSTRAINT_VIOLATION"
    deferred = load_template({"m.yaml": INPUT_DOC}, "m.yaml", defer_inputs=True)
    assert deferred.topology.node_templates["a"].properties["size"] == {"get_input": "n"}


def test_input_default_is_used():
    doc = INPUT_DOC.replace(b"n: {type: integer}", b"n: {type: integer, default: 7}")
    st = load_template({"m.yaml": doc}, "m.yaml")
    assert st.topology.node_templates["a"].properties["size"] == 7


def test_import_cycle_detected_but_diamond_allowed():
    a = HEAD + b"imports: [b.yaml]\n"
    b = HEAD + b"imports: [sub/c.yaml]\n"
    c = HEAD + b"imports: [../a.yaml]\n"
    err = _fail({"a.yaml": a, "b.yaml": b, "sub/c.yaml": c}, "a.yaml")
    assert err.cause == "IMPORT_CYCLE"
    assert "a.yaml -> b.yaml -> sub/c.yaml -> a.yaml" in err.detail
    # diamond: main imports x and y, both import common: not a cycle, loaded once
    common = HEAD + b"node_types:\n  my.N:\n    derived_from: tosca.nodes.Root\n"
    x = HEAD + b"imports: [common.yaml]\n"
    files = {
        "main.yaml": HEAD + b"imports: [x.yaml, y.yaml]\n",
        "x.yaml": x,
        "y.yaml": x,
        "common.yaml": common,
    }
    st = load_template(files, "main.yaml")
    assert st.files.count("common.yaml") == 1
    assert st.registry.find("node", "my.N") is not None


def test_imports_outside_package_and_urls_refused():
    for ref, cause in (
        (b"../../outside.yaml", "IMPORT_OUTSIDE_PACKAGE"),
        (b"/etc/passwd", "IMPORT_OUTSIDE_PACKAGE"),
        (b"http://example.com/types.yaml", "IMPORT_URL_REFUSED"),
        (b"https://forge.etsi.org.evil.com/rep/nfv/SOL001/raw/v4.2.1/x.yaml", "IMPORT_URL_REFUSED"),
        (b"missing.yaml", "IMPORT_NOT_FOUND"),
    ):
        err = _fail(
            {"Definitions/m.yaml": HEAD + b"imports:\n  - " + ref + b"\n"}, "Definitions/m.yaml"
        )
        assert err.cause == cause, ref
        assert err.file == "Definitions/m.yaml"
        assert err.line == 3


def test_import_with_namespace_prefix():
    lib = HEAD + b"node_types:\n  N:\n    derived_from: tosca.nodes.Root\n"
    main = (
        HEAD + b"imports:\n  - file: lib.yaml\n    namespace_prefix: ex\n"
        b"topology_template:\n  node_templates:\n    a: {type: ex:N}\n"
    )
    st = load_template({"m.yaml": main, "lib.yaml": lib}, "m.yaml")
    assert st.topology.node_templates["a"].type == "ex:N"


def test_yaml_alias_bomb_refused_fast():
    lines = ["tosca_definitions_version: tosca_simple_yaml_1_3", 'a0: &a0 ["x","x","x","x"]']
    for i in range(1, 12):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 8)}]")
    bomb = ("\n".join(lines) + "\n").encode()
    start = time.perf_counter()
    err = _fail({"m.yaml": bomb}, "m.yaml")
    assert err.cause == "YAML_BOMB"
    assert time.perf_counter() - start < 1.0


def test_encoding_syntax_size_and_shape_errors():
    assert _fail({"m.yaml": HEAD + b"description: caf\xe9\n"}, "m.yaml").cause == "NOT_UTF8"
    err = _fail({"m.yaml": HEAD + b"a: [1, 2\nb: 3\n"}, "m.yaml")
    assert err.cause == "YAML_SYNTAX" and err.line is not None
    big = HEAD + b"#" + b"x" * (16 << 20) + b"\n"
    assert _fail({"m.yaml": big}, "m.yaml").cause == "FILE_TOO_LARGE"
    assert _fail({"m.yaml": b"- a\n- b\n"}, "m.yaml").cause == "NOT_A_MAPPING"


def test_unknown_tosca_definitions_version():
    err = _fail({"m.yaml": b"tosca_definitions_version: tosca_simple_yaml_9_9\n"}, "m.yaml")
    assert err.cause == "UNKNOWN_TOSCA_VERSION"
    assert err.line == 1


def test_unknown_parent_type_and_requirement_target():
    doc = (
        HEAD + b"node_types:\n  my.N:\n    derived_from: my.Missing\n"
        b"topology_template:\n  node_templates:\n    a: {type: my.N}\n"
    )
    err = _fail({"m.yaml": doc}, "m.yaml")
    assert err.cause == "UNKNOWN_PARENT_TYPE"
    assert err.line == 4
    doc = (
        HEAD + b"topology_template:\n  node_templates:\n    a:\n"
        b"      type: tosca.nodes.Root\n      requirements:\n        - dependency: ghost\n"
    )
    err = _fail({"m.yaml": doc}, "m.yaml")
    assert err.cause == "UNKNOWN_REQUIREMENT_TARGET"
    assert err.line == 7


def test_policy_target_must_exist_and_fit():
    doc = _vdu_template() + (
        b"  policies:\n    - delta:\n        type: tosca.policies.nfv.VduInitialDelta\n"
        b"        properties: {initial_delta: {number_of_instances: 1}}\n"
        b"        targets: [TARGET]\n"
    )
    st = load_template({"m.yaml": doc.replace(b"TARGET", b"VDU1")}, "m.yaml")
    assert st.topology.policies[0].targets == ["VDU1"]
    assert _fail({"m.yaml": doc.replace(b"TARGET", b"nope")}, "m.yaml").cause == (
        "UNKNOWN_POLICY_TARGET"
    )


@pytest.mark.parametrize("loader", [FastLoader, PureLoader])
def test_both_yaml_loaders_keep_lines_and_bomb_protection(loader):
    doc = load_yaml(b"a: 1\nb:\n  c: [1, 2]\n", "x.yaml", loader=loader)
    assert (doc.line_of("b"), doc["b"].line_of("c"), doc["b"]["c"].line) == (2, 3, 3)
    lines = ['a0: &a0 ["x","x","x","x"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 8)}]" for i in range(1, 12)]
    start = time.perf_counter()
    with pytest.raises(PackageError) as info:
        load_yaml(("\n".join(lines) + "\n").encode(), "bomb.yaml", loader=loader)
    assert info.value.cause == "YAML_BOMB" and info.value.file == "bomb.yaml"
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize("loader", [FastLoader, PureLoader])
@pytest.mark.parametrize(
    ("text", "line"),
    [
        (b"a: 1\nb: 2\na: 3\n", 3),
        (b"x:\n  k: 1\n  k: 1\n", 3),
        (b"flow: {k: 1, k: 2}\n", 1),
        (b"'a': 1\n\"a\": 2\n", 2),
    ],
)
def test_duplicate_keys_are_refused(loader, text: bytes, line: int) -> None:
    """The same key twice in a mapping was silently resolved to its last value, so a
    package could show a reviewer one value and deploy another."""
    with pytest.raises(PackageError) as info:
        load_yaml(text, "dup.yaml", loader=loader)
    assert info.value.cause == "YAML_DUPLICATE_KEY" and info.value.file == "dup.yaml"
    assert info.value.line == line


@pytest.mark.parametrize("loader", [FastLoader, PureLoader])
def test_merge_keys_may_be_overridden(loader) -> None:
    doc = load_yaml(b"base: &b {k: 1, j: 2}\nm:\n  <<: *b\n  k: 3\n", "m.yaml", loader=loader)
    assert doc["m"] == {"k": 3, "j": 2}
