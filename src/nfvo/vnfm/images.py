"""Software images a VNF references by name, checked on the target VIM before anything exists.

A VNF package usually does not carry its images: they live in the VIM's image service and the
VNFD names them (``SwImageData`` name, version, checksum). Such a reference is looked up on
the VIM the VDU is placed on (:meth:`nfvo.vim.base.VimDriver.find_image`: Glance on
OpenStack, the sim VIM's catalogue, the container image name on Kubernetes) once placement
has chosen the VIMs and before any network, port or server is created, so a missing image
fails the request cleanly, naming image, VDU, VNF and VIM.

:func:`missing_images` serves both the life cycle (after placement) and a request-time
validator (one VNFD flavour on one VIM account).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from nfvo.catalog.descriptors import SwImage, Vnfd
from nfvo.vim.base import ImageRef, VimDriver
from nfvo.vnfm.base import VnfDeploymentSpec

log = logging.getLogger(__name__)


def is_reference(image: SwImage | None) -> bool:
    """True for a named image the package does not carry (no file, or an external URI)."""
    return image is not None and bool(image.name) and (not image.file or "://" in image.file)


def image_ref(image: SwImage) -> ImageRef:
    """The VIM lookup key of a referenced image."""
    assert image.name
    return ImageRef(
        name=image.name,
        version=image.version,
        checksum_algorithm=image.checksum_algorithm,
        checksum_hash=image.checksum_hash,
    )


def referenced_images(vnfd: Vnfd, flavour_id: str) -> dict[str, ImageRef]:
    """VDU id -> the image it references by name, for one flavour (carried images excluded).

    KeyError when the flavour does not exist.
    """
    flavour = vnfd.flavour(flavour_id)
    return {
        vdu.id: image_ref(vdu.sw_image)
        for vdu in flavour.vdus
        if vdu.sw_image is not None and is_reference(vdu.sw_image)
    }


@dataclass(frozen=True)
class MissingImage:
    """A referenced image the target VIM cannot provide, and who needs it."""

    image: str
    vdu_id: str
    vnfd_id: str
    vim_account_id: str
    reason: str
    vnf_instance_id: str | None = None
    vnf_profile_id: str | None = None
    version: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The fields a ProblemDetails names."""
        out: dict[str, Any] = {
            "image": self.image,
            "vduId": self.vdu_id,
            "vnfdId": self.vnfd_id,
            "vimAccountId": self.vim_account_id,
            "reason": self.reason,
        }
        if self.vnf_instance_id:
            out["vnfInstanceId"] = self.vnf_instance_id
        if self.vnf_profile_id:
            out["vnfProfileId"] = self.vnf_profile_id
        if self.version:
            out["imageVersion"] = self.version
        return out

    def sentence(self) -> str:
        """One line naming image, VDU, VNF and VIM."""
        vnf = self.vnf_instance_id or self.vnfd_id
        profile = f" (VNF profile {self.vnf_profile_id!r})" if self.vnf_profile_id else ""
        version = f" version {self.version}" if self.version else ""
        return (
            f"software image {self.image!r}{version} of VDU {self.vdu_id!r} of VNF {vnf}"
            f"{profile} is not available on VIM {self.vim_account_id}: {self.reason}"
        )


def missing_images(
    vnfd: Vnfd,
    flavour_id: str,
    vim_account_id: str,
    driver: VimDriver,
    *,
    vdu_ids: Iterable[str] | None = None,
    vnf_instance_id: str | None = None,
    vnf_profile_id: str | None = None,
) -> list[MissingImage]:
    """The images of ``vnfd``'s flavour referenced by name that ``driver``'s VIM lacks.

    ``vdu_ids`` restricts the check to those VDUs. Each distinct image is looked up once.
    VIM errors (unreachable, authentication) propagate as :class:`~nfvo.vim.base.VimError`.
    """
    refs = referenced_images(vnfd, flavour_id)
    wanted = set(vdu_ids) if vdu_ids is not None else None
    seen: dict[ImageRef, str | None] = {}
    out = []
    for vdu_id, ref in refs.items():
        if wanted is not None and vdu_id not in wanted:
            continue
        if ref not in seen:
            found = driver.find_image(ref)
            seen[ref] = None if found.image is not None else (found.detail or "not found")
            if found.image is not None and ref.checksum_hash and not found.checksum_verified:
                log.info(
                    "image %r on VIM %s: the VIM reports no %s digest; checksum not verified",
                    ref.name,
                    vim_account_id,
                    ref.checksum_algorithm,
                )
        reason = seen[ref]
        if reason is not None:
            out.append(
                MissingImage(
                    image=ref.name,
                    vdu_id=vdu_id,
                    vnfd_id=vnfd.vnfd_id,
                    vim_account_id=vim_account_id,
                    reason=reason,
                    vnf_instance_id=vnf_instance_id,
                    vnf_profile_id=vnf_profile_id,
                    version=ref.version,
                )
            )
    return out


def missing_images_of_specs(
    specs: Iterable[VnfDeploymentSpec],
    vnfds: Mapping[str, Vnfd],
    driver_of: Callable[[str], VimDriver],
) -> list[MissingImage]:
    """:func:`missing_images` for every placed VNF (only the VDUs its spec deploys)."""
    out: list[MissingImage] = []
    for spec in specs:
        vnfd = vnfds.get(spec.vnfd_id)
        if vnfd is None:
            continue
        try:
            vnfd.flavour(spec.flavour_id)
        except KeyError:
            continue
        out += missing_images(
            vnfd,
            spec.flavour_id,
            spec.vim_account_id,
            driver_of(spec.vim_account_id),
            vdu_ids=[v.vdu_id for v in spec.vdus],
            vnf_instance_id=spec.vnf_instance_id,
            vnf_profile_id=spec.vnf_profile_id,
        )
    return out


def missing_images_problem(missing: list[MissingImage]) -> dict[str, Any]:
    """A 422 ProblemDetails naming every missing image (the first one in ``detail``)."""
    first = missing[0]
    more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
    return {
        "title": "Software image not available on the VIM",
        "status": 422,
        "detail": first.sentence() + more,
        **first.to_dict(),
        "missingImages": [m.to_dict() for m in missing[:50]],
    }


__all__ = [
    "MissingImage",
    "image_ref",
    "is_reference",
    "missing_images",
    "missing_images_of_specs",
    "missing_images_problem",
    "referenced_images",
]
