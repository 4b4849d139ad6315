"""Faults and load curves of the sim VIM, injected by an operator (the admin API).

Each fault takes effect in the state file at once (one transaction) so every process sharing
it, and the monitoring source polling it, sees the change on its next read; it is recorded
there too, so it outlives a restart, and clearing it undoes exactly what it did. Load curves
are stored per target (a server, a VNF's servers, a host's servers) and metric.
"""

from __future__ import annotations

import functools
import json
import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from nfvo.vim.base import VimBadRequest, VimConflict, VimNotFound, VimUnavailable
from nfvo.vim.sim import interrupts
from nfvo.vim.sim.behaviour import request_id
from nfvo.vim.sim.config import LoadConfig
from nfvo.vim.sim.core import SimCore, iso
from nfvo.vim.sim.curves import SERVER_METRICS

F = TypeVar("F", bound=Callable[..., Any])

# fault kind -> what it names
FAULT_KINDS: dict[str, str] = {
    "HOST_DOWN": "host",
    "SERVER_CRASH": "server",
    "NETWORK_DOWN": "network",
}
LOAD_TARGETS = ("server", "vnf", "host")
MAX_INJECTED_FAULTS = 1000
MAX_LOADS = 10_000
TAG_VNF_PATH = '$."nfvo.vnf"'


def host_fault_text(host: str) -> str:
    """The fault a server shows while its host is down."""
    return f"host {host} failed"


@dataclass(frozen=True)
class InjectedFault:
    """A fault an operator injected: active until cleared."""

    id: str
    kind: str
    target: str
    created: float

    def view(self) -> dict[str, Any]:
        """The API's representation."""
        field = {"host": "host", "server": "serverId", "network": "networkId"}[
            FAULT_KINDS[self.kind]
        ]
        created = iso(self.created)
        return {"id": self.id, "kind": self.kind, field: self.target, "createdAt": created}


@dataclass(frozen=True)
class LoadEntry:
    """A load curve an operator set on a target, for one metric."""

    target_kind: str
    target_id: str
    metric: str
    curve: dict[str, Any] | None
    set_at: float

    def view(self) -> dict[str, Any]:
        """The API's representation."""
        field = {"server": "serverId", "vnf": "vnfInstanceId", "host": "host"}[self.target_kind]
        return {
            "target": {field: self.target_id},
            "metric": self.metric,
            "curve": self.curve,
            "setAt": iso(self.set_at),
        }


