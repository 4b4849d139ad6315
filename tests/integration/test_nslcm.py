"""NS life cycle through the real API on the sim VIM: instantiate, terminate, delete; one
operation at a time; failures to FAILED_TEMP, then retry, rollback or fail. SQLite and
PostgreSQL."""

from __future__ import annotations

import time

import httpx
import pytest
from tests.support import etsi_openapi
from tests.support.live import LiveApi, sim_vim, wait_op

from nfvo.resources.service import Scope
from nfvo.samples import NSD_WEBAPP_ID, build_sample
from nfvo.vim.base import TAG_NS

NS = "/nslcm/v2/ns_instances"
OPS = "/nslcm/v2/ns_lcm_op_occs"


def check(r: httpx.Response) -> httpx.Response:
    if etsi_openapi.etsi_available():
        etsi_openapi.validate_http_response("nslcm", r)
    return r


@pytest.fixture
def ready(live: LiveApi) -> tuple[LiveApi, str]:
    for name in ("vnf-web", "vnf-db", "ns-webapp"):
        kind = "nsd" if name.startswith("ns") else "vnf"
        info = live.onboard(kind, build_sample(name))
        assert (info.get("onboardingState") or info.get("nsdOnboardingState")) == "ONBOARDED"
    vim = live.client.post(
        "/admin/v1/vim_accounts",
        json={
            "name": "lab",
            "vim_type": "sim",
            "config": {
                "zones": 2,
                "hosts": 6,
                "images": [{"name": n} for n in ("cirros", "web-img", "db-img")],
                "latency_ms": {"server_boot": 20},
            },
        },
    ).json()
    deadline = time.monotonic() + 10
    while (
        live.client.get(f"/admin/v1/vim_accounts/{vim['id']}").json()["_admin"]["operationalState"]
        != "ENABLED"
    ):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    return live, vim["id"]


def vim_resources(live: LiveApi, vim_id: str, ns_id: str) -> dict[str, int]:
    svc = live.services.resources
    d = svc.driver_for(svc.get_vim(vim_id, Scope(None)))
    tags = {TAG_NS: ns_id}
    return {
        "servers": len(d.list_servers(tags)),
        "networks": len(d.list_networks(tags)),
        "ports": len(d.list_ports(tags)),
    }


def create_ns(c: httpx.Client, name: str = "webapp-1") -> dict:
    r = check(c.post(NS, json={"nsdId": NSD_WEBAPP_ID, "nsName": name, "nsDescription": "test NS"}))
    assert r.status_code == 201, r.text
    return r.json()


def test_instantiate_terminate_delete(ready: tuple[LiveApi, str]) -> None:
    live, vim_id = ready
    c = live.client
    ns = create_ns(c)
    assert ns["nsState"] == "NOT_INSTANTIATED"
    assert c.delete(f"/nsd/v2/ns_descriptors/{ns['nsdInfoId']}").status_code == 409  # in use
    r = c.post(
        f"{NS}/{ns['id']}/instantiate",
        json={"nsFlavourId": "default", "additionalParamsForNs": {"vimAccountId": vim_id}},
    )
    assert r.status_code == 202, r.text
    op = wait_op(c, r.headers["location"])
    assert op["operationState"] == "COMPLETED", op
    check(c.get(r.headers["location"]))
    got = check(c.get(f"{NS}/{ns['id']}")).json()
    assert got["nsState"] == "INSTANTIATED"
    vnfcs = [
        v for vnf in got["vnfInstance"] for v in vnf["instantiatedVnfInfo"]["vnfcResourceInfo"]
    ]
    counts = vim_resources(live, vim_id, ns["id"])
    assert counts["servers"] == len(vnfcs) >= 2
    assert counts["networks"] >= 2  # the NS virtual links (+ internal VLs)
    servers = {v["computeResource"]["resourceId"] for v in vnfcs}
    assert {v["computeResource"]["vimLevelResourceType"] for v in vnfcs} == {"OS::Nova::Server"}
    res = c.get(f"/admin/v1/vim_accounts/{vim_id}/resources").json()
    assert {s["id"] for s in res["servers"] if s["nsInstanceId"] == ns["id"]} == servers
    # a second operation while one is open is refused; delete of an instantiated NS too
    assert c.delete(f"{NS}/{ns['id']}").status_code == 409
    r = c.post(f"{NS}/{ns['id']}/terminate", json={"terminationType": "SOFTLY"})
    assert r.status_code == 400 and "terminationType" in r.json()["detail"]
    r = c.post(
        f"{NS}/{ns['id']}/terminate",
        json={"terminationType": "GRACEFUL", "gracefulTerminationTimeout": 5},
    )
    assert r.status_code == 202
    op = wait_op(c, r.headers["location"])
    assert op["operationState"] == "COMPLETED", op
    assert vim_resources(live, vim_id, ns["id"]) == {"servers": 0, "networks": 0, "ports": 0}
    assert c.get(f"{NS}/{ns['id']}").json()["nsState"] == "NOT_INSTANTIATED"
    assert check(c.delete(f"{NS}/{ns['id']}")).status_code == 204
    assert c.get(f"{NS}/{ns['id']}").status_code == 404


