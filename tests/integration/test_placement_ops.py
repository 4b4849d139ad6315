"""Placement rules on every operation that adds or recreates VDUs (SCALE_VNF, SCALE_NS, heal by
recreate), levels of VNFs added by SCALE_NS, INSTANTIATE refused when requested, VNF package
usage and the usage nfvo itself placed on VIM hosts. Real API on loopback, sim VIM, SQLite and
PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
from tests.support.live import LiveApi, wait_op

from nfvo.catalog.builder import build_csar_from_files, read_package_dir
from nfvo.inventory.models import NsLcmOpOcc
from nfvo.samples import NSD_WEBAPP_ID, VNF_WEB_ID, build_sample, sample_dir

NS = "/nslcm/v2/ns_instances"
OPS = "/nslcm/v2/ns_lcm_op_occs"
VIMS = "/admin/v1/vim_accounts"
IMAGES = [{"name": n} for n in ("cirros", "web-img", "db-img")]


def _onboard(live: LiveApi, web: bytes | None = None) -> None:
    for name in ("vnf-web", "vnf-db", "ns-webapp"):
        kind = "nsd" if name.startswith("ns") else "vnf"
        data = web if name == "vnf-web" and web is not None else build_sample(name)
        info = live.onboard(kind, data)
        assert (info.get("onboardingState") or info.get("nsdOnboardingState")) == "ONBOARDED"


def _vim(c: httpx.Client, name: str, **config: object) -> str:
    r = c.post(VIMS, json={"name": name, "vim_type": "sim", "config": {"images": IMAGES, **config}})
    assert r.status_code in (201, 202), r.text
    vim_id = r.json()["id"]
    deadline = time.monotonic() + 10
    while c.get(f"{VIMS}/{vim_id}").json()["_admin"]["operationalState"] == "PROCESSING":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    return vim_id


def _ns(c: httpx.Client, name: str) -> str:
    r = c.post(NS, json={"nsdId": NSD_WEBAPP_ID, "nsName": name})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _run(c: httpx.Client, ns_id: str, what: str, body: dict) -> dict:
    r = c.post(f"{NS}/{ns_id}/{what}", json=body)
    assert r.status_code == 202, r.text
    return wait_op(c, r.headers["location"])


def _instantiate(c: httpx.Client, ns_id: str, vim_id: str) -> None:
    body = {"nsFlavourId": "default", "additionalParamsForNs": {"vimAccountId": vim_id}}
    op = _run(c, ns_id, "instantiate", body)
    assert op["operationState"] == "COMPLETED", op


def _vnfs(c: httpx.Client, ns_id: str, vnfd_id: str) -> list[dict]:
    ns = c.get(f"{NS}/{ns_id}").json()
    return [v for v in ns["vnfInstance"] if v["vnfdId"] == vnfd_id]


def _hosts(vnf: dict, vdu: str) -> list[str]:
    return [
        v["metadata"]["host"]
        for v in vnf["instantiatedVnfInfo"]["vnfcResourceInfo"]
        if v["vduId"] == vdu
    ]


def _scale_vnf(vnf_id: str, aspect: str, kind: str, steps: int = 1) -> dict:
    return {
        "scaleType": "SCALE_VNF",
        "scaleVnfData": [
            {
                "vnfInstanceId": vnf_id,
                "scaleVnfType": kind,
                "scaleByStepData": {"aspectId": aspect, "numberOfSteps": steps},
            }
        ],
    }


def _servers(c: httpx.Client, vim_id: str) -> list[dict]:
    return c.get(f"{VIMS}/{vim_id}/resources").json()["servers"]


def _ops(c: httpx.Client) -> list[dict]:
    r = c.get(OPS)
    assert r.status_code == 200, r.text
    return r.json()


def test_scale_out_keeps_anti_affinity_or_is_refused_naming_the_rule(live: LiveApi) -> None:
    """The sim VIM alone would stack the new web server on its sibling's host (first host by
    name with room); placement spreads them, and refuses what cannot be spread."""
    _onboard(live)
    c = live.client
    vim_id = _vim(c, "two-hosts", zones=1, hosts=2)
    ns_id = _ns(c, "anti")
    _instantiate(c, ns_id, vim_id)
    [web] = _vnfs(c, ns_id, VNF_WEB_ID)
    assert len(_hosts(web, "web")) == 1
    servers = {s["id"] for s in _servers(c, vim_id)}
    ops = len(_ops(c))
    # 3 web servers that must all be apart do not fit on 2 hosts: refused when requested
    r = c.post(f"{NS}/{ns_id}/scale", json=_scale_vnf(web["id"], "web_scale", "SCALE_OUT", 2))
    assert r.status_code == 422, r.text
    problem = r.json()
    assert "web_anti_affinity" in problem["detail"] and "AntiAffinityRule" in problem["detail"]
    assert any("web_anti_affinity" in rule for rule in problem["placementRules"])
    assert len(_ops(c)) == ops  # no op occurrence
    assert {s["id"] for s in _servers(c, vim_id)} == servers  # nothing created
    ns = c.get(f"{NS}/{ns_id}").json()
    assert ns["nsState"] == "INSTANTIATED" and "currentOpOcc" not in str(ns.get("_links", ""))
    # one more web server fits: on the other host
    op = _run(c, ns_id, "scale", _scale_vnf(web["id"], "web_scale", "SCALE_OUT"))
    assert op["operationState"] == "COMPLETED", op
    [web] = _vnfs(c, ns_id, VNF_WEB_ID)
    hosts = _hosts(web, "web")
    assert len(hosts) == 2 and len(set(hosts)) == 2, hosts
    # a third one does not
    r = c.post(f"{NS}/{ns_id}/scale", json=_scale_vnf(web["id"], "web_scale", "SCALE_OUT"))
    assert r.status_code == 422 and "web_anti_affinity" in r.json()["detail"], r.text
    assert len(_servers(c, vim_id)) == len(servers) + 1
    # scale in, then out again: still apart
    assert (
        _run(c, ns_id, "scale", _scale_vnf(web["id"], "web_scale", "SCALE_IN"))["operationState"]
        == "COMPLETED"
    )
    op = _run(c, ns_id, "scale", _scale_vnf(web["id"], "web_scale", "SCALE_OUT"))
    assert op["operationState"] == "COMPLETED", op
    [web] = _vnfs(c, ns_id, VNF_WEB_ID)
    assert len(set(_hosts(web, "web"))) == 2


def test_scale_out_keeps_zone_affinity(live: LiveApi) -> None:
    """The database replicas of one VNF share a zone (AffinityRule, scope zone): a replica
    added by SCALE_VNF joins them, though the sim VIM on its own would pick a host of the
    other zone (first by name with room)."""
    _onboard(live)
    c = live.client
    vim_id = _vim(
        c,
        "zones",
        zones=[{"name": "za"}, {"name": "zb"}],
        hosts=[{"name": "a1", "zone": "za", "vcpus": 8}, {"name": "b1", "zone": "zb"}],
    )
    first, second = _ns(c, "fills-za"), _ns(c, "goes-to-zb")
    _instantiate(c, first, vim_id)
    _instantiate(c, second, vim_id)
    from nfvo.samples import VNF_DB_ID

    [db] = _vnfs(c, second, VNF_DB_ID)
    assert set(_hosts(db, "db")) == {"b1"}  # za had no room left for the replicas
    assert _run(c, first, "terminate", {})["operationState"] == "COMPLETED"  # za has room now
    op = _run(c, second, "scale", _scale_vnf(db["id"], "db_scale", "SCALE_OUT"))
    assert op["operationState"] == "COMPLETED", op
    [db] = _vnfs(c, second, VNF_DB_ID)
    assert _hosts(db, "db") == ["b1"] * 2


def test_vnf_added_by_scale_ns_has_levels_and_scales(live: LiveApi) -> None:
    _onboard(live)
    c = live.client
    vim_id = _vim(c, "six", zones=2, hosts=6)
    ns_id = _ns(c, "ns-scale")
    _instantiate(c, ns_id, vim_id)
    [first] = _vnfs(c, ns_id, VNF_WEB_ID)
    # the first web VNF scaled out beforehand: the added one still starts at its profile's level
    op = _run(c, ns_id, "scale", _scale_vnf(first["id"], "web_scale", "SCALE_OUT"))
    assert op["operationState"] == "COMPLETED", op
    ns_scale = {
        "scaleType": "SCALE_NS",
        "scaleNsData": {
            "scaleNsByStepsData": {
                "scalingDirection": "SCALE_OUT",
                "aspectId": "web_tier",
                "numberOfSteps": 1,
            }
        },
    }
    op = _run(c, ns_id, "scale", ns_scale)
    assert op["operationState"] == "COMPLETED", op
    [added] = [v for v in _vnfs(c, ns_id, VNF_WEB_ID) if v["id"] != first["id"]]
    info = added["instantiatedVnfInfo"]
    assert info["scaleStatus"] == [{"aspectId": "web_scale", "scaleLevel": 0}]
    assert len(_hosts(added, "web")) == 1
    op = _run(c, ns_id, "scale", _scale_vnf(added["id"], "web_scale", "SCALE_OUT", 2))
    assert op["operationState"] == "COMPLETED", op
    [added] = [v for v in _vnfs(c, ns_id, VNF_WEB_ID) if v["id"] == added["id"]]
    hosts = _hosts(added, "web")
    assert len(hosts) == 3 and len(set(hosts)) == 3, hosts  # its own anti-affinity kept
    assert added["instantiatedVnfInfo"]["scaleStatus"] == [
        {"aspectId": "web_scale", "scaleLevel": 2}
    ]
    op = _run(c, ns_id, "scale", _scale_vnf(added["id"], "web_scale", "SCALE_IN"))
    assert op["operationState"] == "COMPLETED", op
    [added] = [v for v in _vnfs(c, ns_id, VNF_WEB_ID) if v["id"] == added["id"]]
    assert len(_hosts(added, "web")) == 2
    assert _run(c, ns_id, "terminate", {})["operationState"] == "COMPLETED"
    assert [s for s in _servers(c, vim_id) if s["nsInstanceId"] == ns_id] == []


def test_heal_by_recreate_lands_on_a_valid_host(live: LiveApi) -> None:
    """The host of one web server fails: recreating that server goes neither to the failed
    host nor to its sibling's (anti-affinity) but to the third."""
    _onboard(live)
    c = live.client
    vim_id = _vim(c, "three", zones=1, hosts=3)
    ns_id = _ns(c, "heal")
    _instantiate(c, ns_id, vim_id)
    [web] = _vnfs(c, ns_id, VNF_WEB_ID)
    op = _run(c, ns_id, "scale", _scale_vnf(web["id"], "web_scale", "SCALE_OUT"))
    assert op["operationState"] == "COMPLETED", op
    [web] = _vnfs(c, ns_id, VNF_WEB_ID)
    vnfcs = [v for v in web["instantiatedVnfInfo"]["vnfcResourceInfo"] if v["vduId"] == "web"]
    broken, sibling = vnfcs[0], vnfcs[1]
    failed_host = broken["metadata"]["host"]
    _host_down(c, vim_id, failed_host)
    heal = {
        "healVnfData": [
            {
                "vnfInstanceId": web["id"],
                "additionalParams": {"healType": "RECREATE", "vnfcInstanceIds": [broken["id"]]},
            }
        ]
    }
    op = _run(c, ns_id, "heal", heal)
    assert op["operationState"] == "COMPLETED", op
    [web] = _vnfs(c, ns_id, VNF_WEB_ID)
    hosts = sorted(_hosts(web, "web"))
    third = ({h["name"] for h in c.get(f"{VIMS}/{vim_id}/resources").json()["hosts"]}) - {
        failed_host,
        sibling["metadata"]["host"],
    }
    assert hosts == sorted([sibling["metadata"]["host"], *third]), hosts


