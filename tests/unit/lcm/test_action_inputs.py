"""From nfvo's inventory rows of one VIM to the consolidation / rebalance planners' input:
one Running per VNFC that has a server and a host, sized as its VDU, with the rules of its NS
as instantiation derived them; what may not move is marked so."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from nfvo.catalog.csar import open_csar
from nfvo.catalog.descriptors import build_descriptor
from nfvo.lcm import codec
from nfvo.lcm.action_inputs import (
    RunningRow,
    host_capacities,
    running_inputs,
    split_demand,
)
from nfvo.lcm.plan import plan_instantiation
from nfvo.samples import VNF_DB_ID, VNF_WEB_ID, build_sample


@pytest.fixture(scope="module")
def descriptors(tmp_path_factory):
    out = {}
    for name in ("vnf-web", "vnf-db", "ns-webapp"):
        path: Path = tmp_path_factory.mktemp("csar") / f"{name}.zip"
        path.write_bytes(build_sample(name))
        csar = open_csar(path)
        out[name] = build_descriptor(csar, csar.entry_definitions)
        csar.close()
    return out["ns-webapp"], {VNF_WEB_ID: out["vnf-web"], VNF_DB_ID: out["vnf-db"]}


def _rows(descriptors, ns_id="ns-1", *, busy=False, state="INSTANTIATED", hostless=()):
    nsd, vnfds = descriptors
    plan = plan_instantiation(ns_id, nsd, vnfds, {"nsFlavourId": "default"}, default_vim="vim-1")
    rows, n = [], 0
    for vnf in plan.vnfs:
        spec = vnf.spec
        for vdu in spec.vdus:
            for i in range(vdu.count):
                key = f"{vdu.vdu_id}-{i}"
                rows.append(
                    RunningRow(
                        ns_id=ns_id,
                        ns_state=state,
                        ns_busy=busy,
                        nsd_info_id="nsd-pkg",
                        flavour_id="default",
                        vnf_id=spec.vnf_instance_id,
                        vnf_spec=codec.to_json(spec),
                        vdu_id=vdu.vdu_id,
                        index=i,
                        server_id=f"srv-{ns_id}-{n}",
                        host=None if key in hostless else f"h{n % 3}",
                    )
                )
                n += 1
    return plan, rows


def _hosts(n=3):
    row = dict(
        zone="z1",
        state="up",
        vcpus=64,
        ram_mib=262144,
        disk_gib=1500,
        cpu_allocation_ratio=1.0,
        ram_allocation_ratio=1.0,
        disk_allocation_ratio=1.0,
        vcpus_used=8,
        ram_mib_used=1024,
        disk_gib_used=10,
    )
    return [SimpleNamespace(name=f"h{i}", **row) for i in range(n)]


def test_every_vnfc_becomes_one_running_vdu_sized_as_its_vdu(descriptors) -> None:
    plan, rows = _rows(descriptors)
    inp = running_inputs("vim-1", [], rows, lambda _id: descriptors)
    assert len(inp.running) == len(rows)
    sizes = {
        f"{v.spec.vnf_instance_id}/{d.vdu_id}": (d.vcpus, d.ram_mib, d.disk_gib)
        for v in plan.vnfs
        for d in v.spec.vdus
    }
    for r in inp.running:
        vnf_id, vdu_id, _ = split_demand(r.id)
        assert (r.vcpus, r.ram_mib, r.disk_gib) == sizes[f"{vnf_id}/{vdu_id}"]
        assert r.group == f"{vnf_id}/{vdu_id}" and r.vnf_id == vnf_id and r.ns_id == "ns-1"
        assert r.movable
        assert inp.vnfcs[r.id].server_id.startswith("srv-ns-1-")
    # the demand -> row map points back at each VNFC's host
    by_server = {row.server_id: row.host for row in rows}
    assert all(by_server[v.server_id] == v.host for v in inp.vnfcs.values())


def test_rules_are_the_descriptors_and_name_only_running_members(descriptors) -> None:
    nsd, vnfds = descriptors
    plan, rows = _rows(descriptors)
    inp = running_inputs("vim-1", [], rows, lambda _id: descriptors)
    ns_rules = [r for f in nsd.flavours if f.flavour_id == "default" for r in f.placement_rules]
    vnf_rules = [
        r
        for v in plan.vnfs
        for r in vnfds[v.spec.vnfd_id].flavour(v.spec.flavour_id).placement_rules
    ]
    assert len(vnf_rules) > 0
    assert len(inp.rules) == len(ns_rules) + len(vnf_rules)
    ids = {r.id for r in inp.running}
    groups = {r.group for r in inp.running}
    for rule in inp.rules:
        assert rule.members and set(rule.members) <= ids | groups
        assert rule.label  # the descriptor rule's name, for explanations


def test_vnfcs_without_a_host_are_left_out(descriptors) -> None:
    _, rows = _rows(descriptors, hostless={"web-0"})
    inp = running_inputs("vim-1", [], rows, lambda _id: descriptors)
    assert len(inp.running) == len(rows) - sum(1 for r in rows if r.host is None) > 0
    assert all(r.host for r in inp.running)


@pytest.mark.parametrize("why", ["busy", "not_instantiated", "descriptors_gone"])
def test_what_may_not_move_stays_as_immovable_load(descriptors, why) -> None:
    _, rows = _rows(
        descriptors, busy=why == "busy", state="INSTANTIATED" if why != "not_instantiated" else "X"
    )

    def gone(_id):
        raise LookupError("package deleted")

    look = gone if why == "descriptors_gone" else (lambda _id: descriptors)
    inp = running_inputs("vim-1", [], rows, look)
    assert len(inp.running) == len(rows)
    assert not any(r.movable for r in inp.running)
    if why == "descriptors_gone":
        assert inp.rules == []


def test_two_ns_keep_their_own_rules_and_ids(descriptors) -> None:
    _, a = _rows(descriptors, "ns-a")
    _, b = _rows(descriptors, "ns-b", busy=True)
    inp = running_inputs("vim-1", [], a + b, lambda _id: descriptors)
    assert {r.ns_id for r in inp.running if r.movable} == {"ns-a"}
    assert {r.ns_id for r in inp.running if not r.movable} == {"ns-b"}
    assert len({r.id for r in inp.running}) == len(a) + len(b)


def test_host_capacity_counts_synced_usage_and_what_nfvo_placed_since() -> None:
    hosts = host_capacities(_hosts(2), {"h1": (4.0, 2048.0, 20.0, 2)})
    h0, h1 = hosts
    assert h0.total() == (64, 262144, 1500)
    assert h0.free() == (56, 262144 - 1024, 1490)
    assert h1.free() == (52, 262144 - 1024 - 2048, 1470)
    assert h0.schedulable


def test_demand_ids_split_on_the_last_dash() -> None:
    assert split_demand("vnf-1/my-vdu-12") == ("vnf-1", "my-vdu", 12)