def test_one_operation_at_a_time(ready: tuple[LiveApi, str]) -> None:
    live, vim_id = ready
    c = live.client
    c.patch(
        f"/admin/v1/vim_accounts/{vim_id}", json={"config": {"latency_ms": {"server_boot": 400}}}
    )
    time.sleep(0.3)
    ns = create_ns(c)
    r = c.post(
        f"{NS}/{ns['id']}/instantiate",
        json={"nsFlavourId": "default", "additionalParamsForNs": {"vimAccountId": vim_id}},
    )
    r2 = c.post(f"{NS}/{ns['id']}/terminate", json={})
    assert r2.status_code == 409 and "not finished" in r2.json()["detail"]
    assert wait_op(c, r.headers["location"])["operationState"] == "COMPLETED"


def test_bad_requests(ready: tuple[LiveApi, str]) -> None:
    live, vim_id = ready
    c = live.client
    r = c.post(NS, json={"nsdId": "no-such-nsd", "nsName": "x"})
    assert r.status_code == 400 and "nsdId" in r.json()["detail"]
    ns = create_ns(c)
    r = c.post(f"{NS}/{ns['id']}/instantiate", json={})
    assert r.status_code == 400 and "nsFlavourId" in r.json()["detail"]
    r = c.post(f"{NS}/{ns['id']}/terminate", json={})
    assert r.status_code == 409 and "NOT_INSTANTIATED" in r.json()["detail"]
    # refused when requested: no op occurrence, the NS stays NOT_INSTANTIATED
    r = c.post(
        f"{NS}/{ns['id']}/instantiate",
        json={"nsFlavourId": "no-such-flavour", "additionalParamsForNs": {"vimAccountId": vim_id}},
    )
    assert r.status_code == 400 and "nsFlavourId" in r.json()["detail"], r.text
    assert c.get(OPS).json() == []
    assert c.get(f"{NS}/{ns['id']}").json()["nsState"] == "NOT_INSTANTIATED"
    # an operation failing in its workflow: FAILED_TEMP, then fail; no retry after that
    _fault(c, vim_id, {"server_create": {"error_rate": 1.0, "error": "VimUnavailable"}})
    r = c.post(
        f"{NS}/{ns['id']}/instantiate",
        json={"nsFlavourId": "default", "additionalParamsForNs": {"vimAccountId": vim_id}},
    )
    assert r.status_code == 202, r.text
    op = wait_op(c, r.headers["location"])
    assert op["operationState"] == "FAILED_TEMP"
    r = c.post(f"{OPS}/{op['id']}/fail")
    assert r.status_code == 200 and r.json()["operationState"] == "FAILED"
    assert c.post(f"{OPS}/{op['id']}/retry").status_code == 409


def _fault(c: httpx.Client, vim_id: str, faults: dict) -> None:
    r = c.patch(f"/admin/v1/vim_accounts/{vim_id}", json={"config": {"faults": faults}})
    assert r.status_code == 200, r.text


