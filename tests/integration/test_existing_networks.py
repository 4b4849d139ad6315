"""An NS virtual link mapped to an existing VIM network
(``additionalParamsForNs.nsVirtualLinkNetworks``), through the real API on two sim VIMs: the
VNFs on the named VIM get their ports on that network (addresses from its subnet), the other
VIM gets a new network as usual, terminate removes the ports and leaves the network; a
mapping to a network the VIM lacks, to a VIM the VL is not used on, or malformed is refused
before any operation exists, naming the field. SQLite and PostgreSQL."""

from __future__ import annotations

import ipaddress

import httpx
import pytest
from tests.support.live import LiveApi, sim_vim, wait_op
from tests.support.serve_setup import onboard_samples

from nfvo.inventory.lcm_repo import NsRecordsRepository
from nfvo.resources.service import Scope
from nfvo.samples import NSD_WEBAPP_ID

NS = "/nslcm/v2/ns_instances"
FIELD = "additionalParamsForNs.nsVirtualLinkNetworks"
IMAGES = [{"name": n} for n in ("cirros", "web-img", "db-img")]
MGMT_CIDR = "10.77.0.0/24"


def _vims(c: httpx.Client) -> tuple[str, str]:
    a = sim_vim(c, "vim-a", images=IMAGES, networks=[{"name": "mgmt-net", "cidr": MGMT_CIDR}])
    b = sim_vim(c, "vim-b", images=IMAGES)
    return a, b


def _body(a: str, b: str, networks: object) -> dict:
    return {
        "nsFlavourId": "default",
        "additionalParamsForNs": {"vimAccountId": a, "nsVirtualLinkNetworks": networks},
        "additionalParamsForVnf": [
            {"vnfProfileId": "vnf_db", "additionalParams": {"vimAccountId": b}}
        ],
    }


def _ns(c: httpx.Client) -> str:
    r = c.post(NS, json={"nsdId": NSD_WEBAPP_ID, "nsName": "mapped"})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_a_virtual_link_on_an_existing_network(live: LiveApi) -> None:
    c = live.client
    onboard_samples(c)
    a, b = _vims(c)
    mgmt = next(
        n for n in live.services.resources.networks(a, Scope(None)) if n["name"] == "mgmt-net"
    )
    ns_id = _ns(c)
    go = c.post(f"{NS}/{ns_id}/instantiate", json=_body(a, b, {"mgmt_vl": "mgmt-net"}))
    assert go.status_code == 202, go.text
    assert wait_op(c, go.headers["location"])["operationState"] == "COMPLETED"

    with live.services.db.session() as s:
        vls = {
            (v.vl_id, v.vim_account_id): v.network_id for v in NsRecordsRepository(s).ns_vls(ns_id)
        }
    assert vls[("mgmt_vl", a)] == mgmt["id"]  # the existing network, not a new one
    assert vls[("mgmt_vl", b)] != mgmt["id"]  # VIM B: a new network, as before
    # the VNF on VIM A has its management port inside the existing network's subnet
    info = c.get(f"{NS}/{ns_id}").json()
    web = next(v for v in info["vnfInstance"] if v["vimId"] == a)
    addresses = [
        ip
        for vnfc in web["instantiatedVnfInfo"]["vnfcResourceInfo"]
        for cp in vnfc.get("vnfcCpInfo", [])
        for ip in _ips(cp)
    ]
    assert any(ipaddress.ip_address(ip) in ipaddress.ip_network(MGMT_CIDR) for ip in addresses), (
        addresses
    )

    term = c.post(f"{NS}/{ns_id}/terminate", json={})
    assert term.status_code == 202, term.text
    assert wait_op(c, term.headers["location"])["operationState"] == "COMPLETED"
    driver = live.services.resources.driver(a)
    net = driver.get_network(mgmt["id"])  # still there, with no port of the NS left
    assert net.name == "mgmt-net"
    assert not [p for p in driver.list_ports() if p.network_id == mgmt["id"]]


def _ips(cp: dict) -> list[str]:
    out = []
    for proto in cp.get("cpProtocolInfo", []):
        for addr in proto.get("ipOverEthernet", {}).get("ipAddresses", []):
            out += addr.get("addresses", [])
    return out


@pytest.mark.parametrize(
    ("networks", "field", "words"),
    [
        ({"mgmt_vl": "no-such-net"}, f"{FIELD}.mgmt_vl", "has no network 'no-such-net'"),
        ({"nope_vl": "mgmt-net"}, f"{FIELD}.nope_vl", "has no virtual link 'nope_vl'"),
        ("mgmt-net", FIELD, "must be an object"),
        ({"mgmt_vl": {"network": ""}}, f"{FIELD}.mgmt_vl.network", "network id or name"),
        ({"mgmt_vl": {"network": "x", "cidr": "1"}}, f"{FIELD}.mgmt_vl.cidr", "unknown field"),
    ],
)
def test_bad_mappings_are_refused_naming_the_field(
    live: LiveApi, networks: object, field: str, words: str
) -> None:
    c = live.client
    onboard_samples(c)
    a, b = _vims(c)
    ns_id = _ns(c)
    r = c.post(f"{NS}/{ns_id}/instantiate", json=_body(a, b, networks))
    assert r.status_code in (400, 422), r.text
    problem = r.json()
    assert problem.get("field") == field, problem
    assert words in problem["detail"], problem
    assert (
        c.get("/nslcm/v2/ns_lcm_op_occs", params={"filter": f"(eq,nsInstanceId,{ns_id})"}).json()
        == []
    )


def test_a_vim_the_link_is_not_used_on_is_refused(live: LiveApi) -> None:
    c = live.client
    onboard_samples(c)
    a, b = _vims(c)
    other = sim_vim(c, "vim-c", images=IMAGES)
    r = c.post(
        f"{NS}/{_ns(c)}/instantiate",
        json=_body(a, b, {"mgmt_vl": {"vimAccountId": other, "network": "x"}}),
    )
    assert r.status_code == 400, r.text
    assert f"no VNF on VIM account {other} connects to 'mgmt_vl'" in r.json()["detail"]
