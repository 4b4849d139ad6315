"""The thin REST layer of the Kubernetes driver: calls, error mapping, names and labels.

Every API call of the driver goes through ``Rest`` so that each Kubernetes failure turns into
the typed ``VimError`` the VIM contract demands (with the API's own message and its
``Audit-Id``), and so objects of every kind are handled the same way: as plain JSON dicts.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from typing import Any

from nfvo.vim.base import (
    VimAuthError,
    VimBadRequest,
    VimConflict,
    VimError,
    VimNotFound,
    VimQuotaExceeded,
    VimTimeout,
    VimUnavailable,
)

MANAGED_BY = "app.kubernetes.io/managed-by"
KIND_LABEL = "nfvo.io/kind"
ID_LABEL = "nfvo.io/object"
NETWORK_LABEL = "nfvo.io/network"
SERVER_LABEL = "nfvo.io/server"
TAG_LABEL_PREFIX = "tag.nfvo.io/"
TAGS_ANNOTATION = "nfvo.io/tags"
NAME_ANNOTATION = "nfvo.io/name"

_LABEL_VALUE_RE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_LABEL_NAME_RE = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_DNS_BAD = re.compile(r"[^a-z0-9-]+")


def short_hash(text: str, length: int = 16) -> str:
    """A stable hex digest prefix of ``text``."""
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def object_name(kind: str, key: str) -> str:
    """The deterministic object name of a keyed create: a retry finds the same object."""
    return f"{kind}-{short_hash(key, 20)}"


def dns_label(text: str, limit: int = 63) -> str:
    """``text`` as a DNS-1123 label (hashed when it had to be shortened or was mangled)."""
    clean = _DNS_BAD.sub("-", text.lower()).strip("-") or "x"
    if clean == text and len(clean) <= limit:
        return clean
    tail = short_hash(text, 8)
    return f"{clean[: limit - 9].strip('-')}-{tail}"


def tag_label(key: str, value: str) -> tuple[str, str]:
    """The label carrying one tag: the value itself when label-safe, else its hash."""
    name = key if len(key) <= 63 and _LABEL_NAME_RE.match(key) else "h-" + short_hash(key)
    safe = len(value) <= 63 and _LABEL_VALUE_RE.match(value) and not value.startswith("h-")
    return TAG_LABEL_PREFIX + name, value if safe else "h-" + short_hash(value, 40)


def tag_labels(tags: dict[str, str]) -> dict[str, str]:
    """Labels for every tag (the exact tags travel in the ``nfvo.io/tags`` annotation)."""
    return dict(tag_label(k, v) for k, v in tags.items())


def selector(kind: str, tags: dict[str, str] | None = None, **extra: str) -> str:
    """A label selector for nfvo objects of ``kind`` carrying ``tags``."""
    parts = {KIND_LABEL: kind, **extra, **tag_labels(tags or {})}
    return ",".join(f"{k}={v}" for k, v in parts.items())


def tags_of(obj: dict[str, Any]) -> dict[str, str]:
    """The exact tags of an nfvo object, from its annotation."""
    raw = (obj.get("metadata", {}).get("annotations") or {}).get(TAGS_ANNOTATION)
    try:
        tags = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return tags if isinstance(tags, dict) else {}


def has_tags(obj: dict[str, Any], tags: dict[str, str] | None) -> bool:
    """Whether ``obj`` carries all ``tags`` exactly (labels only narrow the search)."""
    return not tags or tags.items() <= tags_of(obj).items()


def metadata(
    name: str, kind: str, object_id: str, tags: dict[str, str], display: str
) -> dict[str, Any]:
    """Metadata shared by every object nfvo creates."""
    return {
        "name": name,
        "labels": {MANAGED_BY: "nfvo", KIND_LABEL: kind, ID_LABEL: name, **tag_labels(tags)},
        "annotations": {
            TAGS_ANNOTATION: json.dumps(tags, sort_keys=True),
            NAME_ANNOTATION: display,
        },
    }


def split_id(object_id: str) -> tuple[str, str] | None:
    """``(namespace, name)`` of an nfvo id ``<namespace>.<name>``; None if not one."""
    ns, sep, name = object_id.partition(".")
    if not sep or not ns or not name or "/" in object_id:
        return None
    return ns, name


# --------------------------------------------------------------------------- quantities

_SUFFIX = {
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "P": 10**15,
    "m": 10**-3,
    "u": 10**-6,  # metrics.k8s.io reports CPU usage in nano- or micro-cores
    "n": 10**-9,
}


def quantity(value: Any) -> float:
    """A Kubernetes resource quantity ("500m", "2", "8Gi") as a plain number."""
    text = str(value).strip()
    for suffix in sorted(_SUFFIX, key=len, reverse=True):
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * _SUFFIX[suffix]
    return float(text)


# --------------------------------------------------------------------------- errors


def _status_message(exc: Any) -> tuple[str, str]:
    """(message, reason) from an ApiException's Status body."""
    body = getattr(exc, "body", None)
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    try:
        status = json.loads(body) if body else {}
    except ValueError:
        status = {}
    if not isinstance(status, dict):
        status = {}
    message = status.get("message") or (body if isinstance(body, str) and body else "")
    return str(message or getattr(exc, "reason", "") or "no message"), str(status.get("reason", ""))


