"""The RCA entity graph over a real inventory (SQLite and PostgreSQL): its vertices and edges,
the impact of each kind of resource, the incremental refresh of a changed NS (the same graph
as a full build), alarm vertices and RCA's state kept across reloads while their resource
exists, readiness, the background thread and the periodic full resync on an injected clock."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import networkx as nx
import pytest
from sqlalchemy import delete, insert, update

from nfvo.inventory.db import Database
from nfvo.inventory.models import (
    NsInstance,
    NsVl,
    NsVnf,
    NsVnfc,
    NsVnfVl,
    VimAccount,
    VimHost,
    VimZone,
)
from nfvo.policy.rca.graph import EntityGraph, Impact

VIM = "aaaaaaaa-0000-0000-0000-000000000001"
SPEC = {
    "ext_networks": {"mgmt": ""},
    "vdus": [
        {
            "vdu_id": "vdu",
            "cps": [
                {"cp_id": "ext", "network": "mgmt"},
                {"cp_id": "int", "network": "internal"},
            ],
        }
    ],
}


def key(kind: str, rid: str) -> str:
    return f"{kind}:{rid}" if kind in ("vim", "vnf", "ns") else f"{kind}:{VIM}:{rid}"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    d = Database(db_url)
    d.migrate()
    with d.session() as s:
        s.add(VimAccount(id=VIM, name="v", vim_type="sim", operational_state="ENABLED"))
        s.flush()
        s.execute(insert(VimZone), [{"vim_id": VIM, "name": z} for z in ("az1", "az2")])
        s.execute(
            insert(VimHost),
            [
                {
                    "vim_id": VIM,
                    "name": h,
                    "zone": z,
                    "state": "up",
                    "vcpus": 8,
                    "ram_mib": 8192,
                    "disk_gib": 100,
                }
                for h, z in (("h1", "az1"), ("h2", "az1"), ("h3", "az2"))
            ],
        )
    yield d
    d.dispose()


def add_ns(
    db: Database, ns_id: str, vnfs: dict[str, list[tuple[str, str | None]]], tenant: str | None
) -> None:
    """An NS whose VNFs (id -> [(server id, host)]) have one VNFC per server, each with an
    external port ``<server>-e`` on the NS virtual link ``mgmt`` (network ``net-<ns>``) and an
    internal one ``<server>-i`` on the VNF's own link (network ``net-<vnf>``)."""
    zones = {"h1": "az1", "h2": "az1", "h3": "az2"}
    with db.session() as s:
        s.add(
            NsInstance(
                id=ns_id,
                tenant_id=tenant,
                nsd_info_id=ns_id,
                nsd_id="nsd",
                name=f"name-{ns_id}",
                ns_state="INSTANTIATED",
                scale_status={},
            )
        )
        s.flush()
        s.add(
            NsVl(ns_instance_id=ns_id, vl_id="mgmt", vim_account_id=VIM, network_id=f"net-{ns_id}")
        )
        for seq, (vnf_id, servers) in enumerate(vnfs.items()):
            s.add(
                NsVnf(
                    id=vnf_id,
                    ns_instance_id=ns_id,
                    seq=seq,
                    vnf_profile_id=f"prof-{vnf_id}",
                    vnfd_id="vnfd",
                    flavour_id="default",
                    vim_account_id=VIM,
                    spec=SPEC,
                    instantiated=True,
                    scale_levels={},
                )
            )
            s.flush()
            s.add(
                NsVnfVl(
                    vnf_instance_id=vnf_id,
                    vl_id="internal",
                    ns_instance_id=ns_id,
                    network_id=f"net-{vnf_id}",
                )
            )
            for i, (sid, host) in enumerate(servers):
                s.add(vnfc(ns_id, vnf_id, i, sid, host, zones.get(host or "")))


