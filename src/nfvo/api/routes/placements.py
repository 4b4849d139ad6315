"""``/admin/v1/ns_lcm_op_occs/{id}/placement``: the placement decision an NS LCM operation
occurrence recorded (strategy, bounds, host and explanation per VDU instance), visible to
whoever may read the operation itself."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from nfvo.api.deps import Services, reader, services
from nfvo.api.models import placements as m
from nfvo.api.models.openapi import responses
from nfvo.api.security import Principal

router = APIRouter(prefix="/admin/v1", tags=["admin"])


@router.get(
    "/ns_lcm_op_occs/{op_id}/placement",
    responses=responses(
        200, m.OpPlacementRecord, "The placement decision of the operation", errors=(404,)
    ),
)
def op_placement(
    op_id: str, svc: Services = Depends(services), who: Principal = Depends(reader)
) -> JSONResponse:
    return JSONResponse(svc.lcm.placement_of(op_id, who.tenant_id))
