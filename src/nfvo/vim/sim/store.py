"""The sim VIM's state: one SQLite file per VIM, shared by threads and processes.

Each thread gets its own connection; the file runs in WAL mode with a generous busy
timeout, and every allocation happens inside ``BEGIN IMMEDIATE`` so two writers (threads or
processes) serialise and capacity can never be oversubscribed. The topology (zones, hosts,
flavors, images, provider networks) is written once, by whichever instance gets there first.
"""

from __future__ import annotations

import ipaddress
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from nfvo.private_files import private_dir, private_sqlite_file
from nfvo.vim.base import VimUnavailable
from nfvo.vim.sim.behaviour import dumps
from nfvo.vim.sim.config import SimConfig

SCHEMA_VERSION = "1"
BUSY_TIMEOUT_MS = 60_000

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS zones (name TEXT PRIMARY KEY, available INTEGER NOT NULL)",
    """CREATE TABLE IF NOT EXISTS hosts (
        name TEXT PRIMARY KEY, zone TEXT NOT NULL REFERENCES zones(name),
        vcpus INTEGER NOT NULL, ram_mib INTEGER NOT NULL, disk_gib INTEGER NOT NULL,
        cpu_ratio REAL NOT NULL, ram_ratio REAL NOT NULL, disk_ratio REAL NOT NULL,
        state TEXT NOT NULL DEFAULT 'up')""",
    "CREATE INDEX IF NOT EXISTS hosts_zone ON hosts (zone, name)",
    """CREATE TABLE IF NOT EXISTS flavors (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE,
        vcpus INTEGER NOT NULL, ram_mib INTEGER NOT NULL, disk_gib INTEGER NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS images (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE,
        disk_format TEXT, container_format TEXT, size_bytes INTEGER, checksum TEXT)""",
    """CREATE TABLE IF NOT EXISTS networks (id TEXT PRIMARY KEY, name TEXT NOT NULL,
        status TEXT NOT NULL, external INTEGER NOT NULL, mtu INTEGER, provider INTEGER NOT NULL,
        tags TEXT NOT NULL, created REAL NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS subnets (id TEXT PRIMARY KEY, name TEXT NOT NULL,
        network_id TEXT NOT NULL, cidr TEXT NOT NULL, ip_version INTEGER NOT NULL,
        gateway_ip TEXT, dhcp INTEGER NOT NULL, tags TEXT NOT NULL, created REAL NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS subnets_network ON subnets (network_id)",
    """CREATE TABLE IF NOT EXISTS ports (id TEXT PRIMARY KEY, name TEXT NOT NULL,
        network_id TEXT NOT NULL, status TEXT NOT NULL, server_id TEXT, mac TEXT NOT NULL,
        rules TEXT NOT NULL, tags TEXT NOT NULL, created REAL NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS ports_network ON ports (network_id)",
    "CREATE INDEX IF NOT EXISTS ports_server ON ports (server_id)",
    """CREATE TABLE IF NOT EXISTS ips (subnet_id TEXT NOT NULL, address TEXT NOT NULL,
        port_id TEXT NOT NULL, PRIMARY KEY (subnet_id, address))""",
    "CREATE INDEX IF NOT EXISTS ips_port ON ips (port_id)",
    """CREATE TABLE IF NOT EXISTS servers (id TEXT PRIMARY KEY, name TEXT NOT NULL,
        status TEXT NOT NULL, host TEXT NOT NULL, zone TEXT NOT NULL,
        vcpus INTEGER NOT NULL, ram_mib INTEGER NOT NULL, disk_gib INTEGER NOT NULL,
        image TEXT, flavor TEXT, user_data TEXT, tags TEXT NOT NULL, fault TEXT,
        requested_zone TEXT,
        next_status TEXT, next_fault TEXT, next_at REAL,
        created_at TEXT NOT NULL, created REAL NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS servers_host ON servers (host)",
    "CREATE INDEX IF NOT EXISTS servers_next ON servers (next_at)",
    """CREATE TABLE IF NOT EXISTS keys (kind TEXT NOT NULL, key TEXT NOT NULL,
        resource_id TEXT NOT NULL, PRIMARY KEY (kind, key))""",
    "CREATE INDEX IF NOT EXISTS keys_resource ON keys (resource_id)",
    """CREATE TABLE IF NOT EXISTS host_faults (host TEXT NOT NULL, spec TEXT NOT NULL,
        armed_at REAL NOT NULL, PRIMARY KEY (host, spec))""",
    # faults injected through the admin API: one per (kind, target) at a time
    """CREATE TABLE IF NOT EXISTS injected_faults (id TEXT PRIMARY KEY, kind TEXT NOT NULL,
        target TEXT NOT NULL, created REAL NOT NULL, UNIQUE (kind, target))""",
    # load curves set through the admin API: per target (server, vnf, host) and metric
    """CREATE TABLE IF NOT EXISTS loads (target_kind TEXT NOT NULL, target_id TEXT NOT NULL,
        metric TEXT NOT NULL, curve TEXT NOT NULL, set_at REAL NOT NULL,
        PRIMARY KEY (target_kind, target_id, metric))""",
)


def stable_id(kind: str, name: str) -> str:
    """A deterministic id for topology objects (same config -> same ids)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"nfvo-sim:{kind}:{name}"))