def test_fault_retry_rollback(ready: tuple[LiveApi, str]) -> None:
    live, vim_id = ready
    c = live.client
    _fault(c, vim_id, {"server_create": {"error_rate": 1.0, "error": "VimUnavailable"}})
    ns = create_ns(c)
    body = {"nsFlavourId": "default", "additionalParamsForNs": {"vimAccountId": vim_id}}
    r = c.post(f"{NS}/{ns['id']}/instantiate", json=body)
    op = wait_op(c, r.headers["location"])
    assert op["operationState"] == "FAILED_TEMP", op
    err = op["error"]
    assert err["vimAccountId"] == vim_id and err["vnfInstanceId"] and err["vduId"]
    assert err["vimError"] == "VimUnavailable" and err["vimMessage"]
    _fault(c, vim_id, {})
    r = c.post(f"{OPS}/{op['id']}/retry")
    assert r.status_code == 202
    assert wait_op(c, r.headers["location"])["operationState"] == "COMPLETED"
    assert c.get(f"{NS}/{ns['id']}").json()["nsState"] == "INSTANTIATED"
    # a second NS: fail, then roll back -> nothing leaked
    _fault(c, vim_id, {"server_create": {"error_rate": 1.0, "error": "VimUnavailable"}})
    ns2 = create_ns(c, "webapp-2")
    r = c.post(f"{NS}/{ns2['id']}/instantiate", json=body)
    op2 = wait_op(c, r.headers["location"])
    assert op2["operationState"] == "FAILED_TEMP"
    assert vim_resources(live, vim_id, ns2["id"])["networks"] >= 1  # partial work exists
    r = c.post(f"{OPS}/{op2['id']}/rollback")
    assert r.status_code == 202
    assert wait_op(c, r.headers["location"])["operationState"] == "ROLLED_BACK"
    assert vim_resources(live, vim_id, ns2["id"]) == {"servers": 0, "networks": 0, "ports": 0}
    assert c.post(f"{OPS}/{op2['id']}/rollback").status_code == 409
    _fault(c, vim_id, {})
    assert c.delete(f"{NS}/{ns2['id']}").status_code == 204


def _op(c: httpx.Client, ns_id: str, what: str, body: dict) -> dict:
    r = c.post(f"{NS}/{ns_id}/{what}", json=body)
    assert r.status_code == 202, r.text
    op = wait_op(c, r.headers["location"])
    check(c.get(r.headers["location"]))
    return op


def _web(c: httpx.Client, ns_id: str) -> list[dict]:
    from nfvo.samples import VNF_WEB_ID

    ns = check(c.get(f"{NS}/{ns_id}")).json()
    return [v for v in ns["vnfInstance"] if v["vnfdId"] == VNF_WEB_ID]


def _vnfcs(vnf: dict, vdu: str) -> list[dict]:
    return [v for v in vnf["instantiatedVnfInfo"]["vnfcResourceInfo"] if v["vduId"] == vdu]


