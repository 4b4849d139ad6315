"""The placement as a mixed-integer program, solved by HiGHS: the optimum when it proves one.

Variables: ``y[h]`` (host h used) and ``x[i,h]`` (item i on host h) for the pairs the
demand-only filters and the empty-host capacity allow. Rows: each item on exactly one
host; per host and dimension ``sum size * x <= free * y``; host-scope anti-affinity at most
one member per host, zone-scope at most one per zone; zone-scope affinity through one
``w[r,z]`` per rule and zone (``sum_z w = 1``, members only in the chosen zone). Host-scope
affinity members are one item already. Minimise ``sum y``.

Identical hosts (same free room, total and zone, named by no pin or exclusion) are
interchangeable, so each class keeps only as many hosts as the heuristic's answer uses
(``sum y`` is capped at it too), uses them in order (``y[k] >= y[k+1]``) and the j-th item
(largest first) may only go to the first j+1 hosts of a class: an optimal solution with
the hosts of each class ordered by their first item keeps all of that. The heuristic's
answer, relabelled to that order, is the starting incumbent.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import highspy
import numpy as np

from nfvo.optimizer.filters import static_mask
from nfvo.optimizer.filters.capacity import fits
from nfvo.optimizer.highs import solver
from nfvo.optimizer.model import Demand, HostCapacity, PlacementRule
from nfvo.optimizer.problem import Item, Problem, State
from nfvo.optimizer.volume import item_bound

INF = highspy.kHighsInf


@dataclass
class ExactResult:
    """What the MIP proved: the best assignment found, its hosts, the proven lower bound.

    ``status``: ``optimal`` (objective proven minimal), ``feasible`` (a solution, not proven
    minimal in the time), ``infeasible`` (proven: not every demand can be placed), ``timeout``
    (no solution found in the time).
    """

    assignments: dict[str, str]
    objective: float
    dual_bound: float
    status: str
    solve_time_s: float
    variables: int = 0


@dataclass
class _Coo:
    rows: list[np.ndarray] = field(default_factory=list)
    cols: list[np.ndarray] = field(default_factory=list)
    vals: list[np.ndarray] = field(default_factory=list)
    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)

    def row(self, cols: np.ndarray, vals: np.ndarray, lo: float, hi: float) -> None:
        self.rows.append(np.full(len(cols), len(self.lower), dtype=np.int64))
        self.cols.append(np.asarray(cols, dtype=np.int64))
        self.vals.append(np.asarray(vals, dtype=float))
        self.lower.append(lo)
        self.upper.append(hi)


class _Model:
    """Columns and rows of the MIP for one problem (see the module docstring)."""

    def __init__(self, problem: Problem, ub: int | None) -> None:
        from nfvo.optimizer.strategies.base import decreasing

        p = self.p = problem
        self.order = [it for it in decreasing(p) if it.conflict is None]
        self.rank = {it.index: j for j, it in enumerate(self.order)}
        self._classes(ub)
        self._columns()

    def _classes(self, ub: int | None) -> None:
        p = self.p
        named = {n for it in p.items for n in (it.host, *it.exclude_hosts) if n is not None}
        classes: dict[tuple, list[int]] = {}
        for h in np.flatnonzero(p.schedulable):
            h = int(h)
            key = (
                ("named", h)
                if p.names[h] in named
                else (tuple(p.free0[h]), tuple(p.total[h]), p.hosts[h].zone)
            )
            classes.setdefault(key, []).append(h)
        self.pos = np.full(p.n_hosts, -1, dtype=np.int64)
        self.classes = []
        for members in classes.values():
            kept = members[: ub if ub is not None else len(members)]
            self.pos[kept] = np.arange(len(kept))
            self.classes.append(kept)
        self.hosts = np.flatnonzero(self.pos >= 0)
        self.ycol = np.full(p.n_hosts, -1, dtype=np.int64)
        self.ycol[self.hosts] = np.arange(len(self.hosts))

    def _columns(self) -> None:
        p = self.p
        state = State(p)
        items, hosts = [], []
        kept = self.pos >= 0
        for j, it in enumerate(self.order):
            allowed = static_mask(it, state) & fits(p.free0, it.size) & kept & (self.pos <= j)
            idx = np.flatnonzero(allowed)
            items.append(np.full(len(idx), j, dtype=np.int64))
            hosts.append(idx)
        self.x_item = np.concatenate(items) if items else np.zeros(0, dtype=np.int64)
        self.x_host = np.concatenate(hosts) if hosts else np.zeros(0, dtype=np.int64)
        self.n_y = len(self.hosts)
        self.n_x = len(self.x_item)
        self.w_cols: dict[tuple[int, str], int] = {}
        for r in p.rules:
            if r.kind == "affinity" and r.scope == "zone" and r.members:
                for zone in p.zones:
                    self.w_cols[(r.index, zone)] = self.n_y + self.n_x + len(self.w_cols)
        self.n_cols = self.n_y + self.n_x + len(self.w_cols)

    def rows(self, ub: int | None) -> _Coo:
        p, coo = self.p, _Coo()
        xcols = self.n_y + np.arange(self.n_x)
        by_item = np.argsort(self.x_item, kind="stable")
        starts = np.searchsorted(self.x_item[by_item], np.arange(len(self.order) + 1))
        for j in range(len(self.order)):
            cols = xcols[by_item[starts[j] : starts[j + 1]]]
            coo.row(cols, np.ones(len(cols)), 1.0, 1.0)
        sizes = np.array([it.size for it in self.order]).reshape(-1, 3)
        by_host = np.argsort(self.x_host, kind="stable")
        hstarts = np.searchsorted(self.x_host[by_host], np.arange(p.n_hosts + 1))
        for h in self.hosts:
            sel = by_host[hstarts[h] : hstarts[h + 1]]
            linked = False
            for d in range(3):
                need = sizes[self.x_item[sel], d]
                if need.sum() <= 0 or (linked and need.sum() <= p.free0[h, d] + 1e-9):
                    continue  # a row that binds nothing (one per host links x to y)
                linked = True
                cols = np.append(xcols[sel], self.ycol[h])
                coo.row(cols, np.append(need, -p.free0[h, d]), -INF, 0.0)
            zero = sel[sizes[self.x_item[sel]].sum(axis=1) <= 0]
            for c in zero:
                coo.row(np.array([xcols[c], self.ycol[h]]), np.array([1.0, -1.0]), -INF, 0.0)
        for members in self.classes:
            for a, b in zip(members, members[1:], strict=False):
                coo.row(self.ycol[[a, b]], np.array([1.0, -1.0]), 0.0, INF)
        if ub is not None:
            coo.row(np.arange(self.n_y), np.ones(self.n_y), -INF, float(ub))
        self._rule_rows(coo, xcols)
        return coo

    def _rule_rows(self, coo: _Coo, xcols: np.ndarray) -> None:
        p = self.p
        for r in p.rules:
            if r.kind == "affinity" and r.scope == "host":
                continue
            ranks = {self.rank.get(it.index) for it in p.items if r.index in it.rules}
            ranks.discard(None)
            sel = np.flatnonzero(np.isin(self.x_item, list(ranks)))
            if r.kind == "anti_affinity":
                keys = self.x_host[sel] if r.scope == "host" else p.zone_of[self.x_host[sel]]
                for key in np.unique(keys):
                    cols = xcols[sel[keys == key]]
                    if len(cols) > 1:
                        coo.row(cols, np.ones(len(cols)), -INF, 1.0)
                continue
            if not ranks:
                continue
            w = [self.w_cols[(r.index, z)] for z in p.zones]
            coo.row(np.array(w), np.ones(len(w)), 1.0, 1.0)
            zones = p.zone_of[self.x_host[sel]]
            for j in ranks:
                for k, zone in enumerate(p.zones):
                    cols = xcols[sel[(self.x_item[sel] == j) & (zones == k)]]
                    wc = self.w_cols[(r.index, zone)]
                    coo.row(np.append(cols, wc), np.append(np.ones(len(cols)), -1.0), -INF, 0.0)

    def lp(self, ub: int | None) -> highspy.HighsLp:
        coo = self.rows(ub)
        rows = np.concatenate(coo.rows) if coo.rows else np.zeros(0, dtype=np.int64)
        cols = np.concatenate(coo.cols) if coo.cols else np.zeros(0, dtype=np.int64)
        vals = np.concatenate(coo.vals) if coo.vals else np.zeros(0)
        order = np.argsort(rows, kind="stable")
        lp = highspy.HighsLp()
        lp.num_col_ = self.n_cols
        lp.num_row_ = len(coo.lower)
        lp.col_cost_ = np.concatenate([np.ones(self.n_y), np.zeros(self.n_cols - self.n_y)])
        lp.col_lower_ = np.zeros(self.n_cols)
        lp.col_upper_ = np.ones(self.n_cols)
        lp.row_lower_ = np.array(coo.lower, dtype=float)
        lp.row_upper_ = np.array(coo.upper, dtype=float)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.start_ = np.searchsorted(rows[order], np.arange(lp.num_row_ + 1)).astype(
            np.int32
        )
        lp.a_matrix_.index_ = cols[order].astype(np.int32)
        lp.a_matrix_.value_ = vals[order]
        lp.integrality_ = [highspy.HighsVarType.kInteger] * self.n_cols
        return lp

    def start(self, incumbent: Mapping[int, int]) -> np.ndarray | None:
        """The incumbent relabelled to the class order, as column values (None: no fit)."""
        p = self.p
        relabel: dict[int, int] = {}
        for members in self.classes:
            first: dict[int, int] = {}
            member_set = set(members)
            for index, h in incumbent.items():
                if h in member_set:
                    first[h] = min(first.get(h, 1 << 30), self.rank[index])
            for k, h in enumerate(sorted(first, key=first.__getitem__)):
                if k >= len(members):
                    return None
                relabel[h] = members[k]
        value = np.zeros(self.n_cols)
        col = {
            (int(j), int(h)): c
            for c, (j, h) in enumerate(zip(self.x_item, self.x_host, strict=True))
        }
        for index, h in incumbent.items():
            if h not in relabel:
                return None
            target = relabel[h]
            c = col.get((self.rank[index], target))
            if c is None:
                return None
            value[self.n_y + c] = 1.0
            value[self.ycol[target]] = 1.0
        for (r, zone), c in self.w_cols.items():
            members = [it for it in p.items if r in it.rules and it.index in incumbent]
            if members and p.hosts[relabel[incumbent[members[0].index]]].zone == zone:
                value[c] = 1.0
            elif not members and zone == p.zones[0]:
                value[c] = 1.0
        return value


def _solve(
    model: _Model,
    ub: int | None,
    incumbent: Mapping[int, int] | None,
    time_limit_s: float,
    max_nodes: int | None,
) -> tuple[str, dict[int, int] | None, float]:
    h = solver(time_limit=max(0.01, float(time_limit_s)), mip_rel_gap=0.0, mip_abs_gap=0.99)
    if max_nodes is not None:
        h.setOptionValue("mip_max_nodes", int(max_nodes))
    h.passModel(model.lp(ub))
    if incumbent is not None:
        value = model.start(incumbent)
        if value is not None:
            sol = highspy.HighsSolution()
            sol.col_value = list(value)
            h.setSolution(sol)
    h.run()
    status = h.getModelStatus()
    info = h.getInfo()
    dual = float(info.mip_dual_bound) if np.isfinite(info.mip_dual_bound) else 0.0
    if status == highspy.HighsModelStatus.kInfeasible:
        return "infeasible", None, dual
    if info.primal_solution_status != 2:
        return "timeout", None, dual
    x = np.asarray(h.getSolution().col_value)[model.n_y : model.n_y + model.n_x]
    chosen = np.flatnonzero(x > 0.5)
    assignment = {model.order[int(model.x_item[c])].index: int(model.x_host[c]) for c in chosen}
    if len(assignment) != len(model.order):
        return "timeout", None, dual
    return (
        ("optimal" if status == highspy.HighsModelStatus.kOptimal else "feasible"),
        (assignment),
        dual,
    )


def solve_items(
    problem: Problem,
    incumbent: Mapping[int, int],
    time_limit_s: float,
    max_nodes: int | None = None,
    max_columns: int | None = None,
) -> dict[int, int] | None:
    """A better assignment (item index -> host index) than ``incumbent``, or None (also
    when the model would have more than ``max_columns`` variables)."""
    ub = len(set(incumbent.values()))
    model = _Model(problem, ub)
    if max_columns is not None and model.n_cols > max_columns:
        return None
    _, found, _ = _solve(model, ub, incumbent, time_limit_s, max_nodes)
    return found


def _heuristic(problem: Problem, time_limit_s: float) -> dict[int, int] | None:
    """The default strategy's answer (item index -> host index), None when incomplete."""
    from nfvo.optimizer.strategies.balanced_fit import BalancedFit
    from nfvo.optimizer.strategies.base import Work

    state = State(problem)
    BalancedFit().run(state, Work.start(min(1.0, time_limit_s / 10)))
    if any(h < 0 for h in state.host_of):
        return None
    return dict(enumerate(state.host_of))


