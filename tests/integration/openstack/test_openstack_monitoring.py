"""Monitoring on a real Nova (the loopback cloud of ``up.py``): a server deleted behind nfvo's
back reaches the monitoring sink as SERVER_GONE from Nova's own versioned notifications over
RabbitMQ, and the polling source reads the compute services (a service forced down and back
gives HOST_DOWN then HOST_UP) and the servers' diagnostics."""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from tests.integration.openstack.test_openstack_contract import FLAVOR, URL, RealNovaAdapter
from tests.unit.monitoring.test_monitoring_events import make_vim

from nfvo.inventory.db import Database
from nfvo.monitoring.amqp import NovaNotificationConsumer
from nfvo.monitoring.model import FaultEvent, FaultKind, ResourceKind, Sample
from nfvo.monitoring.sources.base import SourceContext
from nfvo.monitoring.sources.openstack import OpenStackSource
from nfvo.vim.base import TAG_NS, ServerSpec

GONE_WITHIN_S = 2.0

pytestmark = pytest.mark.skipif(
    not URL,
    reason="no OpenStack test cloud: run tests/integration/openstack/up.py and export the "
    "NFVO_TEST_OPENSTACK_* variables it prints",
)


class Sink:
    """Records what sources hand to the monitoring hub."""

    def __init__(self) -> None:
        self.faults: list[FaultEvent] = []
        self.batches: list[list[Sample]] = []
        self.lock = threading.Lock()

    def samples(self, batch: list[Sample]) -> None:
        with self.lock:
            self.batches.append(list(batch))

    def fault(self, event: FaultEvent) -> None:
        with self.lock:
            self.faults.append(event)

    def kinds(self) -> list[tuple[FaultKind, str]]:
        with self.lock:
            return [(f.kind, f.resource.id) for f in self.faults]


def nova(path: str, method: str = "GET", body: Any = None, mv: str = "2.74") -> Any:
    """A call straight to Nova, behind nfvo's back."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"{URL}{path}", method=method, data=data)
    req.add_header("X-Auth-Token", os.environ["NFVO_TEST_OPENSTACK_TOKEN"])
    req.add_header("OpenStack-API-Version", f"compute {mv}")
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=30) as resp:
        raw = resp.read()
    return json.loads(raw) if raw else None


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    d = Database(db_url)
    d.migrate()
    yield d
    d.dispose()


def boot(key: str) -> tuple[Any, str]:
    driver = RealNovaAdapter().make_driver()
    server = driver.create_server(
        ServerSpec(key=key, name=key, image="cirros", flavor=FLAVOR, tags={TAG_NS: key})
    )
    deadline = time.monotonic() + 60
    while driver.get_server(server.id).status != "ACTIVE":
        assert time.monotonic() < deadline, "server did not become ACTIVE"
        time.sleep(0.2)
    return driver, server.id


def test_server_deleted_behind_nfvos_back_reaches_the_sink_as_server_gone(db: Database) -> None:
    vim_id = str(uuid.uuid4())
    make_vim(db, vim_id)
    sink = Sink()
    consumer = NovaNotificationConsumer(
        os.environ["NFVO_TEST_OPENSTACK_AMQP_URL"], vim_id, db, sink=sink
    )
    consumer.start()
    key = "mon-gone-" + uuid.uuid4().hex[:8]
    driver, server_id = boot(key)
    try:
        assert consumer.wait_connected(10)
        started = time.monotonic()
        nova(f"/servers/{server_id}", "DELETE")
        while (FaultKind.SERVER_GONE, server_id) not in sink.kinds():
            assert time.monotonic() - started < 10, f"no SERVER_GONE; got {sink.kinds()}"
            time.sleep(0.02)
        took = time.monotonic() - started
        print(f"\nSERVER_GONE at the sink {took:.3f} s after the DELETE to Nova")
        assert took < GONE_WITHIN_S
        gone = next(f for f in sink.faults if f.kind is FaultKind.SERVER_GONE)
        assert gone.resource.kind is ResourceKind.SERVER and gone.resource.vim_id == vim_id
        assert gone.source == "openstack" and gone.raw["event_type"].startswith("instance.")
        assert gone.raw["payload"]["nova_object.data"]["uuid"] == server_id
    finally:
        consumer.stop()
        driver.delete_servers([server_id])
        driver.close()


def test_polling_source_reads_compute_services_and_diagnostics() -> None:
    key = "mon-poll-" + uuid.uuid4().hex[:8]
    driver, server_id = boot(key)
    sink = Sink()
    ctx = SourceContext("os-monitoring", "openstack", RealNovaAdapter().make_driver(), sink, {})
    clock = [time.time()]
    source = OpenStackSource(ctx, clock=lambda: clock[0])
    services = nova("/os-services?binary=nova-compute", mv="2.53")["services"]
    victim = sorted(services, key=lambda s: s["host"])[-1]
    try:
        source.poll_once()
        assert source.hosts and set(source.hosts) == {s["host"] for s in services}
        assert all(source.hosts.values()) and sink.faults == []
        nova(f"/os-services/{victim['id']}", "PUT", {"forced_down": True}, mv="2.53")
        source.poll_once()
        assert sink.kinds() == [(FaultKind.HOST_DOWN, victim["host"])]
        assert sink.faults[0].probable_cause == "forced_down"
        nova(f"/os-services/{victim['id']}", "PUT", {"forced_down": False}, mv="2.53")
        source.poll_once()
        assert sink.kinds()[-1] == (FaultKind.HOST_UP, victim["host"])

        # diagnostics: Nova's fake hypervisor exposes them, so the server gets samples
        samples = {(s.resource.id, s.metric) for batch in sink.batches for s in batch}
        assert (server_id, "memory_utilization") in samples
        clock[0] += 30
        source.poll_once()
        cpu = [
            s.value
            for s in sink.batches[-1]
            if s.resource.id == server_id and s.metric == "cpu_utilization"
        ]
        assert len(cpu) == 1 and 0.0 <= cpu[0] <= 100.0
        assert "diagnostics" not in source.not_exposed
    finally:
        nova(f"/os-services/{victim['id']}", "PUT", {"forced_down": False}, mv="2.53")
        source.stop()
        driver.delete_servers([server_id])
        driver.close()
