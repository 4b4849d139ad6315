"""Each host filter alone: host_passes and mask agree and remove what they should."""

from __future__ import annotations

import numpy as np

from nfvo.optimizer import Demand, HostCapacity, PlacementRule
from nfvo.optimizer.filters import FILTERS, HostFilter
from nfvo.optimizer.problem import Problem, State


def _state(hosts, demands, rules=()):
    p = Problem(hosts, demands, rules)
    return p, State(p)


def _hosts():
    return [
        HostCapacity("a1", "az1", 8, 16384, 100),
        HostCapacity("a2", "az1", 2, 16384, 100),
        HostCapacity("b1", "az2", 8, 16384, 100, state="draining"),
        HostCapacity("b2", "az2", 8, 1024, 100),
    ]


def _kept(name, p, state, item):
    f = FILTERS[name]
    mask = f.mask(item, state)
    assert list(mask) == [f.host_passes(i, item, state) for i in range(p.n_hosts)]
    return [p.names[i] for i in np.flatnonzero(mask)]


def test_registry_order_and_contract():
    assert list(FILTERS) == [
        "availability_window",
        "host_state",
        "zone",
        "affinity",
        "anti_affinity",
        "capacity",
    ]
    assert all(isinstance(f, HostFilter) for f in FILTERS.values())


def test_host_state_removes_unschedulable_pinned_elsewhere_and_excluded():
    p, s = _state(_hosts(), [Demand("d", 1, 1, 1, exclude_hosts=frozenset({"a2"}))])
    assert _kept("host_state", p, s, p.items[0]) == ["a1", "b2"]
    p, s = _state(_hosts(), [Demand("d", 1, 1, 1, host="b2")])
    assert _kept("host_state", p, s, p.items[0]) == ["b2"]


def test_zone_pin_and_exclusion():
    p, s = _state(_hosts(), [Demand("d", 1, 1, 1, zone="az2")])
    assert _kept("zone", p, s, p.items[0]) == ["b1", "b2"]
    p, s = _state(_hosts(), [Demand("d", 1, 1, 1, exclude_zones=frozenset({"az1"}))])
    assert _kept("zone", p, s, p.items[0]) == ["b1", "b2"]


def test_capacity_every_dimension():
    p, s = _state(_hosts(), [Demand("d", 4, 2048, 10)])
    assert _kept("capacity", p, s, p.items[0]) == ["a1", "b1"]


def test_anti_affinity_host_and_zone_scope_against_placed_members():
    demands = [Demand("x", 1, 1, 1), Demand("y", 1, 1, 1)]
    for scope, expected in (("host", ["a2", "b1", "b2"]), ("zone", ["b1", "b2"])):
        p, s = _state(_hosts(), demands, [PlacementRule("anti_affinity", scope, ["x", "y"])])
        assert _kept("anti_affinity", p, s, p.items[1]) == ["a1", "a2", "b1", "b2"]
        s.put(p.items[0], p.index["a1"])
        assert _kept("anti_affinity", p, s, p.items[1]) == expected


def test_affinity_zone_scope_follows_placed_member():
    demands = [Demand("x", 1, 1, 1), Demand("y", 1, 1, 1)]
    p, s = _state(_hosts(), demands, [PlacementRule("affinity", "zone", ["x", "y"])])
    s.put(p.items[0], p.index["b2"])
    assert _kept("affinity", p, s, p.items[1]) == ["b1", "b2"]
