"""Action plan and action plan step states, declared once (as OpenStack Watcher's action plan
states, without its PENDING/ONGOING split: nfvo computes a plan synchronously).

A plan is RECOMMENDED when computed; an admin applies it (APPLYING) or cancels it
(CANCELLED); a newer plan of the same VIM SUPERSEDES a RECOMMENDED one (its migrations were
computed on an inventory that the newer plan saw change). An APPLYING plan ends SUCCEEDED
when every step is DONE, else FAILED (a step FAILED or SKIPPED, the plan's ``detail`` and
each step's ``reason`` say why; it SUCCEEDS after all when its FAILED_TEMP ops are
retried and finish every step). Handlers change states only through ``plan_transition``.
"""

from __future__ import annotations

from enum import StrEnum

from nfvo.errors import Conflict


class PlanState(StrEnum):
    """Where an action plan is in its life."""

    RECOMMENDED = "RECOMMENDED"
    APPLYING = "APPLYING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    SUPERSEDED = "SUPERSEDED"


class PlanEvent(StrEnum):
    """What moves a plan: the admin (apply, cancel), a newer plan, or the applying ops."""

    APPLY = "apply"
    CANCEL = "cancel"
    SUPERSEDE = "supersede"
    SUCCEED = "succeed"
    FAIL = "fail"


class StepState(StrEnum):
    """Where one migration of a plan is."""

    PENDING = "PENDING"
    DONE = "DONE"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"


# (from, event) -> to; anything else is refused (409)
PLAN_TRANSITIONS: dict[tuple[PlanState, PlanEvent], PlanState] = {
    (PlanState.RECOMMENDED, PlanEvent.APPLY): PlanState.APPLYING,
    (PlanState.RECOMMENDED, PlanEvent.CANCEL): PlanState.CANCELLED,
    (PlanState.RECOMMENDED, PlanEvent.SUPERSEDE): PlanState.SUPERSEDED,
    (PlanState.APPLYING, PlanEvent.SUCCEED): PlanState.SUCCEEDED,
    (PlanState.APPLYING, PlanEvent.FAIL): PlanState.FAILED,
    # the ops of a FAILED plan were retried (SOL005 retry) and finished every migration
    (PlanState.FAILED, PlanEvent.SUCCEED): PlanState.SUCCEEDED,
}
FINAL = frozenset(
    {PlanState.SUCCEEDED, PlanState.FAILED, PlanState.CANCELLED, PlanState.SUPERSEDED}
)


def plan_transition(state: PlanState | str, event: PlanEvent) -> PlanState:
    """The plan's state after ``event``; Conflict (409) naming the state when not allowed."""
    current = PlanState(state)
    target = PLAN_TRANSITIONS.get((current, event))
    if target is None:
        allowed = sorted(e.value for (s, e) in PLAN_TRANSITIONS if s == current)
        raise Conflict(
            f"the action plan is {current.value}; '{event.value}' is not allowed"
            + (f" (allowed now: {', '.join(allowed)})" if allowed else ""),
            state=current.value,
        )
    return target
