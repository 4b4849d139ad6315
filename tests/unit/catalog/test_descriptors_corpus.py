"""Parse the external ETSI corpus (SOL001 examples and type files, Tacker sample packages).

Every expected value below was read from the corpus file named in the test.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nfvo.catalog.descriptors import Nsd, Pnfd, Vnfd, build_descriptor
from nfvo.catalog.errors import PackageError
from nfvo.catalog.tosca import load_template

ETSI = Path(__file__).resolve().parents[3] / ".." / "shared" / "etsi"
EXAMPLES = ETSI / "sol001" / "examples"
ANNEX_A = EXAMPLES / "etsi-sol001-v3.5.1-annexA"
ORANGE = EXAMPLES / "orange-tosca13-nfv-topology"
DEFINITIONS = ETSI / "sol001" / "definitions"
TACKER = ETSI / "sol004" / "tacker"

pytestmark = pytest.mark.skipif(
    not EXAMPLES.is_dir(),
    reason=f"ETSI corpus not found at {ETSI}; place the shared/etsi folder beside the repo",
)


def _folder(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in path.glob("*.yaml")}


def _tree(base: Path) -> dict[str, bytes]:
    return {p.relative_to(base).as_posix(): p.read_bytes() for p in base.rglob("*") if p.is_file()}


def tacker_package(name: str) -> tuple[dict[str, bytes], str]:
    """Assemble a Tacker sample as the corpus' build_samples.py describes; return files, entry."""
    tests = TACKER / "tests-etsi-nfv"
    if (tests / name).is_dir():
        files = _tree(tests / "common")
        files.update(_tree(tests / name))
    else:
        files = {k: v for k, v in _tree(tests / "common").items() if k.startswith("Definitions/")}
        files.update(_tree(TACKER / name))
    meta = files.get("TOSCA-Metadata/TOSCA.meta", b"").decode()
    match = re.search(r"Entry-Definitions:\s*(\S+)", meta)
    entry = (
        match.group(1) if match else next(k for k in files if k.endswith(".yaml") and "/" not in k)
    )
    if entry.startswith("Definitions/helloworld3") and entry not in files:
        files.update(
            {
                k: v
                for k, v in _tree(TACKER / "vnf_packages").items()
                if k.startswith("Definitions/")
            }
        )
    return files, entry


def _example_files() -> list[tuple[str, str]]:
    if not EXAMPLES.is_dir():
        return []
    return [(d.name, p.name) for d in sorted(EXAMPLES.iterdir()) for p in sorted(d.glob("*.yaml"))]


@pytest.mark.parametrize(("folder", "name"), _example_files())
def test_every_sol001_example_parses(folder: str, name: str):
    files = _folder(EXAMPLES / folder)
    st = load_template(files, name, defer_inputs=True)
    roots = ("tosca.nodes.nfv.VNF", "tosca.nodes.nfv.NS", "tosca.nodes.nfv.PNF")
    declares = st.topology is not None and any(
        n.is_a(t) for n in st.topology.node_templates.values() for t in roots
    )
    substitutes = any(
        t.substitution.type_def.is_a(r) for t in st.substitution_topologies() for r in roots
    )
    if substitutes or declares:
        desc = build_descriptor(files, name)
        assert type(desc).model_validate(desc.model_dump(mode="json")) == desc
    else:
        with pytest.raises(PackageError) as info:
            build_descriptor(files, name)
        assert info.value.cause == "NO_DESCRIPTOR"


