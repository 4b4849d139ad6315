"""Stopping the sim VIM's work early: when its account is deleted or the process stops.

A sim VIM operation may sleep (its configured latency) and a connectivity check runs several
of them in a row, in a background thread. Such work must not outlive the VIM account it
serves nor hold a stopping server: ``interrupt`` marks one VIM (a deleted account): every
call of that VIM, sleeping or to come, fails with :class:`VimInterrupted`. ``stop_all``
marks every VIM of a data directory (the process is stopping) for the calls made inside
:func:`background` only (checks and syncs), so that operations of the life cycle, which
resume after a restart, are not failed by a shutdown.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from nfvo.vim.base import VimUnavailable

_cond = threading.Condition()
_stopped_dirs: set[str] = set()
_interrupted: set[tuple[str, str]] = set()
_local = threading.local()


class VimInterrupted(VimUnavailable):
    """The sim VIM's account was deleted, or nfvo is stopping: its work ends here."""


@contextmanager
def background() -> Iterator[None]:
    """Mark the calls this thread makes meanwhile as background work, ended by ``stop_all``."""
    before = getattr(_local, "background", False)
    _local.background = True
    try:
        yield
    finally:
        _local.background = before


def _dir_key(data_dir: Path | str) -> str:
    return str(Path(data_dir).resolve())


def interrupt(data_dir: Path | str, vim_id: str) -> None:
    """End the work of one sim VIM (its account is being deleted)."""
    with _cond:
        _interrupted.add((_dir_key(data_dir), vim_id))
        _cond.notify_all()


def stop_all(data_dir: Path | str) -> None:
    """End the work of every sim VIM kept in ``data_dir`` (the process is stopping)."""
    with _cond:
        _stopped_dirs.add(_dir_key(data_dir))
        _cond.notify_all()


def resume_all(data_dir: Path | str) -> None:
    """Allow sim VIM work in ``data_dir`` again (the process starts); deleted VIMs stay ended."""
    with _cond:
        _stopped_dirs.discard(_dir_key(data_dir))


def reason(data_dir: Path | str, vim_id: str) -> str | None:
    """Why work of this VIM must end, or None while it may go on."""
    key = _dir_key(data_dir)
    with _cond:
        return _reason(key, vim_id)


def _reason(key: str, vim_id: str) -> str | None:
    if (key, vim_id) in _interrupted:
        return f"sim VIM {vim_id}: its account was deleted"
    if key in _stopped_dirs and getattr(_local, "background", False):
        return f"sim VIM {vim_id}: nfvo is stopping"
    return None


def check(data_dir: Path | str, vim_id: str) -> None:
    """Raise :class:`VimInterrupted` if the VIM's work must end."""
    why = reason(data_dir, vim_id)
    if why is not None:
        raise VimInterrupted(why)


def sleep(data_dir: Path | str, vim_id: str, seconds: float) -> None:
    """Sleep ``seconds`` unless the VIM's work is ended meanwhile (then VimInterrupted)."""
    key = _dir_key(data_dir)
    deadline = time.monotonic() + seconds
    with _cond:
        while True:
            why = _reason(key, vim_id)
            if why is not None:
                raise VimInterrupted(why)
            left = deadline - time.monotonic()
            if left <= 0:
                return
            _cond.wait(left)
