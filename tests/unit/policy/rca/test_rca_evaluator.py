"""The scenario evaluator on an in-memory graph: host down deduces and links, its removal
undoes everything; shared effects are done once and undone with their last match; NOT
conditions follow the alarms they negate; templates chain; the consistency pass restores
what a graph reload reset."""

from __future__ import annotations

from typing import Any

from tests.unit.policy.rca.fakegraph import FakeGraph, World

from nfvo.policy.rca import templates as t
from nfvo.policy.rca.evaluator import Evaluator, successors


def _world() -> tuple[World, Evaluator]:
    w = World(None, FakeGraph())
    w.vnfcs("h1", "ns-a", "vnf-1", 2)
    w.vnfcs("h1", "ns-a", "vnf-2", 2)
    w.vnfcs("h1", "ns-b", "vnf-3", 2)
    w.vnfcs("h2", "ns-b", "vnf-3", 3)  # another host: never touched
    return w, Evaluator(w.graph, t.builtins())


def _alarm(w: World, key: str, resource: str, kind: str, **extra: Any) -> str:
    w.graph.add_alarm(
        key, resource, category="ALARM", type=kind, name=kind, severity="CRITICAL",
        deduced=False, fault_key=key[6:], resource=resource, **extra,
    )  # fmt: skip
    return key


def _deduced(w: World) -> list[str]:
    return sorted(k for k, a in w.graph.g.nodes(data=True) if a.get("deduced"))


def _links(w: World) -> list[tuple[str, str]]:
    g = w.graph.g
    return sorted((s, d) for s, d, k in g.edges(keys=True) if k == "causes")


def test_host_down_deduces_links_marks_and_is_undone() -> None:
    w, ev = _world()
    host = "host:vim-1:h1"
    key = _alarm(w, "alarm:host:vim-1:h1", host, "HOST_DOWN")
    changes = ev.alarm_added(key)
    deduced = _deduced(w)
    assert len(deduced) == 6 and len(changes.raised) == 6
    assert {w.graph.g.nodes[d]["resource"] for d in deduced} == set(w.servers["h1"])
    assert _links(w) == sorted((key, d) for d in deduced)
    g = w.graph.g
    assert g.nodes[host]["state"] == "ERROR" and g.nodes[host]["marked_down"]
    assert all(g.nodes[s]["marked_down"] for s in w.servers["h1"])
    assert not any(g.nodes[s]["marked_down"] for s in w.servers["h2"])
    assert g.nodes["host:vim-1:h2"]["state"] == "OK"

    changes = ev.alarm_removed(key)
    assert sorted(changes.removed) == deduced
    assert key not in g and _deduced(w) == [] and _links(w) == []
    assert g.nodes[host]["state"] == "OK" and not g.nodes[host]["marked_down"]
    assert not any(g.nodes[s]["marked_down"] for s in w.servers["h1"])
    assert ev.matches == {}


def test_shared_effects_are_done_once_and_undone_with_the_last_match() -> None:
    w, ev = _world()
    host = "host:vim-1:h1"
    a1 = _alarm(w, "alarm:host:vim-1:h1", host, "HOST_DOWN")
    a2 = _alarm(w, "alarm:alert:fp1", host, "HOST_DOWN")  # the same host, another source
    ev.alarm_added(a1)
    second = ev.alarm_added(a2)
    assert second.raised == []  # the deduced alarms exist: shared
    assert len(_deduced(w)) == 6 and len(_links(w)) == 12
    ev.alarm_removed(a1)
    assert len(_deduced(w)) == 6 and {s for s, _ in _links(w)} == {a2}
    assert w.graph.g.nodes[host]["state"] == "ERROR"
    ev.alarm_removed(a2)
    assert _deduced(w) == [] and _links(w) == []
    assert w.graph.g.nodes[host]["state"] == "OK"


