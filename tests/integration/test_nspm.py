"""nspm/v2 on a live server (SQLite and PostgreSQL) with a real HTTP receiver on loopback:
PM job reports and their notifications, threshold crossings, PATCH, DELETE, refusals.

Samples go to the process's monitoring hub (``Services.monitor``)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from tests.integration.test_notifications import Subscriber, _basic, _start_subscriber
from tests.support import etsi_openapi
from tests.support.live import LiveApi

from nfvo.inventory.models import NsInstance
from nfvo.monitoring.model import Resource, Sample

JOBS = "/nspm/v2/pm_jobs"
THRESHOLDS = "/nspm/v2/thresholds"


def check(r: httpx.Response) -> httpx.Response:
    """``r`` matches the ETSI nspm document (with the repairs docs/nspm.md lists)."""
    if etsi_openapi.etsi_available():
        etsi_openapi.validate_http_response("nspm", r)
    return r


def check_note(body: dict[str, Any]) -> None:
    if etsi_openapi.etsi_available():
        api = etsi_openapi.get_api("NSPerformanceManagementNotification")
        path = "/URI_is_provided_by_the_client_when_creating_the_subscription-"
        api.validate_request(path + body["notificationType"], "POST", body)


@pytest.fixture
def subscriber() -> Iterator[Subscriber]:
    """A notification receiver on loopback (answers 204; scripted per path)."""
    sub = _start_subscriber()
    yield sub
    sub.server.shutdown()
    sub.server.server_close()


@pytest.fixture
def pm(live: LiveApi) -> Iterator[tuple[LiveApi, Callable[[str, str, float], None]]]:
    """The live server with fast delivery and a way to feed one sample of an NS metric."""
    svc = live.services
    policy = svc.notifications.policy  # type: ignore[union-attr]
    policy.poll_interval, policy.base_delay, policy.timeout = 0.05, 0.05, 2.0
    hub = svc.monitor
    assert hub is not None, "the runtime runs the monitoring hub"

    def feed(ns_id: str, metric: str, value: float) -> None:
        res = Resource.parse(f"ns:{ns_id}")
        hub.samples([Sample(res, metric, value, time.time())])

    yield live, feed


def make_ns(live: LiveApi, tenant: str | None = None) -> str:
    ns_id = str(uuid.uuid4())
    with live.services.db.session() as s:
        s.add(
            NsInstance(
                id=ns_id,
                tenant_id=tenant,
                nsd_info_id=str(uuid.uuid4()),
                nsd_id="nsd",
                name="ns",
                ns_state="INSTANTIATED",
                scale_status={},
            )
        )
    return ns_id


def job(ns_id: str, callback: str, coll: int = 1, rep: int = 3, **extra: Any) -> dict[str, Any]:
    return {
        "objectType": "NsInstance",
        "objectInstanceIds": [ns_id],
        "criteria": {
            "performanceMetric": ["ByteIncoming"],
            "collectionPeriod": coll,
            "reportingPeriod": rep,
        },
        "callbackUri": callback,
        **extra,
    }


def feeding(feed: Callable[[str, str, float], None], ns_id: str) -> threading.Event:
    """Feed a sample of 100 every 0.2 s until the returned event is set."""
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(0.2):
            feed(ns_id, "byte_incoming", 100.0)

    threading.Thread(target=run, daemon=True).start()
    return stop


def test_job_reports_arrive_with_values_patch_moves_them_delete_stops_them(
    pm: tuple[LiveApi, Callable[[str, str, float], None]], subscriber: Subscriber
) -> None:
    live, feed = pm
    c, ns_id = live.client, make_ns(live)
    stop = feeding(feed, ns_id)
    try:
        auth = {"authType": ["BASIC"], "paramsBasic": {"userName": "pm", "password": "pw"}}
        r = check(c.post(JOBS, json=job(ns_id, f"{subscriber.url}/pm", authentication=auth)))
        assert r.status_code == 201, r.text
        body = r.json()
        assert r.headers["Location"] == body["_links"]["self"]["href"]
        assert "authentication" not in body and body["criteria"]["reportingPeriod"] == 3
        job_id = body["id"]
        # the job's hidden subscription row is no nslcm subscription
        assert c.get("/nslcm/v2/subscriptions").json() == []
        notes = subscriber.wait_for("/pm", 2, timeout=15)
        first, second = notes[0]["body"], notes[1]["body"]
        check_note(first)
        assert notes[0]["headers"]["Authorization"] == _basic("pm", "pw")
        assert first["notificationType"] == "PerformanceInformationAvailableNotification"
        assert first["pmJobId"] == job_id and first["objectInstanceId"] == ns_id
        assert "subscriptionId" not in first and "subscription" not in first["_links"]
        assert first["_links"]["pmJob"]["href"].endswith(f"{JOBS}/{job_id}")
        gap = _epoch(second["timeStamp"]) - _epoch(first["timeStamp"])
        assert 2.0 <= gap <= 4.5, gap  # one reportingPeriod (3 s) apart
        report = check(c.get(second["_links"]["performanceReport"]["href"]))
        assert report.status_code == 200, report.text
        (entry,) = report.json()["entries"]
        assert entry["performanceMetric"] == "ByteIncoming"
        assert entry["objectInstanceId"] == ns_id
        assert [v["value"] for v in entry["performanceValues"]] == [100.0] * 3
        listed = check(c.get(JOBS, params={"filter": "(eq,objectType,NsInstance)"})).json()
        assert [j["id"] for j in listed] == [job_id] and "reports" not in listed[0]
        got = check(c.get(f"{JOBS}/{job_id}")).json()
        assert len(got["reports"]) >= 2
        assert all(_epoch(r["readyTime"]) > 0 and "+" not in r["readyTime"] for r in got["reports"])
        assert all(r["readyTime"].endswith("Z") for r in got["reports"])
        # PATCH: the next reports go to the new callback (tested first with a GET)
        r = c.patch(
            f"{JOBS}/{job_id}",
            json={"callbackUri": f"{subscriber.url}/pm2"},
            headers={"Content-Type": "application/merge-patch+json"},
        )
        assert r.status_code == 200 and r.json() == {"callbackUri": f"{subscriber.url}/pm2"}
        assert "/pm2" in subscriber.gets
        subscriber.wait_for("/pm2", 1, timeout=10)
        assert c.delete(f"{JOBS}/{job_id}").status_code == 204
        time.sleep(0.5)  # a delivery already claimed may still land
        count = len(subscriber.received("/pm2"))
        time.sleep(4)  # more than a reporting period
        assert len(subscriber.received("/pm2")) == count
        assert c.get(f"{JOBS}/{job_id}").status_code == 404
    finally:
        stop.set()


def _epoch(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def test_threshold_crosses_up_once_and_down_once(
    pm: tuple[LiveApi, Callable[[str, str, float], None]], subscriber: Subscriber
) -> None:
    live, feed = pm
    c, ns_id = live.client, make_ns(live)
    body = {
        "objectType": "NsInstance",
        "objectInstanceId": ns_id,
        "criteria": {
            "performanceMetric": "ByteIncoming",
            "thresholdType": "SIMPLE",
            "simpleThresholdDetails": {"thresholdValue": 80.0, "hysteresis": 5},
        },
        "callbackUri": f"{subscriber.url}/th",
    }
    r = check(c.post(THRESHOLDS, json=body))
    assert r.status_code == 201, r.text
    th = r.json()
    assert th["_links"]["object"]["href"].endswith(f"/nslcm/v2/ns_instances/{ns_id}")
    for v in [70, 79, 86, 82, 78, 74] + [78, 82] * 4:
        feed(ns_id, "byte_incoming", float(v))
        time.sleep(0.4)  # the reaction time is at most ~0.35 s
    notes = subscriber.wait_for("/th", 2, timeout=10)
    time.sleep(1)
    notes = subscriber.received("/th")
    assert [(n["body"]["crossingDirection"], n["body"]["performanceValue"]) for n in notes] == [
        ("UP", 86.0),
        ("DOWN", 74.0),
    ]
    note = notes[0]["body"]
    check_note(note)
    assert note["notificationType"] == "ThresholdCrossedNotification"
    assert note["thresholdId"] == th["id"] and note["performanceMetric"] == "ByteIncoming"
    assert note["_links"]["threshold"]["href"].endswith(f"/nspm/v2/thresholds/{th['id']}")
    # PATCH authentication, list, DELETE
    auth = {"authType": ["BASIC"], "paramsBasic": {"userName": "u", "password": "p"}}
    r = c.patch(f"{THRESHOLDS}/{th['id']}", json={"authentication": auth})
    assert r.status_code == 200, r.text
    assert [t["id"] for t in check(c.get(THRESHOLDS)).json()] == [th["id"]]
    assert check(c.get(f"{THRESHOLDS}/{th['id']}")).json()["criteria"] == body["criteria"]
    assert c.delete(f"{THRESHOLDS}/{th['id']}").status_code == 204
    assert c.get(f"{THRESHOLDS}/{th['id']}").status_code == 404


def _problem(r: httpx.Response, status: int, field: str | None) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json().get("field") == field, r.json()


def test_refusals_name_the_field_and_store_nothing(
    pm: tuple[LiveApi, Callable[[str, str, float], None]], subscriber: Subscriber
) -> None:
    live, _ = pm
    c, ns_id = live.client, make_ns(live)
    cb = f"{subscriber.url}/x"
    bad_criteria = job(ns_id, cb, coll=10, rep=25)
    _problem(c.post(JOBS, json=bad_criteria), 422, "criteria.reportingPeriod")
    _problem(c.post(JOBS, json=job(ns_id, cb, coll=0)), 422, "criteria.collectionPeriod")
    _problem(c.post(JOBS, json=job(str(uuid.uuid4()), cb)), 422, "objectInstanceIds")
    _problem(c.post(JOBS, json={**job(ns_id, cb), "objectType": "Host"}), 422, "objectType")
    _problem(c.post(JOBS, json={**job(ns_id, cb), "callbackUri": "x"}), 400, "callbackUri")
    subscriber.get_status["/refuses"] = 404
    _problem(c.post(JOBS, json=job(ns_id, f"{subscriber.url}/refuses")), 422, "callbackUri")
    th = {
        "objectType": "NsInstance",
        "objectInstanceId": ns_id,
        "criteria": {
            "performanceMetric": "ByteIncoming",
            "thresholdType": "SIMPLE",
            "simpleThresholdDetails": {"thresholdValue": 80, "hysteresis": 0},
        },
        "callbackUri": cb,
    }
    _problem(c.post(THRESHOLDS, json=th), 422, "criteria.simpleThresholdDetails.hysteresis")
    assert c.get(JOBS).json() == [] and c.get(THRESHOLDS).json() == []
    ok = c.post(JOBS, json=job(ns_id, cb, coll=60, rep=3600))
    assert ok.status_code == 201, ok.text
    r = c.patch(f"{JOBS}/{ok.json()['id']}", json={"criteria": {"collectionPeriod": 1}})
    _problem(r, 400, "criteria")
    # a new callback that fails its test is refused and the old one kept
    r = c.patch(f"{JOBS}/{ok.json()['id']}", json={"callbackUri": f"{subscriber.url}/refuses"})
    _problem(r, 422, "callbackUri")
    assert c.get(f"{JOBS}/{ok.json()['id']}").json()["callbackUri"] == cb
    r = c.patch(f"{JOBS}/{ok.json()['id']}", json={"callbackUri": None})
    _problem(r, 400, "callbackUri")
    r = c.get(f"{JOBS}/{ok.json()['id']}/reports/{uuid.uuid4()}")
    assert r.status_code == 404
