"""nspm: threshold crossing with hysteresis, PM job checks, and the report scheduler on a
fake clock over a stand-in for the monitoring hub (the pinned ``stat``/``current``)."""

from __future__ import annotations

import bisect
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from nfvo.errors import BadRequest, NfvoError, UnprocessableEntity
from nfvo.inventory.db import Database
from nfvo.inventory.models import NotificationDelivery, NsInstance, NsVnf
from nfvo.inventory.pm_repo import PmJobRow, PmReportRow, ThresholdRow
from nfvo.monitoring.model import Resource
from nfvo.monitoring.pm import JOB, PmLimits, PmService, crossing, min_hysteresis
from nfvo.notifications.service import NotificationService
from nfvo.resources.vault import Vault

T0 = 1_700_000_000.0


@dataclass(frozen=True)
class FakeStat:
    count: int
    mean: float | None
    last: float | None
    last_at: float | None


class FakeHub:
    """Samples per (resource, metric); ``stat`` over [since, until), ``current`` = newest."""

    def __init__(self) -> None:
        self.series: dict[tuple[str, str], list[tuple[float, float]]] = {}
        self.reads: list[tuple[str, str, float, float]] = []

    def add(self, res: Resource, metric: str, at: float, value: float) -> None:
        bisect.insort(self.series.setdefault((res.key, metric), []), (at, value))

    def stat(self, resource: Resource, metric: str, since: float, until: float) -> FakeStat:
        self.reads.append((resource.key, metric, since, until))
        pts = [v for t, v in self.series.get((resource.key, metric), []) if since <= t < until]
        if not pts:
            return FakeStat(0, None, None, None)
        return FakeStat(len(pts), sum(pts) / len(pts), pts[-1], None)

    def current(self, resource: Resource, metric: str, window_s: float | None = None) -> FakeStat:
        pts = self.series.get((resource.key, metric), [])
        if not pts:
            return FakeStat(0, None, None, None)
        return FakeStat(len(pts), None, pts[-1][1], pts[-1][0])


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def db(tmp_path: Any) -> Iterator[Database]:
    d = Database(f"sqlite:///{tmp_path / 'pm.db'}")
    d.migrate()
    yield d
    d.dispose()


def make_ns(db: Database, tenant: str | None = None) -> tuple[str, str]:
    ns_id, vnf_id = str(uuid.uuid4()), str(uuid.uuid4())
    with db.session() as s:
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
        s.flush()
        s.add(
            NsVnf(
                id=vnf_id,
                ns_instance_id=ns_id,
                seq=0,
                vnf_profile_id="p",
                vnfd_id="vnfd",
                flavour_id="default",
                vim_account_id=str(uuid.uuid4()),
                spec={},
                instantiated=True,
                scale_levels={},
            )
        )
    return ns_id, vnf_id


def service(db: Database, hub: FakeHub | None, clock: Clock) -> PmService:
    notes = NotificationService(db, Vault(Fernet.generate_key()))
    notes.test_callback = lambda *a, **k: None  # type: ignore[method-assign] - no receiver
    return PmService(db, notes, hub, clock=clock)


def job_body(vnf_id: str, coll: int = 10, rep: int = 60, **criteria: Any) -> dict[str, Any]:
    return {
        "objectType": "VnfInstance",
        "objectInstanceIds": [vnf_id],
        "criteria": {
            "performanceMetric": ["VCpuUsageMeanVnf"],
            "collectionPeriod": coll,
            "reportingPeriod": rep,
            **criteria,
        },
        "callbackUri": "http://127.0.0.1:9/cb",
    }


def deliveries(db: Database) -> list[dict[str, Any]]:
    with db.session() as s:
        rows = s.scalars(select(NotificationDelivery).order_by(NotificationDelivery.created_at))
        return [r.notification for r in rows]


def reports(db: Database, job_id: str) -> list[PmReportRow]:
    with db.session() as s:
        q = select(PmReportRow).where(PmReportRow.pm_job_id == job_id).order_by(PmReportRow.period)
        out = list(s.scalars(q))
        s.expunge_all()
        return out


