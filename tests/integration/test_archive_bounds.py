"""Archive members that lie about their size or CRC (issue 12, item 4).

A zip member whose central directory and local header claim 100 bytes but which inflates to
200 MB of zeros, or whose CRC is wrong, is refused at onboarding with a ProblemDetails naming
it, without a stored archive and without the server's memory growing; a tar.gz member that
inflates far beyond the ratio limit likewise. A well-formed package's artifacts are streamed
(whole, by Range, and as the artifacts ZIP). Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import io
import os
import struct
import tarfile
import zipfile
import zlib

import psutil
import pytest
from tests.support.live import LiveApi

from nfvo.catalog.builder import build_csar_from_files, read_package_dir
from nfvo.inventory.blobs import BlobRepository
from nfvo.samples import sample_dir

PKGS = "/vnfpkgm/v2/vnf_packages"
BOMB_BYTES = 200 << 20


def _deflate(data: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def _deflated_zeros(n: int) -> tuple[bytes, int]:
    """Raw deflate of ``n`` zero bytes (small: ~1000:1) and their CRC-32."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = bytes(1 << 20)
    out, crc = [], 0
    for _ in range(n >> 20):
        out.append(c.compress(block))
        crc = zlib.crc32(block, crc)
    out.append(c.flush())
    return b"".join(out), crc


def raw_zip(members: list[tuple[str, bytes, int, int]]) -> bytes:
    """A zip written by hand: (name, deflated data, declared CRC, declared size) per member,
    the same (possibly false) values in the local header and the central directory."""
    body, central = io.BytesIO(), io.BytesIO()
    for name, data, crc, size in members:
        offset = body.tell()
        raw = name.encode()
        fields = (20, 0, 8, 0, 0x21, crc, len(data), size, len(raw), 0)
        body.write(b"PK\x03\x04" + struct.pack("<HHHHHIIIHH", *fields) + raw + data)
        central.write(
            b"PK\x01\x02"
            + struct.pack("<HHHHHHIIIHHHHHII", 20, *fields[:-1], 0, 0, 0, 0, 0, offset)
            + raw
        )
    cd = central.getvalue()
    end = struct.pack("<HHHHIIH", 0, 0, len(members), len(members), len(cd), body.tell(), 0)
    return body.getvalue() + cd + b"PK\x05\x06" + end


def _sample_files() -> dict[str, bytes]:
    return dict(read_package_dir(sample_dir("vnf-db")))


def _honest(files: dict[str, bytes]) -> list[tuple[str, bytes, int, int]]:
    return [(n, _deflate(d), zlib.crc32(d), len(d)) for n, d in files.items()]


def _rss() -> int:
    return psutil.Process().memory_info().rss


def _blobs(live: LiveApi) -> int:
    with live.services.db.session() as s:
        return BlobRepository(s).count()


def _refused(live: LiveApi, data: bytes, member: str, cause: str) -> None:
    blobs = _blobs(live)
    before = _rss()
    info = live.onboard("vnf", data)
    assert info["onboardingState"] == "ERROR", info
    details = info["onboardingFailureDetails"]
    assert details["status"] == 422 and member in str(details), details
    assert cause in str(details), details
    assert _blobs(live) == blobs, "a refused package left a stored archive"
    grown = _rss() - before
    assert grown < 100 << 20, f"server RSS grew {grown >> 20} MiB"


def test_zip_member_lying_about_its_size_is_refused(live: LiveApi) -> None:
    bomb, crc = _deflated_zeros(BOMB_BYTES)
    members = _honest(build_files := _sample_files())
    assert build_files
    data = raw_zip([*members, ("Files/lying.bin", bomb, crc, 100)])
    _refused(live, data, "Files/lying.bin", "COMPRESSION_BOMB")


def test_zip_member_with_wrong_crc_is_refused(live: LiveApi) -> None:
    payload = b"honest bytes, dishonest checksum\n" * 100
    members = _honest(_sample_files())
    bad = ("Files/bad-crc.bin", _deflate(payload), zlib.crc32(payload) ^ 0xFFFF, len(payload))
    _refused(live, raw_zip([*members, bad]), "Files/bad-crc.bin", "CRC")


def test_zip_member_short_of_its_declared_size_is_refused(live: LiveApi) -> None:
    payload = b"short" * 100
    members = _honest(_sample_files())
    bad = ("Files/short.bin", _deflate(payload), zlib.crc32(payload), len(payload) + 7)
    _refused(live, raw_zip([*members, bad]), "Files/short.bin", "declared size")


def test_tar_gz_member_inflating_beyond_the_ratio_is_refused(live: LiveApi) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in _sample_files().items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        info = tarfile.TarInfo("Files/zeros.bin")
        info.size = 64 << 20
        tar.addfile(info, io.BytesIO(bytes(info.size)))
    _refused(live, zlib_gzip(buf.getvalue()), "Files/zeros.bin", "COMPRESSION_BOMB")


def zlib_gzip(data: bytes) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, 31)
    return c.compress(data) + c.flush()


@pytest.mark.parametrize("fmt", ["zip", "tar.gz"])
def test_artifacts_of_a_good_package_stream_whole_and_by_range(live: LiveApi, fmt: str) -> None:
    blob = os.urandom(1 << 20) + bytes(3 << 20) + os.urandom(1 << 19)
    files = _sample_files() | {"Files/data.bin": blob}
    info = live.onboard("vnf", build_csar_from_files(files, fmt=fmt))
    assert info["onboardingState"] == "ONBOARDED", info
    url = f"{PKGS}/{info['id']}/artifacts/Files/data.bin"
    r = live.client.get(url)
    assert r.status_code == 200 and r.content == blob
    assert r.headers["content-length"] == str(len(blob))
    r = live.client.get(url, headers={"Range": "bytes=1048000-1049999"})
    assert r.status_code == 206 and r.content == blob[1048000:1050000]
    assert r.headers["content-range"] == f"bytes 1048000-1049999/{len(blob)}"
    r = live.client.get(url, headers={"Range": "bytes=-10"})
    assert r.status_code == 206 and r.content == blob[-10:]
    r = live.client.get(f"{PKGS}/{info['id']}/artifacts")
    assert r.status_code == 200, r.text
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        assert z.read("Files/data.bin") == blob
        assert z.testzip() is None


def test_artifact_of_an_archive_stored_before_the_check_is_bounded(live: LiveApi) -> None:
    """An archive onboarded before members were verified (its blob replaced here) is read
    with the same bound: 409 naming the member, no unbounded inflation."""
    info = live.onboard("vnf", build_csar_from_files(_sample_files()))
    assert info["onboardingState"] == "ONBOARDED"
    bomb, crc = _deflated_zeros(BOMB_BYTES)
    honest = [m for m in _honest(_sample_files()) if m[0] != "Files/images/db-img.qcow2"]
    lying = raw_zip([*honest, ("Files/images/db-img.qcow2", bomb, crc, 2048)])
    catalog = live.services.catalog
    with live.services.db.session() as s:
        from nfvo.inventory.models import CatalogPackage

        pkg = s.get(CatalogPackage, info["id"])
        assert pkg is not None and pkg.blob_id
        catalog.cache.evict(pkg.blob_id)
        BlobRepository(s).delete(pkg.blob_id)
        pkg.blob_id = BlobRepository(s).put(io.BytesIO(lying)).id
    before = _rss()
    r = live.client.get(f"{PKGS}/{info['id']}/artifacts/Files/images/db-img.qcow2")
    assert r.status_code == 409, r.text
    assert "Files/images/db-img.qcow2" in r.json()["detail"]
    assert _rss() - before < 100 << 20
