"""Proven lower bounds on the number of hosts a set of placed demands needs.

Every function here is pure (plain data in, numbers out) and every number it returns is a
*proof*: no placement of the same demands on the same hosts can use fewer hosts. Three bounds:

- ``volume_bound`` (L1): per dimension, the fewest hosts whose free room can hold the total.
- ``anti_affinity_bound``: members of one anti-affinity rule need pairwise distinct hosts.
- ``configuration_lp_bound``: the Gilmore-Gomory configuration LP (one column per way of
  filling one host), solved by column generation with HiGHS, and bounded at every iteration
  by Farley's bound so that stopping early on the time budget still returns a proof.

The LP relaxation of the assignment MIP (x[demand, host] in [0, 1]) is deliberately absent:
spreading every demand fractionally over hosts makes it equal to the volume bound, so it
proves nothing more (see docs/optimizer-bounds.md).
"""

from __future__ import annotations

import math
import time
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nfvo.optimizer.highs import solver
from nfvo.optimizer.model import Demand, HostCapacity, PlacementRule
from nfvo.optimizer.volume import volume_of

_TOL = 1e-6  # slack when rounding a fractional bound up (never rounds 2.0000001 to 3)
_FIT = 1e-9  # relative slack when testing whether sizes fit a capacity


def _ceil(value: float) -> float:
    return float(max(0, math.ceil(value - _TOL)))


def _usable(hosts: Iterable[HostCapacity]) -> list[HostCapacity]:
    return [h for h in hosts if h.schedulable]


def volume_bound(hosts: Sequence[HostCapacity], demands: Sequence[Demand]) -> float:
    """Fewest hosts whose free room can hold the demands' total, per dimension (L1).

    For each dimension: the smallest k such that the k largest free amounts add up to the
    total demanded (with identical hosts this is ceil(total / capacity)); the bound is the
    largest k over dimensions, and at least 1 when anything is demanded. When even every
    host together is short, the demands cannot all be placed and the host count is returned.
    """
    free = np.array([h.free() for h in _usable(hosts)], dtype=float).reshape(-1, 3)
    sizes = np.array([d.size() for d in demands], dtype=float).reshape(-1, 3)
    return min(volume_of(free, sizes), float(len(free))) if len(free) else volume_of(free, sizes)


def _members(rule: PlacementRule, by_id: set[str], by_group: dict[str, list[str]]) -> set[str]:
    out: set[str] = set()
    for m in rule.members:
        if m in by_id:
            out.add(m)
        out.update(by_group.get(m, ()))
    return out


def anti_affinity_bound(demands: Sequence[Demand], rules: Iterable[PlacementRule]) -> float:
    """The largest set of demands that one anti-affinity rule keeps on distinct hosts.

    Host scope: each member needs its own host. Zone scope: members need distinct zones and so
    distinct hosts too (whether enough zones exist is a feasibility question, not a bound).
    Members are demand ids or groups; only the given demands count.
    """
    ids = {d.id for d in demands}
    by_group: dict[str, list[str]] = {}
    for d in demands:
        if d.group is not None:
            by_group.setdefault(d.group, []).append(d.id)
    best = 1 if demands else 0
    for rule in rules:
        if rule.kind == "anti_affinity":
            best = max(best, len(_members(rule, ids, by_group)))
    return float(best)


@dataclass
class _Types:
    """Demands grouped into item types: normalised sizes (share of a host) and counts."""

    size: np.ndarray  # (T, 3) share of the host capacity per dimension
    count: np.ndarray  # (T,) multiplicity
    cap: np.ndarray  # (3,) the (relaxed) host capacity used
    grid: int = 0  # 0: exact shares; g: shares rounded down to multiples of 1/g


