"""Parsing of the two text files describing a CSAR: ``TOSCA-Metadata/TOSCA.meta`` and the manifest.

Both formats are line based (``Key: value``) and are written by hand in the wild, so the parsers
are tolerant where the meaning stays unambiguous (CRLF line ends, a missing blank line between
blocks, a missing final newline) and strict where it is not (a line that is not ``Key: value``,
a key given twice in one block). Every problem is a :class:`PackageError` naming file and line.

References: ETSI GS NFV-SOL 004 §4.3 (TOSCA.meta ETSI keys, manifest file §4.3.2) and the TOSCA
CSAR format (TOSCA-Meta 1.0 blocks with ``Name:`` entries).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from nfvo.catalog.errors import PackageError

TOSCA_META_PATH = "TOSCA-Metadata/TOSCA.meta"

# Spec spelling of the TOSCA.meta keys we know; lookups are case-insensitive ("Created-by" is
# common in real packages) and the parsed dict uses these spellings.
_KNOWN_META_KEYS = (
    "TOSCA-Meta-File-Version",
    "CSAR-Version",
    "Created-By",
    "Entry-Definitions",
    "Other-Definitions",
    "ETSI-Entry-Manifest",
    "ETSI-Entry-Change-Log",
    "ETSI-Entry-Licenses",
    "ETSI-Entry-Tests",
    "ETSI-Entry-Certificate",
    "ETSI-Entry-Signature",
)
_CANONICAL_META_KEY = {k.lower(): k for k in _KNOWN_META_KEYS}
REQUIRED_META_KEYS = ("TOSCA-Meta-File-Version", "CSAR-Version", "Created-By", "Entry-Definitions")

# Keys of an artifact block (manifest ``Source`` blocks and TOSCA.meta ``Name`` blocks).
_ARTIFACT_KEYS = {
    "source": "Source",
    "name": "Name",
    "algorithm": "Algorithm",
    "hash": "Hash",
    "signature": "Signature",
    "certificate": "Certificate",
    "content-type": "Content-Type",
}
_KEY_LINE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_.\-]*)[ \t]*:(.*)$")
# A hash value with the next entry glued to it ("Hash: 27bb...02aSource: Files/x"). A hex digest
# cannot contain ':' and none of these keys is pure hex, so the split point is unambiguous; no
# such split is attempted inside paths or free text where it would be guesswork.
_GLUED_AFTER_HASH = re.compile(
    r"^([0-9A-Fa-f]+)(Source|Name|Algorithm|Hash|Signature|Certificate|Content-Type)[ \t]*:(.*)$",
    re.IGNORECASE,
)

_ALGORITHMS = {"SHA256": "SHA-256", "SHA384": "SHA-384", "SHA512": "SHA-512"}
HASHLIB_NAME = {"SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}


@dataclass(frozen=True)
class ArtifactEntry:
    """One file the package declares with its digest, so it can be verified and listed.

    Built from a manifest ``Source`` block or a TOSCA.meta ``Name`` block. ``algorithm`` is the
    canonical spelling (``SHA-256``...) once verified, ``None`` for a TOSCA.meta block that only
    names a file and its content type. ``external`` entries (``http(s)://`` sources) are
    recorded but neither fetched nor verified.
    """

    path: str
    algorithm: str | None = None
    hash: str | None = None
    signature: str | None = None
    certificate: str | None = None
    content_type: str | None = None
    size: int | None = None
    external: bool = False
    origin: str = "manifest"  # "manifest" | "tosca_meta" | "non_mano"
    line: int | None = None


@dataclass
class Manifest:
    """The parsed SOL004 manifest: package metadata, artifact digests, non-MANO sets, signature."""

    metadata: dict[str, str] = field(default_factory=dict)
    sources: list[ArtifactEntry] = field(default_factory=list)
    non_mano: dict[str, list[str]] = field(default_factory=dict)
    cms_signature: str | None = None

    @property
    def kind(self) -> str | None:
        """``vnf``, ``ns`` or ``pnf`` from the metadata key prefixes, ``None`` when unknown."""
        for key in self.metadata:
            for prefix, kind in (("vnf", "vnf"), ("nsd_", "ns"), ("pnfd_", "pnf")):
                if key.startswith(prefix):
                    return kind
        return None


@dataclass
class _Block:
    """Artifact block being assembled: canonical key -> (value, line)."""

    values: dict[str, tuple[str, int]] = field(default_factory=dict)


def decode_text(data: bytes, file: str) -> str:
    """Decode a metadata file as UTF-8 (a BOM is allowed) or raise NOT_UTF8 naming it."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise PackageError(
            "NOT_UTF8", f"not UTF-8 text (byte offset {exc.start})", file=file, line=line
        ) from None


