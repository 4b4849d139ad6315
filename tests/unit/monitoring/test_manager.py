"""SourceManager: one source per VIM account of a type with a source, started with the
account's ``config.monitoring`` options, restarted when the account changes, stopped when it
is deleted or its monitoring disabled; a missing or broken source class and a source failing
to start never stop the others. Real ResourceService on SQLite, fake source classes."""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path

import pytest

from nfvo.inventory.db import Database
from nfvo.monitoring.manager import SourceManager
from nfvo.monitoring.model import FaultEvent, Sample
from nfvo.monitoring.sources.base import Source, SourceContext
from nfvo.resources.service import ResourceService, Scope
from nfvo.resources.vault import Vault, load_key

GLOBAL = Scope(None)


class FakeSource(Source):
    """Records its life; polls nothing."""

    name = "fake"
    started: list[FakeSource] = []
    lock = threading.Lock()

    def __init__(self, ctx: SourceContext) -> None:
        super().__init__(ctx)
        self.stopped = False

    def start(self) -> None:
        with self.lock:
            FakeSource.started.append(self)
        super().start()

    def stop(self, timeout: float = 5.0) -> None:
        self.stopped = True
        super().stop(timeout)

    def poll_once(self) -> None:
        pass


class FailingSource(FakeSource):
    """Its start fails (a VIM it cannot reach at start-up, say)."""

    def start(self) -> None:
        raise RuntimeError("cannot reach the VIM")


class NullSink:
    def samples(self, batch: list[Sample]) -> None:
        pass

    def fault(self, event: FaultEvent) -> None:
        pass


@pytest.fixture
def resources(tmp_path: Path) -> ResourceService:
    db = Database(f"sqlite:///{tmp_path / 'nfvo.db'}")
    db.migrate()
    FakeSource.started.clear()
    return ResourceService(db, Vault(load_key(tmp_path)), tmp_path)


def _vim(resources: ResourceService, name: str, vim_type: str = "sim", **config: object) -> str:
    if vim_type == "openstack":
        body = {"name": name, "vim_type": vim_type, "vim_url": "http://127.0.0.1:1/v3"}
        body |= {"vim_user": "u", "vim_password": "secret-pw", "config": config}
    else:
        body = {"name": name, "vim_type": vim_type, "config": config}
    return resources.create_vim(body, GLOBAL).id


def _manager(resources: ResourceService, **classes: str) -> SourceManager:
    return SourceManager(resources, NullSink(), classes=classes, interval_s=3600)


def test_starts_one_source_per_account_with_its_options(resources: ResourceService) -> None:
    a = _vim(resources, "a", monitoring={"interval_s": 0.5})
    b = _vim(resources, "b")
    off = _vim(resources, "off", monitoring={"enabled": False})
    mgr = _manager(resources, sim=f"{__name__}:FakeSource")
    mgr.refresh()
    try:
        running = mgr.running()
        assert set(running) == {a, b}
        assert running[a].ctx.options == {"interval_s": 0.5}
        assert running[a].interval_s == 0.5
        assert running[b].ctx.options == {}
        assert running[a].ctx.vim_type == "sim" and running[a].alive()
        assert running[a].ctx.driver is not running[b].ctx.driver
        mgr.refresh()  # nothing changed: nothing restarted
        assert len(FakeSource.started) == 2
        assert off not in mgr.running()
    finally:
        mgr.stop()
    assert mgr.running() == {}
    assert all(s.stopped and not s.alive() for s in FakeSource.started)


def test_restarts_on_change_and_stops_on_disable_and_delete(resources: ResourceService) -> None:
    a = _vim(resources, "a")
    b = _vim(resources, "b")
    mgr = _manager(resources, sim=f"{__name__}:FakeSource")
    mgr.refresh()
    try:
        first_a, first_b = mgr.running()[a], mgr.running()[b]
        resources.update_vim(a, {"config": {"monitoring": {"interval_s": 2}}}, GLOBAL)
        mgr.refresh()
        assert first_a.stopped and not first_a.alive()
        assert mgr.running()[a] is not first_a
        assert mgr.running()[a].ctx.options == {"interval_s": 2.0}
        assert mgr.running()[b] is first_b and not first_b.stopped
        resources.update_vim(b, {"config": {"monitoring": {"enabled": False}}}, GLOBAL)
        mgr.refresh()
        assert first_b.stopped and set(mgr.running()) == {a}
        resources.update_vim(b, {"config": {"monitoring": None}}, GLOBAL)
        mgr.refresh()
        assert set(mgr.running()) == {a, b}
        current_a = mgr.running()[a]
        resources.delete_vim(a, GLOBAL, force=True)
        mgr.refresh()
        assert current_a.stopped and set(mgr.running()) == {b}
    finally:
        mgr.stop()


