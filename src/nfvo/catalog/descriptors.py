"""Typed VNF, NS and PNF descriptors built from SOL001 service templates.

The rest of the orchestrator never reads TOSCA: it reads these pydantic models,
which are stored as JSON (``model_dump(mode="json")``) and reloaded with
``model_validate``.  :func:`build_descriptor` understands SOL001 v2.6.1 to
v4.x: e.g. a VDU's software image is read from the ``sw_image_data`` property
(v2.6.1) or from the ``sw_image`` artifact's properties (v3+).

Units: memory in MiB and disks in GiB, converted with TOSCA's definitions
(``MB`` = 10^6 bytes, ``MiB`` = 2^20 bytes) and rounded up; image sizes in bytes;
bitrates in bits per second as written in the descriptor.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, Field

from nfvo.catalog.errors import PackageError
from nfvo.catalog.references import ReferenceReport, resolve_references
from nfvo.catalog.tosca import NodeTemplate, ServiceTemplate, Topology, load_template
from nfvo.catalog.tosca.extract import known

VNF = "tosca.nodes.nfv.VNF"
NS = "tosca.nodes.nfv.NS"
PNF = "tosca.nodes.nfv.PNF"
VDU = "tosca.nodes.nfv.Vdu.Compute"
BLOCK = "tosca.nodes.nfv.Vdu.VirtualBlockStorage"
STORAGE_KINDS = {
    BLOCK: "block",
    "tosca.nodes.nfv.Vdu.VirtualObjectStorage": "object",
    "tosca.nodes.nfv.Vdu.VirtualFileStorage": "file",
}


class _Model(BaseModel):
    model_config = {"extra": "forbid"}


# ---------------------------------------------------------------------------------------------
# VNFD models
# ---------------------------------------------------------------------------------------------
class SwImage(_Model):
    """A VDU or storage software image (SOL001 SwImageData / tosca.artifacts.nfv.SwImage)."""

    name: str | None = None
    version: str | None = None
    container_format: str | None = None
    disk_format: str | None = None
    min_disk_bytes: int | None = None
    min_ram_bytes: int | None = None
    size_bytes: int | None = None
    checksum_algorithm: str | None = None
    checksum_hash: str | None = None
    file: str | None = Field(None, description="package-relative path of the image artifact")
    operating_system: str | None = None


class VirtualStorage(_Model):
    """A virtual storage node (block/object/file) a VDU requires."""

    id: str
    kind: Literal["block", "object", "file"]
    size_gib: int | None = None
    sw_image: SwImage | None = None


class MonitoringParameter(_Model):
    """A monitoring parameter of a VDU, VNF or NS."""

    id: str
    name: str | None = None
    performance_metric: str | None = None
    collection_period: str | None = None


class ArtifactRef(_Model):
    """A node artifact other than the software image (e.g. a day-0 cloud-init file)."""

    name: str
    type: str | None = None
    file: str
    path: str | None = None


class Vdu(_Model):
    """A virtualisation deployment unit (tosca.nodes.nfv.Vdu.Compute) with its resources."""

    id: str
    name: str
    description: str | None = None
    min_number_of_instances: int = 1
    max_number_of_instances: int = 1
    initial_delta: int | None = None
    vcpu_count: int | None = None
    cpu_architecture: str | None = None
    virtual_memory_mib: int | None = None
    root_disk_gib: int | None = None
    ephemeral_disk_gib: int | None = None
    storages: list[VirtualStorage] = []
    sw_image: SwImage | None = None
    boot_order: bool | list[str] | None = None
    boot_data: Any = None
    artifacts: list[ArtifactRef] = []
    nfvi_constraints: Any = None
    monitoring_parameters: list[MonitoringParameter] = []


class VduCp(_Model):
    """A VDU connection point; ``virtual_link`` is the internal VL, None when external."""

    id: str
    vdu: str | None
    layer_protocols: list[str] = []
    virtual_link: str | None = None
    order: int | None = None
    vnic_type: str | None = None
    role: str | None = None


class VnfVirtualLink(_Model):
    """An internal virtual link of a VNF flavour."""

    id: str
    description: str | None = None
    layer_protocols: list[str] = []
    flow_pattern: str | None = None
    cidr: str | None = None
    ip_version: str | None = None
    gateway_ip: str | None = None
    dhcp_enabled: bool | None = None
    max_bitrate: dict[str, int] = {}
    min_bitrate: dict[str, int] = {}
    protocol_data: list[dict[str, Any]] = []


class ExtCp(_Model):
    """An external connection point of the VNF (a VnfExtCp, or a VduCp exposed directly).

    ``requirement`` is the VNF requirement name it is mapped to in substitution_mappings.
    """

    id: str
    kind: Literal["vnf_ext_cp", "vdu_cp"]
    requirement: str | None = None
    layer_protocols: list[str] = []
    internal_virtual_link: str | None = None
    vdu: str | None = None


class ScalingAspect(_Model):
    """A VNF scaling aspect with its per-VDU and per-VL deltas."""

    id: str
    name: str | None = None
    description: str | None = None
    max_scale_level: int
    step_deltas: list[str] = []
    vdu_deltas: dict[str, dict[str, int]] = {}
    virtual_link_deltas: dict[str, dict[str, dict[str, int]]] = {}


class InstantiationLevel(_Model):
    """A VNF instantiation level: scale levels per aspect, VDU instances, VL bitrates."""

    id: str
    description: str | None = None
    scale_info: dict[str, int] = {}
    vdu_instances: dict[str, int] = {}
    virtual_link_bitrates: dict[str, dict[str, int]] = {}


class PlacementRule(_Model):
    """An affinity or anti-affinity rule between VDUs, VLs or placement groups."""

    id: str
    kind: Literal["affinity", "anti_affinity"]
    scope: str | None = None
    targets: list[str] = []


class SecurityGroupRule(_Model):
    """A security group rule applied to connection points."""

    id: str
    description: str | None = None
    direction: str | None = None
    ether_type: str | None = None
    protocol: str | None = None
    port_range_min: int | None = None
    port_range_max: int | None = None
    targets: list[str] = []


class LcmOperation(_Model):
    """An LCM interface operation (e.g. Vnflcm.instantiate_start) and its artifacts."""

    interface: str
    name: str
    implementation: str | None = None
    artifact_path: str | None = None
    dependencies: list[str] = []
    inputs: dict[str, Any] = {}


class InputParameter(_Model):
    """A topology input (e.g. a day-0 parameter) of a flavour."""

    name: str
    type: str
    required: bool = True
    default: Any = None


class SupportedInterface(_Model):
    """A SupportedVnfInterface policy: which CPs expose which VNF interface."""

    id: str
    interface_name: str | None = None
    details: Any = None
    targets: list[str] = []


class VnfFlavour(_Model):
    """One deployment flavour of a VNF: its topology and scaling/instantiation rules."""

    flavour_id: str
    description: str | None = None
    source_file: str | None = None
    vdus: list[Vdu] = []
    vdu_cps: list[VduCp] = []
    virtual_links: list[VnfVirtualLink] = []
    ext_cps: list[ExtCp] = []
    scaling_aspects: list[ScalingAspect] = []
    instantiation_levels: list[InstantiationLevel] = []
    default_instantiation_level: str | None = None
    virtual_link_initial_bitrates: dict[str, dict[str, int]] = {}
    placement_rules: list[PlacementRule] = []
    security_group_rules: list[SecurityGroupRule] = []
    supported_interfaces: list[SupportedInterface] = []
    lcm_operations: list[LcmOperation] = []
    inputs: list[InputParameter] = []


class Vnfd(_Model):
    """A VNF descriptor (SOL001 tosca.nodes.nfv.VNF and its flavours)."""

    kind: Literal["vnfd"] = "vnfd"
    vnfd_id: str
    provider: str | None = None
    product_name: str | None = None
    software_version: str | None = None
    vnfd_version: str | None = None
    product_info_name: str | None = None
    product_info_description: str | None = None
    vnfm_info: list[str] = []
    localization_languages: list[str] = []
    default_localization_language: str | None = None
    vnf_type: str | None = None
    tosca_definitions_version: str | None = None
    flavours: list[VnfFlavour] = []

    def flavour(self, flavour_id: str) -> VnfFlavour:
        """The flavour ``flavour_id``; KeyError when absent."""
        for flavour in self.flavours:
            if flavour.flavour_id == flavour_id:
                return flavour
        raise KeyError(flavour_id)


# ---------------------------------------------------------------------------------------------
# NSD / PNFD models
# ---------------------------------------------------------------------------------------------
class VirtualLinkConnection(_Model):
    """A VNF/PNF/NS profile's connection: its requirement (ext CP) bound to an NS VL."""

    requirement: str
    virtual_link: str


