"""Images referenced by name looked up on a VIM (``find_image``): the sim catalogue, Glance by
name and checksum, Kubernetes container image names; nothing is created by a lookup."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.support.fake_kube import FakeKube

from nfvo.vim.base import Image, ImageRef, VimConfigError, image_digests
from nfvo.vim.images import select_image
from nfvo.vim.kubernetes import KubernetesVim
from nfvo.vim.registry import create_driver, validate_config
from nfvo.vim.sim import SimVim
from nfvo.vim.sim.config import DEFAULT_IMAGES, MAX_IMAGES

SHA = hashlib.sha256(b"image").hexdigest()
OTHER = hashlib.sha256(b"other").hexdigest()


def test_select_by_name_then_id_and_checksum() -> None:
    a = Image(id="id-a", name="ubuntu", checksum=f"sha256:{SHA}")
    b = Image(id="ubuntu-id", name="other", checksum="0" * 32)
    cands = [(a, image_digests(a)), (b, image_digests(b))]
    assert select_image(ImageRef("ubuntu"), cands).image is a
    assert select_image(ImageRef("ubuntu-id"), cands).image is b  # by id
    found = select_image(ImageRef("ubuntu", None, "sha-256", SHA.upper()), cands)
    assert found.image is a and found.checksum_verified
    bad = select_image(ImageRef("ubuntu", None, "SHA-256", OTHER), cands, "vim-1")
    assert bad.image is None
    assert bad.detail and OTHER in bad.detail and SHA in bad.detail and "vim-1" in bad.detail
    # the VIM reports no digest of that algorithm: usable, but not verified
    unverified = select_image(ImageRef("ubuntu", None, "sha-512", "ab" * 64), cands)
    assert unverified.image is a and not unverified.checksum_verified
    missing = select_image(ImageRef("debian"), cands, "vim-1")
    assert missing.image is None and missing.detail == "no image named 'debian' on VIM vim-1"


def test_image_digests_read_md5_or_algorithm_prefix() -> None:
    assert image_digests(Image(id="1", name="x", checksum="AB" * 16)) == {"md5": "ab" * 16}
    assert image_digests(Image(id="1", name="x", checksum=f"SHA-256:{SHA}")) == {"sha256": SHA}
    assert image_digests(Image(id="1", name="x")) == {}


@pytest.fixture
def sim_of(tmp_path: Path) -> Iterator[Any]:
    made: list[SimVim] = []

    def make(name: str, **config: Any) -> SimVim:
        driver = SimVim(vim_id=name, config=config, data_dir=tmp_path / name)
        made.append(driver)
        return driver

    yield make
    for d in made:
        d.close()


def test_sim_default_catalogue_and_configured_images(sim_of: Any) -> None:
    default = sim_of("plain")
    names = {i.name for i in default.list_images()}
    assert names == {n for n, _ in DEFAULT_IMAGES} and "ubuntu-22.04" in names
    assert default.find_image(ImageRef("ubuntu-22.04")).image is not None
    own = sim_of(
        "own", images=[{"name": "acme-fw", "checksum": f"sha256:{SHA}"}, {"name": "cirros"}]
    )
    assert own.find_image(ImageRef("ubuntu-22.04")).image is None  # only what is configured
    assert own.find_image(ImageRef("acme-fw", "9", "sha-256", SHA)).checksum_verified
    wrong = own.find_image(ImageRef("acme-fw", "9", "sha-256", OTHER))
    assert wrong.image is None and "own" in (wrong.detail or "")
    before = len(own.list_images())
    own.find_image(ImageRef("nope"))
    assert len(own.list_images()) == before  # a lookup creates nothing


def test_sim_image_list_is_bounded() -> None:
    too_many = [{"name": f"img-{i}"} for i in range(MAX_IMAGES + 1)]
    with pytest.raises(VimConfigError) as err:
        validate_config("sim", {"images": too_many})
    assert "images" in err.value.field


def test_kubernetes_image_is_the_container_image_name() -> None:
    with FakeKube(token="token") as fake:

        def make(**config: Any) -> KubernetesVim:
            d = create_driver(
                "kubernetes",
                vim_id="k8s-1",
                vim_url=fake.url,
                vim_user=None,
                vim_password="token",
                vim_tenant_name=None,
                config=validate_config("kubernetes", config),
                data_dir=None,  # type: ignore[arg-type]
            )
            assert isinstance(d, KubernetesVim)
            return d

        anything = make().find_image(ImageRef("registry.example/acme/fw:9.1"))
        assert anything.image is not None and anything.image.name == "registry.example/acme/fw:9.1"
        allow = make(images=["nginx:1.27"])
        assert allow.find_image(ImageRef("nginx:1.27")).image is not None
        refused = allow.find_image(ImageRef("acme/fw:9.1"))
        assert refused.image is None and "k8s-1" in (refused.detail or "")
        with pytest.raises(VimConfigError):
            validate_config("kubernetes", {"images": ["x"] * 1001})


def test_glance_lookup_by_name_with_its_digests() -> None:
    from tests.unit.vim.test_openstack_driver import Canned, token_driver

    sha512 = hashlib.sha512(b"image").hexdigest()
    glance = {
        "id": "11111111-2222-3333-4444-555555555555",
        "name": "ubuntu-22.04",
        "status": "active",
        "checksum": hashlib.md5(b"image").hexdigest(),
        "os_hash_algo": "sha512",
        "os_hash_value": sha512,
    }

    def images(_m: str, _p: str, query: dict[str, list[str]], _b: Any) -> Any:
        wanted = query.get("name", [""])[0]
        return 200, {"images": [glance] if wanted == glance["name"] else []}, {}

    cloud = Canned()
    try:
        cloud.routes[("GET", "/image/v2/images")] = images
        driver = token_driver(cloud)
        found = driver.find_image(ImageRef("ubuntu-22.04", "22.04", "sha-512", sha512))
        assert found.image is not None and found.image.id == glance["id"]
        assert found.checksum_verified
        wrong = driver.find_image(ImageRef("ubuntu-22.04", None, "sha-512", "ab" * 64))
        assert wrong.image is None and sha512 in (wrong.detail or "")
        # Glance has no sha-256 digest: the image is used, unverified
        unverified = driver.find_image(ImageRef("ubuntu-22.04", None, "sha-256", SHA))
        assert unverified.image is not None and not unverified.checksum_verified
        missing = driver.find_image(ImageRef("acme-fw"))
        assert missing.image is None and "no active Glance image named 'acme-fw'" in (
            missing.detail or ""
        )
        assert {(m, p) for m, p, _, _ in cloud.requests} <= {
            ("GET", "/image/v2/images"),
            ("GET", "/image/v2/images/acme-fw"),
        }  # read-only
    finally:
        cloud.close()
