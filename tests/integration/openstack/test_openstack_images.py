"""The OpenStack driver's image upload against the loopback Glance stand-in, in process.

Needs no cloud: ``standin.serve`` runs the same Glance v2 subset Nova reads images from
(``POST`` a queued image, ``PUT`` its file in chunked encoding, md5 / sha512 computed, active).
Faults Glance can produce (a killed upload, stored bytes that differ, an upload that never
finishes) are made by patching the stand-in's state.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from typing import Any, BinaryIO

import pytest
from tests.integration.openstack.standin import IMAGE_ID, Glance, serve

from nfvo.vim.base import ImageSpec, VimBadRequest, VimTimeout, VimUnavailable
from nfvo.vim.os.driver import OpenStackVim
from nfvo.vim.registry import create_driver, validate_config

TOKEN = "images-token"
DATA = bytes(range(251)) * 10_000  # ~2.4 MiB: several upload chunks


class Cloud:
    """The running stand-in and a driver on it."""

    def __init__(self) -> None:
        self.httpd = serve(0, TOKEN)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.glance: Glance = self.httpd.glance  # type: ignore[attr-defined]

    def driver(self, **config: Any) -> OpenStackVim:
        cfg = {
            "auth_type": "admin_token",
            "endpoint_override": {
                "compute": self.url + "/compute",
                "network": self.url + "/network",
                "image": self.url + "/image",
            },
            "request_timeout": 10,
            **config,
        }
        return create_driver(  # type: ignore[return-value]
            "openstack",
            vim_id="os-images",
            vim_url=self.url + "/compute",
            vim_user=None,
            vim_password=TOKEN,
            vim_tenant_name=None,
            config=validate_config("openstack", cfg),
            data_dir=None,  # type: ignore[arg-type]
        )

    def named(self, name: str) -> list[dict[str, Any]]:
        return [i for i in self.glance.images.values() if i["name"] == name]


@pytest.fixture
def cloud() -> Iterator[Cloud]:
    c = Cloud()
    yield c
    c.httpd.shutdown()
    c.httpd.server_close()


class Opener:
    def __init__(self, data: bytes = DATA) -> None:
        self.data = data
        self.calls = 0

    def __call__(self) -> BinaryIO:
        self.calls += 1
        return io.BytesIO(self.data)


def spec(opener: Opener | None, name: str = "web-img", **kw: Any) -> ImageSpec:
    base = {
        "disk_format": "qcow2",
        "container_format": "bare",
        "min_disk_gib": 1,
        "min_ram_mib": 512,
        "checksum_algorithm": "sha-256",
        "checksum_hash": hashlib.sha256(DATA).hexdigest(),
        "tags": {"nfvo.vnfd": "vnfd-1"},
    }
    return ImageSpec(name=name, open=opener, **{**base, **kw})


def test_upload_creates_streams_and_activates(cloud: Cloud) -> None:
    driver = cloud.driver()
    opener = Opener()
    image = driver.ensure_image(spec(opener))
    assert image.name == "web-img" and image.size_bytes == len(DATA)
    assert image.checksum == hashlib.md5(DATA).hexdigest()
    [stored] = cloud.named("web-img")
    assert stored["id"] == image.id and stored["status"] == "active"
    assert cloud.glance.data[image.id] == DATA
    assert stored["os_hash_value"] == hashlib.sha512(DATA).hexdigest()
    assert (stored["disk_format"], stored["container_format"]) == ("qcow2", "bare")
    assert (stored["min_disk"], stored["min_ram"]) == (1, 512)
    assert stored["visibility"] == "private" and stored["tags"] == ["nfvo.vnfd=vnfd-1"]
    assert image.id in {i.id for i in driver.list_images()}
    assert driver._image_id("web-img") == image.id  # what create_server boots from


def test_upload_is_idempotent_and_existing_images_are_not_read(cloud: Cloud) -> None:
    driver = cloud.driver()
    opener = Opener()
    first = driver.ensure_image(spec(opener))
    assert driver.ensure_image(spec(opener)).id == first.id
    assert cloud.driver().ensure_image(spec(opener)).id == first.id  # another worker
    assert opener.calls == 1 and len(cloud.named("web-img")) == 1
    cirros = driver.ensure_image(spec(Opener(), name="cirros"))
    assert cirros.id == IMAGE_ID
    assert driver.ensure_image(ImageSpec(name=IMAGE_ID)).name == "cirros"  # by id


def test_a_queued_leftover_of_the_same_name_is_not_used(cloud: Cloud) -> None:
    """A crash between create and upload leaves a queued image; the next attempt uploads."""
    cloud.glance.create({"name": "web-img", "disk_format": "qcow2", "container_format": "bare"})
    image = cloud.driver().ensure_image(spec(Opener()))
    assert cloud.glance.images[image.id]["status"] == "active"
    assert cloud.driver()._image_id("web-img") == image.id


def test_absent_image_without_bytes_names_image_and_vim(cloud: Cloud) -> None:
    with pytest.raises(VimBadRequest) as info:
        cloud.driver().ensure_image(ImageSpec(name="db-img"))
    assert "'db-img'" in info.value.message and "os-images" in info.value.message


def test_declared_checksum_mismatch_deletes_the_half_made_image(cloud: Cloud) -> None:
    with pytest.raises(VimBadRequest) as info:
        cloud.driver().ensure_image(spec(Opener(DATA[1:])))
    assert "checksum" in info.value.message and "web-img" in info.value.message
    assert cloud.named("web-img") == []


def test_glance_refusing_the_upload_is_typed_with_its_request_id(cloud: Cloud) -> None:
    with pytest.raises(VimBadRequest) as info:  # Glance needs both formats before data
        cloud.driver().ensure_image(spec(Opener(), disk_format=None))
    assert "disk_format" in info.value.vim_message
    assert info.value.request_id and info.value.request_id.startswith("req-")
    assert cloud.named("web-img") == []


@pytest.mark.parametrize("fault", ["killed", "corrupted"])
def test_killed_or_corrupted_upload_is_unavailable_and_deleted(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    real = cloud.glance.upload

    def upload(image_id: str, data: bytes) -> tuple[int, Any]:
        if fault == "corrupted":
            return real(image_id, data[:-1] + b"\0")
        cloud.glance.images[image_id]["status"] = "killed"
        return 204, None

    monkeypatch.setattr(cloud.glance, "upload", upload)
    with pytest.raises(VimUnavailable) as info:
        cloud.driver().ensure_image(spec(Opener()))
    assert info.value.retryable and "web-img" in info.value.message
    assert cloud.named("web-img") == []


def test_upload_that_never_finishes_times_out_and_is_deleted(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    def upload(image_id: str, data: bytes) -> tuple[int, Any]:
        cloud.glance.images[image_id]["status"] = "saving"
        return 204, None

    monkeypatch.setattr(cloud.glance, "upload", upload)
    with pytest.raises(VimTimeout):
        cloud.driver(image_timeout=0.3).ensure_image(spec(Opener()))
    assert cloud.named("web-img") == []