class VnfProfile(_Model):
    """A VNF used by an NS flavour (a VNF node template in the NSD)."""

    id: str
    vnfd_id: str | None = None
    flavour_id: str | None = None
    instantiation_level: str | None = None
    min_number_of_instances: int = 1
    max_number_of_instances: int = 1
    virtual_links: list[VirtualLinkConnection] = []


class PnfProfile(_Model):
    """A PNF used by an NS flavour."""

    id: str
    pnfd_id: str | None = None
    virtual_links: list[VirtualLinkConnection] = []


class NsProfile(_Model):
    """A nested NS used by an NS flavour."""

    id: str
    nsd_id: str | None = None
    flavour_id: str | None = None
    instantiation_level: str | None = None
    min_number_of_instances: int = 1
    max_number_of_instances: int = 1
    virtual_links: list[VirtualLinkConnection] = []


class NsVirtualLink(_Model):
    """An NS virtual link with its profile."""

    id: str
    description: str | None = None
    layer_protocols: list[str] = []
    flow_pattern: str | None = None
    max_bitrate: dict[str, int] = {}
    min_bitrate: dict[str, int] = {}
    qos: dict[str, Any] = {}


class Sap(_Model):
    """A service access point and what it binds to (an NS VL or a VNF's ext CP)."""

    id: str
    layer_protocols: list[str] = []
    virtual_link: str | None = None
    vnf_profile: str | None = None
    ext_cp: str | None = None
    external_requirement: str | None = None