@pytest.mark.parametrize("version", ["v2.6.1", "v3.3.1", "v3.5.1", "v3.6.1", "v4.2.1"])
def test_sol001_definitions_as_imports(version: str):
    folder = DEFINITIONS / version
    files = {f"Definitions/{p.name}": p.read_bytes() for p in folder.glob("*.yaml")}
    tosca = "tosca_simple_yaml_1_2" if version == "v2.6.1" else "tosca_simple_yaml_1_3"
    files["Definitions/main.yaml"] = (
        f"tosca_definitions_version: {tosca}\nimports:\n"
        "  - etsi_nfv_sol001_vnfd_types.yaml\n  - etsi_nfv_sol001_nsd_types.yaml\n"
        "  - etsi_nfv_sol001_pnfd_types.yaml\n"
        "topology_template:\n  node_templates:\n    vl:\n"
        "      type: tosca.nodes.nfv.VnfVirtualLink\n"
        "      properties:\n        connectivity_type: {layer_protocols: [ipv4]}\n"
        "        vl_profile:\n          max_bitrate_requirements: {root: 1000}\n"
        "          min_bitrate_requirements: {root: 100}\n"
    ).encode()
    st = load_template(files, "Definitions/main.yaml")
    assert st.registry.find("node", "tosca.nodes.nfv.Vdu.Compute") is not None
    assert st.registry.find("policy", "tosca.policies.nfv.ScalingAspects") is not None
    vl = st.topology.node_templates["vl"]
    assert vl.properties["vl_profile"]["max_bitrate_requirements"] == {"root": 1000}


TACKER_NAMES = [
    "vnflcm1",
    "sample_vnfpkg_tosca_vnfd",
    "sample_vnf_package_csar_manifest",
    "vnf_packages",
    "etsi_getting_started_sample_vnf_package_csar",
    "sol_v2_basic_lcms_min",
    "vnfpkgm1",
]


@pytest.mark.parametrize("name", TACKER_NAMES)
def test_tacker_samples_build_vnfds(name: str):
    files, entry = tacker_package(name)
    vnfd = build_descriptor(files, entry)
    assert isinstance(vnfd, Vnfd)
    assert vnfd.vnfd_id and vnfd.flavours and vnfd.flavours[0].vdus
    assert Vnfd.model_validate(vnfd.model_dump(mode="json")) == vnfd


def test_tacker_vnflcm1_values():
    files, entry = tacker_package("vnflcm1")
    vnfd = build_descriptor(files, entry)
    assert vnfd.vnfd_id == "b1bb0ce7-ebca-4fa7-95ed-4840d7000000"
    assert (vnfd.provider, vnfd.product_name, vnfd.vnfm_info) == (
        "Company",
        "Sample VNF",
        ["Tacker"],
    )
    flavour = vnfd.flavour("simple")
    assert flavour.description == "A simple flavour"
    vdu = flavour.vdus[0]
    assert (vdu.id, vdu.vcpu_count, vdu.max_number_of_instances) == ("VDU1", 1, 3)
    assert vdu.virtual_memory_mib == 489  # 512 MB = 512e6 bytes
    assert vdu.root_disk_gib == 3
    assert vdu.initial_delta == 1
    assert vdu.sw_image.checksum_algorithm == "sha-512"
    assert vdu.sw_image.file == "Files/images/cirros-0.5.2-x86_64-disk.img"
    aspect = flavour.scaling_aspects[0]
    assert (aspect.id, aspect.max_scale_level, aspect.vdu_deltas) == (
        "worker_instance",
        2,
        {"VDU1": {"delta_1": 1}},
    )
    assert [lv.id for lv in flavour.instantiation_levels] == [
        "instantiation_level_1",
        "instantiation_level_2",
    ]
    assert flavour.default_instantiation_level == "instantiation_level_1"
    assert flavour.instantiation_levels[1].scale_info == {"worker_instance": 2}
    assert flavour.virtual_links[0].cidr == "33.33.0.0/24"
    assert flavour.vdu_cps[0].virtual_link == "internalVL1"
    assert flavour.ext_cps[0].requirement == "virtual_link_external"
    assert {op.name for op in flavour.lcm_operations} >= {"instantiate", "instantiate_start"}