def split_lines(text: str) -> list[str]:
    """Split on LF, CRLF or CR only (``str.splitlines`` would also split on form feeds etc.)."""
    return re.split(r"\r\n|\r|\n", text)


def canonical_algorithm(value: str) -> str | None:
    """``sha-256``/``SHA256``/``SHA_256`` -> ``SHA-256``; ``None`` for anything unsupported."""
    return _ALGORITHMS.get(re.sub(r"[-_ ]", "", value.strip().upper()))


def is_external(path: str) -> bool:
    """True for artifacts that live outside the package (http/https URIs)."""
    return re.match(r"^https?://", path, re.IGNORECASE) is not None


def _split_key_line(line: str, file: str, lineno: int, cause: str) -> list[tuple[str, str]]:
    """``Key: value`` -> [(key, value)], splitting a next entry glued onto a hex hash value."""
    m = _KEY_LINE.match(line)
    if not m:
        raise PackageError(
            cause, f"expected 'Key: value', got {line[:80]!r}", file=file, line=lineno
        )
    key, value = m.group(1), m.group(2).strip()
    if key.lower() == "hash":
        glued = _GLUED_AFTER_HASH.match(value)
        if glued:
            return [(key, glued.group(1)), (glued.group(2), glued.group(3).strip())]
    return [(key, value)]


def _artifact_blocks(
    lines: list[tuple[int, str]], file: str, lead: str, cause: str
) -> list[_Block]:
    """Group ``Key: value`` lines into blocks that each start with ``lead`` (Source or Name).

    A blank line ends a block; so does a second ``lead`` key (a missing blank line is tolerated
    because a block has exactly one path). Any other key repeated inside a block is ambiguous.
    """
    blocks: list[_Block] = []
    current: _Block | None = None
    for lineno, line in lines:
        if not line.strip():
            current = None
            continue
        for raw_key, value in _split_key_line(line, file, lineno, cause):
            key = _ARTIFACT_KEYS.get(raw_key.lower(), raw_key)
            if key == lead and (current is None or lead in current.values):
                current = _Block()
                blocks.append(current)
            if current is None:
                hint = (
                    " (manifest metadata entries belong right after 'metadata:')"
                    if lead == "Source" and "_" in raw_key
                    else ""
                )
                raise PackageError(
                    cause,
                    f"'{raw_key}' outside a '{lead}:' block{hint}",
                    file=file,
                    line=lineno,
                )
            if key in current.values:
                raise PackageError(
                    cause, f"'{raw_key}' given twice in one block", file=file, line=lineno
                )
            current.values[key] = (value, lineno)
    return blocks


def _entry_from_block(block: _Block, lead: str, origin: str) -> ArtifactEntry:
    """Make an (unverified) ArtifactEntry; validation of keys happens in the reader."""

    def get(key: str) -> str | None:
        item = block.values.get(key)
        return item[0] if item else None

    path = get(lead) or ""
    return ArtifactEntry(
        path=path,
        algorithm=get("Algorithm"),
        hash=get("Hash"),
        signature=get("Signature"),
        certificate=get("Certificate"),
        content_type=get("Content-Type"),
        external=is_external(path),
        origin=origin,
        line=block.values[lead][1],
    )