def run(pm: PmService, hub: FakeHub, clock: Clock, res: Resource, seconds: int) -> list[float]:
    """Advance the clock 1 s at a time feeding one sample a second (value = seconds since
    T0) and ticking; the times at which a new report appeared."""
    made: list[float] = []
    for _ in range(seconds):
        clock.now += 1
        hub.add(res, "v_cpu_usage_mean_vnf", clock.now - 0.2, clock.now - T0)
        before = pm.db.session
        with before() as s:
            n = s.scalar(select(func.count()).select_from(PmReportRow))
        pm.tick()
        with before() as s:
            if s.scalar(select(func.count()).select_from(PmReportRow)) != n:
                made.append(clock.now - T0)
    return made


# --------------------------------------------------------------------------- crossing


def _crossings(values: list[float], state: str | None = None) -> list[str]:
    out = []
    for v in values:
        c = crossing(v, 80.0, 5.0, state)
        if c:
            out.append(c)
            state = c
    return out


def test_acceptance_sequences_cross_once_each_way() -> None:
    assert _crossings([70, 79, 86]) == ["UP"]
    assert _crossings([70, 79, 86, 82, 78, 74]) == ["UP", "DOWN"]
    assert _crossings([82, 78, 74], state="UP") == ["DOWN"]


def test_oscillation_inside_the_hysteresis_never_crosses() -> None:
    assert _crossings([78, 82] * 50) == []
    assert _crossings([86] + [78, 82] * 50) == ["UP"]  # no DOWN while above 75
    assert crossing(85.0, 80.0, 5.0, None) == "UP"  # reaching threshold + hysteresis counts
    assert crossing(75.0, 80.0, 5.0, "UP") == "DOWN"


def test_threshold_notifies_once_per_crossing_through_the_outbox(db: Database) -> None:
    clock, hub = Clock(), FakeHub()
    pm = service(db, hub, clock)
    ns, _ = make_ns(db)
    body = {
        "objectType": "NsInstance",
        "objectInstanceId": ns,
        "criteria": {
            "performanceMetric": "ByteIncoming",
            "thresholdType": "SIMPLE",
            "simpleThresholdDetails": {"thresholdValue": 80, "hysteresis": 5},
        },
        "callbackUri": "http://127.0.0.1:9/th",
    }
    th = pm.create_threshold(body, None)
    res = Resource.parse(f"ns:{ns}")
    for v in [70, 79, 86, 82, 78, 74] + [78, 82] * 5:
        clock.now += 1
        hub.add(res, "byte_incoming", clock.now, v)
        pm.tick()
        pm.tick()  # the same sample twice changes nothing
    notes = [n for n in deliveries(db) if n["notificationType"] == "ThresholdCrossedNotification"]
    assert [(n["crossingDirection"], n["performanceValue"]) for n in notes] == [
        ("UP", 86),
        ("DOWN", 74),
    ]
    assert notes[0]["thresholdId"] == th.id and notes[0]["objectInstanceId"] == ns
    assert notes[0]["_links"]["threshold"]["href"] == f"/nspm/v2/thresholds/{th.id}"
    # a second process with its own memory notifies nothing more for the same samples
    service(db, hub, clock).tick()
    assert len(deliveries(db)) == 2


def test_hysteresis_below_the_minimum_is_refused(db: Database) -> None:
    pm = service(db, FakeHub(), Clock())
    ns, _ = make_ns(db)
    assert min_hysteresis(80, PmLimits()) == pytest.approx(0.4)
    body = {
        "objectType": "NsInstance",
        "objectInstanceId": ns,
        "criteria": {
            "performanceMetric": "ByteIncoming",
            "thresholdType": "SIMPLE",
            "simpleThresholdDetails": {"thresholdValue": 80.5, "hysteresis": 0.1},
        },
        "callbackUri": "http://127.0.0.1:9/th",
    }
    with pytest.raises(UnprocessableEntity) as err:
        pm.create_threshold(body, None)
    assert err.value.extra["field"] == "criteria.simpleThresholdDetails.hysteresis"
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(ThresholdRow)) == 0


# --------------------------------------------------------------------------- checks


