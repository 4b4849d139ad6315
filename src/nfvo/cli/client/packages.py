"""``nfvo pkg`` (VNF packages, ``vnfpkgm/v2``) and ``nfvo nsd`` (NSD archives, ``nsd/v2``).

Both collections behave alike in SOL005, so one set of functions serves both, told apart by
a :class:`Kind`. ``onboard`` takes a CSAR file or a package folder (built into a CSAR first,
manifest hashes computed, as ``nfvo pkg build`` does).
"""

from __future__ import annotations

import tarfile
import zipfile
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from nfvo.catalog.builder import build_csar, hashed_paths, read_package_dir
from nfvo.cli.client.common import (
    DEFAULT_WAIT_TIMEOUT,
    OutputOpt,
    TimeoutOpt,
    WaitOpt,
    emit_list,
    open_session,
    parse_pairs,
)
from nfvo.cli.client.errors import UsageError, handled
from nfvo.cli.client.output import Column, Format, details, emit, note
from nfvo.cli.client.progress import wait_state
from nfvo.cli.client.session import ApiSession

pkg_app = typer.Typer(help="VNF packages: build, onboard, list, show, enable/disable, delete.")
nsd_app = typer.Typer(help="NS descriptors (NSD archives): onboard, list, show, delete.")


def _image_line(image: dict[str, Any]) -> str:
    """``name (in the package)`` / ``(from URI)`` / ``(on the VIM)``."""
    source = (image.get("userMetadata") or {}).get("imageSource")
    where = {"PACKAGE": "in the package", "URI": "from its URI", "VIM": "on the VIM"}
    name = str(image.get("name") or image.get("id") or "?")
    return f"{name} ({where[source]})" if source in where else name


@dataclass(frozen=True)
class Kind:
    """How one package collection is addressed and shown."""

    word: str  # "VNF package" | "NSD"
    path: str
    content: str
    onboarding: str  # onboarding state field
    operational: str
    usage: str
    columns: tuple[Column, ...]
    details: tuple[Column, ...]
    command: str  # "pkg" | "nsd"


VNF = Kind(
    "VNF package",
    "/vnfpkgm/v2/vnf_packages",
    "package_content",
    "onboardingState",
    "operationalState",
    "usageState",
    (
        ("ID", "id"),
        ("PRODUCT", "vnfProductName"),
        ("PROVIDER", "vnfProvider"),
        ("VERSION", "vnfSoftwareVersion"),
        ("VNFD ID", "vnfdId"),
        ("ONBOARDING STATE", "onboardingState"),
        ("OPERATIONAL STATE", "operationalState"),
        ("USAGE STATE", "usageState"),
    ),
    (
        ("VNFD VERSION", "vnfdVersion"),
        ("CHECKSUM", lambda p: (p.get("checksum") or {}).get("hash")),
        ("IMAGES", lambda p: [_image_line(i) for i in p.get("softwareImages") or []]),
        ("USER DATA", "userDefinedData"),
        ("FAILURE", "onboardingFailureDetails"),
    ),
    "pkg",
)
NSD = Kind(
    "NSD",
    "/nsd/v2/ns_descriptors",
    "nsd_content",
    "nsdOnboardingState",
    "nsdOperationalState",
    "nsdUsageState",
    (
        ("ID", "id"),
        ("NAME", "nsdName"),
        ("DESIGNER", "nsdDesigner"),
        ("VERSION", "nsdVersion"),
        ("NSD ID", "nsdId"),
        ("ONBOARDING STATE", "nsdOnboardingState"),
        ("OPERATIONAL STATE", "nsdOperationalState"),
        ("USAGE STATE", "nsdUsageState"),
    ),
    (
        ("INVARIANT ID", "nsdInvariantId"),
        ("VNF PACKAGES", "vnfPkgIds"),
        ("USER DATA", "userDefinedData"),
        ("FAILURE", "onboardingFailureDetails"),
    ),
    "nsd",
)


class CsarFormat(StrEnum):
    """Archive formats nfvo reads."""

    zip = "zip"
    tar = "tar"
    targz = "tar.gz"


