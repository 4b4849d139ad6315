"""``/admin/v1/plans`` and ``/admin/v1/capacity``: the placement an operation would get, and
how many more instances of an NS fit, answered from the inventory without deploying,
reserving or writing anything (docs/whatif.md).

Any role may ask (reader included): nothing changes, and what is shown (host names, free
room) is what ``GET /admin/v1/vim_accounts/{id}/resources`` already shows a reader; every id
is resolved within the caller's tenant as for an instantiate or a scale.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Query
from fastapi.responses import JSONResponse

from nfvo.api.deps import Services, reader, services
from nfvo.api.models import plans as m
from nfvo.api.models.openapi import request_body, responses
from nfvo.api.security import Principal
from nfvo.errors import BadRequest
from nfvo.lcm.whatif import DEFAULT_CAPACITY, MAX_CAPACITY, WhatIfService
from nfvo.limits import MAX_ID

router = APIRouter(prefix="/admin/v1", tags=["admin"])


def _whatif(svc: Services) -> WhatIfService:
    return WhatIfService(svc.lcm)


@router.post(
    "/plans",
    responses=responses(200, m.Plan, "The plan (feasible or not)", errors=(404, 409, 422)),
    openapi_extra=request_body(m.PlanRequest),
)
def create_plan(
    body: dict[str, Any] = Body(...),
    svc: Services = Depends(services),
    who: Principal = Depends(reader),
) -> JSONResponse:
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object", field="body")
    return JSONResponse(_whatif(svc).plan(body, who.tenant_id))


def _required(value: str | None, name: str) -> str:
    if not value:
        raise BadRequest(f"{name} is required", field=name)
    return value


@router.get(
    "/capacity",
    responses=responses(200, m.Capacity, "How many more fit", errors=(404, 409, 422)),
)
def capacity(
    nsdId: str | None = Query(None, max_length=MAX_ID),  # noqa: N803 - the API's name
    nsFlavourId: str | None = Query(None, max_length=MAX_ID),  # noqa: N803
    vimAccountId: str | None = Query(None, max_length=MAX_ID),  # noqa: N803
    nsInstantiationLevelId: str | None = Query(None, max_length=MAX_ID),  # noqa: N803
    max: int = Query(DEFAULT_CAPACITY, ge=1, le=MAX_CAPACITY),  # noqa: A002
    svc: Services = Depends(services),
    who: Principal = Depends(reader),
) -> JSONResponse:
    out = _whatif(svc).capacity(
        _required(nsdId, "nsdId"),
        _required(nsFlavourId, "nsFlavourId"),
        _required(vimAccountId, "vimAccountId"),
        who.tenant_id,
        level_id=nsInstantiationLevelId,
        most=max,
    )
    return JSONResponse(out)
