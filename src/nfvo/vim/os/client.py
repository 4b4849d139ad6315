"""The authenticated REST channel to one OpenStack account and its error mapping.

The driver speaks plain JSON to Nova, Neutron, Glance and Placement through the keystoneauth
session of an ``openstack.connection.Connection``: the SDK handles Keystone (password,
application credential, admin token), the catalog, TLS and timeouts, while the driver keeps
control of microversions and of how every failure becomes a typed ``VimError``. Every request
carries a fresh ``X-OpenStack-Request-ID`` so even a timeout names a request the VIM logged.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
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
from nfvo.vim.os.config import OpenStackConfig

# service type -> (API version path segment a catalog URL may lack, microversion header name)
_SERVICES = {
    "compute": ("", "compute"),
    "network": ("v2.0", None),
    "image": ("v2", None),
    "placement": ("", "placement"),
}
PLACEMENT_MICROVERSION = "1.20"
_QUOTA_WORDS = ("quota", "overquota", "over quota", "limit exceeded")


def _message(body: Any, fallback: str) -> str:
    """The VIM's own words out of a Nova / Neutron / Glance / Placement error body."""
    if isinstance(body, dict):
        if isinstance(body.get("errors"), list) and body["errors"]:
            first = body["errors"][0]
            if isinstance(first, dict):
                return str(first.get("detail") or first.get("title") or fallback)
        if "NeutronError" in body and isinstance(body["NeutronError"], dict):
            return str(body["NeutronError"].get("message") or fallback)
        for value in body.values():
            if isinstance(value, dict) and "message" in value:
                return str(value["message"])
        if "message" in body:
            return str(body["message"])
    return fallback


def error_for_status(status: int, vim_message: str, request_id: str | None) -> VimError:
    """The typed error an HTTP error status (and the VIM's words) stands for."""
    lowered = vim_message.lower()
    quota = any(word in lowered for word in _QUOTA_WORDS)
    if status == 400:
        cls: type[VimError] = VimBadRequest
    elif status == 401:
        cls = VimAuthError
    elif status == 403:
        cls = VimQuotaExceeded if quota else VimAuthError
    elif status == 404:
        cls = VimNotFound
    elif status == 409:
        cls = VimQuotaExceeded if quota else VimConflict
    elif status == 413:
        cls = VimQuotaExceeded
    elif status in (408, 504):
        cls = VimTimeout
    elif status == 429 or status >= 500:
        cls = VimUnavailable
    else:
        cls = VimBadRequest
    return cls(f"OpenStack answered {status}: {vim_message}", vim_message=vim_message,
               request_id=request_id)  # fmt: skip


def map_exception(exc: Exception, request_id: str | None) -> VimError:
    """A transport / authentication exception of keystoneauth or the SDK as a typed error."""
    from keystoneauth1 import exceptions as ks
    from openstack import exceptions as sdk

    own = getattr(exc, "request_id", None) or request_id
    text = str(exc) or type(exc).__name__
    if isinstance(exc, ks.HttpError):
        return error_for_status(int(exc.http_status or 500), exc.message or text, own)
    if isinstance(exc, ks.ConnectTimeout | ks.RequestTimeout):
        return VimTimeout(f"OpenStack did not answer in time: {text}", request_id=own)
    if isinstance(exc, ks.ConnectFailure | ks.SSLError | ks.DiscoveryFailure):
        return VimUnavailable(f"OpenStack is unreachable: {text}", request_id=own)
    if isinstance(exc, ks.EndpointNotFound | sdk.EndpointNotFound):
        return VimUnavailable(f"OpenStack catalog lacks the endpoint: {text}", request_id=own)
    if isinstance(exc, ks.AuthorizationFailure | ks.MissingAuthPlugin | ks.MissingRequiredOptions):
        return VimAuthError(f"OpenStack authentication failed: {text}", request_id=own)
    if isinstance(exc, sdk.HttpException):
        status = int(exc.status_code or 500)
        return error_for_status(status, exc.details or text, exc.request_id or own)
    return VimUnavailable(f"OpenStack request failed: {text}", request_id=own)


