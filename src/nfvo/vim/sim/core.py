"""The plumbing every sim VIM operation shares: auth, latency/faults, host failures, keys.

``operation`` wraps each public driver method: it checks credentials, sleeps the configured
latency (outside any transaction), injects faults, applies host failures that are due, and
turns SQLite trouble into ``VimUnavailable`` so callers only ever see ``VimError``.
"""

from __future__ import annotations

import functools
import re
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from nfvo.vim.base import VimAuthError, VimConfigError, VimUnavailable
from nfvo.vim.sim import interrupts
from nfvo.vim.sim.behaviour import Behaviour, dumps, request_id
from nfvo.vim.sim.config import SimConfig, fail_time, parse_sim_config
from nfvo.vim.sim.store import Store

F = TypeVar("F", bound=Callable[..., Any])

_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def operation(op: str) -> Callable[[F], F]:
    """Decorate a driver method as VIM operation ``op`` (latency, faults, error mapping)."""

    def deco(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(self: SimCore, *args: Any, **kwargs: Any) -> Any:
            try:
                self._begin(op)
                return fn(self, *args, **kwargs)
            except sqlite3.Error as exc:
                raise VimUnavailable(
                    f"sim VIM {self.vim_id}: state store error during {op}: {exc}",
                    request_id=request_id(),
                ) from exc

        return wrapper  # type: ignore[return-value]

    return deco


def iso(ts: float) -> str:
    """Epoch seconds as an ISO 8601 UTC timestamp."""
    return datetime.fromtimestamp(ts, UTC).isoformat()


class SimCore:
    """State, behaviour and shared plumbing of one sim VIM driver instance."""

    def __init__(
        self,
        *,
        vim_id: str,
        config: dict[str, Any] | SimConfig,
        data_dir: Path,
        vim_user: str | None = None,
        vim_password: str | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        if not _SAFE_ID.match(vim_id or ""):
            raise VimConfigError("vim_id", "must be 1-128 letters, digits, '.', '_' or '-'")
        self.vim_id = vim_id
        self.data_dir = Path(data_dir)
        if sleep is None:  # latency sleeps end at once when the account is deleted / nfvo stops

            def sleep(seconds: float) -> None:
                interrupts.sleep(self.data_dir, vim_id, seconds)

        self.cfg = config if isinstance(config, SimConfig) else parse_sim_config(config)
        auth = self.cfg.top.auth
        self._auth_ok = auth is None or (vim_user == auth.user and vim_password == auth.password)
        self.behaviour = Behaviour(self.cfg, sleep)
        self.clock = clock
        self.store = Store(Path(data_dir) / "sim" / f"{vim_id}.db")
        self._ready = False
        self._ready_lock = threading.Lock()
        self._fail_times: dict[str, float] = {}
        self._failed: set[str] = set()

    # ------------------------------------------------------------------ lifecycle

    def _begin(self, op: str) -> None:
        interrupts.check(self.data_dir, self.vim_id)
        if not self._auth_ok:
            rid = request_id()
            raise VimAuthError(
                "authentication failed",
                vim_message=f"The request you have made requires authentication. (HTTP 401) "
                f"(Request-ID: {rid})",
                request_id=rid,
            )
        self._ensure_ready()
        self.behaviour.before(op)
        self._apply_host_failures()

    def _ensure_ready(self) -> None:
        if self._ready:
            return
        with self._ready_lock:
            if self._ready:
                return
            self.store.initialise(self.cfg)
            self._arm_host_faults()
            self._ready = True

    def _arm_host_faults(self) -> None:
        """Record when each relative host fault was first seen; recover unfaulted hosts."""
        faults = self.cfg.top.faults.hosts
        now = self.clock()
        with self.store.write() as c:
            for host, fault in faults.items():
                spec = dumps(fault.model_dump(mode="json"))
                c.execute("DELETE FROM host_faults WHERE host = ? AND spec <> ?", (host, spec))
                c.execute("INSERT OR IGNORE INTO host_faults VALUES (?, ?, ?)", (host, spec, now))
                armed = c.execute(
                    "SELECT armed_at FROM host_faults WHERE host = ? AND spec = ?", (host, spec)
                ).fetchone()[0]
                self._fail_times[host] = fail_time(fault, armed)
            names = list(faults) or [""]
            marks = ",".join("?" * len(names))
            c.execute(  # a host taken down through the admin API stays down
                f"UPDATE hosts SET state = 'up' WHERE state = 'down' AND name NOT IN ({marks}) "
                "AND name NOT IN (SELECT target FROM injected_faults WHERE kind = 'HOST_DOWN')",
                names,
            )
            c.execute(f"DELETE FROM host_faults WHERE host NOT IN ({marks})", names)

    def _apply_host_failures(self) -> None:
        """Hosts whose failure time has come go down; their servers go to ERROR."""
        if not self._fail_times:
            return
        now = self.clock()
        due = [h for h, t in self._fail_times.items() if t <= now and h not in self._failed]
        if not due:
            return
        with self.store.write() as c:
            for host in due:
                cur = c.execute(
                    "UPDATE hosts SET state = 'down' WHERE name = ? AND state = 'up'", (host,)
                )
                if cur.rowcount:
                    c.execute(
                        "UPDATE servers SET status = 'ERROR', fault = ?, next_status = NULL, "
                        "next_fault = NULL, next_at = NULL WHERE host = ?",
                        (f"host {host} failed", host),
                    )
        self._failed.update(due)

    def close(self) -> None:
        """Close the state file's connections."""
        self.store.close()

    # ------------------------------------------------------------------ shared

    @staticmethod
    def _keyed(c: sqlite3.Connection, kind: str, key: str) -> str | None:
        row = c.execute(
            "SELECT resource_id FROM keys WHERE kind = ? AND key = ?", (kind, key)
        ).fetchone()
        return row[0] if row else None

    def _create(self, kind: str, key: str, insert: Callable[[sqlite3.Connection], str]) -> str:
        """Run ``insert`` unless ``key`` already names a resource of ``kind``; returns its id."""
        try:
            with self.store.write() as c:
                existing = self._keyed(c, kind, key)
                if existing:
                    return existing
                rid = insert(c)
                c.execute("INSERT INTO keys VALUES (?, ?, ?)", (kind, key, rid))
                return rid
        except sqlite3.IntegrityError:
            with self.store.read() as c:
                existing = self._keyed(c, kind, key)
            if existing:
                return existing
            raise

    def _settle(self) -> None:
        """Persist server transitions (BUILD -> ACTIVE/ERROR) whose time has come."""
        now = self.clock()
        c = self.store.conn()
        due = c.execute(
            "SELECT 1 FROM servers WHERE next_at IS NOT NULL AND next_at <= ? LIMIT 1", (now,)
        ).fetchone()
        if due:
            with self.store.write() as w:
                self._settle_in(w, now)

    @staticmethod
    def _settle_in(c: sqlite3.Connection, now: float) -> None:
        c.execute(
            "UPDATE servers SET status = next_status, fault = next_fault, next_status = NULL, "
            "next_fault = NULL, next_at = NULL WHERE next_at IS NOT NULL AND next_at <= ?",
            (now,),
        )
