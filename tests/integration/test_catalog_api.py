"""The catalog through the real HTTP API, on SQLite and PostgreSQL, checked against the
ETSI SOL005 OpenAPI schemas where the corpus is present."""

from __future__ import annotations

import io
import zipfile

import httpx
import pytest
from tests.support import etsi_openapi
from tests.support.live import LiveApi

from nfvo.catalog.states import PackageKind
from nfvo.inventory.blobs import BlobRepository
from nfvo.inventory.repositories import CatalogRepository
from nfvo.samples import NSD_WEBAPP_ID, VNF_DB_ID, VNF_WEB_ID, build_sample

VNF = "/vnfpkgm/v2/vnf_packages"
NSD = "/nsd/v2/ns_descriptors"


def check(api: str, resp: httpx.Response) -> None:
    """Validate a response against the ETSI schema when the corpus is available."""
    if etsi_openapi.etsi_available():
        etsi_openapi.validate_http_response(api, resp)


def onboard_samples(live: LiveApi) -> dict[str, dict]:
    out = {}
    for name in ("vnf-web", "vnf-db"):
        out[name] = live.onboard("vnf", build_sample(name), userDefinedData={"sample": name})
        assert out[name]["onboardingState"] == "ONBOARDED", out[name]
    out["ns-webapp"] = live.onboard("nsd", build_sample("ns-webapp"))
    assert out["ns-webapp"]["nsdOnboardingState"] == "ONBOARDED", out["ns-webapp"]
    return out


def test_api_versions_need_no_token(live: LiveApi) -> None:
    for path in ("/vnfpkgm/api_versions", "/vnfpkgm/v2/api_versions", "/nsd/v2/api_versions"):
        r = httpx.get(live.base_url + path)
        assert r.status_code == 200
        assert r.json()["apiVersions"][0]["version"].startswith("2.")
        if "/v2/" in path:
            check("vnfpkgm" if "vnfpkgm" in path else "nsd", r)
    r = httpx.get(live.base_url + "/vnfpkgm/v1/api_versions")
    assert r.json()["uriPrefix"] == "/vnfpkgm/v1"


def test_auth_errors_are_problem_details(live: LiveApi) -> None:
    r = httpx.get(live.base_url + VNF)
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert "bearer token" in r.json()["detail"]
    r = httpx.get(live.base_url + VNF, headers={"Authorization": "Bearer forged.token.here"})
    assert r.status_code == 401 and "invalid" in r.json()["detail"]
    r = httpx.post(
        live.base_url + "/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=("admin", "wrong"),
    )
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    r = httpx.post(
        live.base_url + "/oauth2/token", data={"grant_type": "password"}, auth=("admin", "x")
    )
    assert r.status_code == 400 and "grant_type" in r.json()["detail"]


def test_roles(live: LiveApi) -> None:
    r = live.client.post(
        "/admin/v1/users",
        json={"clientId": "ro", "role": "reader", "clientSecret": "reader-secret"},
    )
    assert r.status_code == 201 and r.json()["clientSecret"] == "reader-secret"
    with live.client_for("ro", "reader-secret") as ro:
        assert ro.get(VNF).status_code == 200
        r = ro.post(VNF, json={})
        assert r.status_code == 403
        assert "operator" in r.json()["detail"]
        assert ro.get("/admin/v1/users").status_code == 403
    users = live.client.get("/admin/v1/users").json()
    assert {u["clientId"] for u in users} == {"admin", "ro"}
    assert all("secret" not in str(u).lower() for u in users)


