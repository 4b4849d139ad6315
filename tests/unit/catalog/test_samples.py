"""The shipped sample packages open, verify and parse to the values they were designed with;
the hostile corpus is well formed (each case a real variant of the good package)."""

from __future__ import annotations

import hashlib
import io
import time
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest
from tests.fixtures import PACKAGES_DIR
from tests.fixtures.hostile import HostileCase, good_csar, hostile_corpus

from nfvo.catalog.csar import open_csar
from nfvo.catalog.descriptors import build_descriptor
from nfvo.samples import (
    NSD_WEBAPP_ID,
    NSD_WEBAPP_INVARIANT_ID,
    SAMPLES_DIR,
    VNF_DB_ID,
    VNF_WEB_ID,
    build_sample,
    sample_dir,
    sample_kind,
    sample_names,
)


def _open(name: str, tmp_path: Path, fmt: str = "zip") -> tuple[dict[str, bytes], Any, str]:
    """(files, manifest, entry) of the sample, read back through the CSAR reader."""
    path = tmp_path / f"{name}.{fmt}"
    path.write_bytes(build_sample(name, fmt))
    with open_csar(path) as csar:
        return {k: csar[k] for k in csar}, csar.manifest, csar.entry_definitions


def _descriptor(name: str, tmp_path: Path) -> dict[str, Any]:
    files, _manifest, entry = _open(name, tmp_path)
    return build_descriptor(files, entry).model_dump(mode="json")


def _flavour(desc: dict[str, Any], flavour_id: str) -> dict[str, Any]:
    return next(f for f in desc["flavours"] if f["flavour_id"] == flavour_id)


def _by_id(items: list[dict[str, Any]], ident: str) -> dict[str, Any]:
    return next(i for i in items if i["id"] == ident)


def test_sample_names_put_vnf_packages_first() -> None:
    names = sample_names()
    assert set(names) == {"vnf-web", "vnf-db", "ns-webapp"}
    assert names[-1] == "ns-webapp"
    assert [sample_kind(n) for n in names] == ["vnf", "vnf", "ns"]
    assert PACKAGES_DIR.resolve() == SAMPLES_DIR


def test_unknown_sample_name_is_refused() -> None:
    for bad in ("nope", "../samples", ""):
        with pytest.raises(KeyError):
            sample_dir(bad)


@pytest.mark.parametrize("fmt", ["zip", "tar", "tar.gz"])
@pytest.mark.parametrize("name", ["vnf-web", "vnf-db", "ns-webapp"])
def test_samples_open_and_verify(name: str, fmt: str, tmp_path: Path) -> None:
    files, manifest, entry = _open(name, tmp_path, fmt)
    assert entry in files and entry.startswith("Definitions/")
    assert manifest is not None
    assert {"ChangeLog.txt", "Licenses/LICENSE", f"{name}.mf"} <= set(files)
    if name == "ns-webapp":
        assert manifest.metadata == {
            "nsd_designer": "nfvo.example",
            "nsd_invariant_id": NSD_WEBAPP_INVARIANT_ID,
            "nsd_name": "webapp",
            "nsd_release_date_time": "2026-01-20T09:00:00+00:00",
            "nsd_file_structure_version": "1.0.0",
        }
    else:
        assert set(manifest.metadata) == {
            "vnf_provider_id",
            "vnf_product_name",
            "vnf_release_date_time",
            "vnf_package_version",
        }
        assert manifest.metadata["vnf_provider_id"] == "nfvo.example"


