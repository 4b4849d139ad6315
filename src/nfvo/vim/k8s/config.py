"""Validation of a Kubernetes VIM account's ``config`` and the client configuration it yields.

Kept apart from the driver so the resource-management service can validate an account
(``registry.validate_config``) without opening any connection.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from typing import Any

import yaml

from nfvo.monitoring.options import parse_monitoring
from nfvo.vim.base import VimConfigError
from nfvo.vim.os.config import strategy_name

MAX_IMAGES = 1000
MAX_CERT = 64 << 10  # a PEM bundle
MAX_KUBECONFIG = 256 << 10  # characters of kubeconfig YAML
MAX_KUBECONFIG_NODES = 10_000  # values in the parsed kubeconfig, aliases counted each time
MAX_IMAGE_REF = 1024
# Upper bounds of the timeouts (seconds).
MAX_TIMEOUT_S = {"request_timeout": 600.0, "connect_timeout": 120.0}


class _KubeconfigLoader(yaml.SafeLoader):
    """Safe YAML that refuses aliases: kubeconfigs have no use for them, and a few anchors
    can stand for billions of nodes that any later walk of the document would expand."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed", mark)
        return super().compose_node(parent, index)


_PREFIX_RE = re.compile(r"^[a-z0-9]([a-z0-9-]*)?$")
KNOWN_KEYS = {
    "namespace_prefix",
    "verify_ssl",
    "ca_cert",
    "kubeconfig",
    "images",
    "default_image",
    "request_timeout",
    "connect_timeout",
    "placement_strategy",  # read by the LCM: the optimizer strategy it places with
    "monitoring",  # read by the monitoring component (nfvo.monitoring.options)
}


@dataclass
class KubeConfig:
    """The parsed account config; defaults filled in."""

    namespace_prefix: str = "nfvo-"
    verify_ssl: bool = True
    ca_cert: str | None = None
    kubeconfig: dict[str, Any] | None = None
    images: list[str] = field(default_factory=list)
    default_image: str | None = None  # for VDUs whose descriptor names no software image
    request_timeout: float = 30.0
    connect_timeout: float = 5.0
    placement_strategy: str | None = None
    monitoring: dict[str, Any] | None = None

    def normalised(self) -> dict[str, Any]:
        """The config as JSON (the kubeconfig kept as the YAML text it came as)."""
        out: dict[str, Any] = {
            "namespace_prefix": self.namespace_prefix,
            "verify_ssl": self.verify_ssl,
            "images": list(self.images),
            "request_timeout": self.request_timeout,
            "connect_timeout": self.connect_timeout,
        }
        if self.default_image:
            out["default_image"] = self.default_image
        if self.placement_strategy:
            out["placement_strategy"] = self.placement_strategy
        if self.monitoring is not None:
            out["monitoring"] = dict(self.monitoring)
        if self.ca_cert:
            out["ca_cert"] = self.ca_cert
        if self.kubeconfig is not None:
            out["kubeconfig"] = yaml.safe_dump(self.kubeconfig)
        return out


def _positive(config: dict[str, Any], key: str, default: float) -> float:
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise VimConfigError(f"config.{key}", "must be a positive number of seconds")
    limit = MAX_TIMEOUT_S[key]
    if not value <= limit:
        raise VimConfigError(f"config.{key}", f"must be at most {limit:g} seconds")
    return float(value)


def _count_nodes(value: Any) -> None:
    """Refuse a kubeconfig with more than ``MAX_KUBECONFIG_NODES`` values (YAML aliases are
    counted at every use, so a document expanding exponentially is refused early)."""
    budget = MAX_KUBECONFIG_NODES
    stack = [value]
    while stack:
        item = stack.pop()
        budget -= 1
        if budget < 0:
            raise VimConfigError(
                "config.kubeconfig", f"has more than {MAX_KUBECONFIG_NODES} values"
            )
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _kubeconfig(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, str):
        if len(value) > MAX_KUBECONFIG:
            raise VimConfigError(
                "config.kubeconfig", f"must be at most {MAX_KUBECONFIG} characters"
            )
        try:
            value = yaml.load(value, Loader=_KubeconfigLoader)  # noqa: S506 - a safe loader
        except yaml.YAMLError as exc:
            raise VimConfigError("config.kubeconfig", f"is not valid YAML: {exc}") from exc
    if not isinstance(value, dict):
        raise VimConfigError("config.kubeconfig", "must be a kubeconfig YAML document")
    _count_nodes(value)
    for part in ("clusters", "contexts", "users"):
        items = value.get(part)
        if not isinstance(items, list) or not items:
            raise VimConfigError(f"config.kubeconfig.{part}", "must be a non-empty list")
        if not all(isinstance(item, dict) for item in items):
            raise VimConfigError(f"config.kubeconfig.{part}", "must be a list of mappings")
    return value