def vnfc(ns_id: str, vnf_id: str, idx: int, sid: str, host: str | None, zone: str | None) -> NsVnfc:
    return NsVnfc(
        vnf_instance_id=vnf_id,
        vdu_id="vdu",
        idx=idx,
        ns_instance_id=ns_id,
        vim_account_id=VIM,
        key=f"{vnf_id}/vdu/{idx}",
        server_id=sid,
        status="ACTIVE",
        host=host,
        zone=zone,
        port_ids={"ext": f"{sid}-e", "int": f"{sid}-i"},
        addresses={},
    )


@pytest.fixture
def world(db: Database) -> Database:
    """Host h1 carries 6 VNFCs of 3 VNFs in 2 NS (tenant t1 and tenant t2); h2 one more VNFC
    of NS B; h3 one of NS C (a third NS, t1)."""
    add_ns(db, "ns-a", {"vnf-a1": [("s1", "h1"), ("s2", "h1")], "vnf-a2": [("s3", "h1")]}, "t1")
    add_ns(db, "ns-b", {"vnf-b1": [("s4", "h1"), ("s5", "h1"), ("s6", "h1"), ("s7", "h2")]}, "t2")
    add_ns(db, "ns-c", {"vnf-c1": [("s8", "h3")]}, "t1")
    return db


def loaded(db: Database, **kw: Any) -> EntityGraph:
    g = EntityGraph(db, **kw)
    g.load()
    return g


def edges(g: EntityGraph) -> set[tuple[str, str, str]]:
    with g.lock:
        return {(u, v, k) for u, v, k in g.g.edges(keys=True)}


def snapshot(g: EntityGraph) -> tuple[dict[str, dict[str, Any]], set[tuple[Any, ...]]]:
    with g.lock:
        nodes = {k: dict(d) for k, d in g.g.nodes(data=True)}
        es = {(u, v, k, tuple(sorted(d.items()))) for u, v, k, d in g.g.edges(keys=True, data=True)}
    return nodes, es


# ------------------------------------------------------------------------------ shape


def test_vertices_and_edges_of_the_inventory(world: Database) -> None:
    g = loaded(world)
    assert g.ready
    counts = g.counts()
    assert counts == {
        "vim": 1,
        "zone": 2,
        "host": 3,
        "ns": 3,
        "vnf": 4,
        "server": 8,
        "port": 16,
        "network": 3 + 4,  # one NS link per NS, one internal link per VNF
        "edges": 2 + 3 + 8 + 4 + 8 + 7 + 16 + 16,
    }
    server = g.vertex(key("server", "s4"))
    assert server == {
        "category": "RESOURCE",
        "type": "server",
        "id": "s4",
        "vim_id": VIM,
        "name": "vnf-b1-vdu-0",
        "state": "OK",
        "marked_down": False,
        "tenant_id": "t2",
        "ns_instance_id": "ns-b",
        "vnf_instance_id": "vnf-b1",
        "vnfc_id": "vnf-b1-vdu-0",
        "vdu_id": "vdu",
        "host": "h1",
        "zone": "az1",
    }
    vnf = g.vertex("vnf:vnf-a2")
    assert vnf is not None
    assert (vnf["tenant_id"], vnf["ns_instance_id"], vnf["name"]) == ("t1", "ns-a", "prof-vnf-a2")
    ns = g.vertex("ns:ns-b")
    assert ns is not None and (ns["tenant_id"], ns["vim_id"], ns["name"]) == (
        "t2",
        None,
        "name-ns-b",
    )
    net = g.vertex(key("network", "net-ns-a"))
    assert net is not None and (net["ns_instance_id"], net["vl_id"]) == ("ns-a", "mgmt")
    assert g.vertex(key("network", "net-vnf-a1"))["vl_id"] == "internal"  # type: ignore[index]
    es = edges(g)
    for e in (
        ("vim:" + VIM, key("zone", "az1"), "contains"),
        (key("zone", "az1"), key("host", "h1"), "contains"),
        (key("host", "h1"), key("server", "s1"), "contains"),
        ("ns:ns-a", "vnf:vnf-a1", "comprises"),
        ("vnf:vnf-a1", key("server", "s1"), "comprises"),
        ("ns:ns-a", key("network", "net-ns-a"), "comprises"),
        ("ns:ns-a", key("network", "net-vnf-a1"), "comprises"),
        (key("port", "s1-e"), key("server", "s1"), "attached"),
        (key("port", "s1-e"), key("network", "net-ns-a"), "attached"),
        (key("port", "s1-i"), key("network", "net-vnf-a1"), "attached"),
    ):
        assert e in es, e
    with g.lock:  # edge key = label, and the label as attribute
        assert all(d["label"] == k for _u, _v, k, d in g.g.edges(keys=True, data=True))


