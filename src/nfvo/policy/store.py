"""Auto-scaling policies: those written through ``/admin/v1/policies`` and those the NS's
descriptors carry, as the :class:`~nfvo.policy.model.ScalingPolicy` values the auto-scaler
evaluates.

A request names one scaling aspect of one VNF instance (``vnfInstanceId``) or of the NS
itself (no ``vnfInstanceId``), one metric (any name :mod:`nfvo.monitoring.metrics` knows:
canonical, SOL001 or IFA 027), how it is aggregated (``MEAN`` or ``MAX``) over
``thresholdTime``, and OSM-style criteria: scale-out and scale-in thresholds with their
relational operations, and cooldowns (``cooldown`` for both directions, or
``scaleOutCooldown`` / ``scaleInCooldown``). OSM's own field names
(``scale-out-threshold``, ``cooldown-time`` ...) are accepted as well. Durations are
SOL001 ``scalar-unit.time`` (``"2 min"``), ISO 8601 (``"PT2M"``) or a bare number of
seconds (OSM's ``cooldown-time``), and are stored in seconds.

Every id in a body is resolved within the caller's view (400 naming the field otherwise);
every size is bounded; a scale-in threshold at or above the scale-out threshold is refused
(it would scale in and out in turn).
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from nfvo.errors import BadRequest, Conflict, NotFound, UnprocessableEntity
from nfvo.inventory.db import Database
from nfvo.inventory.lcm_repo import NsRecordsRepository, NsRepository
from nfvo.inventory.models import NsInstance, utcnow
from nfvo.inventory.paging import PageQuery
from nfvo.inventory.policies_repo import ScalingPolicyRepository, ScalingPolicyRow
from nfvo.lcm.states import NsState
from nfvo.monitoring import metrics
from nfvo.policy.durations import DurationError, seconds
from nfvo.policy.model import Aggregation, Relation, ScalingPolicy, Target
from nfvo.resources.service import Scope

if TYPE_CHECKING:  # the catalog is optional
    from nfvo.catalog.service import CatalogService

log = logging.getLogger(__name__)

MAX_NAME = 255
MAX_ID = 255
MAX_POLICIES_PER_NS = 32
MIN_WINDOW_S = 1.0
MAX_WINDOW_S = 3600.0  # the hub keeps about 1.5 x its window of samples: see docs/autoscale.md
MAX_COOLDOWN_S = 86400.0
MAX_STEPS = 10
MAX_LEVEL = 1000
MAX_THRESHOLD = 1e15
DEFAULT_WINDOW_S = 60.0
DEFAULT_COOLDOWN_S = 300.0

OUT_RELATIONS = (Relation.GE, Relation.GT)
IN_RELATIONS = (Relation.LE, Relation.LT)

# request field -> OSM's (kebab-case) names for it
ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("name",),
    "nsInstanceId": ("nsInstanceId", "ns-instance-id"),
    "vnfInstanceId": ("vnfInstanceId", "vnf-instance-id"),
    "aspectId": ("aspectId", "scaling-aspect", "aspect-id"),
    "metric": ("metric", "vnf-monitoring-param-ref", "performanceMetric"),
    "aggregation": ("aggregation",),
    "thresholdTime": ("thresholdTime", "threshold-time"),
    "scaleOutThreshold": ("scaleOutThreshold", "scale-out-threshold"),
    "scaleOutRelationalOperation": (
        "scaleOutRelationalOperation",
        "scale-out-relational-operation",
    ),
    "scaleInThreshold": ("scaleInThreshold", "scale-in-threshold"),
    "scaleInRelationalOperation": ("scaleInRelationalOperation", "scale-in-relational-operation"),
    "cooldown": ("cooldown", "cooldown-time"),
    "scaleOutCooldown": ("scaleOutCooldown", "scale-out-cooldown-time"),
    "scaleInCooldown": ("scaleInCooldown", "scale-in-cooldown-time"),
    "numberOfSteps": ("numberOfSteps",),
    "maxScaleLevel": ("maxScaleLevel",),
    "enabled": ("enabled",),
}
_FIELD_OF = {alias: name for name, names in ALIASES.items() for alias in names}
# read-only members of a policy's view, ignored in a PATCH that echoes them back
_READ_ONLY = ("id", "target", "source", "tenantId", "createdAt", "updatedAt")


def _bad(field: str, detail: str) -> BadRequest:
    return BadRequest(f"{field}: {detail}", field=field)


def _unprocessable(field: str, detail: str) -> UnprocessableEntity:
    return UnprocessableEntity(f"{field}: {detail}", field=field)


def _normalise(body: Any, *, patch: bool = False) -> dict[str, Any]:
    """The body with OSM names mapped to ours (400 for an unknown or repeated field)."""
    if not isinstance(body, dict):
        raise _bad("body", "must be a JSON object")
    out: dict[str, Any] = {}
    for key, value in body.items():
        if patch and key in _READ_ONLY:
            continue
        name = _FIELD_OF.get(key)
        if name is None:
            raise _bad(str(key)[:MAX_ID], "is not a field of a scaling policy")
        if name in out:
            raise _bad(str(key)[:MAX_ID], f"repeats {name}")
        out[name] = value
    return out


def _text(body: Mapping[str, Any], field: str, limit: int, required: bool) -> str | None:
    value = body.get(field)
    if value is None:
        if required:
            raise _bad(field, "is required")
        return None
    if not isinstance(value, str) or not value.strip():
        raise _bad(field, "must be a non-empty string")
    if len(value) > limit:
        raise _bad(field, f"is {len(value)} characters long; the limit is {limit}")
    if "\x00" in value:
        raise _bad(field, "must not hold a NUL character")
    return value


def _number(body: Mapping[str, Any], field: str) -> float | None:
    value = body.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _bad(field, "must be a number")
    if not math.isfinite(value) or abs(value) > MAX_THRESHOLD:
        raise _bad(field, f"must be a finite number of magnitude at most {MAX_THRESHOLD:g}")
    return float(value)


def _integer(body: Mapping[str, Any], field: str, low: int, high: int) -> int | None:
    value = body.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(field, "must be an integer")
    if not low <= value <= high:
        raise _bad(field, f"must be between {low} and {high}")
    return value


def _duration(body: Mapping[str, Any], field: str, low: float, high: float) -> float | None:
    value = body.get(field)
    if value is None:
        return None
    try:
        secs = seconds(value)
    except DurationError as exc:
        raise _bad(field, str(exc)) from None
    if not low <= secs <= high:
        raise _unprocessable(field, f"is {secs:g} s; allowed {low:g} to {high:g} s")
    return secs


def _enum(body: Mapping[str, Any], field: str, allowed: tuple[Any, ...], default: Any) -> Any:
    value = body.get(field)
    if value is None:
        return default
    if isinstance(value, str):
        for item in allowed:
            if value.upper() == item.value:
                return item
    names = ", ".join(a.value for a in allowed)
    raise _bad(field, f"must be one of {names}")


def _metric(body: Mapping[str, Any], target: Target) -> str:
    name = _text(body, "metric", 128, True)
    assert name is not None
    try:
        row = metrics.metric(name)
    except KeyError:
        raise _unprocessable(
            "metric",
            f"unknown metric {name!r}; use a SOL001 monitoring parameter name such as "
            "v_cpu_usage_mean_vnf or its IFA 027 name (VCpuUsageMeanVnf)",
        ) from None
    level = metrics.Level.VNF if target is Target.VNF else metrics.Level.NS
    if level not in row.levels:
        valid = ", ".join(metrics.for_level(level))
        raise _unprocessable(
            "metric", f"{name!r} is not a metric of a {target.value}; valid: {valid}"
        )
    return row.name


class PolicyStore:
    """The policies table and the descriptor-derived policies, as the auto-scaler reads them.

    ``descriptor_policies(ns_instance_id)`` (optional) gives the policies an NS instance's
    descriptors carry; ``catalog`` (optional) lets requests be checked against the
    descriptors' scaling aspects."""

    def __init__(
        self,
        db: Database,
        *,
        descriptor_policies: Callable[[str], list[ScalingPolicy]] | None = None,
        catalog: CatalogService | None = None,
    ) -> None:
        self.db = db
        self.descriptor_policies = descriptor_policies
        self.catalog = catalog
        self._failed: dict[str, str] = {}  # NS -> the last error of its descriptor policies
        # NS -> (its revision, its enabled descriptor policies): re-read only when it changed
        self._descriptor_cache: dict[str, tuple[int, list[ScalingPolicy]]] = {}

    # -- what the auto-scaler reads ---------------------------------------------------
    def scaling_policies(self) -> list[ScalingPolicy]:
        """The enabled policies of INSTANTIATED NS instances (API-written, then those of
        the descriptors)."""
        with self.db.session() as s:
            rows = ScalingPolicyRepository(s).active(NsState.INSTANTIATED)
            out = [to_policy(r) for r in rows]
            ns_rows: list[tuple[str, int]] = []
            if self.descriptor_policies is not None:
                q = select(NsInstance.id, NsInstance.revision).where(
                    NsInstance.ns_state == NsState.INSTANTIATED
                )
                ns_rows = [(ns_id, rev) for ns_id, rev in s.execute(q)]
        known = self._descriptor_cache
        self._descriptor_cache = {}
        for ns_id, revision in ns_rows:
            assert self.descriptor_policies is not None
            hit = known.get(ns_id)
            if hit is not None and hit[0] == revision:  # the NS did not change: same policies
                self._descriptor_cache[ns_id] = hit
                out += hit[1]
                continue
            try:
                found = [p for p in self.descriptor_policies(ns_id) if p.enabled]
                self._descriptor_cache[ns_id] = (revision, found)
                out += found
            except Exception as exc:  # noqa: BLE001 - one NS's descriptors must not stop all
                text = f"{type(exc).__name__}: {exc}"[:500]
                if self._failed.get(ns_id) != text:
                    self._failed[ns_id] = text
                    log.warning("scaling policies of NS %s not read: %s", ns_id, text)
        return out

    # -- the API -----------------------------------------------------------------------
    def create(self, body: Any, tenant: str | None) -> ScalingPolicyRow:
        """A new policy from a request (400/422 naming the field)."""
        values = self._validate(_normalise(body), tenant)
        with self.db.session() as s:
            repo = ScalingPolicyRepository(s)
            if repo.count_for_ns(values["ns_instance_id"]) >= MAX_POLICIES_PER_NS:
                raise _unprocessable(
                    "nsInstanceId",
                    f"the NS instance has {MAX_POLICIES_PER_NS} policies, the limit",
                )
            now = utcnow()
            row = ScalingPolicyRow(
                id=str(uuid.uuid4()), revision=1, created_at=now, updated_at=now, **values
            )
            return repo.add(row)

    def get(self, policy_id: str, tenant: str | None) -> ScalingPolicyRow:
        """One policy visible to the caller (404 otherwise)."""
        with self.db.session() as s:
            row = ScalingPolicyRepository(s).get(policy_id, tenant)
        if row is None:
            raise NotFound(f"scaling policy {policy_id} does not exist")
        return row

    def page(self, tenant: str | None, query: PageQuery) -> list[ScalingPolicyRow]:
        """One page of the policies visible to the caller, by creation."""
        with self.db.session() as s:
            return ScalingPolicyRepository(s).page(tenant, query)

    def patch(self, policy_id: str, body: Any, tenant: str | None) -> ScalingPolicyRow:
        """Merge ``body`` into the policy, check the result whole, and store it (one of two
        racing patches wins; the other is a 409)."""
        changes = _normalise(body, patch=True)
        row = self.get(policy_id, tenant)
        merged = {**request_of(row), **changes}
        merged = {k: v for k, v in merged.items() if v is not None}
        values = self._validate(merged, tenant)
        with self.db.session() as s:
            if not ScalingPolicyRepository(s).update_if(policy_id, row.revision, **values):
                raise Conflict(f"scaling policy {policy_id} changed meanwhile; read it again")
        return self.get(policy_id, tenant)

    def delete(self, policy_id: str, tenant: str | None) -> None:
        """Delete a policy visible to the caller (404 otherwise)."""
        self.get(policy_id, tenant)
        with self.db.session() as s:
            if not ScalingPolicyRepository(s).delete(policy_id):
                raise NotFound(f"scaling policy {policy_id} does not exist")

    # -- checks ------------------------------------------------------------------------
    def _validate(self, body: Mapping[str, Any], tenant: str | None) -> dict[str, Any]:
        ns_id = _text(body, "nsInstanceId", MAX_ID, True)
        vnf_id = _text(body, "vnfInstanceId", MAX_ID, False)
        aspect = _text(body, "aspectId", MAX_ID, True)
        assert ns_id is not None and aspect is not None
        target = Target.VNF if vnf_id else Target.NS
        metric = _metric(body, target)
        name = _text(body, "name", MAX_NAME, False) or f"{aspect}-{metric}"[:MAX_NAME]
        out_thr = _number(body, "scaleOutThreshold")
        in_thr = _number(body, "scaleInThreshold")
        if out_thr is None and in_thr is None:
            raise _bad("scaleOutThreshold", "a policy needs a scale-out or a scale-in threshold")
        if out_thr is not None and in_thr is not None and in_thr >= out_thr:
            raise _unprocessable(
                "scaleInThreshold",
                f"{in_thr:g} must be below scaleOutThreshold {out_thr:g}, or the aspect would "
                "scale in and out in turn",
            )
        both = _duration(body, "cooldown", 0.0, MAX_COOLDOWN_S)
        cool_out = _duration(body, "scaleOutCooldown", 0.0, MAX_COOLDOWN_S)
        cool_in = _duration(body, "scaleInCooldown", 0.0, MAX_COOLDOWN_S)
        default_cool = DEFAULT_COOLDOWN_S if both is None else both
        enabled = body.get("enabled", True)
        if not isinstance(enabled, bool):
            raise _bad("enabled", "must be true or false")
        values: dict[str, Any] = {
            "name": name,
            "ns_instance_id": ns_id,
            "target": target.value,
            "vnf_instance_id": vnf_id,
            "aspect_id": aspect,
            "metric": metric,
            "aggregation": _enum(body, "aggregation", tuple(Aggregation), Aggregation.MEAN).value,
            "window_s": _duration(body, "thresholdTime", MIN_WINDOW_S, MAX_WINDOW_S)
            or DEFAULT_WINDOW_S,
            "out_threshold": out_thr,
            "out_relation": _enum(
                body, "scaleOutRelationalOperation", OUT_RELATIONS, Relation.GE
            ).value,
            "in_threshold": in_thr,
            "in_relation": _enum(
                body, "scaleInRelationalOperation", IN_RELATIONS, Relation.LE
            ).value,
            "cooldown_out_s": default_cool if cool_out is None else cool_out,
            "cooldown_in_s": default_cool if cool_in is None else cool_in,
            "steps": _integer(body, "numberOfSteps", 1, MAX_STEPS) or 1,
            "max_scale_level": _integer(body, "maxScaleLevel", 0, MAX_LEVEL),
            "enabled": enabled,
        }
        values["tenant_id"] = self._resolve(ns_id, vnf_id, aspect, tenant)
        return values

    def _resolve(
        self, ns_id: str, vnf_id: str | None, aspect: str, tenant: str | None
    ) -> str | None:
        """The NS's tenant, once the NS (and VNF instance) are the caller's and the aspect is
        one of the descriptor's."""
        with self.db.session() as s:
            ns = NsRepository(s).get(ns_id)
            if ns is None or not Scope(tenant).owns(ns.tenant_id):
                raise _bad("nsInstanceId", f"NS instance {ns_id} does not exist")
            vnf = NsRecordsRepository(s).vnf(vnf_id) if vnf_id else None
            if vnf_id and (vnf is None or vnf.ns_instance_id != ns_id):
                raise _bad("vnfInstanceId", f"VNF instance {vnf_id} is not a VNF of NS {ns_id}")
            vnfd_id = vnf.vnfd_id if vnf else None
            vnf_flavour = vnf.flavour_id if vnf else None
        aspects = self._aspects(ns, vnfd_id, vnf_flavour)
        if aspects is not None and aspect not in aspects:
            valid = ", ".join(sorted(aspects)) or "none"
            raise _unprocessable("aspectId", f"unknown scaling aspect {aspect!r}; valid: {valid}")
        return ns.tenant_id

    def _aspects(
        self, ns: NsInstance, vnfd_id: str | None, vnf_flavour: str | None
    ) -> set[str] | None:
        """The scaling aspect ids of the VNF's flavour (or of the NS's flavour); None when
        they cannot be known (no catalog, NS not instantiated yet)."""
        if self.catalog is None:
            return None
        try:
            nsd, vnfds = self.catalog.ns_descriptors(ns.nsd_info_id)
        except NotFound:
            return None
        if vnfd_id is not None:
            vnfd = vnfds.get(vnfd_id)
            flavours = vnfd.flavours if vnfd else []
            flavour = next((f for f in flavours if f.flavour_id == vnf_flavour), None)
            return {a.id for a in flavour.scaling_aspects} if flavour else None
        if ns.flavour_id is None:
            return None
        ns_flavour = next((f for f in nsd.flavours if f.flavour_id == ns.flavour_id), None)
        return {a.id for a in ns_flavour.scaling_aspects} if ns_flavour else None


