"""SOL005 NS performance management (``nspm/v2``): PM jobs, their reports, thresholds and the
scheduler that reads the monitoring hub for them.

Request checking follows the spec's tables (SOL005 V3.7.1 §7.5) where the ETSI YAML is wrong
(docs/nspm.md lists the defects). Notifications are queued in the durable outbox of
:mod:`nfvo.notifications`, each job and threshold owning a hidden subscription row (api
``nspm``) with its callbackUri and sealed credentials; the delivery worker sends them.

The scheduler (:class:`PmRunner` inside :class:`PmService`) runs one thread per process on
an injectable clock. Every collectionPeriod it reads each object's metrics over the period
just ended (``Monitor.stat``; a period without samples gives no value, never 0); every
reportingPeriod it claims the period with a conditional UPDATE, stores the report (unique per
job and period) and queues a PerformanceInformationAvailableNotification per object. Thresholds
are evaluated on the newest sample of their metric whenever the hub reports samples (and at
least every ``tick`` seconds); a crossing moves the stored state with a conditional UPDATE, so
two processes notify once.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

from sqlalchemy import select

from nfvo import limits
from nfvo.errors import BadRequest, NotFound, UnprocessableEntity
from nfvo.inventory.db import Database
from nfvo.inventory.models import LccnSubscriptionRow, NsInstance, NsVnf
from nfvo.inventory.paging import PageQuery
from nfvo.inventory.pm_repo import NSPM, PmJobRow, PmReportRow, PmRepository, ThresholdRow
from nfvo.monitoring import metrics
from nfvo.monitoring.model import Resource, ResourceKind
from nfvo.notifications.outbox import queue_deliveries
from nfvo.notifications.service import NotificationService, validate_authentication

log = logging.getLogger(__name__)

JOB, THRESHOLD = "pm_job", "threshold"  # the two kinds of resources nspm owns
_MODELS: dict[str, type[PmJobRow] | type[ThresholdRow]] = {JOB: PmJobRow, THRESHOLD: ThresholdRow}
_WORDS = {JOB: "PM job", THRESHOLD: "threshold"}
PERF_INFO = "PerformanceInformationAvailableNotification"
CROSSED = "ThresholdCrossedNotification"  # the YAML's enum ends with a space: not sent so
BASE = "/nspm/v2"
# objectType values (IFA 027 measured object types) -> the hub's resource kind
OBJECT_TYPES = {
    "NsInstance": ResourceKind.NS,
    "Ns": ResourceKind.NS,
    "VnfInstance": ResourceKind.VNF,
    "Vnf": ResourceKind.VNF,
}
# IFA 027 measurement groups -> their measurement names
METRIC_GROUPS: dict[str, tuple[str, ...]] = {
    "VirtualisedComputeResource": (
        "VCpuUsageMeanVnf",
        "VCpuUsagePeakVnf",
        "VMemoryUsageMeanVnf",
        "VMemoryUsagePeakVnf",
        "VDiskUsageMeanVnf",
        "VDiskUsagePeakVnf",
    ),
    "VnfExternalCp": (
        "ByteIncomingVnfExtCp",
        "ByteOutgoingVnfExtCp",
        "PacketIncomingVnfExtCp",
        "PacketOutgoingVnfExtCp",
    ),
    "NsTraffic": ("ByteIncoming", "ByteOutgoing", "PacketIncoming", "PacketOutgoing"),
}


def canonical_metric(name: str) -> str:
    """The hub's canonical name of an IFA 027 measurement name (KeyError when ``name`` is
    not an IFA 027 name nspm serves)."""
    if name not in metrics.ifa027_names():
        raise KeyError(name)
    return metrics.canonical(name)


@dataclass(frozen=True)
class PmLimits:
    """The bounds a request may name (docs/nspm.md)."""

    max_objects: int = 100  # objectInstanceIds / subObjectInstanceIds of one job
    max_metrics: int = 50  # performanceMetric (+ expanded groups) of one job
    min_collection: int = 1  # seconds
    max_reporting: int = 86400  # seconds: reportingPeriod at most a day
    max_values: int = 3600  # collection periods in one reporting period
    max_jobs: int = 100  # per tenant (and for the global callers together)
    max_thresholds: int = 1000  # per tenant
    keep_reports: int = 100  # newest reports kept per job
    min_hysteresis_ratio: float = 0.005  # of |thresholdValue|
    min_hysteresis_abs: float = 0.001


class Stat(Protocol):
    """What the hub's ``Stat`` offers the scheduler."""

    count: int
    mean: float | None
    last: float | None
    last_at: float | None


