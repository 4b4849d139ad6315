"""The one JSON codec of the LCM's stored records, and VNF records from and to the
inventory's rows.

``to_json`` / ``from_json`` turn a deployment spec (a VNF instance row keeps its spec), the
NS-level plan (``NsInstance.plan``) and a change set (``NsLcmOpOcc.changes``) into JSON and
back. The JSON shapes are those stored since these records exist; decoding tolerates what
older rows lack or carry in addition::

    plan:    {"virtual_links": [{"vl_id", "cidr", "ip_version", "vim_account_id",
                               "existing_network"}],
              "vnf_layers": [[vnf_id, ...], ...],
              "placement": {vim_id: {"algorithm", "objective", "lowerBound", "gap",
                                     "solveTimeS"}}}
    changes: {"scale":   {vnf_id: {"aspect", "before", "after", "level_before",
                                   "level_after"}},
              "add":     {vnf_id: <spec>},
              "remove":  [vnf_id, ...],
              "heal":    {vnf_id: {"keys": [...], "recreate": bool}},
              "operate": {vnf_id: "STARTED" | "STOPPED"},
              "replace": {vnf_id: {"before": <spec>, "after": <spec>}},
              "ns_scale": {aspect_id: {"before": int, "after": int}}}

A change set's empty entries are left out of its JSON (an INSTANTIATE or TERMINATE op stores
``{}``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import fields
from typing import Any, TypeVar, cast

from nfvo.inventory.models import NsVnf, NsVnfc, NsVnfVl
from nfvo.lcm.model import (
    ChangeSet,
    HealChange,
    NsLevelPlan,
    NsScaleChange,
    NsVlPlan,
    PlacementBounds,
    ReplaceChange,
    ScaleChange,
)
from nfvo.vim.base import SecurityRule
from nfvo.vnfm.base import (
    CpSpec,
    ImageArtifact,
    VduSpec,
    VirtualLinkSpec,
    VlRecord,
    VnfcRecord,
    VnfDeploymentSpec,
    VnfRecord,
)

T = TypeVar("T")


def to_json(obj: Any) -> dict[str, Any]:
    """A spec, NS-level plan or change set (any dataclass) as plain JSON data."""
    if isinstance(obj, NsLevelPlan):
        return _plan_to_json(obj)
    if isinstance(obj, ChangeSet):
        return _changes_to_json(obj)
    return cast(dict[str, Any], _plain(obj))


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in fields(cls))
    return names


_FIELDS: dict[type, tuple[str, ...]] = {}


def _plain(obj: Any) -> Any:
    """``dataclasses.asdict`` without its deep copies (the records hold only JSON values,
    dataclasses, lists, tuples and dicts, which are rebuilt here)."""
    if hasattr(type(obj), "__dataclass_fields__"):
        return {name: _plain(getattr(obj, name)) for name in _field_names(type(obj))}
    if isinstance(obj, list | tuple):
        return [_plain(x) for x in obj]
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    return obj


def from_json(cls: type[T], data: Mapping[str, Any] | None) -> T:
    """Inverse of ``to_json`` for ``cls`` (VnfDeploymentSpec, NsLevelPlan or ChangeSet);
    ``None`` (a column never written) decodes as an empty plan or change set."""
    decoder = _DECODERS.get(cls)
    if decoder is None:
        raise TypeError(f"no JSON decoder for {cls.__name__}")
    return cast(T, decoder(dict(data or {})))


def vnfc_id(key: str) -> str:
    """The API id of a VNFC (VnfcResourceInfo.id) from its VIM idempotency key."""
    return key.replace("/", "-")


def spec_from_json(d: dict[str, Any]) -> VnfDeploymentSpec:
    """Inverse of ``to_json`` for a VnfDeploymentSpec."""
    vdus = []
    for v in d.get("vdus", []):
        cps = [
            CpSpec(
                **{**c, "security_rules": [SecurityRule(**r) for r in c.get("security_rules", [])]}
            )
            for c in v.get("cps", [])
        ]
        artifact = v.get("image_artifact")  # absent from plans stored before uploads
        vdus.append(
            VduSpec(
                **{
                    **v,
                    "cps": cps,
                    "image_artifact": ImageArtifact(**artifact) if artifact else None,
                }
            )
        )
    return VnfDeploymentSpec(
        **{
            **d,
            "internal_vls": [VirtualLinkSpec(**x) for x in d.get("internal_vls", [])],
            "vdus": vdus,
        }
    )


# -- NS-level plan --------------------------------------------------------------------------
def _ns_vl_json(vl: NsVlPlan) -> dict[str, Any]:
    """An NS VL's plan entry; ``existing_network`` only when it names one (stored plans keep
    their shape)."""
    out = _plain(vl)
    if out.get("existing_network") is None:
        out.pop("existing_network", None)
    return out


def _plan_to_json(plan: NsLevelPlan) -> dict[str, Any]:
    return {
        "virtual_links": [_ns_vl_json(vl) for vl in plan.virtual_links],
        "vnf_layers": [list(layer) for layer in plan.vnf_layers],
        "placement": {
            vim: {
                "algorithm": b.algorithm,
                "objective": b.objective,
                "lowerBound": b.lower_bound,
                "gap": b.gap,
                "solveTimeS": b.solve_time_s,
            }
            for vim, b in plan.placement.items()
        },
    }


def _plan_from_json(d: dict[str, Any]) -> NsLevelPlan:
    # plans stored before the VNF rows existed also carry "vnfs" (ignored: rows now)
    return NsLevelPlan(
        virtual_links=[
            NsVlPlan(
                vl_id=v["vl_id"],
                cidr=v["cidr"],
                ip_version=v.get("ip_version", 4),
                vim_account_id=v["vim_account_id"],
                existing_network=v.get("existing_network"),
            )
            for v in d.get("virtual_links") or []
        ],
        vnf_layers=[list(layer) for layer in d.get("vnf_layers") or []],
        placement={
            vim: PlacementBounds(
                algorithm=b["algorithm"],
                objective=b["objective"],
                lower_bound=b["lowerBound"],
                gap=b["gap"],
                solve_time_s=b["solveTimeS"],
            )
            for vim, b in (d.get("placement") or {}).items()
        },
    )


# -- change set ----------------------------------------------------------------------------
def _without_empty_hosts(d: dict[str, Any]) -> dict[str, Any]:
    """A scale or heal entry without its ``hosts`` when none were placed (as stored before
    placement covered these operations)."""
    return {k: v for k, v in d.items() if k != "hosts" or v}


def _changes_to_json(c: ChangeSet) -> dict[str, Any]:
    out: dict[str, Any] = {
        "scale": {v: _without_empty_hosts(_plain(sc)) for v, sc in c.scale.items()},
        "add": {v: _plain(spec) for v, spec in c.add.items()},
        "remove": list(c.remove),
        "heal": {v: _without_empty_hosts(_plain(h)) for v, h in c.heal.items()},
        "operate": dict(c.operate),
        "replace": {
            v: {"before": _plain(r.before), "after": _plain(r.after)} for v, r in c.replace.items()
        },
        "ns_scale": {a: _plain(n) for a, n in c.ns_scale.items()},
        "levels": {v: dict(lv) for v, lv in c.levels.items()},
    }
    return {k: v for k, v in out.items() if v}


def _changes_from_json(d: dict[str, Any]) -> ChangeSet:
    return ChangeSet(
        scale={
            v: ScaleChange(
                aspect=sc["aspect"],
                before=dict(sc["before"]),
                after=dict(sc["after"]),
                level_before=sc["level_before"],
                level_after=sc["level_after"],
                hosts=dict(sc.get("hosts") or {}),
            )
            for v, sc in (d.get("scale") or {}).items()
        },
        add={v: spec_from_json(spec) for v, spec in (d.get("add") or {}).items()},
        remove=list(d.get("remove") or []),
        heal={
            v: HealChange(
                keys=list(h["keys"]), recreate=bool(h["recreate"]), hosts=dict(h.get("hosts") or {})
            )
            for v, h in (d.get("heal") or {}).items()
        },
        operate=dict(d.get("operate") or {}),
        replace={
            v: ReplaceChange(before=spec_from_json(r["before"]), after=spec_from_json(r["after"]))
            for v, r in (d.get("replace") or {}).items()
        },
        ns_scale={
            a: NsScaleChange(before=n["before"], after=n["after"])
            for a, n in (d.get("ns_scale") or {}).items()
        },
        levels={v: dict(lv) for v, lv in (d.get("levels") or {}).items()},
    )


_DECODERS: dict[type, Callable[[dict[str, Any]], Any]] = {
    VnfDeploymentSpec: spec_from_json,
    NsLevelPlan: _plan_from_json,
    ChangeSet: _changes_from_json,
}


# -- rows of the inventory <-> the VNFM's records ------------------------------------------
def record_of(vnf: NsVnf, vnfcs: Sequence[NsVnfc], vls: Sequence[NsVnfVl]) -> VnfRecord:
    """A VNF's record as the VNFM knows it, from its rows (VNFCs whose server was never
    created are left out: the VNFM finds those by key)."""
    return VnfRecord(
        vnf_instance_id=vnf.id,
        vim_account_id=vnf.vim_account_id,
        vnfcs=[
            VnfcRecord(
                vdu_id=c.vdu_id,
                index=c.idx,
                key=c.key,
                server_id=c.server_id,
                status=c.status,
                host=c.host,
                zone=c.zone,
                port_ids=dict(c.port_ids or {}),
                addresses=dict(c.addresses or {}),
                mac_addresses=dict(c.mac_addresses or {}),
            )
            for c in vnfcs
            if c.server_id
        ],
        vls=[VlRecord(v.vl_id, v.network_id, v.subnet_id) for v in vls],
    )


def vnfc_columns(spec: VnfDeploymentSpec, record: VnfRecord) -> list[dict[str, Any]]:
    """The VNFC rows of a record (column values)."""
    vdus = {v.vdu_id: v for v in spec.vdus}
    out = []
    for c in record.vnfcs:
        vdu = vdus.get(c.vdu_id)
        out.append(
            {
                "vdu_id": c.vdu_id,
                "idx": c.index,
                "key": c.key,
                "server_id": c.server_id,
                "status": c.status,
                "host": c.host,
                "zone": c.zone,
                "flavor": vdu.flavor if vdu else None,
                "image": vdu.image if vdu else None,
                "port_ids": dict(c.port_ids),
                "addresses": {k: list(v) for k, v in c.addresses.items()},
                "mac_addresses": dict(c.mac_addresses),
            }
        )
    return out


def vl_columns(record: VnfRecord) -> list[dict[str, Any]]:
    """The internal-VL rows of a record (column values)."""
    return [
        {"vl_id": v.vl_id, "network_id": v.network_id, "subnet_id": v.subnet_id} for v in record.vls
    ]
