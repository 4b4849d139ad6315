"""Builds a typed :class:`~nfvo.catalog.descriptors.Vnfd` from a loaded SOL001 template."""

from __future__ import annotations

from typing import Any

from nfvo.catalog import descriptors as d
from nfvo.catalog.tosca.extract import (
    GIB,
    MIB,
    as_int,
    as_str_list,
    dig,
    flavour_id_of,
    jsonable,
    known,
    policies,
    size_bytes,
    size_in,
)
from nfvo.catalog.tosca.model import NodeTemplate, ServiceTemplate, Topology

_P = "tosca.policies.nfv."


def build_vnfd(st: ServiceTemplate, tops: list[Topology]) -> d.Vnfd:
    """A Vnfd whose flavours are the given topologies (each substituting the VNF)."""
    props = d.merged_properties(st, tops, d.VNF)
    vnf_type = tops[0].substitution.node_type if tops[0].substitution else None
    flavours = [_flavour(st, top, index) for index, top in enumerate(tops)]
    return d.Vnfd(
        vnfd_id=d.string(props.get("descriptor_id")) or "",
        provider=d.string(props.get("provider")),
        product_name=d.string(props.get("product_name")),
        software_version=d.string(props.get("software_version")),
        vnfd_version=d.string(props.get("descriptor_version")),
        product_info_name=d.string(props.get("product_info_name")),
        product_info_description=d.string(props.get("product_info_description")),
        vnfm_info=as_str_list(props.get("vnfm_info")),
        localization_languages=as_str_list(props.get("localization_languages")),
        default_localization_language=d.string(props.get("default_localization_language")),
        vnf_type=vnf_type,
        tosca_definitions_version=st.tosca_definitions_version,
        flavours=flavours,
    )


def _flavour(st: ServiceTemplate, top: Topology, index: int) -> d.VnfFlavour:
    flavour_id = flavour_id_of(st, top)
    vnf_nodes = top.nodes_of(d.VNF)
    if flavour_id is None and vnf_nodes:
        flavour_id = d.string(vnf_nodes[0].properties.get("flavour_id"))
    description = None
    for node in vnf_nodes:
        description = d.string(node.properties.get("flavour_description")) or description
    vdus = [_vdu(top, node) for node in top.nodes_of(d.VDU)]
    levels, default_level = _instantiation_levels(top)
    return d.VnfFlavour(
        flavour_id=flavour_id or f"flavour_{index}",
        description=description or top.description,
        source_file=top.file,
        vdus=_apply_initial_deltas(top, vdus),
        vdu_cps=[_vdu_cp(top, node) for node in top.nodes_of("tosca.nodes.nfv.VduCp")],
        virtual_links=[_vl(node) for node in top.nodes_of("tosca.nodes.nfv.VnfVirtualLink")],
        ext_cps=_ext_cps(top),
        scaling_aspects=_aspects(top),
        instantiation_levels=levels,
        default_instantiation_level=default_level,
        virtual_link_initial_bitrates={
            target: _bitrates(dig(p.properties, "initial_delta", "bitrate_requirements"))
            for p in policies(top, _P + "VirtualLinkBitrateInitialDelta")
            for target in p.targets
        },
        placement_rules=placement_rules(top),
        security_group_rules=_security_rules(top),
        supported_interfaces=[
            d.SupportedInterface(
                id=p.name,
                interface_name=d.string(p.properties.get("interface_name")),
                details=jsonable(known(p.properties.get("details"))),
                targets=p.targets,
            )
            for p in policies(top, _P + "SupportedVnfInterface")
        ],
        lcm_operations=_lcm_operations(vnf_nodes),
        inputs=[
            d.InputParameter(
                name=name,
                type=schema.type,
                required=schema.required,
                default=jsonable(schema.default),
            )
            for name, schema in top.inputs.items()
        ],
    )


