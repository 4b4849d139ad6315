"""Validation of an OpenStack VIM account's ``config`` and the SDK connection options it yields.

Kept apart from the driver so the resource-management service can validate an account
(``registry.validate_config``) without importing the SDK or opening a connection.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from nfvo.monitoring.options import parse_monitoring
from nfvo.vim.base import VimConfigError

AUTH_TYPES = ("password", "v3password", "v3applicationcredential", "admin_token", "none")
INTERFACES = ("public", "internal", "admin")
SERVICES = ("identity", "compute", "network", "image", "placement")
HOST_HINTS = ("host", "zone")
MAX_TEXT = 255  # names, ids, secrets, microversions
MAX_CERT = 64 << 10  # a PEM bundle
MAX_URL = 2048
# Upper bounds of the timeouts (seconds): a longer wait would hold a worker for hours.
MAX_TIMEOUT_S = {"request_timeout": 600.0, "build_timeout": 3600.0, "image_timeout": 86_400.0}
KNOWN_KEYS = {
    "user_domain_name",
    "project_domain_name",
    "region_name",
    "interface",
    "verify",
    "cacert",
    "application_credential_id",
    "application_credential_secret",
    "endpoint_override",
    "auth_type",
    "request_timeout",
    "build_timeout",
    "image_timeout",
    "host_hint",
    "compute_microversion",
    "notifications",  # read by the monitoring component (Nova notifications over AMQP)
    "default_image",
    "placement_strategy",  # read by the LCM: the optimizer strategy it places with
    "monitoring",  # read by the monitoring component (nfvo.monitoring.options)
}
# a strategy name as the VIM account may carry it; which names exist, the LCM checks
_STRATEGY_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@dataclass
class OpenStackConfig:
    """The parsed account config with defaults filled in."""

    user_domain_name: str = "Default"
    project_domain_name: str = "Default"
    region_name: str | None = None
    interface: str = "public"
    verify: bool = True
    cacert: str | None = None
    application_credential_id: str | None = None
    application_credential_secret: str | None = None
    endpoint_override: dict[str, str] = field(default_factory=dict)
    auth_type: str = "password"
    request_timeout: float = 30.0
    # Seconds create_server / migrate_server wait for Nova's scheduler to decide.
    build_timeout: float = 60.0
    # Seconds ensure_image waits for an uploaded image to become active in Glance.
    image_timeout: float = 600.0
    host_hint: str = "host"  # "host": microversion 2.74 host field; "zone": "zone:host"
    compute_microversion: str = "2.74"
    notifications: dict[str, Any] | None = None
    default_image: str | None = None  # for VDUs whose descriptor names no software image
    placement_strategy: str | None = None
    monitoring: dict[str, Any] | None = None

    def normalised(self) -> dict[str, Any]:
        """The config as JSON; absent optional keys are left out."""
        out: dict[str, Any] = {
            "user_domain_name": self.user_domain_name,
            "project_domain_name": self.project_domain_name,
            "interface": self.interface,
            "verify": self.verify,
            "auth_type": self.auth_type,
            "request_timeout": self.request_timeout,
            "build_timeout": self.build_timeout,
            "image_timeout": self.image_timeout,
            "host_hint": self.host_hint,
            "compute_microversion": self.compute_microversion,
        }
        if self.notifications is not None:
            out["notifications"] = dict(self.notifications)
        if self.endpoint_override:
            out["endpoint_override"] = dict(self.endpoint_override)
        if self.monitoring is not None:
            out["monitoring"] = dict(self.monitoring)
        for key in (
            "region_name",
            "default_image",
            "placement_strategy",
            "cacert",
            "application_credential_id",
            "application_credential_secret",
        ):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out


def _text(
    config: dict[str, Any], key: str, default: str | None, limit: int = MAX_TEXT
) -> str | None:
    value = config.get(key, default)
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise VimConfigError(f"config.{key}", "must be a non-empty string")
    if value is not None and len(value) > limit:
        raise VimConfigError(f"config.{key}", f"must be at most {limit} characters")
    return value


def _choice(config: dict[str, Any], key: str, default: str, choices: tuple[str, ...]) -> str:
    value = config.get(key, default)
    if value not in choices:
        raise VimConfigError(f"config.{key}", f"must be one of {list(choices)}, not {value!r}")
    return str(value)


def _positive(config: dict[str, Any], key: str, default: float) -> float:
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise VimConfigError(f"config.{key}", "must be a positive number of seconds")
    limit = MAX_TIMEOUT_S[key]
    if not value <= limit:
        raise VimConfigError(f"config.{key}", f"must be at most {limit:g} seconds")
    return float(value)


def _overrides(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise VimConfigError("config.endpoint_override", "must map a service type to a URL")
    for service, url in value.items():
        if service not in SERVICES:
            raise VimConfigError(
                f"config.endpoint_override.{service}", f"unknown service; one of {list(SERVICES)}"
            )
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise VimConfigError(f"config.endpoint_override.{service}", "must be an http(s) URL")
        if len(url) > MAX_URL:
            raise VimConfigError(
                f"config.endpoint_override.{service}", f"must be at most {MAX_URL} characters"
            )
    return {str(k): str(v).rstrip("/") for k, v in value.items()}


def strategy_name(value: Any) -> str | None:
    """``config.placement_strategy`` when given: a short lower-case name (whether the
    optimizer has a strategy of that name is checked where the account is registered)."""
    if value is not None and (not isinstance(value, str) or not _STRATEGY_RE.match(value)):
        raise VimConfigError(
            "config.placement_strategy", "must be a strategy name ([a-z][a-z0-9_]*, <= 64 chars)"
        )
    return value


def _notifications(value: Any) -> dict[str, Any] | None:
    if value is not None and not isinstance(value, dict):
        raise VimConfigError("config.notifications", "must be a JSON object")
    return value


def parse_openstack_config(config: dict[str, Any]) -> OpenStackConfig:
    """Parse and check an account config; VimConfigError names the first bad field."""
    unknown = sorted(set(config) - KNOWN_KEYS)
    if unknown:
        raise VimConfigError(f"config.{unknown[0]}", f"unknown key; known: {sorted(KNOWN_KEYS)}")
    verify = config.get("verify", True)
    if not isinstance(verify, bool):
        raise VimConfigError("config.verify", "must be true or false")
    cfg = OpenStackConfig(
        user_domain_name=_text(config, "user_domain_name", "Default") or "Default",
        project_domain_name=_text(config, "project_domain_name", "Default") or "Default",
        region_name=_text(config, "region_name", None),
        interface=_choice(config, "interface", "public", INTERFACES),
        verify=verify,
        cacert=_text(config, "cacert", None, MAX_CERT),
        application_credential_id=_text(config, "application_credential_id", None),
        application_credential_secret=_text(config, "application_credential_secret", None),
        endpoint_override=_overrides(config.get("endpoint_override")),
        auth_type=_choice(config, "auth_type", "password", AUTH_TYPES),
        request_timeout=_positive(config, "request_timeout", 30.0),
        build_timeout=_positive(config, "build_timeout", 60.0),
        image_timeout=_positive(config, "image_timeout", 600.0),
        host_hint=_choice(config, "host_hint", "host", HOST_HINTS),
        compute_microversion=_text(config, "compute_microversion", "2.74") or "2.74",
        notifications=_notifications(config.get("notifications")),
        default_image=_text(config, "default_image", None),
        placement_strategy=strategy_name(config.get("placement_strategy")),
        monitoring=parse_monitoring(config.get("monitoring"), "openstack"),
    )
    if bool(cfg.application_credential_id) != bool(cfg.application_credential_secret):
        raise VimConfigError(
            "config.application_credential_secret",
            "application_credential_id and application_credential_secret go together",
        )
    if cfg.application_credential_id and cfg.auth_type == "password":
        cfg.auth_type = "v3applicationcredential"
    if cfg.auth_type in ("admin_token", "none") and not {"compute", "network"} <= set(
        cfg.endpoint_override
    ):
        raise VimConfigError(
            "config.endpoint_override",
            f"auth_type {cfg.auth_type} has no catalog: give compute and network endpoints",
        )
    return cfg
