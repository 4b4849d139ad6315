"""``place_more``: new VDU instances placed next to those already running, with the rules
of the descriptors (the optimizer itself stays a pure function of hosts, demands, rules)."""

from __future__ import annotations

from nfvo.lcm.placement import place_more
from nfvo.lcm.plan import PlacementInput
from nfvo.optimizer.model import Demand, HostCapacity, PlacementRule


def _hosts(*spec: tuple[str, str], vcpus: float = 8) -> list[HostCapacity]:
    return [HostCapacity(name, zone, vcpus, 16384, 100) for name, zone in spec]


def _input(n: int, kind: str, scope: str, group: str = "vnf/web") -> PlacementInput:
    demands = [Demand(f"{group}-{i}", 2, 2048, 10, group=group) for i in range(n)]
    return PlacementInput(
        demands,
        [PlacementRule(kind, scope, [group])],
        [f"rule r1 ({kind}, {scope})"],  # type: ignore[arg-type]
    )


def test_anti_affinity_keeps_new_instances_off_the_hosts_of_running_ones() -> None:
    inp = _input(3, "anti_affinity", "host")
    hosts = _hosts(("h1", "z"), ("h2", "z"), ("h3", "z"))
    got, unplaced = place_more(hosts, inp, {"vnf/web-0": "h1"}, ["vnf/web-1", "vnf/web-2"])
    assert unplaced == {}
    assert {got["vnf/web-1"], got["vnf/web-2"]} == {"h2", "h3"}


def test_anti_affinity_that_cannot_be_kept_names_the_rule_and_the_hosts() -> None:
    inp = _input(3, "anti_affinity", "host")
    hosts = _hosts(("h1", "z"), ("h2", "z"))
    fixed = {"vnf/web-0": "h1", "vnf/web-1": "h2"}
    got, unplaced = place_more(hosts, inp, fixed, ["vnf/web-2"])
    assert got == {}
    why = unplaced["vnf/web-2"]
    assert "rule r1" in why and "h1, h2" in why


def test_zone_anti_affinity_excludes_every_host_of_the_zone() -> None:
    inp = _input(2, "anti_affinity", "zone")
    hosts = _hosts(("a1", "za"), ("a2", "za"), ("b1", "zb"))
    got, unplaced = place_more(hosts, inp, {"vnf/web-0": "a1"}, ["vnf/web-1"])
    assert (got, unplaced) == ({"vnf/web-1": "b1"}, {})


def test_affinity_pins_to_the_running_host_or_zone() -> None:
    hosts = _hosts(("a1", "za"), ("b1", "zb"), ("b2", "zb"))
    got, _ = place_more(hosts, _input(2, "affinity", "host"), {"vnf/web-0": "b2"}, ["vnf/web-1"])
    assert got == {"vnf/web-1": "b2"}
    got, _ = place_more(hosts, _input(2, "affinity", "zone"), {"vnf/web-0": "b2"}, ["vnf/web-1"])
    assert got["vnf/web-1"] in {"b1", "b2"}
    # the pinned host is full: refused, not moved elsewhere
    full = [
        HostCapacity("a1", "za", 8, 16384, 100),
        HostCapacity("b2", "zb", 1, 16384, 100),
    ]
    got, unplaced = place_more(
        full, _input(2, "affinity", "host"), {"vnf/web-0": "b2"}, ["vnf/web-1"]
    )
    assert got == {} and "vcpus" in unplaced["vnf/web-1"]


def test_new_instances_keep_the_rule_among_themselves_and_capacity() -> None:
    inp = _input(4, "anti_affinity", "host")
    hosts = _hosts(("h1", "z"), ("h2", "z"), ("h3", "z"), ("h4", "z"))
    got, unplaced = place_more(hosts, inp, {"vnf/web-0": "h4"}, ["vnf/web-1", "vnf/web-2"])
    assert unplaced == {} and len({*got.values(), "h4"}) == 3
    # without a rule, capacity still counts: 8 vCPU hosts take 4 instances of 2 each
    free = PlacementInput([Demand(f"v/x-{i}", 2, 1, 1, group="v/x") for i in range(5)], [], [])
    got, unplaced = place_more(_hosts(("h1", "z")), free, {}, [d.id for d in free.demands])
    assert len(got) == 4 and len(unplaced) == 1


def test_a_preferred_host_is_used_when_allowed_and_given_up_when_not() -> None:
    inp = _input(2, "anti_affinity", "host")
    hosts = _hosts(("h1", "z"), ("h2", "z"), ("h3", "z"))
    got, _ = place_more(hosts, inp, {"vnf/web-1": "h1"}, ["vnf/web-0"], {"vnf/web-0": "h3"})
    assert got == {"vnf/web-0": "h3"}
    # preferred host excluded by the rule (the sibling runs there): another one
    got, _ = place_more(hosts, inp, {"vnf/web-1": "h1"}, ["vnf/web-0"], {"vnf/web-0": "h1"})
    assert got["vnf/web-0"] in {"h2", "h3"}
    # preferred host down: another one
    down = [*hosts[:2], HostCapacity("h3", "z", 8, 16384, 100, up=False)]
    got, _ = place_more(down, inp, {"vnf/web-1": "h1"}, ["vnf/web-0"], {"vnf/web-0": "h3"})
    assert got == {"vnf/web-0": "h2"}