def parse_tosca_meta(data: bytes, file: str = TOSCA_META_PATH) -> tuple[dict[str, str], list]:
    """Parse TOSCA.meta: the first block's keys, then TOSCA-Meta 1.0 ``Name:`` artifact blocks.

    Returns ``(meta, entries)``. Raises INVALID_TOSCA_META for lines that are not ``Key: value``
    or repeated keys, MISSING_META_KEY naming a missing required key.
    """
    lines = list(enumerate(split_lines(decode_text(data, file)), start=1))
    meta: dict[str, str] = {}
    first_line: dict[str, int] = {}
    rest_at = len(lines)
    last_key: str | None = None
    for idx, (lineno, line) in enumerate(lines):
        if not line.strip():
            if meta:
                rest_at = idx
                break
            continue
        if line.startswith("#"):
            continue
        if line[0] in " \t" and last_key is not None:  # continuation line (manifest-style)
            meta[last_key] += " " + line.strip()
            continue
        ((raw_key, value),) = _split_key_line(line, file, lineno, "INVALID_TOSCA_META")[:1]
        if raw_key.lower() == "name" and meta:  # artifact block without a blank line before it
            rest_at = idx
            break
        key = _CANONICAL_META_KEY.get(raw_key.lower(), raw_key)
        if key in meta:
            raise PackageError(
                "INVALID_TOSCA_META", f"key '{raw_key}' given twice", file=file, line=lineno
            )
        meta[key], first_line[key], last_key = value, lineno, key
    if not meta:
        raise PackageError("INVALID_TOSCA_META", "no 'Key: value' lines", file=file)
    for key in REQUIRED_META_KEYS:
        if key not in meta:
            raise PackageError("MISSING_META_KEY", f"required key '{key}' is missing", file=file)
        if not meta[key]:
            raise PackageError(
                "EMPTY_VALUE", f"key '{key}' has no value", file=file, line=first_line[key]
            )
    rest = [(n, ln) for n, ln in lines[rest_at:] if not ln.startswith("#")]
    blocks = _artifact_blocks(rest, file, "Name", "INVALID_TOSCA_META")
    return meta, [_entry_from_block(b, "Name", "tosca_meta") for b in blocks]


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


_SECTION_START = re.compile(
    r"^(?:(?:source|name|algorithm|hash|signature|certificate|content-type)[ \t]*:"
    r"|non_mano_artifact_sets[ \t]*:[ \t]*$|-----BEGIN CMS-----)",
    re.IGNORECASE,
)


def _metadata_entry(line: str, lineno: int, file: str, out: dict[str, str]) -> None:
    m = _KEY_LINE.match(line.strip())
    if not m:
        raise PackageError(
            "INVALID_MANIFEST",
            f"bad metadata line {line.strip()[:80]!r} (expected 'key: value')",
            file=file,
            line=lineno,
        )
    key, value = m.group(1), m.group(2).strip()
    # Repeated keys (e.g. several compatible_specification_versions) are joined.
    out[key] = f"{out[key]}, {value}" if key in out and value else value


def _parse_metadata(
    lines: list[tuple[int, str]], start: int, file: str, out: dict[str, str]
) -> int:
    """Read the ``key: value`` lines after ``metadata:``; return the next index.

    Two layouts are written in the wild and both are accepted, mixed too: the entries
    indented under ``metadata:`` (spaces or tabs), and the entries at column 0 as in SOL004
    §4.3.2's own example. The block ends at an artifact key (``Source:`` ...), at
    ``non_mano_artifact_sets:`` or a CMS block, or at a line at column 0 after a blank line.
    """
    i, gap = start, False
    while i < len(lines):
        lineno, line = lines[i]
        text = line.strip()
        if not text:
            gap = bool(out) or gap
        elif text.startswith("#"):
            pass
        elif _indent(line) == 0 and (gap or _SECTION_START.match(text)):
            break
        else:
            _metadata_entry(line, lineno, file, out)
        i += 1
    return i


