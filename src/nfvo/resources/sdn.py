"""SDN/WAN controller drivers: one interface, a ``sim`` implementation for now."""

from __future__ import annotations

import threading
import uuid
from abc import ABC, abstractmethod
from typing import Any, ClassVar

SDN_TYPES = ("sim", "onos", "odl", "tapi")


class SdnError(Exception):
    """An SDN controller refused or could not be reached; carries its own words."""


class SdnDriver(ABC):
    """A connection to one SDN/WAN controller."""

    sdn_type: ClassVar[str]

    @abstractmethod
    def check(self) -> dict[str, Any]:
        """Verify reachability and credentials."""

    @abstractmethod
    def create_link(self, key: str, endpoints: list[str], bandwidth_mbps: int) -> dict[str, Any]:
        """Connect endpoints (idempotent on ``key``)."""

    @abstractmethod
    def delete_link(self, link_id: str) -> None:
        """Remove a connection (absent is fine)."""

    @abstractmethod
    def list_links(self) -> list[dict[str, Any]]:
        """Connections this controller holds."""


class SimSdn(SdnDriver):
    """In-process simulated controller; ``config.auth``/``config.unreachable`` make it fail."""

    sdn_type = "sim"
    _links: ClassVar[dict[str, dict[str, dict[str, Any]]]] = {}
    _lock = threading.Lock()

    def __init__(self, sdn_id: str, user: str | None, password: str | None, config: dict) -> None:
        self.sdn_id = sdn_id
        self.user, self.password, self.config = user, password, config

    def _guard(self) -> None:
        if self.config.get("unreachable"):
            raise SdnError("connection refused by the simulated controller")
        auth = self.config.get("auth") or {}
        if auth and (auth.get("user"), auth.get("password")) != (self.user, self.password):
            raise SdnError("401 Unauthorized: bad controller credentials")

    def check(self) -> dict[str, Any]:
        self._guard()
        return {"sdn_type": "sim", "links": len(self.list_links())}

    def create_link(self, key: str, endpoints: list[str], bandwidth_mbps: int) -> dict[str, Any]:
        self._guard()
        with self._lock:
            links = self._links.setdefault(self.sdn_id, {})
            for link in links.values():
                if link["key"] == key:
                    return dict(link)
            link = {
                "id": str(uuid.uuid4()),
                "key": key,
                "endpoints": list(endpoints),
                "bandwidth_mbps": bandwidth_mbps,
            }
            links[link["id"]] = link
            return dict(link)

    def delete_link(self, link_id: str) -> None:
        self._guard()
        with self._lock:
            self._links.get(self.sdn_id, {}).pop(link_id, None)

    def list_links(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(v) for v in self._links.get(self.sdn_id, {}).values()]


def create_sdn_driver(
    sdn_type: str, *, sdn_id: str, user: str | None, password: str | None, config: dict
) -> SdnDriver:
    """A driver for a controller; only ``sim`` is implemented in this release."""
    if sdn_type == "sim":
        return SimSdn(sdn_id, user, password, config)
    raise SdnError(f"the {sdn_type} SDN driver is not available in this release")
