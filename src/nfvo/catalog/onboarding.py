"""Turning an uploaded archive into an onboarded package: verify, parse, describe."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nfvo.catalog.csar import Csar, CsarLimits, open_csar
from nfvo.catalog.descriptors import Nsd, Pnfd, SwImage, Vnfd, build_descriptor_checked
from nfvo.catalog.errors import PackageError
from nfvo.catalog.references import ReferenceReport, is_uri
from nfvo.catalog.states import PackageKind

_EXPECTED = {PackageKind.vnf: Vnfd, PackageKind.nsd: Nsd, PackageKind.pnfd: Pnfd}
_KIND_WORD = {PackageKind.vnf: "VNFD", PackageKind.nsd: "NSD", PackageKind.pnfd: "PNFD"}


@dataclass
class OnboardResult:
    """What onboarding learnt about a package, ready to be stored."""

    descriptor_id: str
    descriptor: Vnfd | Nsd | Pnfd
    info: dict[str, Any] = field(default_factory=dict)
    referenced_vnfd_ids: list[str] = field(default_factory=list)
    referenced_pnfd_ids: list[str] = field(default_factory=list)
    referenced_nsd_ids: list[str] = field(default_factory=list)


def _descriptor_files(csar: Csar) -> list[str]:
    """The files that make up the descriptor: TOSCA.meta, the entry and its folder's YAMLs."""
    entry = csar.entry_definitions
    folder = entry.rsplit("/", 1)[0] + "/" if "/" in entry else ""
    names = [
        n
        for n in csar
        if n == entry
        or (
            folder
            and n.startswith(folder)
            and n.endswith((".yaml", ".yml"))
            and "/" not in n[len(folder) :]
        )
    ]
    if "TOSCA-Metadata/TOSCA.meta" in csar:
        names.insert(0, "TOSCA-Metadata/TOSCA.meta")
    return sorted(set(names), key=names.index)


def _artifact_list(csar: Csar, exclude: set[str]) -> list[dict[str, Any]]:
    out = []
    non_mano: dict[str, list[str]] = {}
    if csar.manifest is not None:
        non_mano = dict(getattr(csar.manifest, "non_mano", {}) or {})
    set_of = {p: k for k, paths in non_mano.items() for p in paths}
    for a in csar.artifacts:
        if a.path in exclude:
            continue
        item: dict[str, Any] = {"artifactPath": a.path, "isEncrypted": False}
        if getattr(a, "external", False):
            item = {"artifactURI": a.path, "isEncrypted": False}
        if a.algorithm and a.hash:
            item["checksum"] = {"algorithm": a.algorithm, "hash": a.hash}
        else:
            item["checksum"] = {"algorithm": "SHA-256", "hash": ""}
        if a.path in set_of:
            item["nonManoArtifactSetId"] = set_of[a.path]
        if getattr(a, "content_type", None):
            item["metadata"] = {"contentType": a.content_type}
        out.append(item)
    return out


def image_source(img: SwImage) -> str:
    """Where a VDU's software image comes from: ``PACKAGE`` (the package carries the file),
    ``URI`` (an external artifact) or ``VIM`` (referenced by name: the VIM's image service
    holds it and it is looked up on the target VIM at instantiation)."""
    if img.file and is_uri(img.file):
        return "URI"
    return "PACKAGE" if img.file else "VIM"


def _software_images(vnfd: Vnfd, checksums: dict[str, tuple[str, str]]) -> list[dict[str, Any]]:
    """VnfPackageSoftwareImageInfo entries for each distinct VDU software image.

    ``imagePath`` is given for images the package carries and ``imageUri`` for external ones
    (SOL005 table 9.5.3.2-1); an image referenced by name has neither. ``userMetadata``
    says which case it is (``imageSource``: PACKAGE, URI or VIM).
    """
    images: dict[str, dict[str, Any]] = {}
    for flavour in vnfd.flavours:
        for vdu in flavour.vdus:
            for img in (vdu.sw_image, *(s.sw_image for s in vdu.storages)):
                if img is None or not img.name or img.name in images:
                    continue
                images[img.name] = _image_info(vnfd, img, checksums)
    return list(images.values())


