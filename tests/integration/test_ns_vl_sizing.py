"""NS virtual links sized for the ports they carry, through the real API on the sim VIM:
600 ports on one NS VL instantiate, each with its own address inside the VL's subnet; a
given CIDR that is too small or not a CIDR is refused naming the field. SQLite and
PostgreSQL."""

from __future__ import annotations

import ipaddress
import time
import uuid

import httpx
import pytest
from tests.support.live import LiveApi, wait_op

from nfvo.inventory.lcm_repo import NsRecordsRepository, NsRepository
from nfvo.resources.service import Scope
from nfvo.samples.synthetic import nsd_package, vnf_package
from nfvo.vim.base import TAG_NS

NS = "/nslcm/v2/ns_instances"
FIELD = "additionalParamsForNs.nsVirtualLinkCidrs"


def _sim_vim(c: httpx.Client) -> str:
    vim = c.post(
        "/admin/v1/vim_accounts",
        json={"name": "big", "vim_type": "sim", "config": {"zones": 1, "hosts": 12}},
    ).json()
    deadline = time.monotonic() + 10
    while c.get(f"/admin/v1/vim_accounts/{vim['id']}").json()["_admin"]["operationalState"] != (
        "ENABLED"
    ):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    return vim["id"]


def _onboard(live: LiveApi, instances: int) -> str:
    vnfd_id, nsd_id = str(uuid.uuid4()), str(uuid.uuid4())
    vnf = live.onboard("vnf", vnf_package(vnfd_id, vdus=1, instances=instances))
    assert vnf.get("onboardingState") == "ONBOARDED", vnf
    nsd = live.onboard("nsd", nsd_package(nsd_id, vnfd_id, profiles=1))
    assert nsd.get("nsdOnboardingState") == "ONBOARDED", nsd
    return nsd_id


def _create(c: httpx.Client, nsd_id: str) -> str:
    r = c.post(NS, json={"nsdId": nsd_id, "nsName": "big", "nsDescription": "600 ports"})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_six_hundred_ports_on_one_ns_virtual_link(live: LiveApi) -> None:
    c = live.client
    vim_id = _sim_vim(c)
    ns_id = _create(c, _onboard(live, 600))
    r = c.post(
        f"{NS}/{ns_id}/instantiate",
        json={"nsFlavourId": "default", "additionalParamsForNs": {"vimAccountId": vim_id}},
    )
    assert r.status_code == 202, r.text
    op = wait_op(c, r.headers["location"], timeout=300)
    assert op["operationState"] == "COMPLETED", op

    svc = live.services.resources
    driver = svc.driver_for(svc.get_vim(vim_id, Scope(None)))
    try:
        tags = {TAG_NS: ns_id}
        (net,) = [n for n in driver.list_networks(tags) if n.name.endswith("-data_vl")]
        (subnet_id,) = net.subnets
        ports = [p for p in driver.list_ports(tags) if p.network_id == net.id]
    finally:
        driver.close()
    got = c.get(f"{NS}/{ns_id}").json()
    vnfcs = [
        v for vnf in got["vnfInstance"] for v in vnf["instantiatedVnfInfo"]["vnfcResourceInfo"]
    ]
    assert len(vnfcs) == 600
    assert len(ports) == 600
    addresses = [ipaddress.ip_address(a) for p in ports for a in p.ip_addresses]
    assert len(addresses) == 600 and len(set(addresses)) == 600
    # the subnet the plan gave the NS VL: a /22 (600 ports + the VIM's own overflow a /23)
    with live.services.db.session() as s:
        ns = NsRepository(s).get(ns_id, with_plan=True)
        (vl,) = ns.plan["virtual_links"]
        (row,) = NsRecordsRepository(s).ns_vls(ns_id)
    assert (row.vl_id, row.network_id, row.subnet_id) == ("data_vl", net.id, subnet_id)
    (info,) = got["virtualLinkInfo"]
    assert info["resourceHandle"][0]["resourceId"] == net.id
    cidr = ipaddress.ip_network(vl["cidr"])
    assert cidr.prefixlen == 22 and cidr.subnet_of(ipaddress.ip_network("172.16.0.0/12"))
    assert all(a in cidr for a in addresses)


@pytest.mark.parametrize(
    ("cidrs", "words"),
    [
        ({"data_vl": "10.0.0.0/33"}, ()),
        ({"data_vl": "10.9.0.0/24"}, ("room for 248 ports; the NS can put 300",)),
    ],
)
def test_given_cidr_bad_or_too_small_is_refused_naming_the_field(
    live: LiveApi, cidrs: dict, words: tuple[str, ...]
) -> None:
    """Both refused when requested (no op occurrence): a malformed CIDR and one too small
    for the ports the NS can put on the VL."""
    c = live.client
    vim_id = _sim_vim(c)
    ns_id = _create(c, _onboard(live, 300))
    r = c.post(
        f"{NS}/{ns_id}/instantiate",
        json={
            "nsFlavourId": "default",
            "additionalParamsForNs": {"vimAccountId": vim_id, "nsVirtualLinkCidrs": cidrs},
        },
    )
    assert r.status_code == 400, r.text
    assert f"{FIELD}.data_vl" in r.json()["detail"]
    for word in words:
        assert word in r.json()["detail"]
    assert c.get("/nslcm/v2/ns_lcm_op_occs").json() == []
