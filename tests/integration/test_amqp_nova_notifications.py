"""Nova notifications through a real RabbitMQ into the inventory (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import kombu
import pytest
from tests.support.live import start_live
from tests.unit.monitoring.test_monitoring_events import host_state, make_ns, make_vim, statuses
from tests.unit.monitoring.test_nova_parsing import envelope, fault, instance, service

from nfvo.inventory.db import Database
from nfvo.inventory.models import VimAccount
from nfvo.inventory.monitoring_repo import MonitoringRepository
from nfvo.monitoring import amqp as amqp_mod
from nfvo.monitoring.amqp import NovaNotificationConsumer
from nfvo.monitoring.model import FaultEvent, FaultKind, ResourceKind, Severity

AMQP_ENV = "NFVO_TEST_AMQP_URL"
AMQP_SKIP = (
    f"AMQP tests need a RabbitMQ and {AMQP_ENV}, e.g. "
    f"{AMQP_ENV}=amqp://guest:guest@127.0.0.1:5672// (set by .ci/run)"
)
LATENCY_LIMIT = 2.0


@pytest.fixture
def amqp_url() -> str:
    url = os.environ.get(AMQP_ENV)
    if not url:
        pytest.skip(AMQP_SKIP)
    return url


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    d = Database(db_url)
    d.migrate()
    yield d
    d.dispose()


def delete_queue(url: str, name: str) -> None:
    with kombu.Connection(url, connect_timeout=5) as conn:
        conn.default_channel.queue_delete(name)


@pytest.fixture
def consumers(amqp_url: str, db: Database) -> Iterator[Callable[..., NovaNotificationConsumer]]:
    """Make started consumers for fresh VIMs; stop them and delete their queues afterwards."""
    made: list[NovaNotificationConsumer] = []

    def make(**kwargs: Any) -> NovaNotificationConsumer:
        vim_id = str(uuid.uuid4())
        make_vim(db, vim_id)
        c = NovaNotificationConsumer(amqp_url, vim_id, db, **kwargs)
        made.append(c)
        c.start()
        assert c.wait_connected(10), "consumer did not connect"
        return c

    yield make
    for c in made:
        c.stop()
        delete_queue(amqp_url, c.queue_name)


def publish(url: str, body: Any, topic: str = "versioned_notifications.info") -> None:
    """Publish like oslo.messaging's notifier: JSON to the transient topic exchange ``nova``."""
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    with kombu.Connection(url, connect_timeout=5) as conn:
        ex = kombu.Exchange("nova", type="topic", durable=False, auto_delete=False)
        producer = conn.Producer(serializer="json")
        producer.publish(
            data,
            exchange=ex,
            routing_key=topic,
            declare=[ex],
            content_type="application/json",
            content_encoding="utf-8",
            delivery_mode=2,
        )


