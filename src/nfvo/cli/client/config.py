"""Server profiles and cached tokens of the command line, and how the environment overrides
them.

Why it exists: ``nfvo login`` should be needed once per server, not per command, and scripts
should need no file at all. A profile (``default`` unless ``--profile``/``NFVO_PROFILE``
names another) holds a server URL, the user and the last token with its expiry; it lives in
``$XDG_CONFIG_HOME/nfvo/config.yaml`` (``~/.config/nfvo`` without XDG), a file only its owner
can read (0600, directory 0700) because the token is a secret. Passwords are never stored.

``NFVO_URL``, ``NFVO_USER`` and ``NFVO_PASSWORD`` work without a login; with them a token
that expired is renewed without asking.
"""

from __future__ import annotations

import os
import stat
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from nfvo.cli.client.errors import UsageError

CONFIG_NAME = "config.yaml"
DEFAULT_PROFILE = "default"
DEFAULT_URL = "http://127.0.0.1:8080"
# a token this close to its expiry is treated as expired (clock skew, request time)
EXPIRY_MARGIN_S = 30.0


def config_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CONFIG_HOME/nfvo``, else ``~/.config/nfvo`` (``HOME`` from ``env``)."""
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME")
    if base:
        return Path(base) / "nfvo"
    home = env.get("HOME") or str(Path.home())
    return Path(home) / ".config" / "nfvo"


def normalize_url(url: str) -> str:
    """``http://host:port`` without a trailing slash; a scheme is required."""
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise UsageError(
            f"server URL {url!r} must start with http:// or https://",
            hint="e.g. --url http://127.0.0.1:8080 or NFVO_URL=http://127.0.0.1:8080",
        )
    return url


@dataclass
class Profile:
    """One server: its URL, the user that logged in, the cached bearer token."""

    name: str
    url: str
    user: str | None = None
    token: str | None = None
    expires_at: float | None = None

    def token_valid(self, now: float | None = None) -> bool:
        """Whether the cached token can still be sent."""
        if not self.token:
            return False
        if self.expires_at is None:
            return True
        return (time.time() if now is None else now) < self.expires_at - EXPIRY_MARGIN_S

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"url": self.url}
        if self.user:
            out["user"] = self.user
        if self.token:
            out["token"] = self.token
            out["expires_at"] = self.expires_at
        return out


@dataclass
class ConfigFile:
    """The profiles file; ``load`` of a missing file gives an empty one."""

    path: Path
    current: str | None = None
    profiles: dict[str, Profile] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path | None = None) -> ConfigFile:
        path = path or config_dir() / CONFIG_NAME
        try:
            text = path.read_text()
        except FileNotFoundError:
            return cls(path)
        except OSError as exc:
            raise UsageError(f"cannot read {path}: {exc.strerror}") from None
        try:
            raw = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise UsageError(
                f"{path} is not valid YAML: {exc}", hint="fix it, or delete it and log in again"
            ) from None
        if not isinstance(raw, dict):
            raise UsageError(f"{path} must hold a mapping", hint="delete it and log in again")
        profiles = {}
        for name, p in (raw.get("profiles") or {}).items():
            if not isinstance(p, dict) or not isinstance(p.get("url"), str):
                continue
            profiles[str(name)] = Profile(
                name=str(name),
                url=p["url"],
                user=p.get("user"),
                token=p.get("token"),
                expires_at=p.get("expires_at"),
            )
        current = raw.get("current")
        return cls(path, current if isinstance(current, str) else None, profiles)

    def save(self) -> None:
        """Write atomically; the directory ends 0700 and the file 0600, whatever umask."""
        directory = self.path.parent
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if stat.S_IMODE(directory.stat().st_mode) != 0o700:
            os.chmod(directory, 0o700)
        body = {
            "current": self.current,
            "profiles": {n: p.to_dict() for n, p in sorted(self.profiles.items())},
        }
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".config-", suffix=".tmp")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write("# nfvo command-line profiles (written by `nfvo login`)\n")
                yaml.safe_dump(body, out, sort_keys=False)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


@dataclass
class Target:
    """Where and as whom one command talks: the resolved URL and credentials.

    ``profile`` is the profile whose token cache applies: ``None`` when ``NFVO_URL`` points
    at another server than the profile (a token of one server is useless on another).
    """

    url: str
    profile_name: str
    profile: Profile | None
    user: str | None
    password: str | None
    config: ConfigFile

    @property
    def can_login(self) -> bool:
        """Whether a new token can be had without asking the user."""
        return bool(self.user and self.password)


def resolve(
    config: ConfigFile, profile_flag: str | None = None, env: Mapping[str, str] | None = None
) -> Target:
    """The target of a command: the profile named by ``--profile``, ``NFVO_PROFILE``, the
    current profile or ``default``; ``NFVO_URL``/``NFVO_USER``/``NFVO_PASSWORD`` win over
    what the profile holds."""
    env = os.environ if env is None else env
    explicit = profile_flag or env.get("NFVO_PROFILE") or None
    name = explicit or config.current or DEFAULT_PROFILE
    profile = config.profiles.get(name)
    env_url = env.get("NFVO_URL") or None
    if explicit and profile is None and not env_url:
        known = ", ".join(sorted(config.profiles)) or "none"
        raise UsageError(
            f"no profile named {name!r} in {config.path} (known: {known})",
            hint=f"nfvo login --profile {name} --url URL",
        )
    url = normalize_url(env_url or (profile.url if profile else DEFAULT_URL))
    env_user = env.get("NFVO_USER") or None
    if profile is not None and (
        normalize_url(profile.url) != url or (env_user and env_user != profile.user)
    ):
        profile = None  # its token belongs to another server or another user
    user = env_user or (profile.user if profile else None)
    password = env.get("NFVO_PASSWORD") or None
    return Target(url, name, profile, user, password, config)
