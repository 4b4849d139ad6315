"""``/admin/v1/rca`` and ``/admin/v1/rca_templates``: root-cause analysis of an nsfm alarm
(the causal graph around it) and the templates the analysis runs (built-in and custom).

Reading is open to readers (tenant-scoped: another tenant's alarm is a 404, and only alarms
on the caller's own resources and shared infrastructure are shown); adding and deleting
templates, which change the analysis for every tenant, is for global admins. See
docs/rca.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from nfvo.api.deps import Services, admin, reader, services
from nfvo.api.models import rca as m
from nfvo.api.models.openapi import JSON, array_of, ref, responses
from nfvo.api.security import Principal
from nfvo.errors import BadRequest, Forbidden
from nfvo.limits import MAX_ID
from nfvo.monitoring.fm import AlarmStore
from nfvo.policy.rca.engine import correlated_view
from nfvo.policy.rca.store import TemplateStore, view

if TYPE_CHECKING:
    from nfvo.policy.rca.engine import RcaEngine

router = APIRouter(prefix="/admin/v1", tags=["admin"])
PATH = "/admin/v1/rca_templates"


def engine_of(svc: Services) -> RcaEngine | None:
    """The process's RCA engine (None while the runtime does not run one)."""
    return getattr(svc, "rca", None)


def _global_admin(p: Principal = Depends(admin)) -> Principal:
    if p.tenant_id is not None:
        raise Forbidden("only a global admin (a client without a tenant) may change templates")
    return p


@router.get(
    "/rca",
    responses=responses(200, m.RcaView, "The causal graph around the alarm", errors=(404,)),
)
def get_rca(
    alarmId: str | None = None,  # noqa: N803 - the query parameter's name
    svc: Services = Depends(services),
    who: Principal = Depends(reader),
) -> JSONResponse:
    if not alarmId:
        raise BadRequest(
            "the query parameter alarmId (an nsfm alarm id) is required", field="alarmId"
        )
    if len(alarmId) > MAX_ID:
        raise BadRequest(f"alarmId is longer than {MAX_ID} characters", field="alarmId")
    engine = engine_of(svc)
    if engine is not None:
        return JSONResponse(engine.rca(alarmId, who.tenant_id))
    store = AlarmStore(svc.db)
    return JSONResponse(correlated_view(store, store.get(alarmId, who.tenant_id), who.tenant_id))


@router.get(
    "/rca_templates",
    responses=responses(200, array_of(m.RcaTemplateView), "Every template, built-in first"),
)
def list_templates(
    svc: Services = Depends(services), who: Principal = Depends(reader)
) -> JSONResponse:
    return JSONResponse([view(t) for t in TemplateStore(svc.db).all()])


@router.post(
    "/rca_templates",
    status_code=201,
    responses=responses(
        201, m.RcaTemplateView, "Stored and in use", errors=(409, 422), headers=["Location"]
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/yaml": {"schema": {"type": "string"}},
                JSON: {"schema": ref(m.RcaTemplateDocument)},
            },
        }
    },
)
async def create_template(
    request: Request, svc: Services = Depends(services), who: Principal = Depends(_global_admin)
) -> JSONResponse:
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("the template must be UTF-8 text", field="body") from None
    return await run_in_threadpool(_create, svc, text)


def _create(svc: Services, text: str) -> JSONResponse:
    template = TemplateStore(svc.db).create(text)
    _reload(svc)
    return JSONResponse(
        view(template), status_code=201, headers={"Location": f"{PATH}/{template.name}"}
    )


def _reload(svc: Services) -> None:
    engine = engine_of(svc)
    if engine is not None:
        engine.reload_templates_if_changed()


@router.get(
    "/rca_templates/{name}",
    responses=responses(200, m.RcaTemplateView, "The template", errors=(404,)),
)
def get_template(
    name: str, svc: Services = Depends(services), who: Principal = Depends(reader)
) -> JSONResponse:
    return JSONResponse(view(TemplateStore(svc.db).get(name)))


@router.delete(
    "/rca_templates/{name}",
    status_code=204,
    responses=responses(204, None, "Deleted: what it did is undone", errors=(404, 409)),
)
def delete_template(
    name: str, svc: Services = Depends(services), who: Principal = Depends(_global_admin)
) -> Response:
    TemplateStore(svc.db).delete(name)
    _reload(svc)
    return Response(status_code=204)
