"""Reading members of stored package archives.

Archives live in the database (so every node sees them); each node keeps a local,
content-addressed cache file per archive for random access to members.
"""

from __future__ import annotations

import io
import os
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, BinaryIO, cast

from nfvo.inventory.blobs import BlobRepository
from nfvo.inventory.db import Database


class PackageFiles:
    """Random access to the members of one stored archive (already validated at onboarding)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with open(path, "rb") as f:
            magic = f.read(4)
        self._zip = magic.startswith(b"PK")

    def read(self, name: str) -> bytes:
        """One member's bytes; ``KeyError`` if absent."""
        if self._zip:
            with zipfile.ZipFile(self.path) as z:
                return z.read(name)
        with tarfile.open(self.path, "r:*") as t:
            member = t.getmember(name)
            f = t.extractfile(member)
            if f is None:
                raise KeyError(name)
            return f.read()

    def open(self, name: str) -> BinaryIO:
        """One member as a stream (closing it closes the archive); ``KeyError`` if absent.

        For members too large to read at once, such as software images being uploaded.
        """
        archive: zipfile.ZipFile | tarfile.TarFile
        if self._zip:
            archive = zipfile.ZipFile(self.path)
            try:
                inner: IO[bytes] | None = archive.open(name)
            except BaseException:
                archive.close()
                raise
        else:
            archive = tarfile.open(self.path, "r:*")
            try:
                inner = archive.extractfile(archive.getmember(name))
                if inner is None:
                    raise KeyError(name)
            except BaseException:
                archive.close()
                raise
        return cast(BinaryIO, _MemberStream(inner, archive))

    def sizes(self) -> dict[str, int]:
        """Uncompressed size of every regular member."""
        if self._zip:
            with zipfile.ZipFile(self.path) as z:
                return {i.filename: i.file_size for i in z.infolist() if not i.is_dir()}
        with tarfile.open(self.path, "r:*") as t:
            return {m.name: m.size for m in t.getmembers() if m.isfile()}

    def iter_members(self, names: list[str]) -> Iterator[tuple[str, bytes]]:
        """(name, bytes) of several members, opening the archive once."""
        if self._zip:
            with zipfile.ZipFile(self.path) as z:
                for n in names:
                    yield n, z.read(n)
            return
        with tarfile.open(self.path, "r:*") as t:
            for n in names:
                f = t.extractfile(t.getmember(n))
                yield n, f.read() if f else b""


class _MemberStream(io.RawIOBase):
    """A member of an open archive; closing it closes the member and then the archive."""

    def __init__(self, inner: IO[bytes], archive: zipfile.ZipFile | tarfile.TarFile) -> None:
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
            self.dir.mkdir(parents=True, exist_ok=True)
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