class OpenStackClient:
    """JSON over one account's authenticated session; raises only ``VimError``."""

    def __init__(
        self,
        cfg: OpenStackConfig,
        *,
        auth_url: str | None,
        username: str | None,
        password: str | None,
        project_name: str | None,
    ) -> None:
        self.cfg = cfg
        self._auth = {
            "auth_url": auth_url,
            "username": username,
            "password": password,
            "project_name": project_name,
        }
        self._conn: Any = None
        self._endpoints: dict[str, str] = {}

    # ------------------------------------------------------------------ connection

    def _connection_kwargs(self) -> dict[str, Any]:
        cfg, a = self.cfg, self._auth
        if cfg.auth_type in ("admin_token", "none"):
            endpoint = a["auth_url"] or cfg.endpoint_override["compute"]
            auth: dict[str, Any] = {"endpoint": endpoint}
            if cfg.auth_type == "admin_token":
                auth["token"] = a["password"] or ""
        elif cfg.auth_type == "v3applicationcredential":
            auth = {
                "auth_url": a["auth_url"],
                "application_credential_id": cfg.application_credential_id,
                "application_credential_secret": cfg.application_credential_secret,
            }
        else:
            auth = {
                "auth_url": a["auth_url"],
                "username": a["username"],
                "password": a["password"],
                "project_name": a["project_name"],
                "user_domain_name": cfg.user_domain_name,
                "project_domain_name": cfg.project_domain_name,
            }
        kwargs: dict[str, Any] = {
            "auth_type": cfg.auth_type,
            "auth": auth,
            "interface": cfg.interface,
            "verify": cfg.cacert or cfg.verify,
            "api_timeout": cfg.request_timeout,
        }
        if cfg.region_name:
            kwargs["region_name"] = cfg.region_name
        for service, url in cfg.endpoint_override.items():  # the SDK proxies honour these too
            kwargs[f"{service}_endpoint_override"] = url
        return kwargs

    @property
    def connection(self) -> Any:
        """The SDK connection (built lazily: creating a driver never touches the network)."""
        if self._conn is None:
            from openstack import connection

            try:
                self._conn = connection.Connection(**self._connection_kwargs())
            except Exception as exc:  # noqa: BLE001 - SDK config errors are many types
                raise VimAuthError(f"OpenStack connection settings are unusable: {exc}") from exc
        return self._conn

    def endpoint(self, service: str) -> str:
        """The versioned base URL of ``service`` (override, else from the catalog)."""
        if service not in self._endpoints:
            url = self.cfg.endpoint_override.get(service)
            if url is None:
                try:
                    url = self.connection.session.get_endpoint(
                        service_type=service,
                        interface=self.cfg.interface,
                        region_name=self.cfg.region_name,
                    )
                except VimError:
                    raise
                except Exception as exc:  # noqa: BLE001 - keystoneauth / SDK errors
                    raise map_exception(exc, None) from exc
                if not url:
                    raise VimUnavailable(f"the OpenStack catalog has no {service} endpoint")
            version = _SERVICES[service][0]
            url = url.rstrip("/")
            if version and not url.endswith("/" + version):
                url = f"{url}/{version}"
            self._endpoints[service] = url
        return self._endpoints[service]

    # ------------------------------------------------------------------ requests

    def _headers(self, service: str, request_id: str) -> dict[str, str]:
        headers = {"X-OpenStack-Request-ID": request_id, "Accept": "application/json"}
        if service == "compute":
            mv = self.cfg.compute_microversion
            headers["OpenStack-API-Version"] = f"compute {mv}"
            headers["X-OpenStack-Nova-API-Version"] = mv
        elif service == "placement":
            headers["OpenStack-API-Version"] = f"placement {PLACEMENT_MICROVERSION}"
        return headers

    def request(
        self,
        service: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        data: bytes | Iterable[bytes] | None = None,
        content_type: str | None = None,
    ) -> Any:
        """Send one request; the decoded JSON body (None when empty) or a typed error.

        ``data`` is a raw body instead of ``json``: bytes, or an iterable of chunks streamed
        with chunked transfer encoding (an image upload) and sent as ``content_type``.
        """
        url = self.endpoint(service) + path
        request_id = "req-" + str(uuid.uuid4())
        headers = self._headers(service, request_id)
        if content_type:
            headers["Content-Type"] = content_type
        try:
            resp = self.connection.session.request(
                url,
                method,
                json=json,
                data=data,
                params=params,
                headers=headers,
                raise_exc=False,
                connect_retries=0,
            )
        except VimError:
            raise
        except Exception as exc:  # noqa: BLE001 - transport errors of keystoneauth / requests
            raise map_exception(exc, request_id) from exc
        rid = (
            resp.headers.get("x-openstack-request-id")
            or resp.headers.get("x-compute-request-id")
            or request_id
        )
        body: Any = None
        if resp.content:
            try:
                body = resp.json()
            except ValueError:
                body = resp.text
        if resp.status_code >= 400:
            text = _message(body, str(body or resp.reason or resp.status_code)).strip()
            raise error_for_status(resp.status_code, text, rid)
        return body

    def get(self, service: str, path: str, **params: Any) -> Any:
        """GET with query parameters (None values dropped)."""
        query = {k: v for k, v in params.items() if v is not None}
        return self.request(service, "GET", path, params=query or None)

    def close(self) -> None:
        """Drop the connection (and its HTTP pool)."""
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # noqa: BLE001 - closing is best effort
                pass
            self._conn = None
