"""OAuth2 client-credentials (SOL013 §8): secret hashing, signed bearer tokens, roles, and the
API clients kept in the inventory."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum
from pathlib import Path

import jwt
from sqlalchemy.exc import IntegrityError

from nfvo.auth.keys import KeyRing, StaleKeys
from nfvo.auth.limits import LoginGuard
from nfvo.config import Settings
from nfvo.errors import Conflict, NotFound
from nfvo.inventory.db import Database
from nfvo.inventory.models import OAuthClient
from nfvo.inventory.repositories import ClientRepository
from nfvo.lru import Lru
from nfvo.resources.vault import Vault

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
    # written into its tokens; not part of what a caller sees or compares
    token_generation: str = field(default="", compare=False, repr=False)

    @classmethod
    def of(cls, row: OAuthClient) -> ApiClient:
        """The view of an inventory row."""
        return cls(row.client_id, row.role, row.tenant_id, bool(row.disabled), row.token_generation)


class RevokedToken(jwt.InvalidTokenError):
    """A well-signed token that no longer stands: its client is gone, disabled, changed its
    secret or had its tokens revoked, or its signing key was rotated out."""


class _NeedsDatabase(Exception):
    """A check needs a database read and the caller asked for cached answers only."""


@dataclass(frozen=True)
class _Claims:
    sub: str
    kid: str
    generation: str
    exp: float


@dataclass(frozen=True)
class _ClientState:
    role: str
    tenant_id: str | None
    disabled: bool
    generation: str


MAX_TOKEN_CHARS = 4096  # ours are ~400; anything far longer is refused before decoding


def _claims_of(token: str, key: bytes, kid: str) -> _Claims:
    """Verify the signature and the standard claims, then the types of ours (never trusting
    that a signed token is well-formed: a 401 for any oddity, not a 500)."""
    claims = jwt.decode(
        token,
        key,
        algorithms=["HS256"],
        issuer=ISSUER,
        options={"require": ["exp", "iat", "iss", "sub"]},
    )
    sub, role, tenant = claims.get("sub"), claims.get("role"), claims.get("tenant")
    generation, exp = claims.get("gen"), claims.get("exp")
    if not isinstance(sub, str) or not 0 < len(sub) <= 128:
        raise jwt.InvalidTokenError("claim 'sub' must be a client id")
    if not isinstance(role, str) or role not in Role.__members__:
        raise jwt.InvalidTokenError(f"claim 'role' must be one of {list(Role.__members__)}")
    if tenant is not None and not isinstance(tenant, str):
        raise jwt.InvalidTokenError("claim 'tenant' must be a string or null")
    if not isinstance(generation, str):
        raise jwt.InvalidTokenError("claim 'gen' is missing")
    if isinstance(exp, bool) or not isinstance(exp, int | float):
        raise jwt.InvalidTokenError("claim 'exp' must be a number")
    return _Claims(sub, kid, generation, float(exp))


class TokenService:
    """Issues and verifies HS256 JWT bearer tokens, each bound to its client.

    A token names its signing key (``kid``) and the client's token generation (``gen``). It is
    accepted while its signature, expiry and key hold *and* its client exists, is enabled and
    still has that generation: deleting or disabling a client, changing its secret or revoking
    its tokens (a new generation) ends its tokens. Client rows and keys are cached for
    ``refresh_seconds`` (a change made through this process is seen at once), so another
    process on the same database sees a revocation within that time. A token's signature is
    verified once and remembered (bounded LRU) until it expires; the binding is checked on
    every request."""

    CACHE_SIZE = 1024

    def __init__(
        self, db: Database, ttl_seconds: int, vault: Vault, *, refresh_seconds: float = 2.0
    ) -> None:
        self.db = db
        self.ttl = ttl_seconds
        self.refresh_seconds = refresh_seconds
        self.keys = KeyRing(db, vault, refresh_seconds)
        self.keys.ensure()
        self._verified = Lru(self.CACHE_SIZE)  # token -> _Claims
        self._clients = Lru(4 * self.CACHE_SIZE)  # client id -> (_ClientState | None, read at)

    def issue(self, client: ApiClient) -> tuple[str, int]:
        """A token for ``client`` and its lifetime in seconds."""
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": client.client_id,
            "role": client.role,
            "tenant": client.tenant_id,
            "gen": client.token_generation,
            "iat": now,
            "exp": now + self.ttl,
        }
        key = self.keys.current()
        token = jwt.encode(claims, key.secret, algorithm="HS256", headers={"kid": key.kid})
        return token, self.ttl

    def verify(self, token: str) -> Principal:
        """The principal of a valid token; raises ``jwt.InvalidTokenError`` (``RevokedToken``
        for a token that no longer stands) otherwise. May read the database."""
        return self._verify(token, db=True)

    def verify_cached(self, token: str) -> Principal | None:
        """Like :meth:`verify` from cached keys and clients only: None when that needs a
        database read (then call ``verify`` off the event loop)."""
        try:
            return self._verify(token, db=False)
        except (_NeedsDatabase, StaleKeys):
            return None

    def forget(self, client_id: str) -> None:
        """Re-read ``client_id`` on its next token check (after a change to it)."""
        self._clients.put(client_id, (None, float("-inf")))

    def _verify(self, token: str, *, db: bool) -> Principal:
        if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS:
            raise jwt.InvalidTokenError(f"longer than {MAX_TOKEN_CHARS} characters")
        claims = self._verified.get(token)
        if claims is None:
            claims = self._decode(token, db)
            self._verified.put(token, claims)
        if time.time() >= claims.exp:
            raise jwt.ExpiredSignatureError("Signature has expired")
        key = self.keys.get(claims.kid, db=db)
        if key is None or not key.verifies(datetime.now(UTC)):
            raise RevokedToken("its signing key was rotated out")
        state = self._client(claims.sub, db)
        if state is None:
            raise RevokedToken(f"client {claims.sub!r} no longer exists")
        if state.disabled:
            raise RevokedToken(f"client {claims.sub!r} is disabled")
        if state.generation != claims.generation or state.role not in Role.__members__:
            raise RevokedToken("it was revoked (its client's secret or tokens were renewed)")
        return Principal(claims.sub, Role[state.role], state.tenant_id)

    def _decode(self, token: str, db: bool) -> _Claims:
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") != "HS256":
                raise jwt.InvalidAlgorithmError("only HS256 tokens of this server are accepted")
            kid = header.get("kid")
            if not isinstance(kid, str) or not 0 < len(kid) <= 64:
                raise jwt.InvalidTokenError("no usable key id (kid) in its header")
            key = self.keys.get(kid, db=db)
            if key is None:
                raise jwt.InvalidTokenError("signed with a key this server does not know")
            return _claims_of(token, key.secret, kid)
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
            raise jwt.InvalidTokenError(f"malformed token ({type(exc).__name__})") from None

    def _client(self, client_id: str, db: bool) -> _ClientState | None:
        hit = self._clients.get(client_id)
        if hit is not None and time.monotonic() - hit[1] <= self.refresh_seconds:
            return hit[0]
        if not db:
            raise _NeedsDatabase()
        with self.db.session() as s:
            row = ClientRepository(s).get(client_id)
            state = (
                None
                if row is None
                else _ClientState(row.role, row.tenant_id, bool(row.disabled), row.token_generation)
            )
        self._clients.put(client_id, (state, time.monotonic()))
        return state


@functools.cache
def _decoy_hash() -> str:
    """A hash checked in place of an unknown or disabled client's, so that every failed
    authentication costs the same work (no timing tells which client ids exist)."""
    return hash_secret(secrets.token_urlsafe(16))


MAX_SECRET_CHARS = 1024


class ClientService:
    """The API clients (users) of the client-credentials grant: authentication, creation,
    listing, changes and removal. It exists so that no HTTP handler touches the inventory
    itself; the caller decides who may see which tenant, this service only persists. Every
    change that ends a client's tokens is told to ``tokens`` so this process sees it at once."""

    def __init__(
        self, db: Database, tokens: TokenService | None = None, guard: LoginGuard | None = None
    ) -> None:
        self.db = db
        self.tokens = tokens
        self.guard = guard or LoginGuard()

    def _changed(self, client_id: str) -> None:
        if self.tokens is not None:
            self.tokens.forget(client_id)

    def authenticate(self, client_id: str, secret: str) -> ApiClient | None:
        """The enabled client whose secret is ``secret``; None for an unknown client, a
        disabled one or a wrong secret. All three cost one database read and one hash, like a
        success, so a caller cannot tell them apart by time either. Blocking (~40 ms)."""
        row_client: ApiClient | None = None
        stored = _decoy_hash()
        if len(client_id) <= 128 and len(secret) <= MAX_SECRET_CHARS:
            with self.db.session() as s:
                row = ClientRepository(s).get(client_id)
                if row is not None and not row.disabled:
                    row_client, stored = ApiClient.of(row), row.secret_hash
        else:
            secret = ""
        ok = verify_secret(secret, stored)
        return row_client if ok and row_client is not None else None

    def create(
        self, client_id: str, secret: str, role: Role, tenant_id: str | None = None
    ) -> ApiClient:
        """Store a new client with a hash of ``secret``; Conflict when the id is taken."""
        row = OAuthClient(
            client_id=client_id,
            secret_hash=hash_secret(secret),
            role=role.name,
            tenant_id=tenant_id,
            token_generation=secrets.token_hex(8),
        )
        try:
            with self.db.session() as s:
                repo = ClientRepository(s)
                if repo.get(client_id) is not None:
                    raise Conflict(f"client {client_id!r} already exists")
                made = ApiClient.of(repo.add(row))
        except IntegrityError:  # created by a concurrent request since our check
            raise Conflict(f"client {client_id!r} already exists") from None
        self._changed(client_id)
        return made

    def get(self, client_id: str, tenant_id: str | None = None) -> ApiClient:
        """One client (only one of ``tenant_id`` when it is given); NotFound otherwise."""
        with self.db.session() as s:
            row = ClientRepository(s).get(client_id)
            if row is None or (tenant_id is not None and row.tenant_id != tenant_id):
                raise NotFound(f"client {client_id!r} does not exist")
            return ApiClient.of(row)

    def list(self, tenant_id: str | None = None) -> list[ApiClient]:
        """Clients by id: all of them, or those of ``tenant_id`` when it is given."""
        with self.db.session() as s:
            rows = ClientRepository(s).list()
            return [ApiClient.of(r) for r in rows if tenant_id is None or r.tenant_id == tenant_id]

    def update(
        self,
        client_id: str,
        tenant_id: str | None = None,
        *,
        disabled: bool | None = None,
        secret: str | None = None,
    ) -> ApiClient:
        """Enable or disable a client and/or set its secret (only one of ``tenant_id`` when
        given; NotFound otherwise). Disabling it or changing its secret revokes its tokens;
        enabling it again does not bring them back."""
        with self.db.session() as s:
            row = ClientRepository(s).get(client_id)
            if row is None or (tenant_id is not None and row.tenant_id != tenant_id):
                raise NotFound(f"client {client_id!r} does not exist")
            revoke = secret is not None or (disabled is True and not row.disabled)
            if disabled is not None:
                row.disabled = disabled
            if secret is not None:
                row.secret_hash = hash_secret(secret)
            if revoke:
                row.token_generation = secrets.token_hex(8)
            s.flush()
            view = ApiClient.of(row)
        self._changed(client_id)
        return view

    def revoke_tokens(self, client_id: str, tenant_id: str | None = None) -> None:
        """End every token issued to a client so far (it may request new ones)."""
        with self.db.session() as s:
            row = ClientRepository(s).get(client_id)
            if row is None or (tenant_id is not None and row.tenant_id != tenant_id):
                raise NotFound(f"client {client_id!r} does not exist")
            row.token_generation = secrets.token_hex(8)
        self._changed(client_id)

    def delete(self, client_id: str, tenant_id: str | None = None) -> None:
        """Remove a client (only one of ``tenant_id`` when it is given); NotFound otherwise.
        Its tokens stop working at once here, within seconds on other processes."""
        with self.db.session() as s:
            if not ClientRepository(s).remove(client_id, tenant_id=tenant_id):
                raise NotFound(f"client {client_id!r} does not exist")
        self._changed(client_id)


def login_guard(settings: Settings) -> LoginGuard:
    """The token endpoint's brute-force guard as the settings configure it."""
    return LoginGuard(
        per_client=settings.login_failures_per_client,
        per_address=settings.login_failures_per_address,
        trusted_proxies=settings.trusted_proxies,
    )


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
                    token_generation=secrets.token_hex(8),
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