def test_a_vnfc_without_a_known_host_hangs_under_its_zone_or_vim(db: Database) -> None:
    add_ns(db, "ns-x", {"vnf-x": [("sx", None)]}, None)
    with db.session() as s:
        s.add(vnfc("ns-x", "vnf-x", 1, "sy", "unsynced-host", "az9"))
    g = loaded(db)
    es = edges(g)
    assert ("vim:" + VIM, key("server", "sx"), "contains") in es
    assert ("vim:" + VIM, key("zone", "az9"), "contains") in es  # a zone only the VNFC names
    assert (key("zone", "az9"), key("host", "unsynced-host"), "contains") in es
    assert set(g.impact("vim:" + VIM).servers) == {key("server", "sx"), key("server", "sy")}


# ------------------------------------------------------------------------------ impact


def test_impact_of_a_host_names_its_ns_vnfs_and_servers_only(world: Database) -> None:
    g = loaded(world)
    imp = g.impact(key("host", "h1"))
    assert imp == Impact(
        ns={"ns-a": ("vnf-a1", "vnf-a2"), "ns-b": ("vnf-b1",)},
        vnfs=("vnf-a1", "vnf-a2", "vnf-b1"),
        servers=tuple(key("server", f"s{i}") for i in range(1, 7)),
    )
    assert g.servers_under(key("host", "h1")) == list(imp.servers)
    assert g.impact(key("host", "h2")).ns == {"ns-b": ("vnf-b1",)}
    assert g.impact(key("host", "h3")).ns == {"ns-c": ("vnf-c1",)}


def test_impact_of_every_kind_of_resource(world: Database) -> None:
    g = loaded(world)
    az1 = g.impact(key("zone", "az1"))
    assert az1.ns == {"ns-a": ("vnf-a1", "vnf-a2"), "ns-b": ("vnf-b1",)}
    assert len(az1.servers) == 7
    vim = g.impact("vim:" + VIM)
    assert set(vim.ns) == {"ns-a", "ns-b", "ns-c"} and len(vim.servers) == 8
    assert len(vim.vnfs) == 4
    # the NS virtual link: every VNF of the NS has a port on it
    assert g.impact(key("network", "net-ns-a")).ns == {"ns-a": ("vnf-a1", "vnf-a2")}
    # a VNF's internal link: that VNF only
    internal = g.impact(key("network", "net-vnf-a2"))
    assert internal == Impact({"ns-a": ("vnf-a2",)}, ("vnf-a2",), (key("server", "s3"),))
    assert g.impact("vnf:vnf-a1").servers == (key("server", "s1"), key("server", "s2"))
    assert g.impact("vnf:vnf-a1").ns == {"ns-a": ("vnf-a1",)}
    assert g.impact("ns:ns-b") == Impact(
        {"ns-b": ("vnf-b1",)}, ("vnf-b1",), tuple(key("server", f"s{i}") for i in (4, 5, 6, 7))
    )
    assert g.impact(key("server", "s8")) == Impact(
        {"ns-c": ("vnf-c1",)}, ("vnf-c1",), (key("server", "s8"),)
    )
    assert g.impact(key("port", "s7-i")).servers == (key("server", "s7"),)
    assert g.servers_under(key("port", "s7-i")) == [key("server", "s7")]
    assert g.impact(key("host", "nope")) == Impact() and not g.has(key("host", "nope"))
    assert g.servers_under("ns:nope") == []


