"""Package archives stored in the database in chunks, so all nodes sharing it see them."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from typing import BinaryIO

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from nfvo.inventory.models import Blob, BlobChunk

CHUNK = 1 << 20


class BlobRepository:
    """Write, read (with byte ranges) and delete chunked blobs inside a session."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def put(self, stream: BinaryIO, *, chunk_size: int = CHUNK) -> Blob:
        """Store everything readable from ``stream``; returns the new blob row."""
        blob_id = str(uuid.uuid4())
        digest = hashlib.sha256()
        blob = Blob(id=blob_id, size=0, sha256="", chunk_size=chunk_size)
        self.s.add(blob)
        self.s.flush()
        seq = 0
        size = 0
        while data := stream.read(chunk_size):
            # Fill whole chunks so that range reads can compute chunk indexes.
            while len(data) < chunk_size:
                more = stream.read(chunk_size - len(data))
                if not more:
                    break
                data += more
            digest.update(data)
            self.s.add(BlobChunk(blob_id=blob_id, seq=seq, data=data))
            seq += 1
            size += len(data)
            if seq % 16 == 0:
                self.s.flush()
        blob.size = size
        blob.sha256 = digest.hexdigest()
        self.s.flush()
        return blob

    def get(self, blob_id: str) -> Blob | None:
        """The blob's metadata row."""
        return self.s.get(Blob, blob_id)

    def iter_range(self, blob_id: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Bytes ``start..end`` (inclusive, like HTTP ranges) of a blob, chunk by chunk."""
        blob = self.s.get(Blob, blob_id)
        if blob is None:
            return
        last = blob.size - 1 if end is None else min(end, blob.size - 1)
        if start > last:
            return
        first_seq, last_seq = start // blob.chunk_size, last // blob.chunk_size
        rows = self.s.execute(
            select(BlobChunk.seq, BlobChunk.data)
            .where(BlobChunk.blob_id == blob_id)
            .where(BlobChunk.seq >= first_seq, BlobChunk.seq <= last_seq)
            .order_by(BlobChunk.seq)
        )
        for seq, data in rows:
            base = seq * blob.chunk_size
            lo = max(start - base, 0)
            hi = min(last - base + 1, len(data))
            yield bytes(data[lo:hi])

    def read_all(self, blob_id: str) -> bytes:
        """The whole blob in memory (small blobs only)."""
        return b"".join(self.iter_range(blob_id))

    def delete(self, blob_id: str) -> None:
        """Remove a blob and its chunks (absent blobs are fine)."""
        self.s.execute(delete(BlobChunk).where(BlobChunk.blob_id == blob_id))
        self.s.execute(delete(Blob).where(Blob.id == blob_id))

    def count(self) -> int:
        """Number of stored blobs (tests use it to prove nothing leaked)."""
        return len(self.s.execute(select(Blob.id)).all())
