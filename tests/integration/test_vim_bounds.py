"""Bounded VIM configs and the end of a VIM account's background work (issue 12, item 3).

Every size a VIM config can name is refused beyond its limit with a 400 naming the field,
before anything is expanded or allocated; deleting an account ends its check/sync at once;
SIGTERM stops the server promptly while such work sleeps. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
from tests.support.live import LiveApi
from tests.support.proc import Server

from nfvo.vim.sim.config import MAX_HOSTS, MAX_ZONES

VIMS = "/admin/v1/vim_accounts"


def _sim(config: dict) -> dict:
    return {"name": "hostile", "vim_type": "sim", "config": config}


HOSTILE: list[tuple[dict, str]] = [
    (_sim({"zones": 10_000_000}), "config.zones"),
    (_sim({"zones": [{"name": f"z{i}"} for i in range(1001)]}), "config.zones"),
    (_sim({"hosts": 10**9}), "config.hosts"),
    (_sim({"host_defaults": {"vcpus": 10**30}}), "config.host_defaults.vcpus"),
    (_sim({"host_defaults": {"ram_mib": 2**62}}), "config.host_defaults.ram_mib"),
    (_sim({"host_defaults": {"cpu_allocation_ratio": 1e300}}), "cpu_allocation_ratio"),
    (
        _sim({"hosts": [{"name": "h1", "disk_gib": 2**63}]}),
        "config.hosts[0].disk_gib",
    ),
    (
        _sim(
            {
                "flavors": [
                    {"name": f"f{i}", "vcpus": 1, "ram_mib": 1, "disk_gib": 1} for i in range(1001)
                ]
            }
        ),
        "config.flavors",
    ),
    (_sim({"flavors": [{"name": "f", "vcpus": 2**40, "ram_mib": 1, "disk_gib": 1}]}), "vcpus"),
    (_sim({"networks": [{"name": f"n{i}"} for i in range(1001)]}), "config.networks"),
    (_sim({"networks": [{"name": "n", "cidr": "1" * 100}]}), "config.networks[0].cidr"),
    (_sim({"images": [{"name": "i", "size_bytes": 2**64}]}), "config.images[0].size_bytes"),
    (_sim({"images": [{"name": "i", "disk_format": "q" * 1000}]}), "disk_format"),
    (_sim({"quota": {"servers": 2**64}}), "config.quota.servers"),
    (_sim({"latency_ms": {"check": 1e12}}), "config.latency_ms.check"),
    (_sim({"latency_ms": {"server_boot": 1e15}}), "config.latency_ms.server_boot"),
    (_sim({"jitter": 5}), "config.jitter"),
    (_sim({"seed": 2**70}), "config.seed"),
    (_sim({"load": {"period_s": 1e300}}), "config.load.period_s"),
    (_sim({"faults": {"server_boot": {"message": "m" * 5000}}}), "message"),
    (
        _sim({"faults": {"hosts": {f"h{i}": {"fail_after_s": 1} for i in range(1001)}}}),
        "config.faults.hosts",
    ),
    (_sim({"faults": {"hosts": {"host-0001": {"fail_after_s": 1e300}}}}), "fail_after_s"),
    (_sim({"auth": {"user": "u", "password": "p" * 5000}}), "config.auth.password"),
    (
        {"name": "os", "vim_type": "openstack", "config": {"request_timeout": 1e9}},
        "config.request_timeout",
    ),
    (
        {"name": "os", "vim_type": "openstack", "config": {"region_name": "r" * 1000}},
        "config.region_name",
    ),
    (
        {"name": "k", "vim_type": "kubernetes", "config": {"connect_timeout": 1e9}},
        "config.connect_timeout",
    ),
    (
        {"name": "k", "vim_type": "kubernetes", "config": {"default_image": "i" * 5000}},
        "config.default_image",
    ),
]

# A kubeconfig whose aliases expand exponentially (each level doubles the previous one).
_LAUGHS = "a: &a [x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(24)
)
HOSTILE.append(
    ({"name": "k", "vim_type": "kubernetes", "config": {"kubeconfig": _LAUGHS}}, "kubeconfig")
)


def _rss() -> int:
    return psutil.Process().memory_info().rss


@pytest.mark.parametrize("body, field", HOSTILE, ids=[f for _, f in HOSTILE])
def test_hostile_vim_config_refused_naming_the_field(live: LiveApi, body: dict, field: str) -> None:
    before = _rss()
    t0 = time.monotonic()
    r = live.client.post(VIMS, json=body)
    elapsed = time.monotonic() - t0
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert field in r.json()["detail"], r.json()
    # A ceiling, not a speed figure: doing the work (10 million zones, an exponential
    # kubeconfig) takes minutes; refusing it takes milliseconds even on a loaded CI runner.
    assert elapsed < 30.0, f"refusal took {elapsed:.2f} s: the hostile config was processed"
    assert _rss() - before < 64 << 20, "validation grew the server's memory"
    assert live.client.get(VIMS).json() == []


def test_infinite_latency_refused(live: LiveApi) -> None:
    raw = '{"name": "inf", "vim_type": "sim", "config": {"latency_ms": {"check": Infinity}}}'
    r = live.client.post(VIMS, content=raw, headers={"Content-Type": "application/json"})
    assert 400 <= r.status_code < 500, r.text
    assert live.client.get(VIMS).json() == []


def test_hostile_patch_refused(live: LiveApi) -> None:
    r = live.client.post(VIMS, json=_sim({"hosts": 2}))
    assert r.status_code == 201
    vim_id = r.json()["id"]
    r = live.client.patch(f"{VIMS}/{vim_id}", json={"config": {"latency_ms": {"list": 1e15}}})
    assert r.status_code == 400, r.text
    assert "config.latency_ms.list" in r.json()["detail"]


def test_largest_allowed_topology_stays_bounded(live: LiveApi) -> None:
    """The biggest expansion a config may ask for: registered, checked and synced in a
    bounded time and memory (the server's peak RSS sampled in this process, where it runs)."""
    assert MAX_HOSTS == 10_000 and MAX_ZONES == 1000
    before = _rss()
    peak = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.01):
            peak[0] = max(peak[0], _rss())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t0 = time.monotonic()
    try:
        r = live.client.post(VIMS, json=_sim({"hosts": MAX_HOSTS, "zones": MAX_ZONES}))
        assert r.status_code == 201, r.text
        vim_id = r.json()["id"]
        while live.client.get(f"{VIMS}/{vim_id}").json()["_admin"]["operationalState"] == (
            "PROCESSING"
        ):
            assert time.monotonic() - t0 < 30, "largest VIM still PROCESSING"
            time.sleep(0.05)
    finally:
        done.set()
        sampler.join()
    grown = peak[0] - before
    assert grown < 100 << 20, f"server RSS peaked {grown >> 20} MiB above its start"
    state = live.client.get(f"{VIMS}/{vim_id}").json()["_admin"]["operationalState"]
    assert state == "ENABLED"


