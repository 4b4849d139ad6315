"""What the NS detail and operations GUI tests share: the sample packages (onboarded once
per server, whichever test file comes first), a sim VIM and an NS instantiated through the
API."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from tests.support.live import LiveApi, sim_vim, wait_op
from tests.support.serve_setup import onboard_samples

from nfvo.samples import NSD_WEBAPP_ID

NS = "/nslcm/v2/ns_instances"


def ensure_samples(c: httpx.Client) -> None:
    """Onboard vnf-web, vnf-db and ns-webapp unless the NSD is onboarded already."""
    r = c.get("/nsd/v2/ns_descriptors", params={"filter": f"(eq,nsdId,{NSD_WEBAPP_ID})"})
    assert r.status_code == 200, r.text
    if not any(d["nsdOnboardingState"] == "ONBOARDED" for d in r.json()):
        onboard_samples(c)


def unique(prefix: str) -> str:
    """A name no other test of the session uses."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def new_vim(c: httpx.Client, prefix: str, **config: object) -> str:
    """A sim VIM account of its own (ENABLED)."""
    return sim_vim(c, unique(prefix), **config)


def new_ns(c: httpx.Client, prefix: str) -> str:
    """A NOT_INSTANTIATED ns-webapp instance; its id."""
    r = c.post(NS, json={"nsdId": NSD_WEBAPP_ID, "nsName": unique(prefix)})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def start_instantiate(c: httpx.Client, ns_id: str, vim_id: str) -> str:
    """POST instantiate (default flavour on ``vim_id``); the op occurrence id."""
    body = {"nsFlavourId": "default", "additionalParamsForNs": {"vimAccountId": vim_id}}
    r = c.post(f"{NS}/{ns_id}/instantiate", json=body)
    assert r.status_code == 202, r.text
    return r.headers["location"].rsplit("/", 1)[-1]


def instantiated(c: httpx.Client, ns_id: str, vim_id: str) -> dict[str, Any]:
    """Instantiate and wait until COMPLETED; the NsInstance."""
    op_id = start_instantiate(c, ns_id, vim_id)
    op = wait_op(c, f"/nslcm/v2/ns_lcm_op_occs/{op_id}")
    assert op["operationState"] == "COMPLETED", op
    return c.get(f"{NS}/{ns_id}").json()


def vnfcs_of(ns: dict[str, Any]) -> list[dict[str, Any]]:
    """Every VnfcResourceInfo of an NsInstance."""
    return [
        c
        for v in ns.get("vnfInstance", [])
        for c in (v.get("instantiatedVnfInfo") or {}).get("vnfcResourceInfo", [])
    ]


_DEPLOYED: dict[str, tuple[str, str]] = {}


def deployed_webapp(live: LiveApi) -> tuple[str, str]:
    """(NS id, VIM id) of one ns-webapp instantiated on a two-zone sim VIM, made once per
    server and shared by the NS page and operation page tests."""
    if live.base_url not in _DEPLOYED:
        c = live.client
        ensure_samples(c)
        vim_id = new_vim(c, "gui-topo", zones=2, hosts=4)
        ns_id = new_ns(c, "gui-topo")
        instantiated(c, ns_id, vim_id)
        _DEPLOYED[live.base_url] = (ns_id, vim_id)
    return _DEPLOYED[live.base_url]
