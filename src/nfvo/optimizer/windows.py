"""MIP polish on windows: repack the items of a dozen hosts with HiGHS.

The hosts with room left are those whose shapes did not match: CPU full with RAM left on
some, RAM full with vCPUs left on others. A window takes ``SIZE`` hosts — first those
with the most free share on each dimension in turn (complementary leftovers together),
then the least filled, sliding — builds the sub-problem (those hosts with their items
taken out, those items, every rule towards items outside the window turned into host
exclusions, the rules inside it kept) and asks ``exact`` for fewer hosts. Windows and MIP
nodes are counted (deterministic); the clock is only a safety net.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from nfvo.optimizer.filters import AFFINITY, ANTI_AFFINITY, static_mask
from nfvo.optimizer.local_search import fill
from nfvo.optimizer.model import Demand, PlacementRule
from nfvo.optimizer.problem import Item, Problem, State

if TYPE_CHECKING:
    from nfvo.optimizer.strategies.base import Work

SIZE = 12
WINDOWS_PER_SECOND = 10
MAX_NODES = 200


def _sub_problem(state: State, hosts: list[int], items: list[Item]) -> Problem:
    """The window as its own problem (``items`` are taken out of ``state`` first)."""
    p = state.problem
    for it in items:
        state.take(it)
    sub_hosts = [
        replace(
            p.hosts[h],
            vcpus_free=float(state.free[h, 0]),
            ram_mib_free=float(state.free[h, 1]),
            disk_gib_free=float(state.free[h, 2]),
        )
        for h in hosts
    ]
    demands = []
    for it in items:
        allowed = static_mask(it, state) & AFFINITY.mask(it, state)
        allowed &= ANTI_AFFINITY.mask(it, state)
        excluded = frozenset(p.names[h] for h in hosts if not allowed[h])
        demands.append(Demand(it.ids[0], *(float(x) for x in it.size), exclude_hosts=excluded))
    rules = []
    for r in p.rules:
        if r.kind == "affinity" and r.scope == "host":
            continue
        members = [it.ids[0] for it in items if r.index in it.rules]
        if len(members) > 1:
            rules.append(PlacementRule(r.kind, r.scope, members, label=r.label))
    return Problem(sub_hosts, demands, rules)


def _window(state: State, hosts: list[int], items: list[Item], time_limit_s: float) -> bool:
    from nfvo.optimizer.exact import solve_items

    p = state.problem
    before = {it.index: state.host_of[it.index] for it in items}
    sub = _sub_problem(state, hosts, items)
    of_id = {it.ids[0]: it for it in items}
    incumbent = {s.index: sub.index[p.names[before[of_id[s.ids[0]].index]]] for s in sub.items}
    found = solve_items(sub, incumbent, time_limit_s, max_nodes=MAX_NODES)
    if found is None or len(set(found.values())) >= len(set(incumbent.values())):
        for it in items:
            state.put(it, before[it.index])
        return False
    for s in sub.items:
        state.put(of_id[s.ids[0]], p.index[sub.names[found[s.index]]])
    return True


def _mixed(state: State, used: np.ndarray) -> list[int]:
    """Hosts with the most free share on each dimension (complementary leftovers), in turn."""
    p = state.problem
    share = state.free[used] / p.scale[used]
    ranked = [used[np.lexsort((used, -share[:, d]))] for d in range(3)]
    out: list[int] = []
    for k in range(len(used)):
        for d in range(3):
            h = int(ranked[d][k])
            if h not in out:
                out.append(h)
        if len(out) >= SIZE:
            break
    return out[:SIZE]


def polish_windows(state: State, work: Work, bound: float = 0.0) -> int:
    """Repack windows of hosts while the effort allows and the hosts used are above
    ``bound``: first the hosts with the most free room on each dimension together, then
    the least-filled hosts in turn; returns the hosts saved."""
    p = state.problem
    windows = max(1, int(work.budget_s * WINDOWS_PER_SECOND))
    saved, start, mixed = 0, 0, True
    while windows > 0 and not work.over():
        used = state.used_hosts()
        if len(used) <= bound:
            break
        if mixed:
            chosen = _mixed(state, used)
        else:
            order = used[np.lexsort((used, fill(state, used)))]
            chosen = [int(h) for h in order[start : start + SIZE]]
        if len(chosen) < 2:
            break
        on = set(chosen)
        items = [p.items[i] for i, h in enumerate(state.host_of) if h in on]
        windows -= 1
        if not any(it.host is not None for it in items) and _window(
            state, chosen, items, max(0.05, work.budget_s)
        ):
            saved += 1
        elif mixed:
            mixed = False
        else:
            start += SIZE // 2
    return saved