def _vdu(top: Topology, node: NodeTemplate) -> d.Vdu:
    props = node.properties
    compute = node.capabilities.get("virtual_compute", {})
    storages = [
        _storage(top.node_templates[name])
        for name in node.requirement_targets("virtual_storage")
        if name in top.node_templates
    ]
    local = [
        size_in(dig(s, "size_of_storage"), GIB)
        for s in dig(compute, "virtual_local_storage", default=[])
    ]
    local_sizes = [s for s in local if s is not None]
    image = _artifact_image(node) or _image(props.get("sw_image_data"), None)
    root_storage = next((s for s in storages if s.kind == "block" and s.sw_image), None)
    if root_storage is not None:
        root, ephemeral = root_storage.size_gib, sum(local_sizes) or None
        image = image or root_storage.sw_image
    elif local_sizes:
        root, ephemeral = local_sizes[0], sum(local_sizes[1:]) or None
    else:
        root, ephemeral = None, None
    profile = props.get("vdu_profile") or {}
    return d.Vdu(
        id=node.name,
        name=d.string(props.get("name")) or node.name,
        description=d.string(props.get("description")),
        min_number_of_instances=as_int(dig(profile, "min_number_of_instances")) or 0,
        max_number_of_instances=as_int(dig(profile, "max_number_of_instances")) or 1,
        vcpu_count=as_int(dig(compute, "virtual_cpu", "num_virtual_cpu")),
        cpu_architecture=d.string(dig(compute, "virtual_cpu", "cpu_architecture")),
        virtual_memory_mib=size_in(dig(compute, "virtual_memory", "virtual_mem_size"), MIB),
        root_disk_gib=root,
        ephemeral_disk_gib=ephemeral,
        storages=storages,
        sw_image=image,
        boot_order=jsonable(known(props.get("boot_order"))),
        boot_data=jsonable(known(props.get("boot_data"))),
        artifacts=[
            d.ArtifactRef(name=a.name, type=a.type, file=a.file, path=a.path)
            for a in node.artifacts.values()
            if not _is_image_artifact(a.type)
        ],
        nfvi_constraints=jsonable(known(props.get("nfvi_constraints"))),
        monitoring_parameters=_monitoring(props.get("monitoring_parameters")),
    )


def _is_image_artifact(type_name: str | None) -> bool:
    return bool(type_name) and type_name.endswith("SwImage")


def _image_file(art: Any) -> str | None:
    """The package path of an image artifact; its URI when external; None when the package
    does not carry it (then the VIM's image of the SwImageData name is used)."""
    if art.path:
        return art.path
    if not art.carried or not art.file:
        return None
    return art.file


def _artifact_image(node: NodeTemplate) -> d.SwImage | None:
    for art in node.artifacts.values():
        if _is_image_artifact(art.type):
            # SOL001 v2.6.1 writes the image data as the node's sw_image_data property and
            # the artifact carries only the file
            data = art.properties or node.properties.get("sw_image_data") or None
            return _image(data, _image_file(art))
    return None


def _image(data: Any, file: str | None) -> d.SwImage | None:
    data = known(data)
    if not isinstance(data, dict):
        return d.SwImage(file=file) if file else None
    return d.SwImage(
        name=d.string(data.get("name")),
        version=d.string(data.get("version")),
        container_format=d.string(data.get("container_format")),
        disk_format=d.string(data.get("disk_format")),
        min_disk_bytes=size_bytes(data.get("min_disk")),
        min_ram_bytes=size_bytes(data.get("min_ram")),
        size_bytes=size_bytes(data.get("size")),
        checksum_algorithm=d.string(dig(data, "checksum", "algorithm")),
        checksum_hash=d.string(dig(data, "checksum", "hash")),
        file=file,
        operating_system=d.string(data.get("operating_system")),
    )


def _storage(node: NodeTemplate) -> d.VirtualStorage:
    kind = next((k for t, k in d.STORAGE_KINDS.items() if node.is_a(t)), "block")
    props = node.properties
    data = (
        props.get("virtual_block_storage_data")
        or props.get("virtual_object_storage_data")
        or props.get("virtual_file_storage_data")
        or {}
    )
    size = dig(data, "size_of_storage") or dig(data, "max_size_of_storage")
    image = _artifact_image(node)
    if image is None:
        art_file = next(
            (_image_file(a) for a in node.artifacts.values() if _is_image_artifact(a.type)), None
        )
        image = _image(props.get("sw_image_data"), art_file)
    elif known(props.get("sw_image_data")):
        image = _image(props.get("sw_image_data"), image.file)
    return d.VirtualStorage(id=node.name, kind=kind, size_gib=size_in(size, GIB), sw_image=image)