def test_create_get_and_framework_errors(live: LiveApi) -> None:
    r = live.client.post(VNF, json={"userDefinedData": {"team": "edge"}})
    assert r.status_code == 201
    check("vnfpkgm", r)
    pkg = r.json()
    assert r.headers["location"].endswith(f"{VNF}/{pkg['id']}")
    assert pkg["onboardingState"] == "CREATED" and pkg["operationalState"] == "DISABLED"
    r = live.client.get(f"{VNF}/{pkg['id']}")
    check("vnfpkgm", r)
    assert r.headers["etag"]
    r = live.client.get(f"{VNF}/does-not-exist")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    check("vnfpkgm", r)
    r = live.client.put(f"{VNF}/{pkg['id']}")
    assert r.status_code == 405 and r.json()["status"] == 405
    r = live.client.post(VNF, content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["detail"]
    r = live.client.post(VNF, json={"userDefinedData": "x"})
    assert r.status_code == 400 and "userDefinedData" in r.json()["detail"]
    r = live.client.get(f"{VNF}/{pkg['id']}/vnfd")
    assert r.status_code == 409 and "CREATED" in r.json()["detail"]
    r = live.client.get(VNF, headers={"Version": "9.0.0"})
    assert r.status_code == 406


def test_onboard_samples_and_read_them_back(live: LiveApi) -> None:
    pk = onboard_samples(live)
    web = pk["vnf-web"]
    assert web["vnfdId"] == VNF_WEB_ID
    assert web["vnfProvider"] and web["vnfProductName"]
    assert web["checksum"]["algorithm"] == "SHA-256"
    assert web["softwareImages"], "the web VNF declares a software image"
    r = live.client.get(f"{VNF}/{web['id']}", params={"all_fields": ""})
    check("vnfpkgm", r)
    nsd = pk["ns-webapp"]
    assert nsd["nsdId"] == NSD_WEBAPP_ID
    assert sorted(nsd["vnfPkgIds"]) == sorted([pk["vnf-web"]["id"], pk["vnf-db"]["id"]])
    r = live.client.get(f"{NSD}/{nsd['id']}")
    check("nsd", r)
    # the typed descriptor is stored with the package
    desc = live.services.catalog.descriptor(PackageKind.nsd, nsd["id"])
    assert sorted(desc["vnfd_ids"]) == sorted([VNF_WEB_ID, VNF_DB_ID])
    # package content, whole and ranged
    original = build_sample("vnf-web")
    r = live.client.get(f"{VNF}/{web['id']}/package_content")
    assert r.status_code == 200 and r.content == original
    r = live.client.get(f"{VNF}/{web['id']}/package_content", headers={"Range": "bytes=10-99"})
    assert r.status_code == 206 and r.content == original[10:100]
    assert r.headers["content-range"] == f"bytes 10-99/{len(original)}"
    r = live.client.get(
        f"{VNF}/{web['id']}/package_content", headers={"Range": f"bytes={len(original) + 5}-"}
    )
    assert r.status_code == 416
    # descriptor: several files -> zip; text/plain alone -> 406
    r = live.client.get(f"{VNF}/{web['id']}/vnfd", headers={"Accept": "application/zip"})
    assert r.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(r.content)).namelist()
    assert "TOSCA-Metadata/TOSCA.meta" in names and any(n.endswith(".yaml") for n in names)
    r = live.client.get(f"{VNF}/{web['id']}/vnfd", headers={"Accept": "text/plain"})
    assert r.status_code == 406
    r = live.client.get(f"{VNF}/{web['id']}/manifest")
    assert r.status_code == 200 and "vnf_provider_id" in r.text
    art = live.client.get(f"{VNF}/{web['id']}/artifacts/Files/cloud-init/web.yaml")
    assert art.status_code == 200 and art.content
    r = live.client.get(f"{VNF}/{web['id']}/artifacts/Files/nope.bin")
    assert r.status_code == 404
    r = live.client.get(f"{VNF}/{web['id']}/artifacts")
    assert r.status_code == 200 and zipfile.ZipFile(io.BytesIO(r.content)).namelist()


def test_second_upload_and_duplicate_vnfd_are_refused(live: LiveApi) -> None:
    data = build_sample("vnf-db")
    first = live.onboard("vnf", data)
    assert first["onboardingState"] == "ONBOARDED"
    r = live.upload("vnf", first["id"], data)
    assert r.status_code == 409
    dup = live.onboard("vnf", data)
    assert dup["onboardingState"] == "ERROR"
    assert dup["onboardingFailureDetails"]["cause"] == "DUPLICATE_DESCRIPTOR"
    assert VNF_DB_ID in dup["onboardingFailureDetails"]["detail"]


def test_nsd_with_missing_vnfds_names_them(live: LiveApi) -> None:
    info = live.onboard("nsd", build_sample("ns-webapp"))
    assert info["nsdOnboardingState"] == "ERROR"
    details = info["onboardingFailureDetails"]
    assert details["cause"] == "VNFD_NOT_ONBOARDED"
    assert VNF_WEB_ID in details["detail"] and VNF_DB_ID in details["detail"]
    with live.services.db.session() as s:
        assert BlobRepository(s).count() == 0