def _variant(change: Callable[[dict[str, bytes]], None]) -> bytes:
    files = read_package_dir(sample_dir("vnf-web"))
    change(files)
    return build_csar_from_files(files)


def _two_webs(files: dict[str, bytes]) -> None:
    """Two web servers at the default level (anti-affinity: they need two hosts)."""
    path = "Definitions/vnf_web_df_small.yaml"
    text = files[path].decode()
    for old, new in (
        (
            "            number_of_instances: 1\n        targets: [ web ]",
            "            number_of_instances: 2\n        targets: [ web ]",
        ),
        (
            "              number_of_instances: 1\n            high:\n"
            "              number_of_instances: 2\n        targets: [ web ]",
            "              number_of_instances: 2\n            high:\n"
            "              number_of_instances: 3\n        targets: [ web ]",
        ),
    ):
        assert old in text, old
        text = text.replace(old, new)
    files[path] = text.encode()


def _assert_refused(c: httpx.Client, ns_id: str, body: dict, status: int, *words: str) -> None:
    r = c.post(f"{NS}/{ns_id}/instantiate", json=body)
    assert r.status_code == status, r.text
    problem = r.json()
    assert problem["status"] == status and problem["title"]
    for word in words:
        assert word in problem["detail"], problem
    assert _ops(c) == []
    assert c.get(f"{NS}/{ns_id}").json()["nsState"] == "NOT_INSTANTIATED"


