"""Placement rules as another tool writes them: Tacker's `sol_v2_basic_lcms_min` VNFD puts
VDU1 and VDU2 in a `tosca.groups.nfv.PlacementGroup` bound by an `AffinityRule` with scope
`nfvi_node`. The rule must reach the optimizer as a host-scope affinity named after the
policy, and be kept (or named when it cannot be) exactly as the descriptor says."""

from __future__ import annotations

import pytest
from tests.unit.catalog.test_descriptors_corpus import EXAMPLES, tacker_package

from nfvo import optimizer
from nfvo.catalog.descriptors import build_descriptor
from nfvo.lcm.plan import NsPlan, VnfPlan, placement_inputs
from nfvo.optimizer import HostCapacity
from nfvo.vnfm.base import VduSpec, VnfDeploymentSpec

pytestmark = pytest.mark.skipif(
    not EXAMPLES.is_dir(), reason="ETSI corpus not found; place the shared/etsi folder beside"
)


def _inputs():
    files, entry = tacker_package("sol_v2_basic_lcms_min")
    vnfd = build_descriptor(files, entry)
    flavour = vnfd.flavours[0]
    [rule] = [r for r in flavour.placement_rules if r.kind == "affinity"]
    spec = VnfDeploymentSpec(
        ns_instance_id="ns",
        vnf_instance_id="vnf",
        vnf_profile_id="p",
        vnfd_id=vnfd.vnfd_id,
        flavour_id=flavour.flavour_id,
        vim_account_id="vim",
        vdus=[VduSpec(v.id, v.name, 1, 4, 8192, 10) for v in flavour.vdus],
    )
    plan = NsPlan("ns", "nsd", "df", None, [], [VnfPlan(spec)], [])
    return rule, placement_inputs(plan, {vnfd.vnfd_id: vnfd})["vim"]


def test_the_tacker_affinity_group_reaches_the_optimizer_as_a_named_host_rule():
    rule, inp = _inputs()
    assert rule.id == "policy_affinity_group" and rule.scope == "nfvi_node"
    [opt_rule] = [r for r in inp.rules if r.kind == "affinity"]
    assert (opt_rule.scope, opt_rule.label) == ("host", "policy_affinity_group")
    placed = optimizer.place(
        [HostCapacity(f"h{i}", "az", 16, 32768, 100) for i in range(3)], inp.demands, inp.rules
    )
    vdu1 = {h for d, h in placed.assignments.items() if "/VDU1-" in d}
    vdu2 = {h for d, h in placed.assignments.items() if "/VDU2-" in d}
    assert not placed.unplaced and vdu1 and vdu1 == vdu2  # the group shares one host


def test_an_affinity_no_host_can_keep_is_refused_naming_the_policy_and_dimension():
    _, inp = _inputs()
    # each host takes one 4-vCPU VDU, never the group of two
    hosts = [HostCapacity(f"h{i}", "az", 6, 65536, 100) for i in range(4)]
    placed = optimizer.place(hosts, inp.demands, inp.rules)
    group = [d.id for d in inp.demands if d.id.split("/")[1].split("-")[0] in ("VDU1", "VDU2")]
    assert set(group) <= set(placed.unplaced)
    why = placed.explanations[group[0]]
    assert why.blocking_dimension == "vcpus", why
    assert "policy_affinity_group" in (why.blocking_rule or "") + (why.reason or ""), why
