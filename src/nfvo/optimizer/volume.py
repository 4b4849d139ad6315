"""The volume bound (L1) and the anti-affinity bound: cheap lower bounds on hosts used.

Volume: on each dimension, the fewest hosts whose free room (largest first) adds up to
the placed demands' total — ``ceil(total / host)`` when hosts are identical. Anti-affinity:
the members of one host-scope anti-affinity rule need a host each.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from nfvo.optimizer.problem import EPS, Item, Problem


def volume_bound(problem: Problem, sizes: np.ndarray) -> float:
    """Fewest schedulable hosts that hold ``sizes`` (n x 3) on every dimension alone."""
    if sizes.size == 0:
        return 0.0
    free = np.maximum(problem.free0[problem.schedulable], 0.0)
    bound = 1
    for d in range(3):
        need = float(sizes[:, d].sum())
        if need <= EPS:
            continue
        room = np.cumsum(np.sort(free[:, d])[::-1])
        k = int(np.searchsorted(room, need * (1 - 1e-12) - EPS)) + 1
        bound = max(bound, k)
    return float(bound)


def anti_affinity_bound(problem: Problem, placed_ids: Iterable[str]) -> float:
    """Most placed members of one host-scope anti-affinity rule (each needs its own host)."""
    placed = set(placed_ids)
    return float(
        max(
            (
                len(r.members & placed)
                for r in problem.rules
                if r.kind == "anti_affinity" and r.scope == "host"
            ),
            default=0,
        )
    )


def item_bound(problem: Problem, items: list[Item]) -> float:
    """The better of both bounds for the given (placed) items."""
    if not items:
        return 0.0
    sizes = np.array([it.size for it in items])
    ids = [i for it in items for i in it.ids]
    return max(volume_bound(problem, sizes), anti_affinity_bound(problem, ids))
