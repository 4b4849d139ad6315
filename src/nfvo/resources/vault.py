"""Secrets at rest: Fernet encryption of VIM and SDN credentials.

The key comes from ``NFVO_SECRET_KEY`` (a Fernet key; required when several nfvo processes
share one database) or is generated once into ``DATA_DIR/secret.key`` (mode 0600). The key is
never stored in the database, so a database dump alone does not reveal any credential.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

# Config keys whose values are credentials: moved out of ``config`` and encrypted.
SECRET_KEY_PARTS = ("password", "secret", "token", "kubeconfig", "private_key", "api_key")
MASK = "********"


class VaultError(Exception):
    """The secret key is missing, malformed, or does not decrypt stored secrets."""


def load_key(data_dir: Path) -> bytes:
    """The Fernet key: ``NFVO_SECRET_KEY`` or ``DATA_DIR/secret.key`` (created once, 0600)."""
    env = os.environ.get("NFVO_SECRET_KEY")
    if env:
        key = env.strip().encode()
    else:
        path = Path(data_dir) / "secret.key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another process won the race
                pass
            else:
                with os.fdopen(fd, "wb") as f:
                    f.write(Fernet.generate_key())
        key = path.read_bytes().strip()
    try:
        Fernet(key)
    except (ValueError, TypeError) as exc:
        raise VaultError(f"NFVO_SECRET_KEY / secret.key is not a valid Fernet key: {exc}") from None
    return key


class Vault:
    """Encrypts and decrypts small JSON secrets."""

    def __init__(self, key: bytes) -> None:
        self._f = Fernet(key)

    def seal(self, secrets: dict[str, Any]) -> str:
        """Encrypt a JSON-able mapping into a token string."""
        return self._f.encrypt(json.dumps(secrets, sort_keys=True).encode()).decode()

    def open(self, token: str | None) -> dict[str, Any]:
        """Decrypt a token from ``seal`` (empty mapping for None)."""
        if not token:
            return {}
        try:
            return json.loads(self._f.decrypt(token.encode()))
        except InvalidToken:
            raise VaultError(
                "stored secrets cannot be decrypted with the current secret key "
                "(was NFVO_SECRET_KEY or DATA_DIR/secret.key changed?)"
            ) from None


def is_secret_key(name: str) -> bool:
    """Whether a config key holds a credential."""
    low = name.lower()
    return any(part in low for part in SECRET_KEY_PARTS)


def split_secrets(config: Any, path: str = "") -> tuple[Any, dict[str, Any]]:
    """(config without credentials, {dotted.path: credential}) — recursive over mappings."""
    if not isinstance(config, dict):
        return config, {}
    public: dict[str, Any] = {}
    found: dict[str, Any] = {}
    for key, value in config.items():
        where = f"{path}.{key}" if path else str(key)
        if is_secret_key(str(key)) and value is not None and not isinstance(value, dict | list):
            found[where] = value
            continue
        inner, sub = split_secrets(value, where)
        public[key] = inner
        found.update(sub)
    return public, found


def join_secrets(public: dict[str, Any], secrets: dict[str, Any]) -> dict[str, Any]:
    """Inverse of ``split_secrets``: the full config a driver needs."""
    out = json.loads(json.dumps(public))
    for dotted, value in secrets.items():
        node = out
        *parents, leaf = dotted.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return out


def config_secrets(secrets: dict[str, Any], login_key: str) -> dict[str, Any]:
    """The stored secrets that belong in ``config``: all but the account's own password."""
    return {k: v for k, v in secrets.items() if k != login_key}


def masked(public: dict[str, Any], secrets: dict[str, Any]) -> dict[str, Any]:
    """The config as the API shows it: credentials replaced by a mask."""
    return join_secrets(public, {k: MASK for k in secrets})
