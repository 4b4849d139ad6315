"""SOL005 representations (VnfPkgInfo, NsdInfo, PnfdInfo) of catalog records."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nfvo.catalog.states import OnboardingState

if TYPE_CHECKING:  # row types only: the API does not use the inventory
    from nfvo.inventory.models import CatalogPackage

# Attributes excluded by default from lists (SOL005 §9.4.2.3.2 and §5.4.2.3.2).
VNF_DEFAULT_EXCLUDED = [
    ("softwareImages",),
    ("additionalArtifacts",),
    ("userDefinedData",),
    ("checksum",),
    ("onboardingFailureDetails",),
]
NSD_DEFAULT_EXCLUDED = [("userDefinedData",), ("onboardingFailureDetails",)]
PNFD_DEFAULT_EXCLUDED = [("userDefinedData",), ("onboardingFailureDetails",)]
MANDATORY = [("id",), ("_links",)]


def _v1_onboarding_state(state: str, base: str) -> str:
    """PackageOnboardingStateType of the path's API version: the v1 enum (SOL005 V2.x
    §9.5.4.3) has no ERROR; a package whose onboarding failed is CREATED there (its
    ``onboardingFailureDetails`` tell why), as the V2.x state model returns it to."""
    if state == OnboardingState.ERROR and base.endswith("/v1"):
        return OnboardingState.CREATED
    return state


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def vnf_pkg_info(p: CatalogPackage, base: str) -> dict[str, Any]:
    """VnfPkgInfo (SOL005 §9.5.2.5)."""
    i = p.info or {}
    self_href = f"{base}/vnf_packages/{p.id}"
    onboarded = p.onboarding_state == OnboardingState.ONBOARDED
    body: dict[str, Any] = {
        "id": p.id,
        "vnfdId": i.get("vnfdId"),
        "vnfProvider": i.get("vnfProvider"),
        "vnfProductName": i.get("vnfProductName"),
        "vnfSoftwareVersion": i.get("vnfSoftwareVersion"),
        "vnfdVersion": i.get("vnfdVersion"),
        "compatibleSpecificationVersions": i.get("compatibleSpecificationVersions") or None,
        "checksum": i.get("checksum"),
        "packageSecurityOption": "OPTION_1" if onboarded else None,
        "softwareImages": i.get("softwareImages") if onboarded else None,
        "additionalArtifacts": i.get("additionalArtifacts") if onboarded else None,
        "onboardingState": _v1_onboarding_state(p.onboarding_state, base),
        "operationalState": p.operational_state,
        "usageState": p.usage_state,
        "vnfmInfo": i.get("vnfmInfo") if onboarded else None,
        "userDefinedData": p.user_defined_data or None,
        "onboardingFailureDetails": p.failure_details,
        "_links": {
            "self": {"href": self_href},
            "vnfd": {"href": f"{self_href}/vnfd"},
            "packageContent": {"href": f"{self_href}/package_content"},
        },
    }
    return _drop_none(body)


def nsd_info(p: CatalogPackage, base: str) -> dict[str, Any]:
    """NsdInfo (SOL005 §5.5.2.2)."""
    i = p.info or {}
    self_href = f"{base}/ns_descriptors/{p.id}"
    onboarded = p.onboarding_state == OnboardingState.ONBOARDED
    body: dict[str, Any] = {
        "id": p.id,
        "nsdId": i.get("nsdId"),
        "nsdName": i.get("nsdName"),
        "nsdVersion": i.get("nsdVersion"),
        "nsdDesigner": i.get("nsdDesigner"),
        "nsdInvariantId": i.get("nsdInvariantId"),
        "vnfPkgIds": i.get("vnfPkgIds", []),  # the schema requires it in every state
        "pnfdInfoIds": i.get("pnfdInfoIds") or None,
        "nestedNsdInfoIds": i.get("nestedNsdInfoIds") or None,
        "archiveSecurityOption": "OPTION_1" if onboarded else None,
        "artifacts": i.get("artifacts") if onboarded else None,
        "nsdOnboardingState": p.onboarding_state,
        "onboardingFailureDetails": p.failure_details,
        "nsdOperationalState": p.operational_state,
        "nsdUsageState": p.usage_state,
        "userDefinedData": p.user_defined_data or None,
        "_links": {
            "self": {"href": self_href},
            "nsd_content": {"href": f"{self_href}/nsd_content"},
        },
    }
    return _drop_none(body)


def pnfd_info(p: CatalogPackage, base: str) -> dict[str, Any]:
    """PnfdInfo (SOL005 §5.5.2.5)."""
    i = p.info or {}
    self_href = f"{base}/pnf_descriptors/{p.id}"
    onboarded = p.onboarding_state == OnboardingState.ONBOARDED
    body: dict[str, Any] = {
        "id": p.id,
        "pnfdId": i.get("pnfdId"),
        "pnfdName": i.get("pnfdName"),
        # table 5.5.2.5-1 names it pnfdVersion; the ETSI YAML spells it pnfdersion: both
        "pnfdVersion": i.get("pnfdVersion") or i.get("pnfdersion"),
        "pnfdersion": i.get("pnfdVersion") or i.get("pnfdersion"),
        "pnfdProvider": i.get("pnfdProvider"),
        "pnfdInvariantId": i.get("pnfdInvariantId"),
        "archiveSecurityOption": "OPTION_1" if onboarded else None,
        "artifacts": i.get("artifacts") if onboarded else None,
        "pnfdOnboardingState": p.onboarding_state,
        "onboardingFailureDetails": p.failure_details,
        "pnfdUsageState": p.usage_state,
        "userDefinedData": p.user_defined_data or None,
        "_links": {
            "self": {"href": self_href},
            "pnfd_content": {"href": f"{self_href}/pnfd_content"},
        },
    }
    return _drop_none(body)