def _monitoring(value: Any) -> list[d.MonitoringParameter]:
    value = known(value)
    items: list[tuple[str, Any]] = []
    if isinstance(value, list):
        items = [(str(index), item) for index, item in enumerate(value)]
    elif isinstance(value, dict):
        items = list(value.items())
    return [
        d.MonitoringParameter(
            id=str(key),
            name=d.string(dig(item, "name")),
            performance_metric=d.string(dig(item, "performance_metric")),
            collection_period=d.string(dig(item, "collection_period")),
        )
        for key, item in items
        if isinstance(item, dict)
    ]


def _vdu_cp(top: Topology, node: NodeTemplate) -> d.VduCp:
    vdus = node.requirement_targets("virtual_binding")
    links = node.requirement_targets("virtual_link")
    return d.VduCp(
        id=node.name,
        vdu=vdus[0] if vdus else None,
        layer_protocols=as_str_list(node.properties.get("layer_protocols")),
        virtual_link=links[0] if links else None,
        order=as_int(node.properties.get("order")),
        vnic_type=d.string(node.properties.get("vnic_type")),
        role=d.string(node.properties.get("role")),
    )


def _bitrates(value: Any) -> dict[str, int]:
    value = known(value)
    if not isinstance(value, dict):
        return {}
    return {str(k): int(v) for k, v in value.items() if as_int(v) is not None}


def _vl(node: NodeTemplate) -> d.VnfVirtualLink:
    props = node.properties
    profile = props.get("vl_profile") or {}
    protocol_data = dig(profile, "virtual_link_protocol_data", default=[])
    l3 = next((dig(p, "l3_protocol_data") for p in protocol_data if dig(p, "l3_protocol_data")), {})
    return d.VnfVirtualLink(
        id=node.name,
        description=d.string(props.get("description")),
        layer_protocols=as_str_list(dig(props, "connectivity_type", "layer_protocols")),
        flow_pattern=d.string(dig(props, "connectivity_type", "flow_pattern")),
        cidr=d.string(dig(l3, "cidr")),
        ip_version=d.string(dig(l3, "ip_version")),
        gateway_ip=d.string(dig(l3, "gateway_ip")),
        dhcp_enabled=dig(l3, "dhcp_enabled"),
        max_bitrate=_bitrates(dig(profile, "max_bitrate_requirements")),
        min_bitrate=_bitrates(dig(profile, "min_bitrate_requirements")),
        protocol_data=jsonable(protocol_data),
    )


def _ext_cps(top: Topology) -> list[d.ExtCp]:
    out: dict[str, d.ExtCp] = {}
    mapped: dict[str, str] = {}
    if top.substitution is not None:
        for req, (node_name, _) in top.substitution.requirements.items():
            mapped.setdefault(node_name, req)
    for node in top.node_templates.values():
        is_ext = node.is_a("tosca.nodes.nfv.VnfExtCp")
        if not is_ext and not (node.name in mapped and node.is_a("tosca.nodes.nfv.Cp")):
            continue
        internal = node.requirement_targets("internal_virtual_link")
        vdus = node.requirement_targets("virtual_binding")
        out[node.name] = d.ExtCp(
            id=node.name,
            kind="vnf_ext_cp" if is_ext else "vdu_cp",
            requirement=mapped.get(node.name),
            layer_protocols=as_str_list(node.properties.get("layer_protocols")),
            internal_virtual_link=internal[0] if internal else None,
            vdu=vdus[0] if vdus else None,
        )
    return list(out.values())


def _aspects(top: Topology) -> list[d.ScalingAspect]:
    aspects: dict[str, d.ScalingAspect] = {}
    for policy in policies(top, _P + "ScalingAspects"):
        for aid, data in (known(policy.properties.get("aspects")) or {}).items():
            aspects[str(aid)] = d.ScalingAspect(
                id=str(aid),
                name=d.string(dig(data, "name")),
                description=d.string(dig(data, "description")),
                max_scale_level=as_int(dig(data, "max_scale_level")) or 0,
                step_deltas=as_str_list(dig(data, "step_deltas")),
            )
    for policy in policies(top, _P + "VduScalingAspectDeltas"):
        aspect = aspects.get(str(policy.properties.get("aspect")))
        deltas = known(policy.properties.get("deltas")) or {}
        if aspect is not None:
            for target in policy.targets:
                aspect.vdu_deltas[target] = {
                    str(k): as_int(dig(v, "number_of_instances")) or 0 for k, v in deltas.items()
                }
    for policy in policies(top, _P + "VirtualLinkBitrateScalingAspectDeltas"):
        aspect = aspects.get(str(policy.properties.get("aspect")))
        deltas = known(policy.properties.get("deltas")) or {}
        if aspect is not None:
            for target in policy.targets:
                aspect.virtual_link_deltas[target] = {
                    str(k): _bitrates(dig(v, "bitrate_requirements")) for k, v in deltas.items()
                }
    return list(aspects.values())


