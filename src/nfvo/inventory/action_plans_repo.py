"""Rows of action plans (consolidation / rebalance) and their migration steps, and the reads
of the live inventory a plan is computed from (the VNFCs nfvo runs on a VIM).

Concurrency: a plan changes state only by a conditional UPDATE on its current state
(``move``), so of two racing applies (or an apply and a cancel) exactly one wins, on SQLite as
on PostgreSQL. A step row is written only by the op occurrence it was handed to.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from nfvo.inventory.models import ActionPlan, ActionPlanStep, NsInstance, NsVnf, NsVnfc, utcnow
from nfvo.inventory.paging import PageQuery, fetch_after, owned_by


class ActionPlanRepository:
    """Action plans and their steps."""

    def __init__(self, s: Session) -> None:
        self.s = s

    def add(self, plan: ActionPlan, steps: Iterable[ActionPlanStep]) -> None:
        """Insert a plan and its steps."""
        self.s.add(plan)
        self.s.flush()
        self.s.add_all(list(steps))

    def get(self, plan_id: str) -> ActionPlan | None:
        """One plan (None when absent)."""
        return self.s.get(ActionPlan, plan_id)

    def page(self, query: PageQuery, *, tenant: str | None) -> list[Any]:
        """One chunk of the plans a caller owns, by creation."""
        return fetch_after(
            self.s,
            ActionPlan,
            (ActionPlan.created_at, ActionPlan.id),
            query,
            visible=owned_by(ActionPlan, tenant),
        )

    def steps(self, plan_ids: Sequence[str]) -> dict[str, list[ActionPlanStep]]:
        """The steps of several plans in execution order, by plan id."""
        out: dict[str, list[ActionPlanStep]] = {p: [] for p in plan_ids}
        if not plan_ids:
            return out
        q = (
            select(ActionPlanStep)
            .where(ActionPlanStep.plan_id.in_(list(plan_ids)))
            .order_by(ActionPlanStep.plan_id, ActionPlanStep.seq)
        )
        for row in self.s.execute(q).scalars():
            out[row.plan_id].append(row)
        return out

    def steps_of_op(self, op_id: str) -> list[ActionPlanStep]:
        """The steps an op occurrence applies, in plan order."""
        q = (
            select(ActionPlanStep)
            .where(ActionPlanStep.op_occ_id == op_id)
            .order_by(ActionPlanStep.seq)
        )
        return list(self.s.execute(q).scalars())

    def move(self, plan_id: str, current: str, target: str, **values: Any) -> bool:
        """Set the plan's state to ``target`` if it is ``current`` (one conditional UPDATE:
        of racing callers exactly one gets True)."""
        q = (
            update(ActionPlan)
            .where(ActionPlan.id == plan_id, ActionPlan.state == current)
            .values(state=target, updated_at=utcnow(), **values)
        )
        return bool(self.s.execute(q).rowcount)  # type: ignore[attr-defined]

    def supersede(self, vim_id: str, current: str, target: str, keep: str) -> None:
        """Every other plan of the VIM in state ``current`` goes to ``target``."""
        self.s.execute(
            update(ActionPlan)
            .where(ActionPlan.vim_id == vim_id, ActionPlan.state == current)
            .where(ActionPlan.id != keep)
            .values(state=target, updated_at=utcnow())
        )

    def set_steps(
        self, plan_id: str, ns_id: str, *, only_state: str | None = None, **values: Any
    ) -> None:
        """Set columns of every step of one NS in a plan (``only_state``: those in it)."""
        q = update(ActionPlanStep).where(
            ActionPlanStep.plan_id == plan_id, ActionPlanStep.ns_instance_id == ns_id
        )
        if only_state is not None:
            q = q.where(ActionPlanStep.state == only_state)
        self.s.execute(q.values(**values))

    def set_step(self, plan_id: str, seq: int, **values: Any) -> None:
        """Set columns of one step."""
        self.s.execute(
            update(ActionPlanStep)
            .where(ActionPlanStep.plan_id == plan_id, ActionPlanStep.seq == seq)
            .values(**values)
        )

    # -- the live inventory a plan starts from ---------------------------------------------
    def running_on(self, vim_id: str) -> list[tuple[NsVnfc, NsVnf, NsInstance]]:
        """The VNFCs with a server on a VIM, with their VNF instance and NS."""
        q = (
            select(NsVnfc, NsVnf, NsInstance)
            .join(NsVnf, NsVnf.id == NsVnfc.vnf_instance_id)
            .join(NsInstance, NsInstance.id == NsVnfc.ns_instance_id)
            .where(NsVnfc.vim_account_id == vim_id, NsVnfc.server_id.is_not(None))
            .order_by(NsVnfc.ns_instance_id, NsVnfc.vnf_instance_id, NsVnfc.vdu_id, NsVnfc.idx)
        )
        return [(c, v, n) for c, v, n in self.s.execute(q).all()]

    def vnfc(self, vnf_id: str, vdu_id: str, idx: int) -> NsVnfc | None:
        """One VNFC row."""
        return self.s.get(NsVnfc, (vnf_id, vdu_id, idx))

    def move_vnfc(self, vnf_id: str, vdu_id: str, idx: int, host: str, zone: str | None) -> None:
        """Record where a VNFC runs now."""
        self.s.execute(
            update(NsVnfc)
            .where(NsVnfc.vnf_instance_id == vnf_id, NsVnfc.vdu_id == vdu_id, NsVnfc.idx == idx)
            .values(host=host, zone=zone, updated_at=utcnow())
        )
