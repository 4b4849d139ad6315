"""Explanations: filter counts and examples, the chosen host, and what blocks the rest."""

from __future__ import annotations

from nfvo.optimizer import Demand, HostCapacity, PlacementRule, place


def test_filter_counts_examples_and_score():
    hosts = [HostCapacity(f"a{i}", "az1", 8, 16384, 100) for i in range(7)] + [
        HostCapacity("b0", "az2", 8, 16384, 100),
        HostCapacity("down", "az2", 8, 16384, 100, up=False),
    ]
    p = place(hosts, [Demand("d", 2, 2048, 10, zone="az1")])
    e = p.explanations["d"]
    assert (e.host, e.zone, e.candidates) == ("a0", "az1", 7)
    verdicts = {f.filter: (f.removed, f.examples) for f in e.filtered}
    assert verdicts["host_state"] == (1, ("down",))
    assert verdicts["zone"] == (1, ("b0",))
    assert verdicts["capacity"] == (0, ())
    assert e.score is not None and e.reason is None


def test_examples_are_capped_at_five():
    hosts = [HostCapacity(f"h{i}", "az1", 1, 1024, 10) for i in range(8)]
    hosts.append(HostCapacity("big", "az1", 8, 16384, 100))
    e = place(hosts, [Demand("d", 4, 2048, 10)]).explanations["d"]
    (cap,) = [f for f in e.filtered if f.filter == "capacity"]
    assert cap.removed == 8 and cap.examples == ("h0", "h1", "h2", "h3", "h4")


def test_unplaceable_anti_affinity_names_rule_and_dimension():
    hosts = [HostCapacity(f"h{i}", "az1", 16, 4096 if i >= 2 else 16384, 100) for i in range(4)]
    demands = [Demand(f"db-{i}", 2, 8192, 10, group="db") for i in range(3)]
    rule = PlacementRule("anti_affinity", "host", ["db"], label="db-spread")
    p = place(hosts, demands, [rule])
    assert len(p.assignments) == 2
    (missing,) = p.unplaced
    e = p.explanations[missing]
    assert e.blocking_rule == "anti_affinity (host) rule 'db-spread' over db"
    assert e.blocking_dimension == "ram_mib"
    assert e.reason == (
        "anti_affinity (host) rule 'db-spread' over db leaves 2 hosts; "
        "on them not enough ram_mib (need 8192, at most 4096 free)"
    )
    assert p.unplaced[missing] == e.reason
    assert {f.filter: f.removed for f in e.filtered}["anti_affinity"] == 2


def test_explain_off_keeps_unplaced_reasons():
    p = place([HostCapacity("h", "az1", 1, 1, 1)], [Demand("d", 2, 1, 1)], explain=False)
    assert p.unplaced["d"].startswith("not enough vcpus")
    assert set(p.explanations) == {"d"}


def test_bound_hook_is_merged():
    hosts = [HostCapacity(f"h{i}", "az1", 8, 1e6, 1e6) for i in range(3)]
    seen = []

    def hook(h, d, r, placed, budget):
        seen.append((len(h), len(d), sorted(placed), budget))
        return {"configuration_lp": 2.0}

    p = place(hosts, [Demand(f"d{i}", 5, 1, 1) for i in range(3)], bound=hook, time_budget_s=0.5)
    assert seen == [(3, 3, ["d0", "d1", "d2"], 0.5)]
    assert p.bounds == {"volume": 2.0, "anti_affinity": 0.0, "configuration_lp": 2.0}
    assert p.lower_bound == 2 and p.objective == 3
