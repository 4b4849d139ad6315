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
from nfvo.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NfvoError,
    NotFound,
    UnprocessableEntity,
)
from nfvo.vim.base import VimBadRequest, VimConflict, VimError, VimNotFound
from nfvo.vim.sim.config import LoadConfig
from nfvo.vim.sim.curves import SERVER_METRICS

router = APIRouter(prefix="/admin/v1", tags=["admin"])
BASE = "/vim_accounts/{vim_id}/sim"
Id = Field(None, min_length=1, max_length=255)


class ServiceUnavailable(NfvoError):
    """The sim's state file cannot be read or written just now."""

    status = 503
    title = "Service Unavailable"


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
    curve: LoadConfig | None


class SimLoad(Open):
    """A load curve set on a target."""

    target: dict[str, str]
    metric: str
    curve: dict[str, Any] | None = None
    setAt: str


_FAULT_FIELDS = {"HOST_DOWN": "host", "SERVER_CRASH": "serverId", "NETWORK_DOWN": "networkId"}
_TARGET_KINDS = {"serverId": "server", "vnfInstanceId": "vnf", "host": "host"}
assert set(SERVER_METRICS) == {"cpu_utilization", "memory_utilization", "disk_utilization"}


def _sim_driver(svc: Services, vim_id: str, who: Principal, *, write: bool) -> Any:
    """The driver of a sim VIM account the caller sees (and, to ``write``, owns)."""
    scope = scope_of(who)
    vim = svc.resources.get_vim(vim_id, scope)
    if write and not scope.owns(vim.tenant_id):
        raise Forbidden(f"VIM account {vim_id} is shared; only a global operator may drive it")
    if vim.vim_type != "sim":
        raise UnprocessableEntity(
            f"VIM account {vim.name} ({vim_id}) is of type {vim.vim_type}: faults and load "
            "curves are injected on sim VIM accounts only",
            field="vimAccountId",
            vimAccountId=vim_id,
            vimType=vim.vim_type,
        )
    return svc.resources.driver(vim_id)


def _problem(exc: VimError, field: str | None = None) -> NfvoError:
    """The ProblemDetails of a sim driver's refusal."""
    text = exc.message
    if isinstance(exc, VimBadRequest):
        return UnprocessableEntity(text, field=field) if field else BadRequest(text)
    if isinstance(exc, VimConflict):
        return Conflict(text)
    if isinstance(exc, VimNotFound):
        return NotFound(text)
    return ServiceUnavailable(text)


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
    field = _FAULT_FIELDS[body.kind]
    target = getattr(body, field)
    others = [f for f in _FAULT_FIELDS.values() if f != field and getattr(body, f) is not None]
    if target is None:
        raise BadRequest(f"a {body.kind} fault names its {field}", field=field)
    if others:
        raise BadRequest(f"a {body.kind} fault names only its {field}", field=others[0])
    driver = _sim_driver(svc, vim_id, who, write=True)
    try:
        fault = driver.inject_fault(body.kind, target)
    except VimError as exc:
        raise _problem(exc, field) from None
    location = f"/admin/v1/vim_accounts/{vim_id}/sim/faults/{fault.id}"
    return JSONResponse(fault.view(), status_code=201, headers={"Location": location})


@router.get(
    f"{BASE}/faults",
    responses=responses(200, array_of(SimFault), "Active injected faults", errors=(404, 422, 503)),
)
def list_faults(
    vim_id: str, svc: Services = Depends(services), who: Principal = Depends(reader)
) -> JSONResponse:
    """The faults injected and not yet cleared, oldest first."""
    driver = _sim_driver(svc, vim_id, who, write=False)
    try:
        return JSONResponse([f.view() for f in driver.injected_faults()])
    except VimError as exc:
        raise _problem(exc) from None


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
    driver = _sim_driver(svc, vim_id, who, write=True)
    if len(fault_id) > 64:
        raise NotFound(f"no active injected fault {fault_id[:64]}…")
    try:
        return JSONResponse(driver.clear_fault(fault_id).view())
    except VimError as exc:
        raise _problem(exc) from None


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
    field, target_id = named[0]
    driver = _sim_driver(svc, vim_id, who, write=True)
    try:
        entry = driver.set_load(_TARGET_KINDS[field], target_id, body.metric, body.curve)
    except VimError as exc:
        raise _problem(exc, f"target.{field}") from None
    return JSONResponse(entry.view())


@router.get(
    f"{BASE}/load",
    responses=responses(200, array_of(SimLoad), "The curves set", errors=(404, 422, 503)),
)
def list_loads(
    vim_id: str, svc: Services = Depends(services), who: Principal = Depends(reader)
) -> JSONResponse:
    """The load curves set through the API."""
    driver = _sim_driver(svc, vim_id, who, write=False)
    try:
        return JSONResponse([e.view() for e in driver.loads()])
    except VimError as exc:
        raise _problem(exc) from None