def test_an_ns_link_without_ports_still_names_its_ns(db: Database) -> None:
    add_ns(db, "ns-l", {}, None)  # an NS of virtual links only
    g = loaded(db)
    assert g.impact(key("network", "net-ns-l")) == Impact({"ns-l": ()}, (), ())
    assert g.impact("ns:ns-l") == Impact({"ns-l": ()}, (), ())


# ------------------------------------------------------------------------------ refresh


def fresh_equals(db: Database, g: EntityGraph) -> None:
    """``g`` (after incremental refreshes) is the graph a full build makes now."""
    full = loaded(db)
    got_nodes, got_edges = snapshot(g)
    want_nodes, want_edges = snapshot(full)
    for k in got_nodes.keys() | want_nodes.keys():
        assert got_nodes.get(k) == want_nodes.get(k), k
    assert got_edges == want_edges


def test_an_ns_change_refreshes_that_ns_only_to_what_a_full_build_makes(world: Database) -> None:
    g = loaded(world)
    assert g.refresh_if_changed() is False
    with world.session() as s:  # NS A: a VNFC moves to h3, another is added on h2
        c = NsVnfc.__table__.c
        s.execute(update(NsVnfc).where(c.server_id == "s3").values(host="h3", zone="az2"))
        s.add(vnfc("ns-a", "vnf-a2", 1, "s9", "h2", "az1"))
    assert g.refresh_if_changed() is True
    assert (g.loads, g.refreshes) == (1, 1)
    assert g.impact(key("host", "h1")).ns == {"ns-a": ("vnf-a1",), "ns-b": ("vnf-b1",)}
    assert g.impact(key("host", "h3")).ns == {"ns-a": ("vnf-a2",), "ns-c": ("vnf-c1",)}
    assert key("server", "s9") in g.impact(key("host", "h2")).servers
    fresh_equals(world, g)
    with world.session() as s:  # NS B goes, a new NS D comes (tenant t2)
        s.execute(delete(NsInstance).where(NsInstance.id == "ns-b"))
        s.execute(delete(NsVnfc).where(NsVnfc.ns_instance_id == "ns-b"))
    add_ns(world, "ns-d", {"vnf-d1": [("s10", "h2")]}, "t2")
    assert g.refresh_if_changed() is True
    assert g.loads == 1
    assert not g.has("ns:ns-b") and not g.has(key("server", "s4"))
    assert not g.has(key("network", "net-ns-b")) and not g.has(key("port", "s4-e"))
    assert g.impact(key("host", "h2")).ns == {"ns-a": ("vnf-a2",), "ns-d": ("vnf-d1",)}
    fresh_equals(world, g)
    assert g.refresh_if_changed() is False


def test_a_host_only_vnfcs_named_goes_with_its_last_vnfc(db: Database) -> None:
    add_ns(db, "ns-x", {"vnf-x": [("sx", "h1")]}, None)
    with db.session() as s:
        s.add(vnfc("ns-x", "vnf-x", 1, "sy", "ghost", "az9"))
    g = loaded(db)
    assert g.has(key("host", "ghost")) and g.has(key("zone", "az9"))
    with db.session() as s:
        s.execute(delete(NsVnfc).where(NsVnfc.server_id == "sy"))
    assert g.refresh_if_changed() is True and g.loads == 1
    assert not g.has(key("host", "ghost")) and not g.has(key("zone", "az9"))
    assert g.has(key("host", "h2"))  # hosts of the inventory stay, with nothing on them
    fresh_equals(db, g)


def test_an_infrastructure_change_reloads_everything(world: Database) -> None:
    g = loaded(world)
    with world.session() as s:
        s.add(
            VimHost(vim_id=VIM, name="h4", zone="az2", state="up", vcpus=1, ram_mib=1, disk_gib=1)
        )
    assert g.refresh_if_changed() is True
    assert g.loads == 2 and g.has(key("host", "h4"))
    assert (key("zone", "az2"), key("host", "h4"), "contains") in edges(g)


