"""NS LCM operation occurrences: a paged list, and one operation's live page (state, VNFs
done, current step, the engine's recorded steps, the error and its cause, and the task
buttons its state allows), kept up to date over server-sent events that poll the op row.

The task buttons call ``LcmService.act`` as the ``nslcm`` task resources do."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from nfvo.api.deps import Services, services
from nfvo.errors import BadRequest, Conflict, NotFound
from nfvo.lcm import codec, engine
from nfvo.lcm.model import ChangeSet
from nfvo.lcm.states import TERMINAL, OpState, OpType, Trigger, client_triggers
from nfvo.ui.render import block_html, fragment, page, sse
from nfvo.ui.session import UiUser, operator, viewer

if TYPE_CHECKING:
    from nfvo.inventory.models import NsLcmOpOcc

log = logging.getLogger(__name__)
router = APIRouter()
TEMPLATE = "ops/detail.html"
PAGE_SIZE = 50
MAX_GENERATIONS = 5  # attempts whose recorded steps the timeline shows
OP_STATES = [s.value for s in OpState]
OP_TYPES = [t.value for t in OpType]
TRIGGER_LABELS = {
    Trigger.RETRY: "Retry",
    Trigger.ROLLBACK: "Rollback",
    Trigger.CONTINUE: "Continue",
    Trigger.FAIL: "Fail",
    Trigger.CANCEL: "Cancel",
}
# the engine's checkpointed steps (nfvo.lcm.engine), in words
STEP_LABELS = {
    "nfvo.plan_and_link": "planned, placed, NS virtual links created",
    "nfvo.deploy_layer": "VNFs of a layer deployed",
    "nfvo.finish_instantiate": "NS instantiated",
    "nfvo.terminate_layers": "VNFs ordered for removal",
    "nfvo.terminate_layer": "VNFs of a layer removed",
    "nfvo.terminate_vnf": "VNF removed",
    "nfvo.delete_ns_vls": "NS virtual links deleted",
    "nfvo.finish_terminate": "NS terminated",
    "nfvo.rollback_instantiate": "everything the instantiation created removed",
    "nfvo.rollback_modify": "changes undone",
    "nfvo.record_failure": "failure recorded",
    "nfvo.check_cancel": "checked for cancellation",
    "nfvo.begin_modify": "changes prepared",
    "nfvo.scale_vnf": "VNF scaled",
    "nfvo.heal_vnf": "VNF healed",
    "nfvo.operate_vnf": "VNF state changed",
    "nfvo.finish_modify": "changes completed",
    "nfvo.set_spec": "VNF flavour set",
    "nfvo.deploy_vnf": "VNF deployed",
    "nfvo.migrate_vdus": "VDUs migrated",
}
PER_VNF_STEPS = ("nfvo.scale_vnf", "nfvo.heal_vnf", "nfvo.operate_vnf", "nfvo.deploy_vnf")


@dataclass
class Step:
    """One recorded step of the operation's workflow."""

    attempt: str
    name: str
    label: str
    at: str
    error: str | None = None


@dataclass
class Progress:
    """How far an operation is: VNFs done of those it acts on, the step it is at, and the
    engine's recorded steps."""

    vnfs_done: int
    vnfs_total: int
    current: str
    steps: list[Step] = field(default_factory=list)


def _when(epoch_ms: int | None) -> str:
    if epoch_ms is None:
        return ""
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).strftime("%H:%M:%S.%f")[:-3]


def _workflow_steps(op_id: str, generation: int, rollback: bool, attempt: str) -> list[Step]:
    """The checkpointed steps of one attempt (or rollback), labelled for the timeline."""
    out: list[Step] = []
    for rec in engine.recorded_steps(op_id, generation, rollback=rollback):
        if rec.name == "nfvo.record_failure" and out:
            # the workflow records a failure right after the step that raised
            out[-1].label = f"{out[-1].name.removeprefix('nfvo.').replace('_', ' ')} failed"
            out[-1].error = out[-1].error or "see the error above"
        out.append(
            Step(
                attempt,
                rec.name,
                STEP_LABELS.get(rec.name, rec.name.removeprefix("nfvo.").replace("_", " ")),
                _when(rec.completed_at_ms),
                rec.error,
            )
        )
    return out