def test_vnf_web_descriptor(tmp_path: Path) -> None:
    d = _descriptor("vnf-web", tmp_path)
    assert (d["vnfd_id"], d["provider"], d["product_name"]) == (
        VNF_WEB_ID,
        "nfvo.example",
        "web-frontend",
    )
    assert sorted(f["flavour_id"] for f in d["flavours"]) == ["large", "small"]
    for flavour_id, max_level, web_max in (("small", 2, 3), ("large", 5, 7)):
        f = _flavour(d, flavour_id)
        aspect = _by_id(f["scaling_aspects"], "web_scale")
        assert aspect["max_scale_level"] == max_level
        web, cache = _by_id(f["vdus"], "web"), _by_id(f["vdus"], "cache")
        assert (web["vcpu_count"], web["virtual_memory_mib"], web["root_disk_gib"]) == (2, 2048, 10)
        assert (cache["vcpu_count"], cache["virtual_memory_mib"]) == (1, 1024)
        assert web["max_number_of_instances"] == web_max
        assert web["initial_delta"] + max_level == web_max  # one instance per scaling step
        assert {lv["id"] for lv in f["instantiation_levels"]} == {"default", "high"}
        assert {(r["kind"], r["scope"], tuple(r["targets"])) for r in f["placement_rules"]} == {
            ("anti_affinity", "nfvi_node", ("web",))
        }
        assert [r["port_range_min"] for r in f["security_group_rules"]] == [80]
        assert {c["requirement"] for c in f["ext_cps"]} == {"mgmt_ext", "data_ext"}
        assert {vl["id"] for vl in f["virtual_links"]} == {"mgmt_int_vl", "data_int_vl"}
        assert [(o["name"], o["artifact_path"]) for o in f["lcm_operations"]] == [
            ("instantiate", "Scripts/instantiate.sh")
        ]


def test_vnf_web_artifacts_are_consistent(tmp_path: Path) -> None:
    files, _m, entry = _open("vnf-web", tmp_path)
    d = build_descriptor(files, entry).model_dump(mode="json")
    web = _by_id(_flavour(d, "small")["vdus"], "web")
    image = web["sw_image"]
    assert image["name"] == "web-img" and image["file"] in files
    assert image["checksum_hash"] == hashlib.sha256(files[image["file"]]).hexdigest()
    assert image["size_bytes"] == len(files[image["file"]])
    boot = web["boot_data"]["content_or_file_data"]
    assert boot["source_path"] in files
    assert boot["data"] == {"banner": "Welcome to the nfvo sample web application"}
    assert b"{{ banner }}" in files[boot["source_path"]]


def test_vnf_db_descriptor(tmp_path: Path) -> None:
    d = _descriptor("vnf-db", tmp_path)
    assert (d["vnfd_id"], d["product_name"]) == (VNF_DB_ID, "db-backend")
    assert sorted(f["flavour_id"] for f in d["flavours"]) == ["ha", "standard"]
    for flavour_id, max_level, volume_gib in (("standard", 1, 50), ("ha", 2, 200)):
        f = _flavour(d, flavour_id)
        (db,) = f["vdus"]
        assert (db["id"], db["vcpu_count"], db["virtual_memory_mib"]) == ("db", 4, 8192)
        assert _by_id(f["scaling_aspects"], "db_scale")["max_scale_level"] == max_level
        storages = [(s["id"], s["kind"], s["size_gib"]) for s in db["storages"]]
        assert storages == [("db_volume", "block", volume_gib)]
        assert [r["kind"] for r in f["placement_rules"]] == ["affinity"]
        assert {lv["id"] for lv in f["instantiation_levels"]} == {"default", "high"}


def _profiles(flavour: dict[str, Any]) -> dict[str, tuple[str, str, int, int]]:
    return {
        p["id"]: (
            p["vnfd_id"],
            p["flavour_id"],
            p["min_number_of_instances"],
            p["max_number_of_instances"],
        )
        for p in flavour["vnf_profiles"]
    }


