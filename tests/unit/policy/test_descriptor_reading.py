"""Descriptor policies read from real descriptors: the SOL001 Annex A examples (A.15's
VnfIndicator triggers, A.8's VnfMonitoring / NsMonitoring), the ETSI/Tacker SOL004 sample
packages, nfvo's own samples, and the condition forms TOSCA allows."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from tests.support.etsi_openapi import ETSI_DIR

from nfvo.catalog.builder import read_package_dir
from nfvo.monitoring import metrics
from nfvo.policy.descriptors import TopologyPolicies, read_package
from nfvo.policy.model import Aggregation, Relation
from nfvo.samples import sample_dir

ANNEX_A = ETSI_DIR / "sol001" / "examples" / "etsi-sol001-v3.5.1-annexA"
SOL004 = ETSI_DIR / "sol004" / "build_samples.py"


def _corpus(path: Path) -> Path:
    if not path.exists():
        pytest.skip(
            f"ETSI corpus not found at {ETSI_DIR}; place the shared/etsi folder beside the repo"
        )
    return path


def _one(path: Path) -> list[TopologyPolicies]:
    return read_package({path.name: path.read_bytes()})


def test_annex_a15_vnf_indicator_triggers() -> None:
    [top] = _one(_corpus(ANNEX_A / "example_A.15-01.yaml"))
    assert {a.id: a.max_scale_level for a in top.aspects.values()} == {
        "database": 2,
        "call_proc": 4,
    }
    assert top.aspects["call_proc"].step_deltas == ("delta_1",)
    # the heal triggers are no scaling triggers; the two scale triggers of call_proc are
    by_name = {t.name: t for t in top.triggers}
    assert set(by_name) == {"scale_out", "scale_in"}
    out, into = by_name["scale_out"], by_name["scale_in"]
    assert (out.direction, out.aspect, out.steps) == ("SCALE_OUT", "call_proc", 1)
    assert (out.attribute, out.relation, out.threshold) == (
        "utilization_vnf_indicator",
        Relation.GE,
        60.0,
    )
    assert out.level_bound == 3  # call_proc_scale_level less_than 3
    assert out.event == "tosca.interfaces.nfv.VnfIndicator.utilization"
    assert (into.direction, into.relation, into.threshold, into.level_bound) == (
        "SCALE_IN",
        Relation.LE,
        20.0,
        None,
    )
    assert out.targets == ("SunshineDB",) and top.problems == []


def test_annex_a8_monitoring_parameters_name_known_metrics() -> None:
    [top] = _one(_corpus(ANNEX_A / "example_A.8-01.yaml"))
    by_id = {p.id: p for p in top.monitoring}
    assert len(by_id) == 7
    ns = by_id["ns_monitoring_1111"]
    assert (ns.performance_metric, ns.collection_period_s, ns.targets) == (
        "byte_incoming_sap",
        1.0,
        ("my_service",),
    )
    assert by_id["vnf_2_monitoring_3333"].targets == ("VNF_2",)
    for p in top.monitoring:  # every SOL001 name resolves to a metric nfvo computes
        assert metrics.canonical(p.performance_metric) == p.performance_metric


def test_every_annex_a_example_reads_and_its_aspects_are_found() -> None:
    folder = _corpus(ANNEX_A)
    aspects = 0
    for path in sorted(folder.glob("example_*.yaml")):
        for top in _one(path):
            aspects += len(top.aspects)
            for a in top.aspects.values():
                assert a.max_scale_level >= 0
    assert aspects >= 5


@pytest.fixture(scope="module")
def sol004(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    script = _corpus(SOL004)
    out = tmp_path_factory.mktemp("sol004")
    subprocess.run([sys.executable, str(script), str(out)], check=True, capture_output=True)
    return out, json.loads((out / "expected.json").read_text())


def test_sol004_sample_packages(sol004: tuple[Path, dict]) -> None:
    folder, expected = sol004
    read = 0
    found: dict[str, dict[str, int]] = {}
    wanted = sorted(n for n, exp in expected.items() if exp["onboard"])
    for name in wanted:
        with zipfile.ZipFile(folder / f"{name}.zip") as z:
            files = {n: z.read(n) for n in z.namelist() if n.endswith((".yaml", ".yml"))}
        tops = read_package(files)
        read += 1
        for top in tops:
            if top.aspects:
                found[name] = {a.id: a.max_scale_level for a in top.aspects.values()}
    assert read == len(wanted) >= 5
    # Tacker's helloworld3 flavour "simple": aspect worker_instance, max level 2
    assert found.get("vnflcm1") == {"worker_instance": 2}, found


def test_project_samples() -> None:
    tops = read_package(read_package_dir(sample_dir("vnf-web")))
    flavours = {t.flavour_id: t for t in tops if t.aspects}
    assert set(flavours) == {"small", "large"}
    assert flavours["small"].aspects["web_scale"].max_scale_level == 2
    assert all(t.triggers == [] and t.configurable == {} for t in tops)
    for name in ("vnf-db", "ns-webapp"):
        assert all(t.problems == [] for t in read_package(read_package_dir(sample_dir(name))))


FLAVOUR = """
tosca_definitions_version: tosca_simple_yaml_1_3
node_types:
  my.Vnf:
    derived_from: tosca.nodes.nfv.VNF
    properties:
      configurable_properties:
        type: tosca.datatypes.nfv.VnfConfigurableProperties
        default: {{ is_autoheal_enabled: false }}
