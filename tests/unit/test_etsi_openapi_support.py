"""Tests of the SOL005 OpenAPI validation helper used by the API conformance tests."""

from __future__ import annotations

import copy
import json
from types import SimpleNamespace
from typing import Any

import pytest
from tests.support import etsi_openapi
from tests.support.etsi_openapi import EtsiApi, get_api, validate

pytestmark = pytest.mark.skipif(
    not etsi_openapi.etsi_available(), reason=etsi_openapi.skip_reason()
)

PKG_ID = "0b3c3a0e-5a4d-4b57-9b53-8f7c1b1f2a11"
BASE = f"http://nfvo.example/vnfpkgm/v2/vnf_packages/{PKG_ID}"

VNF_PKG_INFO: dict[str, Any] = {
    "id": PKG_ID,
    "vnfdId": "b1bb0ce7-ebca-4fa7-95ed-4840d70a1177",
    "vnfProvider": "Example Corp",
    "vnfProductName": "vFirewall",
    "vnfSoftwareVersion": "1.0.0",
    "vnfdVersion": "1.2",
    "compatibleSpecificationVersions": ["4.3.1"],
    "checksum": {"algorithm": "SHA-256", "hash": "9f86d081884c7d659a2feaa0c55ad015"},
    "packageSecurityOption": "OPTION_1",
    "softwareImages": [
        {
            "id": "VDU1_image",
            "name": "fw-image",
            "provider": "Example Corp",
            "version": "1.0",
            "checksum": {"algorithm": "SHA-512", "hash": "abcdef"},
            "isEncrypted": False,
            "containerFormat": "BARE",
            "diskFormat": "QCOW2",
            "createdAt": "2024-05-01T10:00:00Z",
            "minDisk": 1,
            "minRam": 512,
            "size": 1048576,
            "imagePath": "Files/images/fw.qcow2",
        }
    ],
    "additionalArtifacts": [
        {
            "artifactPath": "Scripts/install.sh",
            "checksum": {"algorithm": "SHA-256", "hash": "1234"},
            "isEncrypted": False,
        }
    ],
    "onboardingState": "ONBOARDED",
    "operationalState": "ENABLED",
    "usageState": "NOT_IN_USE",
    "userDefinedData": {"owner": "team-a"},
    "_links": {
        "self": {"href": BASE},
        "vnfd": {"href": f"{BASE}/vnfd"},
        "packageContent": {"href": f"{BASE}/package_content"},
    },
}

PROBLEM = {
    "type": "about:blank",
    "title": "Not Found",
    "status": 404,
    "detail": f"VNF package {PKG_ID} does not exist",
}


def _nsd_info(index: int) -> dict[str, Any]:
    href = f"http://nfvo.example/nsd/v2/ns_descriptors/nsd-info-{index}"
    return {
        "id": f"nsd-info-{index}",
        "nsdId": f"nsd-{index}",
        "nsdName": "web-tier",
        "nsdVersion": "1.0",
        "nsdDesigner": "Example Corp",
        "nsdInvariantId": f"inv-{index}",
        "vnfPkgIds": [PKG_ID],
        "nsdOnboardingState": "ONBOARDED",
        "nsdOperationalState": "ENABLED",
        "nsdUsageState": "NOT_IN_USE",
        "_links": {"self": {"href": href}, "nsd_content": {"href": f"{href}/nsd_content"}},
    }


@pytest.fixture(scope="module")
def vnfpkgm() -> EtsiApi:
    return get_api("VNFPackageManagement")


# ----------------------------------------------------------------------- VnfPkgInfo


def test_valid_vnf_pkg_info_passes(vnfpkgm: EtsiApi) -> None:
    vnfpkgm.validate_response("/vnf_packages/{vnfPkgId}", "GET", 200, VNF_PKG_INFO)
    validate("VNFPackageManagement", "GET", f"/vnfpkgm/v2/vnf_packages/{PKG_ID}", 200, VNF_PKG_INFO)