def wait_for(check: Callable[[], bool], timeout: float = 10.0) -> float:
    """Seconds until ``check()`` held (fails the test after ``timeout``)."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(0.01)
    return time.monotonic() - start


def test_server_deleted_marks_vnfc_lost_within_2s(consumers, amqp_url: str, db: Database) -> None:
    c = consumers()
    ns_id = make_ns(db, c.vim_id, {"vnf-a": ["srv-1", "srv-2"]})
    publish(amqp_url, envelope(instance("instance.delete.end", "srv-2", "deleted")))
    latency = wait_for(lambda: statuses(db, ns_id)["srv-2"] == "LOST")
    print(f"\nserver deleted -> VNFC LOST in {latency * 1000:.0f} ms")
    assert latency < LATENCY_LIMIT
    assert statuses(db, ns_id) == {"srv-1": "ACTIVE", "srv-2": "LOST"}
    with db.session() as s:
        rows = MonitoringRepository(s).events(ns_id)
    assert [(r.kind, r.vnfc_key, r.vnf_instance_id) for r in rows] == [
        ("SERVER_LOST", "vdu-1", "vnf-a")
    ]


def test_error_and_duplicate_give_one_event(consumers, amqp_url: str, db: Database) -> None:
    c = consumers()
    ns_id = make_ns(db, c.vim_id, {"vnf-a": ["srv-1"]})
    msg = instance("instance.update", "srv-1", "error", fault=fault("Boom", "disk failed"))
    publish(amqp_url, envelope(msg), topic="versioned_notifications.error")
    publish(amqp_url, envelope(msg), topic="versioned_notifications.error")
    assert c.wait_processed(2)
    assert statuses(db, ns_id) == {"srv-1": "ERROR"}
    with db.session() as s:
        rows = MonitoringRepository(s).events(ns_id)
    assert [(r.kind, r.detail["reason"]) for r in rows] == [("SERVER_ERROR", "Boom: disk failed")]


def test_service_forced_down_and_back_up(consumers, amqp_url: str, db: Database) -> None:
    c = consumers()
    publish(amqp_url, envelope(service("compute-1", forced_down=True)))
    wait_for(lambda: host_state(db, c.vim_id, "compute-1")[0] == "down")
    assert host_state(db, c.vim_id, "compute-1") == ("down", "monitoring")
    publish(amqp_url, envelope(service("compute-1")))
    wait_for(lambda: host_state(db, c.vim_id, "compute-1")[0] == "up")


class RecordingSink:
    """A monitoring sink that keeps the fault events it was handed (thread-safe enough for
    one consumer thread and a reading test)."""

    def __init__(self, fail: bool = False) -> None:
        self.faults: list[FaultEvent] = []
        self.fail = fail

    def samples(self, batch: list[Any]) -> None:
        raise AssertionError("a notification consumer hands no samples")

    def fault(self, event: FaultEvent) -> None:
        self.faults.append(event)
        if self.fail:
            raise RuntimeError("sink down")


def test_consumer_hands_fault_events_to_the_sink(consumers, amqp_url: str, db: Database) -> None:
    sink = RecordingSink()
    c = consumers(sink=sink)
    ns_id = make_ns(db, c.vim_id, {"vnf-a": ["srv-1", "srv-2"]})
    published = time.time()
    publish(amqp_url, envelope(instance("instance.delete.end", "srv-1", "deleted")))
    msg = instance("instance.update", "srv-2", "error", fault=fault("Boom", "disk failed"))
    publish(amqp_url, envelope(msg), topic="versioned_notifications.error")
    publish(amqp_url, envelope(service("compute-1", forced_down=True)))
    publish(amqp_url, envelope(service("compute-1")))
    latency = wait_for(lambda: len(sink.faults) == 4)
    assert latency < LATENCY_LIMIT
    got = [(f.kind, f.severity, f.resource.kind, f.resource.id) for f in sink.faults]
    assert got == [
        (FaultKind.SERVER_GONE, Severity.MAJOR, ResourceKind.SERVER, "srv-1"),
        (FaultKind.SERVER_CRASHED, Severity.MAJOR, ResourceKind.SERVER, "srv-2"),
        (FaultKind.HOST_DOWN, Severity.CRITICAL, ResourceKind.HOST, "compute-1"),
        (FaultKind.HOST_UP, Severity.CLEARED, ResourceKind.HOST, "compute-1"),
    ]
    assert all(f.resource.vim_id == c.vim_id and f.source == "openstack" for f in sink.faults)
    assert all(f.timestamp >= published - 1 for f in sink.faults)
    assert sink.faults[1].raw["payload"]["nova_object.data"]["uuid"] == "srv-2"
    assert sink.faults[1].probable_cause == "Boom: disk failed"
    assert statuses(db, ns_id) == {"srv-1": "LOST", "srv-2": "ERROR"}  # the inventory too


def test_a_failing_sink_does_not_stop_the_inventory_update(
    consumers, amqp_url: str, db: Database
) -> None:
    sink = RecordingSink(fail=True)
    c = consumers(sink=sink)
    ns_id = make_ns(db, c.vim_id, {"vnf-a": ["srv-1"]})
    publish(amqp_url, envelope(instance("instance.delete.end", "srv-1", "deleted")))
    assert c.wait_processed(1)
    assert statuses(db, ns_id) == {"srv-1": "LOST"}
    assert len(sink.faults) == 1  # handed once, acknowledged, not redelivered
    assert c.wait_idle(5)
    assert len(sink.faults) == 1


def test_legacy_notification_on_notifications_info(consumers, amqp_url: str, db: Database) -> None:
    c = consumers()
    ns_id = make_ns(db, c.vim_id, {"vnf-a": ["srv-1"]})
    legacy = {
        "event_type": "compute.instance.delete.end",
        "message_id": str(uuid.uuid4()),
        "payload": {"instance_id": "srv-1", "state": "deleted"},
    }
    publish(amqp_url, legacy, topic="notifications.info")
    wait_for(lambda: statuses(db, ns_id)["srv-1"] == "LOST")


def test_malformed_messages_are_dropped_and_consumer_keeps_going(
    consumers, amqp_url: str, db: Database
) -> None:
    c = consumers()
    ns_id = make_ns(db, c.vim_id, {"vnf-a": ["srv-1"]})
    for body in (
        b"\x00\xffnot json",
        "{broken",
        {"oslo.version": "9.0", "oslo.message": "{}"},
        {"oslo.version": "2.0", "oslo.message": 42},
        envelope({"event_type": "aggregate.create.end", "payload": {}}),
        envelope({"event_type": "instance.delete.end", "payload": {"nova_object.data": {}}}),
    ):
        publish(amqp_url, body)
    publish(amqp_url, envelope(instance("instance.delete.end", "srv-1", "deleted")))
    wait_for(lambda: statuses(db, ns_id)["srv-1"] == "LOST")
    assert c.wait_processed(7)
    assert c.dropped == 6 and c.alive
    assert c.wait_idle(5)
    assert c.queue_depth() == 0  # every message acknowledged, none stuck


def test_failed_effect_is_not_acknowledged_and_is_retried(
    consumers, amqp_url: str, db: Database, monkeypatch
) -> None:
    real = amqp_mod.events.apply
    calls = []

    def flaky(*args: Any) -> Any:
        calls.append(args)
        if len(calls) == 1:
            raise RuntimeError("database briefly unavailable")
        return real(*args)

    monkeypatch.setattr(amqp_mod.events, "apply", flaky)
    c = consumers()
    ns_id = make_ns(db, c.vim_id, {"vnf-a": ["srv-1"]})
    publish(amqp_url, envelope(instance("instance.delete.end", "srv-1", "deleted")))
    wait_for(lambda: statuses(db, ns_id)["srv-1"] == "LOST")
    assert len(calls) == 2 and c.processed == 1


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=60)


def test_broker_closes_connections_consumer_reconnects_and_loses_nothing(
    consumers, amqp_url: str, db: Database
) -> None:
    if shutil.which("rabbitmqctl") is None:
        pytest.skip("rabbitmqctl not found: cannot act on the broker")
    c = consumers(min_backoff=1.5)  # a gap long enough to publish while it is away
    ns_id = make_ns(db, c.vim_id, {"vnf-a": ["before", "during", "after"]})
    publish(amqp_url, envelope(instance("instance.delete.end", "before", "deleted")))
    wait_for(lambda: statuses(db, ns_id)["before"] == "LOST")
    rabbitmqctl("close_all_connections", "nfvo test: broker-side close")
    wait_for(lambda: not c.connected.is_set(), timeout=5)
    publish(amqp_url, envelope(instance("instance.delete.end", "during", "deleted")))
    assert c.wait_connected(15) and c.connections >= 2 and c.alive
    publish(amqp_url, envelope(instance("instance.delete.end", "after", "deleted")))
    wait_for(lambda: set(statuses(db, ns_id).values()) == {"LOST"})


def test_broker_restart_durable_queue_keeps_messages(
    consumers, amqp_url: str, db: Database
) -> None:
    if shutil.which("rabbitmqctl") is None:
        pytest.skip("rabbitmqctl not found: cannot restart the broker")
    c = consumers()
    ns_id = make_ns(db, c.vim_id, {"vnf-a": ["queued", "after"]})
    c.stop()  # nfvo away: the durable, bound queue collects what Nova sends meanwhile
    publish(amqp_url, envelope(instance("instance.delete.end", "queued", "deleted")))
    try:
        rabbitmqctl("stop_app")
        c.start()  # starts while the broker is down: must keep retrying, not crash
        time.sleep(1.0)
        assert c.alive and not c.connected.is_set()
    finally:
        rabbitmqctl("start_app")
        rabbitmqctl("await_startup")
    assert c.wait_connected(30) and c.alive
    wait_for(lambda: statuses(db, ns_id)["queued"] == "LOST", timeout=10)
    publish(amqp_url, envelope(instance("instance.delete.end", "after", "deleted")))
    wait_for(lambda: statuses(db, ns_id)["after"] == "LOST")


def test_live_nfvo_starts_a_consumer_for_an_opted_in_openstack_vim(
    amqp_url: str, db_url: str, tmp_path: Path
) -> None:
    db = Database(db_url)
    db.migrate()
    vim_id = str(uuid.uuid4())
    make_vim(db, vim_id)
    with db.session() as s:
        vim = s.get(VimAccount, vim_id)
        vim.config = {"notifications": {"amqp_url": amqp_url, "exchange": "nova"}}
    ns_id = make_ns(db, vim_id, {"vnf-a": ["srv-live"]})
    api = start_live(tmp_path / "data", db_url, sync_interval_seconds=0)
    try:
        wait_for(lambda: _queue_exists(amqp_url, f"nfvo-{vim_id}"), timeout=15)
        t0 = time.monotonic()
        publish(amqp_url, envelope(instance("instance.delete.end", "srv-live", "deleted")))
        wait_for(lambda: statuses(db, ns_id)["srv-live"] == "LOST")
        latency = time.monotonic() - t0
        print(f"\nlive nfvo: server deleted -> VNFC LOST in {latency * 1000:.0f} ms")
        assert latency < LATENCY_LIMIT
    finally:
        api.close()
        db.dispose()
        delete_queue(amqp_url, f"nfvo-{vim_id}")


def _queue_exists(url: str, name: str) -> bool:
    try:
        with kombu.Connection(url, connect_timeout=2) as conn:
            _, _, consumers = conn.default_channel.queue_declare(name, passive=True)
            return consumers > 0
    except Exception:
        return False


def test_manager_follows_vim_accounts(amqp_url: str, db: Database) -> None:
    from cryptography.fernet import Fernet

    from nfvo.monitoring.amqp import NotificationConsumers
    from nfvo.resources.vault import Vault, split_secrets

    vault = Vault(Fernet.generate_key())
    opted, plain = str(uuid.uuid4()), str(uuid.uuid4())
    make_vim(db, opted)
    make_vim(db, plain)
    user = amqp_url.split("://", 1)[1].split(":", 1)[0]
    password = amqp_url.split("://", 1)[1].split(":", 1)[1].split("@", 1)[0]
    host = amqp_url.rsplit("@", 1)[1]
    config = {"notifications": {"amqp_url": f"amqp://{user}@{host}", "amqp_password": password}}
    public, secrets = split_secrets(config)
    assert "notifications.amqp_password" in secrets  # kept encrypted, not in config
    with db.session() as s:
        vim = s.get(VimAccount, opted)
        vim.config, vim.secrets = public, vault.seal(secrets)
    sink = RecordingSink()
    manager = NotificationConsumers(db, vault, sink=sink)
    try:
        manager.refresh()
        assert set(manager.consumers) == {opted}
        consumer = manager.consumers[opted][1]
        assert consumer.wait_connected(10)
        ns_id = make_ns(db, opted, {"vnf-a": ["srv-m"]})
        publish(amqp_url, envelope(instance("instance.delete.end", "srv-m", "deleted")))
        wait_for(lambda: statuses(db, ns_id)["srv-m"] == "LOST")
        wait_for(lambda: len(sink.faults) == 1)
        assert (sink.faults[0].kind, sink.faults[0].resource.vim_id) == (
            FaultKind.SERVER_GONE,
            opted,
        )
        with db.session() as s:
            s.get(VimAccount, opted).config = {}
        manager.refresh()
        assert manager.consumers == {} and not consumer.alive
    finally:
        manager.stop()
        delete_queue(amqp_url, f"nfvo-{opted}")


def _exchanges() -> dict[str, bool]:
    out = subprocess.run(
        ["rabbitmqctl", "-q", "list_exchanges", "name", "type", "durable"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    rows = [line.split("\t") for line in out.splitlines() if line.count("\t") == 2]
    return {name: durable == "true" for name, kind, durable in rows if kind == "topic"}


def test_exchange_declared_by_openstack_is_accepted_as_it_is(
    consumers, amqp_url: str, db: Database
) -> None:
    """A deployment with ``amqp_durable_queues = true`` has a durable control exchange: the
    consumer must bind to it without redeclaring it differently (the broker would refuse)."""
    if shutil.which("rabbitmqctl") is None:
        pytest.skip("rabbitmqctl not found: cannot list exchanges")
    durable_name, fresh_name = f"nova-d-{uuid.uuid4().hex[:8]}", f"nova-f-{uuid.uuid4().hex[:8]}"
    with kombu.Connection(amqp_url) as conn:
        kombu.Exchange(durable_name, type="topic", durable=True)(conn.default_channel).declare()
    try:
        c = consumers(exchange=durable_name)
        ns_id = make_ns(db, c.vim_id, {"vnf-a": ["srv-d"]})
        with kombu.Connection(amqp_url) as conn:
            conn.Producer().publish(
                json.dumps(envelope(instance("instance.delete.end", "srv-d", "deleted"))),
                exchange=durable_name,
                routing_key="versioned_notifications.info",
                content_type="application/json",
            )
        wait_for(lambda: statuses(db, ns_id)["srv-d"] == "LOST")
        consumers(exchange=fresh_name)  # absent: declared like oslo.messaging's default
        exchanges = _exchanges()
        assert exchanges[durable_name] is True and exchanges[fresh_name] is False
    finally:
        with kombu.Connection(amqp_url) as conn:
            for name in (durable_name, fresh_name):
                conn.default_channel.exchange_delete(name)