policy_types:
  my.Indicator:
    derived_from: tosca.policies.nfv.VnfIndicator
topology_template:
  substitution_mappings:
    node_type: my.Vnf
    properties:
      flavour_id: gold
  node_templates:
    vnf:
      type: my.Vnf
      properties:
        monitoring_parameters:
          - name: cpu
            performance_metric: v_cpu_usage_peak_vnf
            collection_period: 10 s
  policies:
    - aspects:
        type: tosca.policies.nfv.ScalingAspects
        properties:
          aspects:
            tier: {{ max_scale_level: 5, step_deltas: [ d1 ] }}
    - auto:
        type: my.Indicator
        properties: {{ source: vnf }}
        triggers:
          out:
            event: cpu
            condition:
              constraint: {{ greater_than: 85 }}
              period: 30 s
              evaluations: 2
              method: maximum
            action:
              call_operation:
                operation: Vnflcm.scale
                inputs: {{ type: SCALE_OUT, aspect: tier, number_of_steps: 2 }}
          bad:
            event: cpu
            condition: [ {{ cpu: [ {{ less_than: 10 }} ] }} ]
            action: [ {{ call_operation: {{ operation: Vnflcm.scale, inputs: {inputs} }} }} ]
          late:
            event: cpu
            condition: {{ constraint: {{ less_than: 10 }}, period: soon }}
            action: [ {{ call_operation: {{ operation: Vnflcm.scale,
                        inputs: {{ type: scale_in, aspect: tier }} }} }} ]
        targets: [ vnf ]
"""


def test_condition_forms_defaults_and_problems() -> None:
    text = FLAVOUR.format(inputs="{ type: scale_in, aspect: tier, number_of_steps: 0 }")
    [top] = read_package({"Definitions/gold.yaml": text.encode()})
    assert top.flavour_id == "gold"
    assert top.configurable == {"is_autoheal_enabled": False}  # the node type's default
    [param] = top.monitoring
    assert (param.id, param.performance_metric, param.collection_period_s) == (
        "cpu",
        "v_cpu_usage_peak_vnf",
        10.0,
    )
    by_name = {t.name: t for t in top.triggers}
    out = by_name["out"]
    assert (out.relation, out.threshold, out.steps) == (Relation.GT, 85.0, 2)
    assert (out.window_s, out.aggregation) == (60.0, Aggregation.MAX)  # 30 s x 2 evaluations
    assert "bad" not in by_name  # number_of_steps 0
    assert by_name["late"].window_s is None
    assert any("number_of_steps 0" in p for p in top.problems)
    assert any("period" in p and "soon" in p for p in top.problems)


def test_files_that_are_not_templates_are_skipped() -> None:
    files = {
        "a.yaml": b": not yaml : [",
        "b.yaml": b"- a list\n",
        "c.txt": b"topology_template: {}",
        "d.yaml": b"tosca_definitions_version: tosca_simple_yaml_1_3\n",
    }
    assert read_package(files) == []