def map_api_exception(exc: Any, what: str, request_id: str) -> VimError:
    """The typed error for an ``ApiException`` of the Kubernetes client."""
    message, reason = _status_message(exc)
    headers = getattr(exc, "headers", None) or {}
    rid = headers.get("Audit-Id") or headers.get("X-Request-Id") or request_id
    status = int(getattr(exc, "status", 0) or 0)
    cls: type[VimError]
    if status == 401:
        cls = VimAuthError
    elif status == 403:
        cls = VimQuotaExceeded if "exceeded quota" in message.lower() else VimAuthError
    elif status == 404:
        cls = VimNotFound
    elif status == 409:
        cls = VimConflict
    elif status in (400, 422):
        cls = VimBadRequest
    elif status == 504:
        cls = VimTimeout
    elif status == 429 or status >= 500 or status == 0:
        cls = VimUnavailable
    else:
        cls = VimError
    text = f"{what}: Kubernetes API {status} {reason or ''}".rstrip() + f": {message}"
    err = cls(text, vim_message=message, request_id=rid)
    err.k8s_reason = reason  # type: ignore[attr-defined]
    return err


def map_transport_error(exc: Exception, what: str, request_id: str) -> VimError:
    """The typed error for a urllib3 failure (no HTTP answer at all)."""
    from urllib3 import exceptions as u3

    # NewConnectionError (refused, unreachable) subclasses ConnectTimeoutError in urllib3
    refused = isinstance(exc, u3.NewConnectionError | u3.NameResolutionError)
    if isinstance(exc, u3.TimeoutError) and not refused:
        return VimTimeout(
            f"{what}: the Kubernetes API did not answer in time ({exc})",
            vim_message=str(exc),
            request_id=request_id,
        )
    return VimUnavailable(
        f"{what}: the Kubernetes API is unreachable ({exc})",
        vim_message=str(exc),
        request_id=request_id,
    )


class Rest:
    """JSON-dict REST calls through the official client's ``ApiClient``."""

    def __init__(self, api_client: Any, timeout: tuple[float, float]) -> None:
        self.api_client = api_client
        self.timeout = timeout

    def call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        query: dict[str, str] | None = None,
        content_type: str = "application/json",
        what: str | None = None,
    ) -> Any:
        """One API call; the decoded JSON answer; typed VimError on any failure."""
        from kubernetes.client.exceptions import ApiException
        from urllib3 import exceptions as u3

        request_id = "nfvo-" + uuid.uuid4().hex
        headers = {"Accept": "application/json", "X-Request-Id": request_id}
        if body is not None:
            headers["Content-Type"] = content_type
        label = what or f"{method} {path}"
        try:
            return self.api_client.call_api(
                path,
                method,
                {},
                list((query or {}).items()),
                headers,
                body=body,
                response_type="object",
                auth_settings=["BearerToken"],
                _return_http_data_only=True,
                _preload_content=True,
                _request_timeout=self.timeout,
            )
        except ApiException as exc:
            raise map_api_exception(exc, label, request_id) from exc
        except u3.HTTPError as exc:
            raise map_transport_error(exc, label, request_id) from exc
        except OSError as exc:
            raise VimUnavailable(
                f"{label}: {exc}", vim_message=str(exc), request_id=request_id
            ) from exc

    def get(self, path: str, what: str | None = None) -> dict[str, Any]:
        """GET one object."""
        return self.call("GET", path, what=what)

    def find(self, path: str) -> dict[str, Any] | None:
        """GET one object; None when it does not exist."""
        try:
            return self.call("GET", path)
        except VimNotFound:
            return None

    def items(self, path: str, label_selector: str | None = None) -> list[dict[str, Any]]:
        """The items of a list call."""
        query = {"labelSelector": label_selector} if label_selector else None
        return list((self.call("GET", path, query=query) or {}).get("items") or [])

    def create(self, path: str, body: dict[str, Any], what: str | None = None) -> dict[str, Any]:
        """POST an object."""
        return self.call("POST", path, body=body, what=what)

    def replace(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """PUT an object (optimistic: carries the resourceVersion it read)."""
        return self.call("PUT", path, body=body)

    def patch(self, path: str, body: dict[str, Any], what: str | None = None) -> dict[str, Any]:
        """A JSON merge patch."""
        return self.call(
            "PATCH", path, body=body, content_type="application/merge-patch+json", what=what
        )

    def delete(self, path: str, what: str | None = None) -> bool:
        """DELETE (background propagation); False when it was already absent."""
        try:
            self.call(
                "DELETE",
                path,
                body={
                    "kind": "DeleteOptions",
                    "apiVersion": "v1",
                    "propagationPolicy": "Background",
                },
                what=what,
            )
        except VimNotFound:
            return False
        return True
