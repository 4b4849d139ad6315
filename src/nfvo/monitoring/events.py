"""What a VIM event changes in the inventory: VNFC statuses, host states, and the NS events
recorded for the policy engine.

Effects are idempotent and state-based: an event that finds the inventory already in the
state it implies changes nothing and records nothing, so a redelivered message (the consumer
acknowledges only after the commit) or a duplicate notification is harmless, and at most one
NS event is recorded per (VNFC, kind) until something (e.g. a heal) changes the VNFC again.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from nfvo.inventory.db import Database
from nfvo.inventory.models import NsEvent
from nfvo.inventory.monitoring_repo import MonitoringRepository
from nfvo.monitoring.nova import HostDown, HostUp, NovaEvent, ServerError, ServerGone

log = logging.getLogger(__name__)

LOST = "LOST"
ERROR = "ERROR"
KIND_SERVER_LOST = "SERVER_LOST"
KIND_SERVER_ERROR = "SERVER_ERROR"
HOST_UP = "up"
HOST_DOWN = "down"


def apply(db: Database, vim_id: str, event: NovaEvent) -> list[dict[str, Any]]:
    """Apply one event of ``vim_id`` in one transaction; the NS events it recorded."""
    if isinstance(event, ServerGone):
        return _server(db, vim_id, event.server_id, LOST, KIND_SERVER_LOST, event.reason, event)
    if isinstance(event, ServerError):
        return _server(db, vim_id, event.server_id, ERROR, KIND_SERVER_ERROR, event.fault, event)
    if isinstance(event, HostDown | HostUp):
        _host(db, vim_id, event)
        return []
    raise TypeError(f"not a VIM event: {event!r}")


def _server(
    db: Database,
    vim_id: str,
    server_id: str,
    status: str,
    kind: str,
    reason: str,
    event: ServerGone | ServerError,
) -> list[dict[str, Any]]:
    recorded: list[dict[str, Any]] = []
    with db.session() as s:
        repo = MonitoringRepository(s)
        for change in repo.mark_server(vim_id, server_id, status, final=LOST):
            row = repo.add_event(
                NsEvent(
                    id=str(uuid.uuid4()),
                    ns_instance_id=change.ns_instance_id,
                    vnf_instance_id=change.vnf_instance_id,
                    vnfc_key=change.vnfc_key,
                    kind=kind,
                    detail={
                        "vimId": vim_id,
                        "serverId": server_id,
                        "vduId": change.vdu_id,
                        "previousStatus": change.previous_status,
                        "reason": reason,
                        "messageId": event.message_id,
                        "duringOperation": change.current_op_id,
                    },
                )
            )
            recorded.append(event_dict(row))
    for r in recorded:
        log.info("NS %s: VNFC %s %s (%s)", r["nsInstanceId"], r["vnfcKey"], r["kind"], reason)
    return recorded


def _host(db: Database, vim_id: str, event: HostDown | HostUp) -> None:
    state = HOST_DOWN if isinstance(event, HostDown) else HOST_UP
    with db.session() as s:
        host = MonitoringRepository(s).host(vim_id, event.host)
        if host is None:
            log.info("VIM %s: host %s is not in the synced inventory", vim_id, event.host)
            return
        if host.state != state:
            log.info("VIM %s: host %s is now %s", vim_id, host.name, state)
            host.state = state


def event_dict(row: NsEvent) -> dict[str, Any]:
    """An NS event as plain data (what ``apply`` returns and the policy engine reads)."""
    return {
        "id": row.id,
        "nsInstanceId": row.ns_instance_id,
        "vnfInstanceId": row.vnf_instance_id,
        "vnfcKey": row.vnfc_key,
        "kind": row.kind,
        "detail": dict(row.detail or {}),
        "createdAt": row.created_at.isoformat() if row.created_at else None,
    }
