"""The files a descriptor names, resolved one way and checked at onboarding.

A VNFD names package files in several places: node artifacts (``file:``), the software
image artifact, a VDU's day-0 data (``boot_data … source_path``), the scripts that implement
interface operations. Every one is resolved the same way: relative to the file that names it
(``../Files/x`` from ``Definitions/``), as TOSCA and the Tacker samples write them, then, for
the packages that write them so, relative to the package root. The resolved package path is
written back into the loaded template, so the stored descriptor names the real member and
the life cycle never has to guess again.

A referenced file the package does not carry refuses the package here, naming the file and
line that reference it (``MISSING_ARTIFACT``), rather than failing an instantiation later.
Two cases are not errors:

- a ``SwImage`` artifact whose file is not in the package and is not a URI is an image the
  VIM's image service already holds, referenced by its ``SwImageData`` name (plus version
  and checksum when given); it becomes an image *reference*, looked up on the target VIM at
  instantiation (:mod:`nfvo.vnfm.images`);
- a lifecycle script of a VNF whose ``vnfm_info`` names only vendor-specific VNFMs (none of
  the ``etsivnfm:`` generic VNFM identifiers SOL001 defines) is run by that vendor's VNFM,
  not by nfvo; a missing one is recorded (``missingScripts`` of the package info) instead
  of refusing the package. For every other VNF a missing script refuses it.

URIs (``scheme://…``) are external: recorded, never fetched.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Container, Mapping
from dataclasses import dataclass, field
from typing import Any

from nfvo.catalog.errors import PackageError
from nfvo.catalog.tosca.model import Artifact, NodeTemplate, ServiceTemplate, Topology
from nfvo.catalog.tosca.values import Unresolved
from nfvo.catalog.tosca.yamlload import line_of

MAX_DAY0_BYTES = 256 << 10  # a day-0 file becomes user data: bounded like the VIMs bound it
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
VDU = "tosca.nodes.nfv.Vdu.Compute"
VNF = "tosca.nodes.nfv.VNF"


def is_uri(ref: str) -> bool:
    """True for ``scheme://…`` references (external: not in the package)."""
    return _URI.match(ref.strip()) is not None


def resolve_path(ref: str, naming_file: str, files: Container[str]) -> str | None:
    """The package member ``ref`` names from ``naming_file``, or None if there is none.

    Relative to the naming file's folder first (TOSCA), then relative to the package root.
    A path that leaves the package resolves to nothing.
    """
    ref = ref.strip()
    if not ref or is_uri(ref) or "\\" in ref or "\x00" in ref:
        return None
    candidates = []
    if not ref.startswith("/"):
        candidates.append(posixpath.normpath(posixpath.join(posixpath.dirname(naming_file), ref)))
    candidates.append(posixpath.normpath(ref.lstrip("/")))
    for path in candidates:
        if path == ".." or path.startswith("../") or path in ("", "."):
            continue
        if path in files:
            return path
    return None


@dataclass(frozen=True)
class MissingScript:
    """A lifecycle script the package names but does not carry (tolerated, see module doc)."""

    ref: str
    file: str
    line: int | None
    operation: str

    def to_dict(self) -> dict[str, Any]:
        """JSON form for the package info."""
        return {"file": self.ref, "namedIn": self.file, "line": self.line, "op": self.operation}


@dataclass
class ReferenceReport:
    """What resolving a template's references found besides errors."""

    day0_files: list[str] = field(default_factory=list)
    missing_scripts: list[MissingScript] = field(default_factory=list)


def _missing(what: str, ref: str, file: str, line: int | None, path: str) -> PackageError:
    return PackageError(
        "MISSING_ARTIFACT",
        f"{what} {ref!r} is not in the package (looked relative to {file} and to the package root)",
        file=file,
        line=line,
        tosca_path=path,
    )


def _is_image(art: Artifact) -> bool:
    return bool(art.type) and str(art.type).endswith("SwImage")


def _generic_vnfm(st: ServiceTemplate) -> bool:
    """True unless the VNF's vnfm_info names only vendor-specific VNFMs."""
    tops = [t for t in (st.topology, *st.imported_topologies) if t is not None]
    infos: list[str] = []
    for top in tops:
        sources: list[Any] = [n.properties for n in top.nodes_of(VNF)]
        if top.substitution is not None:
            sources.append(top.substitution.properties)
        for props in sources:
            value = props.get("vnfm_info")
            if isinstance(value, list):
                infos += [str(v) for v in value if isinstance(v, str | int | float)]
    if not infos:
        return True
    return any("etsivnfm" in v.lower() for v in infos)


