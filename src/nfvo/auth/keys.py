"""The keys that sign bearer tokens: stored sealed with the vault key, rotated by an admin,
and re-read by every process at most a few seconds after another one changed them."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from nfvo.inventory.db import Database
from nfvo.inventory.models import JwtSigningKey
from nfvo.inventory.repositories import SettingsRepository, SigningKeyRepository
from nfvo.resources.vault import Vault, VaultError

# Where releases before 0.9 kept the one signing key, in clear. It is dropped at start-up (see
# KeyRing.ensure): any copy of the database taken before then holds it.
LEGACY_SETTING = "jwt_signing_key"


class StaleKeys(Exception):
    """The cached keys are due for a re-read and the caller did not allow database access."""


def _aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes for timezone-aware columns: they are UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class SigningKey:
    """One signing key in clear, as a process holds it in memory."""

    kid: str
    secret: bytes
    created_at: datetime
    retired_at: datetime | None = None
    expires_at: datetime | None = None

    def signs(self) -> bool:
        """Whether new tokens may be signed with it."""
        return self.retired_at is None

    def verifies(self, now: datetime) -> bool:
        """Whether tokens it signed are still accepted at ``now``."""
        return self.expires_at is None or now < self.expires_at


class KeyRing:
    """The signing keys of the database, decrypted once and re-read every ``refresh_seconds``.

    It exists so that every API process on one database signs with the same newest key and
    stops accepting a rotated-out key within seconds, while a request almost never waits for
    the database: callers that must not block (the event loop) ask with ``db=False`` and get
    :class:`StaleKeys` when a re-read is due."""

    MIN_RELOAD_SECONDS = 1.0  # an unknown ``kid`` re-reads at most this often
    MAX_KEYS = 8  # the signing key and the retired ones kept; older ones are deleted

    def __init__(self, db: Database, vault: Vault, refresh_seconds: float = 2.0) -> None:
        self.db = db
        self.vault = vault
        self.refresh_seconds = refresh_seconds
        self._keys: dict[str, SigningKey] = {}
        self._loaded_at = float("-inf")
        self._lock = threading.Lock()

    # -- start-up ------------------------------------------------------------------------------

    def ensure(self) -> None:
        """Drop a plaintext key left by an older release and make sure a key signs.

        Idempotent and safe when several processes start together on one database: deleting
        the old setting twice is harmless, and two keys created at once both verify (the newer
        one signs)."""
        with self.db.session() as s:
            SettingsRepository(s).remove(LEGACY_SETTING)
            if not any(k.retired_at is None for k in SigningKeyRepository(s).list()):
                SigningKeyRepository(s).add(self._new_row())
        self.reload()

    def _new_row(self) -> JwtSigningKey:
        secret = secrets.token_urlsafe(48)
        return JwtSigningKey(
            kid=secrets.token_hex(8),
            sealed_key=self.vault.seal({"key": secret}),
            created_at=datetime.now(UTC),
        )

    # -- reading -------------------------------------------------------------------------------

    def reload(self) -> None:
        """Re-read and decrypt every key."""
        with self.db.session() as s:
            rows = SigningKeyRepository(s).list()
            try:
                keys = {
                    r.kid: SigningKey(
                        r.kid,
                        str(self.vault.open(r.sealed_key)["key"]).encode(),
                        _aware(r.created_at) or datetime.now(UTC),
                        _aware(r.retired_at),
                        _aware(r.expires_at),
                    )
                    for r in rows
                }
            except VaultError:
                raise VaultError(
                    "the token signing keys in the database were sealed with another secret "
                    "key: every nfvo process sharing a database needs the same NFVO_SECRET_KEY"
                ) from None
        with self._lock:
            self._keys = keys
            self._loaded_at = time.monotonic()

    def _fresh(self, db: bool, max_age: float) -> None:
        if time.monotonic() - self._loaded_at <= max_age:
            return
        if not db:
            raise StaleKeys()
        self.reload()

    def get(self, kid: str, *, db: bool = True) -> SigningKey | None:
        """The key ``kid`` (re-read when due, or when unknown and not re-read for a second)."""
        self._fresh(db, self.refresh_seconds)
        key = self._keys.get(kid)
        if key is None:
            self._fresh(db, self.MIN_RELOAD_SECONDS)
            key = self._keys.get(kid)
        return key

    def current(self) -> SigningKey:
        """The key that signs new tokens: the newest one not retired."""
        self._fresh(True, self.refresh_seconds)
        signing = [k for k in self._keys.values() if k.signs()]
        if not signing:  # every key was retired by hand in the database: start a new one
            self.ensure()
            signing = [k for k in self._keys.values() if k.signs()]
        return max(signing, key=lambda k: (k.created_at, k.kid))

    def list(self) -> list[SigningKey]:
        """Every key, re-read now, oldest first."""
        self.reload()
        return sorted(self._keys.values(), key=lambda k: (k.created_at, k.kid))

    # -- rotation ------------------------------------------------------------------------------

    def rotate(self, grace_seconds: int) -> SigningKey:
        """A new key signs from now on; the keys signing until now still verify for
        ``grace_seconds`` (0: never again). Keys past their expiry are deleted, and so are the
        oldest when more than ``MAX_KEYS`` would remain (rotations in a loop stay bounded)."""
        now = datetime.now(UTC)
        with self.db.session() as s:
            repo = SigningKeyRepository(s)
            kept = 0
            for row in reversed(repo.list()):  # newest first
                expires = _aware(row.expires_at)
                if (expires is not None and expires <= now) or kept >= self.MAX_KEYS - 1:
                    repo.delete(row)
                    continue
                kept += 1
                if row.retired_at is None:
                    row.retired_at = now
                    row.expires_at = now + timedelta(seconds=grace_seconds)
                elif grace_seconds == 0:
                    row.expires_at = now
            kid = repo.add(self._new_row()).kid
        self.reload()
        return self._keys[kid]
