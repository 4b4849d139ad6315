"""Asking the optimizer where each VDU instance of a planned NS goes."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict
from typing import Any

from nfvo import optimizer
from nfvo.lcm import codec
from nfvo.optimizer.model import Demand, HostCapacity, PlacementRule
from nfvo.resources.service import ResourceService

# Usage older than this is re-synced from the VIM before placing; newer is reused (operations
# running at the same moment are covered by the VIM placing a VDU whose planned host is full).
FRESH_SYNC_S = 5.0


class PlacementFailed(Exception):
    """Some VDU instances fit on no host of their VIM; ``problem`` names them and why."""

    def __init__(self, problem: dict[str, Any]) -> None:
        super().__init__(problem["detail"])
        self.problem = problem


def _rules(vnf_id: str, spec: Any) -> list[PlacementRule]:
    out = []
    for r in spec.params.get("placement_rules", []):
        members = [
            f"{vnf_id}|{vdu.vdu_id}-{i}"
            for vdu in spec.vdus
            if vdu.vdu_id in r["targets"]
            for i in range(vdu.count)
        ]
        scope = "zone" if r.get("scope") in ("zone", "zone_group") else "host"
        if len(members) > 1:
            out.append(PlacementRule(kind=r["kind"], scope=scope, members=members))
    return out


def place_plan(ns_plan: Any, resources: ResourceService) -> dict[str, Any]:
    """Place every VDU instance (fresh VIM sync first); the stored plan, hosts filled in."""
    by_vim: dict[str, list[Any]] = defaultdict(list)
    for vnf in ns_plan.vnfs:
        by_vim[vnf.spec.vim_account_id].append(vnf.spec)
    bounds = {}
    for vim_id, specs in by_vim.items():
        resources.sync_if_older(vim_id, FRESH_SYNC_S)
        hosts = [HostCapacity(**h) for h in resources.host_capacities(vim_id)]
        demands, rules = [], []
        for spec in specs:
            for vdu in spec.vdus:
                for i in range(vdu.count):
                    demands.append(
                        Demand(
                            id=f"{spec.vnf_instance_id}|{vdu.vdu_id}-{i}",
                            vcpus=vdu.vcpus,
                            ram_mib=vdu.ram_mib,
                            disk_gib=vdu.disk_gib,
                            zone=vdu.zone,
                        )
                    )
            rules += _rules(spec.vnf_instance_id, spec)
        result = optimizer.place(hosts, demands, rules)
        if result.unplaced:
            listed = "; ".join(
                f"{d.split('|')[1]} of VNF {d.split('|')[0]}: {why}"
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
        for spec in specs:
            spec.hosts = {
                d.split("|")[1]: host
                for d, host in result.assignments.items()
                if d.split("|")[0] == spec.vnf_instance_id
            }
        bounds[vim_id] = {
            "algorithm": result.algorithm,
            "objective": result.objective,
            "lowerBound": result.lower_bound,
            "gap": result.gap,
            "solveTimeS": result.solve_time_s,
        }
    profile_to_vnfs: dict[str, list[str]] = defaultdict(list)
    for vnf in ns_plan.vnfs:
        profile_to_vnfs[vnf.spec.vnf_profile_id].append(vnf.spec.vnf_instance_id)
    return {
        "virtual_links": [asdict(vl) for vl in ns_plan.virtual_links],
        "vnfs": {v.spec.vnf_instance_id: codec.to_json(v.spec) for v in ns_plan.vnfs},
        "vnf_layers": [
            [vid for p in layer for vid in profile_to_vnfs[p]] for layer in ns_plan.layers
        ],
        "placement": bounds,
    }
