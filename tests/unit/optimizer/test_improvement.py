"""Improvement steps of balanced_fit on a deliberately poor placement."""

from __future__ import annotations

from nfvo.optimizer import Demand, HostCapacity, PlacementRule
from nfvo.optimizer.local_search import empty_hosts
from nfvo.optimizer.problem import Problem, State
from nfvo.optimizer.strategies import STRATEGIES, Work
from nfvo.optimizer.windows import polish_windows


def _poor(rules=()):
    hosts = [HostCapacity(f"h{i}", "az1", 10, 10240, 100) for i in range(4)]
    demands = [Demand(f"d{i}", s, 1024 * s, 1) for i, s in enumerate([6, 4, 6, 4])]
    p = Problem(hosts, demands, rules)
    s = State(p)
    for i, it in enumerate(p.items):
        s.put(it, i)  # one per host
    return p, s


def test_empty_hosts_moves_items_into_used_hosts():
    p, s = _poor()
    assert empty_hosts(s, STRATEGIES["balanced_fit"], Work.start(10.0)) == 2
    assert len(s.used_hosts()) == 2
    assert (s.free >= -1e-9).all()


def test_windows_repack_with_the_mip_and_keep_rules():
    rule = PlacementRule("anti_affinity", "host", ["d0", "d1"])
    p, s = _poor([rule])
    assert polish_windows(s, Work.start(10.0)) >= 1
    hosts = [s.host_of[it.index] for it in p.items]
    assert len(set(hosts)) == 2 and hosts[0] != hosts[1]
    assert (s.free >= -1e-9).all()
