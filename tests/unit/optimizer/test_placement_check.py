"""The benchmark's independent checker catches every violation kind; the benchmark runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nfvo.optimizer.model import Demand, HostCapacity, PlacementRule

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "benchmarks"))

from placement_check import check, summary  # noqa: E402

HOSTS = [
    HostCapacity("a1", "az1", 8, 1000, 100),
    HostCapacity("a2", "az1", 8, 1000, 100),
    HostCapacity("b1", "az2", 8, 1000, 100),
    HostCapacity("down", "az2", 8, 1000, 100, up=False),
]


def _kinds(demands, rules, assignments):
    return summary(check(HOSTS, demands, rules, assignments))


def test_a_valid_assignment_has_no_violation():
    demands = [Demand("x", 4, 500, 50, group="g"), Demand("y", 4, 500, 50, group="g")]
    rules = [PlacementRule("anti_affinity", "host", ["g"])]
    assert check(HOSTS, demands, rules, {"x": "a1", "y": "a2"}) == []


@pytest.mark.parametrize(
    ("dimension", "size"),
    [("vcpus", (9, 1, 1)), ("ram_mib", (1, 1001, 1)), ("disk_gib", (1, 1, 101))],
)
def test_capacity_is_checked_per_host_per_dimension(dimension, size):
    demands = [Demand("x", *size)]
    violations = check(HOSTS, demands, [], {"x": "a1"})
    assert [(v["kind"], v["dimension"]) for v in violations] == [("capacity", dimension)]


def test_capacity_adds_up_the_demands_on_one_host():
    demands = [Demand("x", 5, 1, 1), Demand("y", 5, 1, 1)]
    assert _kinds(demands, [], {"x": "a1", "y": "a1"}) == {"capacity": 1}
    assert _kinds(demands, [], {"x": "a1", "y": "a2"}) == {}


def test_pins_exclusions_and_host_state():
    demands = [
        Demand("z", 1, 1, 1, zone="az2"),
        Demand("h", 1, 1, 1, host="a2"),
        Demand("eh", 1, 1, 1, exclude_hosts=frozenset({"a1"})),
        Demand("ez", 1, 1, 1, exclude_zones=frozenset({"az1"})),
        Demand("d", 1, 1, 1),
        Demand("u", 1, 1, 1),
    ]
    assignments = {"z": "a1", "h": "a1", "eh": "a1", "ez": "a2", "d": "down", "u": "nowhere"}
    assert _kinds(demands, [], assignments) == {
        "zone_pin": 1,
        "host_pin": 1,
        "excluded_host": 1,
        "excluded_zone": 1,
        "host_down": 1,
        "unknown_host": 1,
    }


@pytest.mark.parametrize(
    ("kind", "scope", "assignments", "expected"),
    [
        ("affinity", "host", {"x": "a1", "y": "a2"}, "affinity_host"),
        ("affinity", "zone", {"x": "a1", "y": "b1"}, "affinity_zone"),
        ("anti_affinity", "host", {"x": "a1", "y": "a1"}, "anti_affinity_host"),
        ("anti_affinity", "zone", {"x": "a1", "y": "a2"}, "anti_affinity_zone"),
    ],
)
def test_every_rule_kind_and_scope(kind, scope, assignments, expected):
    demands = [Demand("x", 1, 1, 1, group="g"), Demand("y", 1, 1, 1, group="g")]
    by_group = [PlacementRule(kind, scope, ["g"], label="r")]
    by_id = [PlacementRule(kind, scope, ["x", "y"], label="r")]
    assert _kinds(demands, by_group, assignments) == {expected: 1}
    assert _kinds(demands, by_id, assignments) == {expected: 1}


def test_rules_only_judge_placed_members():
    demands = [Demand("x", 1, 1, 1), Demand("y", 1, 1, 1)]
    rules = [PlacementRule("affinity", "host", ["x", "y"])]
    assert check(HOSTS, demands, rules, {"x": "a1"}) == []


def test_the_benchmark_smoke_run_prints_json_with_no_violation():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "placement.py"),
            "--quick",
            "--families",
            "flavour",
            "--sizes",
            "100",
            "--budget",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=True,
    )
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    rows = [r for r in lines if "family" in r]
    assert [(r["family"], r["size"]) for r in rows] == [("flavour", 100)]
    row = rows[0]
    assert row["violations"] == 0 and row["unplaced"] == 0
    assert row["hosts_used"] >= row["bounds"]["best"] >= row["bounds"]["volume"] > 0
    assert set(row["baselines"]) == {"spread", "stack", "ffd"}
    assert all(b["violations"] == 0 for b in row["baselines"].values())
    assert "summary" in lines[-1]


def _args(**kw):
    import argparse

    base = {"seed": 7, "runs": 1, "budget": 1.0, "quick": False, "mip_seconds": 3.0}
    return argparse.Namespace(**{**base, **kw})


def test_the_benchmark_reports_the_exact_solver_result(monkeypatch):
    import types

    import placement

    calls = []

    def solve_exact(hosts, demands, rules, time_limit_s):
        calls.append((len(demands), time_limit_s))
        return types.SimpleNamespace(assignments={}, objective=15.0, bound=14.2, status="optimal")

    stub = types.SimpleNamespace(solve_exact=solve_exact)
    monkeypatch.setitem(sys.modules, "nfvo.optimizer.exact", stub)
    row = placement.run_instance("flavour", 100, _args())
    assert calls == [(100, 3.0)]
    assert row["exact"]["status"] == "optimal" and row["exact"]["objective"] == 15.0
    assert row["bounds"]["mip"] == 15.0  # the proven dual bound, rounded up
    assert row["default_equals_optimum"] is (row["hosts_used"] == 15)


def test_the_benchmark_says_when_the_exact_solver_is_missing(monkeypatch):
    import placement

    monkeypatch.setitem(sys.modules, "nfvo.optimizer.exact", None)
    row = placement.run_instance("hard", 100, _args())
    assert row["exact"] == {"status": "exact solver not available"}
    assert "mip" not in row["bounds"] and "default_equals_optimum" not in row
    assert row["bounds"]["configuration_lp"] > row["bounds"]["volume"]


@pytest.mark.parametrize("policy", ["spread", "stack", "ffd"])
def test_the_baselines_keep_pins_exclusions_and_rules(policy):
    import placement

    demands = [
        Demand("p", 1, 1, 1, host="b1"),
        Demand("e", 1, 1, 1, exclude_hosts=frozenset({"a1", "a2"}), exclude_zones=frozenset()),
        Demand("x", 1, 1, 1, group="g"),
        Demand("y", 1, 1, 1, group="g"),
        Demand("z", 1, 1, 1, zone="az1", exclude_zones=frozenset({"az2"})),
    ]
    rules = [PlacementRule("anti_affinity", "host", ["g"])]
    inst = placement.Instance("t", HOSTS, demands, rules, [])
    assignments = placement._baseline(inst, policy)
    assert set(assignments) == {d.id for d in demands}
    assert check(HOSTS, demands, rules, assignments) == []
