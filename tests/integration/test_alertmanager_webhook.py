"""``POST /monitoring/v1/alertmanager`` on a real server (SQLite and PostgreSQL): real
webhook payloads for NS instances of two tenants deployed on a shared sim VIM; what the
monitoring hub hands its listeners is recorded."""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from tests.conftest import PG_ENV, PG_SKIP
from tests.support.live import LiveApi, sim_vim, start_live, wait_op
from tests.support.pgschema import pg_schema_url

from nfvo.monitoring.model import FaultEvent, Resource, ResourceKind, Severity
from nfvo.samples.synthetic import nsd_package, vnf_package

URL = "/monitoring/v1/alertmanager"
NS = "/nslcm/v2/ns_instances"


class Recorder:
    """The fault events the hub was handed (or would have been)."""

    def __init__(self) -> None:
        self.events: list[FaultEvent] = []
        self.lock = threading.Lock()

    def fault(self, event: FaultEvent) -> None:
        with self.lock:
            self.events.append(event)

    def of(self, fingerprint: str) -> list[FaultEvent]:
        """The events of one alert (by its fingerprint)."""
        with self.lock:
            return [e for e in self.events if e.key == f"alertmanager:{fingerprint}"]


@dataclass
class World:
    live: LiveApi
    vim: str
    ns: dict[str, str]  # tenant -> NS id
    server: dict[str, str]  # tenant -> one server of its NS
    host: str  # a host of the shared VIM
    clients: dict[str, httpx.Client]
    recorder: Recorder
    settle: Any  # () -> None: wait until the hub has handed on what it got


def _client(live: LiveApi, tenant: str | None, role: str) -> httpx.Client:
    cid = f"{role}-{uuid.uuid4().hex[:8]}"
    body: dict[str, Any] = {"clientId": cid, "clientSecret": f"{cid}-secret", "role": role}
    if tenant:
        body["tenantId"] = tenant
    r = live.client.post("/admin/v1/users", json=body)
    assert r.status_code == 201, r.text
    return live.client_for(cid, f"{cid}-secret")


def _onboard(live: LiveApi) -> str:
    vnfd_id, nsd_id = str(uuid.uuid4()), str(uuid.uuid4())
    assert live.onboard("vnf", vnf_package(vnfd_id))["onboardingState"] == "ONBOARDED"
    assert live.onboard("nsd", nsd_package(nsd_id, vnfd_id))["nsdOnboardingState"] == "ONBOARDED"
    return nsd_id


def _deploy(c: httpx.Client, nsd_id: str, vim: str) -> tuple[str, str]:
    """An instantiated NS of the caller's tenant; (its id, one of its servers)."""
    r = c.post(NS, json={"nsdId": nsd_id, "nsName": f"ns-{uuid.uuid4().hex[:6]}"})
    assert r.status_code == 201, r.text
    ns_id = r.json()["id"]
    body = {"nsFlavourId": "default", "additionalParamsForNs": {"vimAccountId": vim}}
    r = c.post(f"{NS}/{ns_id}/instantiate", json=body)
    assert r.status_code == 202, r.text
    assert wait_op(c, r.headers["location"])["operationState"] == "COMPLETED"
    ns = c.get(f"{NS}/{ns_id}").json()
    vnfc = ns["vnfInstance"][0]["instantiatedVnfInfo"]["vnfcResourceInfo"][0]
    return ns_id, vnfc["computeResource"]["resourceId"]


def _hub(live: LiveApi) -> tuple[Recorder, Any]:
    """A listener on the running monitoring hub, and how to wait until it has delivered."""
    recorder = Recorder()
    monitor = live.services.monitor
    assert monitor is not None, "the runtime runs the monitoring hub"
    monitor.on_fault(recorder.fault)
    # 1,000 alarms are 1,000 transactions of the fault manager (~4 ms each on PostgreSQL):
    # the wait is generous so that a loaded CI machine does not cut it short
    return recorder, lambda: monitor.wait_idle(60.0)


