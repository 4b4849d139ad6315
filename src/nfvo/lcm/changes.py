"""What a SCALE, HEAL or UPDATE operation will change, computed and validated when the
operation is requested (bad requests are refused before any op occurrence exists) and stored
with the op occurrence, so the workflow only applies it and a rollback knows the way back.

A change set is plain JSON::

    {"scale":   {vnf_id: {"aspect", "before", "after", "level_before", "level_after"}},
     "add":     {vnf_id: <VnfDeploymentSpec JSON>},     # SCALE_NS out, ADD_VNF
     "remove":  [vnf_id, ...],                          # SCALE_NS in, REMOVE_VNF
     "heal":    {vnf_id: {"keys": [...], "recreate": bool}},
     "operate": {vnf_id: "STARTED" | "STOPPED"},
     "replace": {vnf_id: {"before": spec, "after": spec}},  # CHANGE_VNF_DF
     "ns_scale": {aspect_id: {"before": int, "after": int}}}
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from nfvo.catalog.descriptors import Nsd, Vnfd
from nfvo.lcm.codec import vnfc_id
from nfvo.lcm.plan import PlanError, scale_vnf_counts, vnf_instance_id_for
from nfvo.lcm.states import OpType

# (vnf_profile_id, index, vnf_instance_id, new_flavour_id, level_id) -> spec JSON
Replan = Callable[[str, int, str, str, str | None], dict[str, Any]]


def _vnf(plan: dict[str, Any], vnf_id: Any, field: str) -> dict[str, Any]:
    spec = (plan.get("vnfs") or {}).get(vnf_id) if isinstance(vnf_id, str) else None
    if spec is None:
        known = ", ".join(sorted(plan.get("vnfs") or {})) or "none"
        raise PlanError(field, f"no VNF instance {vnf_id!r} in this NS (known: {known})")
    return spec


def _counts(spec: dict[str, Any]) -> dict[str, int]:
    return {v["vdu_id"]: v["count"] for v in spec["vdus"]}


def _scale_vnf(plan: dict, levels: dict, vnfds: dict[str, Vnfd], req: dict) -> dict[str, Any]:
    out: dict[str, Any] = {}
    items = req.get("scaleVnfData")
    if not isinstance(items, list) or not items:
        raise PlanError("scaleVnfData", "SCALE_VNF needs a non-empty scaleVnfData list")
    for i, item in enumerate(items):
        where = f"scaleVnfData[{i}]"
        spec = _vnf(plan, item.get("vnfInstanceId"), f"{where}.vnfInstanceId")
        kind = item.get("scaleVnfType")
        if kind not in ("SCALE_OUT", "SCALE_IN"):
            raise PlanError(
                f"{where}.scaleVnfType", f"must be SCALE_OUT or SCALE_IN (got {kind!r})"
            )
        by = item.get("scaleByStepData") or {}
        aspect, steps = by.get("aspectId"), by.get("numberOfSteps", 1)
        if not isinstance(aspect, str):
            raise PlanError(f"{where}.scaleByStepData.aspectId", "is required")
        if not isinstance(steps, int):
            raise PlanError(f"{where}.scaleByStepData.numberOfSteps", "must be an integer")
        vnf_id = spec["vnf_instance_id"]
        prev = out.get(vnf_id)
        current = prev["after"] if prev else _counts(spec)
        level = prev["level_after"] if prev else levels.get(vnf_id, {}).get(aspect, 0)
        try:
            after, new_level = scale_vnf_counts(
                vnfds[spec["vnfd_id"]], spec["flavour_id"], current, aspect, steps, kind, level
            )
        except PlanError as exc:
            raise PlanError(f"{where}.scaleByStepData.{exc.field}", exc.message) from None
        out[vnf_id] = {
            "aspect": aspect,
            "before": _counts(spec),
            "after": after,
            "level_before": levels.get(vnf_id, {}).get(aspect, 0),
            "level_after": new_level,
        }
    return {"scale": out}


def _instances_at(mapping: dict[int, int], level: int) -> int:
    known = sorted(k for k in mapping if k <= level)
    return mapping[known[-1]] if known else 0


def _scale_ns(
    ns_id: str, plan: dict, ns_levels: dict, nsd: Nsd, flavour_id: str, req: dict
) -> dict[str, Any]:
    data = (req.get("scaleNsData") or {}).get("scaleNsByStepsData") or {}
    aspect_id, steps = data.get("aspectId"), data.get("numberOfSteps", 1)
    direction = data.get("scalingDirection")
    flavour = next((f for f in nsd.flavours if f.flavour_id == flavour_id), None)
    aspects = {a.id: a for a in (flavour.scaling_aspects if flavour else [])}
    if aspect_id not in aspects:
        raise PlanError(
            "scaleNsData.scaleNsByStepsData.aspectId",
            f"unknown NS scaling aspect {aspect_id!r}; valid: " + (", ".join(aspects) or "none"),
        )
    if direction not in ("SCALE_OUT", "SCALE_IN"):
        raise PlanError(
            "scaleNsData.scaleNsByStepsData.scalingDirection", "must be SCALE_OUT or SCALE_IN"
        )
    aspect = aspects[aspect_id]
    before = ns_levels.get(aspect_id, 0)
    after = before + (steps if direction == "SCALE_OUT" else -steps)
    if not 0 <= after <= aspect.max_scale_level:
        raise PlanError(
            "scaleNsData.scaleNsByStepsData.numberOfSteps",
            f"{direction} by {steps} from level {before} of NS aspect {aspect_id!r} "
            f"would reach {after}; allowed 0..{aspect.max_scale_level}",
        )
    add: dict[str, Any] = {}
    remove: list[str] = []
    for profile_id, per_level in aspect.vnf_instances.items():
        mine = [s for s in plan["vnfs"].values() if s["vnf_profile_id"] == profile_id]
        want = _instances_at(per_level, after)
        if want > len(mine) and mine:
            for index in range(len(mine), want):
                new = copy.deepcopy(mine[0])
                new["vnf_instance_id"] = vnf_instance_id_for(ns_id, profile_id, index)
                new["hosts"] = {}
                add[new["vnf_instance_id"]] = new
        elif want < len(mine):
            remove += [s["vnf_instance_id"] for s in mine[want:]]
    return {
        "add": add,
        "remove": remove,
        "ns_scale": {aspect_id: {"before": before, "after": after}},
    }


def _heal(plan: dict, records: dict, req: dict) -> dict[str, Any]:
    out: dict[str, Any] = {}
    items = req.get("healVnfData")
    if items is None and req.get("healNsData") is not None:
        recreate = (req["healNsData"] or {}).get("degreeHealing") in (
            "HEAL_RESTORE",
            "HEAL_QOS",
            "HEAL_RESET",
            "PARTIAL_HEALING",
        )
        items = [
            {
                "vnfInstanceId": v,
                "additionalParams": {"healType": "RECREATE" if recreate else "RESTART"},
            }
            for v in records
        ]
    if not isinstance(items, list) or not items:
        raise PlanError("healVnfData", "give healVnfData (a list) or healNsData")
    for i, item in enumerate(items):
        spec = _vnf(plan, item.get("vnfInstanceId"), f"healVnfData[{i}].vnfInstanceId")
        vnf_id = spec["vnf_instance_id"]
        params = item.get("additionalParams") or {}
        record = records.get(vnf_id) or {"vnfcs": []}
        by_id = {vnfc_id(c["key"]): c["key"] for c in record["vnfcs"]}
        wanted = params.get("vnfcInstanceIds")
        if wanted is None:
            keys = list(by_id.values())
        else:
            unknown = [w for w in wanted if w not in by_id]
            if unknown:
                raise PlanError(
                    f"healVnfData[{i}].additionalParams.vnfcInstanceIds",
                    f"unknown VNFC ids {unknown}; known: {sorted(by_id)}",
                )
            keys = [by_id[w] for w in wanted]
        heal_type = params.get("healType", "RESTART")
        if heal_type not in ("RESTART", "RECREATE"):
            raise PlanError(
                f"healVnfData[{i}].additionalParams.healType", "must be RESTART or RECREATE"
            )
        out[vnf_id] = {"keys": keys, "recreate": heal_type == "RECREATE"}
    return {"heal": out}


def _change_df(plan: dict, req: dict, replan: Replan | None) -> dict[str, Any]:
    items = req.get("changeVnfFlavourData") or []
    if not items:
        raise PlanError("changeVnfFlavourData", "CHANGE_VNF_DF needs changeVnfFlavourData")
    if replan is None:
        raise PlanError("updateType", "CHANGE_VNF_DF needs the NS's instantiation request")
    replace: dict[str, Any] = {}
    for i, item in enumerate(items):
        where = f"changeVnfFlavourData[{i}]"
        spec = _vnf(plan, item.get("vnfInstanceId"), f"{where}.vnfInstanceId")
        flavour = item.get("newFlavourId")
        if not isinstance(flavour, str):
            raise PlanError(f"{where}.newFlavourId", "is required")
        if flavour == spec["flavour_id"]:
            raise PlanError(f"{where}.newFlavourId", f"the VNF already uses flavour {flavour!r}")
        same = [v for v in plan["vnfs"].values() if v["vnf_profile_id"] == spec["vnf_profile_id"]]
        index = [v["vnf_instance_id"] for v in same].index(spec["vnf_instance_id"])
        try:
            new = replan(
                spec["vnf_profile_id"],
                index,
                spec["vnf_instance_id"],
                flavour,
                item.get("instantiationLevelId"),
            )
        except PlanError as exc:
            raise PlanError(f"{where}.{exc.field}", exc.message) from None
        replace[spec["vnf_instance_id"]] = {"before": spec, "after": new}
    return {"replace": replace}


def _update(ns_id: str, plan: dict, req: dict, replan: Replan | None = None) -> dict[str, Any]:
    kind = req.get("updateType")
    if kind == "CHANGE_VNF_DF":
        return _change_df(plan, req, replan)
    if kind == "OPERATE_VNF":
        ops = {}
        for i, item in enumerate(req.get("operateVnfData") or []):
            spec = _vnf(plan, item.get("vnfInstanceId"), f"operateVnfData[{i}].vnfInstanceId")
            state = item.get("changeStateTo")
            if state not in ("STARTED", "STOPPED"):
                raise PlanError(f"operateVnfData[{i}].changeStateTo", "must be STARTED or STOPPED")
            ops[spec["vnf_instance_id"]] = state
        if not ops:
            raise PlanError("operateVnfData", "OPERATE_VNF needs operateVnfData")
        return {"operate": ops}
    if kind == "REMOVE_VNF":
        ids = req.get("removeVnfInstanceId") or []
        if not ids:
            raise PlanError("removeVnfInstanceId", "REMOVE_VNF needs removeVnfInstanceId")
        return {"remove": [_vnf(plan, v, "removeVnfInstanceId")["vnf_instance_id"] for v in ids]}
    if kind == "ADD_VNF":
        add = {}
        for i, item in enumerate(req.get("addVnfInstance") or []):
            vnfd_id = item.get("vnfdId")
            same = [s for s in plan["vnfs"].values() if s["vnfd_id"] == vnfd_id]
            if not same:
                raise PlanError(
                    f"addVnfInstance[{i}].vnfdId",
                    f"no VNF profile of this NS uses vnfdId {vnfd_id!r}",
                )
            profile = same[0]["vnf_profile_id"]
            index = len([s for s in plan["vnfs"].values() if s["vnf_profile_id"] == profile])
            new = copy.deepcopy(same[0])
            new["vnf_instance_id"] = vnf_instance_id_for(ns_id, profile, index + i)
            new["hosts"] = {}
            add[new["vnf_instance_id"]] = new
        if not add:
            raise PlanError("addVnfInstance", "ADD_VNF needs addVnfInstance")
        return {"add": add}
    raise PlanError(
        "updateType",
        f"updateType {kind!r} is not available; use ADD_VNF, REMOVE_VNF or OPERATE_VNF",
    )


def compute(
    op: OpType,
    req: dict[str, Any],
    *,
    ns_id: str,
    plan: dict[str, Any],
    records: dict[str, Any],
    scale_status: dict[str, Any],
    nsd: Nsd,
    vnfds: dict[str, Vnfd],
    flavour_id: str | None,
    replan: Replan | None = None,
) -> dict[str, Any]:
    """The change set of a SCALE / HEAL / UPDATE request; PlanError names the bad field."""
    if op is OpType.SCALE:
        kind = req.get("scaleType")
        if kind == "SCALE_VNF":
            return _scale_vnf(plan, scale_status.get("vnf", {}), vnfds, req)
        if kind == "SCALE_NS":
            return _scale_ns(ns_id, plan, scale_status.get("ns", {}), nsd, flavour_id or "", req)
        raise PlanError("scaleType", "must be SCALE_NS or SCALE_VNF")
    if op is OpType.HEAL:
        return _heal(plan, records, req)
    if op is OpType.UPDATE:
        return _update(ns_id, plan, req, replan)
    raise PlanError("operation", f"{op.value} has no change set")