def test_instantiate_is_validated_when_requested(live: LiveApi) -> None:
    _onboard(live, web=_variant(_two_webs))
    c = live.client
    one = _vim(c, "one-host", zones=1, hosts=1)
    broken = _vim(c, "broken", faults={"check": {"error_rate": 1.0, "error": "VimUnavailable"}})
    assert c.get(f"{VIMS}/{broken}").json()["_admin"]["operationalState"] == "ERROR"
    ns_id = _ns(c, "validated")

    def body(vim_id: str, **more: object) -> dict:
        return {"nsFlavourId": "default", "additionalParamsForNs": {"vimAccountId": vim_id}, **more}

    _assert_refused(c, ns_id, {**body(one), "nsFlavourId": "gold"}, 400, "nsFlavourId", "gold")
    _assert_refused(
        c, ns_id, body(one, nsInstantiationLevelId="huge"), 400, "nsInstantiationLevelId", "huge"
    )
    _assert_refused(c, ns_id, body("no-such-vim"), 422, "no-such-vim", "does not exist")
    _assert_refused(c, ns_id, body(broken), 422, "broken", "ERROR")
    _assert_refused(c, ns_id, body(one), 422, "web_anti_affinity", "AntiAffinityRule")
    # with room for the rule, the same request goes through
    two = _vim(c, "two-hosts", zones=1, hosts=2)
    _instantiate(c, ns_id, two)
    [web] = _vnfs(c, ns_id, VNF_WEB_ID)
    assert len(set(_hosts(web, "web"))) == 2


