"""The sim VIM's state file shared by several threads and processes at once."""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from nfvo.vim.base import ServerSpec, VimCapacityExceeded
from nfvo.vim.sim import SimVim

CONFIG = {"zones": 2, "hosts": 4, "host_defaults": {"vcpus": 8, "ram_mib": 65536}}


def _fill(args: tuple[str, str]) -> dict[str, str]:
    """Create shared-key servers, then own servers until capacity runs out (child process)."""
    data_dir, worker = args
    vim = SimVim(vim_id="shared", config=CONFIG, data_dir=Path(data_dir))
    ids: dict[str, str] = {}
    try:
        for i in range(5):
            key = f"shared-{i}"
            ids[key] = vim.create_server(ServerSpec(key=key, name=key, flavor="m1.tiny")).id
        for i in range(30):
            key = f"{worker}-{i}"
            try:
                ids[key] = vim.create_server(ServerSpec(key=key, name=key, flavor="m1.tiny")).id
            except VimCapacityExceeded:
                ids[key] = "refused"
    finally:
        vim.close()
    return ids


def _assert_within_capacity(vim: SimVim) -> None:
    for host in vim.list_hosts():
        assert host.vcpus_used <= host.vcpus * host.cpu_allocation_ratio, host
    assert sum(h.vcpus_used for h in vim.list_hosts()) == 32  # every vCPU handed out once


def test_two_processes_share_one_file_without_oversubscribing(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        a, b = pool.map(_fill, [(str(tmp_path), "a"), (str(tmp_path), "b")])
    vim = SimVim(vim_id="shared", config=CONFIG, data_dir=tmp_path)
    try:
        servers = vim.list_servers()
        assert len(servers) == 32
        for i in range(5):  # the same key from both processes: one server, one id
            assert a[f"shared-{i}"] == b[f"shared-{i}"]
        assert len({s.name for s in servers}) == 32
        created = [v for v in (a | b).values() if v != "refused"]
        assert len(set(created)) == 32
        _assert_within_capacity(vim)
    finally:
        vim.close()


def test_threads_share_one_driver_without_oversubscribing(tmp_path: Path) -> None:
    vim = SimVim(vim_id="threads", config=CONFIG, data_dir=tmp_path)

    def create(i: int) -> str:
        key = f"k{i % 40}"  # every key requested by two threads
        try:
            return vim.create_server(ServerSpec(key=key, name=key, flavor="m1.tiny")).id
        except VimCapacityExceeded:
            return "refused"

    try:
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(create, range(80)))
        assert len(vim.list_servers()) == 32
        for i in range(40):  # both requests for one key agree
            assert results[i] == results[i + 40]
        _assert_within_capacity(vim)
    finally:
        vim.close()


def test_many_drivers_on_a_fresh_file_at_once(tmp_path: Path) -> None:
    barrier = threading.Barrier(8)
    errors: list[Exception] = []

    def first_use(i: int) -> None:
        vim = SimVim(vim_id="fresh", config=CONFIG, data_dir=tmp_path)
        barrier.wait(timeout=30)
        try:
            vim.create_server(ServerSpec(key=f"k{i}", name="x", flavor="m1.tiny"))
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)
        finally:
            vim.close()

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(first_use, range(8)))
    assert errors == []
    vim = SimVim(vim_id="fresh", config=CONFIG, data_dir=tmp_path)
    assert len(vim.list_servers()) == 8 and len(vim.list_hosts()) == 4
    vim.close()
