"""Acceptance: concurrent creates against one sim VIM never oversubscribe a host.

Many threads (and two processes), each with its own driver instance on the same vim_id as
separate API requests would have, race to create more servers than fit. Exactly the
capacity must succeed, every refusal must be ``VimCapacityExceeded``, and no host may end
up over its capacity, whether read from ``list_hosts`` or recomputed from ``list_servers``.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from nfvo.vim.base import ServerSpec, VimDriver, VimError

THREADS, CREATES_PER_THREAD = 8, 200
HOSTS, HOST_VCPUS = 10, 16  # m1.tiny is 1 vCPU / 512 MiB / 1 GiB: 160 fit
PROCESSES, CREATES_PER_PROCESS = 2, 100
PROC_HOSTS, PROC_HOST_VCPUS = 2, 40  # 80 fit


def _config(hosts: int, vcpus: int) -> dict[str, Any]:
    return {
        "zones": 2,
        "hosts": hosts,
        "host_defaults": {"vcpus": vcpus, "ram_mib": 65536, "disk_gib": 1000},
        "seed": 3,
    }


def open_driver(data_dir: Path, vim_id: str, config: dict[str, Any]) -> VimDriver:
    """A new driver instance on the shared sim VIM ``vim_id``."""
    from nfvo.vim.registry import create_driver, validate_config

    return create_driver(
        "sim",
        vim_id=vim_id,
        vim_url=None,
        vim_user=None,
        vim_password=None,
        vim_tenant_name=None,
        config=validate_config("sim", dict(config)),
        data_dir=data_dir,
    )


def spec(key: str) -> ServerSpec:
    """A 1-vCPU server."""
    return ServerSpec(key=key, name=key, image="cirros", flavor="m1.tiny")


def create_many(driver: VimDriver, prefix: str, count: int) -> tuple[list[str], Counter[str]]:
    """Create ``count`` servers; the ids that succeeded and the failures by exception type."""
    ids: list[str] = []
    failures: Counter[str] = Counter()
    for i in range(count):
        try:
            ids.append(driver.create_server(spec(f"{prefix}-{i}")).id)
        except VimError as exc:
            name = type(exc).__name__
            # anything but a capacity refusal is kept with its words, for the failure report
            failures[name if name == "VimCapacityExceeded" and str(exc) else f"{name}: {exc}"] += 1
        except Exception as exc:  # noqa: BLE001 - a bare exception is what this test catches
            failures[f"bare {type(exc).__name__}: {exc}"] += 1
    return ids, failures


def assert_no_host_over_capacity(driver: VimDriver, expected_servers: int) -> None:
    """Host usage within capacity, and equal to the sum over the servers placed there."""
    servers = [s for s in driver.list_servers() if s.status != "DELETED"]
    assert len(servers) == expected_servers
    vcpus: dict[str, int] = defaultdict(int)
    ram: dict[str, int] = defaultdict(int)
    count: Counter[str] = Counter()
    for s in servers:
        assert s.host is not None
        vcpus[s.host] += s.vcpus
        ram[s.host] += s.ram_mib
        count[s.host] += 1
    for h in driver.list_hosts():
        assert h.vcpus_used <= h.vcpus * h.cpu_allocation_ratio, h
        assert h.ram_mib_used <= h.ram_mib * h.ram_allocation_ratio, h
        assert vcpus[h.name] <= h.vcpus * h.cpu_allocation_ratio, (h.name, vcpus[h.name])
        assert (h.vcpus_used, h.ram_mib_used, h.servers) == (
            vcpus[h.name],
            ram[h.name],
            count[h.name],
        ), h


def _run_threads(target: Any, n: int) -> None:
    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a creating thread hung"


def test_first_use_by_concurrent_drivers_is_not_an_error(tmp_path: Path) -> None:
    """Drivers of separate requests may all touch a just-registered VIM at once."""
    config = _config(2, 4)
    errors: list[str] = []
    for round_ in range(30):
        barrier = threading.Barrier(THREADS)

        def work(i: int, vim_id: str = f"fresh-{round_}", barrier: Any = barrier) -> None:
            driver = open_driver(tmp_path, vim_id, config)
            barrier.wait(timeout=60)
            try:
                driver.list_hosts()
                driver.create_server(spec(f"k{i}"))
            except Exception as exc:  # noqa: BLE001 - collected for the assertion
                errors.append(f"{type(exc).__name__}: {exc}")

        _run_threads(work, THREADS)
    assert errors == []


def test_threads_race_for_capacity(tmp_path: Path) -> None:
    config = _config(HOSTS, HOST_VCPUS)
    capacity = HOSTS * HOST_VCPUS
    open_driver(tmp_path, "race", config).check()  # registered (and checked) before the race
    barrier = threading.Barrier(THREADS)
    results: dict[int, tuple[list[str], Counter[str]]] = {}

    def work(i: int) -> None:
        driver = open_driver(tmp_path, "race", config)
        barrier.wait(timeout=60)
        results[i] = create_many(driver, f"t{i}", CREATES_PER_THREAD)
        driver.close()

    _run_threads(work, THREADS)
    assert len(results) == THREADS, "a thread died"
    ids = [sid for made, _ in results.values() for sid in made]
    failures = sum((f for _, f in results.values()), Counter())
    assert len(ids) == len(set(ids)) == capacity
    assert failures == Counter({"VimCapacityExceeded": THREADS * CREATES_PER_THREAD - capacity})
    checker = open_driver(tmp_path, "race", config)
    assert_no_host_over_capacity(checker, capacity)
    assert all(h.vcpus_used == HOST_VCPUS for h in checker.list_hosts())


def test_threads_race_on_one_idempotency_key(tmp_path: Path) -> None:
    config = _config(2, 4)
    open_driver(tmp_path, "same-key", config).check()
    barrier = threading.Barrier(THREADS)
    ids: dict[int, str] = {}
    errors: list[BaseException] = []

    def work(i: int) -> None:
        driver = open_driver(tmp_path, "same-key", config)
        barrier.wait(timeout=60)
        try:
            ids[i] = driver.create_server(spec("the-one-key")).id
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    _run_threads(work, THREADS)
    assert errors == []
    assert len(set(ids.values())) == 1 and len(ids) == THREADS
    checker = open_driver(tmp_path, "same-key", config)
    assert [s.id for s in checker.list_servers()] == [ids[0]]
    assert_no_host_over_capacity(checker, 1)


def _process_worker(
    data_dir: str, index: int, barrier: Any, queue: Any
) -> None:  # runs in a spawned child
    driver = open_driver(Path(data_dir), "procs", _config(PROC_HOSTS, PROC_HOST_VCPUS))
    barrier.wait(timeout=60)
    made, failures = create_many(driver, f"p{index}", CREATES_PER_PROCESS)
    queue.put((made, dict(failures)))


def test_two_processes_race_for_capacity(tmp_path: Path) -> None:
    open_driver(tmp_path, "procs", _config(PROC_HOSTS, PROC_HOST_VCPUS)).check()
    ctx = multiprocessing.get_context("spawn")
    barrier, queue = ctx.Barrier(PROCESSES), ctx.Queue()
    procs = [
        ctx.Process(target=_process_worker, args=(str(tmp_path), i, barrier, queue))
        for i in range(PROCESSES)
    ]
    for p in procs:
        p.start()
    results = [queue.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    capacity = PROC_HOSTS * PROC_HOST_VCPUS
    ids = [sid for made, _ in results for sid in made]
    failures = sum((Counter(f) for _, f in results), Counter())
    assert len(ids) == len(set(ids)) == capacity
    assert failures == Counter({"VimCapacityExceeded": PROCESSES * CREATES_PER_PROCESS - capacity})
    checker = open_driver(tmp_path, "procs", _config(PROC_HOSTS, PROC_HOST_VCPUS))
    assert_no_host_over_capacity(checker, capacity)
