"""The brute-force guard of the token endpoint: failure buckets, bounded state, the source
address behind proxies, and the bounded hashing pool."""

from __future__ import annotations

import asyncio
import threading

import pytest

from nfvo.auth.limits import (
    AuthenticationBusy,
    FailureLimiter,
    LoginGuard,
    parse_networks,
    source_address,
)
from nfvo.config import Settings, SettingsError


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_key_is_refused_after_its_failures_and_regains_attempts_over_time() -> None:
    clock = Clock()
    lim = FailureLimiter(6, clock=clock)  # 6 a minute: one back every 10 s
    for _ in range(6):
        assert lim.retry_after("k") == 0
        lim.failed("k")
    assert lim.retry_after("k") == pytest.approx(10.0)
    assert lim.retry_after("other") == 0
    clock.now += 4
    assert lim.retry_after("k") == pytest.approx(6.0)
    clock.now += 6
    assert lim.retry_after("k") == 0
    lim.failed("k")
    assert lim.retry_after("k") == pytest.approx(10.0)
    lim.refund("k")
    assert lim.retry_after("k") == 0
    lim.failed("k")
    lim.reset("k")
    assert lim.retry_after("k") == 0


def test_the_state_is_bounded_whatever_the_number_of_keys() -> None:
    lim = FailureLimiter(1, max_keys=100)
    for i in range(10_000):
        lim.failed(f"k{i}")
    assert len(lim) == 100
    assert lim.retry_after("k9999") > 0  # the most recent failures are the ones kept


@pytest.mark.parametrize(
    ("peer", "xff", "trusted", "expected"),
    [
        ("203.0.113.5", None, (), "203.0.113.5"),
        ("203.0.113.5", "198.51.100.7", (), "203.0.113.5"),  # untrusted peer: header ignored
        ("127.0.0.1", "198.51.100.7", (), "127.0.0.1"),  # not even from loopback by default
        ("10.0.0.2", "198.51.100.7", ("10.0.0.0/8",), "198.51.100.7"),
        # a client prepending a fake hop: the rightmost untrusted entry counts
        ("10.0.0.2", "1.2.3.4, 198.51.100.7", ("10.0.0.0/8",), "198.51.100.7"),
        # a chain of trusted proxies is walked through
        ("10.0.0.2", "198.51.100.7, 10.0.0.9", ("10.0.0.0/8",), "198.51.100.7"),
        # garbage stops the walk at the last good hop
        ("10.0.0.2", "198.51.100.7, junk", ("10.0.0.0/8",), "10.0.0.2"),
        ("2001:db8::1", None, (), "2001:db8::/64"),
        ("2001:db8::1:2:3:4", None, (), "2001:db8::/64"),
        ("not-an-ip", None, (), "not-an-ip"),
        (None, None, (), "unknown"),
    ],
)
def test_source_address(peer: str | None, xff: str | None, trusted: tuple, expected: str) -> None:
    assert source_address(peer, xff, parse_networks(trusted)) == expected


def test_trusted_proxies_must_be_addresses() -> None:
    with pytest.raises(ValueError, match="'proxy.example'"):
        parse_networks(["10.0.0.1", "proxy.example"])
    with pytest.raises(SettingsError, match="NFVO_TRUSTED_PROXIES"):
        Settings(trusted_proxies=("nope",)).validate()
    with pytest.raises(SettingsError, match="login_failures_per_client"):
        Settings(login_failures_per_client=0).validate()


def test_settings_read_the_guard_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NFVO_TRUSTED_PROXIES", "10.0.0.1, 192.0.2.0/24")
    monkeypatch.setenv("NFVO_LOGIN_FAILURES_PER_CLIENT", "4")
    monkeypatch.setenv("NFVO_LOGIN_FAILURES_PER_ADDRESS", "9")
    s = Settings.from_env()
    assert s.trusted_proxies == ("10.0.0.1", "192.0.2.0/24")
    assert (s.login_failures_per_client, s.login_failures_per_address) == (4, 9)
    monkeypatch.setenv("NFVO_LOGIN_FAILURES_PER_ADDRESS", "many")
    with pytest.raises(SettingsError, match="NFVO_LOGIN_FAILURES_PER_ADDRESS"):
        Settings.from_env()


def test_retry_after_is_whole_seconds_for_the_stricter_of_client_and_address() -> None:
    guard = LoginGuard(per_client=2, per_address=60)
    assert guard.retry_after("c", "a") == 0
    guard.attempt("c", "a")
    guard.attempt("c", "a")
    assert guard.retry_after("c", "a") == 30  # 2 a minute: one back in 30 s
    assert guard.retry_after("other", "a") == 0
    guard.succeeded("c", "a")
    assert guard.retry_after("c", "a") == 0
    assert guard.addresses.retry_after("a") == 0 and len(guard.addresses) == 1
    guard.attempt("c", "a")
    guard.attempt("c", "a")
    guard.refund("c", "a")  # a check that never ran gives back one attempt, no more
    assert guard.retry_after("c", "a") == 0
    guard.attempt("c", "a")
    assert guard.retry_after("c", "a") == 30
    guard.close()


def test_hashing_runs_on_a_bounded_pool_and_a_full_queue_is_refused() -> None:
    guard = LoginGuard(workers=1, max_pending=2)
    release = threading.Event()
    seen: list[str] = []

    def slow(tag: str) -> str:
        seen.append(threading.current_thread().name)
        release.wait(5)
        return tag

    async def main() -> list[object]:
        first = asyncio.ensure_future(guard.run(slow, "a"))
        second = asyncio.ensure_future(guard.run(slow, "b"))
        await asyncio.sleep(0.05)
        with pytest.raises(AuthenticationBusy):
            await guard.run(slow, "c")
        release.set()
        return list(await asyncio.gather(first, second))

    assert asyncio.run(main()) == ["a", "b"]
    assert all(name.startswith("nfvo-auth") for name in seen)
    guard.close()


def test_huge_client_ids_keep_the_state_small() -> None:
    guard = LoginGuard(per_client=1, per_address=1000)
    for i in range(50):
        guard.attempt("x" * 200 + str(i), "a")
    assert len(guard.clients) == 1  # all beyond 128 characters share one small key
    assert guard.retry_after("x" * 300, "a") > 0
    assert guard.retry_after("x" * 128, "a") == 0
    guard.close()