def test_a_type_without_a_source_module_is_skipped_and_logged_once(
    resources: ResourceService, caplog: pytest.LogCaptureFixture
) -> None:
    s = _vim(resources, "s")
    o = _vim(resources, "o", "openstack", auth_type="password")
    mgr = _manager(
        resources,
        sim=f"{__name__}:FakeSource",
        openstack="nfvo.monitoring.sources.no_such_module:Nothing",
    )
    caplog.set_level(logging.INFO, logger="nfvo.monitoring.manager")
    try:
        mgr.refresh()
        mgr.refresh()
        assert set(mgr.running()) == {s}
        said = [r for r in caplog.records if "no monitoring source yet" in r.getMessage()]
        assert len(said) == 1 and said[0].levelno == logging.INFO
        assert o not in mgr.running()
    finally:
        mgr.stop()


def test_a_source_module_failing_to_import_does_not_stop_the_others(
    resources: ResourceService,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    pkg = tmp_path / "mods"
    pkg.mkdir()
    (pkg / "broken_source_mod.py").write_text("raise RuntimeError('broken at import')\n")
    monkeypatch.syspath_prepend(str(pkg))
    monkeypatch.delitem(sys.modules, "broken_source_mod", raising=False)
    s = _vim(resources, "s")
    _vim(resources, "o", "openstack", auth_type="password")
    mgr = _manager(
        resources, sim=f"{__name__}:FakeSource", openstack="broken_source_mod:BrokenSource"
    )
    try:
        mgr.refresh()
        mgr.refresh()
        assert set(mgr.running()) == {s}
        said = [r for r in caplog.records if "broken at import" in r.getMessage()]
        assert len(said) == 1 and said[0].levelno == logging.WARNING
        assert not said[0].exc_info  # an expected failure: no traceback
    finally:
        mgr.stop()


def test_a_source_failing_to_start_is_retried_and_logged_once_per_error(
    resources: ResourceService, caplog: pytest.LogCaptureFixture
) -> None:
    a = _vim(resources, "a")
    mgr = _manager(resources, sim=f"{__name__}:FailingSource")
    try:
        mgr.refresh()
        mgr.refresh()
        assert mgr.running() == {}
        said = [r for r in caplog.records if "cannot reach the VIM" in r.getMessage()]
        assert len(said) == 1
        mgr.classes["sim"] = f"{__name__}:FakeSource"
        mgr._loaded.clear()  # the next refresh imports the (now working) class
        mgr.refresh()
        assert set(mgr.running()) == {a}
    finally:
        mgr.stop()


def test_background_refresh_follows_a_poke(resources: ResourceService) -> None:
    mgr = _manager(resources, sim=f"{__name__}:FakeSource")
    mgr.start()
    mgr.start()  # idempotent
    try:
        assert mgr.running() == {}
        a = _vim(resources, "a")
        mgr.poke()
        for _ in range(200):
            if a in mgr.running():
                break
            threading.Event().wait(0.01)
        assert a in mgr.running()
    finally:
        mgr.stop()
        mgr.stop()
    assert mgr.running() == {}


def test_runtime_runs_the_hub_store_and_sources_and_stops_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nfvo.config import Settings
    from nfvo.monitoring import manager
    from nfvo.runtime import Runtime

    # every sim account gets a source whose start fails: the runtime starts all the same
    monkeypatch.setattr(manager, "SOURCE_CLASSES", {"sim": f"{__name__}:FailingSource"})
    settings = Settings(data_dir=tmp_path / "d", role="worker", sync_interval_seconds=0)
    runtime = Runtime(settings)
    svc = runtime.services
    svc.resources.create_vim({"name": "a", "vim_type": "sim", "config": {}}, GLOBAL)
    names = {"monitor-dispatch", "monitor-sources", "monitor-store"}
    try:
        runtime.start()
        runtime.start()  # idempotent
        assert svc.monitor is not None and svc.sources is not None
        assert svc.sample_store is not None
        assert names <= {t.name for t in threading.enumerate()}
        assert svc.sources.running() == {}  # its source failed, the process did not
        svc.refresh_vim_events()  # pokes the manager; never raises
    finally:
        runtime.stop()
        runtime.stop()
    assert svc.monitor is None and svc.sources is None and svc.sample_store is None
    alive = {t.name for t in threading.enumerate() if t.is_alive()}
    assert not alive & names
    svc.db.dispose()
