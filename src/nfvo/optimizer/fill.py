"""Host-by-host filling (bin-centric best fit) that pairs complementary shapes.

Items are grouped into types (same size, same pins and exclusions, no rule: one type with
a count) so a step costs one numpy pass over the types, not over the items. The largest
item left opens the next host (the best-scored one its filters keep, an already-used host
first); that host is then filled with the type whose size best matches the host's free
room — the largest ``sum(size / total * free / total)`` over the dimensions — as long as
one fits, so a host whose RAM is taken gets the CPU-heavy items next, and the reverse.
Ties go to the larger type (decreasing order), then to the first host by name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from nfvo.optimizer.filters import AFFINITY, ANTI_AFFINITY, candidates, static_mask
from nfvo.optimizer.problem import EPS, Item, State

if TYPE_CHECKING:
    from nfvo.optimizer.strategies.base import Strategy


class _Types:
    """Items left to place, by type, in decreasing order of their first item."""

    def __init__(self, state: State, order: list[Item]) -> None:
        groups: dict[tuple, list[Item]] = {}
        for it in order:
            key = ("rule", it.index) if it.rules else (*it.static_key, tuple(it.size))
            groups.setdefault(key, []).append(it)
        self.items = list(groups.values())
        self.next = [0] * len(self.items)
        self.left = np.array([len(g) for g in self.items], dtype=int)
        self.size = np.array([g[0].size for g in self.items]).reshape(-1, 3)
        self.alive = np.array([bool(g) for g in self.items], dtype=bool)
        self._first = 0
        self.ruled = np.array([bool(g[0].rules) for g in self.items], dtype=bool)
        statics: dict[tuple, int] = {}
        self.static_of = np.array(
            [statics.setdefault(g[0].static_key, len(statics)) for g in self.items], dtype=int
        )
        firsts = {k: g[0] for g in self.items for k in [g[0].static_key]}
        self.static = np.zeros((len(statics), state.problem.n_hosts), dtype=bool)
        for k, row in statics.items():
            self.static[row] = static_mask(firsts[k], state)

        p = state.problem
        biggest = p.scale.max(axis=0) if p.n_hosts else np.ones(3)
        self.volume = (self.size / np.maximum(biggest, EPS)).sum(axis=1)
        self.free_static = bool(self.static.all())
        self._refresh()

    def _refresh(self) -> None:
        self._live = np.flatnonzero(self.alive)
        self._dead = 0
        self.live_size = self.size[self._live]
        self.live_static = self.static_of[self._live]
        self.live_volume = self.volume[self._live]

    def live(self) -> np.ndarray:
        """Indexes of the types with items left (refreshed when a quarter of them are gone);
        ``live_size``, ``live_static`` and ``live_volume`` are their rows."""
        if self._dead * 4 > len(self._live):
            self._refresh()
        return self._live

    def first(self) -> int:
        while self._first < len(self.items) and not self.alive[self._first]:
            self._first += 1
        return self._first if self._first < len(self.items) else -1

    def peek(self, t: int) -> Item:
        return self.items[t][self.next[t]]

    def pop(self, t: int) -> Item:
        item = self.items[t][self.next[t]]
        self.next[t] += 1
        self.left[t] -= 1
        if self.next[t] >= len(self.items[t]):
            self.alive[t] = False
            self._dead += 1
        return item


LOOKAHEAD = 32
POOL = 256


def _lookahead(
    types: _Types,
    live: np.ndarray,
    cand: np.ndarray,
    free: np.ndarray,
    score: np.ndarray,
) -> np.ndarray:
    """Scores of ``LOOKAHEAD`` candidates with the best scores and ``LOOKAHEAD`` with the
    smallest volume (sum of shares), raised to the volume the host would hold with the
    largest third item after them (a trio of smaller items beats one large partner); the
    third is looked for among the ``POOL`` smallest candidates."""
    size = types.live_size[cand]
    volume = types.live_volume[cand]
    if len(cand) > 2 * LOOKAHEAD:
        by_score = np.argpartition(-score, LOOKAHEAD)[:LOOKAHEAD]
        by_volume = np.argpartition(volume, LOOKAHEAD)[:LOOKAHEAD]
        top = np.unique(np.concatenate([by_score, by_volume]))
    else:
        top = np.arange(len(cand))
    pool = np.argpartition(volume, POOL)[:POOL] if len(cand) > POOL else np.arange(len(cand))
    left = free - size[top]
    small = size[pool]
    fit = small[None, :, 0] <= left[:, None, 0] + EPS
    fit &= small[None, :, 1] <= left[:, None, 1] + EPS
    fit &= small[None, :, 2] <= left[:, None, 2] + EPS
    last = types.left[live[cand[top]]] <= 1
    fit &= ~((pool[None, :] == top[:, None]) & last[:, None])
    third = np.where(fit, volume[pool][None, :], 0.0).max(axis=1)
    out = np.full(len(cand), -np.inf)
    out[top] = volume[top] + third
    return out


def _best_type(types: _Types, state: State, host: int) -> int:
    p = state.problem
    free = state.free[host] + EPS
    live = types.live()
    size = types.live_size
    ok = types.alive[live]
    if not types.free_static:
        ok &= types.static[types.live_static, host]
    ok &= size[:, 0] <= free[0]
    ok &= size[:, 1] <= free[1]
    ok &= size[:, 2] <= free[2]
    cand = np.flatnonzero(ok)
    if cand.size == 0:
        return -1
    scale = p.scale[host]
    score = (size[cand] / scale) @ (free / scale)
    if LOOKAHEAD and state.load[host] == 1 and cand.size > 1:
        score = _lookahead(types, live, cand, free, score)
    best = int(live[cand[int(np.argmax(score))]])
    if not types.ruled[best]:
        return best
    ranked = live[cand[np.argsort(-score, kind="stable")]]
    for t in ranked:
        t = int(t)
        if not types.ruled[t]:
            return t
        item = types.peek(t)
        if AFFINITY.host_passes(host, item, state) and ANTI_AFFINITY.host_passes(host, item, state):
            return t
    return -1


def _open(state: State, item: Item, strategy: Strategy) -> int:
    """The host the largest item left goes to: the best-scored host already holding items
    that its filters keep, else the roomiest other one (most free room as a share of the
    biggest host, summed over the dimensions: the most items can follow it there); ties
    go to the first by name."""
    mask = candidates(item, state)
    hosts = np.flatnonzero(mask & (state.load > 0))
    if hosts.size:
        return int(hosts[int(np.argmin(strategy.score(state, item, hosts)))])
    hosts = np.flatnonzero(mask)
    if hosts.size == 0:
        return -1
    if state.problem.uniform:
        return int(hosts[0])
    room = (state.free[hosts] / state.problem.biggest).sum(axis=1)
    return int(hosts[int(np.argmax(room))])


def fill_hosts(state: State, order: list[Item], strategy: Strategy) -> None:
    """Place ``order`` (largest first) host by host; see the module docstring."""
    types = _Types(state, [it for it in order if it.conflict is None])
    while True:
        t = types.first()
        if t < 0:
            return
        item = types.pop(t)
        host = _open(state, item, strategy)
        if host < 0:
            continue
        state.put(item, host)
        while (t := _best_type(types, state, host)) >= 0:
            state.put(types.pop(t), host)
