"""The per-process LRU map: bounded, least recently used out first, computed once."""

from __future__ import annotations

from nfvo.lru import Lru


def test_least_recently_used_goes_first_and_size_is_bounded() -> None:
    lru = Lru(2)
    lru.put("a", 1)
    lru.put("b", 2)
    assert lru.get("a") == 1  # "a" is now the most recently used
    lru.put("c", 3)
    assert (lru.get("a"), lru.get("b"), lru.get("c")) == (1, None, 3)


def test_get_or_computes_once() -> None:
    lru, calls = Lru(4), []
    for _ in range(3):
        assert lru.get_or("k", lambda: calls.append(1) or "v") == "v"
    assert calls == [1]