def _image_info(vnfd: Vnfd, img: SwImage, checksums: dict[str, tuple[str, str]]) -> dict[str, Any]:
    source = image_source(img)
    algo, digest = checksums.get(img.file or "", (None, None))
    out: dict[str, Any] = {
        "id": img.name,
        "name": img.name,
        "provider": vnfd.provider or "",
        "version": img.version or "",
        "checksum": {
            "algorithm": algo or (img.checksum_algorithm or "SHA-256"),
            "hash": digest or (img.checksum_hash or ""),
        },
        "isEncrypted": False,
        "containerFormat": (img.container_format or "BARE").upper(),
        "diskFormat": (img.disk_format or "RAW").upper(),
        "createdAt": "1970-01-01T00:00:00Z",
        "minDisk": int((img.min_disk_bytes or 0) // (1 << 30)),
        "minRam": int((img.min_ram_bytes or 0) // (1 << 20)),
        "size": int(img.size_bytes or 0),
        "userMetadata": {"imageSource": source},
    }
    if source == "PACKAGE":
        out["imagePath"] = img.file
    elif source == "URI":
        out["imageUri"] = img.file
    return out


def _vnf_info(csar: Csar, d: Vnfd, descriptor_files: list[str]) -> dict[str, Any]:
    meta = dict(csar.manifest.metadata) if csar.manifest else {}
    checksums = {a.path: (a.algorithm, a.hash) for a in csar.artifacts if a.algorithm}
    images = _software_images(d, checksums)
    image_paths = {i.get("imagePath") for i in images}
    compat = meta.get("compatible_specification_versions")
    return {
        "vnfdId": d.vnfd_id,
        "vnfProvider": d.provider,
        "vnfProductName": d.product_name,
        "vnfSoftwareVersion": d.software_version,
        "vnfdVersion": d.vnfd_version,
        "compatibleSpecificationVersions": [v.strip() for v in compat.split(",")] if compat else [],
        "vnfmInfo": list(d.vnfm_info or []),
        "softwareImages": images,
        "additionalArtifacts": _artifact_list(
            csar, exclude=set(descriptor_files) | {p for p in image_paths if p}
        ),
        "manifestMetadata": meta,
    }


def _nsd_info(csar: Csar, d: Nsd, descriptor_files: list[str]) -> dict[str, Any]:
    return {
        "nsdId": d.nsd_id,
        "nsdName": d.name,
        "nsdVersion": d.version,
        "nsdDesigner": d.designer,
        "nsdInvariantId": d.invariant_id,
        "artifacts": _artifact_list(csar, exclude=set(descriptor_files)),
        "manifestMetadata": dict(csar.manifest.metadata) if csar.manifest else {},
    }


def _pnfd_info(csar: Csar, d: Pnfd, descriptor_files: list[str]) -> dict[str, Any]:
    return {
        "pnfdId": d.pnfd_id,
        "pnfdName": d.name,
        "pnfdersion": d.version,
        "pnfdProvider": d.provider,
        "pnfdInvariantId": d.invariant_id,
        "artifacts": _artifact_list(csar, exclude=set(descriptor_files)),
    }


def analyse_package(path: Path, kind: PackageKind, limits: CsarLimits) -> OnboardResult:
    """Open, verify and parse the archive at ``path`` as a package of ``kind``.

    Raises PackageError naming the cause; never writes anything.
    """
    with open_csar(path, limits) as csar:
        descriptor, refs = build_descriptor_checked(csar, csar.entry_definitions)
        want = _EXPECTED[kind]
        if not isinstance(descriptor, want):
            got = type(descriptor).__name__.upper()
            raise PackageError(
                "WRONG_DESCRIPTOR_KIND",
                f"this is a {got} package; expected a {_KIND_WORD[kind]} package here",
                file=csar.entry_definitions,
            )
        files = _descriptor_files(csar)
        common: dict[str, Any] = {
            "entryDefinitions": csar.entry_definitions,
            "manifestPath": csar.manifest_path,
            "descriptorFiles": files,
            "files": sorted(csar),
            "toscaMeta": dict(csar.meta),
        }
        if isinstance(descriptor, Vnfd):
            res = OnboardResult(descriptor.vnfd_id, descriptor, _vnf_info(csar, descriptor, files))
        elif isinstance(descriptor, Nsd):
            res = OnboardResult(descriptor.nsd_id, descriptor, _nsd_info(csar, descriptor, files))
            res.referenced_vnfd_ids = list(descriptor.vnfd_ids)
            res.referenced_pnfd_ids = list(descriptor.pnfd_ids)
            res.referenced_nsd_ids = list(descriptor.nested_nsd_ids)
        else:
            res = OnboardResult(descriptor.pnfd_id, descriptor, _pnfd_info(csar, descriptor, files))
        res.info.update(common)
        _reference_info(res.info, refs)
        return res


def _reference_info(info: dict[str, Any], refs: ReferenceReport) -> None:
    """What the life cycle needs to know of the files the descriptor names."""
    if refs.day0_files:
        info["day0Files"] = list(refs.day0_files)
    if refs.missing_scripts:
        info["missingScripts"] = [m.to_dict() for m in refs.missing_scripts]
