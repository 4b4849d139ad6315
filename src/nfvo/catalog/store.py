"""Reading members of stored package archives.

Archives live in the database (so every node sees them); each node keeps a local,
content-addressed cache file per archive for random access to members.
"""

from __future__ import annotations

import io
import os
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, cast

from nfvo.catalog.csar import Csar, CsarLimits, open_members
from nfvo.catalog.errors import PackageError
from nfvo.errors import Conflict
from nfvo.inventory.blobs import BlobRepository
from nfvo.inventory.db import Database
from nfvo.private_files import private_dir

ZIP64_LIMIT = (1 << 31) - 1  # members this large need ZIP64 records when streamed


class PackageFiles:
    """Bounded access to the members of one stored archive (verified at onboarding).

    Every read goes through the same reader as onboarding (:func:`open_members`): members are
    inflated chunk by chunk, never beyond their declared size, and their CRC is checked, so
    an archive that slipped in before that check cannot make a read grow without bound.
    """

    def __init__(self, path: Path, limits: CsarLimits = CsarLimits()) -> None:
        self.path = path
        self.limits = limits

    def _open(self) -> Csar:
        try:
            return open_members(self.path, self.limits)
        except PackageError as exc:
            raise unreadable(exc) from None

    def read(self, name: str) -> bytes:
        """One member's bytes; ``KeyError`` if absent (small members only)."""
        with self._open() as csar:
            try:
                return b"".join(csar.stream(name))
            except PackageError as exc:
                raise unreadable(exc) from None

    def size(self, name: str) -> int:
        """A member's uncompressed size; ``KeyError`` if absent."""
        with self._open() as csar:
            return csar.size(name)

    def stream(self, name: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Bytes ``start..end`` (inclusive) of a member, chunk by chunk; ``KeyError`` if
        absent (raised at once, before the first chunk is asked for)."""
        csar = self._open()
        try:
            csar.size(name)
        except BaseException:
            csar.close()
            raise

        def gen() -> Iterator[bytes]:
            with csar:
                yield from csar.stream(name, start, end)

        return gen()

    def open(self, name: str) -> BinaryIO:
        """One member as a stream (closing it closes the archive); ``KeyError`` if absent.

        For members too large to read at once, such as software images being uploaded.
        """
        csar = self._open()
        try:
            inner = csar.open(name)
        except BaseException:
            csar.close()
            raise
        return cast(BinaryIO, _MemberStream(inner, csar))

    def sizes(self) -> dict[str, int]:
        """Uncompressed size of every regular member."""
        with self._open() as csar:
            return {n: csar.size(n) for n in csar}

    def iter_members(self, names: list[str]) -> Iterator[tuple[str, bytes]]:
        """(name, bytes) of several members, opening the archive once (small members only)."""
        with self._open() as csar:
            for n in names:
                try:
                    data = b"".join(csar.stream(n))
                except PackageError as exc:
                    raise unreadable(exc) from None
                yield n, data

    def zip_stream(self, names: list[str]) -> Iterator[bytes]:
        """A ZIP of the named members, produced chunk by chunk (never held whole in memory)."""
        sink = _Sink()
        with self._open() as csar, zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as out:
            for name in names:
                big = csar.size(name) >= ZIP64_LIMIT
                with out.open(name, "w", force_zip64=big) as dst:
                    for chunk in csar.stream(name):
                        dst.write(chunk)
                        if data := sink.take():
                            yield data
        if data := sink.take():
            yield data


def unreadable(exc: PackageError) -> Conflict:
    """The 409 for a stored archive whose member (or index) cannot be read within bounds."""
    what = f"archive member {exc.file!r}" if exc.file else "the stored archive"
    return Conflict(f"{what} cannot be read: {exc.detail} [{exc.cause}]", member=exc.file)


class _Sink(io.RawIOBase):
    """A write-only, unseekable target for :class:`zipfile.ZipFile` whose bytes are taken
    out as they come (zipfile then writes data descriptors instead of seeking back)."""

    def __init__(self) -> None:
        super().__init__()
        self._buf = bytearray()
        self._pos = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._buf += data
        self._pos += len(data)
        return len(data)

    def tell(self) -> int:
        return self._pos

    def take(self) -> bytes:
        data, self._buf = bytes(self._buf), bytearray()
        return data


class _MemberStream(io.RawIOBase):
    """A member of an open archive; closing it closes the member and then the archive."""

    def __init__(self, inner: BinaryIO, archive: Csar) -> None:
        super().__init__()
        self._inner = inner
        self._archive = archive

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._inner.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            try:
                self._inner.close()
            finally:
                self._archive.close()
        super().close()


class PackageCache:
    """Local cache of archives fetched from the blob store, keyed by blob id."""

    def __init__(self, db: Database, cache_dir: Path) -> None:
        self.db = db
        self.dir = cache_dir

    def files(self, blob_id: str) -> PackageFiles:
        """Member access for a blob, fetching it into the cache on first use."""
        path = self.dir / f"{blob_id}.pkg"
        if not path.exists():
            private_dir(self.dir)
            fd, tmp = tempfile.mkstemp(dir=self.dir, prefix=".fetch-")
            try:
                with os.fdopen(fd, "wb") as out, self.db.session() as s:
                    for chunk in BlobRepository(s).iter_range(blob_id):
                        out.write(chunk)
                os.replace(tmp, path)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
        return PackageFiles(path)

    def evict(self, blob_id: str) -> None:
        """Drop a cached archive (after the package is deleted)."""
        (self.dir / f"{blob_id}.pkg").unlink(missing_ok=True)