def _recorded_steps(op: NsLcmOpOcc, cache: dict[str, list[Step]] | None = None) -> list[Step]:
    """The recorded steps of the op's workflows (its last attempts and rollbacks); none when
    the engine's records cannot be read. ``cache``: steps of earlier attempts, which no longer
    change, kept between the polls of one stream."""
    cache = {} if cache is None else cache
    out: list[Step] = []
    try:
        for gen in range(max(1, op.generation - MAX_GENERATIONS + 1), op.generation + 1):
            for rollback, word in ((False, "attempt"), (True, "rollback")):
                wf = engine.workflow_id(op.id, gen, rollback=rollback)
                steps = cache.get(wf)
                if steps is None:
                    steps = _workflow_steps(op.id, gen, rollback, f"{word} {gen}")
                    if gen < op.generation:
                        cache[wf] = steps
                out += steps
    except Exception as exc:  # the timeline is an extra: the page works without it
        log.debug("no step records of op %s: %s", op.id, exc)
        return []
    return out


def progress_of(
    svc: Services, op: NsLcmOpOcc, cache: dict[str, list[Step]] | None = None
) -> Progress:
    """VNFs done k/n and the current step, from the NS's VNF rows, the op's change set and
    the engine's step records."""
    steps = _recorded_steps(op, cache)
    state = OpState(op.state)
    gen_run = f"attempt {op.generation}"
    this_run = [s.name for s in steps if s.attempt == gen_run]
    vnfs = svc.lcm.read.vnf_states(op.ns_instance_id)
    if op.operation == OpType.INSTANTIATE:
        total, done = len(vnfs), sum(vnfs.values())
        verb, first = "deploying VNFs", "planning and placing"
    elif op.operation == OpType.TERMINATE:
        total, done = len(vnfs), sum(not v for v in vnfs.values())
        verb, first = "removing VNFs", "ordering VNFs for removal"
    else:
        changes = codec.from_json(ChangeSet, op.changes) if op.changes else ChangeSet()
        targets = {vnf_id for vnf_id, _ in changes.vnf_operations()}
        total = len(targets)
        done = sum(1 for n in this_run if n in PER_VNF_STEPS)
        if "nfvo.deploy_layer" in this_run:
            done += len(changes.add)
        if "nfvo.terminate_layer" in this_run:
            done += len(changes.remove)
        done = min(done, total)
        verb, first = "changing VNFs", "preparing the changes"
    if state is OpState.COMPLETED:
        done = total
    if state is OpState.STARTING:
        current = "waiting for the engine"
    elif state is OpState.PROCESSING:
        if not this_run and done == 0:
            current = first
        elif done < total:
            current = f"{verb} ({done}/{total})"
        else:
            current = "finishing"
    elif state is OpState.ROLLING_BACK:
        current = "rolling back"
    elif state is OpState.FAILED_TEMP:
        title = (op.error or {}).get("title") or "a step failed"
        current = f"stopped: {title}; retry, roll back, continue or fail it"
    else:
        current = state.value.lower().replace("_", " ")
    return Progress(done, total, current, steps)


def _cause(error: dict[str, Any] | None) -> list[tuple[str, str]]:
    """The members of the op's ProblemDetails beyond title, status and detail."""
    if not error:
        return []
    skip = {"type", "title", "status", "detail"}
    return [(k, str(v)) for k, v in error.items() if k not in skip]


def _live_values(
    svc: Services,
    op: NsLcmOpOcc,
    user: UiUser,
    cache: dict[str, list[Step]] | None = None,
    notice: str | None = None,
) -> dict[str, Any]:
    triggers = client_triggers(op.state, op.operation) if user.can_operate else []
    return {
        "op": op,
        "progress": progress_of(svc, op, cache),
        "notice": notice,
        "triggers": [(t.value, TRIGGER_LABELS[t]) for t in triggers],
        "cause": _cause(op.error),
    }


def _digest(html: str) -> str:
    return hashlib.sha256(html.encode()).hexdigest()[:16]


def _cursor(row: Any) -> str:
    return f"{row.start_time.isoformat()}|{row.id}"