# -- archives ------------------------------------------------------------------------------
def _manifest_text(path: Path) -> str:
    """The manifest of a package folder or CSAR, '' when it cannot be told."""
    try:
        if path.is_dir():
            names = sorted(path.glob("*.mf"))
            return names[0].read_text("utf-8", "replace") if names else ""
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                names = [n for n in z.namelist() if n.endswith(".mf") and "/" not in n]
                return z.read(names[0]).decode("utf-8", "replace") if names else ""
        with tarfile.open(path) as t:
            members = [m for m in t.getmembers() if m.name.endswith(".mf") and "/" not in m.name]
            f = t.extractfile(members[0]) if members else None
            return f.read().decode("utf-8", "replace") if f else ""
    except (OSError, zipfile.BadZipFile, tarfile.TarError, KeyError, IndexError):
        return ""


def _looks_like(path: Path) -> str | None:
    """``vnf`` / ``nsd`` from the manifest's metadata keys (SOL004 / SOL007), else None."""
    text = _manifest_text(path)
    if "nsd_designer" in text or "nsd_invariant_id" in text:
        return "nsd"
    if "vnf_provider_id" in text or "vnf_product_name" in text:
        return "vnf"
    return None


def _archive(path: Path, kind: Kind) -> Path | bytes:
    """What to upload: the CSAR file, or the CSAR built from a folder."""
    if not path.exists():
        raise UsageError(f"{path} does not exist")
    seen = _looks_like(path)
    want = "vnf" if kind is VNF else "nsd"
    if seen is not None and seen != want:
        other = "nfvo nsd onboard" if seen == "nsd" else "nfvo pkg onboard"
        raise UsageError(
            f"{path} is {'an NSD' if seen == 'nsd' else 'a VNF package'}, not "
            f"{'an NSD' if want == 'nsd' else 'a VNF package'}",
            hint=f"use `{other} {path}`",
        )
    return _build(path, "zip") if path.is_dir() else path


def _build(folder: Path, fmt: str) -> bytes:
    try:
        return build_csar(folder, fmt=fmt)
    except (FileNotFoundError, ValueError) as exc:
        raise UsageError(f"cannot build a CSAR from {folder}: {exc}") from None


# -- shared implementations ----------------------------------------------------------------
def _find(s: ApiSession, kind: Kind, ref: str) -> dict[str, Any]:
    names = ("vnfdId", "vnfProductName") if kind is VNF else ("nsdId", "nsdName")
    return s.find(kind.path, ref, names)


def _onboard(
    kind: Kind,
    path: Path,
    user_data: list[str] | None,
    wait: bool,
    timeout: float,
    output: Format,
) -> None:
    csar = _archive(path, kind)
    is_zip = isinstance(csar, bytes) or zipfile.is_zipfile(csar)
    body = {"userDefinedData": parse_pairs(user_data, "--user-data")} if user_data else {}
    with open_session() as s:
        created = s.post(kind.path, body).json()
        item_path = f"{kind.path}/{created['id']}"
        s.request(
            "PUT",
            f"{item_path}/{kind.content}",
            upload=csar,
            headers={"Content-Type": "application/zip" if is_zip else "application/octet-stream"},
        )
        if wait:
            info = wait_state(
                f"onboarding {path.name}",
                lambda: s.get(item_path),
                lambda p: p.get(kind.onboarding) or "-",
                running=frozenset({"CREATED", "UPLOADING", "PROCESSING"}),
                success="ONBOARDED",
                problem_of=lambda p: p.get("onboardingFailureDetails"),
                hint=f"fix the package, then `nfvo {kind.command} delete {created['id']}` "
                "and onboard it again",
                fmt=output,
                timeout=timeout,
            )
        else:
            info = s.get(item_path)
    emit(info, output, details(info, kind.columns + kind.details))


def _patch_state(s: ApiSession, kind: Kind, pkg_id: str, state: str) -> None:
    """PATCH the operational state, conditional on the current ETag (SOL005 If-Match)."""
    etag = s.request("GET", f"{kind.path}/{pkg_id}").headers.get("etag")
    s.patch(
        f"{kind.path}/{pkg_id}",
        {kind.operational: state},
        headers={"If-Match": etag} if etag else None,
    )


def _set_state(kind: Kind, ref: str, state: str, output: Format) -> None:
    with open_session() as s:
        item = _find(s, kind, ref)
        _patch_state(s, kind, item["id"], state)
        item = s.get(f"{kind.path}/{item['id']}")
    emit(item, output, details(item, kind.columns))