def test_instantiate_refuses_a_missing_day0_file(live: LiveApi) -> None:
    def drop_day0(files: dict[str, bytes]) -> None:
        del files["Files/cloud-init/web.yaml"]

    c = live.client
    pkg = live.create("vnf")
    r = live.upload("vnf", pkg["id"], _variant(drop_day0))
    assert r.status_code == 202, r.text
    info = live.wait("vnf", pkg["id"])
    if info["onboardingState"] != "ONBOARDED":
        # refused at onboarding already (the earlier, better place): nothing to instantiate
        assert "web.yaml" in str(info), info
        return
    for name in ("vnf-db", "ns-webapp"):
        live.onboard("nsd" if name.startswith("ns") else "vnf", build_sample(name))
    vim_id = _vim(c, "lab", zones=1, hosts=2)
    ns_id = _ns(c, "no-day0")
    body = {"nsFlavourId": "default", "additionalParamsForNs": {"vimAccountId": vim_id}}
    _assert_refused(c, ns_id, body, 400, "web.yaml")


def test_vnf_package_usage_follows_the_ns(live: LiveApi) -> None:
    _onboard(live)
    c = live.client
    pkgs = c.get("/vnfpkgm/v2/vnf_packages").json()
    assert {p["usageState"] for p in pkgs} == {"NOT_IN_USE"}
    vim_id = _vim(c, "lab", zones=1, hosts=2)
    ns_id = _ns(c, "user")
    _instantiate(c, ns_id, vim_id)
    pkgs = c.get("/vnfpkgm/v2/vnf_packages").json()
    assert len(pkgs) == 2 and {p["usageState"] for p in pkgs} == {"IN_USE"}
    web = next(p for p in pkgs if p["vnfdId"] == VNF_WEB_ID)
    r = c.patch(f"/vnfpkgm/v2/vnf_packages/{web['id']}", json={"operationalState": "DISABLED"})
    assert r.status_code == 200, r.text
    r = c.delete(f"/vnfpkgm/v2/vnf_packages/{web['id']}")
    assert r.status_code == 409 and "IN_USE" in r.json()["detail"], r.text
    assert _run(c, ns_id, "terminate", {})["operationState"] == "COMPLETED"
    assert c.delete(f"{NS}/{ns_id}").status_code == 204
    pkgs = c.get("/vnfpkgm/v2/vnf_packages").json()
    assert {p["usageState"] for p in pkgs} == {"NOT_IN_USE"}
    nsd = c.get("/nsd/v2/ns_descriptors").json()[0]
    assert nsd["nsdUsageState"] == "NOT_IN_USE"


