"""The API's view of authentication: roles, principals and tokens (defined in
:mod:`nfvo.auth.service`, which also keeps the API clients)."""

from __future__ import annotations

from nfvo.auth.service import (
    ApiClient,
    ClientService,
    Principal,
    Role,
    TokenService,
    bootstrap_admin,
    hash_secret,
    read_admin_credentials,
    verify_secret,
)

__all__ = [
    "ApiClient",
    "ClientService",
    "Principal",
    "Role",
    "TokenService",
    "bootstrap_admin",
    "hash_secret",
    "read_admin_credentials",
    "verify_secret",
]
