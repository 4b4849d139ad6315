"""SOL005 NS performance management, ``nspm/v2`` (V3.7.1 §7.4): PM jobs and their reports,
thresholds. Each job and threshold carries its own callbackUri: nspm has no subscriptions.

The request and response shapes follow the spec's tables where the ETSI YAML differs
(docs/nspm.md): CreateThresholdRequest has callbackUri, thresholdValue and hysteresis are
numbers, PmJob.reports is an array."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Body, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import Field

from nfvo.api import shapes
from nfvo.api.deps import Services, operator, reader, services
from nfvo.api.listing import LIST_PARAMS, SELECTOR_PARAMS, Column, page_of, query_params
from nfvo.api.models.common import Link, Open, optional
from nfvo.api.models.openapi import array_of, request_body, responses
from nfvo.api.models.subscriptions import SubscriptionAuthentication
from nfvo.api.routes.packages import api_base
from nfvo.api.security import Principal
from nfvo.monitoring.pm import JOB, THRESHOLD, PmService

# --------------------------------------------------------------------------- models


class PmJobCriteria(Open):
    """§7.5.3.3."""

    performanceMetric: list[str] = optional(max_length=50)
    performanceMetricGroup: list[str] = optional(max_length=50)
    collectionPeriod: int
    reportingPeriod: int
    reportingBoundary: str = optional()


class CreatePmJobRequest(Open):
    """§7.5.2.6."""

    objectType: str
    objectInstanceIds: list[str] = Field(max_length=100)
    subObjectInstanceIds: list[str] = optional(max_length=100)
    criteria: PmJobCriteria
    callbackUri: str
    authentication: SubscriptionAuthentication = optional()


class ReportRef(Open):
    """An entry of PmJob.reports (§7.5.2.7: an array, which the YAML types as an object)."""

    href: str
    readyTime: str


class PmJob(Open):
    """§7.5.2.7."""

    id: str
    objectType: str
    objectInstanceIds: list[str]
    subObjectInstanceIds: list[str] = optional()
    criteria: PmJobCriteria
    callbackUri: str
    reports: list[ReportRef] = optional()
    links: dict[str, Any] = Field(alias="_links")


class Modifications(Open):
    """PmJobModifications §7.5.2.12 / ThresholdModifications §7.5.2.11 (a merge patch)."""

    callbackUri: str = optional()
    authentication: SubscriptionAuthentication = optional()


class PerformanceValue(Open):
    """A value of a report entry."""

    timeStamp: str
    value: float
    context: dict[str, Any] = optional()


class ReportEntry(Open):
    """An entry of PerformanceReport (§7.5.2.10)."""

    objectType: str
    objectInstanceId: str
    subObjectInstanceId: str = optional()
    performanceMetric: str
    performanceValues: list[PerformanceValue]


class PerformanceReport(Open):
    """§7.5.2.10."""

    entries: list[ReportEntry]


class SimpleThresholdDetails(Open):
    """§7.5.3.4 (numbers, which the YAML types as integers)."""

    thresholdValue: float
    hysteresis: float


class ThresholdCriteria(Open):
    """§7.5.3.4."""

    performanceMetric: str
    thresholdType: Literal["SIMPLE"]
    simpleThresholdDetails: SimpleThresholdDetails


class CreateThresholdRequest(Open):
    """§7.5.2.8, with the callbackUri its table has and the YAML lacks."""

    objectType: str
    objectInstanceId: str
    subObjectInstanceIds: list[str] = optional(max_length=100)
    criteria: ThresholdCriteria
    callbackUri: str
    authentication: SubscriptionAuthentication = optional()


class Threshold(Open):
    """§7.5.2.9."""

    id: str
    objectType: str
    objectInstanceId: str
    subObjectInstanceIds: list[str] = optional()
    criteria: ThresholdCriteria
    callbackUri: str
    links: dict[str, Link] = Field(alias="_links")


# --------------------------------------------------------------------------- views

PM_JOB_SHAPE = shapes.parse(
    "{id objectType objectInstanceIds subObjectInstanceIds criteria{performanceMetric "
    "performanceMetricGroup collectionPeriod reportingPeriod reportingBoundary} callbackUri "
    "reports{href readyTime} _links{self{href} objects{href}}}"
)
THRESHOLD_SHAPE = shapes.parse(
    "{id objectType objectInstanceId subObjectInstanceIds criteria{performanceMetric "
    "thresholdType simpleThresholdDetails{thresholdValue hysteresis}} callbackUri "
    "_links{self{href} object{href}}}"
)
JOB_COLUMNS = {
    ("id",): Column("id"),
    ("objectType",): Column("object_type"),
    ("callbackUri",): Column("callback_uri"),
}
THRESHOLD_COLUMNS = JOB_COLUMNS | {("objectInstanceId",): Column("object_instance_id")}
MANDATORY = [("id",), ("_links",)]
SOL = (406,)


def _utc(at: datetime) -> str:
    """An RFC 3339 UTC date-time (SQLite gives the stored time back without its zone)."""
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return at.isoformat().replace("+00:00", "Z")


def _root(base: str) -> str:
    return base.rsplit("/", 2)[0]


def _ns_link(base: str, object_type: str, ns_id: str) -> dict[str, str] | None:
    if object_type not in ("Ns", "NsInstance"):
        return None
    return {"href": f"{_root(base)}/nslcm/v2/ns_instances/{ns_id}"}


def job_view(job: Any, base: str, reports: list[Any] | None) -> dict[str, Any]:
    """PmJob (§7.5.2.7) of a job row and its report rows."""
    body: dict[str, Any] = {
        "id": job.id,
        "objectType": job.object_type,
        "objectInstanceIds": job.object_instance_ids,
    }
    if job.sub_object_instance_ids:
        body["subObjectInstanceIds"] = job.sub_object_instance_ids
    body |= {"criteria": job.criteria, "callbackUri": job.callback_uri}
    if reports is not None:
        body["reports"] = [
            {
                "href": f"{base}/pm_jobs/{job.id}/reports/{r.id}",
                "readyTime": _utc(r.ready_at),
            }
            for r in reports
        ]
    links: dict[str, Any] = {"self": {"href": f"{base}/pm_jobs/{job.id}"}}
    objects = [_ns_link(base, job.object_type, i) for i in job.object_instance_ids]
    if all(objects):
        links["objects"] = objects
    body["_links"] = links
    return body


def threshold_view(th: Any, base: str) -> dict[str, Any]:
    """Threshold (§7.5.2.9) of a threshold row."""
    body: dict[str, Any] = {
        "id": th.id,
        "objectType": th.object_type,
        "objectInstanceId": th.object_instance_id,
    }
    if th.sub_object_instance_ids:
        body["subObjectInstanceIds"] = th.sub_object_instance_ids
    body |= {"criteria": th.criteria, "callbackUri": th.callback_uri}
    links: dict[str, Any] = {"self": {"href": f"{base}/thresholds/{th.id}"}}
    obj = _ns_link(base, th.object_type, th.object_instance_id)
    if obj:
        links["object"] = obj
    body["_links"] = links
    return body


def _pm(svc: Services) -> PmService:
    pm = getattr(svc, "pm", None)
    assert pm is not None, "the nspm service is not configured"
    return pm


# --------------------------------------------------------------------------- routes

router = APIRouter()
_none = [Depends(query_params())]
_selectors = [Depends(query_params(SELECTOR_PARAMS))]


@router.post(
    "/pm_jobs",
    status_code=201,
    dependencies=_none,
    responses=responses(201, PmJob, "Created", errors=(*SOL, 422), headers=["Location"]),
    openapi_extra=request_body(CreatePmJobRequest),
)
def create_pm_job(
    request: Request,
    body: Any = Body(...),
    svc: Services = Depends(services),
    who: Principal = Depends(operator),
) -> JSONResponse:
    job = _pm(svc).create_job(body, who.tenant_id)
    out = job_view(job, api_base(request), [])
    return JSONResponse(out, status_code=201, headers={"Location": out["_links"]["self"]["href"]})


@router.get(
    "/pm_jobs",
    dependencies=[Depends(query_params(LIST_PARAMS))],
    responses=responses(200, array_of(PmJob), "A page of PM jobs", errors=SOL),
)
def list_pm_jobs(
    request: Request, svc: Services = Depends(services), who: Principal = Depends(reader)
) -> JSONResponse:
    base, pm = api_base(request), _pm(svc)

    def render(rows: Any) -> list[dict[str, Any]]:
        reports = pm.reports([r.id for r in rows])
        return [job_view(r, base, reports[r.id]) for r in rows]

    return page_of(
        request,
        fetch=lambda page: pm.page(JOB, who.tenant_id, page),
        render_page=render,
        page_size=svc.settings.page_size,
        default_excluded=[("reports",)],
        mandatory=MANDATORY,
        columns=JOB_COLUMNS,
        shape=PM_JOB_SHAPE,
    )


@router.get(
    "/pm_jobs/{pm_job_id}",
    dependencies=_selectors,
    responses=responses(200, PmJob, "The PM job", errors=(*SOL, 404)),
)
def get_pm_job(
    pm_job_id: str,
    request: Request,
    svc: Services = Depends(services),
    who: Principal = Depends(reader),
) -> JSONResponse:
    pm = _pm(svc)
    job = pm.get(JOB, pm_job_id, who.tenant_id)
    return JSONResponse(job_view(job, api_base(request), pm.reports([job.id])[job.id]))


@router.patch(
    "/pm_jobs/{pm_job_id}",
    dependencies=_none,
    responses=responses(200, Modifications, "The modifications applied", errors=(*SOL, 404, 422)),
    openapi_extra=request_body(Modifications, media="application/merge-patch+json"),
)
def modify_pm_job(
    pm_job_id: str,
    body: Any = Body(...),
    svc: Services = Depends(services),
    who: Principal = Depends(operator),
) -> JSONResponse:
    return JSONResponse(_pm(svc).modify(JOB, pm_job_id, body, who.tenant_id))


@router.delete(
    "/pm_jobs/{pm_job_id}",
    status_code=204,
    dependencies=_none,
    responses=responses(204, None, "Deleted", errors=(*SOL, 404)),
)
def delete_pm_job(
    pm_job_id: str, svc: Services = Depends(services), who: Principal = Depends(operator)
) -> Response:
    _pm(svc).delete(JOB, pm_job_id, who.tenant_id)
    return Response(status_code=204)


@router.get(
    "/pm_jobs/{pm_job_id}/reports/{report_id}",
    dependencies=_none,
    responses=responses(200, PerformanceReport, "The report", errors=(*SOL, 404)),
)
def get_report(
    pm_job_id: str,
    report_id: str,
    svc: Services = Depends(services),
    who: Principal = Depends(reader),
) -> JSONResponse:
    report = _pm(svc).report(pm_job_id, report_id, who.tenant_id)
    return JSONResponse({"entries": report.entries})


@router.post(
    "/thresholds",
    status_code=201,
    dependencies=_none,
    responses=responses(201, Threshold, "Created", errors=(*SOL, 422), headers=["Location"]),
    openapi_extra=request_body(CreateThresholdRequest),
)
def create_threshold(
    request: Request,
    body: Any = Body(...),
    svc: Services = Depends(services),
    who: Principal = Depends(operator),
) -> JSONResponse:
    th = _pm(svc).create_threshold(body, who.tenant_id)
    out = threshold_view(th, api_base(request))
    return JSONResponse(out, status_code=201, headers={"Location": out["_links"]["self"]["href"]})


@router.get(
    "/thresholds",
    dependencies=[Depends(query_params(LIST_PARAMS))],
    responses=responses(200, array_of(Threshold), "A page of thresholds", errors=SOL),
)
def list_thresholds(
    request: Request, svc: Services = Depends(services), who: Principal = Depends(reader)
) -> JSONResponse:
    base, pm = api_base(request), _pm(svc)
    return page_of(
        request,
        fetch=lambda page: pm.page(THRESHOLD, who.tenant_id, page),
        render_page=lambda rows: [threshold_view(r, base) for r in rows],
        page_size=svc.settings.page_size,
        default_excluded=[],
        mandatory=MANDATORY,
        columns=THRESHOLD_COLUMNS,
        shape=THRESHOLD_SHAPE,
    )


@router.get(
    "/thresholds/{threshold_id}",
    dependencies=_selectors,
    responses=responses(200, Threshold, "The threshold", errors=(*SOL, 404)),
)
def get_threshold(
    threshold_id: str,
    request: Request,
    svc: Services = Depends(services),
    who: Principal = Depends(reader),
) -> JSONResponse:
    th = _pm(svc).get(THRESHOLD, threshold_id, who.tenant_id)
    return JSONResponse(threshold_view(th, api_base(request)))


@router.patch(
    "/thresholds/{threshold_id}",
    dependencies=_none,
    responses=responses(200, Modifications, "The modifications applied", errors=(*SOL, 404, 422)),
    openapi_extra=request_body(Modifications, media="application/merge-patch+json"),
)
def modify_threshold(
    threshold_id: str,
    body: Any = Body(...),
    svc: Services = Depends(services),
    who: Principal = Depends(operator),
) -> JSONResponse:
    return JSONResponse(_pm(svc).modify(THRESHOLD, threshold_id, body, who.tenant_id))


@router.delete(
    "/thresholds/{threshold_id}",
    status_code=204,
    dependencies=_none,
    responses=responses(204, None, "Deleted", errors=(*SOL, 404)),
)
def delete_threshold(
    threshold_id: str, svc: Services = Depends(services), who: Principal = Depends(operator)
) -> Response:
    _pm(svc).delete(THRESHOLD, threshold_id, who.tenant_id)
    return Response(status_code=204)