def test_two_ns_share_vnf_packages(live: LiveApi) -> None:
    """A VNF package stays IN_USE while any NS deploying it exists."""
    _onboard(live)
    c = live.client
    first, second = _ns(c, "a"), _ns(c, "b")
    assert c.delete(f"{NS}/{first}").status_code == 204
    pkgs = c.get("/vnfpkgm/v2/vnf_packages").json()
    assert {p["usageState"] for p in pkgs} == {"IN_USE"}
    assert c.delete(f"{NS}/{second}").status_code == 204
    pkgs = c.get("/vnfpkgm/v2/vnf_packages").json()
    assert {p["usageState"] for p in pkgs} == {"NOT_IN_USE"}


def test_vim_resources_show_what_nfvo_placed(live: LiveApi) -> None:
    _onboard(live)
    c = live.client
    vim_id = _vim(c, "lab", zones=1, hosts=3)
    ns_id = _ns(c, "usage")
    _instantiate(c, ns_id, vim_id)
    res = c.get(f"{VIMS}/{vim_id}/resources").json()
    servers = [s for s in res["servers"] if s["nsInstanceId"] == ns_id]
    assert servers
    for host in res["hosts"]:
        mine = [s for s in servers if s["host"] == host["name"]]
        assert host["usage"]["servers"] == len(mine), host
        assert host["usage"]["vcpus"] == sum(s["vcpus"] for s in mine), host
        assert host["usage"]["ramMib"] == sum(s["ramMib"] for s in mine), host
    assert sum(h["usage"]["vcpus"] for h in res["hosts"]) > 0
    # a sync counts the same servers from the VIM's side: the figures do not change
    assert c.post(f"{VIMS}/{vim_id}/sync").status_code == 200
    again = c.get(f"{VIMS}/{vim_id}/resources").json()
    assert [h["usage"] for h in again["hosts"]] == [h["usage"] for h in res["hosts"]]
    assert all(h["placedSinceSync"]["servers"] == 0 for h in again["hosts"])


def _host_down(c: httpx.Client, vim_id: str, host: str) -> None:
    """Fail ``host`` on the sim VIM and sync until the inventory shows it down."""
    r = c.patch(
        f"{VIMS}/{vim_id}", json={"config": {"faults": {"hosts": {host: {"fail_after_s": 0}}}}}
    )
    assert r.status_code == 200, r.text
    deadline = time.monotonic() + 10
    while True:
        time.sleep(0.05)
        if c.post(f"{VIMS}/{vim_id}/sync").status_code != 200:
            continue
        hosts = c.get(f"{VIMS}/{vim_id}/resources").json()["hosts"]
        if any(h["name"] == host and h["state"] != "up" for h in hosts):
            return
        assert time.monotonic() < deadline, hosts


def test_retried_scale_places_again(live: LiveApi) -> None:
    """A scale-out fails on the VIM; meanwhile the host chosen for the new web server goes
    down. The retry chooses again (still apart from the sibling) and completes."""
    _onboard(live)
    c = live.client
    vim_id = _vim(c, "three", zones=1, hosts=3)
    ns_id = _ns(c, "retry")
    _instantiate(c, ns_id, vim_id)
    [web] = _vnfs(c, ns_id, VNF_WEB_ID)
    [first] = _hosts(web, "web")
    r = c.patch(
        f"{VIMS}/{vim_id}",
        json={
            "config": {"faults": {"server_create": {"error_rate": 1.0, "error": "VimUnavailable"}}}
        },
    )
    assert r.status_code == 200, r.text
    time.sleep(0.3)
    op = _run(c, ns_id, "scale", _scale_vnf(web["id"], "web_scale", "SCALE_OUT"))
    assert op["operationState"] == "FAILED_TEMP", op
    hosts = {h["name"] for h in c.get(f"{VIMS}/{vim_id}/resources").json()["hosts"]}
    # the host the request chose for the new server (kept with the op occurrence)
    with live.services.db.session() as s:
        planned = s.get(NsLcmOpOcc, op["id"]).changes["scale"][web["id"]]["hosts"]
    [target] = planned.values()
    assert target != first
    _host_down(c, vim_id, target)  # also clears the server_create fault
    r = c.post(f"{OPS}/{op['id']}/retry")
    assert r.status_code == 202, r.text
    op = wait_op(c, r.headers["location"])
    assert op["operationState"] == "COMPLETED", op
    [web] = _vnfs(c, ns_id, VNF_WEB_ID)
    assert sorted(_hosts(web, "web")) == sorted(hosts - {target})
