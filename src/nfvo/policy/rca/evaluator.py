"""The scenario evaluator: template conditions matched on the entity graph, actions done
while a match holds and undone when it stops.

A *match* is one binding of a scenario alternative's entities to graph vertices. Its actions
become *effects* (a deduced alarm vertex, a ``causes`` edge, a vertex state, a mark-down),
each keyed by what it changes: two matches (of one scenario or of several) that ask for the
same effect share it, and it is undone only when the last match supporting it is gone (the
de-duplication of actions). Deduced alarms are evaluated like observed ones, so templates
chain; a chain is bounded (:data:`MAX_STEPS`).

Evaluation is incremental: an alarm added is matched as the anchor of every alternative one
of whose alarm entities accepts it (the new matches necessarily hold it); an alarm removed
undoes the matches that hold it. Alternatives with ``NOT`` terms are re-evaluated whole on
every alarm change their entities could see. :meth:`Evaluator.resync` recomputes every
match from the graph (the consistency pass after a graph reload or a template change).

The caller holds the graph's lock around every call.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from nfvo.policy.rca.templates import ALARM, Clause, Template

log = logging.getLogger(__name__)

ALARM_PREFIX = "alarm:"
DEDUCED_PREFIX = "alarm:deduced:"
CAUSES = "causes"
DEFAULT_STATE = "OK"
MAX_STEPS = 100_000  # alarm additions/removals one evaluation may chain
# effect kinds, in the order they are done (undone in reverse)
_ORDER = {"alarm": 0, "state": 1, "down": 2, "causes": 3}

Effect = tuple[str, ...]  # ("alarm", key) | ("causes", src, dst) | ("state", v, s) | ("down", v)
MatchId = tuple[str, int, int, tuple[tuple[str, str], ...]]


class GraphPort(Protocol):
    """What the evaluator and the engine use of the entity graph
    (``nfvo.policy.rca.graph.EntityGraph``)."""

    g: Any  # networkx.MultiDiGraph
    lock: Any  # threading.RLock
    ready: bool

    def add_alarm(self, key: str, resource_key: str, **attrs: Any) -> None:
        """Add (or update) an alarm vertex ``on`` a resource vertex."""

    def remove_alarm(self, key: str) -> None:
        """Remove an alarm vertex and its edges."""

    def add_edge(self, src: str, dst: str, label: str) -> None:
        """Add an edge (key and ``label`` attribute ``label``)."""

    def remove_edge(self, src: str, dst: str, label: str) -> None:
        """Remove an edge."""

    def servers_under(self, resource_key: str) -> list[str]:
        """Server vertex keys under a resource."""


@dataclass
class Changes:
    """What one evaluation changed: deduced alarms raised and removed, ``causes`` links
    added and removed (as (source, target) vertex keys)."""

    raised: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    links_added: list[tuple[str, str]] = field(default_factory=list)
    links_removed: list[tuple[str, str]] = field(default_factory=list)

    def extend(self, other: Changes) -> None:
        self.raised += other.raised
        self.removed += other.removed
        self.links_added += other.links_added
        self.links_removed += other.links_removed


def has_edge(g: Any, src: str, dst: str, label: str) -> bool:
    """Whether ``src`` has a ``label`` edge to ``dst``."""
    keys = g.succ.get(src, {}).get(dst)
    return bool(keys) and label in keys


def successors(g: Any, v: str, label: str) -> list[str]:
    """Targets of ``v``'s ``label`` edges."""
    return [d for d, keys in g.succ.get(v, {}).items() if label in keys]


def predecessors(g: Any, v: str, label: str) -> list[str]:
    """Sources of the ``label`` edges into ``v``."""
    return [s for s, keys in g.pred.get(v, {}).items() if label in keys]


@dataclass(frozen=True)
class _Alt:
    """One alternative of one scenario of one template (what a match id names)."""

    template: Template
    scenario: int
    index: int
    clause: Clause

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.template.name, self.scenario, self.index)


