"""Runtime settings, read once from the command line and the environment."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path

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
    1 to ``MAX_PAGE_SIZE``.
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
    # POST /oauth2/token: failed attempts allowed per minute per client id and per source
    # address; proxies (addresses or CIDR blocks) whose X-Forwarded-For is believed
    login_failures_per_client: int = 10
    login_failures_per_address: int = 30
    trusted_proxies: tuple[str, ...] = ()

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
        if os.environ.get("NFVO_TRUSTED_PROXIES"):
            s.trusted_proxies = tuple(os.environ["NFVO_TRUSTED_PROXIES"].replace(",", " ").split())
        for name in ("login_failures_per_client", "login_failures_per_address"):
            raw = os.environ.get(f"NFVO_{name.upper()}")
            if raw:
                if not raw.strip().isdigit():
                    raise SettingsError(f"NFVO_{name.upper()} must be a whole number, got {raw!r}")
                setattr(s, name, int(raw))
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
        for name in ("login_failures_per_client", "login_failures_per_address"):
            if getattr(self, name) < 1:
                raise SettingsError(f"{name} (NFVO_{name.upper()}) must be at least 1")
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise SettingsError(
                    f"NFVO_TRUSTED_PROXIES: {proxy!r} is not an IP address or network"
                ) from None

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
        """Create the data directory (mode 0700) and its scratch folder."""
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.tmp_dir.mkdir(exist_ok=True, mode=0o700)
