"""LCM events into the notification outbox, written in the same transaction as the state
change they report (a notification exists if and only if the change committed)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from nfvo.inventory.models import NsInstance, NsLcmOpOcc
from nfvo.lcm.model import ChangeSet
from nfvo.lcm.states import TERMINAL, OpState
from nfvo.monitoring.fm import forget_ns
from nfvo.notifications import (
    change_notification,
    creation_notification,
    deletion_notification,
    enqueue,
    op_occ_notification,
)


def op_event(s: Session, op: NsLcmOpOcc, *, start: bool | None = None) -> None:
    """NsLcmOperationOccurrenceNotification: START when the op (re)starts, RESULT when it
    reaches FAILED_TEMP or a final state."""
    state = OpState(op.state)
    if start is None:
        start = state not in TERMINAL and state != OpState.FAILED_TEMP
    note = op_occ_notification(
        ns_instance_id=op.ns_instance_id,
        op_occ_id=op.id,
        operation=op.operation,
        operation_state=state.value,
        notification_status="START" if start else "RESULT",
        is_automatic_invocation=op.is_automatic_invocation,
        error=op.error if state in (OpState.FAILED_TEMP, OpState.FAILED) else None,
    )
    enqueue(s, tenant_id=op.tenant_id, notification=note)


def created(s: Session, ns: NsInstance) -> None:
    """NsIdentifierCreationNotification."""
    enqueue(s, tenant_id=ns.tenant_id, notification=creation_notification(ns_instance_id=ns.id))


def deleted(s: Session, ns: NsInstance) -> None:
    """NsIdentifierDeletionNotification (before the row goes: filters may read it); the
    NS's fault management alarms are cleared (notified) and removed with it."""
    enqueue(s, tenant_id=ns.tenant_id, notification=deletion_notification(ns_instance_id=ns.id))
    forget_ns(s, ns.id)


def vnf_changes(s: Session, op: NsLcmOpOcc, changes: ChangeSet) -> None:
    """NsChangeNotification for every VNF a SCALE/HEAL/UPDATE changed."""
    for vnf_id, op_name in changes.vnf_operations():
        note = change_notification(
            ns_instance_id=op.ns_instance_id,
            component_type="VNF",
            component_id=vnf_id,
            op_occ_id=op.id,
            op_name=op_name,
            op_status="COMPLETED",
        )
        enqueue(s, tenant_id=op.tenant_id, notification=note)
