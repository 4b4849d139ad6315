"""CSAR reader: good packages in every format, and one hostile archive per refusal cause."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import stat
import tarfile
import time
import zipfile
from pathlib import Path

import pytest

from nfvo.catalog import csar as csar_mod
from nfvo.catalog.csar import Csar, CsarLimits, open_csar, open_members, sniff_format
from nfvo.catalog.errors import PackageError

TOP = b"tosca_definitions_version: tosca_simple_yaml_1_3\ndescription: test\n"
SCRIPT = b"#!/bin/sh\necho hello\n"
META = (
    b"TOSCA-Meta-File-Version: 1.0\n"
    b"CSAR-Version: 1.1\n"
    b"Created-By: tests\n"
    b"Entry-Definitions: Definitions/top.yaml\n"
)


def sha(data: bytes, algo: str = "sha256") -> str:
    return hashlib.new(algo, data).hexdigest()


def manifest_for(entries: list[tuple[str, str, str]], extra: str = "") -> bytes:
    head = (
        "metadata:\n  vnf_provider_id: Acme\n  vnf_product_name: Demo\n"
        "  vnf_release_date_time: 2024-01-01T00:00:00+00:00\n  vnf_package_version: 1.0\n\n"
    )
    blocks = "\n".join(f"Source: {p}\nAlgorithm: {a}\nHash: {h}\n" for p, a, h in entries)
    return (head + blocks + extra).encode()


def package(meta_extra: bytes = b"", manifest: bytes | None = None, **more: bytes) -> dict:
    """A small valid VNF package (as files) with a manifest hashing Scripts/install.sh."""
    files = {
        "TOSCA-Metadata/TOSCA.meta": META + b"ETSI-Entry-Manifest: manifest.mf\n" + meta_extra,
        "Definitions/top.yaml": TOP,
        "Scripts/install.sh": SCRIPT,
        "manifest.mf": manifest
        if manifest is not None
        else manifest_for([("Scripts/install.sh", "SHA-256", sha(SCRIPT))]),
    }
    files.update({k.replace("__", "/"): v for k, v in more.items()})
    return files


def write_zip(path: Path, files, compression: int = zipfile.ZIP_DEFLATED) -> Path:
    items = files.items() if isinstance(files, dict) else files
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in items:
            if isinstance(name, zipfile.ZipInfo):
                zf.writestr(name, data)
            else:
                zf.writestr(name, data)
    return path


def tar_entries(files: dict) -> list[tuple[tarfile.TarInfo, bytes | None]]:
    out = []
    for name, data in files.items():
        info = tarfile.TarInfo(name)
        info.size = len(data)
        out.append((info, data))
    return out


def write_tar(path: Path, entries, gz: bool = False) -> Path:
    with tarfile.open(path, "w:gz" if gz else "w", format=tarfile.PAX_FORMAT) as tf:
        for info, data in entries:
            tf.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def refused(path: Path, cause: str, named: str | None = None, limits: CsarLimits | None = None):
    with pytest.raises(PackageError) as info:
        open_csar(path, limits or CsarLimits())
    err = info.value
    assert err.cause == cause, err.message()
    if named is not None:
        assert named in err.message(), err.message()
    return err


# ----------------------------------------------------------------- good packages


def test_zip_package_opens_and_verifies(tmp_path):
    path = write_zip(tmp_path / "p.zip", package())
    with open_csar(path) as pkg:
        assert isinstance(pkg, Csar)
        assert pkg.format == "zip"
        assert pkg.entry_definitions == "Definitions/top.yaml"
        assert pkg.meta["Created-By"] == "tests"
        assert pkg.manifest_path == "manifest.mf"
        assert pkg.manifest is not None
        assert pkg.manifest.metadata["vnf_provider_id"] == "Acme"
        assert pkg.manifest.kind == "vnf"
        (art,) = pkg.artifacts
        assert (art.path, art.algorithm, art.hash, art.size) == (
            "Scripts/install.sh",
            "SHA-256",
            sha(SCRIPT),
            len(SCRIPT),
        )
        assert sorted(pkg) == sorted(package())
        assert len(pkg) == 4
        assert pkg["Definitions/top.yaml"] == TOP
        assert pkg.read_text("Definitions/top.yaml") == TOP.decode()
        assert pkg.size("Scripts/install.sh") == len(SCRIPT)
        with pkg.open("Scripts/install.sh") as stream:
            assert stream.read(5) == SCRIPT[:5]
            assert stream.read() == SCRIPT[5:]
        with pytest.raises(KeyError):
            pkg["nope"]


@pytest.mark.parametrize("fmt", ["tar", "tar.gz"])
def test_tar_formats_open_and_verify(tmp_path, fmt):
    path = write_tar(tmp_path / "pkg.bin", tar_entries(package()), gz=fmt == "tar.gz")
    assert sniff_format(path) == fmt
    with open_csar(path) as pkg:
        assert pkg.format == fmt
        assert pkg["Scripts/install.sh"] == SCRIPT
        assert [a.path for a in pkg.artifacts] == ["Scripts/install.sh"]


def test_sniffing_ignores_the_file_name(tmp_path):
    tgz = write_tar(tmp_path / "looks.zip", tar_entries(package()), gz=True)
    zipped = write_zip(tmp_path / "looks.tar.gz", package())
    assert sniff_format(tgz) == "tar.gz"
    assert sniff_format(zipped) == "zip"


def test_all_algorithms_external_sources_non_mano_and_cms(tmp_path):
    other = b"data: 1\n"
    extra = (
        "\nSource: https://example.com/images/big.qcow2\nAlgorithm: SHA-256\nHash: "
        + "0" * 64
        + "\n\nnon_mano_artifact_sets:\n  onap_ves_events:\n    Source: Files/ves.yaml\n"
        "\n-----BEGIN CMS-----\nMIIBdummy\n-----END CMS-----\n"
    )
    mf = manifest_for(
        [
            ("Scripts/install.sh", "SHA-256", sha(SCRIPT)),
            ("Files/ves.yaml", "sha384", sha(other, "sha384")),
            ("Definitions/top.yaml", "SHA512", sha(TOP, "sha512").upper()),
        ],
        extra,
    )
    path = write_zip(tmp_path / "p.zip", package(manifest=mf, **{"Files__ves.yaml": other}))
    with open_csar(path) as pkg:
        algos = [(a.path, a.algorithm, a.external) for a in pkg.artifacts]
        assert algos == [
            ("Scripts/install.sh", "SHA-256", False),
            ("Files/ves.yaml", "SHA-384", False),
            ("Definitions/top.yaml", "SHA-512", False),
            ("https://example.com/images/big.qcow2", "SHA-256", True),
        ]
        assert pkg.manifest.non_mano == {"onap_ves_events": ["Files/ves.yaml"]}
        assert pkg.manifest.cms_signature.startswith("-----BEGIN CMS-----")


def test_root_yaml_layout_with_matching_manifest(tmp_path):
    root = b"tosca_definitions_version: tosca_simple_yaml_1_3\nmetadata:\n  template_name: x\n"
    root += b"  template_version: '1.0'\n"
    files = {
        "VNF.yaml": root,
        "VNF.mf": manifest_for([("Scripts/install.sh", "SHA-256", sha(SCRIPT))]),
        "Scripts/install.sh": SCRIPT,
    }
    with open_csar(write_zip(tmp_path / "p.zip", files)) as pkg:
        assert pkg.meta == {}
        assert pkg.entry_definitions == "VNF.yaml"
        assert pkg.manifest_path == "VNF.mf"
        assert len(pkg.artifacts) == 1


def test_tosca_meta_name_blocks_and_etsi_keys(tmp_path):
    meta = (
        b"ETSI-Entry-Change-Log: ChangeLog.txt\nETSI-Entry-Licenses: Licenses\n\n"
        b"Name: Scripts/install.sh\nContent-Type: text/x-sh\nAlgorithm: SHA-256\nHash: "
        + sha(SCRIPT).encode()
        + b"\n\nName: Definitions/top.yaml\nContent-type: application/yaml\n"
    )
    files = package(meta_extra=meta, Licenses__LICENSE=b"Apache\n")
    files["ChangeLog.txt"] = b"v1\n"
    with open_csar(write_zip(tmp_path / "p.zip", files)) as pkg:
        assert pkg.meta["ETSI-Entry-Change-Log"] == "ChangeLog.txt"
        # Scripts/install.sh is in the manifest and in TOSCA.meta: one merged entry
        assert [(a.path, a.algorithm, a.content_type, a.origin) for a in pkg.artifacts] == [
            ("Scripts/install.sh", "SHA-256", "text/x-sh", "manifest"),
            ("Definitions/top.yaml", None, "application/yaml", "tosca_meta"),
        ]


def test_csar_is_a_context_manager_and_closes_the_handle(tmp_path):
    pkg = open_csar(write_zip(tmp_path / "p.zip", package()))
    with pkg:
        assert pkg["Scripts/install.sh"] == SCRIPT
    with pytest.raises(ValueError):
        pkg["Scripts/install.sh"]


def test_tar_gz_random_access_across_checkpoints(tmp_path, monkeypatch):
    monkeypatch.setattr(csar_mod, "_CHECKPOINT_EVERY", 256 * 1024)
    blob = os.urandom(3 << 20)
    files = package(**{"Files__blob.bin": blob})
    path = write_tar(tmp_path / "p.tgz", tar_entries(files), gz=True)
    with open_csar(path) as pkg:
        assert pkg["Files/blob.bin"] == blob
        with pkg.open("Files/blob.bin") as stream:
            assert stream.read(1000) == blob[:1000]
        assert pkg["TOSCA-Metadata/TOSCA.meta"] == files["TOSCA-Metadata/TOSCA.meta"]
        assert hashlib.sha256(pkg["Files/blob.bin"]).digest() == hashlib.sha256(blob).digest()


def test_per_member_ratio_in_tar_gz(tmp_path):
    files = package(
        **{"Files__noise.bin": os.urandom(3 << 20), "Files__zeros.img": bytes(12 << 20)}
    )
    path = write_tar(tmp_path / "p.tgz", tar_entries(files), gz=True)
    refused(path, "COMPRESSION_BOMB", "Files/zeros.img")  # overall ratio stays low


def test_crlf_and_missing_blank_lines_in_manifest(tmp_path):
    mf = (
        "Source: Scripts/install.sh\r\nAlgorithm: SHA-256\r\nHash: " + sha(SCRIPT) + "\r\n"
        "Source: Definitions/top.yaml\r\nAlgorithm: SHA-256\r\nHash: " + sha(TOP)
    ).encode()
    with open_csar(write_zip(tmp_path / "p.zip", package(manifest=mf))) as pkg:
        assert [a.path for a in pkg.artifacts] == ["Scripts/install.sh", "Definitions/top.yaml"]


# ----------------------------------------------------------------- hostile archives


@pytest.mark.parametrize(
    "evil",
    ["../evil.sh", "Definitions/../../evil.sh", "/etc/passwd", "..\\..\\evil.sh", "C:/evil.sh"],
)
def test_zip_path_traversal(tmp_path, evil):
    files = list(package().items()) + [(evil, b"x")]
    refused(write_zip(tmp_path / "p.zip", files), "PATH_TRAVERSAL", evil)


@pytest.mark.parametrize("evil", ["../evil.sh", "/abs/evil.sh"])
def test_tar_path_traversal(tmp_path, evil):
    entries = tar_entries(package()) + tar_entries({evil: b"x"})
    refused(write_tar(tmp_path / "p.tar", entries), "PATH_TRAVERSAL", evil)


@pytest.mark.parametrize(
    "kind,linkname",
    [
        (tarfile.SYMTYPE, "/etc/passwd"),
        (tarfile.LNKTYPE, "Scripts/install.sh"),
        (tarfile.CHRTYPE, ""),
        (tarfile.BLKTYPE, ""),
        (tarfile.FIFOTYPE, ""),
    ],
)
def test_tar_unsafe_member_types(tmp_path, kind, linkname):
    info = tarfile.TarInfo("Files/special")
    info.type, info.linkname = kind, linkname
    entries = tar_entries(package()) + [(info, None)]
    refused(write_tar(tmp_path / "p.tar", entries, gz=True), "UNSAFE_MEMBER", "Files/special")


def test_zip_symlink_member(tmp_path):
    info = zipfile.ZipInfo("Files/link")
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    files = list(package().items()) + [(info, b"/etc/passwd")]
    refused(write_zip(tmp_path / "p.zip", files), "UNSAFE_MEMBER", "Files/link")


def test_zip_bomb_refused_without_inflating(tmp_path):
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, data in package().items():
            zf.writestr(name, data)
        with zf.open("Files/zeros.img", "w") as out:
            chunk = bytes(1 << 20)
            for _ in range(100):
                out.write(chunk)
    start = time.perf_counter()
    refused(path, "COMPRESSION_BOMB", "Files/zeros.img")
    assert time.perf_counter() - start < 0.5


def test_gzip_bomb_refused_early(tmp_path):
    path = tmp_path / "bomb.tgz"
    info = tarfile.TarInfo("Files/zeros.img")
    info.size = 64 << 20
    with gzip.open(path, "wb", compresslevel=1) as gz:
        with tarfile.open(fileobj=gz, mode="w|") as tf:
            for entry, data in tar_entries(package()):
                tf.addfile(entry, io.BytesIO(data))
            tf.addfile(info, io.BytesIO(bytes(info.size)))
    start = time.perf_counter()
    refused(path, "COMPRESSION_BOMB", "Files/zeros.img")
    assert time.perf_counter() - start < 0.5


def _patch_zip_size(data: bytearray, name: bytes, new_size: int) -> None:
    """Rewrite the uncompressed size of ``name`` in its local and central headers."""
    pos = 0
    while (pos := data.find(b"PK\x03\x04", pos)) >= 0:
        n = int.from_bytes(data[pos + 26 : pos + 28], "little")
        if data[pos + 30 : pos + 30 + n] == name:
            data[pos + 22 : pos + 26] = new_size.to_bytes(4, "little")
        pos += 4
    pos = 0
    while (pos := data.find(b"PK\x01\x02", pos)) >= 0:
        n = int.from_bytes(data[pos + 28 : pos + 30], "little")
        if data[pos + 46 : pos + 46 + n] == name:
            data[pos + 24 : pos + 28] = new_size.to_bytes(4, "little")
        pos += 4


def _lying_zip(tmp_path: Path, meta_extra: bytes = b"") -> Path:
    payload = bytes(8 << 20)  # 8 MiB of zeros, declared as 64 KiB
    files = package(meta_extra=meta_extra, **{"Files__disk.img": payload})
    raw = bytearray(write_zip(tmp_path / "tmp.zip", files).read_bytes())
    _patch_zip_size(raw, b"Files/disk.img", 64 * 1024)
    path = tmp_path / "lying.zip"
    path.write_bytes(bytes(raw))
    return path


def test_lying_zip_header_refused_at_open(tmp_path):
    # every member is inflated once at open, so a lie is refused before the package is used
    refused(_lying_zip(tmp_path), "COMPRESSION_BOMB", "Files/disk.img")


def test_lying_zip_header_caught_while_inflating(tmp_path):
    path = _lying_zip(tmp_path)
    with open_members(path) as pkg:  # declared sizes look harmless
        assert pkg.size("Files/disk.img") == 64 * 1024
        with pytest.raises(PackageError) as info:
            pkg["Files/disk.img"]
        assert info.value.cause == "COMPRESSION_BOMB"
        assert info.value.file == "Files/disk.img"
        with pytest.raises(PackageError):
            pkg.open("Files/disk.img").read()
        with pytest.raises(PackageError):
            b"".join(pkg.stream("Files/disk.img", 10, 20_000_000))


def test_lying_zip_header_caught_while_hashing(tmp_path):
    digest = hashlib.sha256(bytes(8 << 20)).hexdigest().encode()
    meta = b"\nName: Files/disk.img\nAlgorithm: SHA-256\nHash: " + digest + b"\n"
    refused(_lying_zip(tmp_path, meta), "COMPRESSION_BOMB", "Files/disk.img")


def test_zip_duplicate_names(tmp_path):
    files = list(package().items()) + [("Scripts/install.sh", b"evil")]
    with pytest.warns(UserWarning):
        path = write_zip(tmp_path / "p.zip", files)
    refused(path, "DUPLICATE_MEMBER", "Scripts/install.sh")


def test_zip_duplicate_after_normalisation(tmp_path):
    files = list(package().items()) + [("./Scripts//install.sh", b"evil")]
    refused(write_zip(tmp_path / "p.zip", files), "DUPLICATE_MEMBER", "Scripts/install.sh")


def test_tar_duplicate_names(tmp_path):
    entries = tar_entries(package()) + tar_entries({"Definitions/top.yaml": b"evil"})
    refused(write_tar(tmp_path / "p.tar", entries), "DUPLICATE_MEMBER", "Definitions/top.yaml")


def _set_zip_flag(data: bytearray, name: bytes, bit: int) -> None:
    """Set a general-purpose flag bit of ``name`` in its local and central headers."""
    for sig, flag_at, len_at, name_at in ((b"PK\x03\x04", 6, 26, 30), (b"PK\x01\x02", 8, 28, 46)):
        pos = 0
        while (pos := data.find(sig, pos)) >= 0:
            n = int.from_bytes(data[pos + len_at : pos + len_at + 2], "little")
            if data[pos + name_at : pos + name_at + n] == name:
                data[pos + flag_at] |= bit
            pos += 4


def test_zip_encrypted_member(tmp_path):
    files = list(package().items()) + [("Files/secret.bin", b"ciphertext")]
    path = write_zip(tmp_path / "p.zip", files)
    raw = bytearray(path.read_bytes())
    _set_zip_flag(raw, b"Files/secret.bin", 0x1)
    path.write_bytes(bytes(raw))
    refused(path, "ENCRYPTED_MEMBER", "Files/secret.bin")


def test_zip_unsupported_compression(tmp_path):
    files = list(package().items())
    path = tmp_path / "p.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_BZIP2) as zf:
        for name, data in files:
            zf.writestr(name, data)
    refused(path, "UNSUPPORTED_COMPRESSION", "TOSCA.meta")


def test_truncated_zip(tmp_path):
    path = write_zip(tmp_path / "p.zip", package())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    refused(path, "CORRUPT_ARCHIVE")


def test_truncated_tar_gz(tmp_path):
    files = package(**{"Files__blob.bin": os.urandom(200_000)})
    path = write_tar(tmp_path / "p.tgz", tar_entries(files), gz=True)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 5000])
    refused(path, "CORRUPT_ARCHIVE", "truncated")


def test_truncated_plain_tar(tmp_path):
    files = package(**{"Files__blob.bin": os.urandom(200_000)})
    path = write_tar(tmp_path / "p.tar", tar_entries(files))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 30_000])
    refused(path, "CORRUPT_ARCHIVE")


def test_zip_bad_crc(tmp_path):
    path = write_zip(tmp_path / "p.zip", package(), compression=zipfile.ZIP_STORED)
    data = bytearray(path.read_bytes())
    at = data.find(b"Created-By: tests")
    data[at] ^= 0x20  # same length, different bytes: only the CRC notices
    path.write_bytes(bytes(data))
    refused(path, "CORRUPT_ARCHIVE", "TOSCA-Metadata/TOSCA.meta")


def test_wrong_hash(tmp_path):
    wrong = "0" * 64
    mf = manifest_for([("Scripts/install.sh", "SHA-256", wrong)])
    err = refused(write_zip(tmp_path / "p.zip", package(manifest=mf)), "HASH_MISMATCH")
    assert err.file == "Scripts/install.sh"
    assert wrong in err.detail and sha(SCRIPT) in err.detail


def test_unknown_algorithm(tmp_path):
    mf = manifest_for([("Scripts/install.sh", "MD5", "0" * 32)])
    refused(write_zip(tmp_path / "p.zip", package(manifest=mf)), "UNSUPPORTED_ALGORITHM", "MD5")


def test_missing_algorithm(tmp_path):
    mf = b"Source: Scripts/install.sh\nHash: " + sha(SCRIPT).encode() + b"\n"
    path = write_zip(tmp_path / "p.zip", package(manifest=mf))
    err = refused(path, "MISSING_ALGORITHM", "Scripts/install.sh")
    assert (err.file, err.line) == ("manifest.mf", 1)


def test_empty_algorithm(tmp_path):
    mf = b"Source: Scripts/install.sh\nAlgorithm:\nHash: " + sha(SCRIPT).encode() + b"\n"
    refused(write_zip(tmp_path / "p.zip", package(manifest=mf)), "EMPTY_VALUE", "install.sh")


def test_missing_hash(tmp_path):
    mf = b"Source: Scripts/install.sh\nAlgorithm: SHA-256\n"
    refused(write_zip(tmp_path / "p.zip", package(manifest=mf)), "MISSING_HASH", "install.sh")


def test_source_not_in_package(tmp_path):
    mf = manifest_for([("Scripts/missing.sh", "SHA-256", sha(SCRIPT))])
    path = write_zip(tmp_path / "p.zip", package(manifest=mf))
    refused(path, "SOURCE_NOT_FOUND", "Scripts/missing.sh")


def test_source_with_traversal(tmp_path):
    mf = manifest_for([("../outside.sh", "SHA-256", sha(SCRIPT))])
    refused(write_zip(tmp_path / "p.zip", package(manifest=mf)), "PATH_TRAVERSAL", "../outside")


def test_manifest_named_in_meta_missing(tmp_path):
    files = package()
    del files["manifest.mf"]
    refused(write_zip(tmp_path / "p.zip", files), "MISSING_FILE", "manifest.mf")


def test_entry_definitions_missing(tmp_path):
    files = package()
    del files["Definitions/top.yaml"]
    refused(write_zip(tmp_path / "p.zip", files), "MISSING_FILE", "Definitions/top.yaml")


def test_two_root_yamls(tmp_path):
    files = {"a.yaml": TOP, "b.yml": TOP}
    refused(write_zip(tmp_path / "p.zip", files), "AMBIGUOUS_ENTRY", "b.yml")


def test_manifest_name_mismatch(tmp_path):
    root = b"tosca_definitions_version: x\nmetadata: {template_name: a, template_version: 1}\n"
    files = {"VNF.yaml": root, "VNF1.mf": manifest_for([])}
    refused(write_zip(tmp_path / "p.zip", files), "MANIFEST_NAME_MISMATCH", "VNF1.mf")


def test_no_entry_definitions(tmp_path):
    refused(write_zip(tmp_path / "p.zip", {"README": b"hi"}), "NO_ENTRY_DEFINITIONS")


def test_tosca_meta_garbage(tmp_path):
    files = package()
    files["TOSCA-Metadata/TOSCA.meta"] = b"this is not a meta file\n{[]}\n"
    refused(write_zip(tmp_path / "p.zip", files), "INVALID_TOSCA_META", "TOSCA.meta")


def test_tosca_meta_missing_key(tmp_path):
    files = package()
    files["TOSCA-Metadata/TOSCA.meta"] = META.replace(b"CSAR-Version: 1.1\n", b"")
    refused(write_zip(tmp_path / "p.zip", files), "MISSING_META_KEY", "CSAR-Version")


def test_tosca_meta_not_utf8(tmp_path):
    files = package()
    files["TOSCA-Metadata/TOSCA.meta"] = META.replace(b"tests", b"t\xe9sts")
    err = refused(write_zip(tmp_path / "p.zip", files), "NOT_UTF8", "TOSCA-Metadata/TOSCA.meta")
    assert err.line == 3


def test_manifest_not_utf8(tmp_path):
    mf = manifest_for([("Scripts/install.sh", "SHA-256", sha(SCRIPT))]).replace(b"Acme", b"\xff")
    refused(write_zip(tmp_path / "p.zip", package(manifest=mf)), "NOT_UTF8", "manifest.mf")


def test_too_many_members(tmp_path):
    files = package(**{f"Files__f{i}": b"x" for i in range(10)})
    path = write_zip(tmp_path / "p.zip", files)
    refused(path, "TOO_MANY_MEMBERS", limits=CsarLimits(max_members=8))
    tar = write_tar(tmp_path / "p.tar", tar_entries(files))
    refused(tar, "TOO_MANY_MEMBERS", limits=CsarLimits(max_members=8))


def test_package_too_large(tmp_path):
    path = write_zip(tmp_path / "p.zip", package())
    refused(path, "PACKAGE_TOO_LARGE", limits=CsarLimits(max_package_bytes=100))


def test_member_too_large(tmp_path):
    path = write_zip(tmp_path / "p.zip", package(Files__big=os.urandom(5000)))
    refused(path, "TOO_LARGE", "Files/big", limits=CsarLimits(max_file_bytes=4000))


def test_total_too_large(tmp_path):
    files = package(**{f"Files__f{i}": os.urandom(3000) for i in range(4)})
    path = write_tar(tmp_path / "p.tar", tar_entries(files))
    refused(path, "TOO_LARGE", limits=CsarLimits(max_total_bytes=10_000))


def test_text_file_too_large(tmp_path):
    files = package()
    files["TOSCA-Metadata/TOSCA.meta"] += b"# padding\n" * 200
    refused(
        write_zip(tmp_path / "p.zip", files),
        "TOO_LARGE",
        "TOSCA.meta",
        CsarLimits(max_text_bytes=1000),
    )


def test_not_an_archive(tmp_path):
    path = tmp_path / "p.zip"
    path.write_bytes(b"This is an invalid CSAR file.")
    refused(path, "NOT_AN_ARCHIVE")
    gz = tmp_path / "p.tgz"
    gz.write_bytes(gzip.compress(b"plain text, not a tar" * 50))
    refused(gz, "NOT_AN_ARCHIVE")
    with pytest.raises(PackageError):
        sniff_format(path)