def admin_operation(fn: F) -> F:
    """An operator's action on the sim itself: no VIM latency, injected errors or auth,
    but the state file must be ready and its trouble is a ``VimUnavailable``."""

    @functools.wraps(fn)
    def wrapper(self: SimCore, *args: Any, **kwargs: Any) -> Any:
        try:
            interrupts.check(self.data_dir, self.vim_id)
            self._ensure_ready()
            return fn(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise VimUnavailable(
                f"sim VIM {self.vim_id}: state store error: {exc}", request_id=request_id()
            ) from exc

    return wrapper  # type: ignore[return-value]


class FaultOps(SimCore):
    """Fault injection and load curves of the sim VIM driver."""

    @admin_operation
    def inject_fault(self, kind: str, target: str) -> InjectedFault:
        """Inject ``kind`` on ``target`` now. VimBadRequest: unknown kind or target;
        VimConflict: the same fault is already active, or too many are."""
        what = FAULT_KINDS.get(kind)
        if what is None:
            raise VimBadRequest(f"fault kind {kind!r} is not one of {sorted(FAULT_KINDS)}")
        fault = InjectedFault(str(uuid.uuid4()), kind, target, self.clock())
        with self.store.write() as c:
            self._check_exists(c, what, target)
            active = c.execute("SELECT COUNT(*) FROM injected_faults").fetchone()[0]
            if active >= MAX_INJECTED_FAULTS:
                raise VimConflict(f"{MAX_INJECTED_FAULTS} faults are active already; clear some")
            try:
                c.execute(
                    "INSERT INTO injected_faults VALUES (?, ?, ?, ?)",
                    (fault.id, kind, target, fault.created),
                )
            except sqlite3.IntegrityError:
                raise VimConflict(f"{kind} is already active on {what} {target}") from None
            if (
                kind == "HOST_DOWN"
                and c.execute(
                    "SELECT 1 FROM hosts WHERE name = ? AND state <> 'up'", (target,)
                ).fetchone()
            ):
                raise VimConflict(f"host {target} is down already")
            self._settle_in(c, fault.created)
            self._strike(c, fault)
        return fault

    @staticmethod
    def _check_exists(c: sqlite3.Connection, what: str, target: str) -> None:
        sql = {
            "host": "SELECT 1 FROM hosts WHERE name = ?",
            "server": "SELECT 1 FROM servers WHERE id = ?",
            "network": "SELECT 1 FROM networks WHERE id = ?",
            "vnf": f"SELECT 1 FROM servers WHERE json_extract(tags, '{TAG_VNF_PATH}') = ? LIMIT 1",
        }[what]
        if c.execute(sql, (target,)).fetchone() is None:
            words = "no server of VNF instance" if what == "vnf" else what
            raise VimBadRequest(f"{words} {target} not found on this VIM", request_id=request_id())

    @staticmethod
    def _strike(c: sqlite3.Connection, fault: InjectedFault) -> None:
        if fault.kind == "HOST_DOWN":
            c.execute("UPDATE hosts SET state = 'down' WHERE name = ?", (fault.target,))
            c.execute(  # what runs there fails; a server already off stays off
                "UPDATE servers SET status = 'ERROR', fault = ?, next_status = NULL, "
                "next_fault = NULL, next_at = NULL "
                "WHERE host = ? AND status IN ('ACTIVE', 'BUILD')",
                (host_fault_text(fault.target), fault.target),
            )
        elif fault.kind == "SERVER_CRASH":
            c.execute(
                "UPDATE servers SET status = 'ERROR', fault = ?, next_status = NULL, "
                "next_fault = NULL, next_at = NULL WHERE id = ?",
                (f"crashed (injected fault {fault.id})", fault.target),
            )
        else:
            c.execute("UPDATE networks SET status = 'DOWN' WHERE id = ?", (fault.target,))

    @admin_operation
    def injected_faults(self) -> list[InjectedFault]:
        """The active injected faults, oldest first."""
        rows = self.store.conn().execute(
            "SELECT id, kind, target, created FROM injected_faults ORDER BY created, id"
        )
        return [InjectedFault(*r) for r in rows]

    @admin_operation
    def clear_fault(self, fault_id: str) -> InjectedFault:
        """End an injected fault, undoing it: a host comes back up and the servers its
        failure put in ERROR resume (unless crashed themselves); a crashed server on an up
        host becomes ACTIVE; a network comes up. VimNotFound if no such fault is active."""
        with self.store.write() as c:
            row = c.execute(
                "SELECT id, kind, target, created FROM injected_faults WHERE id = ?", (fault_id,)
            ).fetchone()
            if row is None:
                raise VimNotFound(f"no active injected fault {fault_id}", request_id=request_id())
            fault = InjectedFault(*row)
            c.execute("DELETE FROM injected_faults WHERE id = ?", (fault_id,))
            self._heal(c, fault)
        return fault

    @staticmethod
    def _heal(c: sqlite3.Connection, fault: InjectedFault) -> None:
        crashed = "SELECT target FROM injected_faults WHERE kind = 'SERVER_CRASH'"
        if fault.kind == "HOST_DOWN":
            c.execute("UPDATE hosts SET state = 'up' WHERE name = ?", (fault.target,))
            c.execute(
                "UPDATE servers SET status = 'ACTIVE', fault = NULL WHERE host = ? "
                f"AND status = 'ERROR' AND fault = ? AND id NOT IN ({crashed})",
                (fault.target, host_fault_text(fault.target)),
            )
        elif fault.kind == "SERVER_CRASH":
            c.execute(
                "UPDATE servers SET status = 'ACTIVE', fault = NULL WHERE id = ? "
                "AND status = 'ERROR' AND host IN (SELECT name FROM hosts WHERE state = 'up')",
                (fault.target,),
            )
        else:
            c.execute("UPDATE networks SET status = 'ACTIVE' WHERE id = ?", (fault.target,))

    @admin_operation
    def set_load(
        self, target_kind: str, target_id: str, metric: str, curve: LoadConfig | None
    ) -> LoadEntry:
        """Set (or, with ``curve`` None, remove) the curve of ``metric`` on a server, on every
        server of a VNF instance, or on every server of a host. Offsets count from now
        unless the curve gives its ``start``."""
        if target_kind not in LOAD_TARGETS:
            raise VimBadRequest(f"a load target is one of {list(LOAD_TARGETS)}")
        if metric not in SERVER_METRICS:
            raise VimBadRequest(f"a load metric is one of {list(SERVER_METRICS)}")
        now = self.clock()
        text = None
        if curve is not None:
            text = json.dumps(curve.model_dump(mode="json", exclude_unset=True))
        with self.store.write() as c:
            self._check_exists(c, target_kind, target_id)
            key = (target_kind, target_id, metric)
            if text is None:
                c.execute(
                    "DELETE FROM loads WHERE target_kind = ? AND target_id = ? AND metric = ?", key
                )
            else:
                count = c.execute("SELECT COUNT(*) FROM loads").fetchone()[0]
                exists = c.execute(
                    "SELECT 1 FROM loads WHERE target_kind = ? AND target_id = ? AND metric = ?",
                    key,
                ).fetchone()
                if count >= MAX_LOADS and not exists:
                    raise VimConflict(f"{MAX_LOADS} load curves are set already; remove some")
                c.execute("INSERT OR REPLACE INTO loads VALUES (?, ?, ?, ?, ?)", (*key, text, now))
        return LoadEntry(
            target_kind, target_id, metric, None if text is None else json.loads(text), now
        )

    @admin_operation
    def loads(self) -> list[LoadEntry]:
        """The load curves set through the API."""
        rows = self.store.conn().execute(
            "SELECT target_kind, target_id, metric, curve, set_at FROM loads "
            "ORDER BY set_at, target_kind, target_id, metric"
        )
        return [LoadEntry(k, i, m, json.loads(t), s) for k, i, m, t, s in rows]