@pytest.mark.parametrize(
    ("criteria", "status", "field"),
    [
        ({"collectionPeriod": 0}, 422, "criteria.collectionPeriod"),
        ({"reportingPeriod": 65}, 422, "criteria.reportingPeriod"),
        ({"reportingPeriod": 172800}, 422, "criteria.reportingPeriod"),
        ({"collectionPeriod": "10"}, 400, "criteria.collectionPeriod"),
        ({"performanceMetric": ["NoSuchMetric"]}, 422, "criteria.performanceMetric"),
        ({"performanceMetric": []}, 400, "criteria.performanceMetric"),
        ({"performanceMetric": ["VCpuUsageMeanVnf"] * 101}, 400, "criteria.performanceMetric"),
        ({"performanceMetricGroup": ["Nope"]}, 422, "criteria.performanceMetricGroup"),
        ({"reportingBoundary": "tomorrow"}, 400, "criteria.reportingBoundary"),
    ],
)
def test_job_criteria_are_checked(
    db: Database, criteria: dict[str, Any], status: int, field: str
) -> None:
    pm = service(db, FakeHub(), Clock())
    _, vnf = make_ns(db)
    body = job_body(vnf)
    body["criteria"].update(criteria)
    with pytest.raises(NfvoError) as err:
        pm.create_job(body, None)
    assert (err.value.status, err.value.extra.get("field")) == (status, field)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(PmJobRow)) == 0


def test_another_tenants_instance_is_refused_as_an_unknown_one(db: Database) -> None:
    pm = service(db, FakeHub(), Clock())
    _, vnf_b = make_ns(db, tenant="tenant-b")
    answers = []
    for vnf in (vnf_b, str(uuid.uuid4())):
        with pytest.raises(UnprocessableEntity) as err:
            pm.create_job(job_body(vnf), "tenant-a")
        answers.append((err.value.extra["field"], err.value.detail.replace(vnf, "<id>")))
    assert answers[0] == answers[1] and answers[0][0] == "objectInstanceIds"
    assert pm.create_job(job_body(vnf_b), "tenant-b").tenant_id == "tenant-b"
    with pytest.raises(BadRequest):
        pm.create_job({**job_body(vnf_b), "callbackUri": "ftp://x"}, "tenant-b")


# --------------------------------------------------------------------------- scheduler


def test_10s_collection_60s_reporting_gives_a_report_a_minute_with_6_values(
    db: Database,
) -> None:
    clock, hub = Clock(), FakeHub()
    pm = service(db, hub, clock)
    _, vnf = make_ns(db)
    job = pm.create_job(job_body(vnf), None)
    made = run(pm, hub, clock, Resource.parse(f"vnf:{vnf}"), 190)
    assert made == [61, 121, 181]  # period end + the 0.5 s settle, on 1 s ticks
    got = reports(db, job.id)
    assert [r.period for r in got] == [0, 1, 2]
    for r in got:
        (entry,) = r.entries
        assert entry["performanceMetric"] == "VCpuUsageMeanVnf"
        assert entry["objectInstanceId"] == vnf
        assert len(entry["performanceValues"]) == 6
    # the first collection period [T0, T0+10) holds the samples at 0.8 .. 9.8 s: values 1..10
    first = got[0].entries[0]["performanceValues"][0]
    assert first["value"] == pytest.approx(5.5)
    assert first["timeStamp"].endswith("Z")
    notes = deliveries(db)
    assert len(notes) == 3
    for note, r in zip(notes, got, strict=True):
        assert note["notificationType"] == "PerformanceInformationAvailableNotification"
        assert note["pmJobId"] == job.id and note["objectInstanceId"] == vnf
        assert note["_links"]["performanceReport"]["href"].endswith(f"/reports/{r.id}")


def test_no_data_is_an_absent_value_never_zero(db: Database) -> None:
    clock, hub = Clock(), FakeHub()
    pm = service(db, hub, clock)
    _, vnf = make_ns(db)
    job = pm.create_job(job_body(vnf), None)
    res = Resource.parse(f"vnf:{vnf}")
    for _ in range(62):
        clock.now += 1
        if 21 <= clock.now - T0 <= 40:  # samples at 20.5 .. 39.5 s: 3rd and 4th periods
            hub.add(res, "v_cpu_usage_mean_vnf", clock.now - 0.5, 50.0)
        pm.tick()
    (r,) = reports(db, job.id)
    values = r.entries[0]["performanceValues"]
    assert [v["value"] for v in values] == [50.0, 50.0]


