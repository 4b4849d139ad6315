"""VNF package (vnfpkgm, SOL005 §9.5.2.8-9) and NSD/PNFD (nsd, SOL005 §5.5.2.9-15)
notifications: builders, subscription filters (PkgmNotificationsFilter §9.5.3.2,
NsdmNotificationsFilter §5.5.3.2) and :func:`enqueue_package_event`, which the catalog calls
inside the transaction of the state change it reports, so a notification row exists exactly
when that change has committed. Delivery is the same outbox as NS LCM notifications."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from nfvo.inventory.models import LccnSubscriptionRow
from nfvo.notifications.outbox import queue_deliveries

if TYPE_CHECKING:
    from nfvo.inventory.models import CatalogPackage

VNF_ONBOARDING = "VnfPackageOnboardingNotification"
VNF_CHANGE = "VnfPackageChangeNotification"
NSD_ONBOARDING = "NsdOnBoardingNotification"
NSD_ONBOARDING_FAILURE = "NsdOnboardingFailureNotification"
NSD_CHANGE = "NsdChangeNotification"
NSD_DELETION = "NsdDeletionNotification"
PNFD_ONBOARDING = "PnfdOnBoardingNotification"
PNFD_ONBOARDING_FAILURE = "PnfdOnBoardingFailureNotification"
PNFD_DELETION = "PnfdDeletionNotification"
VNFPKGM_TYPES = (VNF_ONBOARDING, VNF_CHANGE)
NSD_TYPES = (
    NSD_ONBOARDING,
    NSD_ONBOARDING_FAILURE,
    NSD_CHANGE,
    NSD_DELETION,
    PNFD_ONBOARDING,
    PNFD_ONBOARDING_FAILURE,
    PNFD_DELETION,
)
_PNFD_TYPES = frozenset({PNFD_ONBOARDING, PNFD_ONBOARDING_FAILURE, PNFD_DELETION})


class PackageEvent(StrEnum):
    """What happened to a catalog entry."""

    ONBOARDED = "ONBOARDED"
    FAILED = "FAILED"  # onboarding ended in ERROR
    OPERATIONAL_STATE = "OPERATIONAL_STATE"  # enabled or disabled
    DELETED = "DELETED"


# (package kind, event) -> notification type; pairs SOL005 defines no notification for
# (a VNF package's onboarding failure, a PNFD's operational state) notify nobody.
_TYPES: dict[tuple[str, PackageEvent], str] = {
    ("vnf", PackageEvent.ONBOARDED): VNF_ONBOARDING,
    ("vnf", PackageEvent.OPERATIONAL_STATE): VNF_CHANGE,
    ("vnf", PackageEvent.DELETED): VNF_CHANGE,
    ("nsd", PackageEvent.ONBOARDED): NSD_ONBOARDING,
    ("nsd", PackageEvent.FAILED): NSD_ONBOARDING_FAILURE,
    ("nsd", PackageEvent.OPERATIONAL_STATE): NSD_CHANGE,
    ("nsd", PackageEvent.DELETED): NSD_DELETION,
    ("pnfd", PackageEvent.ONBOARDED): PNFD_ONBOARDING,
    ("pnfd", PackageEvent.FAILED): PNFD_ONBOARDING_FAILURE,
    ("pnfd", PackageEvent.DELETED): PNFD_DELETION,
}
API_OF_KIND = {"vnf": "vnfpkgm", "nsd": "nsd", "pnfd": "nsd"}

# Filter attributes: name -> allowed values (None: any string). Every one is an array (the
# spec tables give 0..N; the ETSI YAML writes PkgmNotificationsFilter.notificationTypes as a
# single string, which is accepted and read as a one-element array).
_STATES = {
    "onboarding": ("CREATED", "UPLOADING", "PROCESSING", "ONBOARDED", "ERROR"),
    "operational": ("ENABLED", "DISABLED"),
    "usage": ("IN_USE", "NOT_IN_USE"),
}
PKGM_FILTER: dict[str, tuple[str, ...] | None] = {
    "notificationTypes": VNFPKGM_TYPES,
    "vnfdId": None,
    "vnfPkgId": None,
    "operationalState": _STATES["operational"],
    "usageState": _STATES["usage"],
    "vnfmInfo": None,
}
NSDM_FILTER: dict[str, tuple[str, ...] | None] = {
    "notificationTypes": NSD_TYPES,
    **dict.fromkeys(
        (
            "nsdInfoId",
            "nsdId",
            "nsdName",
            "nsdVersion",
            "nsdDesigner",
            "nsdInvariantId",
            "vnfPkgIds",
            "pnfdInfoIds",
            "nestedNsdInfoIds",
            "pnfdId",
            "pnfdName",
            "pnfdVersion",
            "pnfdProvider",
            "pnfdInvariantId",
        )
    ),
    "nsdOnboardingState": _STATES["onboarding"],
    "nsdOperationalState": _STATES["operational"],
    "nsdUsageState": _STATES["usage"],
    "pnfdOnboardingState": _STATES["onboarding"],
    "pnfdUsageState": _STATES["usage"],
}


def _kind(pkg: CatalogPackage) -> str:
    return str(getattr(pkg.kind, "value", pkg.kind))


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


def notification_for(
    pkg: CatalogPackage, event: PackageEvent, base: str | None = None
) -> dict[str, Any] | None:
    """The notification body for ``event`` on ``pkg`` (without ``subscriptionId`` and
    ``_links.subscription``, filled per delivery), or None when SOL005 defines none."""
    kind = _kind(pkg)
    ntype = _TYPES.get((kind, event))
    if ntype is None:
        return None
    info = pkg.info or {}
    api = API_OF_KIND[kind]
    root = base or f"/{api}/v2"
    body: dict[str, Any] = {"id": str(uuid.uuid4()), "notificationType": ntype}
    body["timeStamp"] = _now_iso()
    if kind == "vnf":
        body |= {"vnfPkgId": pkg.id, "vnfdId": pkg.descriptor_id or info.get("vnfdId") or ""}
        if ntype == VNF_ONBOARDING:
            body["vnfmInfo"] = list(info.get("vnfmInfo") or [])
        elif event is PackageEvent.DELETED:
            body["changeType"] = "PKG_DELETE"
        else:
            body["changeType"] = "OP_STATE_CHANGE"
            body["operationalState"] = str(pkg.operational_state)
        body["_links"] = {"vnfPackage": {"href": f"{root}/vnf_packages/{pkg.id}"}}
        return body
    if kind == "nsd":
        body["nsdInfoId"] = pkg.id
        nsd_id = pkg.descriptor_id or info.get("nsdId")
        if nsd_id or ntype != NSD_ONBOARDING_FAILURE:
            body["nsdId"] = nsd_id or ""
        if ntype == NSD_CHANGE:
            body["nsdOperationalState"] = str(pkg.operational_state)
        if ntype == NSD_ONBOARDING_FAILURE:
            body["onboardingFailureDetails"] = _problem(pkg)
        body["_links"] = {"nsdInfo": {"href": f"{root}/ns_descriptors/{pkg.id}"}}
        return body
    body["pnfdInfoId"] = pkg.id
    pnfd_id = pkg.descriptor_id or info.get("pnfdId")
    if pnfd_id or ntype != PNFD_ONBOARDING_FAILURE:
        body["pnfdId"] = pnfd_id or ""
    if ntype == PNFD_ONBOARDING_FAILURE:
        body["onboardingFailureDetails"] = _problem(pkg)
    body["_links"] = {"pnfdInfo": {"href": f"{root}/pnf_descriptors/{pkg.id}"}}
    return body


def _problem(pkg: CatalogPackage) -> dict[str, Any]:
    details = dict(pkg.failure_details or {})
    details.setdefault("status", 422)
    details.setdefault("detail", "onboarding failed")
    return details


# --------------------------------------------------------------------------- filters


def _one_of(wanted: Any, value: Any) -> bool:
    return not wanted or value in wanted


def _facts(pkg: CatalogPackage) -> dict[str, Any]:
    """The attribute values a filter compares, named as the filter names them."""
    info = pkg.info or {}
    kind = _kind(pkg)
    if kind == "vnf":
        return {
            "vnfdId": pkg.descriptor_id or info.get("vnfdId"),
            "vnfPkgId": pkg.id,
            "operationalState": str(pkg.operational_state),
            "usageState": str(pkg.usage_state),
        }
    prefix = "nsd" if kind == "nsd" else "pnfd"
    facts: dict[str, Any] = {
        f"{prefix}InfoId": pkg.id,
        f"{prefix}Id": pkg.descriptor_id or info.get(f"{prefix}Id"),
        f"{prefix}OnboardingState": str(pkg.onboarding_state),
        f"{prefix}UsageState": str(pkg.usage_state),
        f"{prefix}InvariantId": info.get(f"{prefix}InvariantId"),
        f"{prefix}Name": info.get(f"{prefix}Name"),
    }
    if kind == "nsd":
        facts |= {
            "nsdVersion": info.get("nsdVersion"),
            "nsdDesigner": info.get("nsdDesigner"),
            "nsdOperationalState": str(pkg.operational_state),
        }
    else:
        facts |= {
            "pnfdVersion": info.get("pnfdVersion") or info.get("pnfdersion"),
            "pnfdProvider": info.get("pnfdProvider"),
        }
    return facts


def _vnf_products_match(wanted: list[dict[str, Any]] | None, info: dict[str, Any]) -> bool:
    """PkgmNotificationsFilter.vnfProductsFromProviders: provider, then product names, then
    software versions, then VNFD versions, each level optional below the provider."""
    if not wanted:
        return True
    for provider in wanted:
        if provider.get("vnfProvider") != info.get("vnfProvider"):
            continue
        products = provider.get("vnfProducts") or provider.get("vnfProductsFromProviders")
        if not products:
            return True
        for product in products:
            if product.get("vnfProductName") != info.get("vnfProductName"):
                continue
            versions = product.get("versions")
            if not versions:
                return True
            for version in versions:
                if version.get("vnfSoftwareVersion") != info.get("vnfSoftwareVersion"):
                    continue
                if _one_of(version.get("vnfdVersions"), info.get("vnfdVersion")):
                    return True
    return False


def matches(flt: dict[str, Any] | None, notification: dict[str, Any], pkg: CatalogPackage) -> bool:
    """Whether a Pkgm/NsdmNotificationsFilter selects ``notification`` about ``pkg``: "and"
    between attributes, "or" within an array. NSD criteria do not restrict PNFD
    notifications and PNFD criteria do not restrict NSD ones (except the identifiers that
    an NSD lists, ``pnfdInfoIds`` / ``vnfPkgIds``, which select NSDs)."""
    flt = flt or {}
    if not _one_of(flt.get("notificationTypes"), notification.get("notificationType")):
        return False
    info = pkg.info or {}
    kind = _kind(pkg)
    facts = _facts(pkg)
    if kind == "vnf":
        if not _vnf_products_match(flt.get("vnfProductsFromProviders"), info):
            return False
        if flt.get("vnfmInfo") and not set(flt["vnfmInfo"]) & set(info.get("vnfmInfo") or []):
            return False
    else:
        if kind == "nsd":
            for key in ("vnfPkgIds", "pnfdInfoIds", "nestedNsdInfoIds"):
                if flt.get(key) and not set(flt[key]) & set(info.get(key) or []):
                    return False
    for key, value in facts.items():
        if not _one_of(flt.get(key), value):
            return False
    return True


def enqueue_package_event(
    session: Session,
    pkg: CatalogPackage,
    event: PackageEvent,
    *,
    clock: Callable[[], datetime] | None = None,
) -> int:
    """Queue the notification of ``event`` on ``pkg`` for every matching vnfpkgm / nsd
    subscription, in the caller's transaction (call it before deleting the row). A
    tenant's package notifies that tenant's and tenant-less subscriptions; a tenant-less
    package notifies every subscription of the API. Returns the deliveries queued."""
    notification = notification_for(pkg, event)
    if notification is None:
        return 0
    api = API_OF_KIND[_kind(pkg)]
    row = LccnSubscriptionRow
    query = select(row).where(row.api == api)
    if pkg.tenant_id is not None:
        query = query.where(or_(row.tenant_id.is_(None), row.tenant_id == pkg.tenant_id))
    now = (clock or (lambda: datetime.now(UTC)))()
    subs = session.scalars(query.order_by(row.created_at, row.id))
    wanted = [sub for sub in subs if matches(sub.filter, notification, pkg)]
    return queue_deliveries(session, wanted, notification, now)