def test_tacker_top_template_needs_its_flavour_input():
    files, entry = tacker_package("vnflcm1")
    with pytest.raises(PackageError) as info:
        load_template(files, entry)
    assert info.value.cause == "MISSING_INPUT"
    st = load_template(files, entry, inputs={"selected_flavour": "simple"})
    assert st.topology.node_templates["VNF"].properties["flavour_id"] == "simple"
    assert [t.file for t in st.substitution_topologies()] == [
        "Definitions/helloworld3_df_simple.yaml"
    ]


def test_annex_a2_vnfd_values():
    vnfd = build_descriptor(_folder(ANNEX_A), "example_A.2-01.yaml")
    assert isinstance(vnfd, Vnfd)
    assert (vnfd.product_name, vnfd.provider) == ("SunshineDB", "MyCompany")
    vdu = vnfd.flavour("simple").vdus[0]
    assert (vdu.id, vdu.vcpu_count, vdu.virtual_memory_mib) == ("dbBackend", 2, 8192)
    assert vdu.root_disk_gib == 94  # 100 GB block storage
    assert vdu.sw_image.disk_format == "qcow2"


def test_annex_a5_and_a13_vdu_profiles():
    files = _folder(ANNEX_A)
    a5 = build_descriptor(files, "example_A.5-01.yaml")
    assert a5.flavours[0].vdus[0].max_number_of_instances == 4
    a13 = build_descriptor(files, "example_A.13-01.yaml")
    vdu = a13.flavours[0].vdus[0]
    assert (vdu.min_number_of_instances, vdu.max_number_of_instances) == (2, 5)
    assert vdu.virtual_memory_mib == 954  # 1 GB


def test_annex_a12_nsd_has_two_flavours_and_profiles():
    nsd = build_descriptor(_folder(ANNEX_A), "example_A.12-01.yaml")
    assert isinstance(nsd, Nsd)
    assert [f.flavour_id for f in nsd.flavours] == ["small", "simple"]
    vnf1 = nsd.flavours[0].vnf_profiles[0]
    assert (vnf1.id, vnf1.min_number_of_instances, vnf1.max_number_of_instances) == ("VNF_1", 2, 6)
    assert vnf1.virtual_links[0].virtual_link == "NS_VL_1"
    assert nsd.flavours[0].ns_profiles[0].max_number_of_instances == 3


def test_annex_a17_ns_scaling():
    nsd = build_descriptor(_folder(ANNEX_A), "example_A.17-01.yaml")
    flavour = nsd.flavours[0]
    assert flavour.flavour_id == "small"  # from substitution_filter
    profiles = {p.id: p for p in flavour.vnf_profiles}
    assert profiles["FrontEnd"].max_number_of_instances == 4
    assert profiles["Database"].max_number_of_instances == 2
    aspects = {a.id: a for a in flavour.scaling_aspects}
    assert aspects["processor"].max_scale_level == 2
    assert aspects["processor"].vnf_instances["FrontEnd"] == {0: 1, 1: 3, 2: 4}
    assert len(flavour.instantiation_levels) == 2
    assert flavour.instantiation_levels[1].vnf_instances["FrontEnd"] == 3
    assert nsd.nested_nsd_ids == ["c1bb0ab8-deab-4fa7-95ed-4840d70a3574"]


def test_annex_a10_pnfd_and_orange_nsd():
    pnfd = build_descriptor(_folder(ANNEX_A), "example_A.10-01.yaml")
    assert isinstance(pnfd, Pnfd)
    assert pnfd.pnfd_id == "b1bb0ce7-ebca-4fa7-95ed-4840d70a2233"
    assert pnfd.function_description == "an example PNF"
    nsd = build_descriptor(_folder(ORANGE), "TopologyNSD.yaml")
    assert (nsd.nsd_id, nsd.designer) == ("NS_ID1", "MyCompany")
    assert nsd.flavours[0].saps[0].virtual_link == "InternalVirtualLink"
    assert nsd.pnfd_ids == ["b1bb0ce7-ebca-4fa7-95ed-4840d70a2233"]
    assert nsd.vnfd_ids == ["ID_VNF"]
