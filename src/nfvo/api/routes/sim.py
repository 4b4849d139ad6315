"""``/admin/v1/vim_accounts/{vim_id}/sim``: fault injection and load curves of a sim VIM.

Drills and tests drive the simulated VIM through these: a host goes down, a server crashes,
a network fails (each at once, recorded in the sim's own state file, undone by deleting the
fault), and a server, a VNF's servers or a host's servers follow a load curve. Readers see
the faults and curves; an operator of the account's tenant (or a global one) changes them,
as for the account itself a tenant may not change a shared account.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import Field

from nfvo.api.deps import Services, operator, reader, services
from nfvo.api.models.common import Closed, Open
from nfvo.api.models.openapi import array_of, responses
from nfvo.api.routes.admin import scope_of
from nfvo.api.security import Principal
from nfvo.errors import BadRequest
from nfvo.resources.sim_control import (
    CURVE_METRICS,
    FAULT_FIELDS,
    LoadCurve,
    SimControl,
)

router = APIRouter(prefix="/admin/v1", tags=["admin"])
BASE = "/vim_accounts/{vim_id}/sim"
Id = Field(None, min_length=1, max_length=255)


class FaultCreate(Closed):
    """A fault to inject: ``HOST_DOWN`` names ``host``, ``SERVER_CRASH`` ``serverId``,
    ``NETWORK_DOWN`` ``networkId``."""

    kind: Literal["HOST_DOWN", "SERVER_CRASH", "NETWORK_DOWN"]
    host: str | None = Id
    serverId: str | None = Id
    networkId: str | None = Id


class SimFault(Open):
    """An active injected fault."""

    id: str
    kind: str
    host: str | None = None
    serverId: str | None = None
    networkId: str | None = None
    createdAt: str


class LoadTarget(Closed):
    """What a curve drives: one server, every server of a VNF instance, or every server
    of a host (exactly one)."""

    serverId: str | None = Id
    vnfInstanceId: str | None = Id
    host: str | None = Id


class LoadSet(Closed):
    """A load curve for one metric of a target; ``curve`` null removes it."""

    target: LoadTarget
    metric: Literal["cpu_utilization", "memory_utilization", "disk_utilization"] = "cpu_utilization"
    curve: LoadCurve | None


class SimLoad(Open):
    """A load curve set on a target."""

    target: dict[str, str]
    metric: str
    curve: dict[str, Any] | None = None
    setAt: str


assert set(CURVE_METRICS) == {"cpu_utilization", "memory_utilization", "disk_utilization"}


def _control(svc: Services) -> SimControl:
    return SimControl(svc.resources)


@router.post(
    f"{BASE}/faults",
    status_code=201,
    responses=responses(201, SimFault, "Injected", errors=(404, 409, 422, 503)),
)
def inject_fault(
    vim_id: str,
    body: FaultCreate,
    svc: Services = Depends(services),
    who: Principal = Depends(operator),
) -> JSONResponse:
    """Inject a fault now: the host goes down (its servers to ERROR), the server crashes
    (ERROR) or the network goes down; 409 if the same fault is active already."""
    field = FAULT_FIELDS[body.kind]
    target = getattr(body, field)
    others = [f for f in FAULT_FIELDS.values() if f != field and getattr(body, f) is not None]
    if target is None:
        raise BadRequest(f"a {body.kind} fault names its {field}", field=field)
    if others:
        raise BadRequest(f"a {body.kind} fault names only its {field}", field=others[0])
    fault = _control(svc).inject(vim_id, scope_of(who), body.kind, target)
    location = f"/admin/v1/vim_accounts/{vim_id}/sim/faults/{fault['id']}"
    return JSONResponse(fault, status_code=201, headers={"Location": location})


@router.get(
    f"{BASE}/faults",
    responses=responses(200, array_of(SimFault), "Active injected faults", errors=(404, 422, 503)),
)
def list_faults(
    vim_id: str, svc: Services = Depends(services), who: Principal = Depends(reader)
) -> JSONResponse:
    """The faults injected and not yet cleared, oldest first."""
    return JSONResponse(_control(svc).faults(vim_id, scope_of(who)))


@router.delete(
    f"{BASE}/faults/{{fault_id}}",
    responses=responses(200, SimFault, "Cleared: the fault undone", errors=(404, 422, 503)),
)
def clear_fault(
    vim_id: str,
    fault_id: str,
    svc: Services = Depends(services),
    who: Principal = Depends(operator),
) -> JSONResponse:
    """End a fault: the host comes back up (the servers its failure stopped resume), the
    server runs again, the network comes up."""
    return JSONResponse(_control(svc).clear(vim_id, scope_of(who), fault_id))


@router.put(
    f"{BASE}/load",
    responses=responses(200, SimLoad, "The curve set (or removed)", errors=(404, 409, 422, 503)),
)
def set_load(
    vim_id: str,
    body: LoadSet,
    svc: Services = Depends(services),
    who: Principal = Depends(operator),
) -> JSONResponse:
    """Make a server, a VNF instance's servers or a host's servers follow a load curve for
    one metric (from now, unless the curve gives its ``start``)."""
    named = [(k, v) for k, v in body.target.model_dump().items() if v is not None]
    if len(named) != 1:
        raise BadRequest(
            "a load target names exactly one of serverId, vnfInstanceId or host", field="target"
        )
    entry = _control(svc).set_load(vim_id, scope_of(who), named[0], body.metric, body.curve)
    return JSONResponse(entry)


@router.get(
    f"{BASE}/load",
    responses=responses(200, array_of(SimLoad), "The curves set", errors=(404, 422, 503)),
)
def list_loads(
    vim_id: str, svc: Services = Depends(services), who: Principal = Depends(reader)
) -> JSONResponse:
    """The load curves set through the API."""
    return JSONResponse(_control(svc).loads(vim_id, scope_of(who)))
