"""The contract every placement strategy keeps (Watcher's strategies), and the greedy loop.

A strategy has a ``name``, a ``score(state, item, hosts)`` (lower is better; the
explanation reports it for the chosen host) and ``run(state, work)`` that places the
problem's items into ``state``. Most strategies are the same greedy loop — items in
decreasing size, each onto the best-scored host every filter keeps — with their own
score; the default one improves on it afterwards.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from nfvo.optimizer.filters import candidates
from nfvo.optimizer.problem import Item, Problem, State


@dataclass
class Work:
    """How much improvement a strategy may do: a deterministic effort count first (same
    input and budget, same answer), a wall-clock deadline as a safety net only."""

    budget_s: float
    deadline: float

    @classmethod
    def start(cls, budget_s: float) -> Work:
        return cls(budget_s, time.perf_counter() + 3 * budget_s + 0.05)

    def over(self) -> bool:
        return time.perf_counter() > self.deadline


@runtime_checkable
class Strategy(Protocol):
    """Where items go: a host score and a run over the whole problem."""

    name: str

    def score(self, state: State, item: Item, hosts: np.ndarray) -> np.ndarray:
        """Score of putting ``item`` on each of ``hosts`` (indexes); lower is better."""
        ...

    def run(self, state: State, work: Work) -> None:
        """Place every item it can into ``state``."""
        ...


def decreasing(problem: Problem) -> list[Item]:
    """Items by decreasing size: largest share of the biggest host on any dimension, then
    the sum of shares, then the first demand id (so ties never depend on input order)."""
    if not problem.items:
        return []
    biggest = np.maximum(problem.total.max(axis=0) if problem.n_hosts else np.ones(3), 1e-12)
    shares = np.array([it.size for it in problem.items]) / biggest
    keys = [
        (-float(s.max()), -float(s.sum()), it.ids[0])
        for s, it in zip(shares, problem.items, strict=True)
    ]
    order = sorted(range(len(keys)), key=keys.__getitem__)
    return [problem.items[i] for i in order]


def greedy(state: State, items: list[Item], strategy: Strategy) -> None:
    """Each item (not conflicting) onto the best-scored host that every filter keeps;
    ties go to the first host by name."""
    for item in items:
        if item.conflict is not None:
            continue
        hosts = np.flatnonzero(candidates(item, state))
        if hosts.size == 0:
            continue
        scores = strategy.score(state, item, hosts)
        state.put(item, int(hosts[int(np.argmin(scores))]))


class GreedyStrategy:
    """A strategy that is only the greedy loop with its own score."""

    name = "greedy"

    def score(self, state: State, item: Item, hosts: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def run(self, state: State, work: Work) -> None:
        greedy(state, decreasing(state.problem), self)