def _types(
    hosts: Sequence[HostCapacity], demands: Sequence[Demand], max_types: int = 400
) -> _Types | None:
    """Group demands into types; past ``max_types`` distinct sizes, shares are rounded DOWN
    to a grid (1/1024, 1/512, ... of a host) until few enough remain. Rounding down only
    shrinks items, so the bound of the rounded instance is still a bound of the real one."""
    usable = _usable(hosts)
    if not usable or not demands:
        return None
    cap = np.array([max(h.free()[d] for h in usable) for d in range(3)], dtype=float)
    raw = np.array([d.size() for d in demands], dtype=float)
    keep = np.all(raw <= cap * (1 + _FIT), axis=1) & np.any(raw > 0, axis=1)
    raw = raw[keep]
    if not len(raw):
        return None
    safe = np.where(cap > 0, cap, 1.0)
    share = np.where(cap > 0, raw / safe, 0.0)
    size, count = np.unique(share, axis=0, return_counts=True)
    grid = 0
    for g in (1024, 512, 256, 128, 64, 32):
        if len(count) <= max_types:
            break
        grid = g
        cells = np.array([g, g, max(4, g // 16)], dtype=float)  # disk rarely binds: coarser
        # Plain floor, no tolerance: a share may only shrink (one cell too far is still valid).
        size, count = np.unique(np.floor(share * cells) / cells, axis=0, return_counts=True)
    return _Types(size=size, count=count.astype(float), cap=cap, grid=grid)


def _max_per_bin(t: _Types) -> int:
    """How many items at most share one host (smallest items first, per dimension and in sum)."""
    counts = t.count.astype(int)
    limit = int(counts.sum())
    s = t.size
    rows = np.vstack([s.T, s[:, 0] + s[:, 1], s[:, 0] + s[:, 2], s[:, 1] + s[:, 2]])
    caps = [1.0, 1.0, 1.0, 2.0, 2.0, 2.0]
    for row, c in zip(rows, caps, strict=True):
        order = np.argsort(row)
        sizes = np.repeat(row[order], np.minimum(counts[order], limit))
        fill = np.cumsum(sizes)
        limit = min(limit, int(np.searchsorted(fill, c * (1 + _FIT), side="right")))
    return max(1, limit)


class _Master:
    """The restricted master LP: min sum x_c s.t. sum_c a[t, c] x_c >= n_t, x >= 0."""

    def __init__(self, t: _Types):
        import highspy

        self._hs = highspy
        # Warm start from the previous basis after each batch of new columns: no presolve,
        # primal simplex (new columns keep the basis primal feasible).
        self.h = solver(presolve="off", solver="simplex", simplex_strategy=4)
        n = len(t.count)
        inf = highspy.kHighsInf
        self.h.addRows(
            n, t.count, np.full(n, inf), 0, np.zeros(0, np.int32), np.zeros(0, np.int32), []
        )
        self.columns: set[bytes] = set()
        self.n = n

    def add(self, cols: list[np.ndarray]) -> int:
        """Add the columns not already present (each a length-T count vector); how many new."""
        fresh = []
        for c in cols:
            key = np.asarray(c, dtype=np.int32).tobytes()
            if key not in self.columns:
                self.columns.add(key)
                fresh.append(c)
        if not fresh:
            return 0
        block = np.vstack(fresh)
        col, row = np.nonzero(block)  # row-major: grouped by column, rows ascending
        k = len(fresh)
        self.h.addCols(
            k,
            np.ones(k),
            np.zeros(k),
            np.full(k, self._hs.kHighsInf),
            len(row),
            np.searchsorted(col, np.arange(k)).astype(np.int32),
            row.astype(np.int32),
            block[col, row].astype(float),
        )
        return k

    def solve(self) -> tuple[float, np.ndarray]:
        """Solve; the LP value and the duals (clipped to >= 0, as a >= row's dual must be)."""
        self.h.run()
        if self.h.getModelStatus() != self._hs.HighsModelStatus.kOptimal:
            raise RuntimeError(f"master LP: {self.h.modelStatusToString(self.h.getModelStatus())}")
        duals = np.maximum(np.array(self.h.getSolution().row_dual, dtype=float), 0.0)
        return self.h.getInfo().objective_function_value, duals


def _homogeneous(t: _Types) -> list[np.ndarray]:
    """One column per type: as many copies as fit one host (keeps the master feasible)."""
    cols = []
    big = np.max(t.size, axis=1)
    for i, (n, s) in enumerate(zip(t.count, big, strict=True)):
        col = np.zeros(len(t.count), np.int32)
        col[i] = int(min(n, math.floor((1 + _FIT) / s) if s > 0 else n))
        cols.append(col)
    return cols


def _first_fit_columns(t: _Types) -> list[np.ndarray]:
    """Columns of a best-fit-decreasing packing of the items: a good first basis."""
    order = np.argsort(-(t.size.sum(axis=1) + t.size.max(axis=1)), kind="stable")
    items = np.repeat(order, t.count[order].astype(int))
    room = np.zeros((0, 3))
    content: list[list[int]] = []
    for i in items:
        s = t.size[i]
        ok = np.flatnonzero(np.all(room >= s - _FIT, axis=1)) if len(room) else np.zeros(0, int)
        if len(ok):
            b = int(ok[np.argmin((room[ok] - s).sum(axis=1))])
            room[b] -= s
            content[b].append(int(i))
        else:
            room = np.vstack([room, 1.0 - s])
            content.append([int(i)])
    return [_column(t, picks) for picks in content]


def _fractional_ub(t: _Types, y: np.ndarray) -> float:
    """An upper bound on the pricing value: min over dimensions of the 1-D fractional knapsack."""
    best = math.inf
    for d in range(3):
        s = t.size[:, d]
        free = s <= 0
        value = float((y[free] * t.count[free]).sum())
        order = np.argsort(-(y[~free] / s[~free]))
        ys, ss, ns = y[~free][order], s[~free][order], t.count[~free][order]
        room = np.cumsum(ss * ns)
        k = int(np.searchsorted(room, 1.0))
        value += float((ys[:k] * ns[:k]).sum())
        if k < len(ys):
            left = 1.0 - (room[k - 1] if k else 0.0)
            value += float(ys[k] * left / ss[k])
        best = min(best, value)
    return best


def _pair_fits(t: _Types, rows: np.ndarray) -> np.ndarray:
    """fits[a, j]: whether type ``rows[a]`` and type j fit one host together."""
    s = t.size
    ok = np.ones((len(rows), len(s)), dtype=bool)
    for d in range(3):
        ok &= (s[rows, d][:, None] + s[None, :, d]) <= 1 + _FIT
    same = rows[:, None] == np.arange(len(s))[None, :]
    ok &= ~same | (t.count[rows] >= 2)[:, None]
    return ok


def _column(t: _Types, picks: Iterable[int]) -> np.ndarray:
    col = np.zeros(len(t.count), np.int32)
    for i in picks:
        col[i] += 1
    return col


class _Pricer:
    """Finds columns of positive reduced cost (max sum y_t k_t over what fits one host).

    ``heuristic`` proposes many improving columns cheaply; ``exact`` returns the best value it
    found, its column and a proven upper bound on the pricing optimum (what Farley's bound
    divides by). With at most three items per host (big items) pricing is enumerated with
    numpy (pairs as a matrix, triples by branch and bound); otherwise a small HiGHS MIP
    (whose dual bound is the upper bound when its time limit stops it).
    """

    BLOCK = 512
    TOP = 300  # improving triples added per iteration

    def __init__(self, t: _Types, kmax: int, deadline: float = math.inf):
        self.t = t
        self.kmax = kmax
        self.n = len(t.count)
        self.enumerate = kmax <= 3
        self._fits: np.ndarray | None = None
        self._triple_list: np.ndarray | None = None
        self._partner_memo: tuple[bytes, tuple[np.ndarray, np.ndarray]] | None = None
        if self.enumerate and self.n <= 8000:
            rows = np.arange(self.n)
            self._fits = np.vstack(
                [_pair_fits(t, rows[a : a + self.BLOCK]) for a in range(0, self.n, self.BLOCK)]
            )
            if kmax == 3:
                left = deadline - time.perf_counter()
                self._triple_list = self._all_triples(seconds=min(1.0, max(0.0, left)))

    # -- heuristic -------------------------------------------------------------------------
    def heuristic(self, y: np.ndarray, limit: int) -> list[np.ndarray]:
        """Improving columns (reduced cost < 0), at most ``limit`` of them."""
        if self._fits is not None:
            return self._pairs(y, limit)
        return self._greedy(y, limit)

    def _best_partner(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per type, the fitting partner of largest dual (-1 when none) and its dual."""
        assert self._fits is not None
        key = y.tobytes()
        if self._partner_memo is not None and self._partner_memo[0] == key:
            return self._partner_memo[1]  # exact and heuristic pricing ask at the same duals
        partner = np.full(self.n, -1)
        value = np.full(self.n, -1.0)
        y32 = y.astype(np.float32)
        for a in range(0, self.n, self.BLOCK):
            masked = np.where(self._fits[a : a + self.BLOCK], y32[None, :], np.float32(-1))
            best = np.argmax(masked, axis=1)
            partner[a : a + self.BLOCK] = best
            value[a : a + self.BLOCK] = masked[np.arange(len(best)), best]
        partner[value < 0] = -1
        result = (partner, np.maximum(value, 0.0))
        self._partner_memo = (key, result)
        return result

    def _pairs(self, y: np.ndarray, limit: int) -> list[np.ndarray]:
        partner, other = self._best_partner(y)
        value = y + other
        order = np.argsort(-value)
        cols = []
        for i in order[:limit]:
            if value[i] <= 1 + 1e-6:
                break
            picks = [int(i), int(partner[i])] if partner[i] >= 0 else [int(i)]
            if self.kmax >= 3 and self._triple_list is None:
                picks += self._third(y, picks)
            cols.append(_column(self.t, picks))
        return cols

    def _third(self, y: np.ndarray, picks: list[int]) -> list[int]:
        """The best type that still fits beside ``picks`` (as a list, empty when none does)."""
        room = 1 + _FIT - self.t.size[picks].sum(axis=0)
        left = self.t.count - np.bincount(picks, minlength=self.n)
        ok = np.all(self.t.size <= room, axis=1) & (left >= 1)
        if not ok.any():
            return []
        k = int(np.argmax(np.where(ok, y, -1.0)))
        return [k] if y[k] > 0 else []

    def _greedy(self, y: np.ndarray, limit: int) -> list[np.ndarray]:
        t = self.t
        density = y / np.maximum(t.size.sum(axis=1), 1e-12)
        order = [int(i) for i in np.argsort(-density) if y[i] > 1e-12][:400]
        seeds = sorted(order, key=lambda i: -y[i])[: max(1, min(limit, 8))]
        cols = []
        for seed in seeds:
            col = np.zeros(self.n, np.int32)
            room = np.full(3, 1 + _FIT)
            for i in [seed, *order]:
                s = t.size[i]
                fit = min(
                    [t.count[i] - col[i]] + [math.floor(room[d] / s[d]) for d in range(3) if s[d]]
                )
                if fit >= 1:
                    col[i] += int(fit)
                    room = room - fit * s
            if float(y @ col) > 1 + 1e-9:
                cols.append(col)
        return cols

    # -- exact -----------------------------------------------------------------------------
    def exact(self, y: np.ndarray, seconds: float) -> tuple[float, list[np.ndarray], float]:
        """(best value found, improving columns met on the way, proven upper bound)."""
        if self._fits is not None:
            return self._enumerate(y, seconds)
        return self._mip(y, seconds)

    def _enumerate(self, y: np.ndarray, seconds: float) -> tuple[float, list[np.ndarray], float]:
        partner, other = self._best_partner(y)
        value = np.where(partner >= 0, y + other, y)
        i = int(np.argmax(value))
        best = float(value[i])
        cols = [_column(self.t, [i, int(partner[i])] if partner[i] >= 0 else [i])]
        ub = best
        if self.kmax >= 3:
            best3, triples, ub = self._triples(y, best, seconds)
            cols += [_column(self.t, tr) for tr in triples]
            best = max(best, best3)
        return best, [c for c in cols if float(y @ c) > 1 + 1e-9], max(best, ub)

    def _all_triples(self, limit: int = 400_000, seconds: float = 1.0) -> np.ndarray | None:
        """Every multiset of three types that fits one host (None when too many or too slow)."""
        t = self.t
        stop = time.perf_counter() + seconds
        s = t.size
        lo = np.repeat(np.arange(self.n), np.minimum(t.count, 2).astype(int))
        two = np.sort(s[lo], axis=0)[:2].sum(axis=0)
        agg = s[:, [0, 0, 1]] + s[:, [1, 2, 2]]
        agg_two = np.sort(agg[lo], axis=0)[:2].sum(axis=0)
        idx = np.flatnonzero(
            np.all(s + two <= 1 + _FIT, axis=1) & np.all(agg + agg_two <= 2 + _FIT, axis=1)
        )
        out, total = [], 0
        for a in idx:
            if time.perf_counter() > stop:
                return None
            room = 1 + _FIT - s[a]
            rest = idx[idx >= a]
            rest = rest[np.all(s[rest] <= room, axis=1)]
            if not len(rest):
                continue
            sub = s[rest]
            ok = np.triu(np.all(sub[:, None, :] + sub[None, :, :] <= room, axis=2))
            b, c = np.nonzero(ok)
            tri = np.column_stack([np.full(len(b), a), rest[b], rest[c]])
            same = (tri[:, 0] == tri[:, 1]).astype(int) + (tri[:, 1] == tri[:, 2])
            need = np.where(same == 2, 3, np.where(same == 1, 2, 1))
            rep = np.where(tri[:, 1] == tri[:, 2], tri[:, 1], tri[:, 0])
            tri = tri[t.count[rep] >= need]
            total += len(tri)
            if total > limit:
                return None
            out.append(tri)
        return np.vstack(out) if out else np.zeros((0, 3), dtype=np.int64)

    def _triples(
        self, y: np.ndarray, floor: float, seconds: float
    ) -> tuple[float, list[list[int]], float]:
        if self._triple_list is not None:
            if not len(self._triple_list):
                return floor, [], floor
            value = y[self._triple_list].sum(axis=1)
            top = np.argsort(-value)[: self.TOP]
            found = [self._triple_list[k].tolist() for k in top if value[k] > 1 + 1e-9]
            return max(floor, float(value[top[0]])), found, max(floor, float(value[top[0]]))
        return self._triples_bb(y, floor, seconds)

    def _triples_bb(
        self, y: np.ndarray, floor: float, seconds: float
    ) -> tuple[float, list[list[int]], float]:
        """Best triple value above ``floor`` by branch and bound over copies sorted by dual,
        the improving triples met on the way, and an upper bound (exact unless out of time)."""
        t = self.t
        stop = time.perf_counter() + seconds
        copies = np.repeat(np.arange(self.n), np.minimum(t.count, 3).astype(int))
        s = t.size[copies]
        two = np.sort(s, axis=0)[:2].sum(axis=0)
        agg = s[:, [0, 0, 1]] + s[:, [1, 2, 2]]
        agg_two = np.sort(agg, axis=0)[:2].sum(axis=0)
        cand = np.all(s + two <= 1 + _FIT, axis=1) & np.all(agg + agg_two <= 2 + _FIT, axis=1)
        cand &= y[copies] > 1e-12
        idx = np.flatnonzero(cand)
        idx = idx[np.argsort(-y[copies[idx]], kind="stable")]
        ys, ss = y[copies[idx]], s[idx]
        best, found = floor, []
        for a in range(len(idx) - 2):
            if 3 * ys[a] <= best + 1e-12:
                return best, found, best
            if time.perf_counter() > stop:
                return best, found, max(best, 3 * ys[a])
            room = 1 + _FIT - ss[a]
            rest = np.flatnonzero(np.all(ss[a + 1 :] <= room, axis=1)) + a + 1
            if len(rest) < 2 or ys[a] + ys[rest[0]] + ys[rest[1]] <= min(best, 1.0) + 1e-12:
                continue
            sub = ss[rest]
            ok = np.all(sub[:, None, :] + sub[None, :, :] <= room, axis=2)
            ok &= np.tri(len(rest), k=-1, dtype=bool).T
            val = np.where(ok, ys[rest][:, None] + ys[rest][None, :], -1.0)
            b, c = divmod(int(np.argmax(val)), len(rest))
            total = ys[a] + val[b, c]
            if val[b, c] >= 0 and total > 1 + 1e-9:
                found.append([int(copies[idx[x]]) for x in (a, rest[b], rest[c])])
                best = max(best, float(total))
        return best, found, best

    def _mip(self, y: np.ndarray, seconds: float) -> tuple[float, list[np.ndarray], float]:
        import highspy

        t = self.t
        use = np.flatnonzero(y > 1e-12)
        if not len(use):
            return 0.0, [], 0.0
        h = solver(time_limit=max(0.05, seconds), mip_rel_gap=1e-7)
        s = t.size[use]
        upper = [
            min([t.count[i]] + [math.floor((1 + _FIT) / x) for x in t.size[i] if x > 0])
            for i in use
        ]
        k = len(use)
        h.addCols(k, -y[use], np.zeros(k), np.array(upper, float), 0, np.zeros(k, np.int32), [], [])
        h.changeColsIntegrality(
            k, np.arange(k, dtype=np.int32), np.full(k, highspy.HighsVarType.kInteger)
        )
        for d in range(3):
            nz = np.flatnonzero(s[:, d] > 0)
            h.addRow(-highspy.kHighsInf, 1 + _FIT, len(nz), nz.astype(np.int32), s[nz, d])
        h.run()
        info = h.getInfo()
        bound = -info.mip_dual_bound if math.isfinite(info.mip_dual_bound) else math.inf
        ub = min(bound, _fractional_ub(t, y))
        if info.primal_solution_status != 2:  # no feasible point (kSolutionStatusFeasible = 2)
            return 0.0, [], ub
        x = np.rint(np.array(h.getSolution().col_value)).astype(np.int32)
        col = np.zeros(self.n, np.int32)
        col[use] = x
        value = float(y @ col)
        return value, [col] if value > 1 + 1e-9 else [], max(ub, value)


def configuration_lp_bound(
    hosts: Sequence[HostCapacity],
    demands: Sequence[Demand],
    rules: Iterable[PlacementRule] = (),
    time_budget_s: float = 1.0,
) -> tuple[float, dict[str, Any]]:
    """Gilmore-Gomory configuration LP bound by column generation; (bound, info).

    Demands are grouped into types (identical vcpus/RAM/disk) with multiplicities n_t. The
    master LP is min sum_c x_c s.t. sum_c a[t, c] x_c >= n_t, x >= 0 over columns c (a way to
    fill one host, a[t, c] <= n_t copies of type t); pricing is the 3-D knapsack
    max sum_t y_t k_t subject to the host's room and k_t <= n_t. At every iteration with duals
    y >= 0 and an upper bound V >= 1 on the pricing optimum, y / V is dual feasible, so
    ceil(sum_t n_t y_t / V) (Farley's bound) is a proven minimum whether or not column
    generation has converged; at convergence V = 1 and it is the LP optimum. The budget stops
    the loop and the best proven value so far is returned.

    Relaxation, so the value stays a lower bound in general: rules, pins and exclusions are
    ignored (dropping constraints can only lower the optimum), and every host is given the
    component-wise largest free room of the schedulable hosts (each real host fits inside that
    box, so any real placement is a packing into as many boxes). With identical empty hosts
    and no rules this is exactly the configuration LP of the instance. Demands that fit no
    box are left out (they cannot be placed anyway).

    Speed: with many distinct sizes the instance is first solved with shares rounded DOWN to a
    grid (fewer types; smaller items can only lower the optimum, so that bound is valid too),
    then with finer types while the budget lasts; the best proven value is returned. ``info``
    tells, per level, the types, grid, iterations, columns, LP value, status and bound.
    """
    start = time.perf_counter()
    deadline = start + max(0.0, time_budget_s)
    info: dict[str, Any] = {"types": 0, "iterations": 0, "columns": 0, "status": "empty"}
    best, seen = 0.0, -1
    for max_types in _LEVELS:
        t = _types(hosts, demands, max_types)
        if t is None:
            break
        if len(t.count) == seen:
            continue  # this level rounds to the same types as the previous one
        if seen >= 0 and deadline - time.perf_counter() < 0.2 * time_budget_s:
            break  # too little time left for a finer level to beat the coarser one
        seen = len(t.count)
        kmax = _max_per_bin(t)
        level: dict[str, Any] = {"types": seen, "grid": t.grid, "max_items_per_host": kmax}
        level["iterations"] = 0
        master = _Master(t)
        master.add(_homogeneous(t))
        if t.count.sum() <= 2000:
            master.add(_first_fit_columns(t))
        value, status = _generate(t, master, _Pricer(t, kmax, deadline), deadline, level)
        level.update(columns=len(master.columns), status=status, farley=value)
        info.setdefault("levels", []).append(level)
        if value >= best:
            best = value
            info.update({k: v for k, v in level.items() if k != "levels"})
        if status in ("optimal", "rounded") and t.grid == 0:
            break
    info["seconds"] = time.perf_counter() - start
    return _ceil(best), info


# Levels tried in turn, whatever the budget: at most 250, 500, 1,000, 2,000 types (shares
# rounded down; column generation converges on ~400 types in ~1.5 s and ~800 in ~4 s on one
# core), then the exact types, while the budget lasts; the best proven value of all is kept.
# Starting coarse means a larger budget can only add levels, never lose the cheap bound.
_LEVELS = (250, 500, 1000, 2000, 1_000_000)


def _generate(
    t: _Types, master: _Master, pricer: _Pricer, deadline: float, info: dict[str, Any]
) -> tuple[float, str]:
    """Column generation; (best proven bound, status: optimal, rounded, timeout or stalled).

    Each iteration solves the master, prices exactly at its duals (the Farley bound needs the
    pricing optimum, or an upper bound on it) and adds the improving columns the heuristic and
    the exact pricing met. The best Farley bound over all iterations is kept.
    """
    limit = pricer.TOP
    best = 0.0
    while True:
        info["iterations"] += 1
        z, y = master.solve()
        info["lp_value"] = z
        dual = float(y @ t.count)
        best = max(best, dual / max(1.0, _fractional_ub(t, y)))
        left = deadline - time.perf_counter()
        if left <= 0:
            return best, "timeout"
        if _ceil(best) >= _ceil(z):
            # The master's value only falls toward the LP optimum, which is at least ``best``:
            # once both round up to the same integer, no further column can raise the bound.
            return best, "rounded"
        _, found, ub = pricer.exact(y, left)
        best = max(best, dual / max(1.0, ub))
        if ub <= 1 + 1e-9:
            return max(best, dual), "optimal"
        if not master.add(pricer.heuristic(y, limit) + found):
            # No new improving column: the pricing stopped on time, or tolerances disagree.
            return best, "timeout" if time.perf_counter() >= deadline else "stalled"


def best_bound(
    hosts: Sequence[HostCapacity],
    demands: Sequence[Demand],
    rules: Iterable[PlacementRule] = (),
    placed_ids: Collection[str] | None = None,
    time_budget_s: float = 1.0,
) -> dict[str, float]:
    """Every bound for the placed demands (all of them when ``placed_ids`` is None).

    Keys ``volume``, ``anti_affinity`` and ``configuration_lp``; the best is their maximum.
    This is the ``bound`` hook ``optimizer.place`` accepts.
    """
    rules = tuple(rules)
    placed = list(demands) if placed_ids is None else [d for d in demands if d.id in placed_ids]
    usable = _usable(hosts)
    lp, _ = configuration_lp_bound(usable, placed, rules, time_budget_s)
    return {
        "volume": volume_bound(usable, placed),
        "anti_affinity": anti_affinity_bound(placed, rules),
        "configuration_lp": lp,
    }
