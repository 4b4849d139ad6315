"""Root-cause analysis with the nsfm mapping on a real database (SQLite and PostgreSQL):
fault events fed straight to the engine over an entity graph of the pinned schema.

- host down under 6 VNFCs of 3 VNFs in 2 NS: one root-cause alarm, 6 causal links, 2 NS
  alarms (isRootCause true), 2 AlarmNotifications queued, a RootCause naming the 6 VNFCs;
- a host with 100 VNFCs and 100 VNF alarms from the VNFM: one notification per affected NS,
  the other alarms isRootCause false and correlated both ways, whatever the arrival order;
- recovery: NS alarms cleared (notified), deduced alarms and links gone, a cleared RootCause;
- events before the graph's first snapshot wait for it.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter

import pytest
from sqlalchemy import func, select
from tests.unit.policy.rca.fakegraph import FakeGraph, World

from nfvo.inventory.alarms_repo import AlarmRow
from nfvo.inventory.db import Database
from nfvo.inventory.models import LccnSubscriptionRow, NotificationDelivery
from nfvo.monitoring.fm import FaultManager
from nfvo.monitoring.model import FaultEvent, FaultKind, Resource, ResourceKind, Severity
from nfvo.policy.model import RootCause
from nfvo.policy.rca.engine import RcaEngine

VIM = "vim-1"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def db(db_url: str) -> Database:
    d = Database(db_url)
    d.migrate()
    with d.session() as s:  # one nsfm subscriber of everything
        s.add(
            LccnSubscriptionRow(
                id=str(uuid.uuid4()),
                api="nsfm",
                tenant_id=None,
                callback_uri="http://callback.example/fm",
                filter={},
                verbosity="FULL",
                fingerprint=str(uuid.uuid4()),
            )
        )
    return d


def _engine(db: Database, graph: FakeGraph, clock: Clock) -> tuple[RcaEngine, list[RootCause]]:
    engine = RcaEngine(db, graph, FaultManager(db, clock=clock), clock=clock)
    heard: list[RootCause] = []
    engine.on_root_cause(heard.append)
    return engine, heard


def _host(host: str, up: bool = False) -> FaultEvent:
    kind, sev = (
        (FaultKind.HOST_UP, Severity.CLEARED) if up else (FaultKind.HOST_DOWN, Severity.CRITICAL)
    )
    return FaultEvent(Resource(ResourceKind.HOST, host, VIM), kind, sev, time.time(), "sim")


def _vnf_alarm(vnf: str, alarm: str, cleared: bool = False) -> FaultEvent:
    sev = Severity.CLEARED if cleared else Severity.MAJOR
    return FaultEvent(
        Resource(ResourceKind.VNF, vnf), FaultKind.VNF_ALARM, sev, time.time(), "vnfm",
        fault_id=f"vnffm:{alarm}", probable_cause="VNFC not responding",
    )  # fmt: skip


def _rows(db: Database) -> list[AlarmRow]:
    with db.session() as s:
        return list(s.scalars(select(AlarmRow).order_by(AlarmRow.created_at, AlarmRow.id)))


def _notes(db: Database) -> Counter[str]:
    with db.session() as s:
        notes = s.scalars(select(NotificationDelivery.notification))
        return Counter(n["notificationType"] for n in notes)


def _links(graph: FakeGraph) -> list[tuple[str, str]]:
    return [(s, d) for s, d, k in graph.g.edges(keys=True) if k == "causes"]


def _alarms(graph: FakeGraph, deduced: bool) -> list[str]:
    g = graph.g
    return [
        v
        for v, a in g.nodes(data=True)
        if a.get("category") == "ALARM" and bool(a.get("deduced")) == deduced
    ]


def test_host_down_six_vnfcs_two_ns_then_recovery(db: Database) -> None:
    w = World(db, FakeGraph(), vim=VIM)
    ns_a, ns_b = str(uuid.uuid4()), str(uuid.uuid4())
    w.vnfcs("h1", ns_a, "vnf-1", 2, tenant="t-a")
    w.vnfcs("h1", ns_a, "vnf-2", 2, tenant="t-a")
    w.vnfcs("h1", ns_b, "vnf-3", 2, tenant="t-b")
    w.vnfcs("h2", ns_b, "vnf-3", 2, tenant="t-b")  # another host: untouched
    clock = Clock()
    engine, heard = _engine(db, w.graph, clock)

    started = time.monotonic()
    out = engine.handle(_host("h1"))
    took = time.monotonic() - started
    assert took < 5, took
    assert out is not None and len(out.raised) == 2
    observed, deduced = _alarms(w.graph, False), _alarms(w.graph, True)
    assert observed == [f"alarm:host:host:{VIM}:h1"]
    assert len(deduced) == 6 and len(_links(w.graph)) == 6
    assert all(s == observed[0] for s, _ in _links(w.graph))
    rows = _rows(db)
    assert sorted(r.ns_instance_id for r in rows) == sorted([ns_a, ns_b])
    assert all(r.is_root_cause and r.correlated_alarm_ids == [] for r in rows)
    assert {r.tenant_id for r in rows} == {"t-a", "t-b"}
    assert _notes(db) == {"AlarmNotification": 2}
    (rc,) = heard
    assert rc.raised and rc.fault_key == f"host:host:{VIM}:h1"
    assert rc.alarm_ids == {r.ns_instance_id: r.id for r in rows}
    assert sorted(v.server.key for v in rc.vnfcs) == sorted(w.servers["h1"])
    assert Counter(v.ns_instance_id for v in rc.vnfcs) == {ns_a: 4, ns_b: 2}
    assert {v.vnf_instance_id for v in rc.vnfcs} == {"vnf-1", "vnf-2", "vnf-3"}
    assert not any(w.graph.g.nodes[s]["marked_down"] for s in w.servers["h2"])

    assert engine.handle(_host("h1")).raised == []  # a repeat: nothing new
    assert len(heard) == 1 and _notes(db) == {"AlarmNotification": 2}

    cleared = engine.handle(_host("h1", up=True))
    assert cleared is not None and len(cleared.cleared) == 2
    assert _alarms(w.graph, False) == [] and _alarms(w.graph, True) == [] and _links(w.graph) == []
    assert all(r.perceived_severity == "CLEARED" and r.active_key is None for r in _rows(db))
    assert _notes(db) == {"AlarmNotification": 2, "AlarmClearedNotification": 2}
    assert len(heard) == 2 and not heard[1].raised
    assert heard[1].alarm_ids == rc.alarm_ids and len(heard[1].vnfcs) == 6
    assert w.graph.g.nodes[f"host:{VIM}:h1"]["state"] == "OK"


@pytest.mark.parametrize("order", ["host_first", "vnfm_first"])
def test_a_storm_notifies_once_per_ns(db: Database, order: str) -> None:
    w = World(db, FakeGraph(), vim=VIM)
    ns_ids = [str(uuid.uuid4()) for _ in range(4)]
    vnfs = []
    for n in range(10):  # 10 VNFs of 10 VNFCs each: 100 VNFCs on h1, in 4 NS
        ns_id = ns_ids[n % 4]
        w.vnfcs("h1", ns_id, f"vnf-{n}", 10)
        vnfs.append((f"vnf-{n}", ns_id))
    w.vnfcs("h2", ns_ids[0], "vnf-other", 3)
    clock = Clock()
    engine, heard = _engine(db, w.graph, clock)
    vnf_alarms = [_vnf_alarm(v, f"{v}-a{i}") for v, _ in vnfs for i in range(10)]  # 100

    started = time.monotonic()
    if order == "host_first":
        engine.handle(_host("h1"))
        for e in vnf_alarms:
            engine.handle(e)
    else:  # the VNFM reports first; the host down arrives within the hold
        for e in vnf_alarms[:50]:
            engine.handle(e)
        clock.now += 1.0
        engine.handle(_host("h1"))
        for e in vnf_alarms[50:]:
            engine.handle(e)
    clock.now += engine.hold_s + 0.1
    engine.release_held()
    took = time.monotonic() - started
    assert took < 5, took

    rows = _rows(db)
    roots = [r for r in rows if r.is_root_cause]
    symptoms = [r for r in rows if not r.is_root_cause]
    assert sorted(r.ns_instance_id for r in roots) == sorted(ns_ids)
    assert len(symptoms) == 100
    assert _notes(db) == {"AlarmNotification": 4}  # one per affected NS
    root_of = {r.ns_instance_id: r for r in roots}
    for r in symptoms:  # correlated both ways, within its NS
        root = root_of[r.ns_instance_id]
        assert r.correlated_alarm_ids == [root.id]
        assert r.id in root.correlated_alarm_ids
    per_ns = Counter(r.ns_instance_id for r in symptoms)
    for root in roots:
        assert len(root.correlated_alarm_ids) == per_ns[root.ns_instance_id]
    assert [rc.raised for rc in heard] == [True]  # a symptom never produces a RootCause
    assert len(heard[0].vnfcs) == 100
    assert len(_links(w.graph)) == 100 + 100  # 100 deduced server down, 100 VNF alarms

    engine.handle(_host("h1", up=True))
    assert _alarms(w.graph, True) == [] and _links(w.graph) == []
    assert _notes(db) == {"AlarmNotification": 4, "AlarmClearedNotification": 4}
    for e in vnf_alarms:  # the VNFM clears its alarms: not notified (never were)
        engine.handle(_vnf_alarm(e.resource.id, e.key.removeprefix("vnffm:"), cleared=True))
    assert all(r.active_key is None for r in _rows(db))
    assert _notes(db) == {"AlarmNotification": 4, "AlarmClearedNotification": 4}
    assert [rc.raised for rc in heard] == [True, False]


def test_a_lone_vnf_alarm_is_a_root_after_its_hold(db: Database) -> None:
    w = World(db, FakeGraph(), vim=VIM)
    ns_id = str(uuid.uuid4())
    w.vnfcs("h1", ns_id, "vnf-1", 2)
    clock = Clock()
    engine, heard = _engine(db, w.graph, clock)
    engine.handle(_vnf_alarm("vnf-1", "x1"))
    assert _rows(db) == [] and engine.release_held() == 0  # held
    clock.now += engine.hold_s
    assert engine.release_held() == 1
    (row,) = _rows(db)
    assert row.is_root_cause and row.event_type == "PROCESSING_ERROR_ALARM"
    assert row.probable_cause == "VNFC not responding"
    assert _notes(db) == {"AlarmNotification": 1}
    (rc,) = heard
    assert rc.vnfcs == () and rc.alarm_ids == {ns_id: row.id}  # the VNFM's: nothing down
    # raised and cleared within the hold: nothing at all
    engine.handle(_vnf_alarm("vnf-1", "x2"))
    engine.handle(_vnf_alarm("vnf-1", "x2", cleared=True))
    clock.now += engine.hold_s
    assert engine.release_held() == 0 and len(_rows(db)) == 1


def test_events_before_the_first_snapshot_wait_for_it(db: Database) -> None:
    w = World(db, FakeGraph(ready=False), vim=VIM)
    ns_id = str(uuid.uuid4())
    w.vnfcs("h1", ns_id, "vnf-1", 3)
    w.vnfcs("h2", ns_id, "vnf-1", 1)
    clock = Clock()
    engine, heard = _engine(db, w.graph, clock)
    assert engine.handle(_host("h1")) is None
    assert engine.handle(_host("h2")) is None
    assert engine.handle(_host("h2", up=True)) is None  # h2 raised and cleared: nets out
    assert engine.drain() == 0 and _rows(db) == [] and heard == []
    w.graph.ready = True
    assert engine.drain() == 2
    (row,) = _rows(db)
    assert row.fault_key == f"host:host:{VIM}:h1" and row.active_key is not None
    assert len(_links(w.graph)) == 3 and [len(rc.vnfcs) for rc in heard] == [3]


def test_the_rca_view_and_its_tenant_scope(db: Database) -> None:
    w = World(db, FakeGraph(), vim=VIM)
    ns_a, ns_b = str(uuid.uuid4()), str(uuid.uuid4())
    w.vnfcs("h1", ns_a, "vnf-1", 2, tenant="t-a")
    w.vnfcs("h1", ns_b, "vnf-2", 1, tenant="t-b")
    engine, _ = _engine(db, w.graph, Clock())
    engine.handle(_host("h1"))
    engine.handle(_vnf_alarm("vnf-1", "v1"))
    rows = {r.ns_instance_id: r for r in _rows(db) if r.is_root_cause}
    view = engine.rca(rows[ns_a].id, None)
    assert view["inspectedIndex"] == 0
    assert view["nodes"][0]["id"] == f"alarm:host:host:{VIM}:h1"
    assert view["nodes"][0]["isRootCause"] and view["nodes"][0]["nsfmAlarmId"] == rows[ns_a].id
    assert len(view["nodes"]) == 1 + 3 + 1 and len(view["links"]) == 4
    assert all(link["source"] == 0 for link in view["links"])
    mine = engine.rca(rows[ns_a].id, "t-a")  # t-b's deduced alarm is not shown
    assert len(mine["nodes"]) == 1 + 2 + 1 and len(mine["links"]) == 3
    with pytest.raises(Exception) as err:
        engine.rca(rows[ns_a].id, "t-b")
    assert getattr(err.value, "status", None) == 404
    engine.handle(_host("h1", up=True))
    gone = engine.rca(rows[ns_a].id, None)  # cleared: the nsfm alarms' own correlation
    assert gone["nodes"][0]["cleared"] and gone["nodes"][1]["faultKey"] == "vnffm:v1"
    assert gone["links"] == [{"source": 0, "target": 1, "relationshipType": "causes"}]
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(AlarmRow)) == 3


def test_the_engine_thread_drains_once_ready_and_picks_up_stored_templates(
    db: Database,
) -> None:
    from nfvo.policy.rca.store import TemplateStore

    w = World(db, FakeGraph(ready=False), vim=VIM)
    ns_id = str(uuid.uuid4())
    w.vnfcs("h1", ns_id, "vnf-1", 2)
    engine = RcaEngine(db, w.graph, FaultManager(db))  # stored templates: reloaded
    engine.start()
    try:
        assert engine.handle(_host("h1")) is None
        time.sleep(0.5)
        assert _rows(db) == []  # no evaluation before the first snapshot
        w.graph.ready = True
        deadline = time.monotonic() + 5
        while not _rows(db):
            assert time.monotonic() < deadline, "the queued fault was not evaluated"
            time.sleep(0.05)
        assert len(_links(w.graph)) == 2
        custom = """
