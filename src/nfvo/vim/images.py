"""Reading an image's bytes once: size and digests computed while the bytes stream by.

Drivers that upload a software image (the sim, OpenStack's Glance) read it through a
``HashingReader`` so the checksum the VNFD declares is verified, and the image service's own
digests compared, without holding the image in memory or reading it twice.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from typing import Any, BinaryIO

from nfvo.vim.base import Image, ImageLookup, ImageRef, ImageSpec, VimBadRequest

CHUNK_BYTES = 1 << 20


def _squash(name: str) -> str:
    return re.sub(r"[-_ ]", "", name.strip().lower())


def hashlib_name(algorithm: str) -> str | None:
    """``sha-256`` / ``SHA256`` / ``sha_256`` -> ``sha256``; None if hashlib lacks it."""
    wanted = _squash(algorithm)
    return next((n for n in sorted(hashlib.algorithms_guaranteed) if _squash(n) == wanted), None)


class HashingReader:
    """Reads a stream in chunks, counting and hashing every byte that passes through.

    Exists so an upload can stream the package member straight into the VIM and still know,
    once the last chunk went out, the size and every digest it must check.
    """

    def __init__(self, stream: BinaryIO, algorithms: set[str], chunk: int = CHUNK_BYTES) -> None:
        self._stream = stream
        self._chunk = chunk
        self._hashes = {a: hashlib.new(a, usedforsecurity=False) for a in algorithms}
        self.size = 0

    def chunks(self) -> Iterator[bytes]:
        """The stream's bytes, chunk by chunk (each counted and hashed)."""
        while True:
            data = self._stream.read(self._chunk)
            if not data:
                return
            self.size += len(data)
            for h in self._hashes.values():
                h.update(data)
            yield data

    def drain(self) -> None:
        """Read the whole stream (for a VIM that only needs the size and digests)."""
        for _ in self.chunks():
            pass

    def hexdigest(self, algorithm: str) -> str | None:
        """The digest of the bytes read so far, if ``algorithm`` was asked for."""
        name = hashlib_name(algorithm)
        h = self._hashes.get(name) if name else None
        return h.hexdigest() if h else None


def declared_algorithm(spec: ImageSpec, request_id: str | None = None) -> str | None:
    """The hashlib name of the checksum the spec declares; VimBadRequest if unsupported."""
    if not spec.checksum_hash:
        return None
    name = hashlib_name(spec.checksum_algorithm or "sha-256")
    if name is None:
        raise VimBadRequest(
            f"image {spec.name!r}: checksum algorithm {spec.checksum_algorithm!r} is not supported",
            request_id=request_id,
        )
    return name


def check_declared(spec: ImageSpec, reader: HashingReader, request_id: str | None = None) -> None:
    """VimBadRequest unless the bytes read match the checksum the spec declares."""
    algorithm = declared_algorithm(spec, request_id)
    if algorithm is None or spec.checksum_hash is None:
        return
    got = reader.hexdigest(algorithm)
    if got != spec.checksum_hash.strip().lower():
        raise VimBadRequest(
            f"image {spec.name!r}: the file's {spec.checksum_algorithm or 'sha-256'} checksum "
            f"is {got}, the VNF package declares {spec.checksum_hash}",
            request_id=request_id,
        )


def select_image(
    ref: ImageRef, candidates: list[tuple[Image, dict[str, str]]], vim: Any = None
) -> ImageLookup:
    """The image among ``candidates`` (each with the digests the VIM reports for it, keyed by
    hashlib name) that ``ref`` names, preferring an exact name to an id match.

    With a checksum in ``ref``, a candidate whose digest in that algorithm differs is not
    usable (``detail`` says so); one the VIM has no digest of that algorithm for is usable,
    unverified (``checksum_verified`` False).
    """
    where = f" on VIM {getattr(vim, 'vim_id', None) or vim}" if vim is not None else ""
    named = [c for c in candidates if c[0].name == ref.name] or [
        c for c in candidates if c[0].id == ref.name
    ]
    if not named:
        return ImageLookup(None, f"no image named {ref.name!r}{where}")
    if not ref.checksum_hash:
        return ImageLookup(named[0][0])
    algorithm = hashlib_name(ref.checksum_algorithm or "sha-256")
    wanted = ref.checksum_hash.strip().lower()
    differing = []
    for image, digests in named:
        have = digests.get(algorithm or "") if algorithm else None
        if have is None:
            continue
        if have == wanted:
            return ImageLookup(image, checksum_verified=True)
        differing.append((image, have))
    if differing:
        image, have = differing[0]
        return ImageLookup(
            None,
            f"image {ref.name!r}{where} ({image.id}) has {ref.checksum_algorithm} {have}, "
            f"the VNFD requires {wanted}",
        )
    return ImageLookup(named[0][0])