def test_job_stops_at_its_reporting_boundary(db: Database) -> None:
    clock, hub = Clock(), FakeHub()
    pm = service(db, hub, clock)
    _, vnf = make_ns(db)
    from datetime import UTC, datetime

    boundary = datetime.fromtimestamp(T0 + 130, UTC).isoformat()
    job = pm.create_job(job_body(vnf, reportingBoundary=boundary), None)
    run(pm, hub, clock, Resource.parse(f"vnf:{vnf}"), 300)
    assert [r.period for r in reports(db, job.id)] == [0, 1]
    assert len(deliveries(db)) == 2
    with db.session() as s:
        assert s.get(PmJobRow, job.id).finished
    reads = len(hub.reads)
    run(pm, hub, clock, Resource.parse(f"vnf:{vnf}"), 60)
    assert len(hub.reads) == reads  # a finished job reads nothing


def test_delete_stops_the_job_and_drops_what_it_queued(db: Database) -> None:
    clock, hub = Clock(), FakeHub()
    pm = service(db, hub, clock)
    _, vnf = make_ns(db)
    job = pm.create_job(job_body(vnf), None)
    res = Resource.parse(f"vnf:{vnf}")
    assert run(pm, hub, clock, res, 70) == [61]
    pm.delete(JOB, job.id, None)
    assert run(pm, hub, clock, res, 130) == []
    assert deliveries(db) == [] and reports(db, job.id) == []


def test_reports_are_kept_to_a_bound(db: Database) -> None:
    clock, hub = Clock(), FakeHub()
    pm = service(db, hub, clock)
    pm.lim = PmLimits(keep_reports=2)
    _, vnf = make_ns(db)
    job = pm.create_job(job_body(vnf, coll=1, rep=2), None)
    run(pm, hub, clock, Resource.parse(f"vnf:{vnf}"), 12)
    assert [r.period for r in reports(db, job.id)] == [3, 4]


def test_two_schedulers_make_one_report_per_period(db_url: str) -> None:
    """Two processes' schedulers on one database (SQLite and PostgreSQL): each period is
    reported and notified once."""
    db = Database(db_url)
    db.migrate()
    try:
        clock, hub = Clock(), FakeHub()
        a, b = service(db, hub, clock), service(db, hub, clock)
        _, vnf = make_ns(db)
        job = a.create_job(job_body(vnf, coll=1, rep=3), None)
        res = Resource.parse(f"vnf:{vnf}")
        for _ in range(20):
            clock.now += 1
            hub.add(res, "v_cpu_usage_mean_vnf", clock.now - 0.2, 1.0)
            b.tick()
            a.tick()
        periods = [r.period for r in reports(db, job.id)]
        assert periods == list(range(len(periods))) and len(periods) == 6
        with db.session() as s:
            q = select(func.count()).select_from(NotificationDelivery)
            assert s.scalar(q) == 6
    finally:
        db.dispose()


def test_a_failing_read_stops_neither_other_jobs_nor_thresholds(db: Database) -> None:
    clock, hub = Clock(), FakeHub()
    _, bad_vnf = make_ns(db)
    _, good_vnf = make_ns(db)
    real_stat = hub.stat

    def stat(resource: Resource, metric: str, since: float, until: float) -> FakeStat:
        if resource.id == bad_vnf:
            raise RuntimeError("hub hiccup")
        return real_stat(resource, metric, since, until)

    hub.stat = stat  # type: ignore[method-assign]
    pm = service(db, hub, clock)
    bad = pm.create_job(job_body(bad_vnf, coll=1, rep=2), None)
    good = pm.create_job(job_body(good_vnf, coll=1, rep=2), None)
    run(pm, hub, clock, Resource.parse(f"vnf:{good_vnf}"), 5)
    assert reports(db, bad.id) == [] and len(reports(db, good.id)) == 2  # at 2.5 s, 4.5 s


def test_the_service_follows_the_hub_the_runtime_starts_later(db: Database) -> None:
    clock, hub = Clock(), FakeHub()
    pm = service(db, None, clock)
    current: list[FakeHub | None] = [None]
    pm.follow(lambda: current[0])
    _, vnf = make_ns(db)
    job = pm.create_job(job_body(vnf, coll=1, rep=2), None)
    pm.tick()
    assert pm.monitor is None
    current[0] = hub
    run(pm, hub, clock, Resource.parse(f"vnf:{vnf}"), 3)
    assert pm.monitor is hub and hub.reads
    (r,) = reports(db, job.id)
    assert len(r.entries[0]["performanceValues"]) >= 1
