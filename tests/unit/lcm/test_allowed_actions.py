"""What the GUI offers comes from the LCM's own tables: the operations an NS state allows and
the task resources an op-occ state allows."""

from __future__ import annotations

from nfvo.lcm.states import (
    ROLLBACK_OPS,
    TRANSITIONS,
    NsState,
    OpState,
    OpType,
    Trigger,
    client_triggers,
    ns_deletable,
    ns_operations,
)


def test_a_not_instantiated_ns_offers_only_instantiate_and_delete() -> None:
    assert ns_operations(NsState.NOT_INSTANTIATED, busy=False) == [OpType.INSTANTIATE]
    assert ns_deletable("NOT_INSTANTIATED", busy=False)


def test_an_instantiated_ns_offers_every_other_operation_and_no_delete() -> None:
    ops = ns_operations("INSTANTIATED", busy=False)
    assert set(ops) == {OpType.SCALE, OpType.HEAL, OpType.UPDATE, OpType.TERMINATE}
    assert not ns_deletable("INSTANTIATED", busy=False)


def test_a_busy_ns_offers_nothing() -> None:
    for state in NsState:
        assert ns_operations(state, busy=True) == []
        assert not ns_deletable(state, busy=True)


def test_task_buttons_follow_the_transition_table() -> None:
    assert client_triggers(OpState.FAILED_TEMP) == [
        Trigger.RETRY,
        Trigger.ROLLBACK,
        Trigger.CONTINUE,
        Trigger.FAIL,
    ]
    assert client_triggers("PROCESSING") == [Trigger.CANCEL]
    for state in (OpState.COMPLETED, OpState.FAILED, OpState.ROLLED_BACK):
        assert client_triggers(state) == []
    # rollback only where the LCM can roll back
    for op in OpType:
        offered = client_triggers(OpState.FAILED_TEMP, op)
        assert (Trigger.ROLLBACK in offered) == (op in ROLLBACK_OPS), op
    assert ROLLBACK_OPS == {OpType.INSTANTIATE, OpType.SCALE, OpType.UPDATE}
    # every trigger offered is one the table accepts
    for state in OpState:
        for trigger in client_triggers(state):
            assert (state, trigger) in TRANSITIONS
