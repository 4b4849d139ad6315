"""The Kubernetes monitoring source against the loopback fake API server: node conditions and
pod status through real watches (resume, re-list on 410 Gone), change-only reporting, server
ids as the driver names them, and usage from the metrics API."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from tests.support.fake_kube import FakeKube
from tests.unit.vim.test_kubernetes_driver import TOKEN, make, wait_status

from nfvo.monitoring.model import FaultEvent, FaultKind, ResourceKind, Sample, Severity
from nfvo.monitoring.sources.base import SourceContext
from nfvo.monitoring.sources.kubernetes import (
    KubernetesSource,
    node_ready,
    pod_capacity,
    pod_health,
    server_health,
)
from nfvo.vim.base import TAG_NS, ServerSpec, VimNotFound, VimUnavailable
from nfvo.vim.kubernetes import KubernetesVim

VIM = "k8s-mon"


class Recorder:
    """A sink that keeps what it was handed."""

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


def wait_until(check: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)
    return value


@pytest.fixture
def fake() -> Iterator[FakeKube]:
    with FakeKube(token=TOKEN, ready_delay=0.01) as f:
        yield f


@pytest.fixture
def setup(fake: FakeKube) -> Iterator[tuple[KubernetesSource, Recorder, KubernetesVim]]:
    sink = Recorder()
    driver = make(fake)
    ctx = SourceContext(VIM, "kubernetes", make(fake), sink, {"watch_timeout_s": 1})
    source = KubernetesSource(ctx)
    yield source, sink, driver
    source.stop()
    driver.close()


def boot(driver: KubernetesVim, key: str = "k1", **spec: Any) -> str:
    server = driver.create_server(
        ServerSpec(
            name="web", image="cirros", vcpus=1, ram_mib=512, tags={TAG_NS: "ns1"}, key=key, **spec
        )  # fmt: skip
    )
    wait_status(driver, server.id, "ACTIVE")
    return server.id


def pod_of(fake: FakeKube, server_id: str) -> dict[str, Any]:
    ns, name = server_id.split(".", 1)
    pods = [
        p for p in fake.objects("pods", ns) if p["metadata"]["labels"].get("nfvo.io/server") == name
    ]
    assert len(pods) == 1
    return pods[0]


CRASH = {
    "phase": "Running",
    "containerStatuses": [
        {"name": "main", "ready": False,
         "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off"}}}
    ],
}  # fmt: skip
RUNNING = {"phase": "Running", "containerStatuses": [{"name": "main", "state": {"running": {}}}]}


# ---------------------------------------------------------------------- pure mappings


@pytest.mark.parametrize(
    ("status", "want"),
    [
        ({"phase": "Failed", "reason": "Evicted"}, "crashed"),
        (CRASH, "crashed"),
        (
            {
                "phase": "Running",
                "containerStatuses": [
                    {"name": "m", "state": {"terminated": {"exitCode": 137, "reason": "Error"}}}
                ],
            },
            "crashed",
        ),  # fmt: skip
        (
            {
                "phase": "Running",
                "containerStatuses": [
                    {"name": "m", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}
                ],
            },
            "ok",
        ),  # fmt: skip
        (RUNNING, "ok"),
        ({"phase": "Pending"}, None),
    ],
)
def test_pod_health(status: dict[str, Any], want: str | None) -> None:
    assert pod_health({"metadata": {}, "status": status})[0] == want


def test_server_health_prefers_a_running_pod_over_a_failed_one() -> None:
    failed = {"metadata": {}, "status": {"phase": "Failed"}}
    running = {"metadata": {}, "status": RUNNING}
    assert server_health([failed, running])[0] == "ok"
    assert server_health([failed])[0] == "crashed"


def test_node_ready_and_capacity() -> None:
    assert node_ready({"status": {"conditions": [{"type": "Ready", "status": "Unknown"}]}}) is False
    assert node_ready({"status": {"conditions": [{"type": "Ready", "status": "True"}]}}) is True
    assert node_ready({"status": {}}) is None
    pod = {"spec": {"containers": [
        {"resources": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "2"}}},
        {"resources": {"requests": {"cpu": "250m", "memory": "256Mi"}}},
    ]}}  # fmt: skip
    assert pod_capacity(pod) == (2.25, float(2**30 + 256 * 2**20))


# ---------------------------------------------------------------------- watches


def test_node_not_ready_and_back_reported_once_each(setup, fake: FakeKube) -> None:
    source, sink, _ = setup
    source.start()
    wait_until(lambda: source.relists["nodes"] == 1 and "a1" in source.node_state)
    fake.set_node_ready("a1", "Unknown")
    wait_until(lambda: (FaultKind.HOST_DOWN, "a1") in sink.kinds())
    fake.set_node_ready("a1", "False")  # still down: nothing new
    fake.set_node_ready("b1", "True")  # unchanged readiness, a new resourceVersion
    time.sleep(0.3)
    fake.set_node_ready("a1", "True")
    wait_until(lambda: (FaultKind.HOST_UP, "a1") in sink.kinds())
    time.sleep(0.2)
    assert sink.kinds() == [(FaultKind.HOST_DOWN, "a1"), (FaultKind.HOST_UP, "a1")]
    down, up = sink.faults
    assert down.severity is Severity.CRITICAL and up.severity is Severity.CLEARED
    assert down.resource.kind is ResourceKind.HOST and down.resource.vim_id == VIM
    assert down.source == "kubernetes" and down.key == up.key
    assert down.raw["conditions"][0]["status"] == "Unknown"


def test_node_down_at_start_is_reported(fake: FakeKube) -> None:
    fake.set_node_ready("b2", "False")
    sink = Recorder()
    source = KubernetesSource(SourceContext(VIM, "kubernetes", make(fake), sink, {}))
    source.relist("nodes")
    source.relist("nodes")
    assert sink.kinds() == [(FaultKind.HOST_DOWN, "b2")]


def test_pod_crash_recover_and_gone_map_to_the_driver_server_id(setup, fake: FakeKube) -> None:
    source, sink, driver = setup
    sid = boot(driver)
    source.start()
    wait_until(lambda: source.server_state.get(sid) == "ok")
    pod = pod_of(fake, sid)
    fake.set_pod_status(pod["metadata"]["namespace"], pod["metadata"]["name"], CRASH)
    wait_until(lambda: (FaultKind.SERVER_CRASHED, sid) in sink.kinds())
    fake.set_pod_status(pod["metadata"]["namespace"], pod["metadata"]["name"], RUNNING)
    wait_until(lambda: (FaultKind.SERVER_RECOVERED, sid) in sink.kinds())
    ns, name = sid.split(".", 1)
    fake.store["deployments"].pop((ns, name))  # behind nfvo's back (pods go with it)
    with fake.lock:
        fake._drop_pods(pod["metadata"]["ownerReferences"][0]["uid"], lambda p: True)
    wait_until(lambda: (FaultKind.SERVER_GONE, sid) in sink.kinds())
    assert sink.kinds() == [
        (FaultKind.SERVER_CRASHED, sid),
        (FaultKind.SERVER_RECOVERED, sid),
        (FaultKind.SERVER_GONE, sid),
    ]
    crashed = sink.faults[0]
    assert crashed.resource.kind is ResourceKind.SERVER and crashed.severity is Severity.MAJOR
    assert "CrashLoopBackOff" in crashed.probable_cause
    with pytest.raises(VimNotFound):
        driver.get_server(sid)


def test_a_pod_replaced_by_its_controller_is_not_gone(setup, fake: FakeKube) -> None:
    source, sink, driver = setup
    sid = boot(driver)
    source.start()
    wait_until(lambda: source.server_state.get(sid) == "ok")
    pod = pod_of(fake, sid)
    with fake.lock:
        del fake.store["pods"][(pod["metadata"]["namespace"], pod["metadata"]["name"])]
    wait_until(lambda: pod_of(fake, sid)["metadata"]["name"] != pod["metadata"]["name"])
    time.sleep(0.3)
    assert sink.kinds() == []


def test_watch_resumes_and_relists_after_410(setup, fake: FakeKube) -> None:
    source, sink, _ = setup  # watch_timeout_s 1: each watch request ends after 1 s
    source.start()
    wait_until(lambda: source.relists["nodes"] == 1 and len(source.node_state) == 4)
    # the first watch request ends after 1 s and is resumed from its resourceVersion
    wait_until(lambda: len(fake.sent("WATCH", "/api/v1/nodes$")) >= 2)
    assert source.relists["nodes"] == 1
    resumed = [r.query.get("resourceVersion") for r in fake.sent("WATCH", "/api/v1/nodes$")]
    assert all(resumed)
    fake.compact("nodes")  # the next resume is too old: 410 Gone, then a new list
    wait_until(lambda: source.relists["nodes"] >= 2, timeout=5)
    fake.set_node_ready("a2", "False")
    wait_until(lambda: (FaultKind.HOST_DOWN, "a2") in sink.kinds(), timeout=5)
    time.sleep(0.2)
    assert sink.kinds() == [(FaultKind.HOST_DOWN, "a2")]


def test_unreachable_once_then_reachable(fake: FakeKube) -> None:
    sink = Recorder()
    source = KubernetesSource(SourceContext(VIM, "kubernetes", make(fake), sink, {}))
    fake.fail("GET", "/api/v1/nodes$", 503, count=None)
    with pytest.raises(VimUnavailable):
        source.relist("nodes")
    source._set_unreachable("boom")
    source._set_unreachable("boom again")
    fake.faults.clear()
    source.relist("nodes")
    assert [f.kind for f in sink.faults] == [FaultKind.VIM_UNREACHABLE, FaultKind.VIM_REACHABLE]


def test_unreachable_api_server_reported_by_the_watch_thread(fake: FakeKube) -> None:
    sink = Recorder()
    source = KubernetesSource(SourceContext(VIM, "kubernetes", make(fake), sink, {}))
    fake.fail("GET", "/api/v1/(nodes|pods)$", 503, count=None)
    source.start()
    try:
        wait_until(lambda: source.unreachable)
        time.sleep(0.8)  # retries keep failing: still one fault
        assert [f.kind for f in sink.faults] == [FaultKind.VIM_UNREACHABLE]
        fake.faults.clear()
        wait_until(lambda: FaultKind.VIM_REACHABLE in [f.kind for f in sink.faults], timeout=8)
    finally:
        source.stop()


# ---------------------------------------------------------------------- metrics


def test_metrics_give_server_and_host_utilisation(setup, fake: FakeKube) -> None:
    source, sink, driver = setup
    sid = boot(driver)
    source.relist("nodes")
    source.relist("pods")
    pod = pod_of(fake, sid)
    meta = pod["metadata"]
    cpu_cap, mem_cap = pod_capacity(pod)
    fake.usage[f"{meta['namespace']}/{meta['name']}"] = (cpu_cap * 0.3, mem_cap * 0.5)
    node = pod["spec"]["nodeName"]
    fake.usage[node] = (1.0, 2 * 2**30)  # of 4 CPU / 8 GiB allocatable
    source.poll_once()
    samples = {(s.resource.kind, s.resource.id, s.metric): s.value for b in sink.batches for s in b}
    assert samples[(ResourceKind.SERVER, sid, "cpu_utilization")] == pytest.approx(30, abs=0.1)
    assert samples[(ResourceKind.SERVER, sid, "memory_utilization")] == pytest.approx(50, abs=0.1)
    assert samples[(ResourceKind.HOST, node, "cpu_utilization")] == pytest.approx(25, abs=0.1)
    assert samples[(ResourceKind.HOST, node, "memory_utilization")] == pytest.approx(25, abs=0.1)


def test_no_metrics_api_is_logged_once_and_not_asked_every_round(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with FakeKube(token=TOKEN, metrics=False) as fake:
        sink = Recorder()
        source = KubernetesSource(SourceContext(VIM, "kubernetes", make(fake), sink, {}))
        with caplog.at_level("INFO"):
            for _ in range(5):
                source.poll_once()
        assert source.metrics_absent and sink.batches == []
        assert len(fake.sent("GET", "metrics.k8s.io")) == 1
        assert sum("no metrics.k8s.io" in r.getMessage() for r in caplog.records) == 1
        assert not [r for r in caplog.records if r.exc_info]
