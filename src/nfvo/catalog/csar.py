"""Safe, lazy reader for CSAR packages (ETSI SOL004 VNF packages, SOL007 NSD packages).

A package comes from an untrusted client, so opening it is a security boundary: the reader
never extracts to disk, refuses unsafe member names and types, bounds every size and
compression ratio (declared *and* observed while inflating), and serves member bytes lazily
from one open file handle. On top of that it checks the CSAR structure (TOSCA.meta or a single
root YAML), parses the manifest and verifies every declared digest.

Formats are recognised by content: zip (stored/deflated), tar and gzip-compressed tar.
"""

from __future__ import annotations

import bisect
import hashlib
import io
import os
import re
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

import yaml

from nfvo.catalog.errors import PackageError
from nfvo.catalog.manifest import (
    HASHLIB_NAME,
    TOSCA_META_PATH,
    ArtifactEntry,
    Manifest,
    canonical_algorithm,
    decode_text,
    parse_manifest,
    parse_tosca_meta,
)

__all__ = [
    "ArtifactEntry",
    "Csar",
    "CsarLimits",
    "Manifest",
    "open_csar",
    "open_members",
    "sniff_format",
]

_CHUNK = 64 * 1024  # compressed bytes read at a time
_OUT_CHUNK = 256 * 1024  # most bytes inflated per step (bounds memory)
# Ratios are only meaningful once some output exists: a 4 KiB file of spaces legitimately
# deflates 100:1. Below this many uncompressed bytes the ratio limit is not applied.
RATIO_GRACE_BYTES = 1 << 20
_CHECKPOINT_EVERY = 4 << 20  # tar.gz: inflater snapshot every this many output bytes


@dataclass(frozen=True)
class CsarLimits:
    """Resource bounds for reading one untrusted package; every limit has its own cause code."""

    max_package_bytes: int = 1 << 30  # compressed archive size
    max_total_bytes: int = 2 << 30  # sum of uncompressed sizes
    max_file_bytes: int = 1 << 30  # one member, uncompressed
    max_text_bytes: int = 16 << 20  # one YAML / meta / manifest file
    max_ratio: float = 200.0  # uncompressed/compressed, per member and overall
    max_members: int = 10_000


def _err(cause: str, detail: str, file: str | None = None) -> PackageError:
    return PackageError(cause, detail, file=file)


def _check_ratio(out: int, packed: int, limits: CsarLimits, what: str, file: str | None) -> None:
    if out > RATIO_GRACE_BYTES and out > limits.max_ratio * max(packed, 1):
        raise _err(
            "COMPRESSION_BOMB",
            f"{what} inflates {out} bytes from {packed} (ratio > {limits.max_ratio:g})",
            file,
        )


def normalise_member_name(raw: str) -> str:
    """Package-relative POSIX path of an archive member, or PATH_TRAVERSAL naming it."""
    bad = None
    if "\\" in raw:
        bad = "contains a backslash"
    elif "\x00" in raw:
        bad = "contains a NUL byte"
    elif raw.startswith("/"):
        bad = "is an absolute path"
    elif re.match(r"^[A-Za-z]:", raw):
        bad = "starts with a drive letter"
    parts = [p for p in raw.split("/") if p not in ("", ".")]
    if bad is None and ".." in parts:
        bad = "has a '..' component"
    if bad is None and not parts:
        bad = "is empty"
    if bad:
        raise PackageError("PATH_TRAVERSAL", f"member name {raw!r} {bad}", file=raw)
    return "/".join(parts)


# ---------------------------------------------------------------- format sniffing


def _looks_like_tar(block: bytes) -> bool:
    if len(block) < 512 or not block[:100].strip(b"\0"):
        return False
    if block[257:262] == b"ustar":
        return True
    try:  # old (v7) tar: only the header checksum identifies it
        stored = int(block[148:156].replace(b"\0", b" ").strip() or b"x", 8)
    except ValueError:
        return False
    return stored in tarfile.calc_chksums(block[:512])


