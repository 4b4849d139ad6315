"""Subscriptions of the three SOL005 APIs (§6.5.2.2/4, §9.5.2.1/4, §5.5.2.7/8)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from nfvo.api.models.common import Closed, Link, Open, optional
from nfvo.limits import MAX_URI

# every array of a filter: at most this many strings of at most this many characters
FILTER_VALUES = 100
FILTER_STRING = 255
Strings = list[str]
_BOUNDED = {"max_length": FILTER_VALUES}


def _strings(description: str | None = None) -> Any:
    return optional(description, **_BOUNDED)


class BasicParams(Open):
    """SubscriptionAuthentication.paramsBasic."""

    userName: str = Field(min_length=1)
    password: str = Field(min_length=1)


class OAuth2Params(Open):
    """SubscriptionAuthentication.paramsOauth2ClientCredentials."""

    clientId: str = Field(min_length=1)
    clientPassword: str = Field(min_length=1)
    tokenEndpoint: str = Field(min_length=1, max_length=MAX_URI)


class SubscriptionAuthentication(Open):
    """SOL013 §8.3.4: how nfvo authenticates to the callback (BASIC or OAuth2)."""

    authType: list[Literal["BASIC", "OAUTH2_CLIENT_CREDENTIALS", "TLS_CERT"]]
    paramsBasic: BasicParams = optional()
    paramsOauth2ClientCredentials: OAuth2Params = optional()


class NsInstanceSubscriptionFilter(Closed):
    """SOL005 §4.4.1.5 (one of its arrays matches)."""

    nsdIds: Strings = _strings()
    vnfdIds: Strings = _strings()
    pnfdIds: Strings = _strings()
    nsInstanceIds: Strings = _strings()
    nsInstanceNames: Strings = _strings()


class LifecycleChangeNotificationsFilter(Closed):
    """SOL005 §6.5.3.8."""

    nsInstanceSubscriptionFilter: NsInstanceSubscriptionFilter = optional()
    notificationTypes: Strings = _strings()
    operationTypes: Strings = _strings()
    operationStates: Strings = _strings()
    nsComponentTypes: Strings = _strings()
    lcmOpNameImpactingNsComponent: Strings = _strings()
    lcmOpOccStatusImpactingNsComponent: Strings = _strings()
    affectedNsInstanceIds: Strings = _strings()


class LccnSubscriptionRequest(Open):
    """SOL005 §6.5.2.2."""

    callbackUri: str = Field(min_length=1, max_length=MAX_URI, pattern=r"^https?://")
    filter: LifecycleChangeNotificationsFilter = optional()
    verbosity: Literal["FULL", "SHORT"] = optional()
    authentication: SubscriptionAuthentication = optional()


class VnfProductVersions(Open):
    """A software version of a VNF product and its VNFD versions."""

    vnfSoftwareVersion: str
    vnfdVersions: Strings = _strings()


class VnfProducts(Open):
    """A VNF product of a provider."""

    vnfProductName: str
    versions: list[VnfProductVersions] = _strings()


class VnfProductsFromProviders(Closed):
    """PkgmNotificationsFilter.vnfProductsFromProviders."""

    vnfProvider: str
    vnfProducts: list[VnfProducts] = _strings()


class PkgmNotificationsFilter(Closed):
    """SOL005 §9.5.3.2."""

    notificationTypes: Strings = _strings()
    vnfProductsFromProviders: list[VnfProductsFromProviders] = _strings()
    vnfdId: Strings = _strings()
    vnfPkgId: Strings = _strings()
    operationalState: Strings = _strings()
    usageState: Strings = _strings()
    vnfmInfo: Strings = _strings()


class PkgmSubscriptionRequest(Closed):
    """SOL005 §9.5.2.1."""

    callbackUri: str = Field(min_length=1, max_length=MAX_URI, pattern=r"^https?://")
    filter: PkgmNotificationsFilter = optional()
    authentication: SubscriptionAuthentication = optional()


class NsdmNotificationsFilter(Closed):
    """SOL005 §5.5.3.2."""

    notificationTypes: Strings = _strings()
    nsdInfoId: Strings = _strings()
    nsdId: Strings = _strings()
    nsdName: Strings = _strings()
    nsdVersion: Strings = _strings()
    nsdDesigner: Strings = _strings()
    nsdInvariantId: Strings = _strings()
    vnfPkgIds: Strings = _strings()
    pnfdInfoIds: Strings = _strings()
    nestedNsdInfoIds: Strings = _strings()
    nsdOnboardingState: Strings = _strings()
    nsdOperationalState: Strings = _strings()
    nsdUsageState: Strings = _strings()
    pnfdId: Strings = _strings()
    pnfdName: Strings = _strings()
    pnfdVersion: Strings = _strings()
    pnfdProvider: Strings = _strings()
    pnfdInvariantId: Strings = _strings()
    pnfdOnboardingState: Strings = _strings()
    pnfdUsageState: Strings = _strings()


class NsdmSubscriptionRequest(Closed):
    """SOL005 §5.5.2.7."""

    callbackUri: str = Field(min_length=1, max_length=MAX_URI, pattern=r"^https?://")
    filter: NsdmNotificationsFilter = optional()
    authentication: SubscriptionAuthentication = optional()


class SubscriptionLinks(Open):
    """Links of a subscription."""

    self: Link


class Subscription(Open):
    """LccnSubscription, PkgmSubscription or NsdmSubscription (authentication never shown)."""

    id: str
    callbackUri: str
    verbosity: Literal["FULL", "SHORT"] | None = None
    filter: dict[str, Any] | None = None
    links: SubscriptionLinks = Field(alias="_links")
