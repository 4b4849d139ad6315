"""Glance images: found by name, or created and filled from a VNF package's image file.

An upload is Glance v2's two calls: ``POST /v2/images`` makes a ``queued`` record with the
formats and minimums, ``PUT /v2/images/{id}/file`` streams the bytes, after which Glance
computes the size and digests and moves the image to ``active``. The bytes are hashed as they
go out, so both the checksum the VNFD declares and the digest Glance reports are checked; an
upload that fails, ends ``killed`` or does not match deletes the half-made image, so a retry
starts clean. Images are shared by everything on the VIM and never deleted once active.
"""

from __future__ import annotations

import time
from typing import Any

from nfvo.vim.base import (
    Image,
    ImageLookup,
    ImageRef,
    ImageSpec,
    VimBadRequest,
    VimError,
    VimNotFound,
    VimTimeout,
    VimUnavailable,
)
from nfvo.vim.images import HashingReader, check_declared, declared_algorithm, select_image
from nfvo.vim.os.client import OpenStackClient
from nfvo.vim.os.config import OpenStackConfig
from nfvo.vim.os.networks import encode_tags

# Glance image states: usable, on their way there (an upload running), and dead ends.
_BUSY = frozenset({"saving", "importing", "uploading"})
_DEAD = frozenset({"killed", "deleted", "pending_delete"})
_DIGESTS = frozenset({"md5", "sha512"})  # what Glance computes by default (checksum, os_hash)


def to_image(body: dict[str, Any]) -> Image:
    """An Image out of a Glance image body."""
    return Image(
        id=body["id"],
        name=body.get("name") or body["id"],
        disk_format=body.get("disk_format"),
        container_format=body.get("container_format"),
        size_bytes=body.get("size"),
        checksum=body.get("checksum"),
    )


def _glance_digests(body: dict[str, Any]) -> dict[str, str]:
    """The digests Glance reports for an image, by hashlib name."""
    out = {}
    if body.get("checksum"):
        out["md5"] = str(body["checksum"]).lower()
    algo, value = body.get("os_hash_algo"), body.get("os_hash_value")
    if algo and value:
        out[str(algo).lower().replace("-", "")] = str(value).lower()
    return out


def _check_digests(name: str, body: dict[str, Any], reader: HashingReader) -> None:
    """VimUnavailable unless Glance stored exactly the bytes that were sent."""
    algo, theirs = body.get("os_hash_algo"), body.get("os_hash_value")
    ours = reader.hexdigest(algo) if algo and theirs else None
    if ours is None:  # an older Glance (or an algorithm not computed here): md5 ``checksum``
        algo, theirs, ours = "md5", body.get("checksum"), reader.hexdigest("md5")
    size = body.get("size")
    if (theirs and ours != str(theirs).lower()) or (size is not None and size != reader.size):
        raise VimUnavailable(
            f"image {name!r}: Glance stored {size} bytes with {algo} {theirs}, but "
            f"{reader.size} bytes with {algo} {ours} were sent",
            vim_message=f"image {body.get('id')} checksum mismatch",
        )


