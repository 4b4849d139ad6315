"""What a SCALE, HEAL or UPDATE operation will change, computed and validated when the
operation is requested (bad requests are refused before any op occurrence exists) and stored
with the op occurrence, so the workflow only applies it and a rollback knows the way back.

``compute`` returns a ``model.ChangeSet``; ``codec`` stores it as JSON.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from nfvo.catalog.descriptors import Nsd, Vnfd
from nfvo.lcm.codec import vnfc_id
from nfvo.lcm.model import ChangeSet, HealChange, NsScaleChange, ReplaceChange, ScaleChange
from nfvo.lcm.plan import (
    PlanError,
    scale_vnf_counts,
    vdu_initial_counts,
    vnf_initial_levels,
    vnf_instance_id_for,
)
from nfvo.lcm.states import OpType
from nfvo.vnfm.base import VnfDeploymentSpec

# (vnf_profile_id, index, vnf_instance_id, new_flavour_id, level_id) -> the VNF's new spec
Replan = Callable[[str, int, str, str, str | None], VnfDeploymentSpec]
Specs = Mapping[str, VnfDeploymentSpec]


def _vnf(vnfs: Specs, vnf_id: Any, field: str) -> VnfDeploymentSpec:
    spec = vnfs.get(vnf_id) if isinstance(vnf_id, str) else None
    if spec is None:
        known = ", ".join(sorted(vnfs)) or "none"
        raise PlanError(field, f"no VNF instance {vnf_id!r} in this NS (known: {known})")
    return spec


def _counts(spec: VnfDeploymentSpec) -> dict[str, int]:
    return {v.vdu_id: v.count for v in spec.vdus}


def _profile_level(nsd: Nsd, flavour_id: str | None, profile_id: str) -> str | None:
    flavour = next((f for f in nsd.flavours if f.flavour_id == flavour_id), None)
    profile = next(
        (p for p in (flavour.vnf_profiles if flavour else []) if p.id == profile_id), None
    )
    return profile.instantiation_level if profile else None


def _copy_for(
    spec: VnfDeploymentSpec,
    vnf_instance_id: str,
    vnfd: Vnfd,
    level_id: str | None,
    out: ChangeSet,
) -> None:
    """Another instance of the same VNF profile into ``out.add`` (not placed yet), at the
    profile's instantiation level: its VDU counts and scale levels, whatever the instance it
    is copied from has been scaled to."""
    new = copy.deepcopy(spec)
    new.vnf_instance_id, new.hosts = vnf_instance_id, {}
    counts = vdu_initial_counts(vnfd, spec.flavour_id, level_id)
    for vdu in new.vdus:
        vdu.count = counts.get(vdu.vdu_id, vdu.count)
    out.add[vnf_instance_id] = new
    out.levels[vnf_instance_id] = vnf_initial_levels(vnfd, spec.flavour_id, level_id)


def _scale_vnf(
    vnfs: Specs, levels: Mapping[str, Mapping[str, int]], vnfds: Mapping[str, Vnfd], req: dict
) -> ChangeSet:
    out: dict[str, ScaleChange] = {}
    items = req.get("scaleVnfData")
    if not isinstance(items, list) or not items:
        raise PlanError("scaleVnfData", "SCALE_VNF needs a non-empty scaleVnfData list")
    for i, item in enumerate(items):
        where = f"scaleVnfData[{i}]"
        spec = _vnf(vnfs, item.get("vnfInstanceId"), f"{where}.vnfInstanceId")
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
        vnf_id = spec.vnf_instance_id
        prev = out.get(vnf_id)
        current = prev.after if prev else _counts(spec)
        level = prev.level_after if prev else levels.get(vnf_id, {}).get(aspect, 0)
        try:
            after, new_level = scale_vnf_counts(
                vnfds[spec.vnfd_id], spec.flavour_id, current, aspect, steps, kind, level
            )
        except PlanError as exc:
            raise PlanError(f"{where}.scaleByStepData.{exc.field}", exc.message) from None
        out[vnf_id] = ScaleChange(
            aspect=aspect,
            before=_counts(spec),
            after=after,
            level_before=levels.get(vnf_id, {}).get(aspect, 0),
            level_after=new_level,
        )
    return ChangeSet(scale=out)


def _instances_at(mapping: dict[int, int], level: int) -> int:
    known = sorted(k for k in mapping if k <= level)
    return mapping[known[-1]] if known else 0


def _scale_ns(
    ns_id: str,
    vnfs: Specs,
    ns_levels: Mapping[str, int],
    nsd: Nsd,
    vnfds: Mapping[str, Vnfd],
    flavour_id: str,
    req: dict,
) -> ChangeSet:
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
    out = ChangeSet(ns_scale={aspect_id: NsScaleChange(before=before, after=after)})
    for profile_id, per_level in aspect.vnf_instances.items():
        mine = [s for s in vnfs.values() if s.vnf_profile_id == profile_id]
        want = _instances_at(per_level, after)
        if want > len(mine) and mine:
            level_id = _profile_level(nsd, flavour_id, profile_id)
            for index in range(len(mine), want):
                new_id = vnf_instance_id_for(ns_id, profile_id, index)
                _copy_for(mine[0], new_id, vnfds[mine[0].vnfd_id], level_id, out)
        elif want < len(mine):
            out.remove += [s.vnf_instance_id for s in mine[want:]]
    return out


def _heal(vnfs: Specs, vnfc_keys: Mapping[str, list[str]], req: dict) -> ChangeSet:
    out: dict[str, HealChange] = {}
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
            for v in vnfc_keys
        ]
    if not isinstance(items, list) or not items:
        raise PlanError("healVnfData", "give healVnfData (a list) or healNsData")
    for i, item in enumerate(items):
        spec = _vnf(vnfs, item.get("vnfInstanceId"), f"healVnfData[{i}].vnfInstanceId")
        vnf_id = spec.vnf_instance_id
        params = item.get("additionalParams") or {}
        by_id = {vnfc_id(key): key for key in vnfc_keys.get(vnf_id, [])}
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
        out[vnf_id] = HealChange(keys=keys, recreate=heal_type == "RECREATE")
    return ChangeSet(heal=out)


def _change_df(
    vnfs: Specs, vnfds: Mapping[str, Vnfd], req: dict, replan: Replan | None
) -> ChangeSet:
    items = req.get("changeVnfFlavourData") or []
    if not items:
        raise PlanError("changeVnfFlavourData", "CHANGE_VNF_DF needs changeVnfFlavourData")
    if replan is None:
        raise PlanError("updateType", "CHANGE_VNF_DF needs the NS's instantiation request")
    replace: dict[str, ReplaceChange] = {}
    levels: dict[str, dict[str, int]] = {}
    for i, item in enumerate(items):
        where = f"changeVnfFlavourData[{i}]"
        spec = _vnf(vnfs, item.get("vnfInstanceId"), f"{where}.vnfInstanceId")
        flavour = item.get("newFlavourId")
        if not isinstance(flavour, str):
            raise PlanError(f"{where}.newFlavourId", "is required")
        if flavour == spec.flavour_id:
            raise PlanError(f"{where}.newFlavourId", f"the VNF already uses flavour {flavour!r}")
        same = [v.vnf_instance_id for v in vnfs.values() if v.vnf_profile_id == spec.vnf_profile_id]
        index = same.index(spec.vnf_instance_id)
        try:
            new = replan(
                spec.vnf_profile_id,
                index,
                spec.vnf_instance_id,
                flavour,
                item.get("instantiationLevelId"),
            )
        except PlanError as exc:
            raise PlanError(f"{where}.{exc.field}", exc.message) from None
        replace[spec.vnf_instance_id] = ReplaceChange(before=spec, after=new)
        levels[spec.vnf_instance_id] = vnf_initial_levels(
            vnfds[new.vnfd_id], flavour, item.get("instantiationLevelId")
        )
    return ChangeSet(replace=replace, levels=levels)


def _update(
    ns_id: str,
    vnfs: Specs,
    nsd: Nsd,
    vnfds: Mapping[str, Vnfd],
    flavour_id: str | None,
    req: dict,
    replan: Replan | None = None,
) -> ChangeSet:
    kind = req.get("updateType")
    if kind == "CHANGE_VNF_DF":
        return _change_df(vnfs, vnfds, req, replan)
    if kind == "OPERATE_VNF":
        ops = {}
        for i, item in enumerate(req.get("operateVnfData") or []):
            spec = _vnf(vnfs, item.get("vnfInstanceId"), f"operateVnfData[{i}].vnfInstanceId")
            state = item.get("changeStateTo")
            if state not in ("STARTED", "STOPPED"):
                raise PlanError(f"operateVnfData[{i}].changeStateTo", "must be STARTED or STOPPED")
            ops[spec.vnf_instance_id] = state
        if not ops:
            raise PlanError("operateVnfData", "OPERATE_VNF needs operateVnfData")
        return ChangeSet(operate=ops)
    if kind == "REMOVE_VNF":
        ids = req.get("removeVnfInstanceId") or []
        if not ids:
            raise PlanError("removeVnfInstanceId", "REMOVE_VNF needs removeVnfInstanceId")
        return ChangeSet(remove=[_vnf(vnfs, v, "removeVnfInstanceId").vnf_instance_id for v in ids])
    if kind == "ADD_VNF":
        out = ChangeSet()
        for i, item in enumerate(req.get("addVnfInstance") or []):
            vnfd_id = item.get("vnfdId")
            same = [s for s in vnfs.values() if s.vnfd_id == vnfd_id]
            if not same:
                raise PlanError(
                    f"addVnfInstance[{i}].vnfdId",
                    f"no VNF profile of this NS uses vnfdId {vnfd_id!r}",
                )
            profile = same[0].vnf_profile_id
            index = len([s for s in vnfs.values() if s.vnf_profile_id == profile])
            new_id = vnf_instance_id_for(ns_id, profile, index + i)
            level_id = _profile_level(nsd, flavour_id, profile)
            _copy_for(same[0], new_id, vnfds[same[0].vnfd_id], level_id, out)
        if not out.add:
            raise PlanError("addVnfInstance", "ADD_VNF needs addVnfInstance")
        return out
    raise PlanError(
        "updateType",
        f"updateType {kind!r} is not available; use ADD_VNF, REMOVE_VNF or OPERATE_VNF",
    )


def compute(
    op: OpType,
    req: dict[str, Any],
    *,
    ns_id: str,
    vnfs: Specs,
    vnfc_keys: Mapping[str, list[str]],
    vnf_levels: Mapping[str, Mapping[str, int]],
    ns_levels: Mapping[str, int],
    nsd: Nsd,
    vnfds: Mapping[str, Vnfd],
    flavour_id: str | None,
    replan: Replan | None = None,
) -> ChangeSet:
    """The change set of a SCALE / HEAL / UPDATE request; PlanError names the bad field.

    ``vnfs``: the NS's VNF instances' specs (in their order); ``vnfc_keys``: the keys of the
    VNFCs with a server, per instantiated VNF instance; ``vnf_levels`` / ``ns_levels``: the
    current scale levels per VNF instance and aspect / per NS aspect.
    """
    if op is OpType.SCALE:
        kind = req.get("scaleType")
        if kind == "SCALE_VNF":
            return _scale_vnf(vnfs, vnf_levels, vnfds, req)
        if kind == "SCALE_NS":
            return _scale_ns(ns_id, vnfs, ns_levels, nsd, vnfds, flavour_id or "", req)
        raise PlanError("scaleType", "must be SCALE_NS or SCALE_VNF")
    if op is OpType.HEAL:
        return _heal(vnfs, vnfc_keys, req)
    if op is OpType.UPDATE:
        return _update(ns_id, vnfs, nsd, vnfds, flavour_id, req, replan)
    raise PlanError("operation", f"{op.value} has no change set")
