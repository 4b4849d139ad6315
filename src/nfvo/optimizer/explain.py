"""Per-demand explanations: which filter removed which hosts, the chosen host's score, and
for what went nowhere the rule or dimension that blocks it.

Each placed item is judged against the final placement with itself taken out (what it
would see if it were placed last), so the explanation matches the answer even after the
local search moved it. Items with no rule and the same size, pins and exclusions share one
numpy pass: only their own host differs between them.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from nfvo.optimizer.filters import (
    AFFINITY,
    ANTI_AFFINITY,
    FILTERS,
    HOST_STATE,
    WINDOW,
    ZONE,
    fits,
)
from nfvo.optimizer.filters.availability_window import held_reason
from nfvo.optimizer.model import DIMS, Explanation, FilterVerdict
from nfvo.optimizer.problem import EPS, Item, Problem, State
from nfvo.optimizer.strategies.base import Strategy

EXAMPLES = 5


def _names(p: Problem, mask: np.ndarray, skip: int = -1) -> tuple[str, ...]:
    idx = np.flatnonzero(mask)[: EXAMPLES + 1]
    return tuple(p.names[i] for i in idx if i != skip)[:EXAMPLES]


def _steps(item: Item, state: State) -> Iterator[tuple[str, np.ndarray]]:
    """(filter name, hosts it keeps) in the order the filters run."""
    yield WINDOW.name, WINDOW.mask(item, state)
    yield HOST_STATE.name, HOST_STATE.mask(item, state)
    yield ZONE.name, ZONE.mask(item, state)
    yield AFFINITY.name, AFFINITY.mask(item, state)
    yield ANTI_AFFINITY.name, ANTI_AFFINITY.mask(item, state)
    yield FILTERS["capacity"].name, fits(state.free, item.size)


def _run(item: Item, state: State) -> tuple[list[FilterVerdict], list[np.ndarray]]:
    """Verdicts of every filter and the candidates left after each."""
    left = np.ones(state.problem.n_hosts, dtype=bool)
    verdicts, after = [], []
    for name, keeps in _steps(item, state):
        removed = left & ~keeps
        verdicts.append(FilterVerdict(name, int(removed.sum()), _names(state.problem, removed)))
        left = left & keeps
        after.append(left)
    return verdicts, after


def _score(strategy: Strategy, state: State, item: Item, host: int) -> float:
    state.free[host] += item.size
    try:
        return float(strategy.score(state, item, np.array([host]))[0])
    finally:
        state.free[host] -= item.size


def _explanations(
    item: Item, host: int, verdicts: list[FilterVerdict], n: int, score: float, p: Problem
) -> dict[str, Explanation]:
    zone = p.hosts[host].zone
    return {d: Explanation(d, p.names[host], zone, score, n, list(verdicts)) for d in item.ids}


def _static_part(item: Item, state: State) -> tuple[list[FilterVerdict], np.ndarray]:
    """Verdicts of the demand-only filters (and the empty rule ones) and the hosts left."""
    p = state.problem
    kept_window = WINDOW.mask(item, state)
    kept_state = HOST_STATE.mask(item, state)
    state_only = kept_window & ~kept_state
    kept = kept_state & ZONE.mask(item, state)
    verdicts = [
        FilterVerdict(WINDOW.name, int((~kept_window).sum()), _names(p, ~kept_window)),
        FilterVerdict(HOST_STATE.name, int(state_only.sum()), _names(p, state_only)),
        FilterVerdict(ZONE.name, int((kept_state & ~kept).sum()), _names(p, kept_state & ~kept)),
        FilterVerdict(AFFINITY.name, 0),
        FilterVerdict(ANTI_AFFINITY.name, 0),
    ]
    return verdicts, kept


def explain_placed(state: State, strategy: Strategy) -> dict[str, Explanation]:
    """Explanations of every placed item's demands."""
    p = state.problem
    out: dict[str, Explanation] = {}
    static: dict[tuple, tuple[list[FilterVerdict], np.ndarray]] = {}
    shared: dict[tuple, tuple[FilterVerdict, np.ndarray, int]] = {}
    for item in p.items:
        host = state.host_of[item.index]
        if host < 0:
            continue
        score = _score(strategy, state, item, host)
        if item.rules:
            state.take(item)
            verdicts, after = _run(item, state)
            state.put(item, host)
            out.update(_explanations(item, host, verdicts, int(after[-1].sum()), score, p))
            continue
        if item.static_key not in static:
            static[item.static_key] = _static_part(item, state)
        verdicts, kept = static[item.static_key]
        key = (*item.static_key, tuple(item.size))
        if key not in shared:
            removed = kept & ~fits(state.free, item.size)
            n_removed = int(removed.sum())
            verdict = FilterVerdict("capacity", n_removed, _names(p, removed))
            shared[key] = (verdict, removed, int(kept.sum()) - n_removed)
        cap, removed, n = shared[key]
        if removed[host]:
            n += 1
            cap = FilterVerdict(cap.filter, cap.removed - 1, _names(p, removed, host))
        out.update(_explanations(item, host, [*verdicts, cap], n, score, p))
    return out


