"""SOL005 subscriptions of the vnfpkgm and nsd APIs (v2 and v1 paths) and the package
notifications they receive through the durable outbox, against a real subscriber on
loopback; and SOL013 strictness of the query (unknown parameters and attributes are a 400).
SQLite and PostgreSQL."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tests.integration.test_notifications import Subscriber, _start_subscriber
from tests.integration.test_sol005_conformance import PNFD_FILES
from tests.support import etsi_openapi
from tests.support.live import LiveApi, wait_for, wait_op

from nfvo.catalog.builder import build_csar_from_files
from nfvo.catalog.states import PackageKind
from nfvo.samples import build_sample

VNF_SUBS = "/vnfpkgm/v2/subscriptions"
NSD_SUBS = "/nsd/v2/subscriptions"
VNF_PKGS = "/vnfpkgm/v2/vnf_packages"
NSDS = "/nsd/v2/ns_descriptors"
PNFDS = "/nsd/v2/pnf_descriptors"
_NOTIFICATION_API = {
    "vnfpkgm": "VNFPackageManagementNotification",
    "nsd": "NSDManagementNotification",
}


@pytest.fixture
def subscriber() -> Iterator[Subscriber]:
    sub = _start_subscriber()
    yield sub
    sub.server.shutdown()
    sub.server.server_close()


@pytest.fixture
def fast(live: LiveApi) -> LiveApi:
    """The live server with delivery timings shortened for tests."""
    assert live.services.notifications is not None
    policy = live.services.notifications.policy
    policy.poll_interval, policy.base_delay, policy.timeout = 0.05, 0.05, 2.0
    return live


def v(api: str, r: httpx.Response) -> httpx.Response:
    if etsi_openapi.etsi_available():
        etsi_openapi.validate_http_response(api, r)
    return r


def check_notification(api: str, body: dict[str, Any]) -> None:
    if etsi_openapi.etsi_available():
        doc = etsi_openapi.get_api(_NOTIFICATION_API[api])
        path = "/URI_is_provided_by_the_client_when_creating_the_subscription-"
        kind = body["notificationType"]
        # the NSD document names its path after the schema (OnBoarding), not the enum value
        kind = kind.replace("NsdOnboardingFailure", "NsdOnBoardingFailure")
        doc.validate_request(path + kind, "POST", body)


def _order(body: dict[str, Any]) -> tuple[str, int]:
    """Notifications in the order of the events (the time stamp, then the change type)."""
    return (
        body["timeStamp"],
        ["OP_STATE_CHANGE", "PKG_DELETE"].index(body.get("changeType", "OP_STATE_CHANGE")),
    )


def test_vnfpkgm_subscription_and_notifications(fast: LiveApi, subscriber: Subscriber) -> None:
    c = fast.client
    cb = f"{subscriber.url}/pkgm"
    flt = {
        "notificationTypes": ["VnfPackageOnboardingNotification", "VnfPackageChangeNotification"]
    }
    r = v("vnfpkgm", c.post(VNF_SUBS, json={"callbackUri": cb, "filter": flt}))
    assert r.status_code == 201, r.text
    sub = r.json()
    assert r.headers["location"].endswith(f"{VNF_SUBS}/{sub['id']}")
    assert subscriber.gets == ["/pkgm"]  # the callback was tested
    assert "verbosity" not in sub and sub["filter"] == flt
    # same request again: 303 to the existing one, no second callback test
    r = c.post(VNF_SUBS, json={"callbackUri": cb, "filter": flt}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith(sub["id"])
    assert subscriber.gets == ["/pkgm"]
    # a filter on another package selects nothing of ours
    other = f"{subscriber.url}/other"
    r = c.post(VNF_SUBS, json={"callbackUri": other, "filter": {"vnfPkgId": ["nope"]}})
    assert r.status_code == 422 and r.json()["field"] == "filter.vnfPkgId", r.text  # no such id
    another = c.post("/vnfpkgm/v2/vnf_packages", json={}).json()["id"]
    r = c.post(VNF_SUBS, json={"callbackUri": other, "filter": {"vnfPkgId": [another]}})
    assert r.status_code == 201, r.text
    # the subscription belongs to vnfpkgm only
    assert [s["id"] for s in v("vnfpkgm", c.get(VNF_SUBS)).json()][0] == sub["id"]
    assert all(s["id"] != sub["id"] for s in c.get("/nslcm/v2/subscriptions").json())
    assert all(s["id"] != sub["id"] for s in c.get(NSD_SUBS).json())
    assert c.get(f"{NSD_SUBS}/{sub['id']}").status_code == 404
    assert v("vnfpkgm", c.get(f"{VNF_SUBS}/{sub['id']}")).json() == sub
    assert c.get(f"/vnfpkgm/v1/subscriptions/{sub['id']}").status_code == 200
    r = v("vnfpkgm", c.get(VNF_SUBS, params={"filter": f"(eq,callbackUri,{cb})"}))
    assert [s["id"] for s in r.json()] == [sub["id"]]

    pkg = fast.onboard("vnf", build_sample("vnf-web"))
    assert pkg["onboardingState"] == "ONBOARDED"
    r = c.patch(f"{VNF_PKGS}/{pkg['id']}", json={"operationalState": "DISABLED"})
    assert r.status_code == 200, r.text
    assert c.delete(f"{VNF_PKGS}/{pkg['id']}").status_code == 204
    # deliveries run in parallel: they arrive in any order
    got = sorted((p["body"] for p in subscriber.wait_for("/pkgm", 3)), key=_order)
    assert [b["notificationType"] for b in got] == [
        "VnfPackageOnboardingNotification",
        "VnfPackageChangeNotification",
        "VnfPackageChangeNotification",
    ]
    onboarded, disabled, deleted = got
    for body in (onboarded, disabled, deleted):
        check_notification("vnfpkgm", body)
        assert body["subscriptionId"] == sub["id"] and body["vnfPkgId"] == pkg["id"]
        assert body["vnfdId"] == pkg["vnfdId"]
        assert body["_links"]["subscription"]["href"].endswith(f"{VNF_SUBS}/{sub['id']}")
        assert body["_links"]["vnfPackage"]["href"].endswith(f"{VNF_PKGS}/{pkg['id']}")
    assert disabled["changeType"] == "OP_STATE_CHANGE"
    assert disabled["operationalState"] == "DISABLED"
    assert deleted["changeType"] == "PKG_DELETE"
    assert subscriber.received("/other") == []

    assert v("vnfpkgm", c.delete(f"{VNF_SUBS}/{sub['id']}")).status_code == 204
    assert v("vnfpkgm", c.get(f"{VNF_SUBS}/{sub['id']}")).status_code == 404
    fast.onboard("vnf", build_sample("vnf-db"))
    assert fast.services.notifications.pending() == []
    assert len(subscriber.received("/pkgm")) == 3


def test_nsd_subscription_notifications(fast: LiveApi, subscriber: Subscriber) -> None:
    c = fast.client
    r = v("nsd", c.post(NSD_SUBS, json={"callbackUri": f"{subscriber.url}/nsdm"}))
    assert r.status_code == 201, r.text
    sub = r.json()
    only_pnfd = {"notificationTypes": ["PnfdOnBoardingNotification", "PnfdDeletionNotification"]}
    r = c.post(NSD_SUBS, json={"callbackUri": f"{subscriber.url}/pnf", "filter": only_pnfd})
    assert r.status_code == 201, r.text

    # an NSD whose VNFDs are not onboarded fails, then one that onboards
    failed = fast.onboard("nsd", build_sample("ns-webapp"))
    assert failed["nsdOnboardingState"] == "ERROR"
    for name in ("vnf-web", "vnf-db"):
        fast.onboard("vnf", build_sample(name))
    nsd = fast.onboard("nsd", build_sample("ns-webapp"))
    assert nsd["nsdOnboardingState"] == "ONBOARDED", nsd
    r = c.patch(f"{NSDS}/{nsd['id']}", json={"nsdOperationalState": "DISABLED"})
    assert r.status_code == 200, r.text
    assert c.delete(f"{NSDS}/{nsd['id']}").status_code == 204
    pnfd = fast.onboard("pnfd", build_csar_from_files(PNFD_FILES))
    bad_pnfd = fast.onboard("pnfd", build_sample("vnf-db"))
    assert bad_pnfd["pnfdOnboardingState"] == "ERROR"
    assert c.delete(f"{PNFDS}/{pnfd['id']}").status_code == 204

    got = sorted((p["body"] for p in subscriber.wait_for("/nsdm", 7)), key=_order)
    assert [b["notificationType"] for b in got] == [
        "NsdOnboardingFailureNotification",
        "NsdOnBoardingNotification",
        "NsdChangeNotification",
        "NsdDeletionNotification",
        "PnfdOnBoardingNotification",
        "PnfdOnBoardingFailureNotification",
        "PnfdDeletionNotification",
    ]
    for body in got:
        check_notification("nsd", body)
        assert body["subscriptionId"] == sub["id"]
        assert body["_links"]["subscription"]["href"].endswith(f"{NSD_SUBS}/{sub['id']}")
    assert got[0]["nsdInfoId"] == failed["id"]
    assert got[0]["onboardingFailureDetails"]["cause"] == "VNFD_NOT_ONBOARDED"
    assert got[1]["nsdId"] == nsd["nsdId"] and got[2]["nsdOperationalState"] == "DISABLED"
    assert got[4]["pnfdId"] == pnfd["pnfdId"] and got[5]["pnfdInfoId"] == bad_pnfd["id"]
    assert got[6]["_links"]["pnfdInfo"]["href"].endswith(f"{PNFDS}/{pnfd['id']}")
    pnf = [
        b["notificationType"]
        for b in sorted((p["body"] for p in subscriber.wait_for("/pnf", 2)), key=_order)
    ]
    assert pnf == ["PnfdOnBoardingNotification", "PnfdDeletionNotification"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (VNF_SUBS, {"filter": {"nsdId": ["x"]}}, "filter.nsdId"),
        (VNF_SUBS, {"filter": {"notificationTypes": ["NsdChangeNotification"]}}, None),
        (VNF_SUBS, {"verbosity": "FULL"}, "verbosity"),
        (NSD_SUBS, {"filter": {"vnfPkgId": ["x"]}}, "filter.vnfPkgId"),
        (NSD_SUBS, {"filter": {"nsdId": "one"}}, None),
        (NSD_SUBS, {"filter": {"nsdOnboardingState": ["DONE"]}}, None),
    ],
)
def test_bad_package_subscriptions_are_400(
    fast: LiveApi, subscriber: Subscriber, path: str, body: dict, field: str | None
) -> None:
    r = fast.client.post(path, json={"callbackUri": f"{subscriber.url}/x", **body})
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    if field is not None:
        assert field in r.text
    assert subscriber.gets == []  # refused before the callback test


def test_callback_that_fails_its_test_is_422(fast: LiveApi, subscriber: Subscriber) -> None:
    subscriber.get_status["/down"] = 500
    r = fast.client.post(NSD_SUBS, json={"callbackUri": f"{subscriber.url}/down"})
    assert r.status_code == 422 and "500" in r.json()["detail"]
    assert fast.client.get(NSD_SUBS).json() == []


# ------------------------------------------------------------------------ SOL013 strictness


@pytest.mark.parametrize(
    ("path", "params", "named"),
    [
        (VNF_PKGS, {"page_size": "5"}, "page_size"),
        (VNF_PKGS, {"filter": "(eq,bogus,1)"}, "bogus"),
        (VNF_PKGS, {"filter": "(eq,softwareImages/bogus,1)"}, "softwareImages/bogus"),
        (VNF_PKGS, {"fields": "softwareImages,nope"}, "nope"),
        (VNF_PKGS, {"exclude_fields": "checksum/crc"}, "checksum/crc"),
        (NSDS, {"filter": "(eq,onboardingState,ONBOARDED)"}, "onboardingState"),
        (PNFDS, {"fields": "nsdName"}, "nsdName"),
        ("/nslcm/v2/ns_instances", {"filter": "(eq,nsName,x)"}, "nsName"),
        ("/nslcm/v2/ns_lcm_op_occs", {"exclude_fields": "params"}, "params"),
        ("/nslcm/v2/subscriptions", {"fields": "callbackUri"}, "fields"),
        (VNF_SUBS, {"filter": "(eq,filter/nsdId,x)"}, "filter/nsdId"),
        (NSD_SUBS, {"all_fields": ""}, "all_fields"),
        ("/vnfpkgm/v1/vnf_packages", {"sort": "id"}, "sort"),
        (f"{VNF_PKGS}/x/package_content", {"include_signatures": ""}, "include_signatures"),
    ],
)
def test_unknown_query_parameters_and_attributes_are_400(
    live: LiveApi, path: str, params: dict[str, str], named: str
) -> None:
    r = live.client.get(path, params=params)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert named in r.json()["detail"], r.json()


def test_known_attributes_still_filter_and_select(live: LiveApi) -> None:
    c = live.client
    live.onboard("vnf", build_sample("vnf-web"), userDefinedData={"site": "edge"})
    for params in (
        {"filter": "(eq,softwareImages/name,web-image);(eq,userDefinedData/site,edge)"},
        {"fields": "softwareImages/name,userDefinedData/site"},
        {"exclude_fields": "_links/vnfd,checksum/hash"},
        {"filter": "(eq,_links/self/href,x)"},
    ):
        r = c.get(VNF_PKGS, params=params)
        assert r.status_code == 200, (params, r.text)
        if not ({"fields", "exclude_fields"} & set(params)):  # may drop required attributes
            v("vnfpkgm", r)
    r = c.get(VNF_PKGS, params={"filter": "(cont,userDefinedData/site,dg)"})
    assert len(r.json()) == 1
    # an individual resource takes the selectors a list takes (clients send both alike)
    pkg_id = r.json()[0]["id"]
    assert c.get(f"{VNF_PKGS}/{pkg_id}", params={"all_fields": ""}).status_code == 200
    assert c.get(f"{VNF_PKGS}/{pkg_id}", params={"limit": "1"}).status_code == 400


# ------------------------------------------------------------------- descriptors and Accept


def test_descriptor_content_honours_accept(live: LiveApi) -> None:
    c = live.client
    pnfd = live.onboard("pnfd", build_csar_from_files(PNFD_FILES))
    vnf = live.onboard("vnf", build_sample("vnf-web"))
    assert pnfd["pnfdVersion"] == "1.0"  # the name of table 5.5.2.5-1
    content = f"{PNFDS}/{pnfd['id']}/pnfd_content"
    # a single-file PNFD: text/plain gives the YAML itself
    for accept in ("text/plain", "text/*"):
        r = c.get(content, headers={"Accept": accept})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
        assert r.content == PNFD_FILES["Definitions/fw.yaml"]
    for accept in ("application/zip", "text/plain, application/zip", "*/*"):
        r = c.get(content, headers={"Accept": accept})
        assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
        assert r.content[:2] == b"PK"
    r = c.get(content, headers={"Accept": "application/json"})
    assert r.status_code == 406 and r.headers["content-type"] == "application/problem+json"
    # a multi-file descriptor asked for as text only: 406 naming the way out
    path = f"{VNF_PKGS}/{vnf['id']}/vnfd"
    r = c.get(path, headers={"Accept": "text/plain"})
    assert r.status_code == 406 and "application/zip" in r.json()["detail"], r.text
    assert c.get(path, headers={"Accept": "application/zip"}).status_code == 200
    live.onboard("vnf", build_sample("vnf-db"))
    nsd = live.onboard("nsd", build_sample("ns-webapp"))
    # the sample NSD spans several files
    assert len([f for f in nsd_files(live, nsd["id"]) if f.endswith(".yaml")]) > 1
    for path in (f"{NSDS}/{nsd['id']}/nsd_content", f"{NSDS}/{nsd['id']}/nsd"):
        r = c.get(path, headers={"Accept": "text/plain"})
        assert r.status_code == 406 and "application/zip" in r.json()["detail"], r.text
    r = c.get(f"{NSDS}/{nsd['id']}/nsd_content", headers={"Accept": "application/zip"})
    assert r.status_code == 200 and r.content[:2] == b"PK"


def nsd_files(live: LiveApi, nsd_id: str) -> list[str]:
    pkg, _ = live.services.catalog.files(PackageKind.nsd, nsd_id, None)
    return list((pkg.info or {}).get("descriptorFiles", []))


# ---------------------------------------------------------------------------- wire headers


def _raw_response_head(live: LiveApi, request: str) -> list[str]:
    host, port = live.base_url.removeprefix("http://").split(":")
    token = live.client.headers["Authorization"]
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        head = f"{request}\r\nHost: {host}\r\nAuthorization: {token}\r\nConnection: close"
        sock.sendall(f"{head}\r\n\r\n".encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    answer = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    return [line.split(":", 1)[0] for line in answer.split("\r\n")[1:]]


def test_header_names_go_out_in_canonical_case(live: LiveApi) -> None:
    pkg = live.onboard("vnf", build_sample("vnf-web"))
    names = _raw_response_head(live, f"GET {VNF_PKGS}/{pkg['id']} HTTP/1.1")
    assert {"Content-Type", "ETag", "Version", "Content-Length"} <= set(names), names
    names = _raw_response_head(
        live, f"GET {VNF_PKGS}/{pkg['id']}/package_content HTTP/1.1\r\nRange: bytes=0-9"
    )
    assert {"Content-Range", "Content-Type", "Version"} <= set(names), names
    r = live.client.post(VNF_PKGS, json={})
    names = _raw_response_head(live, f"GET {VNF_PKGS}?x=1 HTTP/1.1")
    assert "Content-Type" in names and "content-type" not in names, names
    live.services.settings.page_size = 1
    names = _raw_response_head(live, f"GET {VNF_PKGS} HTTP/1.1")
    assert "Link" in names, names
    assert r.status_code == 201


# ------------------------------------------------------------------------------ MAC address


def test_every_port_reports_its_mac_address(live: LiveApi) -> None:
    c = live.client
    for name in ("vnf-web", "vnf-db"):
        live.onboard("vnf", build_sample(name))
    nsd = live.onboard("nsd", build_sample("ns-webapp"))
    images = [{"name": n} for n in ("web-img", "db-img")]
    vim = c.post(
        "/admin/v1/vim_accounts",
        json={"name": "lab", "vim_type": "sim", "config": {"hosts": 4, "images": images}},
    )
    assert vim.status_code == 201, vim.text
    wait_for(c, f"/admin/v1/vim_accounts/{vim.json()['id']}", "operationalState", ("PENDING",))
    ns = c.post("/nslcm/v2/ns_instances", json={"nsdId": nsd["nsdId"], "nsName": "mac"}).json()
    body = {"nsFlavourId": "default", "additionalParamsForNs": {"vimAccountId": vim.json()["id"]}}
    r = c.post(f"/nslcm/v2/ns_instances/{ns['id']}/instantiate", json=body)
    assert wait_op(c, r.headers["location"])["operationState"] == "COMPLETED"
    r = v("nslcm", c.get(f"/nslcm/v2/ns_instances/{ns['id']}"))
    ports = [
        (cp["id"], info["ipOverEthernet"])
        for vnf in r.json()["vnfInstance"]
        for vnfc in vnf["instantiatedVnfInfo"]["vnfcResourceInfo"]
        for cp in vnfc["vnfcCpInfo"]
        for info in cp["cpProtocolInfo"]
    ]
    ext = [
        info["ipOverEthernet"]
        for vnf in r.json()["vnfInstance"]
        for cp in vnf["instantiatedVnfInfo"]["extCpInfo"]
        for info in cp["cpProtocolInfo"]
        if "ipOverEthernet" in info
    ]
    assert ports and ext
    macs = [eth.get("macAddress") for _, eth in ports]
    assert all(m and re.fullmatch(r"([0-9a-f]{2}:){5}[0-9a-f]{2}", m.lower()) for m in macs), ports
    assert len(set(macs)) == len(macs)  # one per port
    assert {e["macAddress"] for e in ext} <= set(macs)
    assert c.get("/nslcm/v1/ns_instances", params={"all_fields": ""}).status_code == 200
