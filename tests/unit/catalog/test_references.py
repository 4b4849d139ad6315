"""Files a descriptor names: resolved relative to the naming file (then the package root) and
checked at onboarding, with file and line; images not carried become references by name."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.fixtures import world

from nfvo.catalog.csar import CsarLimits
from nfvo.catalog.errors import PackageError
from nfvo.catalog.onboarding import OnboardResult, analyse_package
from nfvo.catalog.references import MAX_DAY0_BYTES, resolve_path
from nfvo.catalog.states import PackageKind

FILES = {"Definitions/top.yaml", "Files/day0/a.yaml", "Definitions/local.sh", "Scripts/s.sh"}


@pytest.mark.parametrize(
    ("ref", "want"),
    [
        ("../Files/day0/a.yaml", "Files/day0/a.yaml"),  # relative to the naming file (TOSCA)
        ("Files/day0/a.yaml", "Files/day0/a.yaml"),  # root-relative, as some packages write
        ("/Files/day0/a.yaml", "Files/day0/a.yaml"),
        ("./local.sh", "Definitions/local.sh"),
        ("local.sh", "Definitions/local.sh"),
        ("../Scripts/./s.sh", "Scripts/s.sh"),
        ("../../Files/day0/a.yaml", None),  # leaves the package
        ("../Files/day0/b.yaml", None),
        ("https://example.com/a.yaml", None),
        ("..\\Scripts\\s.sh", None),
        ("", None),
    ],
)
def test_resolve_path(ref: str, want: str | None) -> None:
    assert resolve_path(ref, "Definitions/top.yaml", FILES) == want


def analyse(data: bytes, tmp_path: Path, kind: PackageKind = PackageKind.vnf) -> OnboardResult:
    path = tmp_path / "pkg.zip"
    path.write_bytes(data)
    return analyse_package(path, kind, CsarLimits())


def refused(data: bytes, tmp_path: Path) -> PackageError:
    with pytest.raises(PackageError) as err:
        analyse(data, tmp_path)
    return err.value


def test_world_vnf_paths_are_resolved_and_images_referenced(tmp_path: Path) -> None:
    res = analyse(world.edge_vnf(), tmp_path)
    small = res.descriptor.flavour("small")  # type: ignore[union-attr]
    fw, ctl = (next(v for v in small.vdus if v.id == i) for i in ("fw", "ctl"))
    assert fw.boot_data["content_or_file_data"]["source_path"] == "Files/day0/fw-user-data.yaml"
    assert fw.sw_image is not None and (fw.sw_image.name, fw.sw_image.file) == (
        "ubuntu-22.04",
        None,
    )
    assert ctl.sw_image is not None and ctl.sw_image.file == "Files/images/ctl.qcow2"
    assert [o.artifact_path for o in small.lcm_operations if o.artifact_path] == [
        "Scripts/start.sh"
    ]
    assert res.info["day0Files"] == ["Files/day0/fw-user-data.yaml"]
    assert "missingScripts" not in res.info
    sources = {i["name"]: i["userMetadata"]["imageSource"] for i in res.info["softwareImages"]}
    assert sources == {"ubuntu-22.04": "VIM", "acme-ctl": "PACKAGE"}


def test_hostile_world_variants_name_cause_file_and_line(tmp_path: Path) -> None:
    for case in world.hostile_world():
        err = refused(case.data, tmp_path)
        assert err.cause == case.cause, (case.name, err)
        assert (err.file, err.line) == (case.file or err.file, case.line or err.line), case.name
        assert case.detail in err.detail, (case.name, err)


def test_script_of_a_vendor_specific_vnfm_is_recorded_not_refused(tmp_path: Path) -> None:
    opts = world.Options(drop=("Scripts/start.sh",), vnfm_info="Tacker")
    res = analyse(world.edge_vnf(opts), tmp_path)
    assert res.info["missingScripts"] == [
        {
            "file": "../Scripts/start.sh",
            "namedIn": world.DF_SMALL,
            "line": world.line_of(world.edge_files()[world.DF_SMALL], "file: ../Scripts/start.sh"),
            "op": "Vnflcm.instantiate_start",
        },
        {
            "file": "../Scripts/start.sh",
            "namedIn": "Definitions/edge_df_large.yaml",
            "line": world.line_of(
                world.edge_files()["Definitions/edge_df_large.yaml"], "file: ../Scripts/start.sh"
            ),
            "op": "Vnflcm.instantiate_start",
        },
    ]


def test_root_relative_import_and_day0_file_beside_the_vnfd(tmp_path: Path) -> None:
    opts = world.Options(
        day0_path="fw-user-data.yaml",
        extra_imports=("Definitions/edge_extra.yaml",),  # root-relative import
        extra_files=(
            ("Definitions/edge_extra.yaml", b"tosca_definitions_version: tosca_simple_yaml_1_3\n"),
            ("Definitions/fw-user-data.yaml", b"#cloud-config\n"),
        ),
    )
    res = analyse(world.edge_vnf(opts), tmp_path)
    assert res.info["day0Files"] == ["Definitions/fw-user-data.yaml"]


def test_oversized_day0_file_is_refused(tmp_path: Path) -> None:
    big = b"#cloud-config\n" + b"#" * MAX_DAY0_BYTES
    opts = world.Options(extra_files=(("Files/day0/fw-user-data.yaml", big),))
    err = refused(world.edge_vnf(opts), tmp_path)
    assert (err.cause, err.file) == ("TOO_LARGE", world.DF_SMALL)
    assert err.line == world.line_of(world.edge_files()[world.DF_SMALL], "source_path:")


def test_uri_image_is_external(tmp_path: Path) -> None:
    files = world.edge_files()
    text = files[world.DF_SMALL].decode()
    files[world.DF_SMALL] = text.replace(
        "file: ../Files/images/ubuntu-22.04.qcow2",
        "file: https://images.example.com/ubuntu-22.04.qcow2",
    ).encode()
    files["edge.mf"] = world.manifest(
        {"vnf_provider_id": "ACME"},
        {k: v for k, v in files.items() if k not in ("edge.mf", "TOSCA-Metadata/TOSCA.meta")},
    )
    from nfvo.catalog.builder import pack

    res = analyse(pack(files), tmp_path)
    info = {i["name"]: i for i in res.info["softwareImages"]}["ubuntu-22.04"]
    assert info["imageUri"] == "https://images.example.com/ubuntu-22.04.qcow2"
    assert info["userMetadata"] == {"imageSource": "URI"}
