"""Builds typed :class:`~nfvo.catalog.descriptors.Nsd` / ``Pnfd`` from loaded SOL001 templates."""

from __future__ import annotations

from typing import Any

from nfvo.catalog import descriptors as d
from nfvo.catalog.tosca.extract import (
    as_int,
    as_str_list,
    dig,
    flavour_id_of,
    jsonable,
    known,
    policies,
)
from nfvo.catalog.tosca.model import NodeTemplate, ServiceTemplate, Topology
from nfvo.catalog.tosca.vnfd_builder import placement_rules

_P = "tosca.policies.nfv."
NS_VL = "tosca.nodes.nfv.NsVirtualLink"
SAP = "tosca.nodes.nfv.Sap"


def build_nsd(st: ServiceTemplate, tops: list[Topology]) -> d.Nsd:
    """An Nsd whose flavours are the given topologies."""
    props = d.merged_properties(st, tops, d.NS)
    flavours = [_flavour(st, top, index) for index, top in enumerate(tops)]
    vnfd_ids = _unique(p.vnfd_id for f in flavours for p in f.vnf_profiles)
    pnfd_ids = _unique(p.pnfd_id for f in flavours for p in f.pnf_profiles)
    nested = _unique(p.nsd_id for f in flavours for p in f.ns_profiles)
    return d.Nsd(
        nsd_id=d.string(props.get("descriptor_id")) or "",
        designer=d.string(props.get("designer")),
        version=d.string(props.get("version")),
        name=d.string(props.get("name")),
        invariant_id=d.string(props.get("invariant_id")),
        ns_type=tops[0].substitution.node_type if tops[0].substitution else None,
        tosca_definitions_version=st.tosca_definitions_version,
        flavours=flavours,
        vnfd_ids=vnfd_ids,
        pnfd_ids=pnfd_ids,
        nested_nsd_ids=nested,
    )


def build_pnfd(st: ServiceTemplate, tops: list[Topology]) -> d.Pnfd:
    """A Pnfd from the topology substituting (or declaring) the PNF."""
    props = d.merged_properties(st, tops, d.PNF)
    top = tops[0]
    return d.Pnfd(
        pnfd_id=d.string(props.get("descriptor_id")) or "",
        provider=d.string(props.get("provider")),
        version=d.string(props.get("version")),
        name=d.string(props.get("name")),
        invariant_id=d.string(props.get("descriptor_invariant_id")),
        function_description=d.string(props.get("function_description")),
        tosca_definitions_version=st.tosca_definitions_version,
        ext_cps=[
            d.PnfExtCp(id=n.name, layer_protocols=as_str_list(n.properties.get("layer_protocols")))
            for n in top.nodes_of("tosca.nodes.nfv.PnfExtCp")
        ],
    )


def _unique(values: Any) -> list[str]:
    out: list[str] = []
    for value in values:
        if value and value not in out:
            out.append(value)
    return out


def _connections(node: NodeTemplate, top: Topology) -> list[d.VirtualLinkConnection]:
    out = []
    for req in node.requirements:
        target = top.node_templates.get(req.node or "")
        if target is not None and target.is_a(NS_VL):
            out.append(d.VirtualLinkConnection(requirement=req.name, virtual_link=target.name))
    return out


def _self_node(top: Topology, node: NodeTemplate) -> bool:
    sub = top.substitution
    return sub is not None and node.type == sub.node_type


def _flavour(st: ServiceTemplate, top: Topology, index: int) -> d.NsFlavour:
    flavour_id = flavour_id_of(st, top)
    ns_nodes = top.nodes_of(d.NS)
    own = [n for n in ns_nodes if _self_node(top, n)] or [
        n for n in ns_nodes if top.substitution is None or top.substitution.type_def.is_a(n.type)
    ][:1]
    if flavour_id is None and own:
        flavour_id = d.string(own[0].properties.get("flavour_id"))
    nested = [n for n in ns_nodes if n not in own]
    levels, default_level = _instantiation_levels(top)
    return d.NsFlavour(
        flavour_id=flavour_id or f"flavour_{index}",
        description=top.description,
        source_file=top.file,
        vnf_profiles=[_vnf_profile(n, top) for n in top.nodes_of(d.VNF)],
        pnf_profiles=[
            d.PnfProfile(
                id=n.name,
                pnfd_id=d.string(n.properties.get("descriptor_id")),
                virtual_links=_connections(n, top),
            )
            for n in top.nodes_of(d.PNF)
        ],
        ns_profiles=[_ns_profile(n, top) for n in nested],
        virtual_links=[_ns_vl(n) for n in top.nodes_of(NS_VL)],
        saps=[_sap(n, top) for n in top.nodes_of(SAP)],
        instantiation_levels=levels,
        default_instantiation_level=default_level,
        scaling_aspects=_aspects(top),
        dependencies=_dependencies(top),
        placement_rules=placement_rules(top),
    )


