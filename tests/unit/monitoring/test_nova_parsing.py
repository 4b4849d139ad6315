"""Parsing of Nova notifications (versioned, legacy, oslo envelopes) into VIM events."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

import pytest

from nfvo.monitoring.nova import HostDown, HostUp, ServerError, ServerGone, parse, unwrap


def versioned(event_type: str, name: str, data: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A Nova versioned notification as oslo.messaging sends it (before the envelope)."""
    return {
        "priority": "ERROR" if event_type.endswith(".error") else "INFO",
        "event_type": event_type,
        "publisher_id": "nova-compute:compute-1",
        "message_id": str(uuid.uuid4()),
        "timestamp": "2026-01-01 00:00:00.000000",
        "payload": {
            "nova_object.namespace": "nova",
            "nova_object.name": name,
            "nova_object.version": "1.8",
            "nova_object.data": data,
        },
        **extra,
    }


def envelope(msg: dict[str, Any]) -> dict[str, Any]:
    """The oslo.messaging 2.0 envelope around a message."""
    return {"oslo.version": "2.0", "oslo.message": json.dumps(msg)}


def instance(event_type: str, server_id: str, state: str, **data: Any) -> dict[str, Any]:
    """An instance.* versioned notification with an InstanceActionPayload."""
    body = {"uuid": server_id, "state": state, "host": "compute-1", "task_state": None, **data}
    return versioned(event_type, "InstanceActionPayload", body)


def service(host: str, *, forced_down: bool = False, disabled: bool = False) -> dict[str, Any]:
    """A service.update versioned notification with a ServiceStatusPayload."""
    return versioned(
        "service.update",
        "ServiceStatusPayload",
        {
            "host": host,
            "binary": "nova-compute",
            "topic": "compute",
            "report_count": 12,
            "disabled": disabled,
            "disabled_reason": "maintenance" if disabled else None,
            "availability_zone": "nova",
            "forced_down": forced_down,
            "version": 66,
            "last_seen_up": "2026-01-01T00:00:00Z",
            "uuid": str(uuid.uuid4()),
        },
    )


def fault(exception: str, message: str) -> dict[str, Any]:
    """An ExceptionPayload as in an instance payload's ``fault``."""
    return {
        "nova_object.name": "ExceptionPayload",
        "nova_object.namespace": "nova",
        "nova_object.version": "1.1",
        "nova_object.data": {
            "exception": exception,
            "exception_message": message,
            "function_name": "_build_resources",
            "module_name": "nova.compute.manager",
            "traceback": "Traceback ...",
        },
    }


SID = "5b0e1d8c-3f6a-4c55-9d1e-2a7f0c6b9e11"


@pytest.mark.parametrize("wrap", [envelope, lambda m: m, lambda m: json.dumps(envelope(m))])
def test_delete_end_is_server_gone_in_every_wrapping(wrap) -> None:
    msg = instance("instance.delete.end", SID, "deleted")
    body = wrap(msg)
    for form in (body, json.dumps(body).encode() if isinstance(body, dict) else body.encode()):
        event = parse(form)
        assert event == ServerGone(SID, "instance.delete.end")
        assert event.message_id == msg["message_id"]


def test_update_to_deleted_and_soft_delete_are_gone() -> None:
    assert isinstance(parse(envelope(instance("instance.update", SID, "deleted"))), ServerGone)
    assert isinstance(
        parse(envelope(instance("instance.soft_delete.end", SID, "soft-delete"))), ServerGone
    )


def test_error_state_carries_the_fault() -> None:
    msg = instance(
        "instance.create.error", SID, "error", fault=fault("FlavorDiskTooSmall", "disk too small")
    )
    assert parse(envelope(msg)) == ServerError(SID, "FlavorDiskTooSmall: disk too small")
    no_fault = parse(envelope(instance("instance.update", SID, "error", fault=None)))
    assert no_fault == ServerError(SID, "server in error state")


@pytest.mark.parametrize(
    "event_type,state",
    [
        ("instance.power_off.end", "stopped"),
        ("instance.delete.start", "active"),
        ("instance.update", "active"),
        ("instance.resize.error", "active"),  # failed but the server still runs
        ("instance.create.end", "active"),
    ],
)
def test_instance_events_that_change_nothing_are_none(event_type: str, state: str) -> None:
    assert parse(envelope(instance(event_type, SID, state))) is None


