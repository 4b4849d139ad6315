"""Monitoring end to end on a live server, driven only through the API (SQLite and
PostgreSQL): the sim VIM's faults and load curves go through its monitoring source and the
hub to the current-value API and to nsfm alarms delivered to a real subscriber on loopback.

Issue acceptance 1 (first half: a step load followed by the current value within 2 s) and
3 (a host carrying VNFCs of 2 NS goes down: one alarm per NS naming the host, 2
AlarmNotifications; back up: AlarmClearedNotification each; ack twice: 409)."""

from __future__ import annotations

import time

from tests.integration.test_notifications import Subscriber
from tests.integration.test_nsfm import _host_of, check, subscriber, two_ns  # noqa: F401
from tests.support.live import LiveApi

FM = "/nsfm/v1"
SIM = "/admin/v1/vim_accounts/{}/sim"


def test_a_sim_host_down_through_the_api_raises_one_alarm_per_ns(
    two_ns: tuple[LiveApi, str, list[str]],  # noqa: F811
    subscriber: Subscriber,  # noqa: F811
) -> None:
    live, vim_id, ns_ids = two_ns
    c = live.client
    sub = c.post(f"{FM}/subscriptions", json={"callbackUri": f"{subscriber.url}/fm"})
    assert sub.status_code == 201, sub.text
    host = _host_of(live, ns_ids)

    started = time.monotonic()
    r = c.post(SIM.format(vim_id) + "/faults", json={"kind": "HOST_DOWN", "host": host})
    assert r.status_code == 201, r.text
    notes = subscriber.wait_for("/fm", 2, timeout=10)
    took = time.monotonic() - started
    assert took < 4, f"alarms notified {took:.2f} s after the host went down"  # 2 s intended
    print(f"host down -> 2 AlarmNotifications received in {took:.2f} s")  # noqa: T201
    assert [n["body"]["notificationType"] for n in notes] == ["AlarmNotification"] * 2
    alarms = check(c.get(f"{FM}/alarms")).json()
    assert sorted(a["managedObjectId"] for a in alarms) == sorted(ns_ids)
    for a in alarms:
        assert a["rootCauseFaultyResource"]["faultyResource"]["resourceId"] == host
        assert a["perceivedSeverity"] == "CRITICAL" and a["isRootCause"] is True
    time.sleep(1.5)  # further polls of the source see the same state: nothing new
    assert len(subscriber.received("/fm")) == 2, subscriber.received("/fm")

    url = f"{FM}/alarms/{alarms[0]['id']}"
    merge = {"Content-Type": "application/merge-patch+json"}
    assert c.patch(url, json={"ackState": "ACKNOWLEDGED"}, headers=merge).status_code == 200
    again = c.patch(url, json={"ackState": "ACKNOWLEDGED"}, headers=merge)
    assert again.status_code == 409, again.text

    assert c.delete(SIM.format(vim_id) + f"/faults/{r.json()['id']}").status_code == 200
    cleared = [
        n["body"]
        for n in subscriber.wait_for("/fm", 4, timeout=10)
        if n["body"]["notificationType"] == "AlarmClearedNotification"
    ]
    assert sorted(b["alarmId"] for b in cleared) == sorted(a["id"] for a in alarms)
    states = {a["perceivedSeverity"] for a in c.get(f"{FM}/alarms").json()}
    assert states == {"CLEARED"}


def test_the_current_value_follows_a_step_load(
    two_ns: tuple[LiveApi, str, list[str]],  # noqa: F811
) -> None:
    live, vim_id, ns_ids = two_ns
    c = live.client
    metrics = f"/admin/v1/ns_instances/{ns_ids[0]}/metrics"
    vnf = c.get(f"/nslcm/v2/ns_instances/{ns_ids[0]}").json()["vnfInstance"][0]["id"]
    curve = {"pattern": "step", "base": 10, "after": 90, "at_s": 3}
    r = c.put(SIM.format(vim_id) + "/load", json={"target": {"vnfInstanceId": vnf}, "curve": curve})
    assert r.status_code == 200, r.text
    set_at = time.monotonic()

    def cpu_values() -> list[float | None]:
        doc = c.get(metrics).json()
        mine = next(v for v in doc["vnfs"] if v["vnfInstanceId"] == vnf)
        return [x["metrics"]["cpu_utilization"]["last"] for x in mine["vnfcs"]]

    while not all(v == 10 for v in cpu_values()):  # before the step
        assert time.monotonic() - set_at < 3, cpu_values()
        time.sleep(0.05)
    while not all(v == 90 for v in cpu_values()):
        time.sleep(0.05)
        assert time.monotonic() - set_at < 3 + 2, f"the step is not followed: {cpu_values()}"


def test_an_alertmanager_alert_repeated_then_resolved_is_one_alarm(
    two_ns: tuple[LiveApi, str, list[str]],  # noqa: F811
    subscriber: Subscriber,  # noqa: F811
) -> None:
    """Acceptance 4 through the webhook: firing, repeated 3 times, resolved, for a server
    of an NS -> one alarm raised and notified, none duplicated, cleared on resolve."""
    live, vim_id, ns_ids = two_ns
    c = live.client
    assert c.post(f"{FM}/subscriptions", json={"callbackUri": f"{subscriber.url}/fm"}).is_success
    vnfc = c.get(f"/nslcm/v2/ns_instances/{ns_ids[0]}").json()["vnfInstance"][0]
    server = vnfc["instantiatedVnfInfo"]["vnfcResourceInfo"][0]["computeResource"]["resourceId"]
    fp = "4f2a9c1d7e8b6a50"
    labels = {"alertname": "InstanceDown", "severity": "critical"}
    firing = {
        "status": "firing",
        "labels": {**labels, "server_id": server, "vim_account_id": vim_id},
        "annotations": {"summary": "instance down for 5 minutes"},
        "startsAt": "2026-12-03T18:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.example:9090/graph",
        "fingerprint": fp,
    }

    def post(alert: dict[str, object]) -> None:
        body = {
            "version": "4",
            "groupKey": '{}:{alertname="InstanceDown"}',
            "status": alert["status"],
            "receiver": "nfvo",
            "groupLabels": {"alertname": "InstanceDown"},
            "commonLabels": labels,
            "commonAnnotations": {},
            "externalURL": "http://alertmanager.example:9093",
            "alerts": [alert],
        }
        r = c.post("/monitoring/v1/alertmanager", json=body)
        assert r.status_code == 200, r.text

    for _ in range(4):  # firing, then Alertmanager's three repeats
        post(firing)
    [note] = subscriber.wait_for("/fm", 1, timeout=10)
    assert note["body"]["alarm"]["managedObjectId"] == ns_ids[0]
    alarms = c.get(f"{FM}/alarms").json()
    assert len(alarms) == 1 and alarms[0]["perceivedSeverity"] == "CRITICAL"
    post({**firing, "status": "resolved", "endsAt": "2026-12-03T18:20:00Z"})
    notes = subscriber.wait_for("/fm", 2, timeout=10)
    assert [n["body"]["notificationType"] for n in notes] == [
        "AlarmNotification",
        "AlarmClearedNotification",
    ]
    [after] = c.get(f"{FM}/alarms").json()
    assert after["perceivedSeverity"] == "CLEARED" and after["id"] == alarms[0]["id"]
