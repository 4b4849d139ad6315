"""Moving bytes over HTTP: uploads to temp files, ranged downloads, zip building."""

from __future__ import annotations

import io
import logging
import os
import re
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import httpx
from fastapi import Request
from starlette.requests import ClientDisconnect

from nfvo.catalog.errors import PackageError
from nfvo.errors import BadRequest, PayloadTooLarge, RangeNotSatisfiable
from nfvo.netguard import UNREACHABLE, OutboundGuard, describe

log = logging.getLogger(__name__)

# at most 19 digits a side: larger positions exist in no file, and int() refuses 4,300+ digits
_RANGE = re.compile(r"^bytes=(\d{0,19})-(\d{0,19})$")


def new_temp(tmp_dir: Path) -> tuple[int, Path]:
    """A fresh temp file in the data dir's scratch folder."""
    tmp_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=tmp_dir, prefix="upload-", suffix=".csar")
    return fd, Path(name)


async def receive_body(request: Request, tmp_dir: Path, limit: int) -> Path:
    """Stream the request body (raw archive, or multipart field ``file``) into a temp file.

    The caller owns the returned file; on any error here the file is already gone. A client
    that disconnects midway ends it with ClientDisconnect saying so (the request edge logs it
    in one line, without a traceback).
    """
    fd, path = new_temp(tmp_dir)
    try:
        ctype = request.headers.get("content-type", "")
        with os.fdopen(fd, "wb") as out:
            if ctype.startswith("multipart/form-data"):
                await _copy_multipart(request, out, limit)
            else:
                size = 0
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > limit:
                        raise PayloadTooLarge(f"package content exceeds the limit of {limit} bytes")
                    out.write(chunk)
        if path.stat().st_size == 0:
            raise BadRequest("the request body is empty; send the package archive", field="body")
        return path
    except ClientDisconnect:
        path.unlink(missing_ok=True)
        raise ClientDisconnect("the client disconnected before the upload was complete") from None
    except BaseException:
        path.unlink(missing_ok=True)
        raise


async def _copy_multipart(request: Request, out: io.BufferedWriter, limit: int) -> None:
    form = await request.form(max_files=1, max_fields=10)
    try:
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise BadRequest("multipart upload needs a 'file' part with the archive", field="file")
        size = 0
        while chunk := await upload.read(1 << 20):
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"package content exceeds the limit of {limit} bytes")
            out.write(chunk)
    finally:
        await form.close()


def fetch_uri(
    uri: str,
    dest: Path,
    *,
    limit: int,
    timeout: float,
    auth: tuple[str, str] | None,
    guard: OutboundGuard,
) -> None:
    """Download ``uri`` (http/https) into ``dest`` with a size limit; PackageError on failure.

    Every connection, redirects included, passes ``guard``; a failure to get an answer is
    reported with one message whatever the cause (refused address, closed or silent port)."""
    try:
        with guard.client(timeout, follow_redirects=True) as client:
            with client.stream("GET", uri, auth=auth) as r:
                if r.status_code != 200:
                    raise PackageError(
                        "FETCH_FAILED", f"GET {uri} answered HTTP {r.status_code}", file=uri
                    )
                _save(r, dest, uri, limit)
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
        log.info("upload_from_uri %s failed: %s", uri, describe(exc))
        raise PackageError("FETCH_FAILED", f"{uri} {UNREACHABLE}", file=uri) from None


def _save(r: httpx.Response, dest: Path, uri: str, limit: int) -> None:
    size = 0
    with open(dest, "wb") as out:
        for chunk in r.iter_bytes(1 << 20):
            size += len(chunk)
            if size > limit:
                raise PackageError(
                    "PACKAGE_TOO_LARGE", f"{uri} is larger than the limit of {limit} bytes"
                )
            out.write(chunk)


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(start, end) inclusive of a single-range ``Range`` header, None when absent."""
    if not header:
        return None
    m = _RANGE.match(header.strip().split(",")[0].strip())
    if not m or (not m.group(1) and not m.group(2)):
        raise RangeNotSatisfiable(f"unsupported Range header {header[:64]!r}; use bytes=start-end")
    if m.group(1):
        start = int(m.group(1))
        end = int(m.group(2)) if m.group(2) else size - 1
    else:
        start = max(size - int(m.group(2)), 0)
        end = size - 1
    if start >= size or start > end:
        raise RangeNotSatisfiable(f"range {header!r} is outside the content of {size} bytes")
    return start, min(end, size - 1)


def range_headers(rng: tuple[int, int] | None, size: int) -> dict[str, str]:
    """``Accept-Ranges`` and, for a ranged answer (206), ``Content-Range``."""
    headers = {"Accept-Ranges": "bytes"}
    if rng:
        headers["Content-Range"] = f"bytes {rng[0]}-{rng[1]}/{size}"
    return headers


def zip_bytes(members: Iterable[tuple[str, bytes]]) -> bytes:
    """A deflated zip of (name, bytes)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            z.writestr(name, data)
    return buf.getvalue()


def slice_bytes(data: bytes, rng: tuple[int, int] | None) -> Iterator[bytes]:
    """The ranged part of an in-memory body."""
    yield data if rng is None else data[rng[0] : rng[1] + 1]
