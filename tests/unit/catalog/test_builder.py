"""CSAR builder: manifest rehashing, deterministic archives, zip/tar/tar.gz, meta-less packages."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import re
import shutil
import tarfile
import zipfile
from pathlib import Path

import pytest

from nfvo.catalog.builder import (
    build_csar,
    build_csar_from_files,
    pack,
    read_package_dir,
    refresh_manifest,
    split_manifest,
    write_manifest,
)
from nfvo.samples import sample_dir, sample_names

ENTRY = re.compile(r"Source: (\S+)\nAlgorithm: (\S+)\nHash: ([0-9a-f]+)\n")


def _members(data: bytes, fmt: str) -> dict[str, bytes]:
    if fmt == "zip":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return {info.filename: archive.read(info) for info in archive.infolist()}
    raw = gzip.decompress(data) if fmt == "tar.gz" else data
    with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as archive:
        out = {}
        for info in archive.getmembers():
            assert info.isfile(), info.name
            extracted = archive.extractfile(info)
            assert extracted is not None
            out[info.name] = extracted.read()
        return out


def _entries(manifest: bytes) -> dict[str, tuple[str, str]]:
    return {src: (alg, digest) for src, alg, digest in ENTRY.findall(manifest.decode())}


@pytest.mark.parametrize("name", ["vnf-web", "vnf-db", "ns-webapp"])
def test_built_manifest_hashes_every_other_file_correctly(name: str) -> None:
    members = _members(build_csar(sample_dir(name)), "zip")
    manifest_name = f"{name}.mf"
    entries = _entries(members[manifest_name])
    expected = set(members) - {manifest_name, "TOSCA-Metadata/TOSCA.meta"}
    assert set(entries) == expected
    for path, (algorithm, digest) in entries.items():
        assert algorithm == "SHA-256"
        assert hashlib.sha256(members[path]).hexdigest() == digest, path


def test_metadata_and_non_mano_sets_are_kept_as_written() -> None:
    members = _members(build_csar(sample_dir("vnf-web")), "zip")
    text = members["vnf-web.mf"].decode()
    assert text.startswith("metadata:\n  vnf_provider_id: nfvo.example\n")
    assert "  vnf_product_name: web-frontend\n" in text
    assert text.rstrip().endswith(
        "non_mano_artifact_sets:\n  prometheus_rule:\n    Source: Files/monitoring/web-alerts.yaml"
    )


def test_stale_entries_are_replaced_and_signature_dropped() -> None:
    files = {
        "TOSCA-Metadata/TOSCA.meta": b"TOSCA-Meta-File-Version: 1.0\nCSAR-Version: 1.1\n"
        b"Entry-Definitions: Definitions/a.yaml\nETSI-Entry-Manifest: m.mf\n",
        "Definitions/a.yaml": b"tosca_definitions_version: tosca_simple_yaml_1_3\n",
        "m.mf": b"metadata:\n  vnf_provider_id: x\n\nSource: Definitions/a.yaml\n"
        b"Algorithm: SHA-256\nHash: 00\n\nSource: gone.txt\nAlgorithm: SHA-256\nHash: 11\n\n"
        b"-----BEGIN CMS-----\nMIIB\n-----END CMS-----\n",
    }
    out = refresh_manifest(files)
    text = out["m.mf"].decode()
    assert _entries(out["m.mf"]) == {
        "Definitions/a.yaml": ("SHA-256", hashlib.sha256(files["Definitions/a.yaml"]).hexdigest())
    }
    assert "CMS" not in text and "gone.txt" not in text
    assert text.startswith("metadata:\n  vnf_provider_id: x\n\nSource:")


@pytest.mark.parametrize(("algorithm", "length"), [("SHA-384", 96), ("SHA-512", 128)])
def test_other_algorithms(algorithm: str, length: int) -> None:
    members = _members(build_csar(sample_dir("vnf-db"), algorithm=algorithm), "zip")
    entries = _entries(members["vnf-db.mf"])
    assert entries and all(a == algorithm and len(h) == length for a, h in entries.values())
    name = algorithm.replace("-", "").lower()
    path = "Definitions/vnf_db_top.vnfd.yaml"
    assert hashlib.new(name, members[path]).hexdigest() == entries[path][1]


def test_unknown_algorithm_is_refused() -> None:
    with pytest.raises(ValueError, match="SHA-255"):
        build_csar(sample_dir("vnf-db"), algorithm="SHA-255")


@pytest.mark.parametrize("fmt", ["zip", "tar", "tar.gz"])
def test_output_is_deterministic_across_copies_and_mtimes(fmt: str, tmp_path: Path) -> None:
    first = build_csar(sample_dir("vnf-web"), fmt=fmt)
    copy = tmp_path / "vnf-web"
    shutil.copytree(sample_dir("vnf-web"), copy)
    for path in copy.rglob("*"):
        os.utime(path, (1_000_000_000, 1_000_000_000))
        if path.is_file():
            path.chmod(0o600)
    assert build_csar(copy, fmt=fmt) == first
    assert build_csar(sample_dir("vnf-web"), fmt=fmt) == first


def test_formats_hold_the_same_files() -> None:
    contents = {fmt: _members(build_csar(sample_dir("vnf-web"), fmt=fmt), fmt) for fmt in
                ("zip", "tar", "tar.gz")}  # fmt: skip
    assert contents["zip"] == contents["tar"] == contents["tar.gz"]
    assert next(iter(contents["zip"])) == "TOSCA-Metadata/TOSCA.meta"
    assert list(contents["zip"])[1:] == sorted(list(contents["zip"])[1:])


def test_archive_metadata_is_fixed() -> None:
    targz = build_csar(sample_dir("ns-webapp"), fmt="tar.gz")
    assert targz[:2] == b"\x1f\x8b" and targz[4:8] == b"\x00\x00\x00\x00"  # gzip mtime 0
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(targz))) as archive:
        for info in archive.getmembers():
            assert (info.mtime, info.uid, info.gid, info.mode) == (0, 0, 0, 0o644)
    with zipfile.ZipFile(io.BytesIO(build_csar(sample_dir("ns-webapp")))) as archive:
        for info in archive.infolist():
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert info.compress_type == zipfile.ZIP_DEFLATED


def test_meta_less_package_uses_root_manifest() -> None:
    files = {
        "vnf.yaml": b"tosca_definitions_version: tosca_simple_yaml_1_3\n",
        "vnf.mf": b"metadata:\n  vnf_provider_id: acme\n",
        "vnf.cert": b"-----BEGIN CERTIFICATE-----\n",
        "Files/readme.txt": b"hello\n",
    }
    members = _members(build_csar_from_files(files, fmt="tar"), "tar")
    entries = _entries(members["vnf.mf"])
    assert set(entries) == {"vnf.yaml", "Files/readme.txt"}
    assert entries["Files/readme.txt"][1] == hashlib.sha256(b"hello\n").hexdigest()
    assert "TOSCA-Metadata/TOSCA.meta" not in members


def test_package_without_manifest_is_archived_unchanged() -> None:
    files = {"a.yaml": b"x: 1\n", "b/c.txt": b"c"}
    assert refresh_manifest(files) == files
    assert _members(build_csar_from_files(files), "zip") == files


def test_refresh_false_keeps_files_verbatim() -> None:
    files = read_package_dir(sample_dir("vnf-db"))
    files["vnf-db.mf"] = b"metadata:\n  vnf_provider_id: nfvo.example\n"
    assert _members(build_csar_from_files(files, refresh=False), "zip") == files


@pytest.mark.parametrize("bad", ["../x", "/etc/x", "a\\..\\b", ""])
def test_pack_refuses_unsafe_member_names(bad: str) -> None:
    with pytest.raises(ValueError, match="unsafe"):
        pack({bad: b"x"})


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="rar"):
        pack({"a": b""}, fmt="rar")


def test_split_manifest_sections() -> None:
    head, non_mano = split_manifest(
        "metadata:\n  a: 1\n\nSource: x\nAlgorithm: SHA-256\nHash: 00\n\n"
        "non_mano_artifact_sets:\n  set1:\n    Source: x\n"
    )
    assert head == ["metadata:", "  a: 1"]
    assert non_mano == ["non_mano_artifact_sets:", "  set1:", "    Source: x"]


@pytest.mark.parametrize("name", sample_names())
def test_committed_sample_manifests_are_current(name: str) -> None:
    """The folders themselves carry correct hashes (a plain `zip -r` of one is valid too)."""
    files = read_package_dir(sample_dir(name))
    manifest = f"{name}.mf"
    assert refresh_manifest(files)[manifest] == files[manifest], (
        f"run nfvo.catalog.builder.write_manifest on the {name} sample"
    )


def test_write_manifest_in_place(tmp_path: Path) -> None:
    copy = tmp_path / "pkg"
    shutil.copytree(sample_dir("vnf-db"), copy)
    (copy / "Files" / "extra.txt").write_bytes(b"new file\n")
    written = write_manifest(copy)
    assert written == copy / "vnf-db.mf"
    entries = _entries(written.read_bytes())
    assert entries["Files/extra.txt"][1] == hashlib.sha256(b"new file\n").hexdigest()
