"""The composition root: one Runtime starts and stops a process's engine and background work."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from nfvo import __version__
from nfvo.config import Settings
from nfvo.lcm import steps
from nfvo.monitoring.amqp import NotificationConsumers
from nfvo.resources.service import ResourceService
from nfvo.runtime import ROLES, Runtime, serves_api

BACKGROUND = ("vim-sync", "notify-poll", "nova-notifications")


def _threads() -> set[str]:
    return {t.name for t in threading.enumerate() if t.is_alive()}


def _settings(tmp_path: Path, db_url: str, role: str, **kw: object) -> Settings:
    return Settings(data_dir=tmp_path / "d", database_url=db_url, role=role, **kw)


def test_roles() -> None:
    assert ROLES == ("all", "api", "worker")
    assert [serves_api(r) for r in ROLES] == [True, True, False]
    with pytest.raises(ValueError, match="role must be one of all, api, worker"):
        Runtime(Settings(role="both"))


def test_worker_runtime_starts_and_stops_its_background_work(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced = threading.Event()
    monkeypatch.setattr(ResourceService, "sync_all", lambda self: synced.set())
    runtime = Runtime(_settings(tmp_path, db_url, "worker", sync_interval_seconds=0.05))
    assert not runtime.started and not _threads() & set(BACKGROUND)
    with runtime:
        assert runtime.started
        svc = runtime.services
        assert steps.ctx().db is svc.db  # the engine launched with this runtime's services
        assert svc.vim_events is not None
        assert set(BACKGROUND) <= _threads()
        runtime.start()  # idempotent: no second set of threads
        assert sorted(t.name for t in threading.enumerate() if t.name == "vim-sync") == ["vim-sync"]
        assert synced.wait(30), "the periodic VIM sync never ran"
        assert runtime.health() == {"status": "ok", "version": __version__, "role": "worker"}
    assert not runtime.started
    assert svc.vim_events is None
    deadline = time.monotonic() + 15
    while _threads() & set(BACKGROUND) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _threads() & set(BACKGROUND)
    runtime.stop()  # idempotent
    runtime.services.db.dispose()


def test_sync_interval_zero_starts_no_sync_loop(tmp_path: Path, db_url: str) -> None:
    runtime = Runtime(_settings(tmp_path, db_url, "api", sync_interval_seconds=0))
    try:
        runtime.start()
        assert "vim-sync" not in _threads()
        assert "notify-poll" in _threads()
    finally:
        runtime.stop()
        runtime.services.db.dispose()


def test_a_part_failing_to_start_stops_the_parts_already_running(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: NotificationConsumers, interval: float = 30.0) -> None:
        raise OSError("no AMQP for you")

    monkeypatch.setattr(NotificationConsumers, "start", broken)
    runtime = Runtime(_settings(tmp_path, db_url, "all"))
    with pytest.raises(OSError, match="no AMQP"):
        runtime.start()
    assert not runtime.started and runtime.services.vim_events is None
    deadline = time.monotonic() + 15
    while _threads() & set(BACKGROUND) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _threads() & set(BACKGROUND)
    runtime.services.db.dispose()


def test_services_are_built_once_before_start(tmp_path: Path, db_url: str) -> None:
    runtime = Runtime(_settings(tmp_path, db_url, "all", admin_password="pw-0123456789"))
    svc = runtime.services
    assert runtime.services is svc and not runtime.started
    assert svc.clients.authenticate("admin", "pw-0123456789") is not None  # admin bootstrapped
    svc.db.dispose()


def test_the_worker_import_path_leaves_the_web_framework_out() -> None:
    """What ``nfvo serve --role worker`` imports (the CLI and the composition root) does not
    load FastAPI, Starlette or uvicorn; checked in a fresh interpreter."""
    code = (
        "import json, sys\n"
        "import nfvo.cli.main, nfvo.runtime, nfvo.health\n"
        "print(json.dumps(sorted(m for m in sys.modules"
        " if m.split('.')[0] in ('fastapi', 'starlette', 'uvicorn'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(out.stdout) == []