def _sniff_head(head: bytes, path: Path) -> str:
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "zip"
    if head[:2] == b"\x1f\x8b":
        try:
            inner = zlib.decompressobj(31).decompress(head, 1024)
        except zlib.error as exc:
            raise _err("CORRUPT_ARCHIVE", f"gzip stream is corrupt: {exc}") from None
        if _looks_like_tar(inner):
            return "tar.gz"
        raise _err("NOT_AN_ARCHIVE", "gzip data that is not a tar archive")
    if _looks_like_tar(head):
        return "tar"
    if zipfile.is_zipfile(path):  # zip with a prefix (e.g. self-extracting stub)
        return "zip"
    raise _err("NOT_AN_ARCHIVE", "not a zip, tar or tar.gz archive")


def sniff_format(path: Path) -> str:
    """``"zip"``, ``"tar"`` or ``"tar.gz"`` from the file's content (its name is ignored).

    Raises PackageError NOT_AN_ARCHIVE for anything else.
    """
    with open(path, "rb") as fh:
        head = fh.read(_CHUNK)
    return _sniff_head(head, Path(path))


# ---------------------------------------------------------------- archive back ends


@dataclass
class _Member:
    name: str
    size: int
    packed: int  # compressed size (== size when stored)
    ref: object  # back-end specific: ZipInfo or data offset


class _Backend:
    """Index of the regular files of one archive plus a way to stream each one."""

    def __init__(self, fh: BinaryIO, limits: CsarLimits) -> None:
        self.fh = fh
        self.limits = limits
        self.members: dict[str, _Member] = {}
        self.dirs: set[str] = set()
        self.checked: set[str] = set()  # members read to their end with size and CRC verified
        self._count = 0

    def _admit(self, raw: str, member: _Member | None) -> None:
        """Common checks for every archive entry; ``member`` is None for directories."""
        self._count += 1
        if self._count > self.limits.max_members:
            raise _err("TOO_MANY_MEMBERS", f"more than {self.limits.max_members} members", raw)
        name = normalise_member_name(raw)
        if member is None:
            self.dirs.add(name)
            return
        if name in self.members:
            raise _err("DUPLICATE_MEMBER", f"member {name!r} appears twice", name)
        if member.size > self.limits.max_file_bytes:
            raise _err("TOO_LARGE", f"member is {member.size} bytes uncompressed", name)
        member.name = name
        self.members[name] = member

    def _check_totals(self, packed_total: int) -> None:
        total = sum(m.size for m in self.members.values())
        if total > self.limits.max_total_bytes:
            raise _err("TOO_LARGE", f"members total {total} bytes uncompressed")
        _check_ratio(total, packed_total, self.limits, "archive", None)

    def stream(self, member: _Member) -> Iterator[bytes]:
        raise NotImplementedError

    def verify_all(self) -> None:
        """Read every member to its end, so that a member inflating beyond (or short of) its
        declared size or failing its CRC is refused now, naming it, with bounded memory."""
        for name, member in self.members.items():
            if name not in self.checked:
                for _chunk in self.stream(member):
                    pass

    def close(self) -> None:
        self.fh.close()


