"""Import resolution: package-relative files, built-in type files, cycles and refusals.

Imports are resolved only inside the package (a mapping of package-relative
POSIX paths to bytes) or to the built-in type files (forge.etsi.org SOL001 URLs
are mapped offline); any other URL, an absolute path or a path leaving the
package is refused.  A file imported along several routes is loaded once; a
file that (indirectly) imports itself is an ``IMPORT_CYCLE``.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from nfvo.catalog.errors import PackageError
from nfvo.catalog.tosca import types as builtin_types
from nfvo.catalog.tosca.yamlload import MAX_YAML_BYTES, LineDict, line_of, load_yaml

SERVICE_VERSIONS = frozenset({"tosca_simple_yaml_1_2", "tosca_simple_yaml_1_3"})
IMPORT_VERSIONS = SERVICE_VERSIONS | {"tosca_simple_yaml_1_0", "tosca_simple_yaml_1_1"}
BUILTIN_PREFIX = "builtin:"

_DOC_CACHE: dict[bytes, LineDict] = {}
_DOC_CACHE_MAX = 256


@dataclass(slots=True)
class LoadedFile:
    """One file of the service template, in dependency order (imports first)."""

    path: str
    doc: LineDict
    digest: bytes
    builtin: bool
    prefixes: list[str] = field(default_factory=list)

    @property
    def has_topology(self) -> bool:
        """True when the file carries a topology_template."""
        return isinstance(self.doc.get("topology_template"), dict)


def parse_cached(data: bytes, path: str) -> tuple[LineDict, bytes]:
    """Parse YAML; type-library documents (no topology) are cached per process by content."""
    digest = hashlib.blake2b(data, digest_size=20).digest()
    doc = _DOC_CACHE.get(digest)
    if doc is None:
        doc = load_yaml(data, path)
        if "topology_template" not in doc:
            if len(_DOC_CACHE) >= _DOC_CACHE_MAX:
                _DOC_CACHE.pop(next(iter(_DOC_CACHE)))
            _DOC_CACHE[digest] = doc
    return doc, digest


class ImportResolver:
    """Walks the import graph of one service template."""

    def __init__(self, files: Mapping[str, bytes]) -> None:
        self.files = files
        self.loaded: dict[str, LoadedFile] = {}
        self.order: list[LoadedFile] = []

    def load(self, entry: str) -> list[LoadedFile]:
        """Load the implicit normative types, then ``entry`` and everything it imports."""
        self._visit(BUILTIN_PREFIX + builtin_types.NORMATIVE, (), None, None)
        entry = posixpath.normpath(entry.lstrip("/"))
        if entry not in self.files:
            raise PackageError("ENTRY_NOT_FOUND", f"service template {entry} is not in the package")
        self._visit(entry, (), None, None)
        return self.order

    def _read(self, key: str, importer: str | None, line: int | None) -> LoadedFile:
        if key.startswith(BUILTIN_PREFIX):
            data = builtin_types.read_builtin(key[len(BUILTIN_PREFIX) :])
            builtin = True
        else:
            if key not in self.files:
                raise PackageError(
                    "IMPORT_NOT_FOUND",
                    f"imported file {key} is not in the package",
                    file=importer,
                    line=line,
                    tosca_path="imports",
                )
            data, builtin = self._package_file(key), False
        doc, digest = parse_cached(data, key)
        version = doc.get("tosca_definitions_version")
        allowed = SERVICE_VERSIONS if importer is None and not builtin else IMPORT_VERSIONS
        if version not in allowed:
            raise PackageError(
                "UNKNOWN_TOSCA_VERSION",
                f"tosca_definitions_version {version!r} is not supported "
                f"(expected one of {', '.join(sorted(allowed))})",
                file=key,
                line=line_of(doc, "tosca_definitions_version"),
                tosca_path="tosca_definitions_version",
            )
        return LoadedFile(key, doc, digest, builtin)

    def _package_file(self, key: str) -> bytes:
        """A file of the package, refused by its size before it is read: an archive gives
        the member's uncompressed size (reads enforce it), so a 100 MiB YAML member is never
        inflated into memory only to be found too large."""
        size_of = getattr(self.files, "size", None)
        size = size_of(key) if callable(size_of) else None
        if size is not None and size > MAX_YAML_BYTES:
            raise PackageError(
                "FILE_TOO_LARGE", f"YAML file of {size} bytes exceeds {MAX_YAML_BYTES}", file=key
            )
        return self.files[key]

    def _visit(
        self, key: str, chain: tuple[str, ...], importer: str | None, line: int | None
    ) -> LoadedFile:
        if key in chain:
            cycle = " -> ".join((*chain[chain.index(key) :], key))
            raise PackageError(
                "IMPORT_CYCLE",
                f"import cycle: {cycle}",
                file=importer,
                line=line,
                tosca_path="imports",
            )
        done = self.loaded.get(key)
        if done is not None:
            return done
        loaded = self._read(key, importer, line)
        chain = (*chain, key)
        imports = loaded.doc.get("imports") or []
        if not isinstance(imports, list):
            raise PackageError(
                "INVALID_IMPORT",
                "imports must be a list",
                file=key,
                line=line_of(loaded.doc, "imports"),
                tosca_path="imports",
            )
        for index, item in enumerate(imports):
            iline = line_of(imports) if not isinstance(item, LineDict) else item.line
            target, prefix = self._target(item, key, iline, index, loaded.builtin)
            child = self._visit(target, chain, key, iline)
            if prefix and prefix not in child.prefixes:
                child.prefixes.append(prefix)
        self.loaded[key] = loaded
        self.order.append(loaded)
        return loaded

    def _target(
        self, item: Any, importer: str, line: int | None, index: int, builtin: bool
    ) -> tuple[str, str | None]:
        path = f"imports[{index}]"
        prefix = None
        if isinstance(item, dict):
            if "file" in item:
                ref, prefix = item.get("file"), item.get("namespace_prefix")
            elif len(item) == 1:
                ((_, value),) = item.items()
                ref = value.get("file") if isinstance(value, dict) else value
                prefix = value.get("namespace_prefix") if isinstance(value, dict) else None
            else:
                ref = None
        else:
            ref = item
        if not isinstance(ref, str) or not ref:
            raise PackageError(
                "INVALID_IMPORT",
                f"cannot read import {item!r}",
                file=importer,
                line=line,
                tosca_path=path,
            )
        return self._resolve_ref(ref, importer, line, path, builtin), prefix

    def _resolve_ref(
        self, ref: str, importer: str, line: int | None, path: str, builtin: bool
    ) -> str:
        lower = ref.lower()
        if lower.startswith(("http://", "https://")):
            name = builtin_types.resolve_etsi_url(ref)
            if name is None:
                raise PackageError(
                    "IMPORT_URL_REFUSED",
                    f"import of {ref} refused: only ETSI SOL001 type URLs are resolved (offline)",
                    file=importer,
                    line=line,
                    tosca_path=path,
                )
            return BUILTIN_PREFIX + name
        if "://" in ref or ref.startswith(("/", "\\")) or (len(ref) > 1 and ref[1] == ":"):
            raise PackageError(
                "IMPORT_OUTSIDE_PACKAGE",
                f"import {ref} is not a package-relative path",
                file=importer,
                line=line,
                tosca_path=path,
            )
        if builtin:
            return BUILTIN_PREFIX + _builtin_sibling(ref)
        target = posixpath.normpath(posixpath.join(posixpath.dirname(importer), ref))
        if target not in self.files:  # a root-relative path, as some packages write them
            rooted = posixpath.normpath(ref)
            if rooted in self.files:
                return rooted
        if target == ".." or target.startswith("../"):
            raise PackageError(
                "IMPORT_OUTSIDE_PACKAGE",
                f"import {ref} leaves the package",
                file=importer,
                line=line,
                tosca_path=path,
            )
        return target


def _builtin_sibling(ref: str) -> str:
    """A relative import inside a built-in file names another built-in file."""
    for name, filename in builtin_types.BUILTIN_FILES.items():
        if ref in (name, filename):
            return name
    raise PackageError("IMPORT_NOT_FOUND", f"built-in type file {ref} is unknown")