def _parse_non_mano(
    lines: list[tuple[int, str]], start: int, file: str, out: dict[str, list[str]]
) -> int:
    """Read ``non_mano_artifact_sets:``: set names (indented ``name:``) with ``Source:`` lines."""
    i, current = start, None
    while i < len(lines):
        lineno, line = lines[i]
        if line.strip() and _indent(line) == 0:
            break
        text = line.strip()
        if text:
            m = _KEY_LINE.match(text)
            if not m:
                raise PackageError(
                    "INVALID_MANIFEST", f"bad non-MANO line {text[:80]!r}", file=file, line=lineno
                )
            key, value = m.group(1), m.group(2).strip()
            if key.lower() == "source" and current is not None:
                out[current].append(value)
            elif not value and key.lower() != "source":
                current = key
                out.setdefault(current, [])
            else:
                raise PackageError(
                    "INVALID_MANIFEST",
                    f"unexpected {text[:80]!r} in non_mano_artifact_sets",
                    file=file,
                    line=lineno,
                )
        i += 1
    return i


def _take_cms(lines: list[tuple[int, str]], start: int, file: str) -> tuple[str, int]:
    """Collect ``-----BEGIN CMS-----`` .. ``-----END CMS-----``; return (text, next index)."""
    for j in range(start, len(lines)):
        if lines[j][1].strip() == "-----END CMS-----":
            return "\n".join(ln.strip() for _, ln in lines[start : j + 1]), j + 1
    raise PackageError(
        "INVALID_MANIFEST", "CMS signature block has no END line", file=file, line=lines[start][0]
    )


def parse_manifest(data: bytes, file: str) -> Manifest:
    """Parse a SOL004 manifest (§4.3.2) into a :class:`Manifest`.

    Layout: optional ``metadata:`` block, ``Source:`` artifact blocks, an optional
    ``non_mano_artifact_sets:`` block and an optional CMS signature block, in any order.
    Tolerated: CRLF, missing blank lines between artifact blocks (a new ``Source:`` starts a
    new block), a final block without newline, and a ``Hash:`` value with the next key glued
    to it without a line break. The Tacker sample manifests are plain blank-line separated
    blocks; files without a final newline are the real-world case that, once concatenated,
    produce the glued form, hence the hex-digest split (see ``_GLUED_AFTER_HASH``).
    """
    lines = list(enumerate(split_lines(decode_text(data, file)), start=1))
    result = Manifest()
    artifact_lines: list[tuple[int, str]] = []
    i = 0
    while i < len(lines):
        lineno, line = lines[i]
        head = line.strip()
        if head.startswith("#"):
            i += 1
        elif head == "-----BEGIN CMS-----":
            if result.cms_signature is not None:
                raise PackageError("INVALID_MANIFEST", "two CMS blocks", file=file, line=lineno)
            result.cms_signature, i = _take_cms(lines, i, file)
            artifact_lines.append((lineno, ""))
        elif _indent(line) == 0 and re.match(r"^metadata[ \t]*:[ \t]*$", line):
            i = _parse_metadata(lines, i + 1, file, result.metadata)
            artifact_lines.append((lineno, ""))
        elif _indent(line) == 0 and re.match(r"^non_mano_artifact_sets[ \t]*:[ \t]*$", line):
            i = _parse_non_mano(lines, i + 1, file, result.non_mano)
            artifact_lines.append((lineno, ""))
        else:
            artifact_lines.append((lineno, line))
            i += 1
    blocks = _artifact_blocks(artifact_lines, file, "Source", "INVALID_MANIFEST")
    result.sources = [_entry_from_block(b, "Source", "manifest") for b in blocks]
    return result
