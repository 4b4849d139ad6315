"""Reading members of a stored package archive, whole or as a stream (zip and tar)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nfvo.catalog.store import PackageFiles
from nfvo.samples import build_sample, sample_dir

IMAGE = "Files/images/web-img.qcow2"


@pytest.mark.parametrize("fmt", ["zip", "tar", "tar.gz"])
def test_open_streams_a_member_and_closes_the_archive(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / "pkg"
    path.write_bytes(build_sample("vnf-web", fmt=fmt))
    files = PackageFiles(path)
    want = (sample_dir("vnf-web") / IMAGE).read_bytes()
    with files.open(IMAGE) as stream:
        got = stream.read(100) + stream.read()
    assert got == want == files.read(IMAGE)
    assert stream.closed
    with pytest.raises(KeyError):
        files.open("Files/images/absent.qcow2")
