"""Ending a sim VIM's work: a deleted account ends every call of it, a stopping process ends
background calls (checks, syncs) only; a sleeping call wakes at once."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from nfvo.vim.sim import interrupts
from nfvo.vim.sim.driver import SimVim
from nfvo.vim.sim.interrupts import VimInterrupted


def _slow(tmp_path: Path, vim_id: str) -> SimVim:
    return SimVim(
        vim_id=vim_id, config={"hosts": 2, "latency_ms": {"check": 30_000}}, data_dir=tmp_path
    )


def _in_thread(fn, *, background: bool) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            if background:
                with interrupts.background():
                    fn()
            else:
                fn()
        except BaseException as exc:  # noqa: BLE001 - recorded for the test
            errors.append(exc)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, errors


def test_interrupt_wakes_a_sleeping_call_and_fails_later_ones(tmp_path: Path) -> None:
    vim = _slow(tmp_path, "del-1")
    t, errors = _in_thread(vim.check, background=False)
    time.sleep(0.2)
    t0 = time.monotonic()
    interrupts.interrupt(tmp_path, "del-1")
    t.join(5)
    assert not t.is_alive() and time.monotonic() - t0 < 1
    assert isinstance(errors[0], VimInterrupted)
    assert "deleted" in str(errors[0])
    with pytest.raises(VimInterrupted):
        vim.list_zones()
    other = SimVim(vim_id="del-2", config={"hosts": 1}, data_dir=tmp_path)
    assert other.check()["hosts"] == 1  # other VIMs of the same data dir go on


def test_stop_all_ends_background_calls_only(tmp_path: Path) -> None:
    vim = _slow(tmp_path, "stop-1")
    vim.list_zones()  # initialised before the clock starts
    t, errors = _in_thread(vim.check, background=True)
    time.sleep(0.2)
    interrupts.stop_all(tmp_path)
    try:
        t.join(5)
        assert not t.is_alive() and isinstance(errors[0], VimInterrupted)
        assert "stopping" in str(errors[0])
        assert vim.list_zones()  # a life-cycle call (not background) still runs
        with interrupts.background(), pytest.raises(VimInterrupted):
            vim.list_zones()
    finally:
        interrupts.resume_all(tmp_path)
    with interrupts.background():
        assert vim.list_zones()
