"""What an OpenStack cloud offers: zones (Nova), hosts (Placement + Nova), flavors, images.

Host capacity comes from Placement resource providers (inventories with their allocation
ratios and reservations, usages, allocations per consumer) because that is what Nova's
scheduler itself decides on; zones and host liveness come from Nova's availability zones.
"""

from __future__ import annotations

from typing import Any

from nfvo.vim.base import Flavor, Host, Image, VimNotFound, Zone
from nfvo.vim.os.client import OpenStackClient
from nfvo.vim.os.images import to_image

INTERNAL_ZONE = "internal"


def _capacity(inv: dict[str, Any], rc: str) -> tuple[int, float]:
    item = inv.get(rc) or {}
    total = int(item.get("total") or 0) - int(item.get("reserved") or 0)
    return max(total, 0), float(item.get("allocation_ratio") or 1.0)


def host_from_placement(
    name: str, zone: str, up: bool, inv: dict[str, Any], usages: dict[str, Any], servers: int
) -> Host:
    """A Host out of one resource provider's inventories and usages."""
    vcpus, cpu_ratio = _capacity(inv, "VCPU")
    ram, ram_ratio = _capacity(inv, "MEMORY_MB")
    disk, disk_ratio = _capacity(inv, "DISK_GB")
    return Host(
        name=name,
        zone=zone,
        vcpus=vcpus,
        ram_mib=ram,
        disk_gib=disk,
        cpu_allocation_ratio=cpu_ratio,
        ram_allocation_ratio=ram_ratio,
        disk_allocation_ratio=disk_ratio,
        vcpus_used=int(usages.get("VCPU") or 0),
        ram_mib_used=int(usages.get("MEMORY_MB") or 0),
        disk_gib_used=int(usages.get("DISK_GB") or 0),
        servers=servers,
        state="up" if up else "down",
    )


class InventoryOps:
    """The read-only inventory half of the driver; mixed into ``OpenStackVim``."""

    client: OpenStackClient
    vim_id: str
    _flavors: list[Flavor] | None

    def check(self) -> dict[str, Any]:
        """Authenticate and read Nova's version document."""
        body = self.client.get("compute", "/")
        version = (body or {}).get("version") or {}
        return {
            "vim_type": "openstack",
            "vim_id": self.vim_id,
            "compute_version": version.get("id"),
            "compute_max_microversion": version.get("version"),
            "compute_endpoint": self.client.endpoint("compute"),
        }

    def list_zones(self) -> list[Zone]:
        """Availability zones users may boot into (Nova's ``internal`` zone left out)."""
        info = self.client.get("compute", "/os-availability-zone").get("availabilityZoneInfo")
        return [
            Zone(name=z["zoneName"], available=bool((z.get("zoneState") or {}).get("available")))
            for z in info or []
            if z.get("zoneName") != INTERNAL_ZONE
        ]

    def _compute_services(self) -> dict[str, tuple[str, bool]]:
        """service host -> (zone, up) of every nova-compute."""
        detail = self.client.get("compute", "/os-availability-zone/detail")
        out: dict[str, tuple[str, bool]] = {}
        for z in detail.get("availabilityZoneInfo") or []:
            for host, services in (z.get("hosts") or {}).items():
                svc = (services or {}).get("nova-compute")
                if svc is not None:
                    out[host] = (z["zoneName"], bool(svc.get("available") and svc.get("active")))
        return out

    def set_host_schedulable(self, host: str, schedulable: bool, reason: str = "") -> bool:
        """Disable (or enable again) the host's nova-compute service: Nova's scheduler puts
        nothing new there, servers there keep running (compute API 2.53+: by service id)."""
        services: list[dict[str, Any]] = []
        for name in dict.fromkeys((host, host.split(".")[0])):
            found = self.client.get("compute", "/os-services", binary="nova-compute", host=name)
            services = (found or {}).get("services") or []
            if services:
                break
        if not services:
            raise VimNotFound(f"no nova-compute service on host {host}")
        body: dict[str, Any] = {"status": "enabled"}
        if not schedulable:
            body = {"status": "disabled", "disabled_reason": (reason or "nfvo")[:255]}
        self.client.request("compute", "PUT", f"/os-services/{services[0]['id']}", json=body)
        return True

    def list_hosts(self) -> list[Host]:
        """Compute hosts: Placement capacity and usage, Nova zone and liveness."""
        services = self._compute_services()
        providers = self.client.get("placement", "/resource_providers").get("resource_providers")
        hosts: list[Host] = []
        for rp in providers or []:
            name = rp["name"]
            service = services.get(name) or services.get(name.split(".")[0])
            if service is None:
                continue  # not a compute node (sharing / nested provider)
            base = f"/resource_providers/{rp['uuid']}"
            inv = self.client.get("placement", f"{base}/inventories").get("inventories") or {}
            if "VCPU" not in inv:
                continue
            usages = self.client.get("placement", f"{base}/usages").get("usages") or {}
            allocs = self.client.get("placement", f"{base}/allocations").get("allocations") or {}
            hosts.append(host_from_placement(name, *service, inv, usages, len(allocs)))
        return sorted(hosts, key=lambda h: h.name)

    def list_flavors(self) -> list[Flavor]:
        """Flavors (public and those of the project)."""
        found = self.client.get("compute", "/flavors/detail").get("flavors") or []
        self._flavors = [
            Flavor(
                id=str(f["id"]),
                name=f["name"],
                vcpus=int(f["vcpus"]),
                ram_mib=int(f["ram"]),
                disk_gib=int(f.get("disk") or 0),
            )
            for f in found
        ]
        return list(self._flavors)

    def list_images(self) -> list[Image]:
        """Glance images visible to the project."""
        found = self.client.get("image", "/images").get("images") or []
        return [to_image(i) for i in found]
