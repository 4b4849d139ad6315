"""Proven lower bounds: known instances, never above a brute-force optimum, time budget kept."""

from __future__ import annotations

import math
import random
import time
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from nfvo.optimizer import bounds as bounds_module
from nfvo.optimizer.bounds import (
    _types,
    anti_affinity_bound,
    best_bound,
    configuration_lp_bound,
    volume_bound,
)
from nfvo.optimizer.model import Demand, HostCapacity, PlacementRule


def _hosts(n: int, cpu: float = 1.0, ram: float = 1.0, disk: float = 1.0) -> list[HostCapacity]:
    return [HostCapacity(f"h{i}", "z1", cpu, ram, disk) for i in range(n)]


def _items(sizes: list[tuple[float, float, float]]) -> list[Demand]:
    return [Demand(f"d{i}", *s) for i, s in enumerate(sizes)]


def test_volume_bound_identical_hosts_is_ceil_of_total_over_capacity():
    demands = _items([(0.6, 0.1, 0.0)] * 3 + [(0.1, 0.7, 0.0)] * 2)
    assert volume_bound(_hosts(10), demands) == 2.0  # cpu 1.9, ram 1.7
    assert volume_bound(_hosts(10), []) == 0.0


def test_volume_bound_heterogeneous_uses_the_largest_hosts_first():
    hosts = [HostCapacity("big", "z", 10, 10, 10)] + _hosts(5)
    assert volume_bound(hosts, _items([(10.5, 0, 0)])) == 2.0
    assert volume_bound(hosts, _items([(12.5, 0, 0)])) == 4.0
    down = [HostCapacity("big", "z", 10, 10, 10, up=False)] + _hosts(5)
    assert volume_bound(down, _items([(2.5, 0, 0)])) == 3.0


def test_configuration_lp_beats_volume_on_three_items_of_six_tenths():
    demands = _items([(0.6, 0.0, 0.0)] * 3)
    hosts = _hosts(5)
    value, info = configuration_lp_bound(hosts, demands, (), 2.0)
    assert volume_bound(hosts, demands) == 2.0
    assert value == 3.0
    assert info["status"] == "optimal"


