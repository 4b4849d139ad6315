"""CSAR reader against the external SOL004 sample corpus (real Tacker / tosca-parser packages)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from nfvo.catalog.csar import open_csar, sniff_format
from nfvo.catalog.errors import PackageError

ETSI = Path(__file__).resolve().parents[3] / ".." / "shared" / "etsi"
SOL004 = ETSI / "sol004"

# Tacker's rejection reasons (from the corpus' expected.json) -> our cause codes.
REASON_CAUSE = {
    "unknown hash algorithm": "UNSUPPORTED_ALGORITHM",
    "names a file that is not in the package": "SOURCE_NOT_FOUND",
    "lacks its Algorithm key": "MISSING_ALGORITHM",
    "empty Algorithm value": "EMPTY_VALUE",
    "hash does not match": "HASH_MISMATCH",
    "manifest named in TOSCA.meta does not exist": "MISSING_FILE",
    "manifest name does not match": "MANIFEST_NAME_MISMATCH",
}

# tosca-parser's broken CSARs -> the cause this reader gives.
BROKEN_TP = {
    "tp_csar_not_zip": "NOT_AN_ARCHIVE",
    "tp_csar_no_metadata_file": "MISSING_META_KEY",  # single root YAML without template_* metadata
    "tp_csar_wrong_metadata_file": "MISSING_META_KEY",
    "tp_csar_metadata_not_yaml": "INVALID_TOSCA_META",
    "tp_csar_missing_metadata": "MISSING_META_KEY",
    "tp_csar_invalid_entry_def": "MISSING_FILE",
    "tp_csar_two_root_level_yaml": "AMBIGUOUS_ENTRY",
}


@pytest.fixture(scope="session")
def samples(tmp_path_factory) -> tuple[Path, dict]:
    if not (SOL004 / "build_samples.py").is_file():
        pytest.skip(
            f"ETSI corpus not found at {ETSI}; place the shared/etsi folder beside the repo"
        )
    out = tmp_path_factory.mktemp("sol004")
    subprocess.run(
        [sys.executable, str(SOL004 / "build_samples.py"), str(out)],
        check=True,
        capture_output=True,
    )
    return out, json.loads((out / "expected.json").read_text())


def _archive(out: Path, name: str) -> Path:
    return out / (name + ".zip")


def test_onboardable_samples_open_and_verify(samples):
    out, expected = samples
    good = [name for name, exp in expected.items() if exp["onboard"]]
    assert len(good) >= 8
    for name in good:
        with open_csar(_archive(out, name)) as pkg:
            assert pkg.entry_definitions in pkg, name
            assert pkg[pkg.entry_definitions].lstrip().startswith(b"tosca_definitions_version")
            for art in pkg.artifacts:
                assert art.path in pkg, (name, art.path)
                assert art.size == pkg.size(art.path)


def test_tacker_rejections_have_matching_causes(samples):
    out, expected = samples
    checked = 0
    for name, exp in expected.items():
        if exp["onboard"] or name.startswith("tp_"):
            continue
        (cause,) = [c for key, c in REASON_CAUSE.items() if key in exp["reason"]]
        with pytest.raises(PackageError) as info:
            open_csar(_archive(out, name))
        assert info.value.cause == cause, (name, info.value.message())
        checked += 1
    assert checked >= 4


@pytest.mark.parametrize("name,cause", sorted(BROKEN_TP.items()))
def test_broken_tosca_parser_csars_fail_here(samples, name, cause):
    out, _ = samples
    with pytest.raises(PackageError) as info:
        open_csar(_archive(out, name))
    assert info.value.cause == cause, info.value.message()


def test_vnfpkgm1_records_all_tosca_meta_blocks(samples):
    out, _ = samples
    with open_csar(_archive(out, "vnfpkgm1")) as pkg:
        paths = [(a.path, a.algorithm) for a in pkg.artifacts]
    assert ("Files/kubernetes/deployment.yaml", "SHA-256") in paths
    assert ("Files/images/cirros-0.5.2-x86_64-disk.img", None) in paths


def test_tar_gz_variant_of_a_good_sample_opens(samples, tmp_path):
    out, _ = samples
    src = _archive(out, "vnfpkgm1")
    target = tmp_path / "vnfpkgm1.csar"
    with zipfile.ZipFile(src) as zf, tarfile.open(target, "w:gz") as tf:
        for info in zf.infolist():
            data = zf.read(info)
            entry = tarfile.TarInfo(info.filename)
            entry.size = len(data)
            tf.addfile(entry, io.BytesIO(data))
    assert sniff_format(target) == "tar.gz"
    with open_csar(target) as pkg, zipfile.ZipFile(src) as zf:
        assert sorted(pkg) == sorted(zf.namelist())
        assert len(pkg.artifacts) == 3  # install.sh is declared twice: listed once


def _tacker_tree(folder: str) -> dict[str, bytes]:
    """A Tacker test package as Tacker's own tests assemble it (folder + common/)."""
    base = SOL004 / "tacker"
    files: dict[str, bytes] = {}
    for root in (base / "tests-etsi-nfv" / "common", base / "tests-etsi-nfv" / folder):
        for p in sorted(root.rglob("*")):
            if p.is_file():
                files[p.relative_to(root).as_posix()] = p.read_bytes()
    for p in sorted((base / "vnf_packages" / "Definitions").glob("helloworld3*")):
        files.setdefault(f"Definitions/{p.name}", p.read_bytes())
    return files


@pytest.mark.parametrize(
    "folder,cause,named",
    [
        (
            "sample_vnf_package_csar_in_single_manifest_false_name",
            "MANIFEST_NAME_MISMATCH",
            "VNF1.mf",
        ),
        ("sample_vnf_package_csar_in_meta_and_manifest_false", "MISSING_FILE", "manifest.mf1"),
    ],
)
def test_tacker_negatives_left_out_by_the_builder(samples, tmp_path, folder, cause, named):
    path = tmp_path / "p.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in _tacker_tree(folder).items():
            zf.writestr(name, data)
    with pytest.raises(PackageError) as info:
        open_csar(path)
    assert info.value.cause == cause
    assert named in info.value.message()