def _pin_reason(item: Item, p: Problem) -> str:
    if item.host is not None:
        i = p.index.get(item.host)
        if i is None:
            return f"pinned host {item.host} is unknown"
        h = p.hosts[i]
        held = held_reason(h)
        if held is not None:
            return f"pinned {held}"
        if not h.up:
            return f"pinned host {item.host} is down"
        if not h.schedulable:
            return f"pinned host {item.host} is {h.state}"
        if item.host in item.exclude_hosts:
            return f"pinned host {item.host} is also excluded"
        return f"pinned host {item.host} is outside zone {item.zone}"
    if item.zone is not None:
        return f"no up host in zone {item.zone}"
    if item.exclude_zones:
        return f"no up host outside zone(s) {', '.join(sorted(item.exclude_zones))}"
    if item.exclude_hosts:
        return "no up host but the excluded ones"
    return "no up host in the inventory"


def _blocking_rule(item: Item, state: State, before: np.ndarray) -> tuple[str | None, int]:
    """The rule removing the most of the ``before`` hosts, and how many it removes."""
    best, most = None, 0
    for f in (AFFINITY, ANTI_AFFINITY):
        for rule, allowed in f.per_rule(item, state):
            removed = int((before & ~allowed).sum())
            if removed > most:
                best, most = rule.label, removed
    return best, most


def _short(item: Item, state: State, left: np.ndarray) -> tuple[list[str], str]:
    """The dimensions no candidate has room for (worded), and the dimension to blame: the
    first of those, else the one the most candidates lack."""
    free = state.free[left]
    short, blamed = [], []
    for d, dim in enumerate(DIMS):
        most = float(free[:, d].max())
        if most + EPS < item.size[d]:
            short.append(f"{dim} (need {item.size[d]:g}, at most {most:g} free)")
            blamed.append(dim)
    if blamed:
        return short, blamed[0]
    lacking = [int((free[:, d] + EPS < item.size[d]).sum()) for d in range(3)]
    return short, DIMS[int(np.argmax(lacking))]


def explain_unplaced(item: Item, state: State) -> Explanation:
    """Why ``item`` goes nowhere: the first thing that leaves no host, most specific first."""
    p = state.problem
    exp = Explanation(item.ids[0])
    if item.conflict is not None:
        exp.reason = item.conflict
        return exp
    exp.filtered, after = _run(item, state)
    exp.candidates = int(after[-1].sum())
    if not after[2].any():
        exp.reason = _pin_reason(item, p)
        return exp
    rule, removed = _blocking_rule(item, state, after[2])
    exp.blocking_rule = rule
    if not after[4].any():
        labels = []
        for f in (AFFINITY, ANTI_AFFINITY):
            labels += [r.label for r, a in f.per_rule(item, state) if (after[2] & ~a).any()]
        exp.reason = f"every candidate host is excluded by {'; '.join(labels)}"
        return exp
    short, exp.blocking_dimension = _short(item, state, after[4])
    if short:
        what = "not enough " + ", ".join(short)
    else:
        need = ", ".join(f"{dim}={item.size[d]:g}" for d, dim in enumerate(DIMS))
        what = f"no single host has {need} free together"
    if rule is not None:
        left = int(after[4].sum())
        what = f"{rule} leaves {left} host{'s' if left != 1 else ''}; on them {what}"
    elif len(item.ids) > 1:
        # host-affinity members were merged into this item: the rule is what makes it this big
        together = _merged_by(item, p)
        if together is not None:
            exp.blocking_rule = together
            what = f"{together} keeps {len(item.ids)} VDU instances on one host: {what}"
    exp.reason = what
    return exp


def _merged_by(item: Item, p: Problem) -> str | None:
    """The label of a host-affinity rule that merged ``item``'s demands, if any."""
    ids = set(item.ids)
    for r in p.rules:
        if r.kind == "affinity" and r.scope == "host" and len(r.members & ids) > 1:
            return r.label
    return None


def explain_unplaced_all(state: State) -> dict[str, Explanation]:
    """Explanations (with reasons) of every demand of every item not placed."""
    out: dict[str, Explanation] = {}
    for item in state.problem.items:
        if state.host_of[item.index] >= 0:
            continue
        exp = explain_unplaced(item, state)
        for d in item.ids:
            out[d] = Explanation(
                d,
                candidates=exp.candidates,
                filtered=list(exp.filtered),
                reason=exp.reason,
                blocking_rule=exp.blocking_rule,
                blocking_dimension=exp.blocking_dimension,
            )
    return out