def test_scale_heal_update(ready: tuple[LiveApi, str]) -> None:
    live, vim_id = ready
    c = live.client
    ns = create_ns(c)
    body = {"nsFlavourId": "default", "additionalParamsForNs": {"vimAccountId": vim_id}}
    assert _op(c, ns["id"], "instantiate", body)["operationState"] == "COMPLETED"
    [web] = _web(c, ns["id"])
    web_id, start = web["id"], len(_vnfcs(web, "web"))
    level = {s["aspectId"]: s["scaleLevel"] for s in web["instantiatedVnfInfo"]["scaleStatus"]}
    assert level == {"web_scale": 0}
    servers0 = vim_resources(live, vim_id, ns["id"])["servers"]

    def scale(kind: str, steps: int = 1) -> httpx.Response:
        return c.post(
            f"{NS}/{ns['id']}/scale",
            json={
                "scaleType": "SCALE_VNF",
                "scaleVnfData": [
                    {
                        "vnfInstanceId": web_id,
                        "scaleVnfType": kind,
                        "scaleByStepData": {"aspectId": "web_scale", "numberOfSteps": steps},
                    }
                ],
            },
        )

    # SCALE_VNF out by 2 steps: two more web VDUs on the VIM; max_scale_level (2) enforced
    r = scale("SCALE_OUT", 2)
    assert wait_op(c, r.headers["location"])["operationState"] == "COMPLETED"
    [web] = _web(c, ns["id"])
    assert len(_vnfcs(web, "web")) == start + 2
    assert vim_resources(live, vim_id, ns["id"])["servers"] == servers0 + 2
    r = scale("SCALE_OUT", 1)
    assert r.status_code == 400, r.text
    assert "allowed 0..2" in r.json()["detail"] and "numberOfSteps" in r.json()["detail"]
    # UPDATE OPERATE_VNF: stop, then start
    stop = {
        "updateType": "OPERATE_VNF",
        "operateVnfData": [{"vnfInstanceId": web_id, "changeStateTo": "STOPPED"}],
    }
    assert _op(c, ns["id"], "update", stop)["operationState"] == "COMPLETED"
    [web] = _web(c, ns["id"])
    assert {v["metadata"]["status"] for v in web["instantiatedVnfInfo"]["vnfcResourceInfo"]} == {
        "SHUTOFF"
    }
    stop["operateVnfData"][0]["changeStateTo"] = "STARTED"
    assert _op(c, ns["id"], "update", stop)["operationState"] == "COMPLETED"
    # SCALE_NS: the web tier gains a second web-frontend VNF instance, then loses it
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
    assert _op(c, ns["id"], "scale", ns_scale)["operationState"] == "COMPLETED"
    assert len(_web(c, ns["id"])) == 2
    got = c.get(f"{NS}/{ns['id']}").json()
    assert got["nsScaleStatus"] == [{"nsScalingAspectId": "web_tier", "nsScaleLevelId": "1"}]
    ns_scale["scaleNsData"]["scaleNsByStepsData"]["scalingDirection"] = "SCALE_IN"
    assert _op(c, ns["id"], "scale", ns_scale)["operationState"] == "COMPLETED"
    assert len(_web(c, ns["id"])) == 1
    # terminate leaves nothing
    assert _op(c, ns["id"], "terminate", {})["operationState"] == "COMPLETED"
    assert vim_resources(live, vim_id, ns["id"]) == {"servers": 0, "networks": 0, "ports": 0}


def test_cancel_during_processing(ready: tuple[LiveApi, str]) -> None:
    live, vim_id = ready
    c = live.client
    c.patch(
        f"/admin/v1/vim_accounts/{vim_id}", json={"config": {"latency_ms": {"server_boot": 600}}}
    )
    time.sleep(0.3)
    ns = create_ns(c)
    r = c.post(
        f"{NS}/{ns['id']}/instantiate",
        json={"nsFlavourId": "default", "additionalParamsForNs": {"vimAccountId": vim_id}},
    )
    loc = r.headers["location"]
    rc = c.post(f"{loc}/cancel", json={"cancelMode": "GRACEFUL"})
    assert rc.status_code == 202
    op = wait_op(c, loc)
    assert op["operationState"] == "FAILED_TEMP" and "cancelled" in op["error"]["detail"]
    assert c.post(f"{loc}/cancel").status_code == 409
    r = c.post(f"{loc}/rollback")
    assert wait_op(c, r.headers["location"])["operationState"] == "ROLLED_BACK"
    assert vim_resources(live, vim_id, ns["id"]) == {"servers": 0, "networks": 0, "ports": 0}


def test_concurrent_instantiations_on_tight_hosts(ready: tuple[LiveApi, str]) -> None:
    """Several NS planned from the same inventory snapshot all fit: when a planned host has
    been taken meanwhile, the VIM places the VDU instead of the operation failing."""
    live, _ = ready
    c = live.client
    vim = c.post(
        "/admin/v1/vim_accounts",
        json={
            "name": "tight",
            "vim_type": "sim",
            "config": {
                "zones": 1,
                "hosts": 5,
                "host_defaults": {"vcpus": 8, "ram_mib": 16384},
                "images": [{"name": n} for n in ("web-img", "db-img")],
            },
        },
    ).json()
    while (
        c.get(f"/admin/v1/vim_accounts/{vim['id']}").json()["_admin"]["operationalState"]
        == "PROCESSING"
    ):
        time.sleep(0.02)
    body = {"nsFlavourId": "default", "additionalParamsForNs": {"vimAccountId": vim["id"]}}
    nss = [create_ns(c, f"tight-{i}") for i in range(4)]
    ops = [c.post(f"{NS}/{n['id']}/instantiate", json=body).headers["location"] for n in nss]
    done = [wait_op(c, o) for o in ops]
    assert [d["operationState"] for d in done] == ["COMPLETED"] * 4, [d.get("error") for d in done]
    res = c.get(f"/admin/v1/vim_accounts/{vim['id']}/resources").json()
    assert all(h["usage"]["vcpus"] <= 8 for h in res["hosts"])
    assert len({s["host"] for s in res["servers"]}) >= 4


