"""Software images on the sim VIM: found by name, or added from the bytes a VNF package carries
(size and checksum computed, the declared checksum verified), never twice."""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import pytest

from nfvo.vim.base import ImageSpec, ServerSpec, VimBadRequest, VimUnavailable
from nfvo.vim.images import HashingReader, hashlib_name
from nfvo.vim.sim import SimVim

DATA = bytes(range(256)) * 12  # 3 KiB


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[SimVim]:
    driver = SimVim(vim_id="lab", config={"images": [{"name": "cirros"}]}, data_dir=tmp_path)
    yield driver
    driver.close()


class Opener:
    """Counts how often the bytes were opened (an upload opens them exactly once)."""

    def __init__(self, data: bytes = DATA) -> None:
        self.data = data
        self.calls = 0

    def __call__(self) -> BinaryIO:
        self.calls += 1
        return io.BytesIO(self.data)


def spec(
    name: str = "web-img", opener: Callable[[], BinaryIO] | None = None, **kw: object
) -> ImageSpec:
    digest = hashlib.sha256(DATA).hexdigest()
    base: dict[str, object] = {
        "disk_format": "qcow2",
        "container_format": "bare",
        "checksum_algorithm": "sha-256",
        "checksum_hash": digest,
    }
    return ImageSpec(name=name, open=opener, **{**base, **kw})  # type: ignore[arg-type]


def test_hashlib_names_follow_the_sol001_spellings() -> None:
    assert hashlib_name("sha-256") == "sha256"
    assert hashlib_name("SHA-512") == "sha512"
    assert hashlib_name("sha_384") == "sha384"
    assert hashlib_name("sha3-256") == "sha3_256"
    assert hashlib_name("crc-32") is None


def test_hashing_reader_counts_and_hashes_in_chunks() -> None:
    reader = HashingReader(io.BytesIO(DATA), {"md5", "sha256"}, chunk=1000)
    chunks = list(reader.chunks())
    assert [len(c) for c in chunks] == [1000, 1000, 1000, 72]
    assert reader.size == len(DATA)
    assert reader.hexdigest("sha-256") == hashlib.sha256(DATA).hexdigest()
    assert reader.hexdigest("md5") == hashlib.md5(DATA).hexdigest()
    assert reader.hexdigest("sha-512") is None  # not asked for


def test_upload_computes_size_and_checksum_and_lists_the_image(sim: SimVim) -> None:
    opener = Opener()
    image = sim.ensure_image(spec(opener=opener))
    assert (image.name, image.size_bytes) == ("web-img", len(DATA))
    assert image.checksum == hashlib.md5(DATA).hexdigest()
    assert (image.disk_format, image.container_format) == ("qcow2", "bare")
    assert opener.calls == 1
    listed = {i.name: i for i in sim.list_images()}
    assert listed["web-img"] == image and "cirros" in listed
    # a server boots from it by name
    server = sim.create_server(ServerSpec(key="s", name="s", image="web-img", flavor="m1.tiny"))
    assert server.image == "web-img"


def test_upload_is_idempotent_and_an_existing_image_is_never_read(sim: SimVim) -> None:
    opener = Opener()
    first = sim.ensure_image(spec(opener=opener))
    again = sim.ensure_image(spec(opener=opener))
    assert again == first and opener.calls == 1
    assert [i.name for i in sim.list_images()].count("web-img") == 1
    # an image of the VIM's own topology is returned without opening anything
    unused = Opener()
    assert sim.ensure_image(spec("cirros", opener=unused)).name == "cirros"
    assert unused.calls == 0
    # a new driver on the same state (another worker process) sees the upload
    other = SimVim(
        vim_id="lab", config={"images": [{"name": "cirros"}]}, data_dir=sim.store.path.parent.parent
    )
    try:
        assert other.ensure_image(spec(opener=Opener())).id == first.id
    finally:
        other.close()


def test_concurrent_uploads_of_one_name_make_one_image(sim: SimVim) -> None:
    results: list[str] = []

    def upload() -> None:
        results.append(sim.ensure_image(spec(opener=Opener())).id)

    threads = [threading.Thread(target=upload) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(results)) == 1
    assert [i.name for i in sim.list_images()].count("web-img") == 1


def test_checksum_mismatch_is_refused_and_adds_nothing(sim: SimVim) -> None:
    with pytest.raises(VimBadRequest) as info:
        sim.ensure_image(spec(opener=Opener(DATA[:-1])))
    assert "web-img" in info.value.message and "checksum" in info.value.message
    assert info.value.request_id and not info.value.retryable
    assert "web-img" not in {i.name for i in sim.list_images()}


def test_unsupported_checksum_algorithm_is_refused(sim: SimVim) -> None:
    with pytest.raises(VimBadRequest, match="crc-32"):
        sim.ensure_image(spec(opener=Opener(), checksum_algorithm="crc-32"))


def test_without_a_checksum_the_bytes_are_taken_as_they_are(sim: SimVim) -> None:
    image = sim.ensure_image(spec(opener=Opener(), checksum_algorithm=None, checksum_hash=None))
    assert image.size_bytes == len(DATA)


def test_absent_image_without_bytes_is_bad_request_naming_image_and_vim(sim: SimVim) -> None:
    with pytest.raises(VimBadRequest) as info:
        sim.ensure_image(ImageSpec(name="db-img"))
    assert "'db-img'" in info.value.message and "lab" in info.value.message


def test_upload_faults_are_injected_on_image_create_only(tmp_path: Path) -> None:
    faults = {"image_create": {"error_rate": 1.0, "error": "VimUnavailable"}}
    driver = SimVim(vim_id="f", config={"faults": faults}, data_dir=tmp_path)
    try:
        assert driver.ensure_image(ImageSpec(name="cirros")).name == "cirros"  # a lookup
        with pytest.raises(VimUnavailable) as info:
            driver.ensure_image(spec(opener=Opener()))
        assert info.value.request_id
        assert "web-img" not in {i.name for i in driver.list_images()}
    finally:
        driver.close()


def test_kubernetes_needs_no_upload_and_makes_no_call() -> None:
    from nfvo.vim.registry import create_driver, validate_config

    driver = create_driver(  # an API server that is not there: any call would fail
        "kubernetes",
        vim_id="k8s",
        vim_url="http://127.0.0.1:9",
        vim_user=None,
        vim_password="token",
        vim_tenant_name=None,
        config=validate_config("kubernetes", {"request_timeout": 1}),
        data_dir=None,  # type: ignore[arg-type]
    )
    opener = Opener()
    image = driver.ensure_image(spec("registry.example/web:1", opener=opener))
    assert (image.id, image.name) == ("registry.example/web:1", "registry.example/web:1")
    assert opener.calls == 0