# ------------------------------------------------------------------------------ alarms


def test_alarms_and_rca_state_survive_reloads_while_their_resource_exists(
    world: Database,
) -> None:
    g = loaded(world)
    host_alarm, server_alarm = (
        "alarm:host:" + key("host", "h1"),
        "alarm:deduced:t:s:" + key("server", "s3"),
    )
    g.add_alarm(host_alarm, key("host", "h1"), type="HOST_DOWN", severity="CRITICAL")
    g.add_alarm(server_alarm, key("server", "s3"), type="Instance down", deduced=True)
    g.add_edge(host_alarm, server_alarm, "causes")
    with g.lock:
        g.g.nodes[key("host", "h1")]["state"] = "ERROR"
        g.g.nodes[key("server", "s3")]["marked_down"] = True
    g.load()  # a full reload
    assert g.vertex(host_alarm)["severity"] == "CRITICAL"  # type: ignore[index]
    assert g.vertex(server_alarm)["deduced"] is True  # type: ignore[index]
    es = edges(g)
    assert (host_alarm, key("host", "h1"), "on") in es
    assert (server_alarm, key("server", "s3"), "on") in es
    assert (host_alarm, server_alarm, "causes") in es
    assert g.vertex(key("host", "h1"))["state"] == "ERROR"  # type: ignore[index]
    assert g.vertex(key("server", "s3"))["marked_down"] is True  # type: ignore[index]
    with world.session() as s:  # NS A changes, s3 stays: an incremental refresh keeps all
        s.add(vnfc("ns-a", "vnf-a1", 5, "s11", "h2", "az1"))
    assert g.refresh_if_changed() is True and g.refreshes == 1
    assert {(host_alarm, server_alarm, "causes"), (server_alarm, key("server", "s3"), "on")} <= (
        edges(g)
    )
    assert g.vertex(key("server", "s3"))["marked_down"] is True  # type: ignore[index]
    with world.session() as s:  # s3 is gone: its alarm and the causal link go with it
        s.execute(delete(NsVnfc).where(NsVnfc.server_id == "s3"))
    assert g.refresh_if_changed() is True
    assert not g.has(server_alarm) and g.has(host_alarm)
    assert not any(u == host_alarm and k == "causes" for u, _v, k in edges(g))
    # a full reload drops an alarm whose resource is gone too
    g.add_alarm("alarm:x", key("server", "s8"), type="SERVER_CRASHED")
    with world.session() as s:
        s.execute(delete(NsInstance).where(NsInstance.id == "ns-c"))
    g.load()
    assert not g.has("alarm:x") and g.has(host_alarm)


def test_alarm_and_edge_helpers_refuse_what_does_not_exist(world: Database) -> None:
    g = loaded(world)
    with pytest.raises(KeyError):
        g.add_alarm("alarm:a", key("host", "nope"))
    g.add_alarm("alarm:a", key("host", "h1"), severity="MAJOR")
    with pytest.raises(KeyError):
        g.add_alarm("alarm:b", "alarm:a")  # an alarm is not a resource
    with pytest.raises(ValueError, match="resource vertex"):
        g.add_alarm(key("host", "h2"), key("host", "h1"))  # nor a resource an alarm
    assert g.vertex(key("host", "h2"))["category"] == "RESOURCE"  # type: ignore[index]
    with pytest.raises(ValueError, match="label"):
        g.add_edge("alarm:a", key("host", "h1"), "bogus")
    with pytest.raises(KeyError):
        g.add_edge("alarm:a", "alarm:none", "causes")
    g.add_alarm("alarm:a", key("host", "h2"), severity="CRITICAL")  # moved and updated
    es = edges(g)
    assert ("alarm:a", key("host", "h2"), "on") in es
    assert ("alarm:a", key("host", "h1"), "on") not in es
    assert g.vertex("alarm:a")["severity"] == "CRITICAL"  # type: ignore[index]
    assert g.impact("alarm:a") == Impact() and g.servers_under("alarm:a") == []
    assert g.remove_edge("alarm:a", key("host", "h2"), "on") is True
    assert g.remove_edge("alarm:a", key("host", "h2"), "on") is False
    assert g.remove_alarm(key("host", "h1")) is False  # not an alarm: left alone
    assert g.remove_alarm("alarm:a") is True and not g.has("alarm:a")
    assert g.remove_alarm("alarm:a") is False