class _ZipBackend(_Backend):
    """Zip: central directory via :mod:`zipfile`, member data inflated here with counting."""

    def __init__(self, fh: BinaryIO, limits: CsarLimits) -> None:
        super().__init__(fh, limits)
        try:
            infos = zipfile.ZipFile(fh).infolist()
        except (zipfile.BadZipFile, EOFError, ValueError, OSError) as exc:
            raise _err("CORRUPT_ARCHIVE", f"unreadable zip: {exc}") from None
        if len(infos) > limits.max_members:
            raise _err("TOO_MANY_MEMBERS", f"{len(infos)} members, limit {limits.max_members}")
        for info in infos:
            self._admit_info(info)
        self._check_totals(os.fstat(fh.fileno()).st_size)

    def _admit_info(self, info: zipfile.ZipInfo) -> None:
        raw = info.filename
        if info.is_dir():
            self._admit(raw, None)
            return
        mode = info.external_attr >> 16 if info.create_system == 3 else 0
        if mode and stat.S_IFMT(mode) and not stat.S_ISREG(mode):
            kind = "symbolic link" if stat.S_ISLNK(mode) else "special file"
            raise _err("UNSAFE_MEMBER", f"member is a {kind}", raw)
        if info.flag_bits & 0x1:
            raise _err("ENCRYPTED_MEMBER", "member is encrypted", raw)
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _err("UNSUPPORTED_COMPRESSION", f"compression method {info.compress_type}", raw)
        member = _Member(raw, info.file_size, info.compress_size, info)
        self._admit(raw, member)
        _check_ratio(info.file_size, info.compress_size, self.limits, "member", member.name)

    def _data_offset(self, info: zipfile.ZipInfo, name: str) -> int:
        self.fh.seek(info.header_offset)
        head = self.fh.read(30)
        if len(head) < 30 or head[:4] != b"PK\x03\x04":
            raise _err("CORRUPT_ARCHIVE", "bad local file header", name)
        name_len = int.from_bytes(head[26:28], "little")
        extra_len = int.from_bytes(head[28:30], "little")
        return info.header_offset + 30 + name_len + extra_len

    def stream(self, member: _Member) -> Iterator[bytes]:
        info = member.ref
        assert isinstance(info, zipfile.ZipInfo)
        name, limits = member.name, self.limits
        pos = self._data_offset(info, name)
        remaining = info.compress_size
        inflater = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
        out = fed = 0
        crc = 0
        tail = b""
        while True:
            if not tail and remaining:
                self.fh.seek(pos)
                tail = self.fh.read(min(_CHUNK, remaining))
                if not tail:
                    raise _err("CORRUPT_ARCHIVE", "member data is truncated", name)
                pos, remaining, fed = pos + len(tail), remaining - len(tail), fed + len(tail)
            if inflater is None:
                data, tail = tail, b""
            else:
                try:
                    data = inflater.decompress(tail, _OUT_CHUNK)
                except zlib.error as exc:
                    raise _err("CORRUPT_ARCHIVE", f"bad deflate data: {exc}", name) from None
                tail = inflater.unconsumed_tail
            if not data:
                if inflater is not None and not inflater.eof and not remaining and not tail:
                    raise _err("CORRUPT_ARCHIVE", "deflate stream is truncated", name)
                if inflater is None or inflater.eof or (not remaining and not tail):
                    break
                continue
            out += len(data)
            if out > info.file_size:
                raise _err(
                    "COMPRESSION_BOMB",
                    f"inflates beyond its declared size of {info.file_size} bytes",
                    name,
                )
            _check_ratio(out, fed - len(tail), limits, "member", name)
            crc = zlib.crc32(data, crc)
            yield data
        if out != info.file_size:
            raise _err(
                "CORRUPT_ARCHIVE",
                f"inflates to {out} bytes, not its declared size of {info.file_size}",
                name,
            )
        if crc != info.CRC:
            raise _err(
                "CORRUPT_ARCHIVE",
                f"CRC-32 is {crc:08x}, the archive declares {info.CRC:08x}",
                name,
            )
        self.checked.add(name)


def _read_range(fh: BinaryIO, offset: int, size: int, name: str) -> Iterator[bytes]:
    """Stream ``size`` bytes at ``offset`` of a seekable file, re-seeking before every read."""
    pos, left = offset, size
    while left:
        fh.seek(pos)
        data = fh.read(min(_OUT_CHUNK, left))
        if not data:
            raise _err("CORRUPT_ARCHIVE", "member data is truncated", name)
        pos, left = pos + len(data), left - len(data)
        yield data


@dataclass
class _Cursor:
    """Position in a gzip stream: ``buf`` holds the inflated bytes starting at offset ``out``."""

    out: int
    inp: int
    inflater: object
    buf: bytes = b""
    end: bool = False


