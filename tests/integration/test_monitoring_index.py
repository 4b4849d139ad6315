"""The hub's VNF/NS aggregates over a real inventory (SQLite and PostgreSQL): the resource
index finds each VNF's servers and external-CP ports from ns_vnfcs / ns_vnfs rows."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import delete, text

from nfvo.inventory.db import Database
from nfvo.inventory.models import NsInstance, NsVl, NsVnf, NsVnfc, NsVnfVl
from nfvo.monitoring.hub import Monitor
from nfvo.monitoring.model import Resource, ResourceKind, Sample

VIM = "11111111-1111-1111-1111-111111111111"


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    d = Database(db_url)
    d.migrate()
    yield d
    d.dispose()


def _spec() -> dict[str, Any]:
    # cp "ext" sits on the NS virtual link "mgmt" (an external network of the VNF),
    # cp "int" on the VNF's internal link
    return {
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


def make_ns(db: Database, vnfs: dict[str, list[str]], spec: dict[str, Any] | None = None) -> str:
    """An NS whose VNFs (id -> server ids) have one VNFC per server, each with an external
    port ``<server>-ext`` and an internal port ``<server>-int``."""
    ns_id = str(uuid.uuid4())
    with db.session() as s:
        s.add(
            NsInstance(
                id=ns_id,
                nsd_info_id=str(uuid.uuid4()),
                nsd_id="nsd",
                name="ns",
                ns_state="INSTANTIATED",
                scale_status={},
            )
        )
        s.flush()
        for seq, (vnf_id, servers) in enumerate(vnfs.items()):
            s.add(
                NsVnf(
                    id=vnf_id,
                    ns_instance_id=ns_id,
                    seq=seq,
                    vnf_profile_id="p",
                    vnfd_id="vnfd",
                    flavour_id="default",
                    vim_account_id=VIM,
                    spec=_spec() if spec is None else spec,
                    instantiated=True,
                    scale_levels={},
                )
            )
            s.flush()
            for i, sid in enumerate(servers):
                s.add(
                    NsVnfc(
                        vnf_instance_id=vnf_id,
                        vdu_id="vdu",
                        idx=i,
                        ns_instance_id=ns_id,
                        vim_account_id=VIM,
                        key=f"{vnf_id}/vdu/{i}",
                        server_id=sid,
                        status="ACTIVE",
                        host="compute-1",
                        zone="nova",
                        port_ids={"ext": f"{sid}-ext", "int": f"{sid}-int"},
                        addresses={},
                    )
                )
    return ns_id


def server(sid: str) -> Resource:
    return Resource(ResourceKind.SERVER, sid, VIM)


def port(pid: str) -> Resource:
    return Resource(ResourceKind.PORT, pid, VIM)


def test_vnf_and_ns_aggregates_over_the_inventory(db: Database) -> None:
    vnf_a, vnf_b = f"a-{uuid.uuid4()}", f"b-{uuid.uuid4()}"
    ns_id = make_ns(db, {vnf_a: ["a1", "a2", "a3"], vnf_b: ["b1"]})
    now = time.time()
    mon = Monitor(db, window_s=30.0, clock=lambda: now)
    mon.refresh_index()
    assert mon.index.last_error is None
    mon.samples(
        [
            Sample(server("a1"), "cpu_utilization", 20.0, now - 5),
            Sample(server("a1"), "cpu_utilization", 40.0, now - 1),  # a1 mean 30, peak 40
            Sample(server("a2"), "cpu_utilization", 90.0, now - 2),  # a2 mean 90
            # a3 sends nothing: left out, never read as 0
            Sample(server("b1"), "cpu_utilization", 10.0, now - 1),
            Sample(port("a1-ext"), "bytes_in", 100.0, now - 1),
            Sample(port("a2-ext"), "bytes_in", 250.0, now - 1),
            Sample(port("a1-int"), "bytes_in", 10_000.0, now - 1),  # internal: not counted
            Sample(port("b1-ext"), "bytes_in", 5.0, now - 1),
        ]
    )
    vnf = Resource(ResourceKind.VNF, vnf_a)
    mean = mon.current(vnf, "v_cpu_usage_mean_vnf")
    assert (mean.count, mean.mean, mean.peak, mean.last) == (3, 60.0, 90.0, 65.0)
    assert mon.current(vnf, "VCpuUsagePeakVnf").peak == 90.0
    assert mon.current(vnf, "byte_incoming_vnf_ext_cp").mean == 350.0
    assert mon.current(vnf, "v_memory_usage_mean_vnf").no_data

    ns = Resource(ResourceKind.NS, ns_id)
    assert mon.current(ns, "byte_incoming").mean == 355.0
    assert mon.current(ns, "ByteIncomingSap").mean == 355.0
    assert mon.current(ns, "v_cpu_usage_mean_vnf").mean == pytest.approx((30 + 90 + 10) / 3)
    got = mon.metrics_of(ns)
    assert got["byte_incoming"].mean == 355.0 and got["packet_outgoing"].no_data

    assert mon.index.owner(port("a2-int")) == (vnf_a, ns_id)
    assert mon.index.host_of(server("b1")) == Resource(ResourceKind.HOST, "compute-1", VIM)
    assert set(mon.index.servers_on(Resource(ResourceKind.HOST, "compute-1", VIM))) == {
        server(s) for s in ("a1", "a2", "a3", "b1")
    }


def test_refresh_follows_the_inventory(db: Database) -> None:
    vnf_id = f"v-{uuid.uuid4()}"
    make_ns(db, {vnf_id: ["x1"]}, spec={})  # a VNF without a spec: no external CP known
    now = time.time()
    mon = Monitor(db, clock=lambda: now)
    vnf = Resource(ResourceKind.VNF, vnf_id)
    mon.samples([Sample(server("x1"), "cpu_utilization", 70.0, now - 1)])
    mon.samples([Sample(port("x1-ext"), "bytes_out", 70.0, now - 1)])
    assert mon.current(vnf, "v_cpu_usage_mean_vnf").no_data  # not refreshed yet
    mon.refresh_index()
    assert mon.current(vnf, "v_cpu_usage_mean_vnf").mean == 70.0
    assert mon.current(vnf, "byte_outgoing_vnf_ext_cp").no_data
    assert mon.index.refresh_if_changed() is False  # nothing changed: one cheap query
    other = f"w-{uuid.uuid4()}"
    make_ns(db, {other: ["x2"]})
    assert mon.index.refresh_if_changed() is True
    assert mon.index.owner(server("x2"))[0] == other
    with db.session() as s:
        s.execute(delete(NsVnfc).where(NsVnfc.vnf_instance_id == vnf_id))
        s.execute(delete(NsVnf).where(NsVnf.id == vnf_id))
    assert mon.index.refresh_if_changed() is True
    assert mon.current(vnf, "v_cpu_usage_mean_vnf").no_data
    assert mon.index.owner(server("x1")) is None


def test_the_refresh_thread_builds_the_index_on_start(db: Database) -> None:
    vnf_id = f"v-{uuid.uuid4()}"
    make_ns(db, {vnf_id: ["y1", "y2"]})
    mon = Monitor(db)
    mon.start()
    try:
        deadline = time.monotonic() + 5.0
        while mon.index.refreshed_at is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(mon.index.of(Resource(ResourceKind.VNF, vnf_id)).servers) == 2
    finally:
        mon.stop()


def test_a_failing_refresh_keeps_the_last_index(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="nfvo.monitoring.hub")
    vnf_id = f"v-{uuid.uuid4()}"
    make_ns(db, {vnf_id: ["z1"]})
    mon = Monitor(db)
    assert mon.refresh_index()
    with db.session() as s:  # the schema loses its table: the next refresh fails
        s.execute(text("DROP TABLE ns_vnfcs"))
    assert mon.refresh_index() is False
    assert mon.refresh_index() is False
    assert mon.index.last_error and mon.counters()["index_errors"] == 2
    assert len(mon.index.of(Resource(ResourceKind.VNF, vnf_id)).servers) == 1
    logged = [r for r in caplog.records if "index not refreshed" in r.getMessage()]
    assert len(logged) == 1 and logged[0].exc_info is None  # once per change, no traceback


def test_owners_say_which_vnfs_and_nss_a_fault_touches(db: Database) -> None:
    va, vb = f"a-{uuid.uuid4()}", f"b-{uuid.uuid4()}"
    ns1 = make_ns(db, {va: ["o1"]})
    ns2 = make_ns(db, {vb: ["o2"]})
    with db.session() as s:
        s.add(NsVl(ns_instance_id=ns1, vl_id="mgmt", vim_account_id=VIM, network_id="net-ns"))
        s.add(NsVnfVl(vnf_instance_id=vb, vl_id="int", ns_instance_id=ns2, network_id="net-vnf"))
    mon = Monitor(db)
    mon.refresh_index()
    idx = mon.index
    host = Resource(ResourceKind.HOST, "compute-1", VIM)
    assert idx.ns_ids(host) == {ns1, ns2}  # a host down carrying VNFCs of two NSs
    assert idx.owners(host) == {(va, ns1), (vb, ns2)}
    assert idx.ns_ids(Resource(ResourceKind.ZONE, "nova", VIM)) == {ns1, ns2}
    assert idx.ns_ids(Resource(ResourceKind.VIM, VIM)) == {ns1, ns2}
    assert idx.owners(server("o2")) == {(vb, ns2)}
    assert idx.owners(port("o1-int")) == {(va, ns1)}
    assert idx.owners(Resource(ResourceKind.NETWORK, "net-ns", VIM)) == {("", ns1)}
    assert idx.owners(Resource(ResourceKind.NETWORK, "net-vnf", VIM)) == {(vb, ns2)}
    assert idx.owners(Resource(ResourceKind.VNF, va)) == {(va, ns1)}
    assert idx.owners(Resource(ResourceKind.NS, ns2)) == {(vb, ns2)}
    assert idx.owners(Resource(ResourceKind.HOST, "compute-9", VIM)) == frozenset()
    assert idx.owners(server("unknown")) == frozenset()
    assert idx.servers_on(Resource(ResourceKind.HOST, "compute-9", VIM)) == ()
