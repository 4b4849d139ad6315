"""Neutron networks, subnets, ports and per-port security groups of the OpenStack driver.

Tags travel as Neutron tags ``key=value`` (filterable server side with ``tags=``); the
idempotency key is one of them, so a retried create finds the first one by listing.
"""

from __future__ import annotations

from typing import Any

from nfvo.vim.base import (
    TAG_KEY,
    Network,
    NetworkSpec,
    Port,
    PortSpec,
    SecurityRule,
    Subnet,
    SubnetSpec,
    VimBadRequest,
    VimNotFound,
)
from nfvo.vim.os.client import OpenStackClient

SG_PREFIX = "nfvo-"


def encode_tags(tags: dict[str, str]) -> list[str]:
    """Neutron / Nova tag strings for a tag map."""
    return sorted(f"{k}={v}" for k, v in tags.items())


def decode_tags(raw: list[str] | None) -> dict[str, str]:
    """The tag map back out of ``key=value`` strings (others ignored)."""
    out: dict[str, str] = {}
    for tag in raw or []:
        if "=" in tag:
            k, v = tag.split("=", 1)
            out[k] = v
    return out


def _network(body: dict[str, Any]) -> Network:
    return Network(
        id=body["id"],
        name=body.get("name") or "",
        status=body.get("status") or "ACTIVE",
        external=bool(body.get("router:external")),
        tags=decode_tags(body.get("tags")),
        subnets=list(body.get("subnets") or []),
    )


def _subnet(body: dict[str, Any]) -> Subnet:
    return Subnet(
        id=body["id"],
        name=body.get("name") or "",
        network_id=body["network_id"],
        cidr=body["cidr"],
        ip_version=int(body.get("ip_version") or 4),
        gateway_ip=body.get("gateway_ip"),
        dhcp=bool(body.get("enable_dhcp", True)),
        tags=decode_tags(body.get("tags")),
    )


def _port(body: dict[str, Any], rules: list[SecurityRule] | None = None) -> Port:
    owner = body.get("device_owner") or ""
    server_id = (body.get("device_id") or None) if owner.startswith("compute:") else None
    status = (body.get("status") or "DOWN") if server_id else "DOWN"
    return Port(
        id=body["id"],
        name=body.get("name") or "",
        network_id=body["network_id"],
        status=status,
        server_id=server_id,
        mac_address=body.get("mac_address"),
        ip_addresses=[ip["ip_address"] for ip in body.get("fixed_ips") or []],
        security_rules=rules or [],
        tags=decode_tags(body.get("tags")),
    )


def _rule(body: dict[str, Any]) -> SecurityRule:
    return SecurityRule(
        direction=body.get("direction") or "ingress",
        ether_type=body.get("ethertype") or "IPv4",
        protocol=body.get("protocol"),
        port_range_min=body.get("port_range_min"),
        port_range_max=body.get("port_range_max"),
        remote_cidr=body.get("remote_ip_prefix"),
    )


