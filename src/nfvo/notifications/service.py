"""Subscriptions of the SOL005 APIs (NS LCM, VNF package and NSD management) and the worker
that delivers their notifications."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import and_, func, or_, select

from nfvo.errors import BadRequest, NotFound, UnprocessableEntity
from nfvo.inventory.db import Database
from nfvo.inventory.models import (
    CatalogPackage,
    LccnSubscriptionRow,
    NotificationDelivery,
    NsInstance,
)
from nfvo.inventory.paging import PageQuery, fetch_after, owned_by
from nfvo.netguard import UNREACHABLE, OutboundGuard, describe
from nfvo.notifications import nsfm, outbox, packages
from nfvo.notifications.delivery import (
    BASIC,
    OAUTH2,
    DeliveryPolicy,
    DeliveryWorker,
    TokenCache,
    TokenEndpointError,
    answer_status,
    auth_headers,
)
from nfvo.resources.vault import Vault

log = logging.getLogger(__name__)

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
NSFM = "nsfm"
APIS = (NSLCM, "vnfpkgm", "nsd", NSFM)
# Filter attributes holding ids nfvo generated, per API: (path in the filter, what they name).
# Each must name a resource the subscriber sees (descriptor ids such as vnfdId are chosen by
# descriptor authors, may name what is not onboarded yet, and are not resolved).
ID_FILTERS: dict[str, tuple[tuple[tuple[str, ...], str], ...]] = {
    NSLCM: (
        (("nsInstanceSubscriptionFilter", "nsInstanceIds"), "ns"),
        (("affectedNsInstanceIds",), "ns"),
    ),
    "vnfpkgm": ((("vnfPkgId",), "vnf"),),
    "nsd": (
        (("nsdInfoId",), "nsd"),
        (("vnfPkgIds",), "vnf"),
        (("pnfdInfoIds",), "pnfd"),
        (("nestedNsdInfoIds",), "nsd"),
    ),
    NSFM: ((("nsInstanceSubscriptionFilter", "nsInstanceIds"), "ns"),),
}
_ID_WORDS = {"ns": "NS instance", "vnf": "VNF package", "nsd": "NSD", "pnfd": "PNFD"}


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


# Bounds on a filter (docs/security-contract.md): every notification is matched against
# every subscription's filter, so neither may grow without limit
MAX_FILTER_VALUES = 100  # entries of one array of a filter
MAX_FILTER_STRING = 255  # characters of one of its strings
# subscriptions one tenant (or the global callers together) may hold per API: every NS or
# package event is matched against each of them, so their number bounds that work
MAX_SUBSCRIPTIONS = 1000


def _string_list(value: Any, where: str, allowed: tuple[str, ...] | None) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadRequest(f"{where} must be an array of strings", field=where)
    if len(value) > MAX_FILTER_VALUES:
        raise BadRequest(
            f"{where} has {len(value)} entries; the limit is {MAX_FILTER_VALUES}", field=where
        )
    if any(len(v) > MAX_FILTER_STRING for v in value):
        raise BadRequest(
            f"{where} has a string longer than {MAX_FILTER_STRING} characters", field=where
        )
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
    if len(value) > MAX_FILTER_VALUES:
        raise BadRequest(
            f"{where} has {len(value)} entries; the limit is {MAX_FILTER_VALUES}", field=where
        )
    for provider in value:
        if not isinstance(provider, dict) or not isinstance(provider.get("vnfProvider"), str):
            raise BadRequest(f"{where}[] needs a vnfProvider string", field=where)
        for key in provider:
            if key not in ("vnfProvider", "vnfProducts", "vnfProductsFromProviders"):
                raise BadRequest(f"unknown attribute {where}[].{key}", field=where)
        products = provider.get("vnfProducts", provider.get("vnfProductsFromProviders")) or []
        if isinstance(products, list) and len(products) > MAX_FILTER_VALUES:
            raise BadRequest(
                f"{where}[].vnfProducts has more than {MAX_FILTER_VALUES} entries", field=where
            )
        if not isinstance(products, list) or not all(
            isinstance(p, dict)
            and isinstance(p.get("vnfProductName"), str)
            and isinstance(p.get("versions", []), list)
            and len(p.get("versions", [])) <= MAX_FILTER_VALUES
            and all(
                isinstance(v, dict)
                and isinstance(v.get("vnfSoftwareVersion"), str)
                and isinstance(v.get("vnfdVersions", []), list)
                and len(v.get("vnfdVersions", [])) <= MAX_FILTER_VALUES
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
        if (
            not isinstance(params, dict)
            or not isinstance(params.get("userName"), str)
            or not isinstance(params.get("password"), str)
            or not params["userName"]
            or not params["password"]
        ):
            raise BadRequest(
                "authentication.paramsBasic needs userName and password",
                field="authentication.paramsBasic",
            )
        return BASIC, {"userName": params["userName"], "password": params["password"]}
    if OAUTH2 in types:
        params = auth.get("paramsOauth2ClientCredentials") or {}
        if not isinstance(params, dict):
            params = {}
        keys = ("clientId", "clientPassword", "tokenEndpoint")
        missing = [k for k in keys if not params.get(k) or not isinstance(params[k], str)]
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


def _visible_ids(s: Any, kind: str, ids: set[str], tenant: str | None) -> set[str]:
    """Which of ``ids`` name a ``kind`` resource the tenant sees (None: a global caller)."""
    if kind == "ns":
        q = select(NsInstance.id).where(NsInstance.id.in_(ids))
        if tenant is not None:
            q = q.where(NsInstance.tenant_id == tenant)
    else:
        pkg = CatalogPackage
        q = select(pkg.id).where(pkg.id.in_(ids), pkg.kind == kind)
        if tenant is not None:
            q = q.where(or_(pkg.tenant_id.is_(None), pkg.tenant_id == tenant))
    return {i for (i,) in s.execute(q)}


def _visible(owner: str | None, tenant: str | None) -> bool:
    return tenant is None or owner == tenant


class NotificationService:
    """Subscriptions of the nslcm, vnfpkgm, nsd and nsfm APIs (create, list, get, delete; ``api``
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
        guard: OutboundGuard | None = None,
    ) -> None:
        self.db = db
        self.vault = vault
        self.policy = policy or DeliveryPolicy()
        # the outbound policy: given by the runtime from its settings, else the environment's
        self.guard = guard or OutboundGuard.from_env()
        self.worker = DeliveryWorker(db, vault.open, self.policy, public_url, self.guard)
        self.max_subscriptions = MAX_SUBSCRIPTIONS

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
        (nslcm), PkgmSubscriptionRequest (vnfpkgm), NsdmSubscriptionRequest (nsd) or
        FmSubscriptionRequest (nsfm)."""
        kind = {
            "vnfpkgm": "PkgmSubscriptionRequest",
            "nsd": "NsdmSubscriptionRequest",
            NSFM: "FmSubscriptionRequest",
        }
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
            if api == NSFM:
                flt = nsfm.validate_filter(body.get("filter"), _string_list)
            else:
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
        """SOL005 §6.4.18.3.2 / SOL013: GET the callback URI; anything but 204 is a 422.

        The requests go through the outbound guard; a failure is reported without telling
        why (refused address, closed or silent port) and never with a remote body."""
        with self.guard.client(self.policy.timeout) as client:
            try:
                headers = auth_headers(client, TokenCache(), auth_type, secrets)
            except TokenEndpointError as exc:
                raise UnprocessableEntity(
                    f"authentication.paramsOauth2ClientCredentials.tokenEndpoint {exc}",
                    field="authentication.paramsOauth2ClientCredentials.tokenEndpoint",
                ) from None
            try:
                status = answer_status(
                    client, "GET", callback, headers={**headers, "Accept": "application/json"}
                )
            except Exception as exc:  # noqa: BLE001 - reported to the subscriber, generically
                log.info("callback test of %s failed: %s", callback, describe(exc))
                raise UnprocessableEntity(
                    f"callbackUri {callback} {UNREACHABLE}", field="callbackUri"
                ) from None
        if status != 204:
            raise UnprocessableEntity(
                f"callbackUri {callback} answered the test GET with {status} "
                f"instead of 204 No Content",
                field="callbackUri",
            )

    def check_filter_ids(self, flt: dict[str, Any], tenant: str | None, api: str = NSLCM) -> None:
        """Every id nfvo generated in a (validated) filter names an NS instance or package the
        subscriber sees: its own (NS instances) or its own and shared (packages); all of them
        for a global caller. Another tenant's id is refused exactly as an unknown one (422
        naming the attribute), so a refusal reveals nothing of other tenants."""
        for path, kind in ID_FILTERS.get(api, ()):
            value: Any = flt
            for key in path:
                value = value.get(key) if isinstance(value, dict) else None
            ids = [value] if isinstance(value, str) else list(value or [])
            if not ids:
                continue
            with self.db.session() as s:
                seen = _visible_ids(s, kind, set(ids), tenant)
            unknown = [i for i in ids if i not in seen]
            if unknown:
                where = "filter." + ".".join(path)
                raise UnprocessableEntity(
                    f"{where}: no {_ID_WORDS[kind]} {unknown[0]!r} exists", field=where
                )

    def create(self, body: Any, tenant: str | None, api: str = NSLCM) -> tuple[Subscription, bool]:
        """(subscription, created): an equal existing one is returned with created False;
        otherwise the callback is tested and the subscription stored."""
        callback, flt, verbosity, auth_type, secrets = self.check_request(body, api)
        self.check_filter_ids(flt, tenant, api)
        existing = self.find_duplicate(
            {"callbackUri": callback, "filter": flt, "verbosity": verbosity}, tenant, api
        )
        if existing is not None:
            return existing, False
        self._check_count(tenant, api)
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

    def _check_count(self, tenant: str | None, api: str) -> None:
        """422 when the tenant already holds ``max_subscriptions`` subscriptions to ``api``
        (concurrent requests may pass it by the few in flight: a bound, not a quota)."""
        row = LccnSubscriptionRow
        with self.db.session() as s:
            owner = row.tenant_id.is_(None) if tenant is None else row.tenant_id == tenant
            held = s.scalar(select(func.count()).select_from(row).where(row.api == api, owner))
        if held >= self.max_subscriptions:
            raise UnprocessableEntity(
                f"{held} subscriptions to {api} exist for this tenant; the limit is "
                f"{self.max_subscriptions}: delete unused ones first"
            )

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
