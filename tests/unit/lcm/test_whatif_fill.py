"""The pure parts of the what-if service: instances placed one after another on residual
hosts (capacity), and the room left per zone and host after a plan."""

from __future__ import annotations

from nfvo.lcm.plan import PlacementInput
from nfvo.lcm.whatif import _Fill, _left, _Vnf
from nfvo.optimizer.model import Demand, HostCapacity, PlacementRule


def _hosts(n: int, vcpus: float, zone: str = "z1") -> list[HostCapacity]:
    return [HostCapacity(f"h{i}", zone, vcpus, 4096, 100) for i in range(n)]


def _inp(count: int, vcpus: float, anti: bool = False) -> PlacementInput:
    demands = [Demand(f"v/vdu-{i}", vcpus, 512, 1, group="v/vdu") for i in range(count)]
    rules = [PlacementRule("anti_affinity", "host", ["v/vdu"], "apart")] if anti else []
    return PlacementInput(demands, rules, ["AntiAffinityRule 'apart'"] if anti else [])


WHO = {"v": _Vnf("p", 0, "vim", None)}


def test_each_instance_takes_room_before_the_next() -> None:
    fill = _Fill(_hosts(2, 3), _inp(2, 1), WHO, "vim", None)
    count, limited, shown, strategy = fill.run(100)
    assert count == 3  # 6 vCPUs, 2 per instance
    assert "instance 4" in limited and "vcpus" in limited
    assert len(shown) == 3 and all(len(i) == 2 for i in shown)
    assert strategy


def test_rules_bound_the_count_and_are_named() -> None:
    # anti-affinity over 3 replicas on 3 hosts (room for 8 VDUs each, by RAM): one replica
    # per host per instance, so 8 instances (rules hold within one NS instance only), and
    # the 9th is stopped by the short dimension
    count, limited, _, _ = _Fill(_hosts(3, 10), _inp(3, 1, anti=True), WHO, "vim", None).run(100)
    assert count == 8 and "ram_mib" in limited, limited
    # 2 hosts cannot keep 3 replicas apart: none fits, and the rule is named
    count, limited, _, _ = _Fill(_hosts(2, 10), _inp(3, 1, anti=True), WHO, "vim", None).run(5)
    assert count == 0 and "apart" in limited, limited


def test_the_max_stops_counting() -> None:
    count, limited, shown, _ = _Fill(_hosts(4, 64), _inp(1, 1), WHO, "vim", None).run(20)
    assert count == 20 and "max (20)" in limited and len(shown) == 10


def test_room_left_per_zone_and_touched_host() -> None:
    hosts = _hosts(2, 8, "a") + [HostCapacity("h9", "b", 8, 4096, 100, up=False)]
    inp = _inp(3, 2)
    left = _left(hosts, inp, {"v/vdu-0": "h0", "v/vdu-1": "h0", "v/vdu-2": "h1"})
    assert left["hostsTouched"] == 2
    by_host = {h["host"]: h for h in left["hosts"]}
    assert by_host["h0"]["freeAfter"]["vcpus"] == 4 and by_host["h1"]["freeAfter"]["vcpus"] == 6
    [zone] = left["zones"]  # h9 is down: zone b has no schedulable host
    assert zone == {
        "zone": "a",
        "hosts": 2,
        "free": {"vcpus": 16, "ramMib": 8192, "diskGib": 200},
        "freeAfter": {"vcpus": 10, "ramMib": 8192 - 1536, "diskGib": 197},
    }
