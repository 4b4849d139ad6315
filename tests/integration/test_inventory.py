"""Inventory on SQLite and PostgreSQL: migrations, chunked blobs, settings, recovery."""

from __future__ import annotations

import io
import os
import socket
import threading
from pathlib import Path

import pytest

from nfvo.catalog.service import CatalogService
from nfvo.catalog.states import OnboardingState, PackageKind
from nfvo.inventory.blobs import BlobRepository
from nfvo.inventory.db import Database
from nfvo.inventory.repositories import CatalogRepository, SettingsRepository


@pytest.fixture
def db(db_url: str) -> Database:
    d = Database(db_url)
    d.migrate()
    yield d
    d.dispose()


def test_migrate_is_idempotent_and_safe_concurrently(db_url: str) -> None:
    dbs = [Database(db_url) for _ in range(3)]
    errors: list[BaseException] = []

    def run(d: Database) -> None:
        try:
            d.migrate()
        except BaseException as exc:  # pragma: no cover - the assertion reports it
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(d,)) for d in dbs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    dbs[0].migrate()
    with dbs[0].session() as s:
        assert CatalogRepository(s).count() == 0
    for d in dbs:
        d.dispose()


@pytest.mark.parametrize("size", [0, 1, 999, 1000, 1001, 4321])
def test_blob_ranges_across_chunks(db: Database, size: int) -> None:
    data = os.urandom(size)
    with db.session() as s:
        blob = BlobRepository(s).put(io.BytesIO(data), chunk_size=1000)
        blob_id = blob.id
    assert blob.size == size
    with db.session() as s:
        repo = BlobRepository(s)
        assert repo.read_all(blob_id) == data
        for start, end in [(0, 0), (0, 999), (999, 1000), (500, 2500), (size - 1, None)]:
            if size == 0 or start < 0 or start >= size:
                continue
            got = b"".join(repo.iter_range(blob_id, start, end))
            stop = size if end is None else end + 1
            assert got == data[start:stop], (start, end)
    with db.session() as s:
        BlobRepository(s).delete(blob_id)
        assert BlobRepository(s).count() == 0


def test_blob_put_short_reads(db: Database) -> None:
    class Trickle(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self.data = data

        def readable(self) -> bool:
            return True

        def read(self, n: int = -1) -> bytes:  # at most 7 bytes per call
            k = 7 if n < 0 else min(7, n)
            out, self.data = self.data[:k], self.data[k:]
            return out

    data = os.urandom(2500)
    with db.session() as s:
        blob = BlobRepository(s).put(Trickle(data), chunk_size=1000)
    with db.session() as s:
        assert b"".join(BlobRepository(s).iter_range(blob.id, 995, 2004)) == data[995:2005]


def test_setting_first_writer_wins(db: Database) -> None:
    with db.session() as s:
        a = SettingsRepository(s).get_or_create("k", lambda: "first")
    with db.session() as s:
        b = SettingsRepository(s).get_or_create("k", lambda: "second")
    assert a == b == "first"


def test_interrupted_uploads_become_error(db: Database, tmp_path: Path) -> None:
    cat = CatalogService(db, tmp_path / "cache")
    mine = cat.create(PackageKind.vnf, {})
    other_host = cat.create(PackageKind.vnf, {})
    with db.session() as s:
        repo = CatalogRepository(s)
        for pkg, worker in ((mine, f"{socket.gethostname()}:999999"), (other_host, "elsewhere:1")):
            row = repo.lock(pkg.id)
            row.onboarding_state = OnboardingState.PROCESSING
            row.info = {"worker": worker}
    assert cat.recover_interrupted() == 1
    assert cat.get(PackageKind.vnf, mine.id).onboarding_state == "ERROR"
    assert cat.get(PackageKind.vnf, mine.id).failure_details["cause"] == "INTERRUPTED"
    # another host's upload in flight is not touched
    assert cat.get(PackageKind.vnf, other_host.id).onboarding_state == "PROCESSING"