def test_power_off_into_error_is_an_error() -> None:
    assert isinstance(
        parse(envelope(instance("instance.power_off.end", SID, "error"))), ServerError
    )


def test_service_update_maps_to_host_state() -> None:
    assert parse(envelope(service("compute-1", forced_down=True))) == HostDown(
        "compute-1", "forced_down"
    )
    assert parse(envelope(service("compute-1", disabled=True))) == HostDown(
        "compute-1", "disabled: maintenance"
    )
    assert parse(envelope(service("compute-1"))) == HostUp("compute-1")
    deleted = service("compute-1")
    deleted["event_type"] = "service.delete"
    assert isinstance(parse(envelope(deleted)), HostDown)


def test_services_other_than_compute_are_ignored() -> None:
    msg = service("ctl-1", forced_down=True)
    msg["payload"]["nova_object.data"]["binary"] = "nova-scheduler"
    assert parse(envelope(msg)) is None


def test_legacy_notifications() -> None:
    gone = {
        "event_type": "compute.instance.delete.end",
        "message_id": "m-1",
        "payload": {"instance_id": SID, "state": "deleted", "host": "compute-1"},
    }
    assert parse(envelope(gone)) == ServerGone(SID, "compute.instance.delete.end")
    err = {
        "event_type": "compute.instance.update",
        "payload": {"instance_id": SID, "state": "error", "message": "No valid host"},
    }
    assert parse(err) == ServerError(SID, "No valid host")
    ok = {
        "event_type": "compute.instance.update",
        "payload": {"instance_id": SID, "state": "active"},
    }
    assert parse(ok) is None


@pytest.mark.parametrize(
    "body",
    [
        b"\xff\xfe not utf-8",
        b"not json at all",
        "[1, 2, 3]",
        {"oslo.version": "1.0", "oslo.message": "{}"},
        {"oslo.version": "2.0", "oslo.message": {"event_type": "x"}},
        {"oslo.version": "2.0", "oslo.message": "{broken"},
        {"oslo.version": "2.0", "oslo.message": "[]"},
        {"event_type": 7, "payload": {}},
        {"event_type": "instance.delete.end"},
        versioned("instance.delete.end", "InstanceActionPayload", {"state": "deleted"}),
        {"event_type": "instance.delete.end", "payload": {"nova_object.data": "x"}},
        {"event_type": "compute.instance.delete.end", "payload": {"instance_id": 5}},
    ],
)
def test_malformed_input_is_none_with_a_log_line(body, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="nfvo.monitoring.nova"):
        assert parse(body) is None
    assert "malformed" in caplog.text


def test_unknown_event_is_none_without_complaint(caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="nfvo.monitoring.nova"):
        assert parse(envelope(versioned("aggregate.create.end", "AggregatePayload", {}))) is None
        assert parse({"event_type": "image.upload", "payload": {"id": "x"}}) is None
    assert caplog.text == ""


def test_unwrap_returns_the_inner_message() -> None:
    msg = instance("instance.update", SID, "active")
    assert unwrap(envelope(msg)) == msg
    assert unwrap(json.dumps(msg)) == msg


def test_vim_accounts_opt_in_with_a_notifications_amqp_url() -> None:
    from nfvo.monitoring.amqp import DEFAULT_TOPICS, notification_settings

    assert notification_settings({}) is None
    assert notification_settings({"notifications": {"exchange": "nova"}}) is None
    opts = notification_settings({"notifications": {"amqp_url": "amqp://nova@mq:5672//"}})
    assert opts == {
        "amqp_url": "amqp://nova@mq:5672//",
        "exchange": "nova",
        "topics": DEFAULT_TOPICS,
        "exchange_durable": False,
    }
    secret = notification_settings(
        {
            "notifications": {
                "amqp_url": "amqp://nova@mq:5672/vhost",
                "amqp_password": "p@ss/word",
                "exchange": "openstack",
                "topics": ["versioned_notifications.info"],
                "exchange_durable": True,
            }
        }
    )
    assert secret == {
        "amqp_url": "amqp://nova:p%40ss%2Fword@mq:5672/vhost",
        "exchange": "openstack",
        "topics": ("versioned_notifications.info",),
        "exchange_durable": True,
    }
