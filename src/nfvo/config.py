"""Runtime settings, read once from the command line and the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from nfvo.netguard import ALLOW_ENV, OutboundGuard, parse_allow

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


class SettingsError(ValueError):
    """A setting has a value nfvo refuses to start with; the message names it."""


def default_data_dir() -> Path:
    """``$NFVO_DATA_DIR`` or ``~/.nfvo``."""
    return Path(os.environ.get("NFVO_DATA_DIR") or Path.home() / ".nfvo")


@dataclass
class Settings:
    """Everything a running nfvo needs to know about its environment.

    The embedded default is a SQLite file under ``data_dir``; setting
    ``NFVO_DATABASE_URL`` (``postgresql+psycopg://...``) switches to PostgreSQL.
    ``page_size`` (``NFVO_PAGE_SIZE``) is how many resources one page of a list holds,
    1 to ``MAX_PAGE_SIZE``. ``outbound_allow`` (``NFVO_OUTBOUND_ALLOW``) lists the networks
    (CIDRs, comma-separated) that callbacks, token endpoints and package URIs may reach
    besides global addresses: empty in production, e.g. ``127.0.0.0/8`` in a lab.
    """

    data_dir: Path = field(default_factory=default_data_dir)
    database_url: str | None = None
    auth_enabled: bool = True
    admin_user: str = "admin"
    admin_password: str | None = None
    token_ttl_seconds: int = 3600
    page_size: int = DEFAULT_PAGE_SIZE
    max_upload_bytes: int = 1 << 30
    upload_from_uri_timeout: float = 60.0
    public_url: str | None = None
    sync_interval_seconds: float = 300.0
    role: str = "all"  # all | api | worker
    executor_id: str | None = None
    outbound_allow: str = field(default_factory=lambda: os.environ.get(ALLOW_ENV, ""))

    @classmethod
    def from_env(cls, data_dir: Path | None = None, **overrides: object) -> Settings:
        """Settings from ``NFVO_*`` environment variables, with explicit overrides."""
        s = cls(data_dir=data_dir or default_data_dir())
        s.database_url = os.environ.get("NFVO_DATABASE_URL") or None
        s.admin_user = os.environ.get("NFVO_ADMIN_USER", s.admin_user)
        s.admin_password = os.environ.get("NFVO_ADMIN_PASSWORD") or None
        s.executor_id = os.environ.get("NFVO_EXECUTOR_ID") or None
        if os.environ.get("NFVO_SYNC_INTERVAL"):
            s.sync_interval_seconds = float(os.environ["NFVO_SYNC_INTERVAL"])
        if os.environ.get("NFVO_TOKEN_TTL"):
            s.token_ttl_seconds = int(os.environ["NFVO_TOKEN_TTL"])
        if os.environ.get("NFVO_PAGE_SIZE"):
            raw = os.environ["NFVO_PAGE_SIZE"]
            if not raw.strip().isdigit():
                raise SettingsError(f"NFVO_PAGE_SIZE must be a whole number, got {raw!r}")
            s.page_size = int(raw)
        for key, value in overrides.items():
            if value is not None:
                setattr(s, key, value)
        s.validate()
        return s

    def validate(self) -> None:
        """Raise SettingsError naming the first setting nfvo cannot start with."""
        if not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise SettingsError(
                f"page size (NFVO_PAGE_SIZE) must be between 1 and {MAX_PAGE_SIZE}, "
                f"got {self.page_size}"
            )
        try:
            parse_allow(self.outbound_allow)
        except ValueError as exc:
            raise SettingsError(f"{ALLOW_ENV}: {exc}") from None

    @property
    def outbound_guard(self) -> OutboundGuard:
        """The policy for requests to addresses users name (see :mod:`nfvo.netguard`)."""
        return OutboundGuard(self.outbound_allow)

    @property
    def effective_database_url(self) -> str:
        """The SQLAlchemy URL in use: explicit URL or the embedded SQLite file."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'nfvo.db'}"

    @property
    def tmp_dir(self) -> Path:
        """Scratch space for uploads in flight; emptied after each upload."""
        return self.data_dir / "tmp"

    def prepare_dirs(self) -> None:
        """Create the data directory and its scratch folder owner-only (mode 0700; existing
        ones are narrowed to it when nfvo owns them)."""
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.tmp_dir.mkdir(exist_ok=True, mode=0o700)
        for folder in (self.data_dir, self.tmp_dir):
            if folder.stat().st_mode & 0o077 and folder.stat().st_uid == os.getuid():
                folder.chmod(0o700)
