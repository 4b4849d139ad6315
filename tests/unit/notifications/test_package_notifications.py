"""Package notifications: which SOL005 notification each catalog event makes, and how the
vnfpkgm / nsd subscription filters select them."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from nfvo.notifications.packages import PackageEvent, matches, notification_for


def pkg(kind: str, **extra: Any) -> Any:
    info = {
        "vnfProvider": "acme",
        "vnfProductName": "fw",
        "vnfSoftwareVersion": "1.0",
        "vnfdVersion": "2.0",
        "vnfmInfo": ["gvnfm"],
        "nsdName": "web",
        "vnfPkgIds": ["p1"],
    }
    base = {
        "id": "pkg-1",
        "kind": kind,
        "descriptor_id": "d-1",
        "info": info,
        "onboarding_state": "ONBOARDED",
        "operational_state": "ENABLED",
        "usage_state": "NOT_IN_USE",
        "failure_details": None,
        "tenant_id": None,
    }
    return SimpleNamespace(**(base | extra))


@pytest.mark.parametrize(
    ("kind", "event", "expected"),
    [
        ("vnf", PackageEvent.ONBOARDED, "VnfPackageOnboardingNotification"),
        ("vnf", PackageEvent.OPERATIONAL_STATE, "VnfPackageChangeNotification"),
        ("vnf", PackageEvent.DELETED, "VnfPackageChangeNotification"),
        ("vnf", PackageEvent.FAILED, None),
        ("nsd", PackageEvent.FAILED, "NsdOnboardingFailureNotification"),
        ("nsd", PackageEvent.OPERATIONAL_STATE, "NsdChangeNotification"),
        ("pnfd", PackageEvent.DELETED, "PnfdDeletionNotification"),
        ("pnfd", PackageEvent.OPERATIONAL_STATE, None),
    ],
)
def test_event_to_notification_type(kind: str, event: PackageEvent, expected: str | None) -> None:
    body = notification_for(pkg(kind), event)
    assert (body or {}).get("notificationType") == expected


def test_failure_notification_carries_the_problem_details() -> None:
    failed = pkg("nsd", descriptor_id=None, info={}, failure_details={"cause": "X", "title": "t"})
    body = notification_for(failed, PackageEvent.FAILED)
    assert body is not None and "nsdId" not in body
    assert body["onboardingFailureDetails"]["cause"] == "X"
    assert body["onboardingFailureDetails"]["status"] == 422


@pytest.mark.parametrize(
    ("flt", "hit"),
    [
        ({}, True),
        ({"notificationTypes": ["VnfPackageChangeNotification"]}, False),
        ({"vnfdId": ["d-1", "d-2"]}, True),
        ({"vnfPkgId": ["other"]}, False),
        ({"vnfmInfo": ["gvnfm", "x"]}, True),
        ({"vnfmInfo": ["x"]}, False),
        ({"vnfProductsFromProviders": [{"vnfProvider": "acme"}]}, True),
        ({"vnfProductsFromProviders": [{"vnfProvider": "other"}]}, False),
        (
            {
                "vnfProductsFromProviders": [
                    {
                        "vnfProvider": "acme",
                        "vnfProducts": [
                            {
                                "vnfProductName": "fw",
                                "versions": [
                                    {"vnfSoftwareVersion": "1.0", "vnfdVersions": ["2.0"]}
                                ],
                            }
                        ],
                    }
                ]
            },
            True,
        ),
        (
            {
                "vnfProductsFromProviders": [
                    {
                        "vnfProvider": "acme",
                        "vnfProducts": [
                            {"vnfProductName": "fw", "versions": [{"vnfSoftwareVersion": "9"}]}
                        ],
                    }
                ]
            },
            False,
        ),
        ({"operationalState": ["DISABLED"]}, False),
    ],
)
def test_pkgm_filter(flt: dict[str, Any], hit: bool) -> None:
    p = pkg("vnf")
    body = notification_for(p, PackageEvent.ONBOARDED)
    assert body is not None and matches(flt, body, p) is hit


@pytest.mark.parametrize(
    ("kind", "flt", "hit"),
    [
        ("nsd", {"nsdId": ["d-1"]}, True),
        ("nsd", {"nsdName": ["other"]}, False),
        ("nsd", {"vnfPkgIds": ["p1"]}, True),
        ("nsd", {"vnfPkgIds": ["p9"]}, False),
        ("nsd", {"pnfdId": ["zzz"]}, True),  # PNFD criteria do not restrict NSD notifications
        ("pnfd", {"pnfdId": ["d-1"]}, True),
        ("pnfd", {"pnfdId": ["zzz"]}, False),
        ("pnfd", {"notificationTypes": ["NsdDeletionNotification"]}, False),
    ],
)
def test_nsdm_filter(kind: str, flt: dict[str, Any], hit: bool) -> None:
    p = pkg(kind)
    body = notification_for(p, PackageEvent.DELETED)
    assert body is not None and matches(flt, body, p) is hit