def _fp() -> str:
    return uuid.uuid4().hex[:16]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """One server with two tenants' NS per database for the module (each test uses its own
    fingerprints, so the de-duplication state of one does not meet another's)."""
    tmp = tmp_path_factory.mktemp("alertmanager")
    schema: Iterator[str] | None = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp / 'nfvo.db'}"
    else:
        base = os.environ.get(PG_ENV)
        if not base:
            pytest.skip(PG_SKIP)
        schema = pg_schema_url(base)  # dropped when the generator is closed
        url = next(schema)
    live = start_live(tmp / "data", url)
    opened: list[httpx.Client] = []
    try:
        g = live.client
        tenants = {}
        for t in ("A", "B"):
            r = g.post("/admin/v1/tenants", json={"name": f"tenant-{t.lower()}"})
            tenants[t] = r.json()["id"]
        vim = sim_vim(g, "shared", hosts=2, images=[{"name": "cirros"}])
        nsd_id = _onboard(live)
        clients = {
            "operator@A": _client(live, tenants["A"], "operator"),
            "reader@A": _client(live, tenants["A"], "reader"),
            "operator@B": _client(live, tenants["B"], "operator"),
            "admin": g,
        }
        opened = [c for c in clients.values() if c is not g]
        ns, server = {}, {}
        for t in ("A", "B"):
            ns[t], server[t] = _deploy(clients[f"operator@{t}"], nsd_id, vim)
        hosts = g.get(f"/admin/v1/vim_accounts/{vim}/resources").json()["hosts"]
        recorder, settle = _hub(live)
        yield World(live, vim, ns, server, hosts[0]["name"], clients, recorder, settle)
    finally:
        for c in opened:
            c.close()
        live.close()
        if schema is not None:
            schema.close()


def alert(status: str, fp: str, **labels: str) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": "InstanceDown", "severity": "critical", **labels},
        "annotations": {"summary": "instance down for 5 minutes"},
        "startsAt": "2026-12-03T18:00:00.000000001Z",
        "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-12-03T18:20:00Z",
        "generatorURL": "http://prometheus.example:9090/graph?g0.expr=up+%3D%3D+0",
        "fingerprint": fp,
    }


def payload(*alerts: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": "4",
        "groupKey": '{}:{alertname="InstanceDown"}',
        "truncatedAlerts": 0,
        "status": alerts[0]["status"] if alerts else "firing",
        "receiver": "nfvo",
        "groupLabels": {"alertname": "InstanceDown"},
        "commonLabels": {"alertname": "InstanceDown"},
        "commonAnnotations": {"summary": "instance down for 5 minutes"},
        "externalURL": "http://alertmanager.example:9093",
        "alerts": list(alerts),
    }


def _post(c: httpx.Client, body: Any) -> dict[str, Any]:
    r = c.post(URL, json=body)
    assert r.status_code == 200, r.text
    return r.json()


def test_firing_repeated_then_resolved_is_one_raise_and_one_clear(world: World) -> None:
    """Acceptance 4 (the webhook's part): one fault raised for a server of an NS, none for
    the repeats, one clear on resolve; another tenant's NS in the same group is skipped."""
    a, fp, other = world.clients["operator@A"], _fp(), _fp()
    mine = alert("firing", fp, server_id=world.server["A"], vim_account_id=world.vim)
    theirs = alert("firing", other, ns_instance_id=world.ns["B"])
    first = _post(a, payload(mine, theirs))
    assert first == {
        "accepted": 1,
        "raised": 1,
        "cleared": 0,
        "skipped": [{"fingerprint": other, "reason": "unknown_resource"}],
    }
    for _ in range(3):  # Alertmanager's repeat_interval
        assert _post(a, payload(mine, theirs))["raised"] == 0
    resolved = {**mine, "status": "resolved", "endsAt": "2026-12-03T18:20:00Z"}
    assert _post(a, payload(resolved))["cleared"] == 1
    world.settle()
    events = world.recorder.of(fp)
    assert [e.severity for e in events] == [Severity.CRITICAL, Severity.CLEARED]
    assert {e.resource for e in events} == {
        Resource(ResourceKind.SERVER, world.server["A"], world.vim)
    }
    assert events[0].probable_cause == "InstanceDown" and events[0].source == "alertmanager"
    assert world.recorder.of(other) == []
    # a resolve never seen firing changes nothing
    assert _post(a, payload(resolved))["cleared"] == 0


