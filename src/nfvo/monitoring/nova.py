"""Parsing of OpenStack Nova notifications (as sent over AMQP by oslo.messaging) into the few
typed events nfvo reacts to.

Accepted shapes:

* the oslo.messaging v2 envelope ``{"oslo.version": "2.0", "oslo.message": "<json>"}`` and
  the un-enveloped (v1) message itself;
* Nova *versioned* notifications, whose ``payload`` is a serialised versioned object
  (``{"nova_object.name": ..., "nova_object.data": {...}}``): ``instance.*`` with an
  ``InstanceActionPayload``/``InstanceUpdatePayload`` (``uuid``, ``state``, ``fault``) and
  ``service.*`` with a ``ServiceStatusPayload`` (``host``, ``binary``, ``disabled``,
  ``forced_down``; Nova computes "up" from heartbeats and never notifies it);
* Nova *legacy* (unversioned) notifications: ``compute.instance.*`` with ``instance_id``
  and ``state`` in a plain payload.

Anything else gives ``None``; malformed input gives ``None`` and one log line, never an
exception, so one bad message cannot stop a consumer.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from nfvo.monitoring.model import FaultEvent, FaultKind, Resource, ResourceKind, Severity

log = logging.getLogger(__name__)

# vm_state values of Nova (nova.compute.vm_states) that matter here
_GONE_STATES = frozenset({"deleted", "soft-delete"})
_ERROR_STATE = "error"
_GONE_EVENTS = frozenset({"instance.delete.end", "instance.soft_delete.end"})
_LEGACY_GONE_EVENTS = frozenset({"compute.instance.delete.end", "compute.instance.soft_delete.end"})
COMPUTE_BINARY = "nova-compute"


@dataclass(frozen=True)
class ServerGone:
    """A server no longer exists on the VIM (deleted behind nfvo's back, or by nfvo)."""

    server_id: str
    reason: str
    message_id: str | None = field(default=None, compare=False)
    payload: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class ServerError:
    """A server went to Nova's ``error`` vm_state; ``fault`` says why when Nova said."""

    server_id: str
    fault: str
    message_id: str | None = field(default=None, compare=False)
    payload: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class HostDown:
    """A compute host stopped taking servers (service forced down, disabled or deleted)."""

    host: str
    reason: str = ""
    message_id: str | None = field(default=None, compare=False)
    payload: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class HostUp:
    """A compute host's service is enabled and not forced down again."""

    host: str
    message_id: str | None = field(default=None, compare=False)
    payload: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


NovaEvent = ServerGone | ServerError | HostDown | HostUp


class _Malformed(ValueError):
    """Internal: the message does not have the shape of a notification."""


def parse(body: bytes | str | dict[str, Any]) -> NovaEvent | None:
    """The event a Nova notification means to nfvo, or ``None`` (irrelevant or malformed)."""
    try:
        msg = unwrap(body)
        event_type = msg.get("event_type")
        payload = msg.get("payload")
        if not isinstance(event_type, str) or not isinstance(payload, dict):
            raise _Malformed("no event_type string or payload object")
        message_id = msg.get("message_id")
        message_id = message_id if isinstance(message_id, str) else None
        if "nova_object.data" in payload:
            event = _versioned(event_type, payload, message_id)
        else:
            event = _legacy(event_type, payload, message_id)
    except _Malformed as exc:
        log.warning("dropping malformed notification: %s", exc)
        return None
    if event is None:
        return None
    raw = {"event_type": event_type, "payload": bounded(payload)}
    return dataclasses.replace(event, payload=raw)


MAX_RAW_CHARS = 8192  # of a notification's payload kept in a fault event's ``raw``


def bounded(payload: dict[str, Any], limit: int = MAX_RAW_CHARS) -> dict[str, Any]:
    """``payload`` itself when its JSON is at most ``limit`` characters, else its JSON text
    cut to ``limit`` (marked ``truncated``): an alarm's details stay small."""
    text = json.dumps(payload, default=str, separators=(",", ":"))
    if len(text) <= limit:
        return payload
    return {"truncated": True, "json": text[:limit]}


SOURCE = "openstack"


def to_fault(event: NovaEvent, vim_id: str, timestamp: float) -> FaultEvent:
    """The normalised fault event a parsed notification stands for (``source`` openstack,
    ``raw`` the notification's event type and bounded payload)."""
    if isinstance(event, ServerGone | ServerError):
        resource = Resource(ResourceKind.SERVER, event.server_id, vim_id)
        gone = isinstance(event, ServerGone)
        kind = FaultKind.SERVER_GONE if gone else FaultKind.SERVER_CRASHED
        cause = event.reason if isinstance(event, ServerGone) else event.fault
        return FaultEvent(
            resource, kind, Severity.MAJOR, timestamp, SOURCE, event.payload, probable_cause=cause
        )
    resource = Resource(ResourceKind.HOST, event.host, vim_id)
    if isinstance(event, HostDown):
        return FaultEvent(
            resource,
            FaultKind.HOST_DOWN,
            Severity.CRITICAL,
            timestamp,
            SOURCE,
            event.payload,
            probable_cause=event.reason or "compute service down",
        )
    return FaultEvent(
        resource, FaultKind.HOST_UP, Severity.CLEARED, timestamp, SOURCE, event.payload
    )


def unwrap(body: bytes | str | dict[str, Any]) -> dict[str, Any]:
    """The notification inside an oslo.messaging envelope (or the message itself if v1)."""
    if isinstance(body, bytes | bytearray):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _Malformed(f"body is not UTF-8: {exc}") from None
    if isinstance(body, str):
        body = _loads(body, "body")
    if not isinstance(body, dict):
        raise _Malformed(f"body is a JSON {type(body).__name__}, not an object")
    if "oslo.message" not in body and "oslo.version" not in body:
        return body
    version = body.get("oslo.version")
    if not isinstance(version, str) or not version.startswith("2."):
        raise _Malformed(f"unsupported oslo.version {version!r}")
    inner = body.get("oslo.message")
    if not isinstance(inner, str):
        raise _Malformed("oslo.message is not a JSON string")
    msg = _loads(inner, "oslo.message")
    if not isinstance(msg, dict):
        raise _Malformed("oslo.message is not a JSON object")
    return msg


def _loads(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise _Malformed(f"{what} is not JSON: {exc}") from None


def _str(data: dict[str, Any], key: str, event_type: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise _Malformed(f"{event_type}: {key} missing or not a string")
    return value


def _versioned(
    event_type: str, payload: dict[str, Any], message_id: str | None
) -> NovaEvent | None:
    data = payload.get("nova_object.data")
    if not isinstance(data, dict):
        raise _Malformed(f"{event_type}: nova_object.data is not an object")
    if event_type.startswith("instance."):
        return _instance(event_type, data, message_id)
    if event_type.startswith("service."):
        return _service(event_type, data, message_id)
    return None


def _instance(event_type: str, data: dict[str, Any], message_id: str | None) -> NovaEvent | None:
    state = data.get("state")
    if event_type in _GONE_EVENTS or state in _GONE_STATES:
        return ServerGone(_str(data, "uuid", event_type), event_type, message_id)
    if state == _ERROR_STATE:
        return ServerError(_str(data, "uuid", event_type), _fault_text(data), message_id)
    return None


def _fault_text(data: dict[str, Any]) -> str:
    """A readable fault from an ``ExceptionPayload`` (``fault`` of an instance payload)."""
    fault = data.get("fault")
    if isinstance(fault, dict):
        inner = fault.get("nova_object.data", fault)
        if isinstance(inner, dict):
            exc = inner.get("exception")
            text = inner.get("exception_message")
            parts = [str(p) for p in (exc, text) if p]
            if parts:
                return ": ".join(parts)
    return "server in error state"


def _service(event_type: str, data: dict[str, Any], message_id: str | None) -> NovaEvent | None:
    if data.get("binary") != COMPUTE_BINARY:
        return None
    host = _str(data, "host", event_type)
    if event_type == "service.delete":
        return HostDown(host, "compute service deleted", message_id)
    if data.get("forced_down") is True:
        return HostDown(host, "forced_down", message_id)
    if data.get("disabled") is True:
        reason = data.get("disabled_reason")
        return HostDown(host, f"disabled: {reason}" if reason else "disabled", message_id)
    if event_type in ("service.update", "service.create"):
        return HostUp(host, message_id)
    return None


def _legacy(event_type: str, payload: dict[str, Any], message_id: str | None) -> NovaEvent | None:
    if not event_type.startswith("compute.instance."):
        return None
    state = payload.get("state")
    if event_type in _LEGACY_GONE_EVENTS or state in _GONE_STATES:
        return ServerGone(_str(payload, "instance_id", event_type), event_type, message_id)
    if state == _ERROR_STATE:
        fault = payload.get("message") or payload.get("exception") or "server in error state"
        return ServerError(_str(payload, "instance_id", event_type), str(fault), message_id)
    return None