class _Resolver:
    def __init__(self, st: ServiceTemplate, files: Mapping[str, bytes] | Container[str]) -> None:
        self.st = st
        self.files = files
        self.report = ReferenceReport()
        self.strict_scripts = _generic_vnfm(st)

    def run(self) -> ReferenceReport:
        seen: set[int] = set()
        for top in (self.st.topology, *self.st.imported_topologies):
            if top is None or id(top) in seen:
                continue
            seen.add(id(top))
            for node in top.node_templates.values():
                self._node(top, node)
        return self.report

    def _node(self, top: Topology, node: NodeTemplate) -> None:
        base = f"topology_template.node_templates.{node.name}"
        scripts = self._script_names(node)
        for art in node.artifacts.values():
            line = art.file_line or art.line or node.line
            path = f"{base}.artifacts.{art.name}.file"
            if not art.file or is_uri(art.file):
                art.path = None
                continue
            art.path = resolve_path(art.file, node.file, self.files)
            if art.path is not None:
                continue
            if _is_image(art):
                self._image_reference(node, art, line, path)
            elif art.name in scripts:
                self._missing_script(art.file, node, line, path, scripts[art.name])
            else:
                raise _missing("artifact file", art.file, node.file, line, path)
        self._direct_scripts(node, base, scripts)
        if node.is_a(VDU):
            self._boot_data(node, base)

    def _script_names(self, node: NodeTemplate) -> dict[str, str]:
        """Artifact names (or direct file paths) used by interface operations -> operation."""
        out: dict[str, str] = {}
        for iname, ops in node.interfaces.items():
            for op in ops.values():
                for ref in (op.implementation, *op.dependencies):
                    if isinstance(ref, str) and ref:
                        out.setdefault(ref, f"{iname}.{op.name}")
        return out

    def _direct_scripts(self, node: NodeTemplate, base: str, scripts: dict[str, str]) -> None:
        """Operations whose implementation is a file path rather than an artifact name."""
        for ref, opname in scripts.items():
            if ref in node.artifacts or is_uri(ref) or not re.search(r"[/.]", ref):
                continue
            resolved = resolve_path(ref, node.file, self.files)
            path = f"{base}.interfaces.{opname.replace('.', '.operations.', 1)}.implementation"
            if resolved is None:
                self._missing_script(ref, node, node.line, path, opname)
            node.artifacts[ref] = Artifact(
                name=ref, type=None, file=ref, path=resolved, line=node.line
            )

    def _missing_script(
        self, ref: str, node: NodeTemplate, line: int | None, path: str, opname: str
    ) -> None:
        if self.strict_scripts:
            raise _missing(f"script of {opname}", ref, node.file, line, path)
        self.report.missing_scripts.append(MissingScript(ref, node.file, line, opname))

    def _image_reference(self, node: NodeTemplate, art: Artifact, line: int | None, path: str):
        """A SwImage not carried: fine when a SwImageData name identifies it on the VIM."""
        props = art.properties if isinstance(art.properties, dict) else {}
        data = node.properties.get("sw_image_data")
        name = props.get("name") or (data.get("name") if isinstance(data, dict) else None)
        if not isinstance(name, str) or not name.strip() or isinstance(name, Unresolved):
            raise PackageError(
                "MISSING_ARTIFACT",
                f"software image file {art.file!r} is not in the package, and no SwImageData "
                "name identifies the image on the VIM",
                file=node.file,
                line=line,
                tosca_path=path,
            )
        art.carried = False

    def _boot_data(self, node: NodeTemplate, base: str) -> None:
        boot = node.properties.get("boot_data")
        if not isinstance(boot, dict):
            return
        body = boot.get("content_or_file_data", boot)
        if not isinstance(body, dict):
            return
        ref = body.get("source_path")
        if not isinstance(ref, str) or isinstance(body.get("content"), str):
            return
        line = line_of(body, "source_path") or line_of(boot) or node.line
        path = f"{base}.properties.boot_data.content_or_file_data.source_path"
        if is_uri(ref):
            raise PackageError(
                "MISSING_ARTIFACT",
                f"day-0 file {ref!r} must be a file of the package, not a URI",
                file=node.file,
                line=line,
                tosca_path=path,
            )
        resolved = resolve_path(ref, node.file, self.files)
        if resolved is None:
            raise _missing("day-0 file", ref, node.file, line, path)
        size = _size_of(self.files, resolved)
        if size is not None and size > MAX_DAY0_BYTES:
            raise PackageError(
                "TOO_LARGE",
                f"day-0 file {resolved!r} is {size} bytes (limit {MAX_DAY0_BYTES})",
                file=node.file,
                line=line,
                tosca_path=path,
            )
        body["source_path"] = resolved
        if resolved not in self.report.day0_files:
            self.report.day0_files.append(resolved)


def _size_of(files: Any, name: str) -> int | None:
    size = getattr(files, "size", None)
    if callable(size):
        return int(size(name))
    try:
        return len(files[name])
    except (KeyError, TypeError):
        return None


def resolve_references(
    st: ServiceTemplate, files: Mapping[str, bytes] | Container[str]
) -> ReferenceReport:
    """Resolve and check every file ``st`` names (see module doc), in place.

    Raises PackageError MISSING_ARTIFACT naming the file and line of the first reference the
    package does not carry.
    """
    return _Resolver(st, files).run()


__all__ = [
    "MAX_DAY0_BYTES",
    "MissingScript",
    "ReferenceReport",
    "is_uri",
    "resolve_path",
    "resolve_references",
]