class MetricReader(Protocol):
    """The part of ``nfvo.monitoring.hub.Monitor`` nspm reads."""

    def stat(self, resource: Resource, metric: str, since: float, until: float) -> Stat: ...

    def current(self, resource: Resource, metric: str, window_s: float | None = None) -> Stat: ...


# --------------------------------------------------------------------------- crossing


def crossing(value: float, threshold: float, hysteresis: float, state: str | None) -> str | None:
    """The crossing a value makes (SOL005 §7.5.3.4): UP when it reaches threshold +
    hysteresis and the last crossing was not UP; DOWN when it reaches threshold - hysteresis
    after an UP; else None (in between nothing changes)."""
    if value >= threshold + hysteresis and state != "UP":
        return "UP"
    if value <= threshold - hysteresis and state == "UP":
        return "DOWN"
    return None


def min_hysteresis(threshold: float, lim: PmLimits) -> float:
    """The least hysteresis accepted for ``threshold``."""
    return max(lim.min_hysteresis_ratio * abs(threshold), lim.min_hysteresis_abs)


# --------------------------------------------------------------------------- checking


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


def _callback(body: dict[str, Any]) -> str:
    cb = body.get("callbackUri")
    if not isinstance(cb, str) or not cb:
        raise BadRequest("callbackUri is required", field="callbackUri")
    limits.check_string(cb, "callbackUri", limits.MAX_URI)
    try:
        parts = urlsplit(cb)
    except ValueError as exc:
        raise BadRequest(f"callbackUri is not a URI: {exc}", field="callbackUri") from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadRequest(f"callbackUri {cb!r} is not an http(s) URL", field="callbackUri")
    return cb


def _ids(value: Any, name: str, lim: int, required: bool) -> list[str]:
    if value is None and not required:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise BadRequest(f"{name} must be an array of identifiers", field=name)
    if required and not value:
        raise BadRequest(f"{name} must name at least one instance", field=name)
    limits.check_list(value, name, lim)
    for v in value:
        limits.check_string(v, name, limits.MAX_ID)
    return list(dict.fromkeys(value))


def _object_type(value: Any) -> ResourceKind:
    if not isinstance(value, str) or not value:
        raise BadRequest("objectType is required", field="objectType")
    limits.check_string(value, "objectType", limits.MAX_NAME)
    if value not in OBJECT_TYPES:
        raise UnprocessableEntity(
            f"objectType {value!r} is not supported; use one of {sorted(OBJECT_TYPES)}",
            field="objectType",
        )
    return OBJECT_TYPES[value]