class NsInstantiationLevel(_Model):
    """An NS instantiation level: instances per VNF profile / nested NS, VL bitrates."""

    id: str
    description: str | None = None
    scale_info: dict[str, int] = {}
    vnf_instances: dict[str, int] = {}
    ns_instances: dict[str, int] = {}
    virtual_link_bitrates: dict[str, dict[str, int]] = {}


class NsScalingAspect(_Model):
    """An NS scaling aspect and the per-level VNF / nested NS / VL mappings."""

    id: str
    name: str | None = None
    description: str | None = None
    max_scale_level: int
    levels: dict[int, str | None] = {}
    vnf_instances: dict[str, dict[int, int]] = {}
    ns_instances: dict[str, dict[int, int]] = {}
    virtual_link_bitrates: dict[str, dict[int, dict[str, int]]] = {}


class NsDependency(_Model):
    """Instantiation order: primary profiles come before secondary ones."""

    primary: list[str]
    secondary: list[str]


class NsFlavour(_Model):
    """One NS deployment flavour."""

    flavour_id: str
    description: str | None = None
    source_file: str | None = None
    vnf_profiles: list[VnfProfile] = []
    pnf_profiles: list[PnfProfile] = []
    ns_profiles: list[NsProfile] = []
    virtual_links: list[NsVirtualLink] = []
    saps: list[Sap] = []
    instantiation_levels: list[NsInstantiationLevel] = []
    default_instantiation_level: str | None = None
    scaling_aspects: list[NsScalingAspect] = []
    dependencies: list[NsDependency] = []
    placement_rules: list[PlacementRule] = []


class Nsd(_Model):
    """A network service descriptor (SOL001 tosca.nodes.nfv.NS and its flavours)."""

    kind: Literal["nsd"] = "nsd"
    nsd_id: str
    designer: str | None = None
    version: str | None = None
    name: str | None = None
    invariant_id: str | None = None
    ns_type: str | None = None
    tosca_definitions_version: str | None = None
    flavours: list[NsFlavour] = []
    vnfd_ids: list[str] = []
    pnfd_ids: list[str] = []
    nested_nsd_ids: list[str] = []


class PnfExtCp(_Model):
    """An external connection point of a PNF."""

    id: str
    layer_protocols: list[str] = []


