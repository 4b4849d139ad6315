"""NS life-cycle state types and the op-occ state machine, declared once.

Enums follow ETSI GS NFV-SOL 005 V3.7.1: NsState (§6.5.2.10 ``nsState``),
LcmOperationStateType (§6.5.4.4), NsLcmOpType (§6.5.4.2). The transition table says who may
trigger each transition: the engine (``ENGINE``) or the API client through a task resource
(``retry``, ``rollback``, ``continue``, ``fail``, ``cancel``; SOL005 §6.4.11-6.4.15 and
Annex A). Handlers change states only through ``transition``.
"""

from __future__ import annotations

from enum import StrEnum


class NsState(StrEnum):
    """The NS instance state (SOL005 §6.5.2.10)."""

    NOT_INSTANTIATED = "NOT_INSTANTIATED"
    INSTANTIATED = "INSTANTIATED"


class OpType(StrEnum):
    """NsLcmOpType (SOL005 §6.5.4.2)."""

    INSTANTIATE = "INSTANTIATE"
    SCALE = "SCALE"
    UPDATE = "UPDATE"
    TERMINATE = "TERMINATE"
    HEAL = "HEAL"


class OpState(StrEnum):
    """LcmOperationStateType (SOL005 §6.5.4.4)."""

    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    PARTIALLY_COMPLETED = "PARTIALLY_COMPLETED"
    FAILED_TEMP = "FAILED_TEMP"
    FAILED = "FAILED"
    ROLLING_BACK = "ROLLING_BACK"
    ROLLED_BACK = "ROLLED_BACK"
    STARTING = "STARTING"  # SOL005 keeps this for the granted phase; we pass through it at once


class Trigger(StrEnum):
    """Who moves an op-occ from one state to the next."""

    ENGINE = "engine"
    RETRY = "retry"
    ROLLBACK = "rollback"
    CONTINUE = "continue"
    FAIL = "fail"
    CANCEL = "cancel"


# Which NS state each operation needs (the LCM refuses the rest with 409).
NEEDS: dict[OpType, NsState] = {
    OpType.INSTANTIATE: NsState.NOT_INSTANTIATED,
    OpType.TERMINATE: NsState.INSTANTIATED,
    OpType.SCALE: NsState.INSTANTIATED,
    OpType.HEAL: NsState.INSTANTIATED,
    OpType.UPDATE: NsState.INSTANTIATED,
}


def ns_operations(ns_state: NsState | str, busy: bool) -> list[OpType]:
    """The operations an NS in ``ns_state`` accepts now: none while an operation of it is
    open (``busy``), else those whose needed state it is in."""
    if busy:
        return []
    return [op for op, needed in NEEDS.items() if needed == NsState(ns_state)]


def ns_deletable(ns_state: NsState | str, busy: bool) -> bool:
    """Whether the NS instance resource may be deleted now (NOT_INSTANTIATED and idle)."""
    return not busy and NsState(ns_state) == NsState.NOT_INSTANTIATED


TERMINAL = frozenset({OpState.COMPLETED, OpState.FAILED, OpState.ROLLED_BACK})

# (from, trigger) -> to. Anything else is refused (the API answers 409).
TRANSITIONS: dict[tuple[OpState, Trigger], OpState] = {
    (OpState.STARTING, Trigger.ENGINE): OpState.PROCESSING,
    (OpState.STARTING, Trigger.CANCEL): OpState.ROLLED_BACK,
    (OpState.PROCESSING, Trigger.ENGINE): OpState.COMPLETED,
    (OpState.PROCESSING, Trigger.CANCEL): OpState.FAILED_TEMP,
    (OpState.ROLLING_BACK, Trigger.CANCEL): OpState.FAILED_TEMP,
    (OpState.FAILED_TEMP, Trigger.RETRY): OpState.PROCESSING,
    (OpState.FAILED_TEMP, Trigger.ROLLBACK): OpState.ROLLING_BACK,
    (OpState.FAILED_TEMP, Trigger.CONTINUE): OpState.PROCESSING,
    (OpState.FAILED_TEMP, Trigger.FAIL): OpState.FAILED,
    (OpState.ROLLING_BACK, Trigger.ENGINE): OpState.ROLLED_BACK,
}
# The engine may also fail a running step (temporarily) in these states.
ENGINE_FAILURES: dict[OpState, OpState] = {
    OpState.PROCESSING: OpState.FAILED_TEMP,
    OpState.ROLLING_BACK: OpState.FAILED_TEMP,
    OpState.STARTING: OpState.FAILED_TEMP,
}


# The operations a client may roll back (the others are retried or failed).
ROLLBACK_OPS = frozenset({OpType.INSTANTIATE, OpType.SCALE, OpType.UPDATE})


def client_triggers(state: OpState | str, operation: OpType | str | None = None) -> list[Trigger]:
    """The task resources (retry, rollback, continue, fail, cancel) an op-occ in ``state``
    (of ``operation``, when given) accepts now, in the transition table's order."""
    current = OpState(state)
    out = [t for (s, t) in TRANSITIONS if s == current and t != Trigger.ENGINE]
    if operation is not None and OpType(operation) not in ROLLBACK_OPS:
        out = [t for t in out if t is not Trigger.ROLLBACK]
    return out


class IllegalTransition(Exception):
    """The op-occ is not in a state where this trigger is allowed."""

    def __init__(self, state: OpState, trigger: Trigger) -> None:
        allowed = sorted({t.value for (s, t) in TRANSITIONS if s == state and t != Trigger.ENGINE})
        super().__init__(
            f"operation is {state.value}; '{trigger.value}' is not allowed"
            + (f" (allowed now: {', '.join(allowed)})" if allowed else "")
        )
        self.state = state
        self.trigger = trigger


def transition(state: OpState | str, trigger: Trigger) -> OpState:
    """The state after ``trigger``; IllegalTransition when the spec does not allow it."""
    current = OpState(state)
    target = TRANSITIONS.get((current, trigger))
    if target is None:
        raise IllegalTransition(current, trigger)
    return target


def engine_failure(state: OpState | str) -> OpState:
    """The state when a step fails while the engine runs the op (FAILED_TEMP)."""
    current = OpState(state)
    if current not in ENGINE_FAILURES:
        raise IllegalTransition(current, Trigger.ENGINE)
    return ENGINE_FAILURES[current]