def test_ns_webapp_descriptor(tmp_path: Path) -> None:
    d = _descriptor("ns-webapp", tmp_path)
    assert (d["nsd_id"], d["invariant_id"], d["name"], d["designer"]) == (
        NSD_WEBAPP_ID,
        NSD_WEBAPP_INVARIANT_ID,
        "webapp",
        "nfvo.example",
    )
    assert sorted(d["vnfd_ids"]) == sorted([VNF_WEB_ID, VNF_DB_ID])
    assert sorted(f["flavour_id"] for f in d["flavours"]) == ["default", "minimal"]
    f = _flavour(d, "default")
    assert _profiles(f) == {
        "vnf_web": (VNF_WEB_ID, "small", 1, 3),
        "vnf_db": (VNF_DB_ID, "standard", 1, 2),
    }
    assert sorted(vl["id"] for vl in f["virtual_links"]) == ["data_vl", "mgmt_vl"]
    assert [(s["id"], s["virtual_link"]) for s in f["saps"]] == [("web_sap", "data_vl")]
    assert _by_id(f["scaling_aspects"], "web_tier")["max_scale_level"] == 2
    assert {lv["id"] for lv in f["instantiation_levels"]} == {"default", "high"}
    assert f["dependencies"] == [{"primary": ["vnf_db"], "secondary": ["vnf_web"]}]


def test_ns_webapp_minimal_flavour(tmp_path: Path) -> None:
    f = _flavour(_descriptor("ns-webapp", tmp_path), "minimal")
    assert _profiles(f) == {
        "vnf_web": (VNF_WEB_ID, "small", 1, 1),
        "vnf_db": (VNF_DB_ID, "standard", 1, 1),
    }
    assert [vl["id"] for vl in f["virtual_links"]] == ["data_vl"]
    assert [(s["id"], s["virtual_link"]) for s in f["saps"]] == [("web_sap", "data_vl")]
    assert f["scaling_aspects"] == []
    assert [lv["id"] for lv in f["instantiation_levels"]] == ["default"]


# --------------------------------------------------------------------------- hostile corpus


@pytest.fixture(scope="module")
def corpus() -> list[HostileCase]:
    started = time.perf_counter()
    cases = hostile_corpus()
    assert time.perf_counter() - started < 10  # typically well under a second
    return cases


def test_corpus_has_many_distinct_cases(corpus: list[HostileCase]) -> None:
    names = [c.name for c in corpus]
    assert len(set(names)) == len(names) >= 34
    for case in corpus:
        assert case.causes and all(c.isupper() for c in case.causes), case.name
        assert case.kind in ("vnf", "ns") and case.note
    assert [c.name for c in corpus if c.kind == "ns"] == ["vnfd_not_onboarded"]


def test_every_case_differs_from_the_good_package(corpus: list[HostileCase]) -> None:
    good = {good_csar(fmt=f) for f in ("zip", "tar", "tar.gz")} | {good_csar("ns-webapp")}
    for case in corpus:
        assert case.data not in good, case.name


def test_bombs_are_what_they_claim(corpus: list[HostileCase]) -> None:
    by_name = {c.name: c for c in corpus}
    with zipfile.ZipFile(io.BytesIO(by_name["zip_bomb"].data)) as archive:
        info = archive.getinfo("Files/zeros.bin")
        assert info.file_size == 100 << 20 and info.compress_size < 1 << 20
    with zipfile.ZipFile(io.BytesIO(by_name["zip_bomb_lying_sizes"].data)) as archive:
        info = archive.getinfo("Files/zeros.bin")
        assert info.file_size == 1024 and info.compress_size > 50_000
    gz = by_name["gzip_bomb"].data
    head = zlib.decompressobj(31).decompress(gz, 1 << 16)
    assert b"TOSCA-Metadata/TOSCA.meta" in head and len(gz) < 1 << 20
    with zipfile.ZipFile(io.BytesIO(by_name["yaml_100mb"].data)) as archive:
        assert archive.getinfo("Definitions/vnf_web_top.vnfd.yaml").file_size > 100 << 20
    with zipfile.ZipFile(io.BytesIO(by_name["too_many_members"].data)) as archive:
        assert len(archive.infolist()) > 20_000


def test_corpus_can_be_written_to_a_folder(tmp_path: Path) -> None:
    cases = hostile_corpus(tmp_path)
    assert all(c.path is not None and c.path.read_bytes() == c.data for c in cases)
    assert cases[0].accepts(cases[0].causes[0]) and not cases[0].accepts("NOT_A_CAUSE")