metadata: {version: 3, name: tag_hosts}
entities:
  a: {category: ALARM, type: HOST_DOWN}
  host: {category: RESOURCE, type: host}
scenarios:
  - condition: a [on] host
    actions:
      - set_state: {target: host, state: TAGGED}
"""
        TemplateStore(db).create(custom)  # as another process would: the table changes
        deadline = time.monotonic() + 5
        while w.graph.g.nodes[f"host:{VIM}:h1"]["state"] != "TAGGED":
            assert time.monotonic() < deadline, "the stored template was not picked up"
            time.sleep(0.05)
        TemplateStore(db).delete("tag_hosts")  # undone: the built-in's state again
        deadline = time.monotonic() + 5
        while w.graph.g.nodes[f"host:{VIM}:h1"]["state"] != "ERROR":
            assert time.monotonic() < deadline, "the deleted template was not undone"
            time.sleep(0.05)
    finally:
        engine.stop()


def test_a_root_explained_later_is_demoted_to_a_symptom(db: Database) -> None:
    w = World(db, FakeGraph(), vim=VIM)
    ns_id = str(uuid.uuid4())
    w.vnfcs("h1", ns_id, "vnf-1", 2)
    clock = Clock()
    engine, heard = _engine(db, w.graph, clock)
    engine.handle(_vnf_alarm("vnf-1", "early"))
    clock.now += engine.hold_s
    engine.release_held()  # nothing explained it in time: a notified root
    (early,) = _rows(db)
    assert early.is_root_cause and early.revision == 1
    engine.handle(_host("h1"))
    rows = {r.fault_key: r for r in _rows(db)}
    host, vnf = rows[f"host:host:{VIM}:h1"], rows["vnffm:early"]
    assert host.is_root_cause and host.correlated_alarm_ids == [vnf.id]
    assert not vnf.is_root_cause and vnf.correlated_alarm_ids == [host.id]
    assert vnf.revision == 2 and vnf.changed_at is not None  # the representation changed
    assert _notes(db) == {"AlarmNotification": 2}  # nothing more for the demotion
    assert [rc.fault_key for rc in heard] == ["vnffm:early", f"host:host:{VIM}:h1"]


def test_faults_active_before_a_restart_are_put_back(db: Database) -> None:
    w = World(db, FakeGraph(), vim=VIM)
    ns_id = str(uuid.uuid4())
    w.vnfcs("h1", ns_id, "vnf-1", 2)
    first, _ = _engine(db, w.graph, Clock())
    first.handle(_host("h1"))
    # a restart: a new graph (no alarm vertices) and a new engine
    w2 = World(db=None, graph=FakeGraph(), vim=VIM)
    w2.vnfcs("h1", ns_id, "vnf-1", 2)
    engine, heard = _engine(db, w2.graph, Clock())
    engine.drain()
    assert len(_links(w2.graph)) == 2  # the host alarm and what it deduces are back
    engine.handle(_vnf_alarm("vnf-1", "after"))  # explained at once: a symptom
    rows = {r.fault_key: r for r in _rows(db)}
    assert not rows["vnffm:after"].is_root_cause
    engine.handle(_host("h1", up=True))
    assert _links(w2.graph) == [] and _alarms(w2.graph, True) == []
    assert [rc.raised for rc in heard] == [False]


def test_a_fault_the_graph_does_not_place_is_a_root_told_once(db: Database) -> None:
    w = World(db, FakeGraph(), vim=VIM)
    ns_id = str(uuid.uuid4())
    w.vnfcs("h1", ns_id, "vnf-1", 1)
    w.graph.g.remove_node(f"ns:{ns_id}")  # e.g. the graph has not seen this NS yet
    engine, heard = _engine(db, w.graph, Clock())
    alert = FaultEvent(Resource(ResourceKind.NS, ns_id), FaultKind.ALERT, Severity.MAJOR, 0.0, "t")
    assert len(engine.handle(alert).raised) == 1
    assert engine.handle(alert).raised == []  # a repeat
    assert [rc.raised for rc in heard] == [True]
    (row,) = _rows(db)
    assert row.is_root_cause


def test_servers_the_graph_learns_of_after_a_root_are_told_again(db: Database) -> None:
    """A host fails just after an operation placed VNFCs on it, before the graph's poll read
    them: once the graph has them, the root is told again with every VNFC it takes down
    (auto-heal learns of them); a graph change that adds nothing tells nothing."""
    w = World(db, FakeGraph(), vim=VIM)
    ns_a = str(uuid.uuid4())
    w.vnfcs("h1", ns_a, "vnf-1", 1, tenant="t-a")
    engine, heard = _engine(db, w.graph, Clock())
    engine.handle(_host("h1"))
    [first] = heard
    assert first.raised and [v.vnfc_id for v in first.vnfcs] == ["vdu1-0"]

    w.vnfcs("h1", ns_a, "vnf-2", 2, tenant="t-a")  # what the graph's refresh brings in
    assert engine.after_graph_change() == 1
    [_, again] = heard
    assert again.raised and again.fault_key == first.fault_key
    assert sorted(v.vnf_instance_id for v in again.vnfcs) == ["vnf-1", "vnf-2", "vnf-2"]
    assert engine.after_graph_change() == 0 and len(heard) == 2