def test_configuration_lp_on_pairs_only_instance_is_half_while_volume_is_three_eighths():
    # A = (0.55 cpu, 0.2 ram), B = (0.2, 0.55): only an A with a B share a host.
    n = 400
    demands = _items([(0.55, 0.2, 0.0), (0.2, 0.55, 0.0)] * (n // 2))
    hosts = _hosts(n)
    value, _ = configuration_lp_bound(hosts, demands, (), 5.0)
    assert value == n / 2
    assert volume_bound(hosts, demands) == math.ceil(0.375 * n)


def _hard(n: int, seed: int) -> list[Demand]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        a = rng.uniform(0.15, 0.6)
        r = 0.75 - a + rng.uniform(-0.1, 0.1)
        out.append(Demand(f"d{i}", max(1, round(a * 64)), round(r * 1024) * 256.0, 20))
    return out


def test_configuration_lp_is_far_above_volume_on_the_hard_family():
    demands = _hard(300, 3)
    hosts = [HostCapacity(f"h{i}", "z", 64, 262144, 1500) for i in range(300)]
    value, info = configuration_lp_bound(hosts, demands, (), 5.0)
    volume = volume_bound(hosts, demands)
    assert value >= 1.15 * volume, (value, volume, info)
    assert value <= 150  # no bin holds 3 of them in most cases; never more than n/2 needed


def test_time_budget_is_respected_and_the_value_stays_a_bound():
    demands = _hard(4000, 5)
    hosts = [HostCapacity(f"h{i}", "z", 64, 262144, 1500) for i in range(4000)]
    start = time.perf_counter()
    value, info = configuration_lp_bound(hosts, demands, (), 0.3)
    elapsed = time.perf_counter() - start
    assert elapsed < 10  # order of magnitude only: the budget stops the loop between steps
    assert 0 < value <= 2000  # every host holds at least 2 of them: 2000 hosts suffice


def test_rounded_types_are_never_larger_than_the_demands():
    demands = _hard(2000, 9)
    hosts = _hosts(1, 64, 262144, 1500)
    exact = _types(hosts, demands, max_types=10**6)
    coarse = _types(hosts, demands, max_types=50)
    assert exact is not None and coarse is not None
    assert coarse.grid > 0 and len(coarse.count) < len(exact.count)
    assert coarse.count.sum() == exact.count.sum()
    assert coarse.size.max(axis=0).tolist() <= exact.size.max(axis=0).tolist()


def test_anti_affinity_bound_counts_placed_members_of_host_and_zone_rules():
    demands = [Demand(f"d{i}", 1, 1, 1, group="g" if i < 3 else None) for i in range(6)]
    host_rule = PlacementRule("anti_affinity", "host", ["g", "d5"])
    zone_rule = PlacementRule("anti_affinity", "zone", ["d3", "d4"])
    affinity = PlacementRule("affinity", "host", ["d0", "d1", "d2", "d3", "d4", "d5"])
    assert anti_affinity_bound(demands, [host_rule, zone_rule, affinity]) == 4.0
    assert anti_affinity_bound(demands[:2], [host_rule]) == 2.0
    assert anti_affinity_bound([], [host_rule]) == 0.0


def test_best_bound_only_counts_placed_demands():
    demands = _items([(0.6, 0, 0)] * 3)
    bounds = best_bound(_hosts(3), demands, (), placed_ids={"d0", "d1"}, time_budget_s=1.0)
    assert bounds == {"volume": 2.0, "anti_affinity": 1.0, "configuration_lp": 2.0}
    assert best_bound(_hosts(3), demands, ())["configuration_lp"] == 3.0


def _optimum(hosts: list[HostCapacity], demands: list[Demand]) -> int | None:
    """Fewest hosts used by any assignment that fits (brute force); None when none fits."""
    free = [list(h.free()) for h in hosts]
    best: list[int | None] = [None]
    order = sorted(demands, key=lambda d: -sum(d.size()))

    def go(k: int, used: set[int]) -> None:
        if best[0] is not None and len(used) >= best[0]:
            return
        if k == len(order):
            best[0] = len(used)
            return
        size = order[k].size()
        for i, room in enumerate(free):
            if all(room[d] + 1e-9 >= size[d] for d in range(3)):
                for d in range(3):
                    room[d] -= size[d]
                go(k + 1, used | {i})
                for d in range(3):
                    room[d] += size[d]

    go(0, set())
    return best[0]


@st.composite
def _tiny(draw):
    caps = draw(st.lists(st.tuples(*[st.integers(4, 10)] * 3), min_size=1, max_size=4))
    hosts = [HostCapacity(f"h{i}", "z", *c) for i, c in enumerate(caps)]
    sizes = draw(st.lists(st.tuples(*[st.integers(0, 7)] * 3), min_size=1, max_size=7))
    return hosts, _items([tuple(float(x) for x in s) for s in sizes])


@settings(max_examples=150, deadline=None)
@given(_tiny())
def test_no_bound_exceeds_the_brute_force_optimum(problem):
    hosts, demands = problem
    optimum = _optimum(hosts, demands)
    if optimum is None:
        return  # infeasible: the bound is only defined for what is placed
    bounds = best_bound(hosts, demands, (), time_budget_s=1.0)
    assert max(bounds.values()) <= optimum, (bounds, optimum)


@settings(max_examples=100, deadline=None)
@given(_tiny())
def test_rounded_down_types_still_give_a_bound(problem):
    hosts, demands = problem
    optimum = _optimum(hosts, demands)
    if optimum is None:
        return
    exact_types = bounds_module._types

    def coarse(h, d, max_types=0):
        return exact_types(h, d, max_types=1)

    with mock.patch.object(bounds_module, "_types", coarse):
        value, info = configuration_lp_bound(hosts, demands, (), 1.0)
    assert value <= optimum, (value, optimum, info)


@settings(max_examples=100, deadline=None)
@given(_tiny())
def test_triple_branch_and_bound_pricing_still_gives_a_bound(problem):
    # Too many triples to list: pricing falls back to branch and bound; same proof.
    hosts, demands = problem
    optimum = _optimum(hosts, demands)
    if optimum is None:
        return
    with mock.patch.object(bounds_module._Pricer, "_all_triples", lambda self, **kw: None):
        value, info = configuration_lp_bound(hosts, demands, (), 1.0)
    assert value <= optimum, (value, optimum, info)


def test_branch_and_bound_pricing_matches_the_listed_triples():
    demands = _hard(200, 11)
    hosts = [HostCapacity("h", "z", 64, 262144, 1500)]
    listed, _ = configuration_lp_bound(hosts, demands, (), 5.0)
    with mock.patch.object(bounds_module._Pricer, "_all_triples", lambda self, **kw: None):
        searched, info = configuration_lp_bound(hosts, demands, (), 5.0)
    assert info["status"] == "optimal"
    assert searched == listed
