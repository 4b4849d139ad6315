"""Property tests: any placement keeps capacity, pins and rules, and its bound holds."""

from __future__ import annotations

from collections import defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st

from nfvo.optimizer import Demand, HostCapacity, PlacementRule, place

ZONES = ["az1", "az2", "az3"]


@st.composite
def problems(draw):
    n_hosts = draw(st.integers(0, 8))
    hosts = [
        HostCapacity(
            f"h{i}",
            draw(st.sampled_from(ZONES)),
            draw(st.integers(0, 16)),
            draw(st.integers(0, 32768)),
            draw(st.integers(0, 200)),
            draw(st.booleans() | st.just(True)),
            state=draw(st.sampled_from(["up", "up", "draining"])),
        )
        for i in range(n_hosts)
    ]
    names = [h.name for h in hosts] + ["ghost"]
    demands = [
        Demand(
            f"d{i}",
            draw(st.integers(0, 8)),
            draw(st.integers(0, 16384)),
            draw(st.integers(0, 80)),
            zone=draw(st.none() | st.sampled_from(ZONES)),
            host=draw(st.none() | st.none() | st.sampled_from(names)),
            group=draw(st.none() | st.sampled_from(["g1", "g2"])),
            exclude_hosts=frozenset(draw(st.lists(st.sampled_from(names), max_size=2))),
            exclude_zones=frozenset(draw(st.lists(st.sampled_from(ZONES), max_size=1))),
        )
        for i in range(draw(st.integers(0, 14)))
    ]
    members = [d.id for d in demands] + ["g1", "g2"]
    rules = draw(
        st.lists(
            st.builds(
                PlacementRule,
                st.sampled_from(["affinity", "anti_affinity"]),
                st.sampled_from(["host", "zone"]),
                st.lists(st.sampled_from(members), max_size=4),
            ),
            max_size=3,
        )
    )
    return hosts, demands, rules, draw(st.sampled_from(["balanced_fit", "pack", "spread"]))


def _expand(rule, demands):
    return {d.id for d in demands if d.id in rule.members or d.group in rule.members}


@settings(max_examples=300, deadline=None)
@given(problems())
def test_placement_invariants(problem):
    hosts, demands, rules, strategy = problem
    p = place(hosts, demands, rules, strategy, time_budget_s=0.2)
    by_name = {h.name: h for h in hosts}
    # every demand is either placed or explained, never both
    assert set(p.assignments) | set(p.unplaced) == {d.id for d in demands}
    assert not set(p.assignments) & set(p.unplaced)
    assert all(p.unplaced.values())
    used = defaultdict(lambda: [0.0, 0.0, 0.0])
    for d in demands:
        if d.id not in p.assignments:
            continue
        h = by_name[p.assignments[d.id]]
        assert h.up and h.state == "up"
        assert h.name not in d.exclude_hosts and h.zone not in d.exclude_zones
        assert d.zone is None or h.zone == d.zone
        assert d.host is None or h.name == d.host
        for k, v in enumerate(d.size()):
            used[h.name][k] += v
    for name, total in used.items():
        free = by_name[name].free()
        assert all(total[k] <= free[k] + 1e-6 for k in range(3)), (name, total, free)
    for rule in rules:
        placed = [m for m in _expand(rule, demands) if m in p.assignments]
        keys = [
            p.assignments[m] if rule.scope == "host" else by_name[p.assignments[m]].zone
            for m in placed
        ]
        if rule.kind == "anti_affinity":
            assert len(keys) == len(set(keys))
        else:
            assert len(set(keys)) <= 1
    assert set(p.explanations) == {d.id for d in demands}
    for d, e in p.explanations.items():
        assert e.host == p.assignments.get(d) and (e.reason is None) == (d in p.assignments)
    assert p.lower_bound <= p.objective
    assert p.objective == len(set(p.assignments.values()))
    assert 0 <= p.gap <= 1
    if p.assignments:
        assert p.lower_bound >= 1


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(1, 8), min_size=1, max_size=40))
def test_without_rules_everything_fits_when_hosts_suffice(sizes):
    hosts = [HostCapacity(f"h{i}", "az1", 8, 1e9, 1e9) for i in range(len(sizes))]
    p = place(hosts, [Demand(f"d{i}", s, 1, 1) for i, s in enumerate(sizes)])
    assert p.unplaced == {}
    # never a host opened while an open one has room, so at most 2x the bound
    assert p.lower_bound <= p.objective <= 2 * p.lower_bound