def test_enable_disable_etag_and_delete_rules(live: LiveApi) -> None:
    pk = onboard_samples(live)
    web_id, nsd_id = pk["vnf-web"]["id"], pk["ns-webapp"]["id"]
    r = live.client.delete(f"{VNF}/{web_id}")
    assert r.status_code == 409 and "disable it first" in r.json()["detail"]
    etag = live.client.get(f"{VNF}/{web_id}").headers["etag"]
    r = live.client.patch(
        f"{VNF}/{web_id}", json={"operationalState": "DISABLED"}, headers={"If-Match": '"999"'}
    )
    assert r.status_code == 412
    r = live.client.patch(
        f"{VNF}/{web_id}", json={"operationalState": "DISABLED"}, headers={"If-Match": etag}
    )
    assert r.status_code == 200 and r.json() == {"operationalState": "DISABLED"}
    r = live.client.patch(f"{VNF}/{web_id}", json={"operationalState": "DISABLED"})
    assert r.status_code == 409
    r = live.client.patch(f"{VNF}/{web_id}", json={"operationalState": "PAUSED"})
    assert r.status_code == 400 and "operationalState" in r.json()["detail"]
    r = live.client.delete(f"{VNF}/{web_id}")
    assert r.status_code == 409 and nsd_id in r.json()["detail"]
    r = live.client.patch(f"{NSD}/{nsd_id}", json={"nsdOperationalState": "DISABLED"})
    assert r.status_code == 200
    assert live.client.delete(f"{NSD}/{nsd_id}").status_code == 204
    assert live.client.delete(f"{VNF}/{web_id}").status_code == 204
    assert live.client.get(f"{VNF}/{web_id}").status_code == 404
    with live.services.db.session() as s:
        assert CatalogRepository(s).count() == 1  # vnf-db remains
        assert BlobRepository(s).count() == 1


def test_list_filter_selectors_and_paging(live: LiveApi) -> None:
    live.services.settings.page_size = 2
    for i in range(5):
        live.create("vnf", userDefinedData={"n": i, "team": "a" if i % 2 else "b"})
    r = live.client.get(VNF, params={"filter": "(eq,userDefinedData/team,a)", "all_fields": ""})
    check("vnfpkgm", r)
    assert [p["userDefinedData"]["n"] for p in r.json()] == [1, 3]
    seen, url = [], VNF
    params: dict | None = {"all_fields": ""}
    while True:
        r = live.client.get(url, params=params)
        assert r.status_code == 200
        seen += [p["userDefinedData"]["n"] for p in r.json()]
        link = r.headers.get("link")
        if not link:
            break
        url, params = link.split(";")[0].strip("<>"), None
    assert seen == [0, 1, 2, 3, 4]
    r = live.client.get(VNF)
    assert all("userDefinedData" not in p for p in r.json())  # excluded by default
    r = live.client.get(VNF, params={"filter": "(eq,onboardingState"})
    assert r.status_code == 400 and "filter" in r.json()["detail"]
    r = live.client.get(VNF, params={"nextpage_opaque_marker": "garbage"})
    assert r.status_code == 400


def test_upload_from_uri(live: LiveApi, tmp_path) -> None:
    import http.server
    import threading

    data = build_sample("vnf-db")

    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200 if self.path == "/pkg.zip" else 404)
            self.end_headers()
            if self.path == "/pkg.zip":
                self.wfile.write(data)

        def log_message(self, *a):
            pass

    srv = http.server.HTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        port = srv.server_address[1]
        pkg = live.create("vnf")
        r = live.client.post(
            f"{VNF}/{pkg['id']}/package_content/upload_from_uri",
            json={"addressInformation": "file:///etc/passwd"},
        )
        assert r.status_code == 400 and "addressInformation" in r.json()["detail"]
        r = live.client.post(
            f"{VNF}/{pkg['id']}/package_content/upload_from_uri",
            json={"addressInformation": f"http://127.0.0.1:{port}/pkg.zip"},
        )
        assert r.status_code == 202
        assert live.wait("vnf", pkg["id"])["onboardingState"] == "ONBOARDED"
        bad = live.create("vnf")
        live.client.post(
            f"{VNF}/{bad['id']}/package_content/upload_from_uri",
            json={"addressInformation": f"http://127.0.0.1:{port}/missing.zip"},
        )
        info = live.wait("vnf", bad["id"])
        assert info["onboardingState"] == "ERROR"
        assert info["onboardingFailureDetails"]["cause"] == "FETCH_FAILED"
    finally:
        srv.shutdown()


@pytest.mark.parametrize("fmt", ["tar", "tar.gz"])
def test_tar_packages_onboard(live: LiveApi, fmt: str) -> None:
    info = live.onboard("vnf", build_sample("vnf-db", fmt=fmt))
    assert info["onboardingState"] == "ONBOARDED", info.get("onboardingFailureDetails")