def test_missing_required_field_is_named(vnfpkgm: EtsiApi) -> None:
    body = copy.deepcopy(VNF_PKG_INFO)
    del body["onboardingState"]
    with pytest.raises(AssertionError) as info:
        vnfpkgm.validate_response("/vnf_packages/{vnfPkgId}", "GET", 200, body)
    message = str(info.value)
    assert "'onboardingState' is a required property" in message
    assert "VnfPkgInfo" in message


def test_wrong_enum_value_fails_with_json_path(vnfpkgm: EtsiApi) -> None:
    body = copy.deepcopy(VNF_PKG_INFO)
    body["operationalState"] = "SLEEPING"
    body["softwareImages"][0]["diskFormat"] = "qcow2"
    with pytest.raises(AssertionError) as info:
        vnfpkgm.validate_response("/vnf_packages/{vnfPkgId}", "GET", 200, body)
    message = str(info.value)
    assert "$.operationalState: 'SLEEPING' is not one of ['ENABLED', 'DISABLED']" in message
    assert "$.softwareImages[0].diskFormat: 'qcow2' is not one of" in message


def test_nested_ref_into_common_definitions_is_enforced(vnfpkgm: EtsiApi) -> None:
    body = copy.deepcopy(VNF_PKG_INFO)
    body["_links"]["vnfd"] = {"url": "/x"}  # Link (in SOL005_def.yaml) requires href
    body["checksum"]["hash"] = 42
    with pytest.raises(AssertionError) as info:
        vnfpkgm.validate_response("/vnf_packages/{vnfPkgId}", "GET", 200, body)
    message = str(info.value)
    assert "$._links.vnfd: 'href' is a required property" in message
    assert "$.checksum.hash: 42 is not of type 'string'" in message


def test_list_response_and_bytes_body(vnfpkgm: EtsiApi) -> None:
    raw = json.dumps([VNF_PKG_INFO, VNF_PKG_INFO]).encode()
    vnfpkgm.validate_response("/vnf_packages", "GET", 200, raw)
    with pytest.raises(AssertionError, match=r"\$\[1\]: 'id' is a required property"):
        vnfpkgm.validate_response("/vnf_packages", "GET", 200, [VNF_PKG_INFO, {"x": 1}])


def test_compatible_specification_versions_is_an_array(vnfpkgm: EtsiApi) -> None:
    schema = vnfpkgm.response_schema("/vnf_packages/{vnfPkgId}", "GET", 200)
    assert schema is not None
    assert schema["properties"]["compatibleSpecificationVersions"]["type"] == "array"


# ----------------------------------------------------------------------- errors / statuses


def test_problem_details_for_404(vnfpkgm: EtsiApi) -> None:
    template = "/vnf_packages/{vnfPkgId}"
    vnfpkgm.validate_response(template, "GET", 404, PROBLEM, "application/problem+json")
    vnfpkgm.validate_response(template, "GET", 404, PROBLEM)
    with pytest.raises(AssertionError, match="'detail' is a required property"):
        vnfpkgm.validate_response(
            template, "GET", 404, {"status": 404}, "application/problem+json; charset=utf-8"
        )


def test_undeclared_status_method_and_content_type(vnfpkgm: EtsiApi) -> None:
    with pytest.raises(AssertionError, match="undeclared status 418"):
        vnfpkgm.validate_response("/vnf_packages/{vnfPkgId}", "GET", 418, PROBLEM)
    with pytest.raises(AssertionError, match="undeclared method PUT"):
        vnfpkgm.validate_response("/vnf_packages/{vnfPkgId}", "PUT", 200, {})
    with pytest.raises(AssertionError, match="content type 'text/html' not declared"):
        vnfpkgm.validate_response("/vnf_packages/{vnfPkgId}", "GET", 200, "<p/>", "text/html")
    with pytest.raises(AssertionError, match="unknown path template"):
        vnfpkgm.response_schema("/vnf_packages/{id}/nope", "GET", 200)


