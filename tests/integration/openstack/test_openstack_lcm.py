"""The NS life cycle on a real Nova (the loopback cloud of ``up.py``), driven through the API.

Instantiate the sample NS, scale its web VNF out and in, delete one server directly in Nova
(nfvo learns it from Nova's own versioned notifications over RabbitMQ and marks the VNFC
lost), heal it, terminate, delete — checking after each step that Nova and Neutron hold
exactly the servers, ports and networks nfvo recorded, and nothing once terminated.
"""

from __future__ import annotations

import json
import os
import time
import urllib.request
from typing import Any

import httpx
import pytest
from tests.integration.openstack.test_openstack_contract import URL, RealNovaAdapter
from tests.support.live import LiveApi, wait_for, wait_op

from nfvo.resources.service import Scope
from nfvo.samples import NSD_WEBAPP_ID, VNF_WEB_ID, build_sample
from nfvo.vim.base import TAG_NS

NS = "/nslcm/v2/ns_instances"
LOST_WITHIN_S = 2.0

pytestmark = pytest.mark.skipif(
    not URL,
    reason="no OpenStack test cloud: run tests/integration/openstack/up.py and export the "
    "NFVO_TEST_OPENSTACK_* variables it prints",
)


def nova(path: str, method: str = "GET") -> Any:
    """A call straight to Nova, behind nfvo's back."""
    req = urllib.request.Request(f"{URL}{path}", method=method)
    req.add_header("X-Auth-Token", os.environ["NFVO_TEST_OPENSTACK_TOKEN"])
    req.add_header("OpenStack-API-Version", "compute 2.74")
    with urllib.request.urlopen(req, timeout=30) as resp:
        raw = resp.read()
    return json.loads(raw) if raw else None


def run_op(c: httpx.Client, ns_id: str, what: str, body: dict) -> dict:
    r = c.post(f"{NS}/{ns_id}/{what}", json=body)
    assert r.status_code == 202, r.text
    op = wait_op(c, r.headers["location"], 240)
    assert op["operationState"] == "COMPLETED", op
    return op


def recorded(c: httpx.Client, ns_id: str) -> dict[str, set[str]]:
    """Server and port ids nfvo recorded for the NS (its VNFCs)."""
    ns = c.get(f"{NS}/{ns_id}").json()
    vnfcs = [
        v for f in ns.get("vnfInstance", []) for v in f["instantiatedVnfInfo"]["vnfcResourceInfo"]
    ]
    return {
        "servers": {v["computeResource"]["resourceId"] for v in vnfcs},
        "vnfcs": {v["id"] for v in vnfcs},
    }


def on_vim(live: LiveApi, vim_id: str, ns_id: str) -> dict[str, set[str]]:
    """What the cloud holds for the NS: servers from Nova, networks and ports from Neutron."""
    svc = live.services.resources
    d = svc.driver_for(svc.get_vim(vim_id, Scope(None)))
    try:
        tags = {TAG_NS: ns_id}
        return {
            "servers": {s.id for s in d.list_servers(tags)},
            "networks": {n.id for n in d.list_networks(tags)},
            "ports": {p.id for p in d.list_ports(tags)},
        }
    finally:
        d.close()


def nova_servers_named(prefix_ids: set[str]) -> set[str]:
    """Of the given server ids, those Nova itself still lists (all projects)."""
    servers = nova("/servers?all_tenants=1&limit=1000")["servers"]
    return {s["id"] for s in servers} & prefix_ids


def web_vnf(c: httpx.Client, ns_id: str) -> dict:
    [web] = [v for v in c.get(f"{NS}/{ns_id}").json()["vnfInstance"] if v["vnfdId"] == VNF_WEB_ID]
    return web


