"""``/admin/v1`` representations: tenants, VIM accounts, SDN controllers, API clients."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from nfvo.api.models.common import Closed, Open
from nfvo.errors import BadRequest


class TenantAdmin(Open):
    """``_admin`` of a tenant."""

    created: float | None = None


class TenantView(Open):
    """A tenant."""

    id: str
    id_: str | None = Field(None, alias="_id")
    name: str | None = None
    description: str | None = None
    admin: TenantAdmin | None = Field(None, alias="_admin")


class ManagedAdmin(Open):
    """``_admin`` of a VIM account or SDN controller (OSM names)."""

    operationalState: str | None = None
    detailed_status: str | None = Field(None, alias="detailed-status")
    created: float | None = None
    modified: float | None = None
    lastSync: str | None = None
    vimInfo: dict[str, Any] | None = None


class VimAccountView(Open):
    """A VIM account (credentials are never shown)."""

    id: str
    id_: str | None = Field(None, alias="_id")
    name: str | None = None
    vim_type: str | None = None
    vim_url: str | None = None
    vim_user: str | None = None
    vim_tenant_name: str | None = None
    description: str | None = None
    config: dict[str, Any] | None = None
    tenant_id: str | None = None
    admin: ManagedAdmin | None = Field(None, alias="_admin")


class SdnControllerView(Open):
    """An SDN controller (credentials are never shown)."""

    id: str
    id_: str | None = Field(None, alias="_id")
    name: str | None = None
    type: str | None = None
    url: str | None = None
    user: str | None = None
    description: str | None = None
    config: dict[str, Any] | None = None
    tenant_id: str | None = None
    admin: ManagedAdmin | None = Field(None, alias="_admin")


class VimSyncResult(Open):
    """What a sync read from the VIM."""

    vimAccountId: str
    synced: dict[str, Any]


class VimOwnedResources(Open):
    """Servers, networks and ports nfvo created on the VIM."""


class ApiClientView(Open):
    """An API client (the secret only in the answer that created it)."""

    clientId: str
    role: str
    disabled: bool | None = None
    tenantId: str | None = None
    clientSecret: str | None = None


class ApiClientCreate(Open):
    """A new API client; the secret is generated when not given."""

    clientId: str = Field(pattern=r"^[A-Za-z0-9_.@-]{1,128}$")
    role: str = Field("reader", description="reader, operator or admin")
    tenantId: str | None = None
    clientSecret: str | None = Field(None, min_length=8)


class ApiClientPatch(Closed):
    """Disable or enable an API client, or set its secret (either ends its tokens)."""

    disabled: bool | None = None
    clientSecret: str | None = Field(None, min_length=8)


class SigningKeyView(Open):
    """A token signing key by id and dates (never the key material)."""

    kid: str
    signing: bool
    createdAt: str | None = None
    retiredAt: str | None = None
    expiresAt: str | None = None


class SigningKeyRotation(Closed):
    """How long tokens signed by the previous keys keep working (0: not at all)."""

    gracePeriodSeconds: int = Field(0, ge=0)


class TokenResponse(Open):
    """RFC 6749 §5.1 access token response."""

    access_token: str
    token_type: str
    expires_in: int
    scope: str | None = None


def check_client_request(body: dict[str, Any]) -> None:
    """400 naming the attribute of an ApiClientCreate that is not a string (``tenantId`` and
    ``clientSecret`` may be null: none, generated)."""
    for name in ("clientId", "role", "tenantId", "clientSecret"):
        value = body.get(name)
        nullable = name in ("tenantId", "clientSecret") or name not in body
        if (value is None and not nullable) or (value is not None and not isinstance(value, str)):
            raise BadRequest(f"{name} must be a string", field=name)