def _vnf_profile(node: NodeTemplate, top: Topology) -> d.VnfProfile:
    profile = node.properties.get("vnf_profile") or {}
    return d.VnfProfile(
        id=node.name,
        vnfd_id=d.string(node.properties.get("descriptor_id")),
        flavour_id=d.string(node.properties.get("flavour_id")),
        instantiation_level=d.string(dig(profile, "instantiation_level")),
        min_number_of_instances=_count(dig(profile, "min_number_of_instances"), 1),
        max_number_of_instances=_count(dig(profile, "max_number_of_instances"), 1),
        virtual_links=_connections(node, top),
    )


def _count(value: Any, default: int) -> int:
    got = as_int(value)
    return default if got is None else got


def _ns_profile(node: NodeTemplate, top: Topology) -> d.NsProfile:
    profile = node.properties.get("ns_profile") or {}
    return d.NsProfile(
        id=node.name,
        nsd_id=d.string(node.properties.get("descriptor_id")),
        flavour_id=d.string(dig(profile, "flavour_id"))
        or d.string(node.properties.get("flavour_id")),
        instantiation_level=d.string(dig(profile, "ns_instantiation_level")),
        min_number_of_instances=_count(dig(profile, "min_number_of_instances"), 1),
        max_number_of_instances=_count(dig(profile, "max_number_of_instances"), 1),
        virtual_links=_connections(node, top),
    )


def _bitrates(value: Any) -> dict[str, int]:
    value = known(value)
    if not isinstance(value, dict):
        return {}
    return {str(k): int(v) for k, v in value.items() if as_int(v) is not None}


def _ns_vl(node: NodeTemplate) -> d.NsVirtualLink:
    props = node.properties
    profile = props.get("vl_profile") or {}
    return d.NsVirtualLink(
        id=node.name,
        description=d.string(props.get("description")),
        layer_protocols=as_str_list(dig(props, "connectivity_type", "layer_protocols")),
        flow_pattern=d.string(dig(props, "connectivity_type", "flow_pattern")),
        max_bitrate=_bitrates(dig(profile, "max_bitrate_requirements")),
        min_bitrate=_bitrates(dig(profile, "min_bitrate_requirements")),
        qos=jsonable(dig(profile, "qos", default={})),
    )


def _sap(node: NodeTemplate, top: Topology) -> d.Sap:
    vl = vnf = ext_cp = None
    for req in node.requirements:
        if req.name != "internal_virtual_link" or not req.node:
            continue
        target = top.node_templates.get(req.node)
        if target is not None and target.is_a(NS_VL):
            vl = target.name
        elif target is not None:
            vnf, ext_cp = target.name, req.capability
    external = None
    if top.substitution is not None:
        external = next(
            (name for name, (n, _) in top.substitution.requirements.items() if n == node.name), None
        )
    return d.Sap(
        id=node.name,
        layer_protocols=as_str_list(node.properties.get("layer_protocols")),
        virtual_link=vl,
        vnf_profile=vnf,
        ext_cp=ext_cp,
        external_requirement=external,
    )


