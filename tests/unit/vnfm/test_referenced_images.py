"""Images a VNFD references by name, checked on a VIM (what the LCM does after placement and
what a request-time validator can call)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.fixtures import world

from nfvo.catalog.csar import CsarLimits
from nfvo.catalog.descriptors import Vnfd
from nfvo.catalog.onboarding import analyse_package
from nfvo.catalog.states import PackageKind
from nfvo.vim.base import ImageRef
from nfvo.vim.sim import SimVim
from nfvo.vnfm.images import missing_images, missing_images_problem, referenced_images


@pytest.fixture(scope="module")
def vnfd(tmp_path_factory: pytest.TempPathFactory) -> Vnfd:
    path = tmp_path_factory.mktemp("pkg") / "edge.zip"
    path.write_bytes(world.edge_vnf(world.Options(fw_image="acme-fw-9.1")))
    res = analyse_package(path, PackageKind.vnf, CsarLimits())
    assert isinstance(res.descriptor, Vnfd)
    return res.descriptor


def test_only_images_not_carried_are_references(vnfd: Vnfd) -> None:
    assert referenced_images(vnfd, "small") == {"fw": ImageRef("acme-fw-9.1", "22.04")}
    assert referenced_images(vnfd, "large") == {"fw": ImageRef("acme-fw-9.1", "22.04")}
    with pytest.raises(KeyError):
        referenced_images(vnfd, "huge")


def test_missing_images_name_image_vdu_vnf_and_vim(vnfd: Vnfd, tmp_path: Path) -> None:
    lacking = SimVim(vim_id="lab", config={"images": [{"name": "cirros"}]}, data_dir=tmp_path / "a")
    having = SimVim(vim_id="lab2", config={"images": [{"name": "acme-fw-9.1"}]}, data_dir=tmp_path)
    try:
        assert missing_images(vnfd, "small", "lab2", having) == []
        missing = missing_images(
            vnfd, "small", "lab", lacking, vnf_instance_id="vnf-1", vnf_profile_id="edge"
        )
        assert [(m.image, m.vdu_id, m.vim_account_id) for m in missing] == [
            ("acme-fw-9.1", "fw", "lab")
        ]
        assert missing_images(vnfd, "small", "lab", lacking, vdu_ids=["ctl"]) == []
        problem = missing_images_problem(missing)
        assert problem["status"] == 422
        assert (problem["image"], problem["vduId"], problem["vnfInstanceId"]) == (
            "acme-fw-9.1",
            "fw",
            "vnf-1",
        )
        assert problem["vimAccountId"] == "lab" and problem["vnfdId"] == vnfd.vnfd_id
        for word in ("'acme-fw-9.1'", "'fw'", "vnf-1", "VIM lab"):
            assert word in problem["detail"]
        assert len(lacking.list_servers()) == 0 and len(lacking.list_networks()) == 0
    finally:
        lacking.close()
        having.close()
