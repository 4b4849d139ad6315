"""The volume bound (L1) and the anti-affinity bound: cheap lower bounds on hosts used.

Volume: on each dimension, the fewest hosts whose free room (largest first) adds up to
the placed demands' total — ``ceil(total / host)`` when hosts are identical. Anti-affinity:
the members of one host-scope anti-affinity rule need a host each.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from nfvo.optimizer.problem import EPS, Item, Problem


def volume_of(free: np.ndarray, sizes: np.ndarray) -> float:
    """Fewest of the hosts with free room ``free`` (h x 3) that hold ``sizes`` (n x 3) on
    every dimension alone: 0 for nothing, else at least 1 (more than the host count when even
    all of them together are short)."""
    if sizes.size == 0:
        return 0.0
    free = np.maximum(free.reshape(-1, 3), 0.0)
    bound = 1
    for d in range(3):
        need = float(sizes[:, d].sum())
        if need <= EPS:
            continue
        room = np.cumsum(np.sort(free[:, d])[::-1])
        k = int(np.searchsorted(room, need * (1 - 1e-12) - EPS)) + 1
        bound = max(bound, k)
    return float(bound)


def volume_bound(problem: Problem, sizes: np.ndarray) -> float:
    """Fewest schedulable hosts that hold ``sizes`` (n x 3) on every dimension alone."""
    return volume_of(problem.free0[problem.schedulable], sizes)


def anti_affinity_bound(problem: Problem, placed_ids: Iterable[str]) -> float:
    """Most placed members of one anti-affinity rule: each needs its own host (zone scope:
    its own zone, so its own host too)."""
    placed = set(placed_ids)
    return float(
        max(
            (len(r.members & placed) for r in problem.rules if r.kind == "anti_affinity"), default=0
        )
    )


def item_bound(problem: Problem, items: list[Item]) -> float:
    """The better of both bounds for the given (placed) items."""
    if not items:
        return 0.0
    sizes = np.array([it.size for it in items])
    ids = [i for it in items for i in it.ids]
    return max(volume_bound(problem, sizes), anti_affinity_bound(problem, ids))
