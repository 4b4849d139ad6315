"""Runs one monitoring source per VIM account, and keeps the set in step with the accounts.

For every account whose type has a source (``SOURCE_CLASSES``) and whose
``config.monitoring.enabled`` is not false, the manager builds a ``SourceContext`` (a driver
of its own, the sink, the account's ``config.monitoring`` options) and starts the source.
:meth:`SourceManager.refresh` stops the sources of deleted or disabled accounts and restarts
those whose account changed; it runs every ``interval_s`` and at once when poked (the runtime
pokes it after a VIM account was created, updated or deleted).

A source that fails to build or start never fails the others nor the process: the error is
logged once (again only when it changes) and the start is retried at the next refresh.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import threading
from dataclasses import dataclass
from typing import Any

from nfvo.inventory.models import VimAccount
from nfvo.inventory.resources_repo import VimRepository
from nfvo.monitoring.model import Sink
from nfvo.monitoring.options import monitoring_enabled
from nfvo.monitoring.sources import SOURCE_CLASSES
from nfvo.monitoring.sources.base import Source, SourceContext
from nfvo.resources.service import ResourceService

log = logging.getLogger(__name__)

DEFAULT_REFRESH_S = 30.0


@dataclass
class _Running:
    fingerprint: str
    source: Source


def fingerprint(vim: VimAccount) -> str:
    """A digest of everything a source is built from: a change restarts the source."""
    what = [vim.vim_type, vim.vim_url, vim.vim_user, vim.vim_tenant_name, vim.config, vim.secrets]
    text = json.dumps(what, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class SourceManager:
    """Starts, restarts and stops the per-VIM-account monitoring sources.

    It exists so that sources need not know about VIM accounts coming and going: a source
    sees one account, for as long as that account stays as it was started with.
    ``classes`` maps a VIM type to ``"module:Class"`` (default ``SOURCE_CLASSES``).
    """

    def __init__(
        self,
        resources: ResourceService,
        sink: Sink,
        *,
        interval_s: float = DEFAULT_REFRESH_S,
        classes: dict[str, str] | None = None,
    ) -> None:
        self.resources = resources
        self.sink = sink
        self.interval_s = interval_s
        self.classes = dict(SOURCE_CLASSES if classes is None else classes)
        self._running: dict[str, _Running] = {}
        self._loaded: dict[str, type[Source] | None] = {}
        self._failed: dict[str, tuple[str, str]] = {}  # vim id -> (fingerprint, error)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- the set of sources ---------------------------------------------------------------
    def running(self) -> dict[str, Source]:
        """VIM account id -> its running source."""
        with self._lock:
            return {vim_id: r.source for vim_id, r in self._running.items()}

    def refresh(self) -> None:
        """Start, restart or stop sources to match the VIM accounts now registered."""
        with self._lock:
            wanted = self._wanted()
            for vim_id in list(self._running):
                entry = wanted.get(vim_id)
                if entry is None or fingerprint(entry) != self._running[vim_id].fingerprint:
                    self._stop_one(vim_id)
            for vim_id, vim in wanted.items():
                if vim_id not in self._running:
                    self._start_one(vim)
            for vim_id in list(self._failed):
                if vim_id not in wanted:
                    del self._failed[vim_id]

    def _wanted(self) -> dict[str, VimAccount]:
        with self.resources.db.session() as s:
            vims = list(VimRepository(s).list())
        return {
            v.id: v
            for v in vims
            if v.vim_type in self.classes
            and monitoring_enabled(v.config)
            and self._class_of(v.vim_type) is not None
        }

    def _class_of(self, vim_type: str) -> type[Source] | None:
        """The source class of a VIM type, imported once; None when it has none (yet)."""
        if vim_type in self._loaded:
            return self._loaded[vim_type]
        module_name, _, class_name = self.classes[vim_type].partition(":")
        cls: type[Source] | None = None
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                log.info("VIM type %s has no monitoring source yet (%s)", vim_type, module_name)
            else:
                log.warning("the %s monitoring source cannot be loaded: %s", vim_type, exc)
        except Exception as exc:  # noqa: BLE001 - a broken source must not stop the others
            log.warning("the %s monitoring source cannot be loaded: %s", vim_type, exc)
        self._loaded[vim_type] = cls
        return cls

    def _start_one(self, vim: VimAccount) -> None:
        cls = self._class_of(vim.vim_type)
        assert cls is not None  # only such accounts are wanted
        fp = fingerprint(vim)
        driver = None
        try:
            driver = self.resources.driver_for(vim)
            ctx = SourceContext(
                vim_id=vim.id,
                vim_type=vim.vim_type,
                driver=driver,
                sink=self.sink,
                options=dict((vim.config or {}).get("monitoring") or {}),
                secrets=self._secrets(vim),
            )
            source = cls(ctx)
            source.start()
        except Exception as exc:  # noqa: BLE001 - one account's source must not stop the others
            if driver is not None:
                _close(driver)
            error = f"{type(exc).__name__}: {exc}"
            if self._failed.get(vim.id) != (fp, error):
                log.warning("monitoring of VIM %s (%s) did not start: %s", vim.name, vim.id, error)
            self._failed[vim.id] = (fp, error)
            return
        self._failed.pop(vim.id, None)
        self._running[vim.id] = _Running(fp, source)
        log.info("monitoring of VIM %s (%s) started (%s)", vim.name, vim.id, cls.name)

    def _secrets(self, vim: VimAccount) -> dict[str, Any]:
        return dict(self.resources.vault.open(vim.secrets)) if vim.secrets else {}

    def _stop_one(self, vim_id: str) -> None:
        entry = self._running.pop(vim_id)
        try:
            entry.source.stop()
        except Exception as exc:  # noqa: BLE001 - a source failing to stop is forgotten anyway
            log.warning("stopping the monitoring source of VIM %s failed: %s", vim_id, exc)

    # -- background ------------------------------------------------------------------------
    def poke(self) -> None:
        """Refresh soon, on the manager's own thread (after a VIM account changed)."""
        self._wake.set()

    def start(self) -> None:
        """Start the sources now and refresh them every ``interval_s`` and when poked
        (idempotent; a failing refresh is logged, never raised)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._safe_refresh()
        self._thread = threading.Thread(target=self._loop, name="monitor-sources", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval_s)
            self._wake.clear()
            if not self._stop.is_set():
                self._safe_refresh()

    def _safe_refresh(self) -> None:
        try:
            self.refresh()
        except Exception:  # a database hiccup must not end the refreshes
            log.exception("refreshing the monitoring sources failed")

    def stop(self) -> None:
        """Stop refreshing and stop every source (idempotent)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        with self._lock:
            for vim_id in list(self._running):
                self._stop_one(vim_id)


def _close(driver: Any) -> None:
    try:
        driver.close()
    except Exception:  # noqa: BLE001, S110 - closing after a failed start is best effort
        pass
