"""Runtime settings, read once from the command line and the environment."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path

from nfvo.netguard import ALLOW_ENV, OutboundGuard, parse_allow

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
# how long stored monitoring samples are kept (NFVO_SAMPLE_RETENTION, seconds)
DEFAULT_SAMPLE_RETENTION_S = 86_400
MIN_SAMPLE_RETENTION_S = 60
MAX_SAMPLE_RETENTION_S = 90 * 86_400


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
    # The request edge (docs/security-edge.md): body limits and read deadlines.
    max_json_bytes: int = 1 << 20
    header_timeout_seconds: float = 5.0
    body_timeout_seconds: float = 10.0
    body_min_rate: int = 16 << 10
    # above HTTP clients' idle-pool expiry (httpx: 5 s), so a client never reuses a connection
    # the server is closing
    keep_alive_seconds: int = 15
    max_connections: int = 1000
    max_header_bytes: int = 16 << 10
    # POST /oauth2/token: failed attempts allowed per minute per client id and per source
    # address; proxies (addresses or CIDR blocks) whose X-Forwarded-For is believed
    login_failures_per_client: int = 10
    login_failures_per_address: int = 30
    trusted_proxies: tuple[str, ...] = ()
    # stored monitoring samples (10 s aggregates) older than this are deleted
    sample_retention_seconds: int = DEFAULT_SAMPLE_RETENTION_S

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
        _edge_from_env(s)
        raw = os.environ.get("NFVO_SAMPLE_RETENTION", "").strip()
        if raw:
            if not raw.isdigit():
                raise SettingsError(f"NFVO_SAMPLE_RETENTION must be whole seconds, got {raw!r}")
            s.sample_retention_seconds = int(raw)
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
        _validate_edge(self)
        if not MIN_SAMPLE_RETENTION_S <= self.sample_retention_seconds <= MAX_SAMPLE_RETENTION_S:
            raise SettingsError(
                f"sample retention (NFVO_SAMPLE_RETENTION) must be between "
                f"{MIN_SAMPLE_RETENTION_S} and {MAX_SAMPLE_RETENTION_S} seconds, "
                f"got {self.sample_retention_seconds}"
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


# Settings of the request edge: (attribute, environment variable, type, smallest value)
EDGE_ENV: tuple[tuple[str, str, type, float], ...] = (
    ("max_json_bytes", "NFVO_MAX_JSON_BYTES", int, 1024),
    ("max_upload_bytes", "NFVO_MAX_UPLOAD_BYTES", int, 1024),
    ("header_timeout_seconds", "NFVO_HEADER_TIMEOUT", float, 0.1),
    ("body_timeout_seconds", "NFVO_BODY_TIMEOUT", float, 0.1),
    ("body_min_rate", "NFVO_BODY_MIN_RATE", int, 0),
    ("keep_alive_seconds", "NFVO_KEEP_ALIVE", int, 1),
    ("max_connections", "NFVO_MAX_CONNECTIONS", int, 1),
    ("max_header_bytes", "NFVO_MAX_HEADER_BYTES", int, 1024),
)


def _edge_from_env(s: Settings) -> None:
    for attr, var, kind, _ in EDGE_ENV:
        raw = os.environ.get(var, "").strip()
        if not raw:
            continue
        try:
            setattr(s, attr, kind(raw))
        except ValueError:
            noun = "a whole number" if kind is int else "a number"
            raise SettingsError(f"{var} must be {noun}, got {raw!r}") from None


def _validate_edge(s: Settings) -> None:
    for attr, var, _, least in EDGE_ENV:
        value = getattr(s, attr)
        if not value >= least:  # also refuses NaN
            raise SettingsError(f"{attr} ({var}) must be at least {least:g}, got {value}")
