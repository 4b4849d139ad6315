"""Packages as vendors write them, through the real API on the sim VIM.

Column-0 manifest metadata, SOL001 types imported by URL, day-0 files and scripts named
relative to the VNFD, images referenced by name (not carried): they onboard, instantiate,
scale, heal and terminate with nothing left. Each hostile variant is refused at onboarding
with its own cause, file and line. A referenced image the VIM lacks fails INSTANTIATE with a
422 naming image, VDU, VNF and VIM before any VIM resource exists, without a traceback.
SQLite and PostgreSQL.
"""

from __future__ import annotations

import io
import logging

import httpx
import pytest
from tests.fixtures import world
from tests.support.live import LiveApi, sim_vim, wait_op

from nfvo.resources.service import Scope
from nfvo.vim.base import ImageSpec

NS = "/nslcm/v2/ns_instances"
MISSING_VNFD_ID = "5e0f4c1a-7c1e-4d55-9a8e-0d7f3c2b1a02"
MISSING_NSD_ID = "5e0f4c1a-7c1e-4d55-9a8e-0d7f3c2b1a20"


def _on_vim(live: LiveApi, vim_id: str) -> dict[str, int]:
    """Everything on the VIM (not only what is tagged with an NS)."""
    svc = live.services.resources
    d = svc.driver_for(svc.get_vim(vim_id, Scope(None)))
    return {
        "servers": len(d.list_servers()),
        "networks": len([n for n in d.list_networks() if not n.external]),
        "ports": len(d.list_ports()),
    }


def _op(c: httpx.Client, ns_id: str, what: str, body: dict) -> dict:
    r = c.post(f"{NS}/{ns_id}/{what}", json=body)
    assert r.status_code == 202, r.text
    return wait_op(c, r.headers["location"])


def _ns(c: httpx.Client, nsd_id: str, name: str) -> dict:
    r = c.post(NS, json={"nsdId": nsd_id, "nsName": name, "nsDescription": "world"})
    assert r.status_code == 201, r.text
    return r.json()


def _vnfcs(c: httpx.Client, ns_id: str) -> dict[str, list[dict]]:
    got = c.get(f"{NS}/{ns_id}").json()
    out: dict[str, list[dict]] = {}
    for vnf in got["vnfInstance"]:
        for v in vnf["instantiatedVnfInfo"]["vnfcResourceInfo"]:
            out.setdefault(v["vduId"], []).append({**v, "vnfInstanceId": vnf["id"]})
    return out


def test_world_packages_onboard_and_hostile_variants_are_refused(live: LiveApi) -> None:
    vnf = live.onboard("vnf", world.edge_vnf())
    assert vnf["onboardingState"] == "ONBOARDED", vnf.get("onboardingFailureDetails")
    images = {i["name"]: i for i in vnf["softwareImages"]}
    assert set(images) == {"ubuntu-22.04", "acme-ctl"}
    referenced, carried = images["ubuntu-22.04"], images["acme-ctl"]
    assert referenced["userMetadata"] == {"imageSource": "VIM"}
    assert "imagePath" not in referenced and "imageUri" not in referenced
    assert carried["userMetadata"] == {"imageSource": "PACKAGE"}
    assert carried["imagePath"] == "Files/images/ctl.qcow2"
    assert carried["checksum"]["hash"]
    nsd = live.onboard("nsd", world.edge_nsd())
    assert nsd["nsdOnboardingState"] == "ONBOARDED", nsd.get("onboardingFailureDetails")
    # the same VNF with indented (tab) metadata and root-relative paths onboards too
    other = world.Options(
        vnfd_id="5e0f4c1a-7c1e-4d55-9a8e-0d7f3c2b1a03",
        metadata_indent="\t",
        day0_path="Files/day0/fw-user-data.yaml",
        script_path="Scripts/start.sh",
    )
    assert live.onboard("vnf", world.edge_vnf(other))["onboardingState"] == "ONBOARDED"
    causes = set()
    for case in world.hostile_world():
        info = live.onboard("vnf", case.data, userDefinedData={"case": case.name})
        assert info["onboardingState"] == "ERROR", case.name
        details = info["onboardingFailureDetails"]
        assert details["cause"] == case.cause, (case.name, details)
        if case.file:
            assert details["file"] == case.file, (case.name, details)
        if case.line:
            assert details["line"] == case.line, (case.name, details)
        assert case.detail in details["detail"], (case.name, details)
        assert "outside a 'Source:' block" not in details["detail"]
        causes.add((case.cause, case.detail))
    assert len(causes) == len(world.hostile_world())  # each refused with its own cause