class _GzipSeekable(io.RawIOBase):
    """A seekable view of the inflated bytes of a gzip file, built for tar.gz members.

    The first (frontier) pass inflates the whole stream once at open time, counting output
    against the limits, checking the gzip CRC/size trailer (zlib does it with wbits=31) and
    keeping a snapshot of the inflater every few MiB. Reads behind the frontier replay from the
    nearest snapshot with a second cursor that then moves forward, so random access costs at
    most one snapshot interval of inflating and sequential reads cost nothing extra.
    Only single-member gzip files are accepted.
    """

    def __init__(self, fh: BinaryIO, limits: CsarLimits, stream_limit: int) -> None:
        super().__init__()
        self._fh, self._limits, self._stream_limit = fh, limits, stream_limit
        self._size = os.fstat(fh.fileno()).st_size
        first = zlib.decompressobj(31)
        self._front = _Cursor(0, 0, first)
        self._checkpoints: list[tuple[int, int, object]] = [(0, 0, first.copy())]
        self._replay: _Cursor | None = None
        self._pos = 0

    @property
    def consumed(self) -> int:
        """Compressed bytes consumed by the frontier pass so far."""
        return self._front.inp

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self._pos
        elif whence == io.SEEK_END:
            self.finish()
            offset += self._front.out + len(self._front.buf)
        self._pos = max(offset, 0)
        return self._pos

    def _step(self, cur: _Cursor) -> None:
        """Inflate the next chunk into ``cur.buf``."""
        cur.out += len(cur.buf)
        self._fh.seek(cur.inp)
        raw = self._fh.read(_CHUNK)
        inflater = cur.inflater
        try:
            cur.buf = inflater.decompress(raw, _OUT_CHUNK)  # type: ignore[attr-defined]
        except zlib.error as exc:
            raise _err("CORRUPT_ARCHIVE", f"gzip stream is corrupt: {exc}") from None
        used = len(raw) - len(inflater.unconsumed_tail)  # type: ignore[attr-defined]
        if inflater.eof:  # type: ignore[attr-defined]
            used -= len(inflater.unused_data)  # type: ignore[attr-defined]
            if cur.inp + used < self._size:
                raise _err("CORRUPT_ARCHIVE", "data after the end of the gzip stream")
            cur.end = True
        elif not raw and not cur.buf:
            raise _err("CORRUPT_ARCHIVE", "gzip stream is truncated")
        cur.inp += used

    def _advance_front(self) -> None:
        cur = self._front
        self._step(cur)
        new_out = cur.out + len(cur.buf)
        if new_out > self._stream_limit:
            raise _err("TOO_LARGE", f"tar stream inflates beyond {self._stream_limit} bytes")
        _check_ratio(new_out, cur.inp, self._limits, "gzip stream", None)
        if new_out - self._checkpoints[-1][0] >= _CHECKPOINT_EVERY and not cur.end:
            self._checkpoints.append((new_out, cur.inp, cur.inflater.copy()))  # type: ignore[attr-defined]

    def finish(self) -> None:
        """Inflate (and so verify) the rest of the stream if the frontier is not at its end."""
        while not self._front.end:
            self._advance_front()

    def _cursor_for(self, pos: int) -> _Cursor:
        if pos >= self._front.out:
            return self._front
        idx = bisect.bisect_right([c[0] for c in self._checkpoints], pos) - 1
        out, inp, snapshot = self._checkpoints[idx]
        cur = self._replay
        if cur is None or pos < cur.out or out > cur.out:
            cur = _Cursor(out, inp, snapshot.copy())  # type: ignore[attr-defined]
            self._replay = cur
        return cur

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        pos, cur = self._pos, self._cursor_for(self._pos)
        while pos >= cur.out + len(cur.buf):
            if cur.end:
                return 0
            if cur is self._front:
                self._advance_front()
            else:
                self._step(cur)
        begin = pos - cur.out
        n = min(len(buffer), len(cur.buf) - begin)
        buffer[:n] = cur.buf[begin : begin + n]
        self._pos += n
        return n