# ------------------------------------------------------------------------------ lifecycle


def test_not_ready_until_the_first_snapshot(world: Database) -> None:
    g = EntityGraph(world)
    assert not g.ready and g.impact(key("host", "h1")) == Impact()
    assert g.refresh_if_changed() is True  # no snapshot yet: a full load
    assert g.ready and g.loads == 1


def test_a_failing_read_keeps_the_thread_and_the_last_graph(tmp_path: Any) -> None:
    broken = Database(f"sqlite:///{tmp_path / 'no-such-dir' / 'x.db'}")
    g = EntityGraph(broken)
    assert g.sync() is False
    assert not g.ready and g.last_error and "OperationalError" in g.last_error
    broken.dispose()


def test_the_thread_builds_at_start_and_follows_changes(world: Database) -> None:
    g = EntityGraph(world, poll_s=0.05)
    g.start()
    try:
        deadline = time.monotonic() + 10
        while not g.ready:
            assert time.monotonic() < deadline, g.last_error
            time.sleep(0.01)
        add_ns(world, "ns-n", {"vnf-n": [("sn", "h2")]}, None)
        while not g.has(key("server", "sn")):
            assert time.monotonic() < deadline, g.last_error
            time.sleep(0.01)
        assert g.impact(key("host", "h2")).ns["ns-n"] == ("vnf-n",)
    finally:
        g.stop()
    assert g._thread is None


def test_the_full_resync_runs_every_resync_s_by_the_clock(world: Database) -> None:
    clock = Clock()
    g = EntityGraph(world, clock=clock, resync_s=300)
    assert g.sync() is True and g.loads == 1  # the first step: a full load
    with g.lock:  # something the change check cannot see (as a commit it missed)
        g.g.remove_node(key("server", "s1"))
    clock.now += 299
    assert g.sync() is False and g.loads == 1 and not g.has(key("server", "s1"))
    clock.now += 1
    assert g.sync() is True and g.loads == 2 and g.has(key("server", "s1"))


def test_impact_reads_under_a_concurrent_refresh(world: Database) -> None:
    """Readers hold the lock: an impact is never computed over a half-applied change."""
    g = loaded(world)
    stop = time.monotonic() + 1.0
    seen: set[int] = set()

    def read() -> None:
        while time.monotonic() < stop:
            seen.add(len(g.impact(key("host", "h1")).servers))

    t = threading.Thread(target=read)
    t.start()
    n = 0
    while time.monotonic() < stop:
        with world.session() as s:
            s.execute(insert(NsVnfc), [_row("ns-a", "vnf-a1", 100 + n, f"z{n}", "h1")])
        g.refresh_if_changed()
        n += 1
    t.join()
    assert n > 1 and min(seen) >= 6 and max(seen) <= 6 + n
    assert len(g.impact(key("host", "h1")).servers) == 6 + n
    assert isinstance(g.g, nx.MultiDiGraph)


def _row(ns_id: str, vnf_id: str, idx: int, sid: str, host: str) -> dict[str, Any]:
    return {
        "vnf_instance_id": vnf_id,
        "vdu_id": "vdu",
        "idx": idx,
        "ns_instance_id": ns_id,
        "vim_account_id": VIM,
        "key": f"{vnf_id}/vdu/{idx}/{uuid.uuid4()}",
        "server_id": sid,
        "status": "ACTIVE",
        "host": host,
        "zone": "az1",
        "port_ids": {},
        "addresses": {},
    }
