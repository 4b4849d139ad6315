"""Consolidation and rebalance action plans (OpenStack Watcher's ``server_consolidation`` and
``workload_balancing`` goals): computed from the live inventory of one VIM, stored, inspected,
and applied as NS LCM op occurrences that migrate VDU instances.

Applying a plan starts one op occurrence per affected NS through ``LcmService`` (the one
LCM entry point: it claims the NS with one conditional UPDATE, so an NS that has another
operation open is refused and its migrations are SKIPPED). SOL005 has no migrate operation
type; the op is an ``UPDATE`` whose ``operationParams`` are
``{"actionPlanId", "migrations": [...]}``. Its workflow runs ``migrate_vdus`` (one checkpointed
step): per migration in plan order, it reads where the server runs now on the VIM, asks the
VIM to move it unless it is already on the target, then records the VNFC's new host and the
step DONE in one short transaction, so a process killed anywhere resumes without a lost or
duplicated VDU. A migration waits until every earlier migration of the plan (of any NS) is
finished: the planner's order is what makes each move fit.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, is_dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from nfvo.catalog.service import CatalogService
from nfvo.errors import Conflict, Forbidden, NfvoError, NotFound, UnprocessableEntity
from nfvo.inventory.action_plans_repo import ActionPlanRepository
from nfvo.inventory.db import Database
from nfvo.inventory.lcm_repo import NsRecordsRepository, OpOccRepository
from nfvo.inventory.models import ActionPlan, ActionPlanStep
from nfvo.inventory.resources_repo import VimRepository
from nfvo.inventory.windows_repo import held_hosts
from nfvo.lcm import codec, steps
from nfvo.lcm.action_inputs import (
    PlanInputs,
    RunningRow,
    demand_key,
    host_capacities,
    running_inputs,
    split_demand,
)
from nfvo.lcm.action_states import (
    PlanEvent,
    PlanState,
    StepState,
    plan_transition,
)
from nfvo.lcm.states import OpState
from nfvo.query import PageQuery
from nfvo.resources.service import ResourceService, Scope
from nfvo.vim.base import VimError

if TYPE_CHECKING:  # the LCM service imports the engine, which imports this module
    from nfvo.lcm.service import LcmService
    from nfvo.optimizer.plans import Evacuation

GOALS = ("server_consolidation", "workload_balancing")
GOAL_EVACUATION = "host_evacuation"  # an availability window's drain (not requested by users)
KUBERNETES_NOT_APPLICABLE = (
    "not applicable: Kubernetes reschedules pods itself; nfvo does not migrate them"
)
# Inventory older than this is re-synced from the VIM before planning.
FRESH_SYNC_S = 5.0
PLANNER_BUDGET_S = 2.0
# How long a migration waits for the earlier migrations of its plan (other NSs' ops).
WAIT_FOR_EARLIER_S = 600.0
# A plan's op still STARTING this long after it was created lost its start to a crash.
RESUME_AFTER_S = 5.0
_PARAMS = ("maxMigrations", "targetSpread")
_RUNNING_OPS = (OpState.STARTING, OpState.PROCESSING, OpState.ROLLING_BACK)


class ActionPlanService:
    """Action plans of VIM accounts: create from live inventory, list, show, cancel, apply."""

    def __init__(
        self,
        db: Database,
        catalog: CatalogService,
        resources: ResourceService,
        lcm: LcmService,
    ) -> None:
        self.db = db
        self.catalog = catalog
        self.resources = resources
        self.lcm = lcm

    # -- create --------------------------------------------------------------------------
    def create(self, body: dict[str, Any], tenant: str | None) -> ActionPlan:
        """Compute a plan for one VIM from its live inventory and store it RECOMMENDED (an
        older RECOMMENDED plan of the VIM is SUPERSEDED)."""
        vim_id, goal = body["vimAccountId"], body["goal"]
        vim = self._vim(vim_id, tenant)
        inputs = self.inputs(vim.id)
        try:
            result = _run_planner(goal, inputs, body)
        except ValueError as exc:  # the planners refuse an input that does not add up
            raise Conflict(
                f"cannot plan on VIM account {vim.name}: {exc}; sync it and retry",
                vimAccountId=vim.id,
            ) from None
        params = {k: v for k, v in body.items() if k in _PARAMS and v is not None}
        return self._store(vim.id, goal, params, result, inputs, tenant, supersede=True)

    def _store(
        self,
        vim_id: str,
        goal: str,
        params: dict[str, Any],
        result: Any,
        inputs: PlanInputs,
        tenant: str | None,
        *,
        supersede: bool = False,
    ) -> ActionPlan:
        """A planner's answer stored RECOMMENDED with its steps (``supersede``: an older
        RECOMMENDED plan of the VIM becomes SUPERSEDED in the same transaction)."""
        plan = ActionPlan(
            id=str(uuid.uuid4()),
            tenant_id=tenant,
            vim_id=vim_id,
            goal=goal,
            params=params,
            state=PlanState.RECOMMENDED,
            metrics={
                "before": _plain(result.before),
                "after": _plain(result.after),
                "unmet": _plain(result.unmet),
                "solveTimeS": float(result.solve_time_s),
                "running": len(inputs.running),
                "hosts": len(inputs.hosts),
            },
            emptiable_bound=None if result.emptiable_bound is None else int(result.emptiable_bound),
            hosts_emptied=sorted(result.hosts_emptied),
        )
        rows = []
        for seq, mig in enumerate(result.migrations):
            ref = inputs.vnfcs[mig.demand_id]
            rows.append(
                ActionPlanStep(
                    plan_id=plan.id,
                    seq=seq,
                    demand_id=mig.demand_id,
                    server_id=ref.server_id,
                    ns_instance_id=ref.ns_id,
                    vnf_instance_id=ref.vnf_id,
                    source=mig.source,
                    target=mig.target,
                    batch=getattr(mig, "batch", None),
                    state=StepState.PENDING,
                )
            )
        with self.db.session() as s:
            repo = ActionPlanRepository(s)
            repo.add(plan, rows)
            if supersede:
                repo.supersede(vim_id, PlanState.RECOMMENDED, PlanState.SUPERSEDED, keep=plan.id)
        return plan

    # -- evacuation (availability windows) ------------------------------------------------
    def evacuation(self, vim_id: str, hosts: Iterable[str]) -> Evacuation:
        """What moving every VDU instance off ``hosts`` of a VIM takes, from its live
        inventory (nothing stored): the migrations, or the dimension that is short."""
        inputs = self.inputs(vim_id)
        return _evacuate(inputs, hosts)

    def evacuate(self, vim_id: str, hosts: Iterable[str]) -> tuple[ActionPlan | None, Evacuation]:
        """Move every VDU instance off ``hosts``: a ``host_evacuation`` plan stored and
        applied at once (no tenant's: the system's), as a user applies a plan; None when
        nothing runs there or the instances cannot all leave (the evacuation says why)."""
        hosts = sorted(set(hosts))
        inputs = self.inputs(vim_id)
        result = _evacuate(inputs, hosts)
        if not result.complete or not result.plan.migrations:
            return None, result
        plan = self._store(vim_id, GOAL_EVACUATION, {"hosts": hosts}, result.plan, inputs, None)
        return self.apply(plan.id, None), result

    def _vim(self, vim_id: str, tenant: str | None) -> Any:
        """The VIM account a plan is for: the caller must own it (a tenant admin plans only on
        its own VIMs: a shared one runs other tenants' NSs); not Kubernetes; ENABLED."""
        scope = Scope(tenant)
        try:
            vim = self.resources.get_vim(vim_id, scope)
        except NotFound:
            raise UnprocessableEntity(
                f"VIM account {vim_id!r} does not exist", field="vimAccountId"
            ) from None
        if not scope.owns(vim.tenant_id):
            raise Forbidden(
                f"VIM account {vim.name} is shared; only a global admin may plan migrations on it"
            )
        if vim.vim_type == "kubernetes":
            raise UnprocessableEntity(
                KUBERNETES_NOT_APPLICABLE, field="vimAccountId", vimAccountId=vim.id
            )
        if vim.operational_state not in ("ENABLED", "PROCESSING"):
            raise UnprocessableEntity(
                f"VIM account {vim.name} ({vim.id}) is {vim.operational_state}, not ENABLED",
                field="vimAccountId",
                vimAccountId=vim.id,
            )
        return vim

    def inputs(self, vim_id: str) -> PlanInputs:
        """The planners' input from the VIM's inventory (re-synced first when stale)."""
        self.resources.sync_if_older(vim_id, FRESH_SYNC_S)
        with self.db.session() as s:
            vims = VimRepository(s)
            rows = vims.hosts(vim_id)
            held = held_hosts(s, vim_id, [(h.name, h.zone) for h in rows])
            hosts = host_capacities(rows, vims.placed_since_sync(vim_id), held)
            rows = [
                RunningRow(
                    ns_id=n.id,
                    ns_state=n.ns_state,
                    ns_busy=n.current_op_id is not None,
                    nsd_info_id=n.nsd_info_id,
                    flavour_id=n.flavour_id,
                    vnf_id=v.id,
                    vnf_spec=dict(v.spec or {}),
                    vdu_id=c.vdu_id,
                    index=c.idx,
                    server_id=c.server_id or "",
                    host=c.host,
                )
                for c, v, n in ActionPlanRepository(s).running_on(vim_id)
            ]
        return running_inputs(vim_id, hosts, rows, self.catalog.ns_descriptors)

    # -- read, cancel --------------------------------------------------------------------
    def get(self, plan_id: str, tenant: str | None) -> tuple[ActionPlan, list[ActionPlanStep]]:
        """One plan visible to the caller, with its steps (an APPLYING plan whose ops have
        all stopped is settled first)."""
        with self.db.session() as s:
            plan = ActionPlanRepository(s).get(plan_id)
        if plan is None or not Scope(tenant).owns(plan.tenant_id):
            raise NotFound(f"action plan {plan_id} does not exist")
        if plan.state == PlanState.APPLYING:
            self._resume(plan_id)
        if plan.state in (PlanState.APPLYING, PlanState.FAILED):
            settle(self.db, plan_id)
        with self.db.session() as s:
            repo = ActionPlanRepository(s)
            plan = repo.get(plan_id)
            assert plan is not None
            return plan, repo.steps([plan_id])[plan_id]

    def _resume(self, plan_id: str) -> None:
        """Start the workflows of the plan's ops still STARTING (a process died while it
        started them; idempotent: an op's workflow id is unique per attempt)."""
        with self.db.session() as s:
            rows = ActionPlanRepository(s).steps([plan_id])[plan_id]
            ops = OpOccRepository(s)
            idle = [
                o
                for op_id in dict.fromkeys(r.op_occ_id for r in rows if r.op_occ_id)
                for o in [ops.get(op_id)]
                if o is not None and o.state == OpState.STARTING and _idle_for(o, RESUME_AFTER_S)
            ]
        for occ in idle:
            self.lcm.run(occ)

    def page(
        self, tenant: str | None, query: PageQuery
    ) -> list[tuple[ActionPlan, list[ActionPlanStep]]]:
        """One chunk of the plans visible to the caller, by creation, with their steps."""
        with self.db.session() as s:
            repo = ActionPlanRepository(s)
            plans = repo.page(query, tenant=tenant)
            by_plan = repo.steps([p.id for p in plans])
            return [(p, by_plan[p.id]) for p in plans]

    def cancel(self, plan_id: str, tenant: str | None) -> None:
        """A RECOMMENDED plan becomes CANCELLED (409 in any other state)."""
        plan, _ = self.get(plan_id, tenant)
        target = plan_transition(plan.state, PlanEvent.CANCEL)
        with self.db.session() as s:
            if not ActionPlanRepository(s).move(plan_id, plan.state, target):
                s.rollback()
                self._refuse_moved(plan_id, PlanEvent.CANCEL)

    def _refuse_moved(self, plan_id: str, event: PlanEvent) -> None:
        with self.db.session() as s:
            now = ActionPlanRepository(s).get(plan_id)
        plan_transition(now.state if now else PlanState.CANCELLED, event)  # raises 409
        raise Conflict(f"action plan {plan_id} changed meanwhile; read it again")

    # -- apply ---------------------------------------------------------------------------
    def apply(self, plan_id: str, tenant: str | None) -> ActionPlan:
        """Start one UPDATE op occurrence per affected NS (409 when the plan is stale: a VNFC
        no longer runs where the plan moves it from). An NS that has another operation open
        has its migrations SKIPPED (the reason names that operation)."""
        plan, rows = self.get(plan_id, tenant)
        target = plan_transition(plan.state, PlanEvent.APPLY)
        self._check_fresh(rows)
        with self.db.session() as s:
            if not ActionPlanRepository(s).move(plan_id, plan.state, target):
                s.rollback()
                self._refuse_moved(plan_id, PlanEvent.APPLY)
        by_ns: dict[str, list[ActionPlanStep]] = {}
        for row in rows:
            by_ns.setdefault(row.ns_instance_id, []).append(row)
        claimed = [self._claim_ns(plan_id, ns_id, ns_rows) for ns_id, ns_rows in by_ns.items()]
        for occ in claimed:  # every NS claimed (or skipped) first: see LcmService.run
            if occ is not None:
                self.lcm.run(occ)
        settle(self.db, plan_id)
        return self.get(plan_id, tenant)[0]

    def _check_fresh(self, rows: list[ActionPlanStep]) -> None:
        """409 naming the first VDU instance that no longer runs where the plan moves it from."""
        seen: set[str] = set()
        with self.db.session() as s:
            repo = ActionPlanRepository(s)
            for row in rows:
                if row.demand_id in seen:
                    continue  # a second move of the same VNFC starts where the first ends
                seen.add(row.demand_id)
                vnf_id, vdu_id, index = split_demand(row.demand_id)
                vnfc = repo.vnfc(vnf_id, vdu_id, index)
                where = None if vnfc is None or vnfc.server_id != row.server_id else vnfc.host
                if where != row.source:
                    now = "is gone" if where is None else f"runs on {where} now"
                    raise Conflict(
                        f"the action plan is stale: VDU instance {demand_key(vdu_id, index)} of "
                        f"VNF instance {vnf_id} (NS instance {row.ns_instance_id}) {now}, the "
                        f"plan moves it from {row.source}; compute a new plan",
                        vduInstance=row.demand_id,
                        nsInstanceId=row.ns_instance_id,
                    )

    def _claim_ns(self, plan_id: str, ns_id: str, rows: list[ActionPlanStep]) -> Any:
        """The NS's op occurrence (not started yet), its steps bound to it in the claim's
        transaction; or None, its steps SKIPPED with the reason the NS was refused."""
        params = {
            "actionPlanId": plan_id,
            "migrations": [
                {
                    "vnfInstanceId": r.vnf_instance_id,
                    "vduInstance": r.demand_id.partition("/")[2],
                    "serverId": r.server_id,
                    "source": r.source,
                    "target": r.target,
                }
                for r in rows
            ],
        }

        def bind(s: Session, op_id: str) -> None:
            ActionPlanRepository(s).set_steps(plan_id, ns_id, op_occ_id=op_id)

        try:
            return self.lcm.start_migration(ns_id, params, bind)
        except NfvoError as exc:
            with self.db.session() as s:
                ActionPlanRepository(s).set_steps(
                    plan_id,
                    ns_id,
                    only_state=StepState.PENDING,
                    state=StepState.SKIPPED,
                    reason=f"{exc.status}: {exc.detail}",
                )
            return None


# -- the planners ----------------------------------------------------------------------------
def _run_planner(goal: str, inputs: PlanInputs, body: dict[str, Any]) -> Any:
    """The plans module's answer for ``goal``."""
    from nfvo.optimizer import plans  # the pure planners

    limit = body.get("maxMigrations")
    if goal == "server_consolidation":
        return plans.consolidate(
            inputs.hosts,
            inputs.running,
            inputs.rules,
            max_migrations=limit,
            time_budget_s=PLANNER_BUDGET_S,
        )
    spread = body.get("targetSpread")
    return plans.rebalance(
        inputs.hosts,
        inputs.running,
        inputs.rules,
        target_spread=0.1 if spread is None else spread,
        max_migrations=limit,
        time_budget_s=PLANNER_BUDGET_S,
    )


def _evacuate(inputs: PlanInputs, hosts: Iterable[str]) -> Evacuation:
    from nfvo.optimizer import plans  # the pure planners

    return plans.evacuate(
        inputs.hosts, inputs.running, inputs.rules, empty=hosts, time_budget_s=PLANNER_BUDGET_S
    )


def _plain(value: Any) -> Any:
    """A planner figure as JSON data (dataclasses, tuples and sets become objects and lists)."""
    if is_dataclass(value) and not isinstance(value, type):
        return _plain(asdict(value))
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_plain(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, float) and value != value:  # NaN is no JSON
        return None
    return value


# -- settling a plan -------------------------------------------------------------------------
def settle(db: Database, plan_id: str) -> None:
    """An APPLYING plan whose ops have all stopped ends SUCCEEDED (every step DONE) or
    FAILED (the detail counts what was done, skipped and failed); a FAILED plan whose
    retried ops finished every step SUCCEEDS after all."""
    with db.session() as s:
        repo = ActionPlanRepository(s)
        plan = repo.get(plan_id)
        if plan is None or plan.state not in (PlanState.APPLYING, PlanState.FAILED):
            return
        rows = repo.steps([plan_id])[plan_id]
        ops = OpOccRepository(s)
        states = {
            op_id: (ops.get(op_id).state if ops.get(op_id) else None)
            for op_id in {r.op_occ_id for r in rows if r.op_occ_id}
        }
        for r in rows:
            if r.state == StepState.PENDING and (
                r.op_occ_id is None or states.get(r.op_occ_id) in _RUNNING_OPS
            ):
                return  # still going
        counts = {st: sum(1 for r in rows if r.state == st) for st in StepState}
        if counts[StepState.DONE] == len(rows):
            event, detail = PlanEvent.SUCCEED, None
        else:
            event = PlanEvent.FAIL
            detail = (
                f"{counts[StepState.DONE]} of {len(rows)} migrations done, "
                f"{counts[StepState.SKIPPED]} skipped, {counts[StepState.FAILED]} failed, "
                f"{counts[StepState.PENDING]} not run (their operation stopped); "
                "see each migration's reason"
            )
        if plan.state == PlanState.FAILED and event is PlanEvent.FAIL:
            return
        repo.move(plan_id, plan.state, plan_transition(plan.state, event), detail=detail)


# -- the workflow step -----------------------------------------------------------------------
def migrates(op_id: str) -> bool:
    """Whether an op occurrence applies action plan migrations (fixed at creation)."""
    with steps.ctx().db.session() as s:
        op = OpOccRepository(s).get(op_id)
        return op is not None and bool((op.params or {}).get("actionPlanId"))


def migrate_vdus(
    op_id: str,
    tick: Callable[[], None] = lambda: None,
    start: Callable[[str, str, int], None] | None = None,
) -> None:
    """Apply the op's migrations in plan order (idempotent: a re-run after a crash reads
    where each server is and only records a move that already happened). ``tick`` runs
    after each VIM move, before it is recorded (the crash tests' hook); ``start`` starts the
    workflow of another op of the plan that is still STARTING (a process that died while
    the plan's ops were being started left it so)."""
    steps.check_cancel(op_id)
    with steps.ctx().db.session() as s:
        rows = ActionPlanRepository(s).steps_of_op(op_id)
        plan = ActionPlanRepository(s).get(rows[0].plan_id) if rows else None
    if plan is None:
        return
    driver = steps.ctx().resources.driver(plan.vim_id)
    try:
        for row in rows:
            if row.state in (StepState.DONE, StepState.SKIPPED):
                continue
            _wait_for_earlier(plan.id, row.seq, op_id, start)
            steps.check_cancel(op_id)
            _migrate_one(driver, row, tick)
    finally:
        settle(steps.ctx().db, plan.id)


def _wait_for_earlier(
    plan_id: str, seq: int, op_id: str, start: Callable[[str, str, int], None] | None
) -> None:
    """Wait until no earlier migration of the plan is still to run by a running op (whose
    workflow is started when it is still STARTING)."""
    deadline = time.monotonic() + WAIT_FOR_EARLIER_S
    started: set[str] = set()
    while True:
        with steps.ctx().db.session() as s:
            rows = ActionPlanRepository(s).steps([plan_id])[plan_id]
            ops = OpOccRepository(s)
            blocking = [
                r
                for r in rows
                if r.seq < seq
                and r.op_occ_id != op_id
                and r.state == StepState.PENDING
                and (r.op_occ_id is None or _running(ops, r.op_occ_id))
            ]
            idle = {
                (o.id, o.operation, o.generation)
                for r in blocking
                if r.op_occ_id and r.op_occ_id not in started
                for o in [ops.get(r.op_occ_id)]
                if o is not None and o.state == OpState.STARTING
            }
        if not blocking:
            return
        for idle_id, operation, generation in sorted(idle):
            if start is not None:
                start(idle_id, operation, generation)
            started.add(idle_id)
        if time.monotonic() > deadline:
            first = blocking[0]
            raise steps.OpFailure(
                {
                    "title": "Migration not started",
                    "status": 409,
                    "detail": f"migration {seq} of action plan {plan_id} waited "
                    f"{WAIT_FOR_EARLIER_S:g} s for migration {first.seq} "
                    f"({first.demand_id}), which the plan runs first",
                    "actionPlanId": plan_id,
                }
            )
        time.sleep(0.1)


def _idle_for(op: Any, seconds: float) -> bool:
    """Whether an op occurrence has been in its state for more than ``seconds``."""
    entered = op.state_entered_time
    if entered.tzinfo is None:
        entered = entered.replace(tzinfo=UTC)
    return (datetime.now(UTC) - entered).total_seconds() > seconds


def _running(ops: OpOccRepository, op_id: str) -> bool:
    op = ops.get(op_id)
    return op is not None and op.state in _RUNNING_OPS


def _migrate_one(driver: Any, row: ActionPlanStep, tick: Callable[[], None]) -> None:
    """Move one VNFC's server to the step's target (unless it is there already), then
    record its host and zone and the step DONE in one transaction."""
    vnf_id, vdu_id, index = split_demand(row.demand_id)
    failure: steps.OpFailure | None = None
    try:
        server = driver.get_server(row.server_id)
        if server.host != row.target:
            if server.host != row.source:
                why = f"its server runs on {server.host}, not on {row.source} any more"
                failure = _step_failure(row, why)
            else:
                server = driver.migrate_server(row.server_id, row.target)
                tick()
    except VimError as exc:
        failure = _step_failure(row, f"the VIM refused: {exc.message}", exc.to_dict())
    if failure is not None:
        _record_failed(row, str(failure.problem["reason"]))
        raise failure
    with steps.ctx().db.session() as s:
        repo = ActionPlanRepository(s)
        repo.move_vnfc(vnf_id, vdu_id, index, server.host or row.target, server.zone)
        vnf = NsRecordsRepository(s).vnf(vnf_id)
        if vnf is not None:
            spec = codec.spec_from_json(vnf.spec)
            spec.hosts[demand_key(vdu_id, index)] = server.host or row.target
            NsRecordsRepository(s).update_vnf(vnf_id, spec=codec.to_json(spec))
        repo.set_step(row.plan_id, row.seq, state=StepState.DONE, reason=None)


def _step_failure(
    row: ActionPlanStep, why: str, extra: dict[str, Any] | None = None
) -> steps.OpFailure:
    vnf_id, vdu_id, index = split_demand(row.demand_id)
    detail = (
        f"migration of VDU instance {demand_key(vdu_id, index)} of VNF instance {vnf_id} "
        f"(server {row.server_id}) from {row.source} to {row.target} failed: {why}"
    )
    return steps.OpFailure(
        {
            "title": "Migration failed",
            "status": 409,
            "detail": detail,
            "reason": why,
            "actionPlanId": row.plan_id,
            "vduInstance": row.demand_id,
            **(extra or {}),
        }
    )


def _record_failed(row: ActionPlanStep, reason: str) -> None:
    with steps.ctx().db.session() as s:
        ActionPlanRepository(s).set_step(
            row.plan_id, row.seq, state=StepState.FAILED, reason=reason
        )