class _TarBackend(_Backend):
    """tar and tar.gz: headers via :mod:`tarfile` over a seekable view, data read by offset."""

    def __init__(self, fh: BinaryIO, limits: CsarLimits, gzipped: bool) -> None:
        super().__init__(fh, limits)
        size = os.fstat(fh.fileno()).st_size
        slack = (limits.max_members + 2) * 3 * tarfile.BLOCKSIZE + tarfile.RECORDSIZE
        self.view: BinaryIO = fh
        self.gz = _GzipSeekable(fh, limits, limits.max_total_bytes + slack) if gzipped else None
        if self.gz is not None:
            self.view = io.BufferedReader(self.gz, buffer_size=_CHUNK)  # type: ignore[arg-type]
        spans: list[tuple[_Member, int]] = []
        try:
            with tarfile.open(fileobj=self.view, mode="r:") as tar:
                for info in tar:
                    member = self._admit_tarinfo(info)
                    if member is not None:
                        spans.append((member, self.gz.consumed if self.gz else 0))
            if self.gz is not None:
                self.gz.finish()
        except tarfile.TarError as exc:
            raise _err("CORRUPT_ARCHIVE", f"unreadable tar: {exc}") from None
        except PackageError as exc:
            if exc.file is None and spans:  # name the member whose data was being inflated
                name = spans[-1][0].name
                raise _err(exc.cause, f"{exc.detail} (in or after member {name!r})", name) from None
            raise
        end = self.gz.consumed if self.gz else size
        for i, (member, at) in enumerate(spans):
            if self.gz is None:
                if int(member.ref) + member.size > size:  # type: ignore[call-overload]
                    raise _err("CORRUPT_ARCHIVE", "member data is truncated", member.name)
                continue
            # compressed span ~ consumed input between this header and the next one
            member.packed = (spans[i + 1][1] if i + 1 < len(spans) else end) - at
            _check_ratio(member.size, member.packed, limits, "member", member.name)
        self._check_totals(size)

    def _admit_tarinfo(self, info: tarfile.TarInfo) -> _Member | None:
        raw = info.name
        if info.isdir():
            self._admit(raw, None)
            return None
        kinds = {
            "symbolic link": info.issym(),
            "hard link": info.islnk(),
            "character device": info.ischr(),
            "block device": info.isblk(),
            "FIFO": info.isfifo(),
            "sparse file": info.issparse(),
        }
        for kind, yes in kinds.items():
            if yes:
                raise _err("UNSAFE_MEMBER", f"member is a {kind}", raw)
        if not info.isreg():
            raise _err("UNSAFE_MEMBER", f"member has unsupported type {info.type!r}", raw)
        member = _Member(raw, info.size, info.size, info.offset_data)
        self._admit(raw, member)
        return member

    def stream(self, member: _Member) -> Iterator[bytes]:
        return _read_range(self.view, int(member.ref), member.size, member.name)  # type: ignore[call-overload]

    def verify_all(self) -> None:
        """Nothing to do: tar data is stored, not compressed per member (its size is exact, a
        truncated member was refused at open) and a tar.gz stream was inflated, with its
        size, ratio and CRC checked, when the archive was opened."""


# ---------------------------------------------------------------- the package


