"""The RCA API on a live server (SQLite and PostgreSQL): templates listed, added (YAML or
JSON), refused with the field named, deleted; the causal graph of an nsfm alarm, tenant
scoped; VNF alarms from a VNFM through the SOL003 VNF FM callback."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
from tests.support.live import LiveApi
from tests.unit.policy.rca.fakegraph import FakeGraph, World

from nfvo.monitoring.fm import FaultManager
from nfvo.monitoring.model import FaultEvent, FaultKind, Resource, ResourceKind, Severity
from nfvo.policy.rca.engine import RcaEngine

T = "/admin/v1/rca_templates"
CUSTOM = """
metadata: {version: 3, name: maintenance, description: planned work is no outage}
entities:
  a: {category: ALARM, type: HOST_DOWN}
  m: {category: ALARM, type: ALERT}
  host: {category: RESOURCE, type: host}
scenarios:
  - condition: a [on] host AND NOT m [on] host
    actions:
      - set_state: {target: host, state: UNPLANNED_OUTAGE}
"""
YAML = {"Content-Type": "application/yaml"}


def _user(live: LiveApi, tenant: str | None, role: str = "reader") -> httpx.Client:
    cid = f"u-{uuid.uuid4().hex[:8]}"
    body: dict[str, Any] = {"clientId": cid, "clientSecret": "secret-123456", "role": role}
    if tenant:
        body["tenantId"] = tenant
    assert live.client.post("/admin/v1/users", json=body).status_code == 201
    return live.client_for(cid, "secret-123456")


def test_templates_crud(live: LiveApi) -> None:
    c = live.client
    listed = c.get(T).json()
    assert [t["name"] for t in listed] == [
        "host_down", "vim_unreachable", "virtual_link_down", "vnf_alarm"
    ]  # fmt: skip
    assert all(t["builtin"] for t in listed)
    r = c.post(T, content=CUSTOM, headers=YAML)
    assert r.status_code == 201, r.text
    assert r.headers["Location"].endswith(f"{T}/maintenance")
    body = r.json()
    assert not body["builtin"] and body["scenarios"][0]["actions"] == ["set_state"]
    assert c.get(f"{T}/maintenance").json()["template"] == CUSTOM
    assert c.post(T, content=CUSTOM, headers=YAML).status_code == 409
    builtin_name = CUSTOM.replace("name: maintenance", "name: host_down")
    assert c.post(T, content=builtin_name, headers=YAML).status_code == 409
    broken = c.post(T, content=CUSTOM.replace("target: host", "target: hos"), headers=YAML)
    assert broken.status_code == 422
    assert broken.json()["field"] == "scenarios[0].actions[0].set_state.target"
    assert "'hos' is not a declared entity" in broken.json()["detail"]
    as_json = {
        "metadata": {"version": 3, "name": "json-one"},
        "entities": {
            "a": {"category": "ALARM", "type": "VIM_UNREACHABLE"},
            "vim": {"category": "RESOURCE", "type": "vim"},
        },
        "scenarios": [{"condition": "a [on] vim", "actions": [{"mark_down": {"target": "vim"}}]}],
    }
    assert c.post(T, json=as_json).status_code == 201
    assert len(c.get(T).json()) == 6
    assert c.delete(f"{T}/host_down").status_code == 409
    assert c.delete(f"{T}/json-one").status_code == 204
    assert c.get(f"{T}/json-one").status_code == 404
    assert c.delete(f"{T}/json-one").status_code == 404
    assert c.get("/admin/v1/rca").status_code == 400


def test_the_rca_view_is_tenant_scoped(live: LiveApi) -> None:
    db = live.services.db
    w = World(db, FakeGraph(), vim="vim-rca")
    ns_a, ns_b = str(uuid.uuid4()), str(uuid.uuid4())
    w.vnfcs("h1", ns_a, "vnf-a", 2, tenant="t-a")
    w.vnfcs("h1", ns_b, "vnf-b", 1, tenant="t-b")
    engine = RcaEngine(db, w.graph, FaultManager(db))
    running = live.services.rca  # the runtime's own: put back below, so that its stop stops it
    live.services.rca = engine  # as the runtime wires it
    try:
        _tenant_scoped_view(live, engine, w, ns_a)
    finally:
        live.services.rca = running


def _tenant_scoped_view(live: LiveApi, engine: RcaEngine, w: World, ns_a: str) -> None:
    engine.handle(
        FaultEvent(
            Resource(ResourceKind.HOST, "h1", "vim-rca"), FaultKind.HOST_DOWN,
            Severity.CRITICAL, time.time(), "sim",
        )
    )  # fmt: skip
    alarms = live.client.get("/nsfm/v1/alarms").json()
    mine = next(a for a in alarms if a["managedObjectId"] == ns_a)
    r = live.client.get("/admin/v1/rca", params={"alarmId": mine["id"]})
    assert r.status_code == 200, r.text
    view = r.json()
    assert view["inspectedIndex"] == 0 and view["nodes"][0]["isRootCause"]
    assert view["nodes"][0]["resource"]["state"] == "ERROR"
    assert len(view["nodes"]) == 4 and len(view["links"]) == 3
    a, b = _user(live, "t-a"), _user(live, "t-b")
    scoped = a.get("/admin/v1/rca", params={"alarmId": mine["id"]}).json()
    assert len(scoped["nodes"]) == 3  # t-b's server is not shown
    assert b.get("/admin/v1/rca", params={"alarmId": mine["id"]}).status_code == 404
    # a custom template posted through the API is used at once by this process's engine
    assert live.client.post(T, content=CUSTOM, headers=YAML).status_code == 201
    assert any(t.name == "maintenance" for t in engine.evaluator.templates)
    assert w.graph.g.nodes["host:vim-rca:h1"]["state"] == "UNPLANNED_OUTAGE"


def _wait_alarms(c: httpx.Client, n: int, **flt: str) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 10
    while True:
        got = c.get("/nsfm/v1/alarms").json()
        got = [a for a in got if all(a.get(k) == v for k, v in flt.items())]
        if len(got) >= n or time.monotonic() > deadline:
            return got
        time.sleep(0.05)


def test_vnf_alarms_from_a_vnfm(live: LiveApi) -> None:
    c = live.client
    w = World(live.services.db, FakeGraph(), vim="vim-vnfm")
    ns_id = str(uuid.uuid4())
    w.vnfcs("h1", ns_id, "vnf-x", 1, tenant="t-x")
    url = "/monitoring/v1/vnffm/notifications"
    assert c.get(url).status_code == 204  # the VNFM's callback test
    note = {
        "id": str(uuid.uuid4()),
        "notificationType": "AlarmNotification",
        "subscriptionId": "s1",
        "timeStamp": "2026-12-04T10:00:00Z",
        "alarm": {
            "id": "vnfm-alarm-1",
            "managedObjectId": "vnf-x",
            "alarmRaisedTime": "2026-12-04T10:00:00Z",
            "ackState": "UNACKNOWLEDGED",
            "perceivedSeverity": "MAJOR",
            "eventTime": "2026-12-04T10:00:00Z",
            "eventType": "COMMUNICATIONS_ALARM",
            "probableCause": "link to peer lost",
            "isRootCause": True,
            "faultDetails": ["peer=10.0.0.2"],
        },
        "_links": {"subscription": {"href": "http://vnfm/s1"}},
    }
    assert c.post(url, json=note).status_code == 204
    assert c.post(url, json=note).status_code == 204  # re-delivered: nothing new
    (alarm,) = _wait_alarms(c, 1, managedObjectId=ns_id)
    assert alarm["faultType"] == "VNF_ALARM" and alarm["eventType"] == "COMMUNICATIONS_ALARM"
    assert alarm["probableCause"] == "link to peer lost"
    assert alarm["rootCauseFaultyComponent"] == {"faultyVnfInstanceId": "vnf-x"}
    # another tenant's operator can neither raise on this VNF nor clear its alarm
    other = _user(live, _tenant(live), "operator")
    r = other.post(url, json=note)
    assert r.status_code == 400 and r.json()["field"] == "alarm.managedObjectId"
    cleared = {
        "id": str(uuid.uuid4()),
        "notificationType": "AlarmClearedNotification",
        "alarmId": "vnfm-alarm-1",
        "alarmClearedTime": "2026-12-04T10:05:00Z",
    }
    assert other.post(url, json=cleared).status_code == 204  # not its alarm: nothing
    time.sleep(0.3)
    assert c.get(f"/nsfm/v1/alarms/{alarm['id']}").json()["perceivedSeverity"] == "MAJOR"
    assert c.post(url, json=cleared).status_code == 204
    deadline = time.monotonic() + 10
    while c.get(f"/nsfm/v1/alarms/{alarm['id']}").json()["perceivedSeverity"] != "CLEARED":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    bad = dict(note, alarm=dict(note["alarm"], managedObjectId="no-such-vnf"))
    assert c.post(url, json=bad).status_code == 400
    assert c.post(url, json={"notificationType": "Nope"}).json()["field"] == "notificationType"
    late = dict(note, alarm=dict(note["alarm"], eventTime="yesterday"))
    assert c.post(url, json=late).status_code == 422


def _tenant(live: LiveApi) -> str:
    r = live.client.post("/admin/v1/tenants", json={"name": f"t-{uuid.uuid4().hex[:6]}"})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_the_rca_view_without_an_engine_is_the_alarms_correlation(live: LiveApi) -> None:
    c = live.client
    assert c.get("/admin/v1/rca", params={"alarmId": "no-such-alarm"}).status_code == 404
    w = World(live.services.db, FakeGraph(), vim="vim-none")
    ns_id = str(uuid.uuid4())
    w.vnfcs("h1", ns_id, "vnf-n", 1, tenant="t-n")
    event = FaultEvent(Resource(ResourceKind.NS, ns_id), FaultKind.ALERT, Severity.MAJOR, 0.0, "t")
    (alarm_id,) = FaultManager(live.services.db).handle(event).raised
    view = c.get("/admin/v1/rca", params={"alarmId": alarm_id}).json()
    assert view["inspectedIndex"] == 0 and view["links"] == []
    assert [n["nsfmAlarmId"] for n in view["nodes"]] == [alarm_id]
    assert view["nodes"][0]["isRootCause"] and not view["nodes"][0]["cleared"]
    other = _user(live, _tenant(live))
    assert other.get("/admin/v1/rca", params={"alarmId": alarm_id}).status_code == 404
    assert _user(live, "t-n").get("/admin/v1/rca", params={"alarmId": alarm_id}).status_code == 200
