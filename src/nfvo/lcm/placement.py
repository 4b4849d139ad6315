"""Asking the optimizer where each VDU instance of a planned NS goes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from nfvo import optimizer
from nfvo.catalog.descriptors import Nsd, Vnfd
from nfvo.lcm.model import NsLevelPlan, PlacementBounds
from nfvo.lcm.plan import NsPlan, apply_placement, placement_demands
from nfvo.optimizer.model import HostCapacity
from nfvo.resources.service import ResourceService
from nfvo.vnfm.base import VnfDeploymentSpec

# Usage older than this is re-synced from the VIM before placing; newer is reused (operations
# running at the same moment are covered by the VIM placing a VDU whose planned host is full).
FRESH_SYNC_S = 5.0


class PlacementFailed(Exception):
    """Some VDU instances fit on no host of their VIM; ``problem`` names them and why."""

    def __init__(self, problem: dict[str, Any]) -> None:
        super().__init__(problem["detail"])
        self.problem = problem


def place_plan(
    ns_plan: NsPlan, vnfds: Mapping[str, Vnfd], nsd: Nsd, resources: ResourceService
) -> tuple[NsLevelPlan, list[VnfDeploymentSpec]]:
    """Place every VDU instance (VIM inventory re-synced when stale): the NS-level plan (VNF
    instance ids in dependency layers, the optimizer's bounds per VIM) and the VNFs' specs,
    hosts filled in. Demands and rules come from the planner (``placement_demands``)."""
    bounds: dict[str, PlacementBounds] = {}
    for vim_id, (demands, rules) in placement_demands(ns_plan, vnfds, nsd).items():
        resources.sync_if_older(vim_id, FRESH_SYNC_S)
        hosts = [HostCapacity(**h) for h in resources.host_capacities(vim_id)]
        result = optimizer.place(hosts, demands, rules)
        if result.unplaced:
            listed = "; ".join(
                f"{d.partition('/')[2]} of VNF {d.partition('/')[0]}: {why}"
                for d, why in sorted(result.unplaced.items())
            )
            raise PlacementFailed(
                {
                    "title": "Placement failed",
                    "status": 409,
                    "vimAccountId": vim_id,
                    "detail": f"no host of VIM {vim_id} can take {listed}",
                }
            )
        apply_placement(ns_plan, result)
        bounds[vim_id] = PlacementBounds(
            algorithm=result.algorithm,
            objective=result.objective,
            lower_bound=result.lower_bound,
            gap=result.gap,
            solve_time_s=result.solve_time_s,
        )
    profile_to_vnfs: dict[str, list[str]] = defaultdict(list)
    for vnf in ns_plan.vnfs:
        profile_to_vnfs[vnf.spec.vnf_profile_id].append(vnf.spec.vnf_instance_id)
    layers = [[vid for p in layer for vid in profile_to_vnfs[p]] for layer in ns_plan.layers]
    plan = NsLevelPlan(list(ns_plan.virtual_links), layers, bounds)
    return plan, [vnf.spec for vnf in ns_plan.vnfs]