class _MemberReader(io.RawIOBase):
    """File-like wrapper over a member's chunk stream (for :meth:`Csar.open`)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        super().__init__()
        self._chunks = chunks
        self._buf = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._buf:
            nxt = next(self._chunks, None)
            if nxt is None:
                return 0
            self._buf = nxt
        n = min(len(buffer), len(self._buf))
        buffer[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n


class Csar(Mapping[str, bytes]):
    """An opened, verified package: maps package-relative paths of regular files to bytes.

    It exists so the rest of the catalog sees a package as plain data (``files[name]``) while
    the bytes stay in the archive until asked for and every read stays within the limits.
    Use as a context manager or call :meth:`close`.
    """

    def __init__(self, path: Path, fmt: str, backend: _Backend, limits: CsarLimits) -> None:
        self.path = path
        self.format = fmt
        self.limits = limits
        self._backend = backend
        self.meta: dict[str, str] = {}
        self.entry_definitions: str = ""
        self.manifest_path: str | None = None
        self.manifest: Manifest | None = None
        self.artifacts: list[ArtifactEntry] = []

    # Mapping protocol ------------------------------------------------------------------
    def __getitem__(self, name: str) -> bytes:
        return b"".join(self._backend.stream(self._member(name)))

    def __iter__(self) -> Iterator[str]:
        return iter(self._backend.members)

    def __len__(self) -> int:
        return len(self._backend.members)

    def __contains__(self, name: object) -> bool:
        return name in self._backend.members

    # reading -----------------------------------------------------------------------------
    def _member(self, name: str) -> _Member:
        try:
            return self._backend.members[name]
        except KeyError:
            raise KeyError(name) from None

    def size(self, name: str) -> int:
        """Uncompressed size of a member (as declared; reads enforce it)."""
        return self._member(name).size

    def stream(self, name: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Bytes ``start..end`` (inclusive) of a member, chunk by chunk with bounded memory;
        the member's declared size and CRC are enforced while it is read."""
        last = self.size(name) - 1 if end is None else end
        pos = 0
        for chunk in self._backend.stream(self._member(name)):
            lo, hi = max(start - pos, 0), min(last - pos + 1, len(chunk))
            pos += len(chunk)
            if lo < hi:
                yield chunk[lo:hi]
            if pos > last:
                return

    def open(self, name: str) -> BinaryIO:
        """Stream a member; limits (size, ratio, CRC) are enforced while reading."""
        reader = _MemberReader(self._backend.stream(self._member(name)))
        return io.BufferedReader(reader, buffer_size=_CHUNK)  # type: ignore[return-value]

    def read_text(self, name: str) -> str:
        """A text member (YAML, TOSCA.meta, manifest) within ``max_text_bytes``, as UTF-8."""
        return decode_text(self.text_bytes(name), name)

    def text_bytes(self, name: str) -> bytes:
        """Raw bytes of a text member, refusing (TOO_LARGE) beyond ``max_text_bytes``."""
        if name not in self:
            raise PackageError("MISSING_FILE", f"file {name!r} is not in the package", file=name)
        if self.size(name) > self.limits.max_text_bytes:
            raise PackageError(
                "TOO_LARGE", f"text file exceeds {self.limits.max_text_bytes} bytes", file=name
            )
        return self[name]

    def is_dir(self, name: str) -> bool:
        """True if ``name`` is a directory of the package (listed or implied by members)."""
        prefix = name.rstrip("/") + "/"
        return name.rstrip("/") in self._backend.dirs or any(
            m.startswith(prefix) for m in self._backend.members
        )

    def close(self) -> None:
        """Release the archive's file handle."""
        self._backend.close()

    def __enter__(self) -> Csar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Csar({str(self.path)!r}, format={self.format!r}, files={len(self)})"


# ---------------------------------------------------------------- structure and verification


def _package_path(value: str, what: str, file: str) -> str:
    """Normalise a path named inside TOSCA.meta/manifest; traversal is refused."""
    try:
        return normalise_member_name(value.strip())
    except PackageError:
        raise PackageError(
            "PATH_TRAVERSAL", f"{what} {value!r} points outside the package", file=file
        ) from None


def _load_tosca_meta(csar: Csar) -> list[ArtifactEntry]:
    meta, entries = parse_tosca_meta(csar.text_bytes(TOSCA_META_PATH), TOSCA_META_PATH)
    csar.meta = meta
    csar.entry_definitions = _package_path(
        meta["Entry-Definitions"], "Entry-Definitions", TOSCA_META_PATH
    )
    if csar.entry_definitions not in csar:
        raise PackageError(
            "MISSING_FILE",
            f"Entry-Definitions file {csar.entry_definitions!r} is not in the package",
            file=csar.entry_definitions,
        )
    for key, value in meta.items():
        if not key.startswith("ETSI-Entry-") or not value:
            continue
        target = _package_path(value, key, TOSCA_META_PATH)
        if target not in csar and not csar.is_dir(target):
            raise PackageError(
                "MISSING_FILE", f"{key} {target!r} is not in the package", file=target
            )
        if key == "ETSI-Entry-Manifest":
            csar.manifest_path = target
    return entries


