"""Availability windows without a database: the recurrence arithmetic across DST changes,
the one transition table, the evacuation planner and the optimizer filter that keeps
placements off draining and sleeping hosts (naming the window)."""

from __future__ import annotations

from datetime import datetime

import pytest

from nfvo.errors import Conflict
from nfvo.optimizer import place
from nfvo.optimizer.model import Demand, HostCapacity, PlacementRule
from nfvo.optimizer.plans import Running, evacuate
from nfvo.policy.recurrence import Recurrence, RecurrenceError
from nfvo.policy.windows import TRANSITIONS, PlanDrainer, WindowEvent, WindowState, transition


def _t(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


BERLIN = Recurrence("0 8 * * 1-5", 10 * 3600, "Europe/Berlin")


@pytest.mark.parametrize(
    ("at", "period"),
    [
        # Friday before the spring change (CET, UTC+1) and Monday after it (CEST, UTC+2)
        ("2026-03-27T12:00:00+00:00", ("2026-03-27T07:00:00+00:00", "2026-03-27T17:00:00+00:00")),
        ("2026-03-30T12:00:00+00:00", ("2026-03-30T06:00:00+00:00", "2026-03-30T16:00:00+00:00")),
        # Friday before the autumn change (CEST) and Monday after it (CET)
        ("2026-10-23T12:00:00+00:00", ("2026-10-23T06:00:00+00:00", "2026-10-23T16:00:00+00:00")),
        ("2026-10-26T12:00:00+00:00", ("2026-10-26T07:00:00+00:00", "2026-10-26T17:00:00+00:00")),
    ],
)
def test_weekday_periods_follow_berlin_wall_clock(at: str, period: tuple[str, str]) -> None:
    assert BERLIN.period_at(_t(at)) == (_t(period[0]), _t(period[1]))


def test_between_occurrences_the_next_period_is_after_the_weekend() -> None:
    saturday = _t("2026-03-28T12:00:00+00:00")  # the night of 28/29 March skips 02:00-03:00
    assert BERLIN.period_at(saturday) is None
    start, end = BERLIN.next_period(saturday) or (0.0, 0.0)
    assert (start, end) == (_t("2026-03-30T06:00:00+00:00"), _t("2026-03-30T16:00:00+00:00"))
    assert BERLIN.period_at(_t("2026-03-27T17:00:00+00:00")) is None  # the end is exclusive
    assert BERLIN.period_at(_t("2026-10-26T06:59:59+00:00")) is None


def test_overlapping_occurrences_merge_into_one_period() -> None:
    every_hour_for_two = Recurrence("0 * * * *", 2 * 3600, "UTC")
    assert every_hour_for_two.period_at(_t("2026-01-01T00:30:00+00:00")) is not None
    start, end = Recurrence("0 8,10 * * *", 3 * 3600, "UTC").next_period(
        _t("2026-01-01T07:00:00+00:00")
    ) or (0.0, 0.0)
    assert (start, end) == (_t("2026-01-01T08:00:00+00:00"), _t("2026-01-01T13:00:00+00:00"))


def test_a_time_skipped_by_the_spring_change_fires_after_the_gap() -> None:
    nightly = Recurrence("30 2 * * *", 3600, "Europe/Berlin")
    start = nightly.next_start_after(_t("2026-03-28T12:00:00+00:00"))
    assert start is not None and _t("2026-03-29T01:00:00+00:00") <= start
    assert start < _t("2026-03-29T02:00:00+00:00")  # 03:00 CEST at the latest


@pytest.mark.parametrize(
    ("cron", "duration", "tz", "field"),
    [
        ("0 8 * *", 3600, "UTC", "recurrence.cron"),
        ("0 8 * * *", 10, "UTC", "recurrence.duration"),
        ("0 8 * * *", 3600, "Mars/Olympus", "recurrence.timeZone"),
        ("", 3600, "UTC", "recurrence.cron"),
    ],
)
def test_bad_recurrences_name_their_field(cron: str, duration: float, tz: str, field: str) -> None:
    with pytest.raises(RecurrenceError) as err:
        Recurrence(cron, duration, tz)
    assert err.value.field == field


def test_the_transition_table_is_the_only_way_between_states() -> None:
    S, E = WindowState, WindowEvent
    assert transition(S.SCHEDULED, E.START) is S.ACTIVE
    assert transition(S.ACTIVE, E.END) is S.DRAINING
    assert transition(S.DRAINING, E.DRAINED) is S.SLEEPING
    assert transition(S.SLEEPING, E.WAKE) is S.ACTIVE
    assert transition(S.DRAINING, E.FAIL) is S.ERROR
    reached = {S.SCHEDULED} | set(TRANSITIONS.values())
    assert reached == set(S)  # every state is reachable
    for state in S:  # every state but CANCELLED may be cancelled; CANCELLED is final
        if state is S.CANCELLED:
            assert not [e for (s, e) in TRANSITIONS if s is state]
        else:
            assert transition(state, E.CANCEL) is S.CANCELLED
    with pytest.raises(Conflict) as err:
        transition(S.CANCELLED, E.CANCEL)
    assert "CANCELLED" in err.value.detail
    with pytest.raises(Conflict):
        transition(S.SLEEPING, E.NOTICE)


def _host(
    name: str, vcpus: float, ram: float = 65536, state: str = "up", **labels: str
) -> HostCapacity:
    return HostCapacity.from_inventory(
        name, "z", (vcpus, ram, 1000), (1, 1, 1), (0, 0, 0), state=state, labels=labels
    )


def test_evacuation_moves_everything_off_and_keeps_anti_affinity() -> None:
    hosts = [_host("a", 8, state="draining"), _host("b", 8), _host("c", 8)]
    running = [
        Running("r1", "a", 2, 1024, 10, group="web"),
        Running("r2", "a", 2, 1024, 10, group="web"),
        Running("r3", "b", 2, 1024, 10, group="web"),
    ]
    rule = PlacementRule("anti_affinity", "host", ["web"], label="web apart")
    # three web instances apart on three hosts: with a asleep there is no third host
    assert not evacuate(hosts, running, [rule], empty=["a"]).complete
    result = evacuate([*hosts, _host("d", 8)], running, [rule], empty=["a"])
    assert result.complete and result.short_dimension is None
    targets = {m.demand_id: m.target for m in result.plan.migrations}
    assert set(targets) == {"r1", "r2"} and "a" not in targets.values()
    assert len({targets["r1"], targets["r2"], "b"}) == 3  # still apart
    assert result.plan.hosts_emptied == ["a"]


def test_evacuation_names_the_short_dimension() -> None:
    hosts = [_host("a", 16), _host("b", 4, ram=262144)]
    running = [Running(f"r{i}", "a", 2, 1024, 10) for i in range(4)]
    result = evacuate(hosts, running, [], empty=["a"])
    assert not result.complete and result.short_dimension == "vcpus"
    hosts = [_host("a", 16, ram=65536), _host("b", 64, ram=2048)]
    result = evacuate(
        hosts, [Running(f"r{i}", "a", 1, 2048, 10) for i in range(2)], [], empty=["a"]
    )
    assert result.short_dimension == "ram_mib"
    assert evacuate(hosts, [], [], empty=["a"]).complete  # nothing there: nothing to move


def test_no_placement_on_draining_or_sleeping_hosts_and_the_window_is_named() -> None:
    hosts = [
        _host("compute-1", 64, state="sleeping", availability_window="w-1"),
        _host("compute-2", 64, state="draining"),
        _host("compute-3", 2),
    ]
    result = place(hosts, [Demand(f"d{i}", 1, 512, 1) for i in range(3)])
    assert set(result.assignments.values()) == {"compute-3"}
    assert len(result.unplaced) == 1
    exp = result.explanations["d0"]
    by_filter = {f.filter: f for f in exp.filtered}
    assert by_filter["availability_window"].removed == 2
    assert set(by_filter["availability_window"].examples) == {"compute-1", "compute-2"}
    assert by_filter["host_state"].removed == 0
    pinned = place(hosts, [Demand("p", 1, 512, 1, host="compute-1")])
    reason = pinned.explanations["p"].reason or ""
    assert "sleeping" in reason and "w-1" in reason, reason


def test_a_drain_the_lcm_side_refuses_is_a_reason_not_a_crash() -> None:
    class Actions:
        def evacuate(self, vim_id: str, hosts: list[str]) -> None:
            raise Conflict(f"VIM account {vim_id} could not be synced")

    plan_id, why = PlanDrainer(Actions()).start("v1", ["compute-1"])
    assert plan_id is None and why == "409: VIM account v1 could not be synced"