def to_policy(row: ScalingPolicyRow) -> ScalingPolicy:
    """The evaluator's value of a stored policy."""
    return ScalingPolicy(
        id=row.id,
        name=row.name,
        ns_instance_id=row.ns_instance_id,
        tenant_id=row.tenant_id,
        aspect_id=row.aspect_id,
        metric=row.metric,
        target=Target(row.target),
        vnf_instance_id=row.vnf_instance_id,
        aggregation=Aggregation(row.aggregation),
        window_s=row.window_s,
        out_threshold=row.out_threshold,
        out_relation=Relation(row.out_relation),
        in_threshold=row.in_threshold,
        in_relation=Relation(row.in_relation),
        cooldown_out_s=row.cooldown_out_s,
        cooldown_in_s=row.cooldown_in_s,
        steps=row.steps,
        max_scale_level=row.max_scale_level,
        enabled=row.enabled,
        source="api",
    )


def request_of(row: ScalingPolicyRow) -> dict[str, Any]:
    """The request members of a stored policy (what a PATCH merges into)."""
    return {
        "name": row.name,
        "nsInstanceId": row.ns_instance_id,
        "vnfInstanceId": row.vnf_instance_id,
        "aspectId": row.aspect_id,
        "metric": row.metric,
        "aggregation": row.aggregation,
        "thresholdTime": row.window_s,
        "scaleOutThreshold": row.out_threshold,
        "scaleOutRelationalOperation": row.out_relation,
        "scaleInThreshold": row.in_threshold,
        "scaleInRelationalOperation": row.in_relation,
        "scaleOutCooldown": row.cooldown_out_s,
        "scaleInCooldown": row.cooldown_in_s,
        "numberOfSteps": row.steps,
        "maxScaleLevel": row.max_scale_level,
        "enabled": row.enabled,
    }


def view(row: ScalingPolicyRow) -> dict[str, Any]:
    """A policy as the API shows it (durations in seconds)."""
    return {
        "id": row.id,
        **request_of(row),
        "target": row.target,
        "source": "api",
        "tenantId": row.tenant_id,
        "createdAt": _iso(row.created_at),
        "updatedAt": _iso(row.updated_at),
    }


def _iso(at: datetime | None) -> str | None:
    if at is None:
        return None
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).isoformat()
