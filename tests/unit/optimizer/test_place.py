"""place(): packing, pins, rules, reasons and the bound (ported from the first-fit tests)."""

from __future__ import annotations

import pytest

from nfvo.optimizer import ALGORITHMS, DEFAULT_STRATEGY, Demand, HostCapacity, PlacementRule, place


def host(
    name: str,
    zone: str = "az1",
    cpu: float = 8,
    ram: float = 16384,
    disk: float = 100,
    up: bool = True,
) -> HostCapacity:
    return HostCapacity(name, zone, cpu, ram, disk, up)


def demand(id: str, cpu: float = 2, ram: float = 4096, disk: float = 10, **kw) -> Demand:
    return Demand(id, cpu, ram, disk, **kw)


def test_registry_and_unknown_algorithm():
    assert {"balanced_fit", "pack", "spread"} <= set(ALGORITHMS)
    assert place([host("h1")], [demand("d")]).algorithm == DEFAULT_STRATEGY == "balanced_fit"
    with pytest.raises(KeyError, match="balanced_fit, pack, spread"):
        place([host("h1")], [demand("d")], algorithm="nope")


def test_packs_decreasing_and_reports_bound():
    hosts = [host("h1"), host("h2"), host("h3")]
    demands = [
        demand("small", cpu=2),
        demand("big", cpu=6),
        demand("mid", cpu=4),
        demand("mid2", cpu=4),
    ]
    p = place(hosts, demands)
    # decreasing: big->h1, mid->h2, mid2->h2, small->h1 (the best fit left)
    assert p.assignments == {"big": "h1", "mid": "h2", "mid2": "h2", "small": "h1"}
    assert p.unplaced == {}
    assert p.objective == 2 and p.lower_bound == 2 and p.gap == 0
    assert p.bounds == {"volume": 2, "anti_affinity": 0} and p.solve_time_s >= 0


def test_bound_and_gap_values():
    # 3 demands of 5 vcpus on 8-vcpu hosts: bound ceil(15/8)=2, any packing needs 3
    p = place([host(f"h{i}") for i in range(4)], [demand(f"d{i}", cpu=5) for i in range(3)])
    assert p.objective == 3 and p.lower_bound == 2
    assert p.gap == pytest.approx(1 / 3)


def test_empty_inputs():
    p = place([host("h1")], [])
    assert (p.assignments, p.objective, p.lower_bound, p.gap) == ({}, 0, 0, 0)
    p = place([], [demand("d")])
    assert p.unplaced == {"d": "no up host in the inventory"}


def test_capacity_is_consumed():
    p = place([host("h1", cpu=4), host("h2", cpu=4)], [demand(f"d{i}", cpu=2) for i in range(5)])
    assert sorted(p.assignments.values()) == ["h1", "h1", "h2", "h2"]
    assert list(p.unplaced) == ["d4"]
    assert "vcpus (need 2, at most 0 free)" in next(iter(p.unplaced.values()))


def test_down_hosts_are_skipped():
    p = place([host("h1", up=False), host("h2")], [demand("d")])
    assert p.assignments == {"d": "h2"}


def test_zone_and_host_pins():
    hosts = [host("a1", "az1"), host("b1", "az2"), host("b2", "az2")]
    p = place(hosts, [demand("z", zone="az2"), demand("h", host="b2")])
    assert p.assignments == {"z": "b2", "h": "b2"}  # one host for both: fewer hosts
    p = place(hosts, [demand("z", zone="az2"), demand("h", host="b2")], algorithm="spread")
    assert p.assignments == {"z": "b1", "h": "b2"}


def test_pin_reasons():
    hosts = [host("a1", "az1"), host("down", "az1", up=False)]
    p = place(hosts, [demand("z", zone="az9"), demand("h", host="down"), demand("u", host="x")])
    assert p.unplaced["z"] == "no up host in zone az9"
    assert p.unplaced["h"] == "pinned host down is down"
    assert p.unplaced["u"] == "pinned host x is unknown"