class ImageOps:
    """The Glance half of the driver; mixed into ``OpenStackVim``."""

    client: OpenStackClient
    vim_id: str
    cfg: OpenStackConfig

    def _images_named(self, name: str) -> list[dict[str, Any]]:
        found = self.client.get("image", "/images", name=name).get("images") or []
        # an active image first: a queued leftover of the same name must not be chosen
        return sorted(found, key=lambda b: b.get("status") != "active")

    def _image_id(self, image: str) -> str:
        """The id of the image named (or with the id) ``image``; VimBadRequest if absent."""
        found = self._images_named(image)
        if found:
            return found[0]["id"]
        try:
            return self.client.get("image", f"/images/{image}")["id"]
        except VimNotFound:
            raise VimBadRequest(f"image {image!r} does not exist on VIM {self.vim_id}") from None

    def find_image(self, ref: ImageRef) -> ImageLookup:
        """The active Glance image of that name (or id); its checksum checked against Glance's
        ``checksum`` (md5) or ``os_hash_value`` when the VNFD's algorithm is one of those."""
        bodies = self._images_named(ref.name)
        if not bodies:
            try:  # a VDU may name its image by id
                bodies = [self.client.get("image", f"/images/{ref.name}")]
            except (VimNotFound, VimBadRequest):
                bodies = []
        active = [b for b in bodies if b.get("status") == "active"]
        if not active:
            state = f" (status {bodies[0].get('status')})" if bodies else ""
            return ImageLookup(
                None, f"no active Glance image named {ref.name!r} on VIM {self.vim_id}{state}"
            )
        return select_image(ref, [(to_image(b), _glance_digests(b)) for b in active], self)

    def ensure_image(self, spec: ImageSpec) -> Image:
        """The active image of that name; else one created and uploaded from ``spec.open()``.

        An upload of the same name already running (``saving``) is waited for rather than
        repeated.
        """
        found = self._usable_image(spec.name)
        if found is not None:
            return to_image(found)
        if spec.open is None:
            try:  # a VDU may name its image by id
                body = self.client.get("image", f"/images/{spec.name}")
            except VimNotFound:
                body = {}
            if body.get("status") == "active":
                return to_image(body)
            raise VimBadRequest(
                f"image {spec.name!r} does not exist on VIM {self.vim_id}, and the VNF package "
                "carries no image file to upload"
            )
        return self._upload(spec)

    def _usable_image(self, name: str) -> dict[str, Any] | None:
        bodies = self._images_named(name)
        for body in bodies:
            if body.get("status") == "active":
                return body
        for body in bodies:
            if body.get("status") in _BUSY:
                try:
                    return self._await_active(body["id"], name)
                except VimError:
                    continue  # that upload failed; make our own
        return None

    def _image_body(self, spec: ImageSpec) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": spec.name,
            "visibility": "private",
            "min_disk": max(spec.min_disk_gib, 0),
            "min_ram": max(spec.min_ram_mib, 0),
            "tags": encode_tags(spec.tags),
        }
        if spec.disk_format:
            body["disk_format"] = spec.disk_format.lower()
        if spec.container_format:
            body["container_format"] = spec.container_format.lower()
        return body

    def _upload(self, spec: ImageSpec) -> Image:
        assert spec.open is not None
        algorithm = declared_algorithm(spec)
        with spec.open() as stream:  # opened first: an unreadable file creates nothing
            made = self.client.request("image", "POST", "/images", json=self._image_body(spec))
            image_id = made["id"]
            try:
                reader = HashingReader(stream, {*_DIGESTS, *([algorithm] if algorithm else [])})
                self.client.request(
                    "image",
                    "PUT",
                    f"/images/{image_id}/file",
                    data=reader.chunks(),
                    content_type="application/octet-stream",
                )
                check_declared(spec, reader)
                body = self._await_active(image_id, spec.name)
                _check_digests(spec.name, body, reader)
            except BaseException:
                self._delete_image(image_id)
                raise
        return to_image(body)

    def _await_active(self, image_id: str, name: str) -> dict[str, Any]:
        """Poll until Glance has the image ``active``; typed errors for dead ends and timeout."""
        deadline = time.monotonic() + self.cfg.image_timeout
        delay = 0.05
        while True:
            body = self.client.get("image", f"/images/{image_id}")
            status = body.get("status")
            if status == "active":
                return body
            if status in _DEAD:
                raise VimUnavailable(
                    f"image {name!r} ({image_id}) ended {status} in Glance",
                    vim_message=f"image status {status}",
                )
            if time.monotonic() > deadline:
                raise VimTimeout(
                    f"image {name!r} ({image_id}) still {status} after {self.cfg.image_timeout}s"
                )
            time.sleep(delay)
            delay = min(delay * 1.5, 2.0)

    def _delete_image(self, image_id: str) -> None:
        """Best effort: the error that led here matters more than a failed clean-up."""
        try:
            self.client.request("image", "DELETE", f"/images/{image_id}")
        except VimError:
            pass
