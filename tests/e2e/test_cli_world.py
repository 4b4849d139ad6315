"""Packages as vendors write them, through the ``nfvo`` command line against ``nfvo serve``:
onboarded (hostile variants refused with their cause), instantiated on a sim VIM whose image
catalogue holds the image the VNF references by name, scaled, healed and terminated with
nothing left; a VNF referencing an image the VIM lacks fails with the image, VDU, VNF and VIM
named, and no traceback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.e2e.test_cli import admin_password, no_traceback
from tests.fixtures import world
from tests.support.cli import Cli
from tests.support.proc import Server

MISSING_VNFD_ID = "5e0f4c1a-7c1e-4d55-9a8e-0d7f3c2b1a04"
MISSING_NSD_ID = "5e0f4c1a-7c1e-4d55-9a8e-0d7f3c2b1a40"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("cli-world")
    srv = Server(root / "data", {"NFVO_DATABASE_URL": "", "NFVO_ADMIN_PASSWORD": ""}).start()
    yield srv
    srv.kill()


@pytest.fixture
def cli(server: Server, tmp_path: Path) -> Cli:
    c = Cli(tmp_path / "home")
    c.run(
        "login", "--url", server.base, "--user", "admin", "--password-stdin",
        input=admin_password(server) + "\n",
    )  # fmt: skip
    return c


def _file(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def _fw(shown: dict) -> list[dict]:
    return [
        v
        for vnf in shown["vnfInstance"]
        for v in vnf["instantiatedVnfInfo"]["vnfcResourceInfo"]
        if v["vduId"] == "fw"
    ]


def test_world_packages_through_the_cli(cli: Cli, tmp_path: Path) -> None:
    for case in world.hostile_world():
        r = cli.run("pkg", "onboard", _file(tmp_path, f"{case.name}.zip", case.data), "--wait",
                    rc=None)  # fmt: skip
        assert r.returncode != 0, case.name
        assert case.cause in r.stderr, (case.name, r.stderr)
        no_traceback(r)
    vnf = cli.json("pkg", "onboard", _file(tmp_path, "edge.zip", world.edge_vnf()), "--wait")
    assert vnf["onboardingState"] == "ONBOARDED"
    nsd = cli.json("nsd", "onboard", _file(tmp_path, "ns.zip", world.edge_nsd()), "--wait")
    assert nsd["nsdOnboardingState"] == "ONBOARDED"
    vim = cli.json(
        "vim", "register", "--name", "edge-lab", "--type", "sim",
        "--config", json.dumps({"zones": 1, "hosts": 4}), "--wait",
    )  # fmt: skip
    assert vim["_admin"]["operationalState"] == "ENABLED"
    cli.json("ns", "create", "--nsd", world.EDGE_NSD_ID, "--name", "edge")
    cli.run("ns", "instantiate", "edge", "--flavour", "default", "--vim", "edge-lab", "--wait")
    assert len(_fw(cli.json("ns", "show", "edge"))) == 1
    cli.run("ns", "scale", "edge", "--vnf", "edge", "--aspect", "fw_scale", "--out", "--wait")
    fw = _fw(cli.json("ns", "show", "edge"))
    assert len(fw) == 2
    assert len({v["computeResource"]["resourceId"] for v in fw}) == 2
    cli.run("ns", "heal", "edge", "--vnf", "edge", "--recreate", "--wait")
    assert len(_fw(cli.json("ns", "show", "edge"))) == 2
    cli.run("ns", "terminate", "edge", "--wait")
    res = cli.json("vim", "resources", "edge-lab")
    assert [s for s in res.get("servers", [])] == []

    # an image referenced by name that the VIM lacks
    opts = world.Options(vnfd_id=MISSING_VNFD_ID, fw_image="acme-fw-9.1")
    cli.json("pkg", "onboard", _file(tmp_path, "edge2.zip", world.edge_vnf(opts)), "--wait")
    ns2 = world.edge_nsd(MISSING_NSD_ID, MISSING_VNFD_ID)
    cli.json("nsd", "onboard", _file(tmp_path, "ns2.zip", ns2), "--wait")
    cli.json("ns", "create", "--nsd", MISSING_NSD_ID, "--name", "edge2")
    r = cli.run(
        "ns", "instantiate", "edge2", "--flavour", "default", "--vim", "edge-lab", "--wait",
        rc=1,
    )  # fmt: skip
    assert "FAILED_TEMP" in r.stderr and "422" in r.stderr
    for word in ("acme-fw-9.1", "fw", vim["id"]):
        assert word in r.stderr, r.stderr
    no_traceback(r)
    res = cli.json("vim", "resources", "edge-lab")
    assert [s for s in res.get("servers", [])] == []