def test_referenced_image_present_instantiate_scale_heal_terminate(live: LiveApi) -> None:
    c = live.client
    assert live.onboard("vnf", world.edge_vnf())["onboardingState"] == "ONBOARDED"
    assert live.onboard("nsd", world.edge_nsd())["nsdOnboardingState"] == "ONBOARDED"
    vim_id = sim_vim(c, "edge-lab", zones=1, hosts=4)  # default image catalogue
    ns = _ns(c, world.EDGE_NSD_ID, "edge-1")
    body = {"nsFlavourId": "default", "additionalParamsForNs": {"vimAccountId": vim_id}}
    op = _op(c, ns["id"], "instantiate", body)
    assert op["operationState"] == "COMPLETED", op
    vnfcs = _vnfcs(c, ns["id"])
    assert {k: len(v) for k, v in vnfcs.items()} == {"fw": 1, "ctl": 1}
    svc = live.services.resources
    d = svc.driver_for(svc.get_vim(vim_id, Scope(None)))
    images = {s.id: s.image for s in d.list_servers()}
    assert images[vnfcs["fw"][0]["computeResource"]["resourceId"]] == "ubuntu-22.04"
    assert images[vnfcs["ctl"][0]["computeResource"]["resourceId"]] == "acme-ctl"  # uploaded
    # the day-0 file named relative to the VNFD became the fw server's rendered user data
    fw_server = vnfcs["fw"][0]["computeResource"]["resourceId"]
    (user_data,) = (
        d.store.conn()  # type: ignore[attr-defined]
        .execute("SELECT user_data FROM servers WHERE id = ?", (fw_server,))
        .fetchone()
    )
    assert user_data.startswith("#cloud-config\nhostname: edge-fw\n"), user_data
    vnf_id = vnfcs["fw"][0]["vnfInstanceId"]
    scale = {
        "scaleType": "SCALE_VNF",
        "scaleVnfData": [
            {
                "vnfInstanceId": vnf_id,
                "scaleVnfType": "SCALE_OUT",
                "scaleByStepData": {"aspectId": "fw_scale", "numberOfSteps": 1},
            }
        ],
    }
    assert _op(c, ns["id"], "scale", scale)["operationState"] == "COMPLETED"
    assert len(_vnfcs(c, ns["id"])["fw"]) == 2
    victim = _vnfcs(c, ns["id"])["fw"][0]
    heal = {
        "healVnfData": [
            {
                "vnfInstanceId": vnf_id,
                "cause": "firewall stuck",
                "additionalParams": {"vnfcInstanceIds": [victim["id"]], "healType": "RECREATE"},
            }
        ]
    }
    assert _op(c, ns["id"], "heal", heal)["operationState"] == "COMPLETED"
    assert len(_vnfcs(c, ns["id"])["fw"]) == 2
    assert _op(c, ns["id"], "terminate", {})["operationState"] == "COMPLETED"
    assert _on_vim(live, vim_id) == {"servers": 0, "networks": 0, "ports": 0}


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_referenced_image_missing_fails_before_any_vim_resource(
    live: LiveApi, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    c = live.client
    opts = world.Options(vnfd_id=MISSING_VNFD_ID, fw_image="acme-fw-9.1")
    assert live.onboard("vnf", world.edge_vnf(opts))["onboardingState"] == "ONBOARDED"
    nsd = world.edge_nsd(MISSING_NSD_ID, MISSING_VNFD_ID)
    assert live.onboard("nsd", nsd)["nsdOnboardingState"] == "ONBOARDED"
    vim_id = sim_vim(c, "edge-lab", zones=1, hosts=4, images=[{"name": "ubuntu-22.04"}])
    ns = _ns(c, MISSING_NSD_ID, "edge-missing")
    body = {"nsFlavourId": "default", "additionalParamsForNs": {"vimAccountId": vim_id}}
    seen = _Records()
    dbos_log = logging.getLogger("dbos")  # DBOS keeps its records to itself (no propagation)
    dbos_log.addHandler(seen)
    capfd.readouterr()
    try:
        with caplog.at_level(logging.INFO):
            op = _op(c, ns["id"], "instantiate", body)
    finally:
        dbos_log.removeHandler(seen)
    out, err_text = capfd.readouterr()
    assert op["operationState"] == "FAILED_TEMP", op
    err = op["error"]
    assert err["status"] == 422, err
    assert err["image"] == "acme-fw-9.1" and err["vduId"] == "fw"
    assert err["vimAccountId"] == vim_id and err["vnfInstanceId"]
    for word in ("acme-fw-9.1", "'fw'", err["vnfInstanceId"], vim_id):
        assert word in err["detail"], err["detail"]
    assert _on_vim(live, vim_id) == {"servers": 0, "networks": 0, "ports": 0}
    assert "Traceback" not in caplog.text + out + err_text
    records = [*caplog.records, *seen.records]
    assert not [r for r in records if r.exc_info], [r.getMessage() for r in records]
    # the image is added to the VIM's image service: a retry of the same operation completes
    svc = live.services.resources
    d = svc.driver_for(svc.get_vim(vim_id, Scope(None)))
    d.ensure_image(ImageSpec(name="acme-fw-9.1", open=lambda: io.BytesIO(b"fw image")))
    r = c.post(f"/nslcm/v2/ns_lcm_op_occs/{op['id']}/retry")
    assert r.status_code == 202, r.text
    assert wait_op(c, r.headers["location"])["operationState"] == "COMPLETED"
    assert _on_vim(live, vim_id)["servers"] == 2