def test_lcm_notifications_reach_a_subscriber(ready: tuple[LiveApi, str]) -> None:
    import http.server
    import json
    import threading

    live, vim_id = ready
    got: list[dict] = []

    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the subscription check
            self.send_response(204)
            self.end_headers()

        def do_POST(self):  # noqa: N802
            got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        c = live.client
        r = c.post(
            "/nslcm/v2/subscriptions",
            json={"callbackUri": f"http://127.0.0.1:{srv.server_address[1]}/cb"},
        )
        assert r.status_code == 201, r.text
        ns = create_ns(c, "notified")
        body = {"nsFlavourId": "default", "additionalParamsForNs": {"vimAccountId": vim_id}}
        assert _op(c, ns["id"], "instantiate", body)["operationState"] == "COMPLETED"
        deadline = time.monotonic() + 15
        want = {
            ("NsIdentifierCreationNotification", None),
            ("START", "STARTING"),
            ("RESULT", "COMPLETED"),
        }
        while time.monotonic() < deadline:
            seen = {
                (n["notificationType"], None)
                if "notificationStatus" not in n
                else (n["notificationStatus"], n["operationState"])
                for n in got
            }
            if want <= seen:
                break
            time.sleep(0.1)
        assert want <= seen, got
        assert all(n["nsInstanceId"] == ns["id"] and n["subscriptionId"] for n in got)
    finally:
        srv.shutdown()


def test_change_vnf_flavour(ready: tuple[LiveApi, str]) -> None:
    live, vim_id = ready
    c = live.client
    ns = create_ns(c, "df-change")
    body = {"nsFlavourId": "default", "additionalParamsForNs": {"vimAccountId": vim_id}}
    assert _op(c, ns["id"], "instantiate", body)["operationState"] == "COMPLETED"
    [web] = _web(c, ns["id"])
    assert web["instantiatedVnfInfo"]["flavourId"] == "small"
    old = {
        v["computeResource"]["resourceId"] for v in web["instantiatedVnfInfo"]["vnfcResourceInfo"]
    }
    change = {
        "updateType": "CHANGE_VNF_DF",
        "changeVnfFlavourData": [{"vnfInstanceId": web["id"], "newFlavourId": "large"}],
    }
    op = _op(c, ns["id"], "update", change)
    assert op["operationState"] == "COMPLETED", op
    [web] = _web(c, ns["id"])
    assert web["instantiatedVnfInfo"]["flavourId"] == "large"
    new = {
        v["computeResource"]["resourceId"] for v in web["instantiatedVnfInfo"]["vnfcResourceInfo"]
    }
    assert new and not (new & old)
    # the new flavour's scale levels: the VNF can be scaled again, its rules kept
    assert web["instantiatedVnfInfo"]["scaleStatus"] == [{"aspectId": "web_scale", "scaleLevel": 0}]
    out = {
        "scaleType": "SCALE_VNF",
        "scaleVnfData": [
            {
                "vnfInstanceId": web["id"],
                "scaleVnfType": "SCALE_OUT",
                "scaleByStepData": {"aspectId": "web_scale", "numberOfSteps": 1},
            }
        ],
    }
    assert _op(c, ns["id"], "scale", out)["operationState"] == "COMPLETED"
    [web] = _web(c, ns["id"])
    hosts = [v["metadata"]["host"] for v in _vnfcs(web, "web")]
    assert len(hosts) == len(set(hosts)) > 1, hosts
    total = sum(
        len(v["instantiatedVnfInfo"]["vnfcResourceInfo"])
        for v in c.get(f"{NS}/{ns['id']}").json()["vnfInstance"]
    )
    assert vim_resources(live, vim_id, ns["id"])["servers"] == total
    bad = {
        "updateType": "CHANGE_VNF_DF",
        "changeVnfFlavourData": [{"vnfInstanceId": web["id"], "newFlavourId": "gigantic"}],
    }
    r = c.post(f"{NS}/{ns['id']}/update", json=bad)
    assert r.status_code == 400 and "changeVnfFlavourData[0]" in r.json()["detail"], r.text
    assert _op(c, ns["id"], "terminate", {})["operationState"] == "COMPLETED"
    assert vim_resources(live, vim_id, ns["id"]) == {"servers": 0, "networks": 0, "ports": 0}