class Evaluator:
    """Matches templates on the graph and keeps their effects in step (see the module)."""

    def __init__(
        self,
        graph: GraphPort,
        templates: list[Template],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.graph = graph
        self.clock = clock
        self.templates: list[Template] = []
        self._alts: list[_Alt] = []
        self.matches: dict[MatchId, tuple[Effect, ...]] = {}
        self._by_vertex: dict[str, set[MatchId]] = {}
        self._by_alt: dict[tuple[str, int, int], set[MatchId]] = {}
        self._support: dict[Effect, set[MatchId]] = {}
        self._deduced: dict[str, tuple[str, dict[str, Any]]] = {}  # key -> (resource, attrs)
        self._original_state: dict[str, Any] = {}
        self.alarms: set[str] = set()  # alarm vertices the evaluator knows of
        self.set_templates(templates)

    # ------------------------------------------------------------------ templates

    def set_templates(self, templates: list[Template]) -> None:
        """Use ``templates`` from now on (call :meth:`resync` to apply the change to the
        matches already made)."""
        self.templates = list(templates)
        self._alts = [
            _Alt(t, s.index, i, c)
            for t in self.templates
            for s in t.scenarios
            for i, c in enumerate(s.clauses)
        ]

    # ------------------------------------------------------------------ events

    def alarm_added(self, key: str) -> Changes:
        """Evaluate after the alarm vertex ``key`` was added to the graph."""
        return self._run([("add", key)])

    def alarm_removed(self, key: str) -> Changes:
        """Undo what the alarm vertex ``key`` supported, then remove it from the graph."""
        return self._run([("del", key)])

    def resync(self) -> Changes:
        """Recompute every match from the graph: stale ones undone, missing ones done, and
        every active effect asserted again (a graph reload resets vertex states)."""
        g = self.graph.g
        self.alarms = {v for v, a in g.nodes(data=True) if a.get("category") == ALARM}
        changes = Changes()
        for _ in range(8):  # deduced alarms may enable further matches: to a fixed point
            want: dict[MatchId, tuple[Effect, ...]] = {}
            for alt in self._alts:
                want.update(self._all_matches(alt))
            stale = [m for m in self.matches if m not in want]
            new = {m: e for m, e in want.items() if m not in self.matches}
            queue: deque[tuple[str, str]] = deque()
            for mid in stale:
                self._undo(mid, changes, queue)
            for mid, effects in new.items():
                self._do(mid, effects, changes, queue)
            self._drain(queue, changes)
            if not stale and not new:
                break
        queue = deque()
        for effect in sorted(self._support, key=lambda e: _ORDER[e[0]]):
            self._apply(effect, changes, queue, reassert=True)
        self._drain(queue, changes)
        return changes

    # ------------------------------------------------------------------ the work loop

    def _run(self, first: list[tuple[str, str]]) -> Changes:
        changes = Changes()
        self._drain(deque(first), changes)
        return changes

    def _drain(self, queue: deque[tuple[str, str]], changes: Changes) -> None:
        steps = 0
        while queue:
            steps += 1
            if steps > MAX_STEPS:
                log.error("rca: evaluation stopped after %d steps (a template loop?)", steps)
                return
            op, key = queue.popleft()
            g = self.graph.g
            if op == "add":
                if key not in g:
                    continue
                self.alarms.add(key)
                attrs = g.nodes[key]
                for alt in self._alts:
                    if alt.clause.negative:
                        continue
                    for mid, effects in self._anchored(alt, key, attrs):
                        if mid not in self.matches:
                            self._do(mid, effects, changes, queue)
            else:
                for mid in list(self._by_vertex.get(key, ())):
                    self._undo(mid, changes, queue)
                self.alarms.discard(key)
                if key in g:
                    self.graph.remove_alarm(key)
            self._negated(key, changes, queue)

    def _negated(self, key: str, changes: Changes, queue: deque[tuple[str, str]]) -> None:
        """Re-evaluate the alternatives with NOT terms that could see alarm ``key``."""
        attrs = self.graph.g.nodes[key] if key in self.graph.g else None
        for alt in self._alts:
            if not alt.clause.negative:
                continue
            ents = alt.template.entities
            names = {n for lit in alt.clause.negative + alt.clause.positive for n in lit.names}
            if attrs is not None and not any(ents[n].accepts(attrs) for n in names):
                continue
            want = dict(self._all_matches(alt))
            have = self._by_alt.get(alt.key, set())
            for mid in [m for m in have if m not in want]:
                self._undo(mid, changes, queue)
            for mid, effects in want.items():
                if mid not in self.matches:
                    self._do(mid, effects, changes, queue)

    # ------------------------------------------------------------------ matching

    def _anchored(
        self, alt: _Alt, key: str, attrs: dict[str, Any]
    ) -> Iterator[tuple[MatchId, tuple[Effect, ...]]]:
        ents = alt.template.entities
        for name in sorted(alt.clause.bound):
            if ents[name].category == ALARM and ents[name].accepts(attrs):
                for binding in self._enumerate(alt, {name: key}):
                    yield self._match(alt, binding)

    def _all_matches(self, alt: _Alt) -> Iterator[tuple[MatchId, tuple[Effect, ...]]]:
        ents = alt.template.entities
        anchor = next(n for n in sorted(alt.clause.bound) if ents[n].category == ALARM)
        g = self.graph.g
        for key in sorted(self.alarms):
            if key in g and ents[anchor].accepts(g.nodes[key]):
                for binding in self._enumerate(alt, {anchor: key}):
                    yield self._match(alt, binding)

    def _enumerate(self, alt: _Alt, start: dict[str, str]) -> Iterator[dict[str, str]]:
        g = self.graph.g
        ents = alt.template.entities
        clause = alt.clause

        def rec(bind: dict[str, str], todo: list) -> Iterator[dict[str, str]]:
            rest = []
            step = None
            for lit in todo:
                if lit.dst is None:
                    if lit.src not in bind:
                        rest.append(lit)
                    continue
                s, d = lit.src in bind, lit.dst in bind
                if s and d:
                    if not has_edge(g, bind[lit.src], bind[lit.dst], lit.label):
                        return
                elif (s or d) and step is None:
                    step = lit
                else:
                    rest.append(lit)
            if step is None:
                if not rest and self._negatives_hold(alt, bind):
                    yield dict(bind)
                return
            if step.src in bind:
                free, cands = step.dst, successors(g, bind[step.src], step.label)
            else:
                free, cands = step.src, predecessors(g, bind[step.dst], step.label)
            taken = set(bind.values())
            for v in cands:
                if v not in taken and ents[free].accepts(g.nodes[v]):
                    bind[free] = v
                    yield from rec(bind, rest)
                    del bind[free]

        if not all(ents[n].accepts(g.nodes[v]) for n, v in start.items() if v in g):
            return
        yield from rec(dict(start), list(clause.positive))

    def _negatives_hold(self, alt: _Alt, bind: dict[str, str]) -> bool:
        g = self.graph.g
        ents = alt.template.entities
        for lit in alt.clause.negative:
            assert lit.dst is not None and lit.label is not None
            if lit.src in bind and lit.dst in bind:
                if has_edge(g, bind[lit.src], bind[lit.dst], lit.label):
                    return False
            elif lit.src in bind:
                targets = successors(g, bind[lit.src], lit.label)
                if any(ents[lit.dst].accepts(g.nodes[v]) for v in targets):
                    return False
            else:
                sources = predecessors(g, bind[lit.dst], lit.label)
                if any(ents[lit.src].accepts(g.nodes[v]) for v in sources):
                    return False
        return True

    def _match(self, alt: _Alt, bind: dict[str, str]) -> tuple[MatchId, tuple[Effect, ...]]:
        mid: MatchId = (*alt.key, tuple(sorted(bind.items())))
        scenario = alt.template.scenarios[alt.scenario]
        effects: list[Effect] = []
        for action in scenario.actions:
            if action.kind == "raise_alarm":
                target = bind[action.get("target")]
                key = f"{DEDUCED_PREFIX}{alt.template.name}:{scenario.name}:{target}"
                name = action.get("alarm_name")
                self._deduced.setdefault(
                    key,
                    (
                        target,
                        {
                            "category": ALARM,
                            "type": name,
                            "name": name,
                            "severity": action.get("severity"),
                            "deduced": True,
                            "fault_key": key.removeprefix(ALARM_PREFIX),
                            "source": f"rca:{alt.template.name}",
                            "resource": target,
                        },
                    ),
                )
                effects.append(("alarm", key))
                if action.get("causing_alarm"):
                    effects.append(("causes", bind[action.get("causing_alarm")], key))
            elif action.kind == "set_state":
                effects.append(("state", bind[action.get("target")], action.get("state")))
            elif action.kind == "mark_down":
                effects.append(("down", bind[action.get("target")]))
            else:
                effects.append(("causes", bind[action.get("source")], bind[action.get("target")]))
        effects = sorted(dict.fromkeys(effects), key=lambda e: _ORDER[e[0]])
        return mid, tuple(effects)

    # ------------------------------------------------------------------ do / undo

    def _do(
        self,
        mid: MatchId,
        effects: tuple[Effect, ...],
        changes: Changes,
        queue: deque[tuple[str, str]],
    ) -> None:
        self.matches[mid] = effects
        self._by_alt.setdefault(mid[:3], set()).add(mid)  # type: ignore[arg-type]
        for _, v in mid[3]:
            self._by_vertex.setdefault(v, set()).add(mid)
        for effect in effects:
            holders = self._support.setdefault(effect, set())
            first = not holders
            holders.add(mid)
            if first:
                self._apply(effect, changes, queue)

    def _undo(self, mid: MatchId, changes: Changes, queue: deque[tuple[str, str]]) -> None:
        effects = self.matches.pop(mid, None)
        if effects is None:
            return
        self._by_alt.get(mid[:3], set()).discard(mid)  # type: ignore[arg-type]
        for _, v in mid[3]:
            held = self._by_vertex.get(v)
            if held is not None:
                held.discard(mid)
                if not held:
                    del self._by_vertex[v]
        for effect in reversed(effects):
            holders = self._support.get(effect)
            if holders is None:
                continue
            holders.discard(mid)
            if not holders:
                del self._support[effect]
                self._revert(effect, changes, queue)

    def _apply(
        self,
        effect: Effect,
        changes: Changes,
        queue: deque[tuple[str, str]],
        *,
        reassert: bool = False,
    ) -> None:
        g = self.graph.g
        kind = effect[0]
        if kind == "alarm":
            key = effect[1]
            resource, attrs = self._deduced[key]
            if key in g or resource not in g:
                return
            self.graph.add_alarm(key, resource, **attrs, raised_at=self.clock())
            self.alarms.add(key)
            changes.raised.append(key)
            queue.append(("add", key))
        elif kind == "causes":
            src, dst = effect[1], effect[2]
            if src in g and dst in g and not has_edge(g, src, dst, CAUSES):
                self.graph.add_edge(src, dst, CAUSES)
                changes.links_added.append((src, dst))
        elif kind == "state":
            v = effect[1]
            if v in g:
                if v not in self._original_state and not reassert:
                    self._original_state[v] = g.nodes[v].get("state", DEFAULT_STATE)
                g.nodes[v]["state"] = effect[2]
        elif kind == "down":
            if effect[1] in g:
                g.nodes[effect[1]]["marked_down"] = True

    def _revert(self, effect: Effect, changes: Changes, queue: deque[tuple[str, str]]) -> None:
        g = self.graph.g
        kind = effect[0]
        if kind == "alarm":
            key = effect[1]
            for mid in list(self._by_vertex.get(key, ())):
                self._undo(mid, changes, queue)  # what the deduced alarm supported goes first
            self.alarms.discard(key)
            self._deduced.pop(key, None)
            if key in g:
                self.graph.remove_alarm(key)
                changes.removed.append(key)
            queue.append(("del", key))
        elif kind == "causes":
            src, dst = effect[1], effect[2]
            if has_edge(g, src, dst, CAUSES):
                self.graph.remove_edge(src, dst, CAUSES)
            changes.links_removed.append((src, dst))
        elif kind == "state":
            v = effect[1]
            others = [e for e in self._support if e[0] == "state" and e[1] == v]
            if v in g:
                if others:
                    g.nodes[v]["state"] = others[-1][2]
                else:
                    g.nodes[v]["state"] = self._original_state.pop(v, DEFAULT_STATE)
            elif not others:
                self._original_state.pop(v, None)
        elif kind == "down":
            if effect[1] in g:
                g.nodes[effect[1]]["marked_down"] = False

    # ------------------------------------------------------------------ reads

    def marked_down_by(self, key: str) -> set[str]:
        """Vertices the matches holding alarm ``key`` mark down."""
        out = set()
        for mid in self._by_vertex.get(key, ()):
            out |= {e[1] for e in self.matches.get(mid, ()) if e[0] == "down"}
        return out