def test_bodyless_and_binary_responses(vnfpkgm: EtsiApi) -> None:
    vnfpkgm.validate_response("/vnf_packages/{vnfPkgId}", "DELETE", 204, None)
    with pytest.raises(AssertionError, match="declares no content"):
        vnfpkgm.validate_response("/vnf_packages/{vnfPkgId}", "DELETE", 204, {"x": 1})
    content = "/vnf_packages/{vnfPkgId}/package_content"
    assert vnfpkgm.response_schema(content, "GET", 200, "application/zip") is None
    vnfpkgm.validate_response(content, "GET", 200, b"PK\x03\x04", "application/zip")
    assert vnfpkgm.response_schema(content, "PUT", 202) is None


def test_response_schema_follows_shared_response_refs(vnfpkgm: EtsiApi) -> None:
    schema = vnfpkgm.response_schema("/vnf_packages", "POST", 409, "application/problem+json")
    assert schema is not None
    assert schema["required"] == ["status", "detail"]


# ----------------------------------------------------------------------- other documents


def test_nsd_info_list_passes_and_bad_state_fails() -> None:
    body = [_nsd_info(1), _nsd_info(2)]
    validate("NSDManagement", "GET", "/nsd/v2/ns_descriptors", 200, body)
    body[1]["nsdOnboardingState"] = "READY"
    with pytest.raises(AssertionError, match=r"\$\[1\]\.nsdOnboardingState: 'READY'"):
        validate("NSDManagement", "GET", "/nsd/v2/ns_descriptors", 200, body)


def test_api_versions_body() -> None:
    body = {
        "uriPrefix": "/vnfpkgm/v2",
        "apiVersions": [
            {"version": "2.4.0"},
            {"version": "2.3.0", "isDeprecated": True, "retirementDate": "2026-01-01T00:00:00Z"},
        ],
    }
    validate("APIVersion", "GET", "/vnfpkgm/api_versions", 200, body)
    validate("VNFPackageManagement", "GET", "/vnfpkgm/v2/api_versions", 200, body)
    bad = {"uriPrefix": "/vnfpkgm/v2", "apiVersions": [{"isDeprecated": "no"}]}
    with pytest.raises(AssertionError) as info:
        validate("APIVersion", "GET", "/nsd/api_versions", 200, bad)
    assert "$.apiVersions[0]: 'version' is a required property" in str(info.value)
    assert "$.apiVersions[0].isDeprecated: 'no' is not of type 'boolean'" in str(info.value)


def test_notification_request_body() -> None:
    api = get_api("VNFPackageManagementNotification")
    template = next(p for p in api.paths() if p.endswith("VnfPackageOnboardingNotification"))
    notification = {
        "id": "n-1",
        "notificationType": "VnfPackageOnboardingNotification",
        "subscriptionId": "s-1",
        "timeStamp": "2024-05-01T10:00:00Z",
        "vnfPkgId": PKG_ID,
        "vnfdId": "vnfd-1",
        "vnfmInfo": ["etsivnfm:v1"],
        "_links": {"vnfPackage": {"href": BASE}, "subscription": {"href": "/s/1"}},
    }
    api.validate_request(template, "POST", notification)
    api.validate_response(template, "POST", 204, None)
    del notification["vnfPkgId"]
    with pytest.raises(AssertionError, match="'vnfPkgId' is a required property"):
        api.validate_request(template, "POST", notification)


def test_validate_http_response_uses_request_and_headers() -> None:
    response = SimpleNamespace(
        request=SimpleNamespace(method="GET", url=f"{BASE}"),
        status_code=200,
        headers={"content-type": "application/json"},
        content=json.dumps({"id": PKG_ID}).encode(),
    )
    with pytest.raises(AssertionError, match="'onboardingState' is a required property"):
        etsi_openapi.validate_http_response("VNFPackageManagement", response)