class Pnfd(_Model):
    """A PNF descriptor (SOL001 tosca.nodes.nfv.PNF)."""

    kind: Literal["pnfd"] = "pnfd"
    pnfd_id: str
    provider: str | None = None
    version: str | None = None
    name: str | None = None
    invariant_id: str | None = None
    function_description: str | None = None
    tosca_definitions_version: str | None = None
    ext_cps: list[PnfExtCp] = []


Descriptor = Vnfd | Nsd | Pnfd


# ---------------------------------------------------------------------------------------------
# Building
# ---------------------------------------------------------------------------------------------
def build_descriptor(files: Mapping[str, bytes], entry: str) -> Vnfd | Nsd | Pnfd:
    """Parse the package's service template ``entry`` into a typed descriptor.

    Inputs without values are deferred (they are given at instantiation).
    Raises PackageError(cause="NO_DESCRIPTOR") when nothing substitutes or
    declares a tosca.nodes.nfv.VNF, NS or PNF.
    """
    st = load_template(files, entry, defer_inputs=True)
    return descriptor_from_template(st)


def build_descriptor_checked(
    files: Mapping[str, bytes], entry: str
) -> tuple[Vnfd | Nsd | Pnfd, ReferenceReport]:
    """:func:`build_descriptor`, with every file the template names resolved and checked
    (:mod:`nfvo.catalog.references`): the descriptor names resolved package paths."""
    st = load_template(files, entry, defer_inputs=True)
    report = resolve_references(st, files)
    return descriptor_from_template(st), report


def descriptor_from_template(st: ServiceTemplate) -> Vnfd | Nsd | Pnfd:
    """Build the typed descriptor of an already loaded service template."""
    from nfvo.catalog.tosca import nsd_builder, vnfd_builder

    subs = st.substitution_topologies()
    for kind, root in (("vnf", VNF), ("ns", NS), ("pnf", PNF)):
        tops = [t for t in subs if t.substitution and t.substitution.type_def.is_a(root)]
        if not tops and st.topology is not None and _declares(st.topology, root, kind):
            tops = [st.topology]
        if tops:
            if kind == "vnf":
                return vnfd_builder.build_vnfd(st, tops)
            if kind == "ns":
                return nsd_builder.build_nsd(st, tops)
            return nsd_builder.build_pnfd(st, tops)
    raise PackageError(
        "NO_DESCRIPTOR",
        "the service template neither substitutes nor declares a "
        "tosca.nodes.nfv.VNF, tosca.nodes.nfv.NS or tosca.nodes.nfv.PNF",
        file=st.entry,
    )


def _declares(top: Topology, root: str, kind: str) -> bool:
    nodes = top.nodes_of(root)
    if not nodes:
        return False
    if kind == "vnf":
        return not top.nodes_of(NS) or bool(top.nodes_of(VDU))
    if kind == "ns":
        return True
    return not top.nodes_of(VNF)


def merged_properties(st: ServiceTemplate, tops: list[Topology], root: str) -> dict[str, Any]:
    """Descriptor-level properties: type defaults < substitution < flavour node < entry node."""
    out: dict[str, Any] = {}
    node_type = tops[0].substitution.type_def if tops[0].substitution else None
    sources: list[Mapping[str, Any]] = []
    for top in tops:
        if top.substitution is not None:
            sources.append(top.substitution.properties)
        sources.extend(n.properties for n in top.nodes_of(root) if _is_self(n, top, node_type))
    if st.topology is not None and st.topology not in tops:
        sources.extend(n.properties for n in st.topology.nodes_of(root))
    if node_type is not None:
        for name, schema in node_type.properties.items():
            if schema.has_default and known(schema.default) is not None:
                out[name] = schema.default
    for props in sources:
        for name, value in props.items():
            value = known(value)
            if value is not None and value != []:
                out[name] = value
    return out


def _is_self(node: NodeTemplate, top: Topology, node_type: Any) -> bool:
    if top.substitution is None:
        return True
    return node.type == top.substitution.node_type or (
        node_type is not None and node.type_def.is_a(node_type.name)
    )


def string(value: Any) -> str | None:
    """A string or None (numbers are turned into strings, unresolved inputs into None)."""
    value = known(value)
    return None if value is None else str(value)


__all__ = [
    "Descriptor",
    "Nsd",
    "Pnfd",
    "Vnfd",
    "build_descriptor",
    "build_descriptor_checked",
    "descriptor_from_template",
]