def _period(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(f"{name} must be an integer number of seconds", field=name)
    return value


def check_criteria(raw: Any, lim: PmLimits) -> dict[str, Any]:
    """A PmJobCriteria (§7.5.3.3), checked: metrics known, periods bounded, reportingPeriod
    a multiple of collectionPeriod, reportingBoundary a date-time."""
    if not isinstance(raw, dict):
        raise BadRequest("criteria must be an object", field="criteria")
    unknown = sorted(
        set(raw)
        - {
            "performanceMetric",
            "performanceMetricGroup",
            "collectionPeriod",
            "reportingPeriod",
            "reportingBoundary",
        }
    )
    if unknown:
        raise BadRequest(f"unknown attribute criteria.{unknown[0]}", field=f"criteria.{unknown[0]}")
    metrics = _ids(
        raw.get("performanceMetric"), "criteria.performanceMetric", lim.max_metrics, False
    )
    groups = _ids(
        raw.get("performanceMetricGroup"), "criteria.performanceMetricGroup", lim.max_metrics, False
    )
    if not metrics and not groups:
        raise BadRequest(
            "criteria needs performanceMetric or performanceMetricGroup",
            field="criteria.performanceMetric",
        )
    for g in groups:
        if g not in METRIC_GROUPS:
            raise UnprocessableEntity(
                f"criteria.performanceMetricGroup {g!r} is unknown; known: {sorted(METRIC_GROUPS)}",
                field="criteria.performanceMetricGroup",
            )
    for m in metrics:
        _known_metric(m, "criteria.performanceMetric")
    if len(_expand(metrics, groups)) > lim.max_metrics:
        raise BadRequest(
            f"criteria names more than {lim.max_metrics} metrics",
            field="criteria.performanceMetric",
        )
    coll = _period(raw.get("collectionPeriod"), "criteria.collectionPeriod")
    rep = _period(raw.get("reportingPeriod"), "criteria.reportingPeriod")
    if coll < lim.min_collection:
        raise UnprocessableEntity(
            f"criteria.collectionPeriod must be at least {lim.min_collection} s",
            field="criteria.collectionPeriod",
        )
    if rep < coll or rep % coll or rep > lim.max_reporting or rep // coll > lim.max_values:
        raise UnprocessableEntity(
            f"criteria.reportingPeriod must be a multiple of collectionPeriod ({coll} s), at most "
            f"{lim.max_reporting} s and {lim.max_values} collection periods",
            field="criteria.reportingPeriod",
        )
    out: dict[str, Any] = {"collectionPeriod": coll, "reportingPeriod": rep}
    if metrics:
        out["performanceMetric"] = metrics
    if groups:
        out["performanceMetricGroup"] = groups
    boundary = raw.get("reportingBoundary")
    if boundary is not None:
        _epoch(boundary, "criteria.reportingBoundary")
        out["reportingBoundary"] = boundary
    return out


def _epoch(value: Any, name: str) -> float:
    try:
        when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        when = None
    if not isinstance(value, str) or when is None or when.tzinfo is None:
        raise BadRequest(f"{name} must be a date-time with a time zone", field=name)
    return when.timestamp()


def _known_metric(name: str, where: str) -> str:
    try:
        return canonical_metric(name)
    except KeyError:
        raise UnprocessableEntity(
            f"{where} {name!r} is not a known IFA 027 measurement name", field=where
        ) from None


def _expand(metrics: list[str], groups: list[str]) -> list[str]:
    names = list(metrics)
    for g in groups:
        names.extend(METRIC_GROUPS.get(g, ()))
    return list(dict.fromkeys(names))


def job_metrics(criteria: dict[str, Any]) -> list[str]:
    """The IFA 027 names a job measures (its metrics, then its groups' members)."""
    return _expand(
        criteria.get("performanceMetric") or [], criteria.get("performanceMetricGroup") or []
    )


def check_threshold_criteria(raw: Any, lim: PmLimits) -> dict[str, Any]:
    """A ThresholdCriteria (§7.5.3.4) by the table: thresholdValue and hysteresis numbers,
    hysteresis not below the minimum (422)."""
    if not isinstance(raw, dict):
        raise BadRequest("criteria must be an object", field="criteria")
    metric = raw.get("performanceMetric")
    if not isinstance(metric, str) or not metric:
        raise BadRequest(
            "criteria.performanceMetric is required", field="criteria.performanceMetric"
        )
    limits.check_string(metric, "criteria.performanceMetric", limits.MAX_NAME)
    _known_metric(metric, "criteria.performanceMetric")
    if raw.get("thresholdType") != "SIMPLE":
        raise BadRequest("criteria.thresholdType must be SIMPLE", field="criteria.thresholdType")
    details = raw.get("simpleThresholdDetails")
    where = "criteria.simpleThresholdDetails"
    if not isinstance(details, dict):
        raise BadRequest(f"{where} is required for SIMPLE", field=where)
    numbers = {}
    for key in ("thresholdValue", "hysteresis"):
        v = details.get(key)
        try:
            number = float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None
        except OverflowError:
            number = None
        if number is None or not math.isfinite(number):
            raise BadRequest(f"{where}.{key} must be a finite number", field=f"{where}.{key}")
        numbers[key] = number
    least = min_hysteresis(numbers["thresholdValue"], lim)
    if numbers["hysteresis"] < least:
        raise UnprocessableEntity(
            f"{where}.hysteresis must be at least {least:g} for thresholdValue "
            f"{numbers['thresholdValue']:g}",
            field=f"{where}.hysteresis",
        )
    return {
        "performanceMetric": metric,
        "thresholdType": "SIMPLE",
        "simpleThresholdDetails": {
            "thresholdValue": details["thresholdValue"],
            "hysteresis": details["hysteresis"],
        },
    }


def modifications(body: Any) -> tuple[str | None, bool, tuple[str | None, dict[str, Any]]]:
    """(new callbackUri, whether authentication is in, its (type, secrets)) of a
    PmJobModifications / ThresholdModifications merge patch."""
    if not isinstance(body, dict) or not body:
        raise BadRequest("the body must name callbackUri or authentication")
    unknown = sorted(set(body) - {"callbackUri", "authentication"})
    if unknown:
        raise BadRequest(f"{unknown[0]} cannot be modified", field=unknown[0])
    cb = _callback(body) if "callbackUri" in body else None
    auth = validate_authentication(body.get("authentication"))
    return cb, "authentication" in body, auth


# --------------------------------------------------------------------------- service


@dataclass
class _JobState:
    """What one process collected for a job and not reported yet."""

    collected: int = -1  # last collection index read
    values: dict[int, dict[tuple[str, str, str | None], list[dict[str, Any]]]] = field(
        default_factory=dict
    )  # period -> (object, metric, sub-object) -> performanceValues


class PmService:
    """PM jobs, reports and thresholds of the nspm API, and the process's scheduler.

    ``monitor`` is the hub (anything with ``stat``/``current``, and ``on_samples`` to be
    woken); without one, reports carry no values and no threshold is evaluated."""

    def __init__(
        self,
        db: Database,
        notifications: NotificationService,
        monitor: MetricReader | None = None,
        *,
        clock: Callable[[], float] = time.time,
        lim: PmLimits | None = None,
        tick: float = 0.25,
    ) -> None:
        self.db = db
        self.notifications = notifications
        self.clock = clock
        self.lim = lim or PmLimits()
        self.tick_s = tick
        self.monitor: MetricReader | None = None
        self._monitor_of: Callable[[], MetricReader | None] | None = None
        self._jobs: dict[str, _JobState] = {}
        self._seen: dict[str, float] = {}  # threshold id -> last sample time evaluated
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if monitor is not None:
            self.attach(monitor)

    # ------------------------------------------------------------------ wiring

    def follow(self, monitor_of: Callable[[], MetricReader | None]) -> None:
        """Read whatever hub ``monitor_of`` names at each pass: the runtime may start (or
        replace) its hub after this service."""
        self._monitor_of = monitor_of

    def _current_monitor(self) -> None:
        if self._monitor_of is None:
            return
        monitor = self._monitor_of()
        if monitor is None:
            self.monitor = None
        elif monitor is not self.monitor:
            self.attach(monitor)

    def attach(self, monitor: MetricReader) -> None:
        """Read ``monitor`` from now on and evaluate thresholds whenever it takes samples."""
        self.monitor = monitor
        on_samples = getattr(monitor, "on_samples", None)
        if on_samples is not None:
            on_samples(lambda batch: self._wake.set())

    def start(self) -> None:
        """Start this process's one scheduler thread (idempotent)."""
        if self._thread and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="nspm", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the scheduler (what it collected and did not report yet is dropped)."""
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=10)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - a database hiccup must not end the scheduler
                log.exception("nspm scheduler tick failed")
            self._wake.wait(self.tick_s)
            self._wake.clear()
            self._stop.wait(0.1)  # coalesce sample bursts: at most ten passes a second

    # ------------------------------------------------------------------ requests

    def _resolve(
        self, s: Any, kind: ResourceKind, ids: list[str], tenant: str | None, name: str
    ) -> None:
        """422 naming the first id that is no instance the caller sees (another tenant's
        is refused exactly as an unknown one)."""
        if kind == ResourceKind.NS:
            q = select(NsInstance.id).where(NsInstance.id.in_(ids))
            if tenant is not None:
                q = q.where(NsInstance.tenant_id == tenant)
        else:
            q = select(NsVnf.id).join(NsInstance, NsInstance.id == NsVnf.ns_instance_id)
            q = q.where(NsVnf.id.in_(ids))
            if tenant is not None:
                q = q.where(NsInstance.tenant_id == tenant)
        seen = set(s.scalars(q))
        missing = [i for i in ids if i not in seen]
        if missing:
            word = "NS instance" if kind == ResourceKind.NS else "VNF instance"
            raise UnprocessableEntity(f"{name}: no {word} {missing[0]!r} exists", field=name)

    def _sub_objects(
        self, s: Any, kind: ResourceKind, obj: str, subs: list[str], name: str
    ) -> None:
        if not subs:
            return
        if kind != ResourceKind.NS:
            raise UnprocessableEntity(f"{name} is supported for NS instances only", field=name)
        known = set(s.scalars(select(NsVnf.id).where(NsVnf.ns_instance_id == obj)))
        for sub in subs:
            if sub not in known:
                raise UnprocessableEntity(
                    f"{name}: {sub!r} is no VNF instance of {obj}", field=name
                )

    def _subscription(
        self, body: dict[str, Any], tenant: str | None, cb: str
    ) -> LccnSubscriptionRow:
        auth_type, secrets = validate_authentication(body.get("authentication"))
        self.notifications.test_callback(cb, auth_type, secrets)
        sid = str(uuid.uuid4())
        return LccnSubscriptionRow(
            id=sid,
            api=NSPM,
            tenant_id=tenant,
            callback_uri=cb,
            filter={},
            verbosity="FULL",
            fingerprint=sid,
            auth_type=auth_type,
            secrets=self.notifications.vault.seal(secrets) if secrets else None,
        )

    def create_job(self, body: Any, tenant: str | None) -> PmJobRow:
        """Check a CreatePmJobRequest, test its callback and store the job."""
        if not isinstance(body, dict):
            raise BadRequest("the request body must be a CreatePmJobRequest object")
        kind = _object_type(body.get("objectType"))
        objs = _ids(body.get("objectInstanceIds"), "objectInstanceIds", self.lim.max_objects, True)
        subs = _ids(
            body.get("subObjectInstanceIds"), "subObjectInstanceIds", self.lim.max_objects, False
        )
        if subs and len(objs) != 1:
            raise UnprocessableEntity(
                "subObjectInstanceIds needs exactly one objectInstanceIds entry",
                field="subObjectInstanceIds",
            )
        criteria = check_criteria(body.get("criteria"), self.lim)
        cb = _callback(body)
        with self.db.session() as s:
            self._resolve(s, kind, objs, tenant, "objectInstanceIds")
            self._sub_objects(s, kind, objs[0], subs, "subObjectInstanceIds")
            self._check_count(s, PmJobRow, tenant, self.lim.max_jobs, "PM jobs")
        sub = self._subscription(body, tenant, cb)
        row = PmJobRow(
            id=str(uuid.uuid4()),
            tenant_id=tenant,
            object_type=body["objectType"],
            object_instance_ids=objs,
            sub_object_instance_ids=subs or None,
            criteria=criteria,
            callback_uri=cb,
            subscription_id=sub.id,
            started_at=self.clock(),
            last_period=-1,
            finished=False,
        )
        with self.db.session() as s:
            PmRepository(s).add(row, sub)
            s.expunge(row)
        self._wake.set()
        return row

    def _check_count(self, s: Any, model: Any, tenant: str | None, bound: int, what: str) -> None:
        held = PmRepository(s).count(model, tenant)
        if held >= bound:
            raise UnprocessableEntity(
                f"{held} {what} exist for this tenant; the limit is {bound}: delete unused ones"
            )

    def create_threshold(self, body: Any, tenant: str | None) -> ThresholdRow:
        """Check a CreateThresholdRequest (with callbackUri, as the spec table has it), test
        the callback and store the threshold."""
        if not isinstance(body, dict):
            raise BadRequest("the request body must be a CreateThresholdRequest object")
        kind = _object_type(body.get("objectType"))
        obj = body.get("objectInstanceId")
        if not isinstance(obj, str) or not obj:
            raise BadRequest("objectInstanceId is required", field="objectInstanceId")
        limits.check_string(obj, "objectInstanceId", limits.MAX_ID)
        subs = _ids(
            body.get("subObjectInstanceIds"), "subObjectInstanceIds", self.lim.max_objects, False
        )
        criteria = check_threshold_criteria(body.get("criteria"), self.lim)
        cb = _callback(body)
        with self.db.session() as s:
            self._resolve(s, kind, [obj], tenant, "objectInstanceId")
            self._sub_objects(s, kind, obj, subs, "subObjectInstanceIds")
            self._check_count(s, ThresholdRow, tenant, self.lim.max_thresholds, "thresholds")
        sub = self._subscription(body, tenant, cb)
        row = ThresholdRow(
            id=str(uuid.uuid4()),
            tenant_id=tenant,
            object_type=body["objectType"],
            object_instance_id=obj,
            sub_object_instance_ids=subs or None,
            criteria=criteria,
            callback_uri=cb,
            subscription_id=sub.id,
            state=None,
        )
        with self.db.session() as s:
            PmRepository(s).add(row, sub)
            s.expunge(row)
        return row

    def page(self, kind: str, tenant: str | None, q: PageQuery) -> list[Any]:
        """One chunk of the caller's jobs or thresholds (``kind`` JOB or THRESHOLD)."""
        with self.db.session() as s:
            rows = PmRepository(s).page(_MODELS[kind], tenant, q)
            s.expunge_all()
            return rows

    def get(self, kind: str, row_id: str, tenant: str | None) -> Any:
        """One job or threshold of the caller (NotFound for another tenant's)."""
        with self.db.session() as s:
            row = PmRepository(s).get(_MODELS[kind], row_id, tenant)
            if row is None:
                raise NotFound(f"{_WORDS[kind]} {row_id} not found")
            s.expunge(row)
            return row

    def reports(self, job_ids: list[str]) -> dict[str, list[PmReportRow]]:
        """The stored reports of each job (ids and ready times)."""
        with self.db.session() as s:
            out = PmRepository(s).reports_of(job_ids)
            s.expunge_all()
            return out

    def report(self, job_id: str, report_id: str, tenant: str | None) -> PmReportRow:
        """One report of one of the caller's jobs."""
        self.get(JOB, job_id, tenant)
        with self.db.session() as s:
            row = PmRepository(s).report(job_id, report_id)
            if row is None:
                raise NotFound(f"report {report_id} of PM job {job_id} not found")
            s.expunge(row)
            return row

    def modify(self, kind: str, row_id: str, body: Any, tenant: str | None) -> dict[str, Any]:
        """Apply a merge patch of callbackUri / authentication; the new callback is tested.
        Returns the modifications as the response shows them (no credentials)."""
        self.get(kind, row_id, tenant)
        model = _MODELS[kind]
        cb, has_auth, (auth_type, secrets) = modifications(body)
        with self.db.session() as s:
            row = PmRepository(s).get(model, row_id, tenant)
            assert row is not None
            sub = PmRepository(s).subscription(row)
            target = cb or sub.callback_uri
            if not has_auth and sub.secrets:
                auth_type, secrets = sub.auth_type, self.notifications.vault.open(sub.secrets)
        self.notifications.test_callback(target, auth_type, secrets)
        with self.db.session() as s:
            row = PmRepository(s).get(model, row_id, tenant)
            if row is None:
                raise NotFound(f"{_WORDS[kind]} {row_id} not found")
            sub = PmRepository(s).subscription(row)
            if cb:
                row.callback_uri = sub.callback_uri = cb
            if has_auth:
                sub.auth_type = auth_type
                sub.secrets = self.notifications.vault.seal(secrets) if secrets else None
        return {"callbackUri": cb} if cb else {}

    def delete(self, kind: str, row_id: str, tenant: str | None) -> None:
        """Delete a job (it stops reporting) or a threshold, and what it had queued."""
        with self.db.session() as s:
            repo = PmRepository(s)
            row = repo.get(_MODELS[kind], row_id, tenant)
            if row is None:
                raise NotFound(f"{_WORDS[kind]} {row_id} not found")
            repo.remove(row)
        with self._lock:
            self._jobs.pop(row_id, None)

    # ------------------------------------------------------------------ scheduler

    def tick(self, now: float | None = None) -> None:
        """One pass: collect and report what is due for every job, evaluate thresholds."""
        now = self.clock() if now is None else now
        self._current_monitor()
        with self.db.session() as s:
            jobs = PmRepository(s).active_jobs()
            thresholds = PmRepository(s).thresholds()
            s.expunge_all()
        with self._lock:
            for gone in set(self._jobs) - {j.id for j in jobs}:
                del self._jobs[gone]
            for job in jobs:
                try:
                    self._run_job(job, now)
                except Exception:  # noqa: BLE001 - one job's failure must not stop the others
                    log.exception("nspm: PM job %s failed", job.id)
            self._evaluate(thresholds)

    def _settle(self, coll: int) -> float:
        """Seconds after a period's end before it is read (late samples still count)."""
        return min(0.5, coll / 4)

    def _run_job(self, job: PmJobRow, now: float) -> None:
        coll, rep = job.criteria["collectionPeriod"], job.criteria["reportingPeriod"]
        per = rep // coll
        boundary = job.criteria.get("reportingBoundary")
        end_at = _epoch(boundary, "reportingBoundary") if boundary else math.inf
        state = self._jobs.setdefault(job.id, _JobState(collected=(job.last_period + 1) * per - 1))
        for old in [p for p in state.values if p <= job.last_period]:
            del state.values[old]  # reported by another process
        elapsed = now - self._settle(coll) - job.started_at
        done = math.floor(elapsed / coll) - 1  # last complete collection period
        first = max(state.collected + 1, (job.last_period + 1) * per, done - 2 * per + 1)
        for j in range(first, done + 1):
            period = j // per
            if job.started_at + (period + 1) * rep > end_at:
                break
            self._collect(job, state, j, period, coll)
            state.collected = j
        last_done = math.floor(elapsed / rep) - 1
        if last_done > job.last_period:
            self._report(job, state, last_done, end_at)

    def _objects(
        self, job: PmJobRow | ThresholdRow, ids: list[str]
    ) -> list[tuple[str, str | None, Resource]]:
        kind = OBJECT_TYPES[job.object_type]
        subs = job.sub_object_instance_ids or []
        if subs:
            return [(ids[0], sub, Resource(ResourceKind.VNF, sub)) for sub in subs]
        return [(i, None, Resource(kind, i)) for i in ids]

    def _collect(self, job: PmJobRow, state: _JobState, j: int, period: int, coll: int) -> None:
        since = job.started_at + j * coll
        until = since + coll
        bucket = state.values.setdefault(period, {})
        for obj, sub, res in self._objects(job, job.object_instance_ids):
            for metric in job_metrics(job.criteria):
                values = bucket.setdefault((obj, metric, sub), [])
                stat = self._stat(res, metric, since, until)
                if stat is not None and stat.count and stat.mean is not None:
                    values.append({"timeStamp": _iso(until), "value": stat.mean})

    def _stat(self, res: Resource, metric: str, since: float, until: float) -> Stat | None:
        if self.monitor is None:
            return None
        return self.monitor.stat(res, canonical_metric(metric), since, until)

    def _report(self, job: PmJobRow, state: _JobState, period: int, end_at: float) -> None:
        """Report ``period`` (periods skipped since the last report, e.g. while no process
        ran, get none); a period ending past the boundary finishes the job instead."""
        rep = job.criteria["reportingPeriod"]
        beyond = job.started_at + (period + 1) * rep > end_at
        with self.db.session() as s:
            repo = PmRepository(s)
            if beyond:
                repo.finish(job.id)
                return
            if not repo.claim_period(job.id, job.last_period, period):
                return  # another process reported it
            report = PmReportRow(
                id=str(uuid.uuid4()),
                pm_job_id=job.id,
                period=period,
                entries=self._entries(job, state.values.get(period, {})),
                ready_at=datetime.fromtimestamp(self.clock(), UTC),
            )
            if repo.add_report(report, self.lim.keep_reports):
                sub = s.get(LccnSubscriptionRow, job.subscription_id)
                if sub is not None:
                    for note in self._perf_notes(job, report.id):
                        queue_deliveries(s, [sub], note, datetime.now(UTC))
            if job.started_at + (period + 2) * rep > end_at:
                repo.finish(job.id)
        job.last_period = period
        for old in [p for p in state.values if p <= period]:
            del state.values[old]

    def _entries(
        self, job: PmJobRow, values: dict[tuple[str, str, str | None], list[dict[str, Any]]]
    ) -> list[dict[str, Any]]:
        out = []
        for obj, sub, _ in self._objects(job, job.object_instance_ids):
            for metric in job_metrics(job.criteria):
                entry: dict[str, Any] = {"objectType": job.object_type, "objectInstanceId": obj}
                if sub is not None:
                    entry["subObjectInstanceId"] = sub
                entry["performanceMetric"] = metric
                entry["performanceValues"] = values.get((obj, metric, sub), [])
                out.append(entry)
        return out

    def _perf_notes(self, job: PmJobRow, report_id: str) -> list[dict[str, Any]]:
        notes = []
        for obj in job.object_instance_ids:
            links = {
                "pmJob": {"href": f"{BASE}/pm_jobs/{job.id}"},
                "performanceReport": {"href": f"{BASE}/pm_jobs/{job.id}/reports/{report_id}"},
            }
            if OBJECT_TYPES[job.object_type] == ResourceKind.NS:
                links["objectInstance"] = {"href": f"/nslcm/v2/ns_instances/{obj}"}
            note: dict[str, Any] = {
                "id": str(uuid.uuid4()),
                "notificationType": PERF_INFO,
                "timeStamp": _iso(self.clock()),
                "pmJobId": job.id,
                "objectType": job.object_type,
                "objectInstanceId": obj,
            }
            if job.sub_object_instance_ids:
                note["subObjectInstanceIds"] = job.sub_object_instance_ids
            note["_links"] = links
            notes.append(note)
        return notes

    # ------------------------------------------------------------------ thresholds

    def _evaluate(self, thresholds: list[ThresholdRow]) -> None:
        monitor = self.monitor
        live = {t.id for t in thresholds}
        for gone in [k for k in self._seen if k.split("/", 1)[0] not in live]:
            del self._seen[gone]
        if monitor is None:
            return
        for th in thresholds:
            try:
                self._evaluate_one(monitor, th)
            except Exception:  # noqa: BLE001 - one threshold's failure must not stop the others
                log.exception("nspm: threshold %s failed", th.id)

    def _evaluate_one(self, monitor: MetricReader, th: ThresholdRow) -> None:
        for _obj, sub, res in self._objects(th, [th.object_instance_id]):
            metric = th.criteria["performanceMetric"]
            stat = monitor.current(res, canonical_metric(metric))
            key = f"{th.id}/{sub or ''}"
            if not stat.count or stat.last is None or stat.last_at is None:
                continue
            if stat.last_at <= self._seen.get(key, -math.inf):
                continue
            self._seen[key] = stat.last_at
            self.observe(th, stat.last, sub)

    def observe(self, th: ThresholdRow, value: float, sub: str | None = None) -> str | None:
        """Evaluate one new value of a threshold's metric; on a crossing the stored state
        moves (once, whichever process sees it first) and a ThresholdCrossedNotification is
        queued. Returns the crossing made, if any."""
        details = th.criteria["simpleThresholdDetails"]
        direction = crossing(
            value, float(details["thresholdValue"]), float(details["hysteresis"]), th.state
        )
        if direction is None:
            return None
        with self.db.session() as s:
            repo = PmRepository(s)
            if not repo.move_state(th.id, th.state, direction):
                fresh = s.get(ThresholdRow, th.id)
                th.state = fresh.state if fresh is not None else th.state
                return None
            sub_row = s.get(LccnSubscriptionRow, th.subscription_id)
            if sub_row is not None:
                note = self._crossed_note(th, direction, value, sub)
                queue_deliveries(s, [sub_row], note, datetime.now(UTC))
        th.state = direction
        return direction

    def _crossed_note(
        self, th: ThresholdRow, direction: str, value: float, sub: str | None
    ) -> dict[str, Any]:
        links = {"threshold": {"href": f"{BASE}/thresholds/{th.id}"}}
        if OBJECT_TYPES[th.object_type] == ResourceKind.NS:
            links["objectInstance"] = {"href": f"/nslcm/v2/ns_instances/{th.object_instance_id}"}
        note: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "notificationType": CROSSED,
            "timeStamp": _iso(self.clock()),
            "thresholdId": th.id,
            "crossingDirection": direction,
            "objectType": th.object_type,
            "objectInstanceId": th.object_instance_id,
            "performanceMetric": th.criteria["performanceMetric"],
            "performanceValue": value,
        }
        if sub is not None:
            note["subObjectInstanceId"] = sub
        note["_links"] = links
        return note
