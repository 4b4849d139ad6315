"""List endpoints at scale: one page, a filtered page and every page of 50,000 NS instances and
50,000 op occurrences, then an open-loop throughput run of authenticated list requests.

Prints JSON. The inventory is seeded straight into the database (bulk inserts through
SQLAlchemy), then the real server runs as a subprocess (``python -m nfvo.cli serve``) and
everything is measured through HTTP with bearer tokens, from this process:

* ``page``: one page at the default page size, p50/p99 over ``--requests`` requests;
* ``filtered_page``: the same with ``filter=(eq,nsState,INSTANTIATED)`` (op occurrences:
  ``(eq,operationState,COMPLETED)``);
* ``tenant_page``: one page as a reader of a tenant that owns a tenth of the rows;
* ``all_pages``: every page at page size 1,000 (a second server with ``NFVO_PAGE_SIZE=1000``),
  following the ``Link`` headers, total seconds, and whether each row came exactly once;
* ``throughput``: ``--rate`` list requests per second started on a fixed schedule (open loop)
  for ``--seconds`` on SQLite with a small inventory; latency counts from the scheduled start.

SQLite always; PostgreSQL too with ``--pg`` (``NFVO_TEST_DATABASE_URL`` or ``--pg-url``; the
run uses a throw-away schema).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from sqlalchemy import create_engine, insert, text

from nfvo.inventory.db import Database
from nfvo.inventory.models import NsInstance, NsLcmOpOcc, NsVl, Tenant

PASSWORD = "bench-admin-pw"
READER_SECRET = "bench-reader-secret"
NS = "/nslcm/v2/ns_instances"
OPS = "/nslcm/v2/ns_lcm_op_occs"
FILTERS = {NS: "(eq,nsState,INSTANTIATED)", OPS: "(eq,operationState,COMPLETED)"}
BATCH = 5000


# ------------------------------------------------------------------------------- seeding


def _ns_row(i: int, t0: datetime, tenant: str | None) -> dict[str, Any]:
    instantiated = i % 5 < 3
    return {
        "id": str(uuid.UUID(int=(1 << 64) + i)),
        "tenant_id": tenant,
        "nsd_info_id": "00000000-0000-0000-0000-0000000000d1",
        "nsd_id": "ns-webapp" if i % 4 else "ns-edge",
        "name": f"ns-{i:06d}",
        "description": "seeded by benchmarks/list.py",
        "ns_state": "INSTANTIATED" if instantiated else "NOT_INSTANTIATED",
        "flavour_id": "default" if instantiated else None,
        "plan": {"seeded": True, "vnf_layers": [], "virtual_links": []} if instantiated else None,
        "scale_status": {},
        "revision": 1,
        # ten rows share each timestamp: the id breaks the tie
        "created_at": t0 + timedelta(milliseconds=i // 10),
        "updated_at": t0,
    }


def _vl_rows(i: int) -> list[dict[str, Any]]:
    """The NS virtual links of an instantiated seeded NS (two, on one VIM)."""
    if i % 5 >= 3:
        return []
    return [
        {
            "ns_instance_id": str(uuid.UUID(int=(1 << 64) + i)),
            "vl_id": f"vl-{k}",
            "vim_account_id": "vim-1",
            "network_id": str(uuid.UUID(int=i * 8 + k)),
            "subnet_id": None,
        }
        for k in (1, 2)
    ]


def _op_row(i: int, n_ns: int, t0: datetime, tenant: str | None) -> dict[str, Any]:
    at = t0 + timedelta(milliseconds=i // 10)
    return {
        "id": str(uuid.UUID(int=(2 << 64) + i)),
        "ns_instance_id": str(uuid.UUID(int=(1 << 64) + i % max(n_ns, 1))),
        "tenant_id": tenant,
        "operation": ("INSTANTIATE", "SCALE", "HEAL", "TERMINATE")[i % 4],
        "state": ("COMPLETED", "COMPLETED", "COMPLETED", "FAILED", "PROCESSING")[i % 5],
        "is_automatic_invocation": i % 7 == 0,
        "params": {"nsFlavourId": "default", "additionalParamsForNs": {"vimAccountId": "vim-1"}},
        "error": None,
        "changes": {},
        "cancel_pending": False,
        "cancel_mode": None,
        "generation": 1,
        "start_time": at,
        "state_entered_time": at,
    }


def seed(url: str, n_ns: int, n_ops: int) -> tuple[str, float]:
    """Migrate and bulk-insert the inventory; (tenant id, seconds). Every tenth row belongs to
    the tenant, the rest to nobody (global)."""
    started = time.perf_counter()
    db = Database(url)
    db.migrate()
    tenant = str(uuid.uuid4())
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    with db.session() as s:
        s.add(Tenant(id=tenant, name="bench-tenant"))
    for model, count, rows in (
        (NsInstance, n_ns, lambda i: [_ns_row(i, t0, tenant if i % 10 == 0 else None)]),
        (NsVl, n_ns, _vl_rows),
        (NsLcmOpOcc, n_ops, lambda i: [_op_row(i, n_ns, t0, tenant if i % 10 == 0 else None)]),
    ):
        for start in range(0, count, BATCH):
            batch = [r for i in range(start, min(count, start + BATCH)) for r in rows(i)]
            if batch:
                with db.session() as s:
                    s.execute(insert(model), batch)
    with db.engine.begin() as c:  # fresh statistics for the planner, of these tables only
        for table in ("tenants", "ns_instances", "ns_lcm_op_occs"):
            c.execute(text(f"ANALYZE {table}"))
    db.dispose()
    return tenant, time.perf_counter() - started


# ------------------------------------------------------------------------------- server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def server(data_dir: Path, url: str, page_size: int | None = None) -> Iterator[tuple[str, int]]:
    """``nfvo serve`` in a subprocess on a free loopback port; yields (base URL, its pid)."""
    port = _free_port()
    env = dict(os.environ)
    env.update(NFVO_DATABASE_URL=url, NFVO_ADMIN_PASSWORD=PASSWORD, NFVO_SYNC_INTERVAL="0")
    env.pop("NFVO_PAGE_SIZE", None)
    if page_size is not None:
        env["NFVO_PAGE_SIZE"] = str(page_size)
    cmd = [sys.executable, "-m", "nfvo.cli", "serve", "--port", str(port)]
    cmd += ["--data-dir", str(data_dir), "--log-level", "warning"]
    proc = subprocess.Popen(cmd, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("nfvo serve did not start")
            time.sleep(0.2)
        yield base, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def token(base: str, user: str, secret: str) -> str:
    r = httpx.post(
        f"{base}/oauth2/token", data={"grant_type": "client_credentials"}, auth=(user, secret)
    )
    r.raise_for_status()
    return r.json()["access_token"]


def client(base: str, tok: str) -> httpx.Client:
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {tok}"}, timeout=120)


def reader_of(base: str, admin: httpx.Client, tenant: str) -> httpx.Client:
    """A client with the reader role in ``tenant`` (created once per database)."""
    r = admin.post(
        "/admin/v1/users",
        json={
            "clientId": "bench-reader",
            "role": "reader",
            "tenantId": tenant,
            "clientSecret": READER_SECRET,
        },
    )
    assert r.status_code in (201, 409), r.text
    return client(base, token(base, "bench-reader", READER_SECRET))


# ------------------------------------------------------------------------------- measures


def _ms(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {"p50_ms": round(statistics.median(ordered) * 1000, 1), "p99_ms": round(p99 * 1000, 1)}


def timed_pages(c: httpx.Client, path: str, params: dict[str, str], n: int) -> dict[str, Any]:
    """``n`` sequential GETs of one page; latency percentiles and the page length."""
    c.get(path, params=params).raise_for_status()  # warm-up
    times, size = [], 0
    for _ in range(n):
        t = time.perf_counter()
        r = c.get(path, params=params)
        times.append(time.perf_counter() - t)
        assert r.status_code == 200, r.text
        size = len(r.json())
    return {**_ms(times), "rows": size, "requests": n}


def all_pages(c: httpx.Client, path: str, expected: int) -> dict[str, Any]:
    """Walk every page through the Link headers; seconds, pages, and exactly-once check."""
    seen: list[str] = []
    pages, url = 0, path
    t = time.perf_counter()
    while url:
        r = c.get(url)
        assert r.status_code == 200, r.text
        seen += [item["id"] for item in r.json()]
        pages += 1
        link = r.headers.get("link")
        url = link.split(";")[0].strip("<>") if link else ""
    seconds = time.perf_counter() - t
    return {
        "seconds": round(seconds, 2),
        "pages": pages,
        "rows": len(seen),
        "each_row_once": len(seen) == len(set(seen)) == expected,
    }


def large(url: str, n_ns: int, n_ops: int, requests: int) -> dict[str, Any]:
    """All the at-scale figures for one database."""
    with tempfile.TemporaryDirectory() as tmp:
        tenant, seed_s = seed(url, n_ns, n_ops)
        out: dict[str, Any] = {"seed_seconds": round(seed_s, 1), "ns": n_ns, "op_occs": n_ops}
        with server(Path(tmp), url) as (base, _):
            admin = client(base, token(base, "admin", PASSWORD))
            reader = reader_of(base, admin, tenant)
            for name, path in (("ns_instances", NS), ("ns_lcm_op_occs", OPS)):
                out[name] = {
                    "page": timed_pages(admin, path, {}, requests),
                    "filtered_page": timed_pages(admin, path, {"filter": FILTERS[path]}, requests),
                    "tenant_page": timed_pages(reader, path, {}, requests),
                }
        with server(Path(tmp), url, page_size=1000) as (base, _):
            admin = client(base, token(base, "admin", PASSWORD))
            out["ns_instances"]["all_pages_1000"] = all_pages(admin, NS, n_ns)
            out["ns_lcm_op_occs"]["all_pages_1000"] = all_pages(admin, OPS, n_ops)
        return out


class _Http:
    """A minimal keep-alive HTTP/1.1 GET client on asyncio streams: a load generator whose
    own cost per request stays far below the server's (a general-purpose client spends more
    CPU reading a large body than the server spends producing it)."""

    def __init__(self, base: str, tok: str) -> None:
        host, port = base.removeprefix("http://").split(":")
        self.host, self.port = host, int(port)
        self.head = f"Host: {host}:{port}\r\nAuthorization: Bearer {tok}\r\n\r\n".encode()
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.opened: list[asyncio.StreamWriter] = []

    async def get(self, path: str) -> int:
        """GET ``path``; the status code (the body is read and dropped). A kept-alive
        connection the server closed meanwhile is retried once on a new one, as clients do."""
        reused = bool(self.idle)
        if reused:
            reader, writer = self.idle.pop()
        else:
            reader, writer = await self._connect()
        writer.write(f"GET {path} HTTP/1.1\r\n".encode() + self.head)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionResetError):
            if not reused:
                raise
            writer.close()
            reader, writer = await self._connect()
            writer.write(f"GET {path} HTTP/1.1\r\n".encode() + self.head)
            head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
        length = {k.lower(): v for k, v in headers.items()}.get("content-length")
        if length is None:
            raise RuntimeError(f"{path}: response without Content-Length")
        await reader.readexactly(int(length))
        self.idle.append((reader, writer))
        return int(lines[0].split(" ", 2)[1])

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        self.opened.append(writer)
        return reader, writer

    def close(self) -> None:
        for writer in self.opened:
            writer.close()


async def _open_loop(
    base: str, tok: str, paths: list[str], rate: float, seconds: float
) -> dict[str, Any]:
    """Start ``rate`` requests per second on a fixed schedule, whatever the responses do."""
    n = int(rate * seconds)
    latencies: list[float] = []
    errors: dict[str, int] = {}
    http = _Http(base, tok)
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.5

    async def one(i: int) -> None:
        due = start + i / rate
        await asyncio.sleep(max(0.0, due - loop.time()))
        try:
            status = await asyncio.wait_for(http.get(paths[i % len(paths)]), timeout=30)
            key = str(status)
        except (OSError, RuntimeError, asyncio.IncompleteReadError, TimeoutError) as exc:
            status, key = 0, type(exc).__name__
        if status == 200:
            latencies.append(loop.time() - due)
        else:
            errors[key] = errors.get(key, 0) + 1

    try:
        await asyncio.gather(*(one(i) for i in range(n)))
    finally:
        http.close()
    wall = loop.time() - start
    return {
        "offered_rate": rate,
        "seconds": seconds,
        "requests": n,
        "errors": sum(errors.values()),
        "error_kinds": errors,
        "achieved_rate": round(len(latencies) / wall, 1),
        **_ms(latencies or [0.0]),
    }


def throughput(rate: float, seconds: float) -> dict[str, Any]:
    """Open-loop authenticated list requests on SQLite with a small inventory."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'nfvo.db'}"
        seed(url, 200, 1000)
        with server(Path(tmp), url) as (base, pid):
            admin = client(base, token(base, "admin", PASSWORD))
            for i in range(20):
                admin.post("/vnfpkgm/v2/vnf_packages", json={"userDefinedData": {"n": i}})
                admin.post("/nsd/v2/ns_descriptors", json={})
            admin.post("/admin/v1/tenants", json={"name": "other"})
            paths = [
                NS,
                f"{NS}?filter={quote(FILTERS[NS])}",
                OPS,
                f"{OPS}?filter={quote(FILTERS[OPS])}",
                "/vnfpkgm/v2/vnf_packages",
                "/nsd/v2/ns_descriptors",
                "/admin/v1/tenants",
                "/admin/v1/vim_accounts",
            ]
            cpu = cpu_seconds(pid)
            result = asyncio.run(
                _open_loop(base, token(base, "admin", PASSWORD), paths, rate, seconds)
            )
            per_request = (cpu_seconds(pid) - cpu) / max(result["requests"], 1)
            return {
                "inventory": {"ns": 200, "op_occs": 1000, "packages": 40},
                **result,
                "server_cpu_ms_per_request": round(per_request * 1000, 2),
            }


