"""OAuth2 client-credentials (SOL013 §8): secret hashing, signed bearer tokens, roles, and the
API clients kept in the inventory."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path

import jwt
from sqlalchemy.exc import IntegrityError

from nfvo.config import Settings
from nfvo.errors import Conflict, NotFound
from nfvo.inventory.db import Database
from nfvo.inventory.models import OAuthClient
from nfvo.inventory.repositories import ClientRepository, SettingsRepository
from nfvo.lru import Lru

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
ISSUER = "nfvo"


class Role(IntEnum):
    """API roles, ordered: each role may do everything the lower ones may."""

    reader = 1
    operator = 2
    admin = 3


def hash_secret(secret: str) -> str:
    """Salted scrypt hash, self-describing: ``scrypt$n$r$p$salt$hash``."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, dklen=32, **_SCRYPT)
    b64 = base64.urlsafe_b64encode
    return "scrypt${n}${r}${p}$".format(**_SCRYPT) + f"{b64(salt).decode()}${b64(digest).decode()}"


def verify_secret(secret: str, stored: str) -> bool:
    """Constant-time check of ``secret`` against a ``hash_secret`` value."""
    try:
        algo, n, r, p, salt, digest = stored.split("$")
        if algo != "scrypt":
            return False
        want = base64.urlsafe_b64decode(digest)
        got = hashlib.scrypt(
            secret.encode(),
            salt=base64.urlsafe_b64decode(salt),
            dklen=len(want),
            n=int(n),
            r=int(r),
            p=int(p),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(want, got)


@dataclass(frozen=True)
class Principal:
    """Who is calling: the client id, its role and tenant."""

    client_id: str
    role: Role
    tenant_id: str | None = None


@dataclass(frozen=True)
class ApiClient:
    """An API client as callers see it: never its secret, not even hashed."""

    client_id: str
    role: str
    tenant_id: str | None = None
    disabled: bool = False

    @classmethod
    def of(cls, row: OAuthClient) -> ApiClient:
        """The view of an inventory row."""
        return cls(row.client_id, row.role, row.tenant_id, bool(row.disabled))


class TokenService:
    """Issues and verifies HS256 JWT bearer tokens with a key shared through the database.

    The key is read once. A verified token is remembered (a bounded LRU) with its expiry, so a
    client sending the same token again is not verified again until the token expires: the
    outcome is the one verification would give, since the signature and claims of a given token
    string cannot change and nothing else is checked."""

    CACHE_SIZE = 1024

    def __init__(self, db: Database, ttl_seconds: int) -> None:
        with db.session() as s:
            self._key = SettingsRepository(s).get_or_create(
                "jwt_signing_key", lambda: secrets.token_urlsafe(48)
            )
        self.ttl = ttl_seconds
        self._verified = Lru(self.CACHE_SIZE)  # token -> (principal, expiry)

    def issue(self, client: ApiClient) -> tuple[str, int]:
        """A token for ``client`` and its lifetime in seconds."""
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": client.client_id,
            "role": client.role,
            "tenant": client.tenant_id,
            "iat": now,
            "exp": now + self.ttl,
        }
        return jwt.encode(claims, self._key, algorithm="HS256"), self.ttl

    def verify(self, token: str) -> Principal:
        """The principal of a valid token; raises ``jwt.InvalidTokenError`` otherwise."""
        hit = self._verified.get(token)
        if hit is not None and time.time() < hit[1]:
            return hit[0]
        claims = jwt.decode(
            token, self._key, algorithms=["HS256"], issuer=ISSUER, options={"require": ["exp"]}
        )
        principal = Principal(claims["sub"], Role[claims["role"]], claims.get("tenant"))
        self._verified.put(token, (principal, float(claims["exp"])))
        return principal


class ClientService:
    """The API clients (users) of the client-credentials grant: authentication, creation,
    listing and removal. It exists so that no HTTP handler touches the inventory itself; the
    caller decides who may see which tenant, this service only persists."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def authenticate(self, client_id: str, secret: str) -> ApiClient | None:
        """The enabled client whose secret is ``secret``; None for an unknown client, a
        disabled one or a wrong secret (the caller must not tell these apart)."""
        with self.db.session() as s:
            row = ClientRepository(s).get(client_id)
            stored = None if row is None or row.disabled else row.secret_hash
            client = None if row is None else ApiClient.of(row)
        if client is None or stored is None or not verify_secret(secret, stored):
            return None
        return client

    def create(
        self, client_id: str, secret: str, role: Role, tenant_id: str | None = None
    ) -> ApiClient:
        """Store a new client with a hash of ``secret``; Conflict when the id is taken."""
        row = OAuthClient(
            client_id=client_id,
            secret_hash=hash_secret(secret),
            role=role.name,
            tenant_id=tenant_id,
        )
        try:
            with self.db.session() as s:
                repo = ClientRepository(s)
                if repo.get(client_id) is not None:
                    raise Conflict(f"client {client_id!r} already exists")
                return ApiClient.of(repo.add(row))
        except IntegrityError:  # created by a concurrent request since our check
            raise Conflict(f"client {client_id!r} already exists") from None

    def list(self, tenant_id: str | None = None) -> list[ApiClient]:
        """Clients by id: all of them, or those of ``tenant_id`` when it is given."""
        with self.db.session() as s:
            rows = ClientRepository(s).list()
            return [ApiClient.of(r) for r in rows if tenant_id is None or r.tenant_id == tenant_id]

    def delete(self, client_id: str, tenant_id: str | None = None) -> None:
        """Remove a client (only one of ``tenant_id`` when it is given); NotFound otherwise."""
        with self.db.session() as s:
            if not ClientRepository(s).remove(client_id, tenant_id=tenant_id):
                raise NotFound(f"client {client_id!r} does not exist")


def bootstrap_admin(db: Database, settings: Settings) -> str | None:
    """Create the admin client on first start. Returns the path of the credentials
    file when a random password was generated and written (mode 0600), else None."""
    try:
        with db.session() as s:
            repo = ClientRepository(s)
            if repo.get(settings.admin_user) is not None:
                return None
            password = settings.admin_password
            generated = password is None
            if password is None:
                password = secrets.token_urlsafe(18)
            repo.add(
                OAuthClient(
                    client_id=settings.admin_user,
                    secret_hash=hash_secret(password),
                    role=Role.admin.name,
                )
            )
    except IntegrityError:
        # another node (API and workers starting together on one database) created it
        # between our check and our insert: its password is the admin's, ours is void
        return None
    if not generated:
        return None
    path = Path(settings.data_dir) / "admin-credentials"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(f"NFVO_USER={settings.admin_user}\nNFVO_PASSWORD={password}\n")
    os.chmod(path, 0o600)
    return str(path)


def read_admin_credentials(data_dir: Path) -> tuple[str, str] | None:
    """(user, password) from ``DIR/admin-credentials`` if present."""
    path = Path(data_dir) / "admin-credentials"
    if not path.exists():
        return None
    values = dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return values.get("NFVO_USER", "admin"), values.get("NFVO_PASSWORD", "")