def test_ns_life_cycle_on_real_nova(live: LiveApi) -> None:
    c = live.client
    for name in ("vnf-web", "vnf-db", "ns-webapp"):
        info = live.onboard("nsd" if name.startswith("ns") else "vnf", build_sample(name))
        assert (info.get("onboardingState") or info.get("nsdOnboardingState")) == "ONBOARDED"
    config = RealNovaAdapter().config(
        default_image="cirros",  # the sample's cache VDU names no image
        notifications={"amqp_url": os.environ["NFVO_TEST_OPENSTACK_AMQP_URL"], "exchange": "nova"},
    )
    r = c.post(
        "/admin/v1/vim_accounts",
        json={
            "name": "nova",
            "vim_type": "openstack",
            "vim_url": URL,
            "vim_password": os.environ["NFVO_TEST_OPENSTACK_TOKEN"],
            "config": config,
        },
    )
    assert r.status_code == 201, r.text
    vim = wait_for(
        c, f"/admin/v1/vim_accounts/{r.json()['id']}", "operationalState", ("PROCESSING",), 60
    )
    assert vim["_admin"]["operationalState"] == "ENABLED", vim
    vim_id = vim["id"]

    # instantiate: Nova holds exactly the recorded servers; NS VLs and VNF internal VLs exist
    ns = c.post(NS, json={"nsdId": NSD_WEBAPP_ID, "nsName": "on-nova"}).json()
    body = {"nsFlavourId": "default", "additionalParamsForNs": {"vimAccountId": vim_id}}
    run_op(c, ns["id"], "instantiate", body)
    rec, cloud = recorded(c, ns["id"]), on_vim(live, vim_id, ns["id"])
    assert cloud["servers"] == rec["servers"] and len(rec["servers"]) >= 3
    assert nova_servers_named(rec["servers"]) == rec["servers"]
    assert len(cloud["networks"]) >= 2 and len(cloud["ports"]) >= len(rec["servers"])
    ports0, nets0 = len(cloud["ports"]), cloud["networks"]
    statuses = {
        s["status"]
        for s in nova("/servers/detail?all_tenants=1")["servers"]
        if s["id"] in rec["servers"]
    }
    assert statuses == {"ACTIVE"}

    # scale the web VNF out by one step, then back in
    web = web_vnf(c, ns["id"])

    def scale(kind: str) -> dict:
        data = {
            "vnfInstanceId": web["id"],
            "scaleVnfType": kind,
            "scaleByStepData": {"aspectId": "web_scale", "numberOfSteps": 1},
        }
        return {"scaleType": "SCALE_VNF", "scaleVnfData": [data]}

    run_op(c, ns["id"], "scale", scale("SCALE_OUT"))
    out, cloud = recorded(c, ns["id"]), on_vim(live, vim_id, ns["id"])
    assert len(out["servers"]) == len(rec["servers"]) + 1 and cloud["servers"] == out["servers"]
    assert len(cloud["ports"]) > ports0
    run_op(c, ns["id"], "scale", scale("SCALE_IN"))
    back, cloud = recorded(c, ns["id"]), on_vim(live, vim_id, ns["id"])
    assert back["servers"] == rec["servers"] and cloud["servers"] == rec["servers"]
    assert len(cloud["ports"]) == ports0 and cloud["networks"] == nets0

    # a server deleted in Nova behind nfvo's back: the VNFC is marked lost from Nova's own
    # notification (not from a sync), then healed by recreating it
    web = web_vnf(c, ns["id"])
    victim = next(v for v in web["instantiatedVnfInfo"]["vnfcResourceInfo"] if v["vduId"] == "web")
    server_id = victim["computeResource"]["resourceId"]
    started = time.monotonic()
    nova(f"/servers/{server_id}", "DELETE")
    while True:
        vnfc = next(
            v
            for v in web_vnf(c, ns["id"])["instantiatedVnfInfo"]["vnfcResourceInfo"]
            if v["id"] == victim["id"]
        )
        if vnfc["metadata"]["status"] == "LOST":
            break
        assert time.monotonic() - started < 10, f"VNFC still {vnfc['metadata']['status']}"
        time.sleep(0.02)
    took = time.monotonic() - started
    print(f"VNFC marked LOST {took:.3f} s after the DELETE to Nova")
    assert took < LOST_WITHIN_S
    heal = {
        "healVnfData": [
            {
                "vnfInstanceId": web["id"],
                "cause": "server deleted in Nova",
                "additionalParams": {"vnfcInstanceIds": [victim["id"]], "healType": "RECREATE"},
            }
        ]
    }
    run_op(c, ns["id"], "heal", heal)
    healed, cloud = recorded(c, ns["id"]), on_vim(live, vim_id, ns["id"])
    assert server_id not in healed["servers"] and len(healed["servers"]) == len(rec["servers"])
    assert cloud["servers"] == healed["servers"]
    assert len(cloud["ports"]) == ports0 and cloud["networks"] == nets0

    # terminate: nothing of the NS is left in Nova or Neutron; the NS can be deleted
    run_op(c, ns["id"], "terminate", {})
    assert on_vim(live, vim_id, ns["id"]) == {"servers": set(), "networks": set(), "ports": set()}
    assert nova_servers_named(healed["servers"] | rec["servers"]) == set()
    assert c.delete(f"{NS}/{ns['id']}").status_code == 204