def _images(live: LiveApi, vim_id: str) -> dict[str, tuple[int | None, str | None]]:
    """name -> (size, md5) of the images the VIM lists."""
    svc = live.services.resources
    d = svc.driver_for(svc.get_vim(vim_id, Scope(None)))
    try:
        return {i.name: (i.size_bytes, i.checksum) for i in d.list_images()}
    finally:
        d.close()


def _booted_from(live: LiveApi, vim_id: str, ns_id: str) -> set[str | None]:
    svc = live.services.resources
    d = svc.driver_for(svc.get_vim(vim_id, Scope(None)))
    try:
        return {s.image for s in d.list_servers({TAG_NS: ns_id})}
    finally:
        d.close()


def test_instantiate_uploads_the_package_images_once(ready: tuple[LiveApi, str]) -> None:
    """A VIM without the sample's images gets them from the VNF packages; a second NS and a
    terminate leave them as they are (images are shared, never deleted by nfvo)."""
    import hashlib

    from nfvo.samples import sample_dir

    live, _ = ready
    c = live.client
    vim_id = sim_vim(c, "bare", zones=1, hosts=4, images=[{"name": "cirros"}])
    assert set(_images(live, vim_id)) == {"cirros"}
    body = {"nsFlavourId": "default", "additionalParamsForNs": {"vimAccountId": vim_id}}
    ns = create_ns(c, "uploads")
    assert _op(c, ns["id"], "instantiate", body)["operationState"] == "COMPLETED"
    files = {
        "web-img": sample_dir("vnf-web") / "Files/images/web-img.qcow2",
        "db-img": sample_dir("vnf-db") / "Files/images/db-img.qcow2",
    }
    want = {
        name: (path.stat().st_size, hashlib.md5(path.read_bytes()).hexdigest())
        for name, path in files.items()
    }
    images = _images(live, vim_id)
    assert {k: images.get(k) for k in want} == want
    assert want["web-img"][0] == 1024 and want["db-img"][0] == 2048
    assert {"web-img", "db-img"} <= _booted_from(live, vim_id, ns["id"])
    ns2 = create_ns(c, "uploads-2")
    assert _op(c, ns2["id"], "instantiate", body)["operationState"] == "COMPLETED"
    for n in (ns, ns2):
        assert _op(c, n["id"], "terminate", {})["operationState"] == "COMPLETED"
    assert _images(live, vim_id) == images


def test_image_upload_failure_is_failed_temp_naming_vdu_image_and_vim(
    ready: tuple[LiveApi, str],
) -> None:
    live, _ = ready
    c = live.client
    faults = {"image_create": {"error_rate": 1.0, "error": "VimQuotaExceeded"}}
    vim_id = sim_vim(c, "no-room", zones=1, hosts=4, images=[{"name": "cirros"}], faults=faults)
    ns = create_ns(c, "upload-fails")
    body = {"nsFlavourId": "default", "additionalParamsForNs": {"vimAccountId": vim_id}}
    op = _op(c, ns["id"], "instantiate", body)
    assert op["operationState"] == "FAILED_TEMP", op
    err = op["error"]
    assert err["vimAccountId"] == vim_id and err["vnfInstanceId"]
    assert err["vduId"] in ("web", "db") and err["vimError"] == "VimQuotaExceeded"
    assert f"image '{err['vduId']}-img'" in err["detail"] and vim_id in err["detail"]
    assert err.get("vimRequestId")
    _fault(c, vim_id, {})
    r = c.post(f"{OPS}/{op['id']}/retry")
    assert r.status_code == 202
    assert wait_op(c, r.headers["location"])["operationState"] == "COMPLETED"
    assert {"web-img", "db-img"} <= set(_images(live, vim_id))
