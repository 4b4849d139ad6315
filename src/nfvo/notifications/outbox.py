"""The notification outbox: builders for the SOL005 NS LCM notifications, subscription filter
matching, and :func:`enqueue`, which the LCM calls inside its own transaction so that a
notification row exists exactly when the state change it reports has committed."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from nfvo.inventory.models import LccnSubscriptionRow, NotificationDelivery, NsInstance, NsVnf

OP_OCC = "NsLcmOperationOccurrenceNotification"
# The ETSI OpenAPI enum of LifecycleChangeNotificationsFilter.notificationTypes spells it so.
OP_OCC_ETSI_SPELLING = "NsLcmOperationOccurenceNotification"
CREATION = "NsIdentifierCreationNotification"
DELETION = "NsIdentifierDeletionNotification"
CHANGE = "NsChangeNotification"
NOTIFICATION_TYPES = (OP_OCC, CREATION, DELETION, CHANGE)
API_BASE = "/nslcm/v2"


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


def _links(ns_instance_id: str, op_occ_id: str | None, base: str) -> dict[str, Any]:
    links: dict[str, Any] = {"nsInstance": {"href": f"{base}/ns_instances/{ns_instance_id}"}}
    if op_occ_id:
        links["nslcmOpOcc"] = {"href": f"{base}/ns_lcm_op_occs/{op_occ_id}"}
    return links


def new_notification(
    notification_type: str,
    *,
    ns_instance_id: str,
    op_occ_id: str | None = None,
    base: str = API_BASE,
    **fields: Any,
) -> dict[str, Any]:
    """A notification body without ``subscriptionId`` / ``_links.subscription`` (both are
    filled per delivery). Relative ``href``s are made absolute with the public URL at send."""
    if notification_type not in NOTIFICATION_TYPES:
        raise ValueError(f"unknown notification type {notification_type!r}")
    body: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "notificationType": notification_type,
        "timestamp": _now_iso(),
        "nsInstanceId": ns_instance_id,
    }
    body.update({k: v for k, v in fields.items() if v is not None})
    body["_links"] = _links(ns_instance_id, op_occ_id, base)
    return body


def op_occ_notification(
    *,
    ns_instance_id: str,
    op_occ_id: str,
    operation: str,
    operation_state: str,
    notification_status: str,
    is_automatic_invocation: bool = False,
    error: dict[str, Any] | None = None,
    base: str = API_BASE,
    **extra: Any,
) -> dict[str, Any]:
    """NsLcmOperationOccurrenceNotification. ``notification_status`` is START or RESULT;
    ``error`` (ProblemDetails) belongs with FAILED_TEMP / FAILED; ``extra`` may carry
    ``affectedVnf``, ``affectedVl``... (camelCase, as in SOL005)."""
    return new_notification(
        OP_OCC,
        ns_instance_id=ns_instance_id,
        op_occ_id=op_occ_id,
        base=base,
        nsLcmOpOccId=op_occ_id,
        operation=operation,
        notificationStatus=notification_status,
        operationState=operation_state,
        isAutomaticInvocation=is_automatic_invocation,
        error=error,
        **extra,
    )


def creation_notification(*, ns_instance_id: str, base: str = API_BASE) -> dict[str, Any]:
    """NsIdentifierCreationNotification."""
    return new_notification(CREATION, ns_instance_id=ns_instance_id, base=base)


def deletion_notification(*, ns_instance_id: str, base: str = API_BASE) -> dict[str, Any]:
    """NsIdentifierDeletionNotification."""
    return new_notification(DELETION, ns_instance_id=ns_instance_id, base=base)


def change_notification(
    *,
    ns_instance_id: str,
    component_type: str,
    component_id: str,
    op_occ_id: str,
    op_name: str,
    op_status: str,
    error: dict[str, Any] | None = None,
    base: str = API_BASE,
) -> dict[str, Any]:
    """NsChangeNotification (``component_type`` VNF | PNF | NS; ``op_name`` e.g.
    VNF_INSTANTIATE; ``op_status`` START | COMPLETED | PARTIALLY_COMPLETED | FAILED...)."""
    body = new_notification(
        CHANGE,
        ns_instance_id=ns_instance_id,
        op_occ_id=op_occ_id,
        base=base,
        nsComponentType=component_type,
        nsComponentId=component_id,
        lcmOpOccIdImpactingNsComponent=op_occ_id,
        lcmOpNameImpactingNsComponent=op_name,
        lcmOpOccStatusImpactingNsComponent=op_status,
        error=error,
    )
    # the ETSI OpenAPI lists the last name truncated among the required attributes
    body["lcmOpOccStatusImpactingNsCompon"] = op_status
    return body


# --------------------------------------------------------------------------- filters


@dataclass(frozen=True)
class NsFacts:
    """What subscription filters read of an NS instance."""

    name: str
    nsd_id: str
    vnfd_ids: frozenset[str]


NsLookup = Callable[[str], NsFacts | None]


def _one_of(wanted: Any, value: Any) -> bool:
    return not wanted or value in wanted


def _type_matches(types: list[str] | None, notification_type: str) -> bool:
    if not types:
        return True
    if notification_type == OP_OCC:
        return OP_OCC in types or OP_OCC_ETSI_SPELLING in types
    return notification_type in types


def _ns_matches(ns_filter: dict[str, Any] | None, ns_id: str | None, lookup: NsLookup) -> bool:
    if not ns_filter:
        return True
    if ns_filter.get("nsInstanceIds") and ns_id not in ns_filter["nsInstanceIds"]:
        return False
    needs_row = any(ns_filter.get(k) for k in ("nsInstanceNames", "nsdIds", "vnfdIds", "pnfdIds"))
    if not needs_row:
        return True
    ns = lookup(ns_id) if ns_id else None
    if ns is None:
        return False
    if ns_filter.get("nsInstanceNames") and ns.name not in ns_filter["nsInstanceNames"]:
        return False
    if ns_filter.get("nsdIds") and ns.nsd_id not in ns_filter["nsdIds"]:
        return False
    if ns_filter.get("vnfdIds"):
        if not ns.vnfd_ids & set(ns_filter["vnfdIds"]):
            return False
    # nfvo manages no PNFs: a pnfdIds filter selects nothing
    return not ns_filter.get("pnfdIds")


def matches(flt: dict[str, Any] | None, notification: dict[str, Any], lookup: NsLookup) -> bool:
    """Whether a LifecycleChangeNotificationsFilter selects ``notification`` (SOL005
    §6.5.3.8: "and" between attributes, "or" within an array). Criteria on attributes of
    another notification type than the one at hand do not restrict it."""
    flt = flt or {}
    kind = notification.get("notificationType", "")
    if not _type_matches(flt.get("notificationTypes"), kind):
        return False
    if kind == OP_OCC:
        if not _one_of(flt.get("operationTypes"), notification.get("operation")):
            return False
        if not _one_of(flt.get("operationStates"), notification.get("operationState")):
            return False
    if kind == CHANGE:
        for key, attr in (
            ("nsComponentTypes", "nsComponentType"),
            ("lcmOpNameImpactingNsComponent", "lcmOpNameImpactingNsComponent"),
            ("lcmOpOccStatusImpactingNsComponent", "lcmOpOccStatusImpactingNsComponent"),
        ):
            if not _one_of(flt.get(key), notification.get(attr)):
                return False
    return _ns_matches(
        flt.get("nsInstanceSubscriptionFilter"), notification.get("nsInstanceId"), lookup
    )


def enqueue(session: Session, *, tenant_id: str | None, notification: dict[str, Any]) -> int:
    """Queue ``notification`` for every matching subscription, in the caller's transaction.

    A tenant's notification goes to that tenant's subscriptions and to tenant-less (global)
    ones; a tenant-less notification goes to global subscriptions only. Call it before
    deleting the NS instance row (filters on NSD ids/names read it). Returns the number of
    deliveries queued.
    """
    query = select(LccnSubscriptionRow).where(LccnSubscriptionRow.api == "nslcm")
    if tenant_id is None:
        query = query.where(LccnSubscriptionRow.tenant_id.is_(None))
    else:
        query = query.where(
            or_(LccnSubscriptionRow.tenant_id.is_(None), LccnSubscriptionRow.tenant_id == tenant_id)
        )
    cache: dict[str, NsFacts | None] = {}

    def lookup(ns_id: str) -> NsFacts | None:
        if ns_id not in cache:
            ns = session.get(NsInstance, ns_id)
            vnfds = session.scalars(select(NsVnf.vnfd_id).where(NsVnf.ns_instance_id == ns_id))
            cache[ns_id] = NsFacts(ns.name, ns.nsd_id, frozenset(vnfds)) if ns else None
        return cache[ns_id]

    subs = session.scalars(query.order_by(LccnSubscriptionRow.created_at))
    wanted = [sub for sub in subs if matches(sub.filter, notification, lookup)]
    return queue_deliveries(session, wanted, notification, datetime.now(UTC))


def queue_deliveries(
    session: Session,
    subscriptions: Iterable[LccnSubscriptionRow],
    notification: dict[str, Any],
    now: datetime,
) -> int:
    """One delivery of ``notification`` per subscription, due at ``now``, in the caller's
    transaction (the delivery worker sends it after the commit). Returns how many."""
    count = 0
    for sub in subscriptions:
        session.add(
            NotificationDelivery(
                id=str(uuid.uuid4()),
                subscription_id=sub.id,
                notification=notification,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
        count += 1
    if count:
        session.flush()
    return count