def _delete(kind: Kind, ref: str, force: bool) -> None:
    with open_session() as s:
        item = _find(s, kind, ref)
        if force and item.get(kind.operational) == "ENABLED":
            _patch_state(s, kind, item["id"], "DISABLED")
        s.delete(f"{kind.path}/{item['id']}")
    note(Format.table, f"Deleted {kind.word} {item['id']}.")


PathArg = Annotated[Path, typer.Argument(help="CSAR file, or a package folder (built first).")]
UserDataOpt = Annotated[
    list[str] | None,
    typer.Option("--user-data", help="KEY=VALUE stored as userDefinedData (repeatable)."),
]
RefArg = Annotated[str, typer.Argument(help="Package id (or descriptor id / name).")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Disable it first if it is enabled.")]


# -- nfvo pkg ------------------------------------------------------------------------------
@pkg_app.command("build")
@handled
def pkg_build(
    folder: Annotated[Path, typer.Argument(help="Package folder (TOSCA-Metadata/, .mf, ...).")],
    out: Annotated[
        Path | None, typer.Option("--output", "-o", help="CSAR file (default: FOLDER.csar).")
    ] = None,
    fmt: Annotated[CsarFormat, typer.Option("--format", help="Archive format.")] = CsarFormat.zip,
) -> None:
    """Archive a package folder as a CSAR, with the manifest's hashes computed."""
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder")
    data = _build(folder, fmt.value)
    suffix = ".csar" if fmt is CsarFormat.zip else f".{fmt.value}"
    target = out or Path(folder.resolve().name + suffix)
    target.write_bytes(data)
    hashed = len(hashed_paths(read_package_dir(folder)))
    note(Format.table, f"Wrote {target} ({len(data)} bytes; manifest hashes of {hashed} files).")


# -- the commands both groups have ------------------------------------------------------
def _add_commands(app: typer.Typer, kind: Kind, helps: dict[str, str]) -> None:
    """Register onboard, list, show, enable, disable and delete of ``kind`` on ``app``;
    ``helps`` holds each command's help text."""

    @app.command("onboard", help=helps["onboard"])
    @handled
    def onboard(
        path: PathArg,
        user_data: UserDataOpt = None,
        wait: WaitOpt = False,
        timeout: TimeoutOpt = DEFAULT_WAIT_TIMEOUT,
        output: OutputOpt = Format.table,
    ) -> None:
        _onboard(kind, path, user_data, wait, timeout, output)

    @app.command("list", help=helps["list"])
    @handled
    def list_(output: OutputOpt = Format.table) -> None:
        emit_list(kind.path, kind.columns, output, f"{kind.word}s")

    @app.command("show", help=helps["show"])
    @handled
    def show(ref: RefArg, output: OutputOpt = Format.table) -> None:
        with open_session() as s:
            item = _find(s, kind, ref)
        emit(item, output, details(item, kind.columns + kind.details))

    @app.command("enable", help=helps["enable"])
    @handled
    def enable(ref: RefArg, output: OutputOpt = Format.table) -> None:
        _set_state(kind, ref, "ENABLED", output)

    @app.command("disable", help=helps["disable"])
    @handled
    def disable(ref: RefArg, output: OutputOpt = Format.table) -> None:
        _set_state(kind, ref, "DISABLED", output)

    @app.command("delete", help=helps["delete"])
    @handled
    def delete(ref: RefArg, force: ForceOpt = False) -> None:
        _delete(kind, ref, force)


_add_commands(
    pkg_app,
    VNF,
    {
        "onboard": "Create a VNF package and upload the CSAR (a folder is built first).",
        "list": "VNF packages.",
        "show": "One VNF package.",
        "enable": "Enable a VNF package (NSDs using it can be instantiated).",
        "disable": "Disable a VNF package.",
        "delete": "Delete a VNF package (it must be disabled and not in use).",
    },
)
_add_commands(
    nsd_app,
    NSD,
    {
        "onboard": "Create an NSD resource and upload the NSD archive (a folder is built first).",
        "list": "NS descriptors.",
        "show": "One NS descriptor.",
        "enable": "Enable an NSD (NS instances can be created from it).",
        "disable": "Disable an NSD.",
        "delete": "Delete an NSD (it must be disabled and not in use).",
    },
)