def _instantiation_levels(top: Topology) -> tuple[list[d.NsInstantiationLevel], str | None]:
    levels: dict[str, d.NsInstantiationLevel] = {}
    default = None
    for policy in policies(top, _P + "NsInstantiationLevels"):
        props = policy.properties
        default = d.string(props.get("default_level")) or default
        for lid, data in (known(props.get("ns_levels") or props.get("levels")) or {}).items():
            scale = dig(data, "scale_info", default={}) or dig(data, "ns_scale_info", default={})
            levels[str(lid)] = d.NsInstantiationLevel(
                id=str(lid),
                description=d.string(dig(data, "description")),
                scale_info={str(a): _level(v) for a, v in scale.items()},
            )
    mappings = (
        ("VnfToInstantiationLevelMapping", "vnf_instances"),
        ("NsToInstantiationLevelMapping", "ns_instances"),
    )
    for type_name, attr in mappings:
        for policy in policies(top, _P + type_name):
            for lid, count in _per_level(policy.properties).items():
                level = levels.setdefault(lid, d.NsInstantiationLevel(id=lid))
                for target in policy.targets:
                    getattr(level, attr)[target] = count
    for policy in policies(top, _P + "VirtualLinkToInstantiationLevelMapping"):
        rates = (
            known(
                policy.properties.get("bit_rate_requirements")
                or policy.properties.get("bitrate_requirements")
            )
            or {}
        )
        for lid, value in rates.items():
            level = levels.setdefault(str(lid), d.NsInstantiationLevel(id=str(lid)))
            for target in policy.targets:
                level.virtual_link_bitrates[target] = _bitrates(value)
    if default is None and len(levels) == 1:
        default = next(iter(levels))
    return list(levels.values()), default


def _level(value: Any) -> int:
    got = as_int(value)
    return got if got is not None else as_int(dig(value, "scale_level")) or 0


def _per_level(props: dict[str, Any]) -> dict[str, int]:
    """``number_of_instances: {level: n}`` (v3.5+) or ``levels: {level: {number_of_instances}}``."""
    direct = known(props.get("number_of_instances"))
    if isinstance(direct, dict):
        return {str(k): as_int(v) or 0 for k, v in direct.items()}
    levels = known(props.get("levels")) or {}
    return {str(k): as_int(dig(v, "number_of_instances")) or 0 for k, v in levels.items()}


def _aspects(top: Topology) -> list[d.NsScalingAspect]:
    aspects: dict[str, d.NsScalingAspect] = {}
    for policy in policies(top, _P + "NsScalingAspects"):
        for aid, data in (known(policy.properties.get("aspects")) or {}).items():
            levels = dig(data, "ns_scale_levels", default={})
            level_map = {int(k): d.string(dig(v, "description")) for k, v in levels.items()}
            top_level = max(level_map) if level_map else as_int(dig(data, "max_scale_level")) or 0
            aspects[str(aid)] = d.NsScalingAspect(
                id=str(aid),
                name=d.string(dig(data, "name")),
                description=d.string(dig(data, "description")),
                max_scale_level=top_level,
                levels=level_map,
            )
    mappings = (("VnfToLevelMapping", "vnf_instances"), ("NsToLevelMapping", "ns_instances"))
    for type_name, attr in mappings:
        for policy in policies(top, _P + type_name):
            aspect = aspects.get(str(policy.properties.get("aspect")))
            counts = known(policy.properties.get("number_of_instances")) or {}
            if aspect is not None:
                for target in policy.targets:
                    getattr(aspect, attr)[target] = {
                        int(k): as_int(v) or 0 for k, v in counts.items()
                    }
    for policy in policies(top, _P + "VirtualLinkToLevelMapping"):
        aspect = aspects.get(str(policy.properties.get("aspect")))
        rates = (
            known(
                policy.properties.get("bit_rate_requirements")
                or policy.properties.get("bitrate_requirements")
            )
            or {}
        )
        if aspect is not None:
            for target in policy.targets:
                aspect.virtual_link_bitrates[target] = {
                    int(k): _bitrates(v) for k, v in rates.items()
                }
    return list(aspects.values())


def _dependencies(top: Topology) -> list[d.NsDependency]:
    """``dependency`` requirements (tosca.relationships.DependsOn) between constituents."""
    out = []
    for node in top.node_templates.values():
        if not (node.is_a(d.VNF) or node.is_a(d.PNF) or node.is_a(d.NS)):
            continue
        targets = [
            r.node
            for r in node.requirements
            if r.node and (r.name == "dependency" or (r.relationship or "").endswith("DependsOn"))
        ]
        if targets:
            out.append(d.NsDependency(primary=targets, secondary=[node.name]))
    return out
