"""Strategies: registry, spread vs pack, the default against first-fit decreasing,
determinism and the exact MIP."""

from __future__ import annotations

import numpy as np
import pytest
from instances import instance

from nfvo.optimizer import STRATEGIES, Demand, HostCapacity, PlacementRule, place
from nfvo.optimizer.exact import solve_exact
from nfvo.optimizer.problem import Problem, State
from nfvo.optimizer.strategies import Strategy
from nfvo.optimizer.strategies.base import decreasing, greedy


class _FirstFit:
    name = "ffd"

    def score(self, state, item, hosts):
        return hosts.astype(float)


def _ffd_hosts(hosts, demands, rules=()):
    p = Problem(hosts, demands, rules)
    s = State(p)
    greedy(s, decreasing(p), _FirstFit())
    assert all(h >= 0 for h in s.host_of)
    return len(s.used_hosts())


def test_registry():
    assert set(STRATEGIES) == {"balanced_fit", "pack", "spread"}
    assert all(isinstance(s, Strategy) for s in STRATEGIES.values())


def test_spread_uses_most_free_ram_pack_the_fullest():
    hosts = [HostCapacity(f"h{i}", "az1", 16, 32768, 100) for i in range(4)]
    demands = [Demand(f"d{i}", 2, 4096, 10) for i in range(4)]
    spread = place(hosts, demands, algorithm="spread")
    pack = place(hosts, demands, algorithm="pack")
    assert sorted(spread.assignments.values()) == ["h0", "h1", "h2", "h3"]
    assert set(pack.assignments.values()) == {"h0"}
    assert (spread.objective, pack.objective) == (4, 1)


def test_pack_prefers_an_already_loaded_host():
    hosts = [
        HostCapacity.from_inventory("h0", "az1", (16, 32768, 100), (1, 1, 1), (0, 0, 0)),
        HostCapacity.from_inventory("h1", "az1", (16, 32768, 100), (1, 1, 1), (12, 24576, 80)),
    ]
    p = place(hosts, [Demand("d", 2, 2048, 10)], algorithm="pack")
    assert p.assignments == {"d": "h1"}


def test_balanced_fit_pairs_complementary_shapes():
    # two CPU-heavy and two RAM-heavy demands: pairs fill two hosts exactly
    hosts = [HostCapacity(f"h{i}", "az1", 10, 10240, 100) for i in range(4)]
    demands = [
        Demand("cpu-0", 7, 3072, 1),
        Demand("cpu-1", 7, 3072, 1),
        Demand("ram-0", 3, 7168, 1),
        Demand("ram-1", 3, 7168, 1),
    ]
    p = place(hosts, demands)
    assert p.objective == 2
    assert p.assignments["cpu-0"] != p.assignments["cpu-1"]


@pytest.mark.parametrize("family", ["hard", "flavour", "affinity", "zones"])
def test_default_uses_fewer_hosts_than_ffd(family):
    hosts, demands, rules = instance(family, 300, seed=1, slack=1.8)
    p = place(hosts, demands, rules)
    assert not p.unplaced
    ffd = _ffd_hosts(hosts, demands, rules)
    # hard: pairs only, where first fit decreasing is already close; never worse
    assert p.objective <= ffd if family == "hard" else p.objective < ffd
    assert p.lower_bound <= p.objective


def test_deterministic_whatever_the_input_order():
    hosts, demands, rules = instance("affinity", 200, seed=2)
    a = place(hosts, demands, rules)
    b = place(list(reversed(hosts)), list(reversed(demands)), rules)
    assert a.assignments == b.assignments
    assert [e.to_dict() for e in a.explanations.values()] == [
        b.explanations[d].to_dict() for d in a.explanations
    ]


def test_exact_proves_the_optimum_on_a_small_instance():
    # 3+3+2+2+2+2 vcpus on 6-vcpu hosts: volume bound 3; first fit decreasing also finds 3,
    # 4 x 4 on 6: volume 3 (16/6), optimum 4 (one per host)
    hosts = [HostCapacity(f"h{i}", "az1", 6, 1e6, 1e6) for i in range(6)]
    demands = [Demand(f"d{i}", 4, 1, 1) for i in range(4)]
    r = solve_exact(hosts, demands, time_limit_s=10)
    assert (r.status, r.objective, r.dual_bound) == ("optimal", 4, 4)
    assert len(set(r.assignments.values())) == 4
    demands = [Demand(f"e{i}", s, 1, 1) for i, s in enumerate([3, 3, 2, 2, 2, 2])]
    r = solve_exact(hosts, demands, time_limit_s=10)
    assert (r.status, r.objective) == ("optimal", 3)


def test_exact_keeps_rules_and_reports_infeasible():
    hosts = [HostCapacity(f"h{i}", f"az{i % 2}", 8, 1e6, 1e6) for i in range(4)]
    demands = [Demand(f"d{i}", 1, 1, 1, group="g") for i in range(3)]
    r = solve_exact(hosts, demands, [PlacementRule("anti_affinity", "host", ["g"])], 10)
    assert r.status == "optimal" and len(set(r.assignments.values())) == 3
    r = solve_exact(hosts, demands, [PlacementRule("anti_affinity", "zone", ["g"])], 10)
    assert r.status == "infeasible" and not r.assignments


def test_exact_matches_the_default_on_a_hard_instance():
    hosts, demands, rules = instance("hard", 40, seed=3, slack=2.0)
    r = solve_exact(hosts, demands, rules, time_limit_s=30)
    p = place(hosts, demands, rules)
    assert r.status in ("optimal", "feasible")
    assert r.dual_bound <= p.objective
    if r.status == "optimal":
        assert p.objective == r.objective
    used = {}
    for d in demands:
        used.setdefault(r.assignments[d.id], np.zeros(3))
        used[r.assignments[d.id]] += d.size()
    assert all((u <= np.array(hosts[0].free()) + 1e-6).all() for u in used.values())


def test_exact_counts_every_host_it_uses():
    # everything fits on one host: the capacity rows bind nothing, yet using a host costs
    hosts = [HostCapacity(f"h{i}", "az1", 10, 1e6, 1e6) for i in range(3)]
    demands = [Demand(f"d{i}", 2, 1, 1) for i in range(3)]
    rule = PlacementRule("anti_affinity", "host", ["d0", "d1"])
    r = solve_exact(hosts, demands, [rule], time_limit_s=10)
    assert (r.status, r.objective) == ("optimal", 2)
    assert len(set(r.assignments.values())) == 2