class NeutronOps:
    """The network half of the driver; mixed into ``OpenStackVim``."""

    client: OpenStackClient

    def _by_key(self, collection: str, key: str) -> dict[str, Any] | None:
        found = self.client.get("network", f"/{collection}", tags=f"{TAG_KEY}={key}")
        items = found.get(collection) or []
        return items[0] if items else None

    def _tag_query(self, tags: dict[str, str] | None) -> dict[str, Any]:
        return {"tags": ",".join(encode_tags(tags))} if tags else {}

    # ------------------------------------------------------------------ networks

    def create_network(self, spec: NetworkSpec) -> Network:
        """Create (or return the existing network with the same key)."""
        existing = self._by_key("networks", spec.key)
        if existing:
            return _network(existing)
        body: dict[str, Any] = {
            "name": spec.name,
            "tags": encode_tags({**spec.tags, TAG_KEY: spec.key}),
        }
        if spec.mtu:
            body["mtu"] = spec.mtu
        if spec.external:
            body["router:external"] = True
        made = self.client.request("network", "POST", "/networks", json={"network": body})
        return _network(made["network"])

    def get_network(self, network_id: str) -> Network:
        """A network; VimNotFound if absent."""
        return _network(self.client.get("network", f"/networks/{network_id}")["network"])

    def list_networks(self, tags: dict[str, str] | None = None) -> list[Network]:
        """Networks carrying all ``tags``."""
        found = self.client.get("network", "/networks", **self._tag_query(tags))
        return [_network(n) for n in found.get("networks") or []]

    def delete_network(self, network_id: str) -> None:
        """Delete; absent is fine; VimConflict while ports use it."""
        self._delete(f"/networks/{network_id}")

    def _delete(self, path: str) -> None:
        try:
            self.client.request("network", "DELETE", path)
        except VimNotFound:
            pass

    # ------------------------------------------------------------------ subnets

    def create_subnet(self, spec: SubnetSpec) -> Subnet:
        """Create (or return the existing subnet with the same key)."""
        existing = self._by_key("subnets", spec.key)
        if existing:
            return _subnet(existing)
        body: dict[str, Any] = {
            "name": spec.name,
            "network_id": spec.network_id,
            "cidr": spec.cidr,
            "ip_version": spec.ip_version,
            "enable_dhcp": spec.dhcp,
            "tags": encode_tags({**spec.tags, TAG_KEY: spec.key}),
        }
        if spec.gateway_ip:
            body["gateway_ip"] = spec.gateway_ip
        made = self.client.request("network", "POST", "/subnets", json={"subnet": body})
        return _subnet(made["subnet"])

    def delete_subnet(self, subnet_id: str) -> None:
        """Delete; absent is fine."""
        self._delete(f"/subnets/{subnet_id}")

    # ------------------------------------------------------------------ ports

    def create_port(self, spec: PortSpec) -> Port:
        """Create (or return the existing port with the same key)."""
        existing = self._by_key("ports", spec.key)
        if existing:
            return _port(existing)
        self.get_network(spec.network_id)  # VimNotFound before any security group is made
        body: dict[str, Any] = {
            "name": spec.name,
            "network_id": spec.network_id,
            "tags": encode_tags({**spec.tags, TAG_KEY: spec.key}),
        }
        if spec.fixed_ip:
            body["fixed_ips"] = [{"ip_address": spec.fixed_ip}]
        if spec.security_rules:
            body["security_groups"] = [self._security_group(spec)]
        try:
            made = self.client.request("network", "POST", "/ports", json={"port": body})
        except Exception:
            if spec.security_rules:
                self._delete(f"/security-groups/{body['security_groups'][0]}")
            raise
        return _port(made["port"], spec.security_rules)

    def _security_group(self, spec: PortSpec) -> str:
        """A security group holding exactly the port's rules (reused on a retried create)."""
        name = SG_PREFIX + spec.key
        found = self.client.get("network", "/security-groups", name=name)
        groups = found.get("security_groups") or []
        if groups:
            return groups[0]["id"]
        made = self.client.request(
            "network", "POST", "/security-groups", json={"security_group": {"name": name}}
        )
        group = made["security_group"]
        for existing in group.get("security_group_rules") or []:  # default egress rules
            self._delete(f"/security-group-rules/{existing['id']}")
        for rule in spec.security_rules:
            self._add_rule(group["id"], rule)
        return group["id"]

    def _add_rule(self, group_id: str, rule: SecurityRule) -> None:
        if rule.direction not in ("ingress", "egress"):
            raise VimBadRequest(f"security rule direction {rule.direction!r} is invalid")
        body = {
            "security_group_id": group_id,
            "direction": rule.direction,
            "ethertype": rule.ether_type,
            "protocol": rule.protocol,
            "port_range_min": rule.port_range_min,
            "port_range_max": rule.port_range_max,
            "remote_ip_prefix": rule.remote_cidr,
        }
        self.client.request(
            "network", "POST", "/security-group-rules", json={"security_group_rule": body}
        )

    def get_port(self, port_id: str) -> Port:
        """A port with its security rules; VimNotFound if absent."""
        body = self.client.get("network", f"/ports/{port_id}")["port"]
        rules: list[SecurityRule] = []
        for group_id in body.get("security_groups") or []:
            try:
                group = self.client.get("network", f"/security-groups/{group_id}")
            except VimNotFound:
                continue
            sg = group["security_group"]
            if str(sg.get("name", "")).startswith(SG_PREFIX):
                rules += [_rule(r) for r in sg.get("security_group_rules") or []]
        return _port(body, rules)

    def list_ports(self, tags: dict[str, str] | None = None) -> list[Port]:
        """Ports carrying all ``tags``."""
        found = self.client.get("network", "/ports", **self._tag_query(tags))
        return [_port(p) for p in found.get("ports") or []]

    def delete_port(self, port_id: str) -> None:
        """Delete the port and the security group made for it; absent is fine."""
        try:
            body = self.client.get("network", f"/ports/{port_id}")["port"]
        except VimNotFound:
            return
        self._delete(f"/ports/{port_id}")
        for group_id in body.get("security_groups") or []:
            try:
                sg = self.client.get("network", f"/security-groups/{group_id}")["security_group"]
            except VimNotFound:
                continue
            if str(sg.get("name", "")).startswith(SG_PREFIX):
                self._delete(f"/security-groups/{group_id}")