def test_a_global_admin_raises_on_any_tenant_and_on_hosts(world: World) -> None:
    fp_ns, fp_host = _fp(), _fp()
    theirs = alert("firing", fp_ns, ns_instance_id=world.ns["B"])
    host = alert("firing", fp_host, nodename=world.host, vim_account_id=world.vim)
    # a tenant's operator may not raise faults on a shared VIM's host
    out = _post(world.clients["operator@A"], payload(host))
    assert out["skipped"] == [{"fingerprint": fp_host, "reason": "unknown_resource"}]
    out = _post(world.clients["admin"], payload(theirs, host))
    assert (out["accepted"], out["raised"], out["skipped"]) == (2, 2, [])
    world.settle()
    assert [e.resource for e in world.recorder.of(fp_ns)] == [
        Resource(ResourceKind.NS, world.ns["B"])
    ]
    assert [e.resource for e in world.recorder.of(fp_host)] == [
        Resource(ResourceKind.HOST, world.host, world.vim)
    ]


def test_callers_without_a_token_or_the_role_are_refused(world: World) -> None:
    fp = _fp()
    body = payload(alert("firing", fp, ns_instance_id=world.ns["A"]))
    r = httpx.post(world.live.base_url + URL, json=body)
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    assert r.headers["content-type"].startswith("application/problem+json")
    r = world.clients["reader@A"].post(URL, json=body)
    assert r.status_code == 403 and "operator" in r.json()["detail"]
    world.settle()
    assert world.recorder.of(fp) == []


@pytest.mark.parametrize(
    ("mutate", "status", "field"),
    [
        (lambda p: p["alerts"][1].update(status="pending"), 422, "alerts[1].status"),
        (lambda p: p.update(version="3"), 422, "version"),
        (lambda p: p["alerts"][1].update(startsAt="not a date"), 422, "alerts[1].startsAt"),
        (lambda p: p["alerts"][1]["labels"].update(n=5), 400, "alerts[1].labels.n"),
        (lambda p: p.update(alerts=[p["alerts"][0]] * 1001), 400, "alerts"),
    ],
)
def test_a_malformed_payload_names_the_field_and_applies_nothing(
    world: World, mutate: Any, status: int, field: str
) -> None:
    good = alert("firing", _fp(), ns_instance_id=world.ns["A"])
    body = payload(good, alert("firing", _fp(), ns_instance_id=world.ns["A"]))
    mutate(body)
    r = world.clients["operator@A"].post(URL, json=body)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == field and field in r.json()["detail"]
    # the good alert before the bad one was not applied: it raises now, once
    assert _post(world.clients["operator@A"], payload(good))["raised"] == 1
    world.settle()
    assert len(world.recorder.of(good["fingerprint"])) == 1


def test_not_json_is_a_400(world: World) -> None:
    r = world.clients["operator@A"].post(
        URL, content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400, r.text


def test_without_a_running_monitor_alerts_are_a_503_and_not_remembered(world: World) -> None:
    services = world.live.services
    kept, services.monitor = services.monitor, None
    fp = _fp()
    body = payload(alert("firing", fp, ns_instance_id=world.ns["A"]))
    try:
        r = world.clients["operator@A"].post(URL, json=body)
        assert r.status_code == 503 and r.json()["status"] == 503, r.text
    finally:
        services.monitor = kept
    assert _post(world.clients["operator@A"], body)["raised"] == 1
    world.settle()
    assert len(world.recorder.of(fp)) == 1


def test_answers_quickly_for_a_full_group(world: World) -> None:
    """A group at the alert bound, all on one NS, is answered well within a second or so
    (the resource is looked up once per payload)."""
    fps = [_fp() for _ in range(1000)]
    alerts = [alert("firing", fp, ns_instance_id=world.ns["A"]) for fp in fps]
    started = time.monotonic()
    out = _post(world.clients["operator@A"], payload(*alerts))
    assert out["raised"] == 1000
    assert time.monotonic() - started < 10  # loose ceiling
    world.settle()
    assert sum(len(world.recorder.of(fp)) for fp in fps) == 1000