def _sleeping_threads() -> int:
    """Threads of this process inside a sim VIM latency sleep."""
    count = 0
    for frame in sys._current_frames().values():
        while frame is not None:
            if frame.f_code.co_filename.endswith("interrupts.py") and frame.f_code.co_name == (
                "sleep"
            ):
                count += 1
                break
            frame = frame.f_back
    return count


def test_delete_ends_background_check_promptly(live: LiveApi) -> None:
    r = live.client.post(VIMS, json=_sim({"hosts": 2, "latency_ms": {"check": 60_000}}))
    assert r.status_code == 201, r.text
    vim_id = r.json()["id"]
    deadline = time.monotonic() + 10
    while _sleeping_threads() == 0:
        assert time.monotonic() < deadline, "the background check never started"
        time.sleep(0.02)
    t0 = time.monotonic()
    assert live.client.delete(f"{VIMS}/{vim_id}").status_code == 204
    while _sleeping_threads():
        assert time.monotonic() - t0 < 3, "background check still running after DELETE"
        time.sleep(0.02)
    assert live.client.get(f"{VIMS}/{vim_id}").status_code == 404
    assert not list((live.data_dir / "sim").glob(f"{vim_id}.db*"))


def test_runtime_stop_ends_background_check(live: LiveApi) -> None:
    r = live.client.post(VIMS, json=_sim({"hosts": 2, "latency_ms": {"check": 60_000}}))
    assert r.status_code == 201
    vim_id = r.json()["id"]
    deadline = time.monotonic() + 10
    while _sleeping_threads() == 0:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    live.services.resources.stop_background()
    t0 = time.monotonic()
    while _sleeping_threads():
        assert time.monotonic() - t0 < 3, "background check still running after stop"
        time.sleep(0.02)
    # not marked ERROR for being interrupted: the next start checks it again
    state = live.client.get(f"{VIMS}/{vim_id}").json()["_admin"]["operationalState"]
    assert state == "PROCESSING"
    live.services.resources.resume_background()


def test_sigterm_stops_server_while_vim_check_sleeps(tmp_path: Path) -> None:
    srv = Server(tmp_path / "d", {"NFVO_DATABASE_URL": "", "NFVO_ADMIN_PASSWORD": "pw-sigterm-1"})
    srv.start()
    try:
        with srv.client("admin", "pw-sigterm-1") as c:
            body = _sim({"hosts": 2, "latency_ms": {"check": 60_000, "list": 60_000}})
            assert c.post(VIMS, json=body).status_code == 201
        time.sleep(1.0)  # the background check is now asleep in its simulated latency
        assert srv.proc is not None
        t0 = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)
        srv.proc.wait(20)
        assert time.monotonic() - t0 < 10, "SIGTERM took too long"
    finally:
        srv.kill()
