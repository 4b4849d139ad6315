"""Build CSAR archives (SOL004 / SOL007 packages) from a folder or an in-memory file map.

Why it exists: sample and test packages are kept as plain folders so they can be read and
edited; the manifest's ``Source/Algorithm/Hash`` entries are recomputed here at build time,
so a package never carries a stale hash. The archive bytes are deterministic (sorted
members, fixed timestamps and modes), so a hash of the CSAR itself is stable and can be
used as a cache key or compared across runs.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
import zipfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

TOSCA_META = "TOSCA-Metadata/TOSCA.meta"
FORMATS = ("zip", "tar", "tar.gz")
HASH_ALGORITHMS = {"SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}

_ENTRY_KEYS = ("Source:", "Algorithm:", "Hash:", "Signature:", "Certificate:")
_NON_MANO = "non_mano_artifact_sets:"
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def build_csar(src_dir: Path, *, fmt: str = "zip", algorithm: str = "SHA-256") -> bytes:
    """Archive the package folder ``src_dir`` with a freshly hashed manifest."""
    return build_csar_from_files(read_package_dir(src_dir), fmt=fmt, algorithm=algorithm)


def build_csar_from_files(
    files: Mapping[str, bytes],
    *,
    fmt: str = "zip",
    algorithm: str = "SHA-256",
    refresh: bool = True,
) -> bytes:
    """Archive ``files`` (package-relative POSIX path -> content).

    With ``refresh`` (the default) the manifest is rewritten first so that it hashes every
    other file; with ``refresh=False`` the files are archived exactly as given.
    """
    content = refresh_manifest(files, algorithm=algorithm) if refresh else dict(files)
    return pack(content, fmt=fmt)


def read_package_dir(src_dir: Path) -> dict[str, bytes]:
    """All regular files under ``src_dir`` keyed by their POSIX path relative to it."""
    root = Path(src_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"package folder not found: {root}")
    out: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            out[path.relative_to(root).as_posix()] = path.read_bytes()
    return out


def write_manifest(src_dir: Path, *, algorithm: str = "SHA-256") -> Path | None:
    """Rewrite the manifest inside the folder ``src_dir`` in place; returns its path."""
    files = read_package_dir(src_dir)
    name = manifest_path(files)
    if name is None:
        return None
    target = Path(src_dir) / name
    target.write_bytes(refresh_manifest(files, algorithm=algorithm)[name])
    return target


def tosca_meta_keys(files: Mapping[str, bytes]) -> dict[str, str]:
    """``Key: Value`` pairs of TOSCA.meta (first occurrence wins); empty when absent."""
    raw = files.get(TOSCA_META)
    if raw is None:
        return {}
    keys: dict[str, str] = {}
    for line in raw.decode("utf-8", errors="replace").splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() and key.strip() not in keys:
            keys[key.strip()] = value.strip()
    return keys


def manifest_path(files: Mapping[str, bytes]) -> str | None:
    """The manifest named by TOSCA.meta, or the single root ``.mf`` of a meta-less package."""
    meta = tosca_meta_keys(files)
    if meta:
        return meta.get("ETSI-Entry-Manifest")
    roots = sorted(p for p in files if "/" not in p and p.endswith(".mf"))
    return roots[0] if len(roots) == 1 else None


def hashed_paths(files: Mapping[str, bytes]) -> list[str]:
    """Files the manifest must list: all but the manifest, TOSCA.meta, certificates, signatures."""
    meta = tosca_meta_keys(files)
    skip = {TOSCA_META, manifest_path(files), meta.get("ETSI-Entry-Certificate")}
    out = []
    for path in sorted(files):
        if path in skip or path.endswith(".cms"):
            continue
        if "/" not in path and path.endswith(".cert"):
            continue
        out.append(path)
    return out


def digest(data: bytes, algorithm: str = "SHA-256") -> str:
    """Lower-case hex digest of ``data`` with a manifest algorithm name (``SHA-256`` ...)."""
    try:
        name = HASH_ALGORITHMS[algorithm.upper()]
    except KeyError:
        raise ValueError(f"unsupported manifest hash algorithm {algorithm!r}") from None
    return hashlib.new(name, data).hexdigest()


def refresh_manifest(files: Mapping[str, bytes], *, algorithm: str = "SHA-256") -> dict[str, bytes]:
    """A copy of ``files`` whose manifest lists every other file with a correct hash.

    The manifest's metadata block and ``non_mano_artifact_sets`` are kept as written;
    existing artifact entries and any CMS signature block are replaced/dropped (the
    signature could not stay valid). Without a manifest the files are returned unchanged.
    """
    out = dict(files)
    name = manifest_path(files)
    if name is None or name not in files:
        return out
    head, non_mano = split_manifest(files[name].decode("utf-8"))
    entries = [
        f"Source: {path}\nAlgorithm: {algorithm}\nHash: {digest(files[path], algorithm)}\n"
        for path in hashed_paths(files)
    ]
    parts = ["\n".join(head) + "\n", *entries]
    if non_mano:
        parts.append("\n".join(non_mano) + "\n")
    out[name] = "\n".join(parts).encode("utf-8")
    return out


def split_manifest(text: str) -> tuple[list[str], list[str]]:
    """Split manifest text into (metadata block lines, non_mano_artifact_sets block lines)."""
    head: list[str] = []
    non_mano: list[str] = []
    section = "head"
    for line in text.splitlines():
        if line.startswith("-----BEGIN"):
            section = "signature"
        elif section == "signature":
            if line.startswith("-----END"):
                section = "entries"
            continue
        elif line.startswith(_NON_MANO):
            section = "non_mano"
        elif line.startswith(_ENTRY_KEYS):
            section = "entries"
        if section == "head":
            head.append(line)
        elif section == "non_mano":
            if line and not line[0].isspace() and not line.startswith(_NON_MANO):
                section = "entries"
                continue
            non_mano.append(line)
    while head and not head[-1].strip():
        head.pop()
    while non_mano and not non_mano[-1].strip():
        non_mano.pop()
    return head, non_mano


def pack(files: Mapping[str, bytes], *, fmt: str = "zip") -> bytes:
    """Deterministic archive of ``files`` (TOSCA.meta first, then sorted paths)."""
    order = sorted(files, key=lambda p: (p != TOSCA_META, p))
    for path in order:
        _check_member_name(path)
    if fmt == "zip":
        return _pack_zip(files, order)
    if fmt == "tar":
        return _pack_tar(files, order)
    if fmt in ("tar.gz", "tgz"):
        return gzip.compress(_pack_tar(files, order), compresslevel=9, mtime=0)
    raise ValueError(f"unknown CSAR format {fmt!r}; expected one of {FORMATS}")


def _check_member_name(path: str) -> None:
    pure = PurePosixPath(path)
    if not path or pure.is_absolute() or ".." in pure.parts or "\\" in path:
        raise ValueError(f"unsafe package member name {path!r}")


def _pack_zip(files: Mapping[str, bytes], order: list[str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for path in order:
            info = zipfile.ZipInfo(path, date_time=_ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            archive.writestr(info, files[path], compresslevel=9)
    return buf.getvalue()


def _pack_tar(files: Mapping[str, bytes], order: list[str]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for path in order:
            data = files[path]
            archive.addfile(fixed_tarinfo(path, len(data)), io.BytesIO(data))
    return buf.getvalue()


def fixed_tarinfo(name: str, size: int = 0, kind: bytes = tarfile.REGTYPE) -> tarfile.TarInfo:
    """A tar header with fixed owner, mode and timestamp (for reproducible archives)."""
    info = tarfile.TarInfo(name)
    info.size = size
    info.type = kind
    info.mtime = 0
    info.mode = 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info