def solve_exact(
    hosts: Sequence[HostCapacity],
    demands: Sequence[Demand],
    rules: Iterable[PlacementRule] = (),
    time_limit_s: float = 60.0,
) -> ExactResult:
    """Place every demand on the fewest hosts, proven minimal when HiGHS closes the gap
    within ``time_limit_s`` (see the module docstring for the model)."""
    start = time.perf_counter()
    problem = Problem(hosts, demands, rules)
    if any(it.conflict for it in problem.items):
        return ExactResult({}, 0.0, 0.0, "infeasible", time.perf_counter() - start)
    if not problem.items:
        return ExactResult({}, 0.0, 0.0, "optimal", time.perf_counter() - start)
    incumbent = _heuristic(problem, time_limit_s)
    bound = item_bound(problem, problem.items)
    ub = len(set(incumbent.values())) if incumbent else None
    model = _Model(problem, ub)
    if ub is not None and ub <= bound:
        status, found, dual = "optimal", incumbent, float(ub)
    else:
        left = time_limit_s - (time.perf_counter() - start)
        status, found, dual = _solve(model, ub, incumbent, left, None)
        if found is None and incumbent is not None:
            status, found = "feasible", incumbent
    assignments = {}
    for index, h in (found or {}).items():
        assignments.update((d, problem.names[h]) for d in problem.items[index].ids)
    objective = float(len(set(found.values()))) if found else 0.0
    dual = max(float(np.ceil(dual - 1e-6)), bound) if status != "infeasible" else dual
    if status == "optimal" and found:
        dual = objective  # the gap closed below one host: the objective is the optimum
    if found and dual >= objective:
        status = "optimal"
    return ExactResult(
        assignments,
        objective,
        min(dual, objective) if found else dual,
        status,
        time.perf_counter() - start,
        model.n_cols,
    )


__all__ = ["ExactResult", "Item", "solve_exact", "solve_items"]