# ----------------------------------------------------------------------- paths


@pytest.mark.parametrize(
    ("concrete", "template"),
    [
        ("/vnfpkgm/v2/vnf_packages", "/vnf_packages"),
        ("/vnfpkgm/v2/vnf_packages/123", "/vnf_packages/{vnfPkgId}"),
        ("/vnfpkgm/v1/vnf_packages/123", "/vnf_packages/{vnfPkgId}"),
        ("/vnfpkgm/v2/vnf_packages/123?fields=x", "/vnf_packages/{vnfPkgId}"),
        ("http://h:8080/vnfpkgm/v2/vnf_packages/1/vnfd", "/vnf_packages/{vnfPkgId}/vnfd"),
        ("/vnfpkgm/v2/vnf_packages/1/package_content", "/vnf_packages/{vnfPkgId}/package_content"),
        (
            "/vnfpkgm/v2/vnf_packages/1/package_content/upload_from_uri",
            "/vnf_packages/{vnfPkgId}/package_content/upload_from_uri",
        ),
        ("/vnfpkgm/v1/vnf_packages/1/artifacts", "/vnf_packages/{vnfPkgId}/artifacts"),
        (
            "/vnfpkgm/v2/vnf_packages/1/artifacts/Files/images/a.qcow2",
            "/vnf_packages/{vnfPkgId}/artifacts/{artifactPath}",
        ),
        ("/prefix/vnfpkgm/v2/subscriptions/s1", "/subscriptions/{subscriptionId}"),
        ("/vnf_packages/1/manifest", "/vnf_packages/{vnfPkgId}/manifest"),
    ],
)
def test_match_path_vnfpkgm(vnfpkgm: EtsiApi, concrete: str, template: str) -> None:
    assert vnfpkgm.match_path(concrete) == template


def test_match_path_rejects_unknown_and_other_api(vnfpkgm: EtsiApi) -> None:
    for concrete in ("/vnfpkgm/v2/vnf_packages/1/unknown", "/nsd/v2/ns_descriptors", "/vnfpkgm/v2"):
        with pytest.raises(AssertionError, match="matches no path"):
            vnfpkgm.match_path(concrete)


def test_match_path_other_documents() -> None:
    nsd = get_api("nsd")
    assert nsd.match_path("/nsd/v1/ns_descriptors/a/artifacts/x/y") == (
        "/ns_descriptors/{nsdInfoId}/artifacts/{artifactPath}"
    )
    assert get_api("APIVersion").match_path("/nslcm/api_versions") == "/nslcm/api_versions"
    nslcm = get_api("NSLifecycleManagement")
    # upstream writes these two paths as /nslcm/v1/...; they are served under the API base
    assert nslcm.match_path("/nslcm/v2/ns_lcm_op_occs/o1/fail") == (
        "/ns_lcm_op_occs/{nsLcmOpOccId}/fail"
    )
    assert "/nslcm/v1/ns_lcm_op_occs/{nsLcmOpOccId}/cancel" not in nslcm.paths()
    nslcm.validate_response("/ns_lcm_op_occs/{nsLcmOpOccId}/cancel", "POST", 202, None)


# ----------------------------------------------------------------------- corpus health


@pytest.mark.parametrize("name", ["VNFPackageManagement", "NSDManagement", "APIVersion"])
def test_core_documents_have_no_broken_refs(name: str) -> None:
    api = get_api(name)
    assert api.broken_refs() == []
    files = {path.name for path in api.referenced_files()}
    assert {"SOL005_resp.yaml", "SOL005_params.yaml", "SOL005_def.yaml"} <= files


def test_every_sol005_document_loads() -> None:
    names = etsi_openapi.available_apis()
    assert {"VNFPackageManagement", "NSDManagement", "NSLifecycleManagement"} <= set(names)
    for name in names:
        assert get_api(name).paths(), name