def parse_kube_config(config: dict[str, Any]) -> KubeConfig:
    """Validate a Kubernetes VIM config; VimConfigError names the culprit (``config.x``)."""
    if not isinstance(config, dict):
        raise VimConfigError("config", "must be a JSON object")
    for key in config:
        if key not in KNOWN_KEYS:
            raise VimConfigError(f"config.{key}", f"unknown key; known: {sorted(KNOWN_KEYS)}")
    prefix = config.get("namespace_prefix", "nfvo-")
    if not isinstance(prefix, str) or len(prefix) > 20 or not _PREFIX_RE.match(prefix):
        raise VimConfigError(
            "config.namespace_prefix", "must be <= 20 chars of [a-z0-9-] starting alphanumeric"
        )
    verify = config.get("verify_ssl", True)
    if not isinstance(verify, bool):
        raise VimConfigError("config.verify_ssl", "must be true or false")
    ca_cert = config.get("ca_cert")
    if ca_cert is not None and (not isinstance(ca_cert, str) or "BEGIN CERTIFICATE" not in ca_cert):
        raise VimConfigError("config.ca_cert", "must be a PEM certificate")
    if ca_cert is not None and len(ca_cert) > MAX_CERT:
        raise VimConfigError("config.ca_cert", f"must be at most {MAX_CERT} characters")
    images = config.get("images", [])
    if not isinstance(images, list) or not all(isinstance(i, str) and i for i in images):
        raise VimConfigError("config.images", "must be a list of image references")
    if len(images) > MAX_IMAGES or any(len(i) > MAX_IMAGE_REF for i in images):
        raise VimConfigError(
            "config.images",
            f"at most {MAX_IMAGES} image references of at most {MAX_IMAGE_REF} chars",
        )
    default_image = config.get("default_image")
    if default_image is not None and (
        not isinstance(default_image, str) or not 0 < len(default_image) <= MAX_IMAGE_REF
    ):
        raise VimConfigError(
            "config.default_image", f"must be an image reference of at most {MAX_IMAGE_REF} chars"
        )
    return KubeConfig(
        namespace_prefix=prefix,
        verify_ssl=verify,
        ca_cert=ca_cert,
        kubeconfig=_kubeconfig(config.get("kubeconfig")),
        images=list(images),
        default_image=default_image,
        request_timeout=_positive(config, "request_timeout", 30.0),
        connect_timeout=_positive(config, "connect_timeout", 5.0),
        placement_strategy=strategy_name(config.get("placement_strategy")),
        monitoring=parse_monitoring(config.get("monitoring"), "kubernetes"),
    )


def client_configuration(
    cfg: KubeConfig, vim_url: str | None, token: str | None
) -> Any:  # kubernetes.client.Configuration
    """A private client Configuration (never the process-wide default one)."""
    from kubernetes import client
    from kubernetes import config as kube_config

    conf = client.Configuration()
    if cfg.kubeconfig is not None:
        kube_config.load_kube_config_from_dict(cfg.kubeconfig, client_configuration=conf)
    else:
        if not vim_url:
            raise VimConfigError("vim_url", "the API server URL is required without a kubeconfig")
        conf.host = vim_url.rstrip("/")
        if token:
            conf.api_key = {"authorization": token}
            conf.api_key_prefix = {"authorization": "Bearer"}
    if vim_url and cfg.kubeconfig is not None:
        conf.host = vim_url.rstrip("/")
    conf.verify_ssl = cfg.verify_ssl
    if cfg.ca_cert:
        with tempfile.NamedTemporaryFile("w", suffix=".pem", delete=False) as fh:
            fh.write(cfg.ca_cert)
        conf.ssl_ca_cert = fh.name
    conf.retries = False  # a failed call surfaces at once; nfvo's LCM decides on retries
    return conf
