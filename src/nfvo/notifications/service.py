"""Subscriptions of the SOL005 APIs (NS LCM, VNF package and NSD management) and the worker
that delivers their notifications."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import and_, select

from nfvo.errors import BadRequest, NotFound, UnprocessableEntity
from nfvo.inventory.db import Database
from nfvo.inventory.models import LccnSubscriptionRow, NotificationDelivery
from nfvo.inventory.paging import PageQuery, fetch_after, owned_by
from nfvo.notifications import outbox, packages
from nfvo.notifications.delivery import (
    BASIC,
    OAUTH2,
    DeliveryPolicy,
    DeliveryWorker,
    TokenCache,
    auth_headers,
)
from nfvo.resources.vault import Vault

FILTER_ARRAYS = {
    "notificationTypes": (*outbox.NOTIFICATION_TYPES, outbox.OP_OCC_ETSI_SPELLING),
    "operationTypes": ("INSTANTIATE", "SCALE", "UPDATE", "TERMINATE", "HEAL"),
    "operationStates": (
        "PROCESSING",
        "COMPLETED",
        "PARTIALLY_COMPLETED",
        "FAILED_TEMP",
        "FAILED",
        "ROLLING_BACK",
        "ROLLED_BACK",
    ),
    "nsComponentTypes": ("VNF", "PNF", "NS"),
    "lcmOpNameImpactingNsComponent": None,
    "lcmOpOccStatusImpactingNsComponent": None,
    "affectedNsInstanceIds": None,
}
NS_FILTER_ARRAYS = ("nsdIds", "vnfdIds", "pnfdIds", "nsInstanceIds", "nsInstanceNames")
NSLCM = "nslcm"
APIS = (NSLCM, "vnfpkgm", "nsd")


@dataclass
class Subscription:
    """A subscription as the API shows it (credentials never leave the vault)."""

    id: str
    tenant_id: str | None
    callback_uri: str
    filter: dict[str, Any]
    verbosity: str
    auth_type: str | None
    created_at: Any
    api: str = NSLCM


def _view(row: LccnSubscriptionRow) -> Subscription:
    return Subscription(
        row.id,
        row.tenant_id,
        row.callback_uri,
        row.filter or {},
        row.verbosity,
        row.auth_type,
        row.created_at,
        row.api or NSLCM,
    )


def _string_list(value: Any, where: str, allowed: tuple[str, ...] | None) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadRequest(f"{where} must be an array of strings", field=where)
    bad = [v for v in value if allowed is not None and v not in allowed]
    if bad:
        raise BadRequest(f"{where}: {bad} not among {list(allowed or ())}", field=where)


def validate_filter(flt: Any) -> dict[str, Any]:
    """A LifecycleChangeNotificationsFilter, checked (BadRequest names the attribute)."""
    if flt is None:
        return {}
    if not isinstance(flt, dict):
        raise BadRequest("filter must be an object", field="filter")
    for key, value in flt.items():
        if key == "nsInstanceSubscriptionFilter":
            if not isinstance(value, dict):
                raise BadRequest(f"filter.{key} must be an object", field=f"filter.{key}")
            for sub_key, sub_value in value.items():
                if sub_key not in NS_FILTER_ARRAYS:
                    raise BadRequest(f"unknown attribute filter.{key}.{sub_key}", field=key)
                _string_list(sub_value, f"filter.{key}.{sub_key}", None)
        elif key in FILTER_ARRAYS:
            _string_list(value, f"filter.{key}", FILTER_ARRAYS[key])
        else:
            raise BadRequest(f"unknown filter attribute {key!r}", field=f"filter.{key}")
    return flt


def _strings(
    value: Any, where: str, allowed: tuple[str, ...] | None, lone: bool = False
) -> list[str]:
    """An array of strings (with ``lone``, a single string is read as a one-element array)."""
    if lone and isinstance(value, str):
        value = [value]
    _string_list(value, where, allowed)
    return list(value)


def _vnf_products(value: Any) -> list[dict[str, Any]]:
    """PkgmNotificationsFilter.vnfProductsFromProviders (SOL005 §9.5.3.2), checked."""
    where = "filter.vnfProductsFromProviders"
    if not isinstance(value, list):
        raise BadRequest(f"{where} must be an array", field=where)
    for provider in value:
        if not isinstance(provider, dict) or not isinstance(provider.get("vnfProvider"), str):
            raise BadRequest(f"{where}[] needs a vnfProvider string", field=where)
        for key in provider:
            if key not in ("vnfProvider", "vnfProducts", "vnfProductsFromProviders"):
                raise BadRequest(f"unknown attribute {where}[].{key}", field=where)
        products = provider.get("vnfProducts", provider.get("vnfProductsFromProviders")) or []
        if not isinstance(products, list) or not all(
            isinstance(p, dict)
            and isinstance(p.get("vnfProductName"), str)
            and isinstance(p.get("versions", []), list)
            and all(
                isinstance(v, dict) and isinstance(v.get("vnfSoftwareVersion"), str)
                for v in p.get("versions", [])
            )
            for p in products
        ):
            raise BadRequest(
                f"{where}[].vnfProducts must be objects with vnfProductName and, optionally, "
                "versions (objects with vnfSoftwareVersion and vnfdVersions)",
                field=where,
            )
    return value


def validate_package_filter(api: str, flt: Any) -> dict[str, Any]:
    """A PkgmNotificationsFilter (vnfpkgm) or NsdmNotificationsFilter (nsd), checked; every
    attribute is an array as the spec tables say (BadRequest names the attribute)."""
    if flt is None:
        return {}
    if not isinstance(flt, dict):
        raise BadRequest("filter must be an object", field="filter")
    spec = packages.PKGM_FILTER if api == "vnfpkgm" else packages.NSDM_FILTER
    out: dict[str, Any] = {}
    for key, value in flt.items():
        if api == "vnfpkgm" and key == "vnfProductsFromProviders":
            out[key] = _vnf_products(value)
        elif key in spec:
            # the ETSI YAML writes PkgmNotificationsFilter.notificationTypes as one string
            lone = api == "vnfpkgm" and key == "notificationTypes"
            out[key] = _strings(value, f"filter.{key}", spec[key], lone)
        else:
            raise BadRequest(f"unknown filter attribute {key!r}", field=f"filter.{key}")
    return out


def validate_authentication(auth: Any) -> tuple[str | None, dict[str, Any]]:
    """(auth type, secrets) from a SubscriptionAuthentication; only BASIC and
    OAUTH2_CLIENT_CREDENTIALS with parameters in the request are supported."""
    if auth is None:
        return None, {}
    if not isinstance(auth, dict) or not isinstance(auth.get("authType"), list):
        raise BadRequest("authentication.authType must be an array", field="authentication")
    types = auth["authType"]
    if BASIC in types:
        params = auth.get("paramsBasic") or {}
        if not isinstance(params, dict) or not params.get("userName") or not params.get("password"):
            raise BadRequest(
                "authentication.paramsBasic needs userName and password",
                field="authentication.paramsBasic",
            )
        return BASIC, {"userName": params["userName"], "password": params["password"]}
    if OAUTH2 in types:
        params = auth.get("paramsOauth2ClientCredentials") or {}
        if not isinstance(params, dict):
            params = {}
        missing = [k for k in ("clientId", "clientPassword", "tokenEndpoint") if not params.get(k)]
        if missing:
            raise BadRequest(
                f"authentication.paramsOauth2ClientCredentials lacks {missing}",
                field="authentication.paramsOauth2ClientCredentials",
            )
        return OAUTH2, {k: params[k] for k in ("clientId", "clientPassword", "tokenEndpoint")}
    raise UnprocessableEntity(
        f"authentication.authType {types} is not supported; use BASIC or OAUTH2_CLIENT_CREDENTIALS",
        field="authentication.authType",
    )


def _fingerprint(callback: str, flt: dict[str, Any], verbosity: str, api: str = NSLCM) -> str:
    parts: list[Any] = [callback, flt, verbosity] + ([] if api == NSLCM else [api])
    raw = json.dumps(parts, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()


def _visible(owner: str | None, tenant: str | None) -> bool:
    return tenant is None or owner == tenant


class NotificationService:
    """Subscriptions of the nslcm, vnfpkgm and nsd APIs (create, list, get, delete; ``api``
    says which) and the process's delivery worker.

    Notifications themselves are queued by the LCM through :func:`outbox.enqueue` and by the
    catalog through :func:`packages.enqueue_package_event` inside their own transactions;
    this service only sends what was committed.
    """

    def __init__(
        self,
        db: Database,
        vault: Vault,
        policy: DeliveryPolicy | None = None,
        public_url: str | None = None,
    ) -> None:
        self.db = db
        self.vault = vault
        self.policy = policy or DeliveryPolicy()
        self.worker = DeliveryWorker(db, vault.open, self.policy, public_url)

    # ------------------------------------------------------------------ worker

    def start(self) -> None:
        """Start delivering in the background."""
        self.worker.start()

    def stop(self) -> None:
        """Stop delivering (queued rows stay for the next start, here or elsewhere)."""
        self.worker.stop()

    def deliver_once(self) -> int:
        """Attempt every due delivery now and wait for the outcomes; returns the attempts."""
        return self.worker.deliver_once()

    def pending(self) -> list[NotificationDelivery]:
        """Deliveries not yet delivered nor given up (oldest first)."""
        with self.db.session() as s:
            q = select(NotificationDelivery).where(
                NotificationDelivery.next_attempt_at.is_not(None)
            )
            return list(s.scalars(q.order_by(NotificationDelivery.created_at)))

    # ------------------------------------------------------------------ subscriptions

    def find_duplicate(
        self, body: dict[str, Any], tenant: str | None, api: str = NSLCM
    ) -> Subscription | None:
        """An existing subscription of the tenant to ``api`` with the same callback, filter
        and verbosity."""
        fp = _fingerprint(
            str(body.get("callbackUri")),
            body.get("filter") or {},
            body.get("verbosity") or "FULL",
            api,
        )
        with self.db.session() as s:
            q = select(LccnSubscriptionRow).where(LccnSubscriptionRow.fingerprint == fp)
            for row in s.scalars(q):
                if row.tenant_id == tenant and (row.api or NSLCM) == api:
                    return _view(row)
        return None

    def check_request(
        self, body: Any, api: str = NSLCM
    ) -> tuple[str, dict[str, Any], str, str | None, dict]:
        """(callbackUri, filter, verbosity, auth type, secrets) of a LccnSubscriptionRequest
        (nslcm), PkgmSubscriptionRequest (vnfpkgm) or NsdmSubscriptionRequest (nsd)."""
        kind = {"vnfpkgm": "PkgmSubscriptionRequest", "nsd": "NsdmSubscriptionRequest"}
        if not isinstance(body, dict):
            raise BadRequest(
                f"the request body must be a {kind.get(api, 'LccnSubscriptionRequest')} object"
            )
        callback = body.get("callbackUri")
        if not isinstance(callback, str) or not callback:
            raise BadRequest("callbackUri is required", field="callbackUri")
        parts = urlsplit(callback)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise BadRequest(f"callbackUri {callback!r} is not an http(s) URL", field="callbackUri")
        if api != NSLCM:
            unknown = sorted(set(body) - {"callbackUri", "filter", "authentication"})
            if unknown:
                raise BadRequest(
                    f"unknown attribute {unknown[0]!r} in {kind[api]}", field=unknown[0]
                )
            flt = validate_package_filter(api, body.get("filter"))
            auth_type, secrets = validate_authentication(body.get("authentication"))
            return callback, flt, "FULL", auth_type, secrets
        verbosity = body.get("verbosity") or "FULL"
        if verbosity not in ("FULL", "SHORT"):
            raise BadRequest("verbosity must be FULL or SHORT", field="verbosity")
        flt = validate_filter(body.get("filter"))
        auth_type, secrets = validate_authentication(body.get("authentication"))
        return callback, flt, verbosity, auth_type, secrets

    def test_callback(self, callback: str, auth_type: str | None, secrets: dict[str, Any]) -> None:
        """SOL005 §6.4.18.3.2 / SOL013: GET the callback URI; anything but 204 is a 422."""
        with httpx.Client(timeout=self.policy.timeout) as client:
            try:
                headers = auth_headers(client, TokenCache(), auth_type, secrets)
                r = client.get(callback, headers={**headers, "Accept": "application/json"})
            except Exception as exc:  # noqa: BLE001 - reported to the subscriber
                raise UnprocessableEntity(
                    f"callbackUri {callback} could not be tested: {type(exc).__name__}: {exc}",
                    field="callbackUri",
                ) from None
        if r.status_code != 204:
            raise UnprocessableEntity(
                f"callbackUri {callback} answered the test GET with {r.status_code} "
                f"instead of 204 No Content",
                field="callbackUri",
            )

    def create(self, body: Any, tenant: str | None, api: str = NSLCM) -> tuple[Subscription, bool]:
        """(subscription, created): an equal existing one is returned with created False;
        otherwise the callback is tested and the subscription stored."""
        callback, flt, verbosity, auth_type, secrets = self.check_request(body, api)
        existing = self.find_duplicate(
            {"callbackUri": callback, "filter": flt, "verbosity": verbosity}, tenant, api
        )
        if existing is not None:
            return existing, False
        self.test_callback(callback, auth_type, secrets)
        row = LccnSubscriptionRow(
            id=str(uuid.uuid4()),
            api=api,
            tenant_id=tenant,
            callback_uri=callback,
            filter=flt,
            verbosity=verbosity,
            fingerprint=_fingerprint(callback, flt, verbosity, api),
            auth_type=auth_type,
            secrets=self.vault.seal(secrets) if secrets else None,
        )
        with self.db.session() as s:
            s.add(row)
            s.flush()
            return _view(row), True

    def list(self, tenant: str | None, api: str = NSLCM) -> list[Subscription]:
        """Subscriptions to ``api`` the caller may see, oldest first."""
        with self.db.session() as s:
            q = (
                select(LccnSubscriptionRow)
                .where(LccnSubscriptionRow.api == api)
                .order_by(LccnSubscriptionRow.created_at, LccnSubscriptionRow.id)
            )
            return [_view(r) for r in s.scalars(q) if _visible(r.tenant_id, tenant)]

    def page(self, tenant: str | None, query: PageQuery, api: str = NSLCM) -> list[Subscription]:
        """One chunk of the subscriptions to ``api`` the caller may see, oldest first."""
        row = LccnSubscriptionRow
        with self.db.session() as s:
            visible = and_(owned_by(row, tenant), row.api == api)
            rows = fetch_after(s, row, (row.created_at, row.id), query, visible=visible)
            return [_view(r) for r in rows]

    def _row(self, s: Any, sub_id: str, tenant: str | None, api: str) -> LccnSubscriptionRow:
        row = s.get(LccnSubscriptionRow, sub_id)
        if row is None or not _visible(row.tenant_id, tenant) or (row.api or NSLCM) != api:
            raise NotFound(f"subscription {sub_id} not found")
        return row

    def get(self, sub_id: str, tenant: str | None, api: str = NSLCM) -> Subscription:
        """One subscription to ``api`` (NotFound also for another tenant's or API's)."""
        with self.db.session() as s:
            return _view(self._row(s, sub_id, tenant, api))

    def delete(self, sub_id: str, tenant: str | None, api: str = NSLCM) -> None:
        """Remove a subscription and its undelivered notifications."""
        with self.db.session() as s:
            row = self._row(s, sub_id, tenant, api)
            s.query(NotificationDelivery).filter_by(subscription_id=sub_id).delete()
            s.delete(row)
