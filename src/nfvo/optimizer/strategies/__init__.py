"""Placement strategies, one per module, all keeping ``Strategy`` (see ``base``).

``STRATEGIES`` is the registry by name; ``DEFAULT_STRATEGY`` the one ``place()`` uses
when none is named: ``balanced_fit`` (fewest hosts), ``pack`` (fullest host first),
``spread`` (most free RAM first, Nova's default).
"""

from __future__ import annotations

from nfvo.optimizer.strategies.balanced_fit import BalancedFit
from nfvo.optimizer.strategies.base import Strategy, Work, decreasing, greedy
from nfvo.optimizer.strategies.pack import Pack
from nfvo.optimizer.strategies.spread import Spread

STRATEGIES: dict[str, Strategy] = {s.name: s for s in (BalancedFit(), Pack(), Spread())}
DEFAULT_STRATEGY = BalancedFit.name

__all__ = [
    "DEFAULT_STRATEGY",
    "STRATEGIES",
    "BalancedFit",
    "Pack",
    "Spread",
    "Strategy",
    "Work",
    "decreasing",
    "greedy",
]