@router.get("/ui/ops", response_class=HTMLResponse)
def ops_list(
    request: Request,
    ns: str = Query("", max_length=36),
    state: str = Query("", max_length=24),
    operation: str = Query("", max_length=16),
    before: str = Query("", max_length=120),
    user: UiUser = Depends(viewer),
    svc: Services = Depends(services),
) -> HTMLResponse:
    """Operation occurrences, newest first, a page at a time, filtered by NS, state or
    type."""
    if state and state not in OP_STATES:
        raise BadRequest(f"state must be one of {', '.join(OP_STATES)}", field="state")
    if operation and operation not in OP_TYPES:
        raise BadRequest(f"operation must be one of {', '.join(OP_TYPES)}", field="operation")
    cursor = None
    if before:
        when, _, last_id = before.partition("|")
        try:
            cursor = (datetime.fromisoformat(when), last_id)
        except ValueError:
            raise BadRequest("before is not a page cursor of this list", field="before") from None
    rows = svc.lcm.read.recent_ops(
        user.tenant_id,
        before=cursor,
        limit=PAGE_SIZE + 1,
        ns_instance_id=ns,
        state=state,
        operation=operation,
    )
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return page(
        request,
        "ops/list.html",
        rows=rows,
        next_before=_cursor(rows[-1]) if more else "",
        ns_filter=ns,
        state_filter=state,
        operation_filter=operation,
        states=OP_STATES,
        operations=OP_TYPES,
        paged=bool(before),
    )


@router.get("/ui/ops/{op_id}", response_class=HTMLResponse)
def op_detail(
    op_id: str,
    request: Request,
    user: UiUser = Depends(viewer),
    svc: Services = Depends(services),
) -> HTMLResponse:
    """One operation occurrence, followed live."""
    op = svc.lcm.op(op_id, user.tenant_id)
    values = _live_values(svc, op, user)
    version = _digest(block_html(request, TEMPLATE, "live", **values))
    return page(request, TEMPLATE, version=version, **values)


@router.get("/ui/ops/{op_id}/events")
async def op_events(
    op_id: str,
    request: Request,
    v: str = "",
    user: UiUser = Depends(viewer),
    svc: Services = Depends(services),
) -> StreamingResponse:
    """Server-sent events of one operation: ``live`` (state, progress, error, buttons)
    whenever it changes, polling the op row every 0.5 s (any worker, any database); the
    stream ends with ``done`` once the op is COMPLETED, FAILED or ROLLED_BACK. ``v``: the
    version of the part the page shows already."""
    await run_in_threadpool(svc.lcm.op, op_id, user.tenant_id)  # 404 before streaming
    seen = {"version": v}
    cache: dict[str, list[Step]] = {}

    def check() -> tuple[list[tuple[str, str]], bool]:
        try:
            op = svc.lcm.op(op_id, user.tenant_id)
        except NotFound:
            return [("live", "<p class='problem'>This operation no longer exists.</p>")], True
        html = block_html(request, TEMPLATE, "live", **_live_values(svc, op, user, cache))
        version = _digest(html)
        events = [] if version == seen["version"] else [("live", html)]
        seen["version"] = version
        return events, OpState(op.state) in TERMINAL

    async def poll() -> tuple[list[tuple[str, str]], bool]:
        return await run_in_threadpool(check)

    return sse(request, poll, interval=0.5)


@router.post("/ui/ops/{op_id}/{trigger}", response_class=HTMLResponse)
def op_task(
    op_id: str,
    trigger: str,
    request: Request,
    user: UiUser = Depends(operator),
    svc: Services = Depends(services),
) -> Response:
    """retry / rollback / continue / fail / cancel, as the nslcm task resources; answers
    with the op's live part (the buttons its new state allows)."""
    try:
        task = Trigger(trigger)
    except ValueError:
        tasks = "retry, rollback, continue, fail, cancel"
        raise NotFound(f"no task {trigger!r}; tasks: {tasks}") from None
    if task is Trigger.ENGINE:
        raise NotFound("no task 'engine'")
    notice = None
    try:
        svc.lcm.act(op_id, task, user.tenant_id)
    except Conflict as exc:  # the state moved on meanwhile: show why, with today's buttons
        notice = exc.detail
    op = svc.lcm.op(op_id, user.tenant_id)
    return fragment(request, TEMPLATE, "live", **_live_values(svc, op, user, notice=notice))
