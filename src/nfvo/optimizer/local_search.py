"""Local search: empty the least-filled hosts by moving their items into the others.

One pass looks at the used hosts from the least filled up; for each it tries to move all
its items (largest first) onto other used hosts, best score first, every filter kept. If
all move, the host is empty (one host fewer); otherwise every move of that try is undone.
Passes repeat while one empties a host. The effort is counted in item moves tried, from the
budget (deterministic: same input, same budget, same answer), the deadline only a safety net.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from nfvo.optimizer.filters import AFFINITY, ANTI_AFFINITY, candidates
from nfvo.optimizer.problem import EPS, State

if TYPE_CHECKING:
    from nfvo.optimizer.strategies.base import Strategy, Work

MOVES_PER_SECOND = 20_000


def fill(state: State, hosts: np.ndarray) -> np.ndarray:
    """How full each host is: the mean over dimensions of the used share of its total."""
    p = state.problem
    used = 1.0 - state.free[hosts] / p.scale[hosts]
    return used.mean(axis=1)


def _try_empty(state: State, host: int, on_host: list[int], strategy: Strategy) -> bool:
    p = state.problem
    items = sorted((p.items[i] for i in on_host), key=lambda it: (-float(it.size.sum()), it.ids[0]))
    moved: list[tuple[int, int]] = []
    for item in items:
        state.take(item)
        mask = candidates(item, state) & (state.load > 0)
        mask[host] = False
        targets = np.flatnonzero(mask)
        if targets.size == 0:
            state.put(item, host)
            for index, _ in reversed(moved):
                state.take(p.items[index])
                state.put(p.items[index], host)
            return False
        target = int(targets[int(np.argmin(strategy.score(state, item, targets)))])
        state.put(item, target)
        moved.append((item.index, target))
    return True


def empty_hosts(state: State, strategy: Strategy, work: Work) -> int:
    """Empty as many hosts as the effort allows; returns how many were emptied."""
    p = state.problem
    if not p.items:
        return 0
    budget = max(1, int(work.budget_s * MOVES_PER_SECOND))
    emptied = 0
    improved = True
    while improved and budget > 0 and not work.over():
        improved = False
        used = state.used_hosts()
        on: dict[int, list[int]] = {int(h): [] for h in used}
        for index, h in enumerate(state.host_of):
            if h >= 0:
                on[h].append(index)
        order = used[np.lexsort((used, fill(state, used)))]
        for host in order:
            host = int(host)
            if any(p.items[i].host is not None for i in on[host]):
                continue
            budget -= len(on[host])
            if budget < 0 or work.over():
                break
            if _try_empty(state, host, on[host], strategy):
                emptied += 1
                improved = True
                for index in on.pop(host):
                    on[state.host_of[index]].append(index)
    return emptied


def _donors(state: State) -> np.ndarray:
    """Items alone with one other item on their host (moving one leaves a single)."""
    hosts = np.array(state.host_of)
    on_pair = np.zeros(len(hosts), dtype=bool)
    placed = hosts >= 0
    on_pair[placed] = state.load[hosts[placed]] == 2
    return on_pair


def third_items(state: State, work: Work) -> int:
    """Give hosts with room a third item taken from a two-item host (host count unchanged).

    Anti-correlated demands (CPU-heavy next to RAM-heavy) pack two by two; the optimum puts
    the smallest three to a host and pairs the rest. Each move here makes one such trio and
    leaves one item alone on its former host; ``empty_hosts`` then pairs the lone items,
    one host fewer for every two moves. Hosts that gave or took an item are left alone.
    """
    from nfvo.optimizer.filters import static_mask

    p = state.problem
    if not p.items:
        return 0
    sizes = np.array([it.size for it in p.items])
    donor = _donors(state)
    locked = np.zeros(p.n_hosts, dtype=bool)
    smallest = sizes[donor].min(axis=0) if donor.any() else None
    if smallest is None:
        return 0
    used = state.used_hosts()
    room = state.free[used] / p.scale[used]
    order = used[np.lexsort((used, -room.sum(axis=1)))]
    budget = max(1, int(work.budget_s * MOVES_PER_SECOND))
    moved = 0
    for host in order:
        host = int(host)
        free = state.free[host]
        if locked[host] or (free + EPS < smallest).any() or budget <= 0 or work.over():
            continue
        fit = donor & (sizes[:, 0] <= free[0] + EPS) & (sizes[:, 1] <= free[1] + EPS)
        fit &= sizes[:, 2] <= free[2] + EPS
        cand = np.flatnonzero(fit)
        if cand.size == 0:
            continue
        scale = p.scale[host]
        score = (sizes[cand] / scale) @ (free / scale)
        for k in cand[np.argsort(-score, kind="stable")][:8]:
            budget -= 1
            item = p.items[int(k)]
            origin = state.host_of[item.index]
            if origin == host or locked[origin] or item.host is not None:
                continue
            state.take(item)
            ok = static_mask(item, state)[host] and AFFINITY.host_passes(host, item, state)
            if ok and ANTI_AFFINITY.host_passes(host, item, state):
                state.put(item, host)
                locked[[host, origin]] = True
                donor[[i for i, h in enumerate(state.host_of) if h in (host, origin)]] = False
                moved += 1
                break
            state.put(item, origin)
    return moved
