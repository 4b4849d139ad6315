"""The API's view of authentication: roles, principals and tokens (defined in
:mod:`nfvo.auth.service`, which also keeps the API clients)."""

from __future__ import annotations

from nfvo.auth.keys import SigningKey
from nfvo.auth.limits import AuthenticationBusy
from nfvo.auth.service import (
    MAX_SECRET_CHARS,
    ApiClient,
    ClientService,
    Principal,
    RevokedToken,
    Role,
    TokenService,
    bootstrap_admin,
    hash_secret,
    read_admin_credentials,
    verify_secret,
)

__all__ = [
    "MAX_SECRET_CHARS",
    "AuthenticationBusy",
    "SigningKey",
    "ApiClient",
    "ClientService",
    "Principal",
    "RevokedToken",
    "Role",
    "TokenService",
    "bootstrap_admin",
    "hash_secret",
    "read_admin_credentials",
    "verify_secret",
]