def test_reason_names_missing_dimension_and_combination():
    hosts = [host("h1", cpu=8, ram=1024), host("h2", cpu=1, ram=16384)]
    p = place(hosts, [demand("ram", cpu=1, ram=32768), demand("both", cpu=4, ram=4096)])
    assert p.unplaced["ram"] == "not enough ram_mib (need 32768, at most 16384 free)"
    assert p.unplaced["both"].startswith("no single host has vcpus=4, ram_mib=4096")


def test_anti_affinity_host_scope_by_group():
    hosts = [host("h1"), host("h2"), host("h3")]
    demands = [demand(f"web-{i}", cpu=1, group="web") for i in range(3)]
    p = place(hosts, demands, [PlacementRule("anti_affinity", "host", ["web"])])
    assert sorted(p.assignments.values()) == ["h1", "h2", "h3"]
    assert p.lower_bound == 3  # spread forces three hosts


def test_anti_affinity_unplaceable_reason():
    demands = [demand(f"web-{i}", cpu=1, group="web") for i in range(3)]
    p = place([host("h1"), host("h2")], demands, [PlacementRule("anti_affinity", "host", ["web"])])
    assert len(p.assignments) == 2 and len(set(p.assignments.values())) == 2
    (why,) = p.unplaced.values()
    assert "excluded by anti_affinity (host) rule over web" in why


def test_anti_affinity_zone_scope():
    hosts = [host("a1", "az1"), host("a2", "az1"), host("b1", "az2")]
    rule = PlacementRule("anti_affinity", "zone", ["x", "y"])
    p = place(hosts, [demand("x"), demand("y")], [rule])
    zones = {h.name: h.zone for h in hosts}
    assert {zones[h] for h in p.assignments.values()} == {"az1", "az2"}


def test_affinity_host_scope_packs_members_together():
    # h1 can take one 4-vcpu demand only after a 6-vcpu one: members must go to h2 together
    hosts = [host("h1", cpu=6), host("h2", cpu=8)]
    rule = PlacementRule("affinity", "host", ["a", "b"])
    p = place(hosts, [demand("a", cpu=4), demand("b", cpu=4)], [rule])
    assert p.assignments == {"a": "h2", "b": "h2"}


def test_affinity_zone_scope_follows_first_member():
    hosts = [host("a1", "az1", cpu=2), host("b1", "az2"), host("b2", "az2")]
    rule = PlacementRule("affinity", "zone", ["big", "small"])
    p = place(hosts, [demand("big", cpu=6), demand("small", cpu=1)], [rule])
    assert p.assignments == {"big": "b1", "small": "b1"}
    p = place(hosts, [demand("big", cpu=8), demand("small", cpu=1)], [rule])
    assert p.assignments == {"big": "b1", "small": "b2"}


def test_conflicting_rules_are_reported_not_raised():
    rules = [
        PlacementRule("affinity", "host", ["a", "b"]),
        PlacementRule("anti_affinity", "host", ["a", "b"]),
    ]
    p = place([host("h1"), host("h2")], [demand("a"), demand("b")], rules)
    assert p.assignments == {}
    assert "contradicts a host-affinity rule" in p.unplaced["a"]
    p = place(
        [host("h1", "az1"), host("h2", "az2")],
        [demand("a", zone="az1"), demand("b", zone="az2")],
        rules[:1],
    )
    assert "pinned to different zones" in p.unplaced["a"]


def test_deterministic():
    hosts = [host(f"h{i}", cpu=8) for i in range(10)]
    demands = [demand(f"d{i}", cpu=1 + i % 4) for i in range(30)]
    assert place(hosts, demands).assignments == place(hosts, demands).assignments


def test_reason_names_only_the_excluding_rule_and_shortens_members():
    hosts = [host("a1", "az1"), host("b1", "az2")]
    demands = [demand(f"d{i}", cpu=1) for i in range(7)]
    rules = [
        PlacementRule("anti_affinity", "host", ["d5", "d6"]),  # d5 unplaced: excludes nothing
        PlacementRule("anti_affinity", "zone", [d.id for d in demands]),
    ]
    p = place(hosts, demands, rules)
    assert len(p.assignments) == 2
    why = p.unplaced["d6"]
    assert why == (
        "every candidate host is excluded by anti_affinity (zone) rule over "
        "d0, d1, d2, d3 and 3 more"
    )