@contextmanager
def pg_schema(base: str) -> Iterator[str]:
    """A throw-away schema on PostgreSQL, as a URL whose search_path points at it."""
    schema = "bench_" + uuid.uuid4().hex[:10]
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.connect() as c:  # and the workflow engine's own schema beside it
            c.execute(text(f'DROP SCHEMA IF EXISTS "{schema}_dbos" CASCADE'))
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ns", type=int, default=50_000, help="NS instances seeded")
    ap.add_argument("--ops", type=int, default=50_000, help="op occurrences seeded")
    ap.add_argument("--requests", type=int, default=200, help="requests per latency figure")
    ap.add_argument("--pg", action="store_true", help="also measure on PostgreSQL")
    ap.add_argument("--pg-url", default=os.environ.get("NFVO_TEST_DATABASE_URL"))
    ap.add_argument("--no-sqlite", action="store_true", help="skip the at-scale SQLite run")
    ap.add_argument("--rate", type=float, default=200.0, help="throughput: requests/s offered")
    ap.add_argument("--seconds", type=float, default=60.0, help="throughput: duration (0: skip)")
    args = ap.parse_args()
    if args.pg and not args.pg_url:
        ap.error("--pg needs NFVO_TEST_DATABASE_URL or --pg-url")
    out: dict[str, Any] = {}
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            out["sqlite"] = large(f"sqlite:///{tmp}/nfvo.db", args.ns, args.ops, args.requests)
    if args.pg:
        with pg_schema(args.pg_url) as url:
            out["postgresql"] = large(url, args.ns, args.ops, args.requests)
    if args.seconds > 0:
        out["throughput_sqlite"] = throughput(args.rate, args.seconds)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