def _instantiation_levels(top: Topology) -> tuple[list[d.InstantiationLevel], str | None]:
    levels: dict[str, d.InstantiationLevel] = {}
    default = None
    for policy in policies(top, _P + "InstantiationLevels"):
        default = d.string(policy.properties.get("default_level")) or default
        for lid, data in (known(policy.properties.get("levels")) or {}).items():
            scale = dig(data, "scale_info", default={})
            levels[str(lid)] = d.InstantiationLevel(
                id=str(lid),
                description=d.string(dig(data, "description")),
                scale_info={str(a): as_int(dig(v, "scale_level")) or 0 for a, v in scale.items()},
            )
    for policy in policies(top, _P + "VduInstantiationLevels"):
        for lid, data in (known(policy.properties.get("levels")) or {}).items():
            level = levels.setdefault(str(lid), d.InstantiationLevel(id=str(lid)))
            for target in policy.targets:
                level.vdu_instances[target] = as_int(dig(data, "number_of_instances")) or 0
    for policy in policies(top, _P + "VirtualLinkInstantiationLevels"):
        for lid, data in (known(policy.properties.get("levels")) or {}).items():
            level = levels.setdefault(str(lid), d.InstantiationLevel(id=str(lid)))
            for target in policy.targets:
                level.virtual_link_bitrates[target] = _bitrates(dig(data, "bitrate_requirements"))
    if default is None and len(levels) == 1:
        default = next(iter(levels))
    return list(levels.values()), default


def _apply_initial_deltas(top: Topology, vdus: list[d.Vdu]) -> list[d.Vdu]:
    by_id = {v.id: v for v in vdus}
    for policy in policies(top, _P + "VduInitialDelta"):
        count = as_int(dig(policy.properties, "initial_delta", "number_of_instances"))
        for target in policy.targets:
            if target in by_id:
                by_id[target].initial_delta = count
    return vdus


def placement_rules(top: Topology) -> list[d.PlacementRule]:
    """Affinity / anti-affinity rules of VNF (AffinityRule) and NS (NsAffinityRule) flavours.

    A target that names a group (``tosca.groups.nfv.PlacementGroup``, as Tacker's samples
    write it) stands for the group's members, so the rule binds the VDUs (or VNF profiles)
    themselves."""
    out = []
    for policy in top.policies:
        short = policy.type.rsplit(".", 1)[-1]
        if "AntiAffinityRule" in short:
            kind = "anti_affinity"
        elif "AffinityRule" in short:
            kind = "affinity"
        else:
            continue
        out.append(
            d.PlacementRule(
                id=policy.name,
                kind=kind,
                scope=d.string(policy.properties.get("scope")),
                targets=[
                    m
                    for t in policy.targets
                    for m in (top.groups[t].members if t in top.groups else [t])
                ],
            )
        )
    return out


def _security_rules(top: Topology) -> list[d.SecurityGroupRule]:
    return [
        d.SecurityGroupRule(
            id=p.name,
            description=d.string(p.properties.get("description")),
            direction=d.string(p.properties.get("direction")),
            ether_type=d.string(p.properties.get("ether_type")),
            protocol=d.string(p.properties.get("protocol")),
            port_range_min=as_int(p.properties.get("port_range_min")),
            port_range_max=as_int(p.properties.get("port_range_max")),
            targets=p.targets,
        )
        for p in policies(top, _P + "SecurityGroupRule")
    ]


def _lcm_operations(vnf_nodes: list[NodeTemplate]) -> list[d.LcmOperation]:
    out = []
    for node in vnf_nodes:
        for iname, ops in node.interfaces.items():
            for op in ops.values():
                artifact = node.artifacts.get(op.implementation or "")
                out.append(
                    d.LcmOperation(
                        interface=iname,
                        name=op.name,
                        implementation=op.implementation,
                        artifact_path=artifact.path if artifact else None,
                        dependencies=op.dependencies,
                        inputs=jsonable(op.inputs),
                    )
                )
    return out
