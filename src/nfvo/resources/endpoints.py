"""Which addresses a tenant administrator may point nfvo at.

Why it exists: a VIM account or SDN controller makes nfvo connect to the URLs it names (the
connectivity check runs at once, then every sync). A global administrator runs the platform
and may register VIMs on any network; a tenant administrator must not be able to aim nfvo's
requests at its own loopback, the cloud's metadata service or another private network
(SSRF). So the URLs a tenant-scoped caller gives are resolved and refused when an address is
one :mod:`nfvo.netguard` refuses (unless ``NFVO_OUTBOUND_ALLOW`` allows it). A name that
does not resolve now is let through: the connectivity check then fails and says so.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpcore
import yaml

from nfvo.errors import BadRequest
from nfvo.netguard import OutboundGuard, OutboundRefused

_PORTS = {"http": 80, "https": 443}


def vim_urls(vim_url: Any, config: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, URL) of every endpoint a (validated) VIM account config names: ``vim_url``,
    OpenStack's ``config.endpoint_override`` and a Kubernetes kubeconfig's API servers."""
    out: list[tuple[str, str]] = []
    if isinstance(vim_url, str) and vim_url:
        out.append(("vim_url", vim_url))
    overrides = config.get("endpoint_override")
    if isinstance(overrides, dict):
        out += [(f"config.endpoint_override.{k}", v) for k, v in overrides.items()]
    kubeconfig = config.get("kubeconfig")
    if isinstance(kubeconfig, str):  # a validated config keeps it as YAML text (no aliases)
        kubeconfig = yaml.safe_load(kubeconfig)
    clusters = kubeconfig.get("clusters") if isinstance(kubeconfig, dict) else None
    for i, entry in enumerate(clusters if isinstance(clusters, list) else []):
        cluster = entry.get("cluster") if isinstance(entry, dict) else None
        server = cluster.get("server") if isinstance(cluster, dict) else None
        if isinstance(server, str):
            out.append((f"config.kubeconfig.clusters[{i}].cluster.server", server))
    return out


def check_tenant_urls(guard: OutboundGuard, urls: list[tuple[str, str]]) -> None:
    """400 naming the first field whose URL resolves to an address ``guard`` refuses."""
    for field, url in urls:
        try:
            parts = urlsplit(url)
            host, port = parts.hostname, parts.port
        except ValueError:
            raise BadRequest(f"{field} is not a valid URL", field=field) from None
        if not host:
            raise BadRequest(f"{field} is not a valid URL", field=field)
        try:
            guard.addresses(host, port or _PORTS.get(parts.scheme, 443))
        except OutboundRefused as exc:
            raise BadRequest(
                f"{field}: {exc}; a tenant administrator may only name public addresses "
                "(a global administrator registers VIMs on private networks)",
                field=field,
            ) from None
        except httpcore.ConnectError:
            continue  # does not resolve now: the connectivity check reports it