def _check_root_yaml(csar: Csar, name: str) -> None:
    """A TOSCA.meta-less CSAR's root YAML must carry template_name/template_version metadata."""
    try:
        doc = yaml.load(csar.read_text(name), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise PackageError(
            "INVALID_YAML",
            f"entry YAML does not parse: {exc}",
            file=name,
            line=mark.line + 1 if mark else None,
        ) from None
    if not isinstance(doc, dict) or "tosca_definitions_version" not in doc:
        raise PackageError(
            "MISSING_META_KEY", "root YAML lacks 'tosca_definitions_version'", file=name
        )
    metadata = doc.get("metadata")
    for key in ("template_name", "template_version"):
        if not isinstance(metadata, dict) or metadata.get(key) in (None, ""):
            raise PackageError(
                "MISSING_META_KEY",
                f"a CSAR without TOSCA.meta needs 'metadata.{key}' in its root YAML",
                file=name,
            )


def _load_root_layout(csar: Csar) -> None:
    """No TOSCA.meta: exactly one root YAML, and a manifest of the same name if any."""
    roots = sorted(n for n in csar if "/" not in n and n.lower().endswith((".yaml", ".yml")))
    if not roots:
        raise PackageError(
            "NO_ENTRY_DEFINITIONS",
            f"no {TOSCA_META_PATH} and no YAML file at the package root",
        )
    if len(roots) > 1:
        raise PackageError(
            "AMBIGUOUS_ENTRY",
            f"no {TOSCA_META_PATH} and {len(roots)} root YAML files: {', '.join(roots)}",
            file=roots[1],
        )
    entry = roots[0]
    _check_root_yaml(csar, entry)
    csar.entry_definitions = entry
    wanted = entry.rsplit(".", 1)[0] + ".mf"
    for name in sorted(n for n in csar if "/" not in n and n.lower().endswith(".mf")):
        if name != wanted:
            raise PackageError(
                "MANIFEST_NAME_MISMATCH",
                f"manifest {name!r} does not match the entry YAML {entry!r} (want {wanted!r})",
                file=name,
            )
        csar.manifest_path = name


def _checked_algorithm(entry: ArtifactEntry, where: str) -> str | None:
    """Canonical algorithm of an entry that carries a digest; None for name-only entries.

    Manifest entries always need ``Algorithm`` and ``Hash``. A TOSCA.meta ``Name`` block that
    gives neither only declares a file (TOSCA-Meta 1.0 style); giving one requires the other.
    """
    if entry.origin != "manifest" and entry.algorithm is None and entry.hash is None:
        return None
    for key, value in (("Algorithm", entry.algorithm), ("Hash", entry.hash)):
        if value is None:
            raise PackageError(
                f"MISSING_{key.upper()}",
                f"entry for {entry.path!r} has no {key}",
                file=where,
                line=entry.line,
            )
        if not value.strip():
            raise PackageError(
                "EMPTY_VALUE",
                f"entry for {entry.path!r} has an empty {key}",
                file=where,
                line=entry.line,
            )
    algorithm = canonical_algorithm(entry.algorithm or "")
    if algorithm is None:
        raise PackageError(
            "UNSUPPORTED_ALGORITHM",
            f"algorithm {entry.algorithm!r} for {entry.path!r} (use SHA-256/384/512)",
            file=where,
            line=entry.line,
        )
    return algorithm


def _at(line: int | None) -> str:
    return f":{line}" if line else ""


class _Verifier:
    """Verifies artifact entries, hashing each (file, algorithm) once with bounded memory."""

    def __init__(self, csar: Csar) -> None:
        self.csar = csar
        self.digests: dict[tuple[str, str], str] = {}

    def digest(self, path: str, algorithm: str) -> str:
        key = (path, algorithm)
        if key not in self.digests:
            hasher = hashlib.new(HASHLIB_NAME[algorithm])
            for chunk in self.csar._backend.stream(self.csar._member(path)):
                hasher.update(chunk)
            self.digests[key] = hasher.hexdigest()
        return self.digests[key]

    def entry(self, entry: ArtifactEntry, where: str) -> ArtifactEntry:
        """Check one entry's keys, presence and digest; return it completed."""
        if entry.external:  # recorded only: the package does not carry the bytes
            algorithm = canonical_algorithm(entry.algorithm or "") or entry.algorithm
            return replace(entry, algorithm=algorithm)
        algorithm = _checked_algorithm(entry, where)
        path = _package_path(entry.path, "artifact", where) if entry.path else ""
        if not path or path not in self.csar:
            raise PackageError(
                "SOURCE_NOT_FOUND",
                f"artifact {entry.path!r} ({where}) is not in the package",
                file=entry.path or where,
            )
        expected = (entry.hash or "").strip().lower()
        if algorithm is not None:
            actual = self.digest(path, algorithm)
            if actual != expected:
                raise PackageError(
                    "HASH_MISMATCH",
                    f"{algorithm} of {path!r} is {actual}, "
                    f"{where}{_at(entry.line)} says {expected}",
                    file=path,
                )
        return replace(
            entry,
            path=path,
            algorithm=algorithm,
            hash=expected or None,
            size=self.csar.size(path),
        )


def _verify(csar: Csar, meta_entries: list[ArtifactEntry]) -> None:
    """Verify every declared artifact; ``csar.artifacts`` keeps the first entry per path."""
    entries: list[tuple[ArtifactEntry, str]] = []
    if csar.manifest is not None and csar.manifest_path:
        entries += [(e, csar.manifest_path) for e in csar.manifest.sources]
    entries += [(e, TOSCA_META_PATH) for e in meta_entries]
    verifier = _Verifier(csar)
    by_path: dict[str, ArtifactEntry] = {}
    for entry, where in entries:
        done = verifier.entry(entry, where)
        known = by_path.get(done.path)
        if known is None:
            by_path[done.path] = done
        else:  # same file declared twice (manifest and TOSCA.meta): merge what each adds
            first, other = (done, known) if known.algorithm is None else (known, done)
            by_path[done.path] = replace(
                first,
                content_type=first.content_type or other.content_type,
                signature=first.signature or other.signature,
                certificate=first.certificate or other.certificate,
            )
    csar.artifacts = list(by_path.values())
    if csar.manifest is not None:
        for set_name, sources in csar.manifest.non_mano.items():
            for src in sources:
                target = _package_path(src, f"non-MANO set {set_name}", csar.manifest_path or "")
                if target not in csar and not csar.is_dir(target):
                    raise PackageError(
                        "SOURCE_NOT_FOUND",
                        f"non-MANO artifact {src!r} (set {set_name!r}) is not in the package",
                        file=src,
                    )


def _open_backend(path: Path, fmt: str, fh: BinaryIO, limits: CsarLimits) -> _Backend:
    if fmt == "zip":
        return _ZipBackend(fh, limits)
    return _TarBackend(fh, limits, gzipped=fmt == "tar.gz")


def open_csar(path: Path, limits: CsarLimits = CsarLimits()) -> Csar:
    """Open, check and verify a CSAR file (zip, tar, tar.gz by content); never writes to disk.

    Raises :class:`PackageError` with a cause code for every unsafe or invalid package.
    """
    path = Path(path)
    size = path.stat().st_size
    if size > limits.max_package_bytes:
        raise PackageError(
            "PACKAGE_TOO_LARGE", f"package is {size} bytes, limit {limits.max_package_bytes}"
        )
    fh = open(path, "rb")  # owned by the Csar until close()
    try:
        fmt = _sniff_head(fh.read(_CHUNK), path)
        fh.seek(0)
        csar = Csar(path, fmt, _open_backend(path, fmt, fh, limits), limits)
        meta_entries: list[ArtifactEntry] = []
        if TOSCA_META_PATH in csar:
            meta_entries = _load_tosca_meta(csar)
        else:
            _load_root_layout(csar)
        if csar.manifest_path:
            csar.manifest = parse_manifest(csar.text_bytes(csar.manifest_path), csar.manifest_path)
        _verify(csar, meta_entries)
        csar._backend.verify_all()
    except BaseException:
        fh.close()
        raise
    return csar


def open_members(path: Path, limits: CsarLimits = CsarLimits()) -> Csar:
    """Open an archive for reading its members only (no structure checks), e.g. a package
    already verified at onboarding; every read stays within ``limits``."""
    path = Path(path)
    fh = open(path, "rb")  # owned by the Csar until close()
    try:
        fmt = _sniff_head(fh.read(_CHUNK), path)
        fh.seek(0)
        return Csar(path, fmt, _open_backend(path, fmt, fh, limits), limits)
    except BaseException:
        fh.close()
        raise