def test_vnf_alarms_become_symptoms_whichever_comes_first() -> None:
    w, ev = _world()
    v1 = _alarm(w, "alarm:vnffm:1", "vnf:vnf-1", "VNF_ALARM")
    ev.alarm_added(v1)
    assert _links(w) == []
    host = _alarm(w, "alarm:host:vim-1:h1", "host:vim-1:h1", "HOST_DOWN")
    changes = ev.alarm_added(host)
    assert (host, v1) in changes.links_added
    v3 = _alarm(w, "alarm:vnffm:3", "vnf:vnf-3", "VNF_ALARM")  # vnf-3 is on h1 and h2
    assert ev.alarm_added(v3).links_added == [(host, v3)]  # de-duplicated: one link
    ev.alarm_removed(host)
    assert _links(w) == [] and v1 in w.graph.g and v3 in w.graph.g


def test_not_conditions_follow_the_alarm_they_negate() -> None:
    text = """
metadata: {version: 3, name: maint}
entities:
  a: {category: ALARM, type: HOST_DOWN}
  m: {category: ALARM, type: ALERT}
  host: {category: RESOURCE, type: host}
scenarios:
  - condition: a [on] host AND NOT m [on] host
    actions:
      - raise_alarm: {target: host, alarm_name: unplanned outage, causing_alarm: a}
"""
    w, _ = _world()
    ev = Evaluator(w.graph, [t.parse(text)])
    host = "host:vim-1:h1"
    a = _alarm(w, "alarm:host:vim-1:h1", host, "HOST_DOWN")
    ev.alarm_added(a)
    assert len(_deduced(w)) == 1
    m = _alarm(w, "alarm:alert:maint", host, "ALERT")
    assert len(ev.alarm_added(m).removed) == 1 and _deduced(w) == []
    ev.alarm_removed(m)
    assert len(_deduced(w)) == 1 and _links(w) == [(a, _deduced(w)[0])]


def test_templates_chain_on_deduced_alarms() -> None:
    chained = """
metadata: {version: 3, name: chained}
entities:
  down: {category: ALARM, name: server down, deduced: true}
  server: {category: RESOURCE, type: server}
  vnf: {category: RESOURCE, type: vnf}
scenarios:
  - condition: down [on] server AND vnf [comprises] server
    actions:
      - raise_alarm: {target: vnf, alarm_name: vnf degraded, causing_alarm: down}
"""
    w, _ = _world()
    ev = Evaluator(w.graph, [*t.builtins(), t.parse(chained)])
    a = _alarm(w, "alarm:host:vim-1:h1", "host:vim-1:h1", "HOST_DOWN")
    ev.alarm_added(a)
    degraded = [d for d in _deduced(w) if w.graph.g.nodes[d]["name"] == "vnf degraded"]
    assert sorted(w.graph.g.nodes[d]["resource"] for d in degraded) == [
        "vnf:vnf-1", "vnf:vnf-2", "vnf:vnf-3"
    ]  # fmt: skip
    for d in degraded:  # caused by the deduced "server down" alarms of its servers
        causes = [s for s, _ in _links(w) if _ == d]
        assert causes and all(w.graph.g.nodes[c]["name"] == "server down" for c in causes)
    ev.alarm_removed(a)
    assert _deduced(w) == [] and _links(w) == []


def test_the_consistency_pass_restores_what_a_reload_reset() -> None:
    w, ev = _world()
    host = "host:vim-1:h1"
    a = _alarm(w, "alarm:host:vim-1:h1", host, "HOST_DOWN")
    ev.alarm_added(a)
    g = w.graph.g
    g.nodes[host]["state"], g.nodes[host]["marked_down"] = "OK", False  # a reload
    lost = _deduced(w)[0]
    w.graph.remove_alarm(lost)  # e.g. a reload that dropped it
    ev.resync()
    assert g.nodes[host]["state"] == "ERROR" and g.nodes[host]["marked_down"]
    assert lost in g and (a, lost) in _links(w)
    assert len(successors(g, a, "causes")) == 6
    # an alarm the evaluator never saw (added while it was not listening) is picked up
    other = _alarm(w, "alarm:host:vim-1:h2", "host:vim-1:h2", "HOST_DOWN")
    ev.resync()
    assert len(successors(g, other, "causes")) == 3
