"""The scaling policies and auto-heal switch an instantiated NS's descriptors declare, read
from the onboarded packages in the database (SQLite and PostgreSQL): the sample web VNF
with A.15-style triggers on a VNF monitoring parameter and ``is_autoheal_enabled: false``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tests.support.live import LiveApi, sim_vim, wait_op

from nfvo.catalog.builder import build_csar
from nfvo.policy import descriptors
from nfvo.policy.model import Relation, Target
from nfvo.samples import NSD_WEBAPP_ID, VNF_WEB_ID, build_sample, sample_dir

NS = "/nslcm/v2/ns_instances"
TYPES = """
      configurable_properties:
        type: tosca.datatypes.nfv.VnfConfigurableProperties
        required: false
"""
VNF_PROPS = """        flavour_description: One to three web servers and one cache, for trials
        configurable_properties:
          is_autoscale_enabled: true
          is_autoheal_enabled: false
        monitoring_parameters:
          web_cpu:
            name: web frontend vCPU
            performance_metric: v_cpu_usage_mean_vnf
            collection_period: 10 s
"""
POLICY = """
    - web_autoscale:
        type: tosca.policies.nfv.VnfIndicator
        properties:
          source: vnf
        triggers:
          web_out:
            event: tosca.interfaces.nfv.VnfIndicator.web_cpu
            condition:
              - web_cpu: [ { greater_or_equal: 80 } ]
              - web_scale_scale_level: [ { less_than: 2 } ]
            action:
              - call_operation:
                  operation: tosca.interfaces.nfv.Vnflcm.scale
                  inputs:
                    - type: { value: scale_out }
                    - aspect: { value: web_scale }
          web_in:
            event: tosca.interfaces.nfv.VnfIndicator.web_cpu
            condition:
              - web_cpu: [ { less_or_equal: 20 } ]
            action:
              - call_operation:
                  operation: tosca.interfaces.nfv.Vnflcm.scale
                  inputs:
                    - type: { value: scale_in }
                    - aspect: { value: web_scale }
          heal_it:
            event: tosca.interfaces.nfv.VnfIndicator.health
            condition:
              - health: red
            action:
              - call_operation:
                  operation: tosca.interfaces.nfv.Vnflcm.heal
        targets: [ VNF ]
"""


def _web_package(tmp: Path) -> bytes:
    """The sample web VNF package with monitoring, triggers and configurable properties."""
    folder = tmp / "vnf-web"
    shutil.copytree(sample_dir("vnf-web"), folder)
    types = folder / "Definitions" / "vnf_web_types.yaml"
    text = types.read_text()
    anchor = "    properties:\n      descriptor_id:"
    assert anchor in text
    types.write_text(text.replace(anchor, "    properties:" + TYPES + "      descriptor_id:", 1))
    flavour = folder / "Definitions" / "vnf_web_df_small.yaml"
    text = flavour.read_text()
    line = "        flavour_description: One to three web servers and one cache, for trials\n"
    assert line in text and "\n  policies:\n" in text
    text = text.replace(line, VNF_PROPS, 1).replace("\n  policies:\n", "\n  policies:" + POLICY, 1)
    flavour.write_text(text)
    return build_csar(folder)


@pytest.fixture
def ns_id(live: LiveApi, tmp_path: Path) -> str:
    g = live.client
    for kind, data in (
        ("vnf", _web_package(tmp_path)),
        ("vnf", build_sample("vnf-db")),
        ("nsd", build_sample("ns-webapp")),
    ):
        info = live.onboard(kind, data)
        state = info.get("onboardingState") or info.get("nsdOnboardingState")
        assert state == "ONBOARDED", info
    images = [{"name": n} for n in ("web-img", "db-img")]
    vim = sim_vim(g, "lab", zones=1, hosts=4, images=images)
    ns = g.post(NS, json={"nsdId": NSD_WEBAPP_ID, "nsName": "auto"}).json()
    body = {"nsFlavourId": "default", "additionalParamsForNs": {"vimAccountId": vim}}
    r = g.post(f"{NS}/{ns['id']}/instantiate", json=body)
    assert wait_op(g, r.headers["location"])["operationState"] == "COMPLETED"
    return str(ns["id"])


def test_descriptor_triggers_become_one_policy_per_aspect(live: LiveApi, ns_id: str) -> None:
    db = live.services.db
    ns = live.client.get(f"{NS}/{ns_id}").json()
    vnfs = {v["vnfdId"]: v["id"] for v in ns["vnfInstance"]}
    web = vnfs[VNF_WEB_ID]
    policies, problems = descriptors.explain(db, ns_id)
    [p] = policies
    assert (p.target, p.vnf_instance_id, p.ns_instance_id) == (Target.VNF, web, ns_id)
    assert (p.aspect_id, p.metric, p.source, p.enabled) == (
        "web_scale",
        "v_cpu_usage_mean_vnf",
        "descriptor",
        True,
    )
    assert (p.out_relation, p.out_threshold, p.in_relation, p.in_threshold) == (
        Relation.GE,
        80.0,
        Relation.LE,
        20.0,
    )
    assert (p.steps, p.max_scale_level, p.tenant_id) == (1, 2, None)
    assert problems == []
    # the same through a session, and the read is cached per package content
    with db.session() as s:
        assert descriptors.scaling_policies_for(s, ns_id) == policies
    # is_autoheal_enabled false in the web VNFD; the db VNFD says nothing: not restricted
    assert descriptors.autoheal_enabled(db, web) is False
    assert descriptors.autoscale_enabled(db, web) is True
    assert descriptors.autoheal_enabled(db, vnfs[next(k for k in vnfs if k != VNF_WEB_ID)])
    assert descriptors.autoheal_enabled(db, "no-such-vnf") is False
    assert descriptors.scaling_policies_for(db, "no-such-ns") == []
    # the runtime's auto-scaler evaluates them beside the API's policies
    store = live.services.policies
    assert store is not None
    assert [q for q in store.scaling_policies() if q.ns_instance_id == ns_id] == policies