class Store:
    """Per-thread SQLite connections to one sim VIM's state file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        private_dir(path.parent)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def conn(self) -> sqlite3.Connection:
        """This thread's connection (autocommit; transactions are explicit)."""
        if os.getpid() != self._pid:  # forked: never reuse the parent's connections
            self._pid = os.getpid()
            self._local = threading.local()
            self._all = []
        c = getattr(self._local, "conn", None)
        if c is None:
            try:
                private_sqlite_file(self.path)
                c = sqlite3.connect(
                    self.path, isolation_level=None, check_same_thread=False, timeout=60
                )
                c.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                _enable_wal(c)
                c.execute("PRAGMA synchronous = NORMAL")
            except sqlite3.Error as exc:
                raise VimUnavailable(f"sim VIM state {self.path.name} unavailable: {exc}") from exc
            self._local.conn = c
            with self._lock:
                self._all.append(c)
        return c

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A ``BEGIN IMMEDIATE`` transaction: committed on success, rolled back on error."""
        c = self.conn()
        c.execute("BEGIN IMMEDIATE")
        try:
            yield c
        except BaseException:
            c.execute("ROLLBACK")
            raise
        c.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A consistent read snapshot (deferred transaction)."""
        c = self.conn()
        c.execute("BEGIN")
        try:
            yield c
        finally:
            c.execute("COMMIT")

    def close(self) -> None:
        """Close every connection this store opened."""
        with self._lock:
            conns, self._all = self._all, []
        for c in conns:
            try:
                c.close()
            except sqlite3.Error:
                pass
        self._local = threading.local()

    def initialise(self, cfg: SimConfig) -> bool:
        """Create the schema and write the topology once; True if this call wrote it."""
        with self.write() as c:
            for stmt in _SCHEMA:
                c.execute(stmt)
            if c.execute("SELECT 1 FROM meta WHERE key = 'topology'").fetchone():
                return False
            _write_topology(c, cfg)
            c.executemany(
                "INSERT INTO meta VALUES (?, ?)",
                [("topology", "1"), ("schema", SCHEMA_VERSION), ("created", str(time.time()))],
            )
            return True


def _enable_wal(c: sqlite3.Connection) -> None:
    """Switch to WAL; SQLite reports a concurrent switch as busy without waiting, so retry."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    delay = 0.001
    while True:
        try:
            c.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            if time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.05)


def _write_topology(c: sqlite3.Connection, cfg: SimConfig) -> None:
    top = cfg.top
    c.executemany("INSERT INTO zones VALUES (?, 1)", [(z,) for z in cfg.zone_names])
    c.executemany(
        "INSERT INTO hosts VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'up')",
        cfg.hosts,
    )
    c.executemany(
        "INSERT INTO flavors VALUES (?, ?, ?, ?, ?)",
        [
            (f.id or stable_id("flavor", f.name), f.name, f.vcpus, f.ram_mib, f.disk_gib)
            for f in top.flavors
        ],
    )
    c.executemany(
        "INSERT INTO images VALUES (?, ?, ?, ?, ?, ?)",
        [
            (
                i.id or stable_id("image", i.name),
                i.name,
                i.disk_format,
                i.container_format,
                i.size_bytes,
                i.checksum,
            )
            for i in top.images
        ],
    )
    now = time.time()
    for n in top.networks:
        net_id = stable_id("network", n.name)
        c.execute(
            "INSERT INTO networks VALUES (?, ?, 'ACTIVE', ?, NULL, 1, '{}', ?)",
            (net_id, n.name, int(n.external), now),
        )
        if n.cidr:
            net = ipaddress.ip_network(n.cidr)
            gateway = str(next(net.hosts(), net.network_address))
            c.execute(
                "INSERT INTO subnets VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)",
                (
                    stable_id("subnet", n.name),
                    f"{n.name}-subnet",
                    net_id,
                    str(net),
                    net.version,
                    gateway,
                    dumps({}),
                    now,
                ),
            )
