"""Networks, subnets and ports of the Kubernetes driver.

Kubernetes has no tenant networks, so nfvo records them itself: a network is a ConfigMap (or,
when the cluster serves Multus' ``k8s.cni.cncf.io/v1`` API, a NetworkAttachmentDefinition that
pods can attach to) whose ``nfvo.io/network`` annotation holds its subnets; a port is a
ConfigMap holding one IP allocation from a subnet and the server it is bound to.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from nfvo.vim.base import (
    Network,
    NetworkSpec,
    Port,
    PortSpec,
    SecurityRule,
    Subnet,
    SubnetSpec,
    VimBadRequest,
    VimConflict,
    VimNotFound,
)
from nfvo.vim.k8s.api import (
    NAME_ANNOTATION,
    NETWORK_LABEL,
    Rest,
    has_tags,
    metadata,
    object_name,
    selector,
    short_hash,
    split_id,
    tags_of,
)

STATE_ANNOTATION = "nfvo.io/network"
NAD_GROUP = "k8s.cni.cncf.io"
NAD_API = f"/apis/{NAD_GROUP}/v1"
CORE = "/api/v1"


class NetworkStore:
    """Keeps networks (with their subnets) and ports as Kubernetes objects."""

    def __init__(
        self,
        rest: Rest,
        namespace_for: Callable[[dict[str, str]], str],
        ensure_namespace: Callable[[str], None],
        multus: Callable[[], bool],
    ) -> None:
        self.rest = rest
        self.namespace_for = namespace_for
        self.ensure_namespace = ensure_namespace
        self.multus = multus

    # ------------------------------------------------------------------ paths

    def _net_path(self, ns: str | None, name: str | None = None) -> str:
        base = NAD_API if self.multus() else CORE
        res = "network-attachment-definitions" if self.multus() else "configmaps"
        path = f"{base}/namespaces/{ns}/{res}" if ns else f"{base}/{res}"
        return f"{path}/{name}" if name else path

    @staticmethod
    def _cm_path(ns: str | None, name: str | None = None) -> str:
        path = f"{CORE}/namespaces/{ns}/configmaps" if ns else f"{CORE}/configmaps"
        return f"{path}/{name}" if name else path

    def _scope(self, tags: dict[str, str] | None) -> str | None:
        from nfvo.vim.base import TAG_NS

        return self.namespace_for(tags) if tags and TAG_NS in tags else None

    # ------------------------------------------------------------------ networks

    def _net_manifest(self, name: str, spec: NetworkSpec, state: dict[str, Any]) -> dict[str, Any]:
        meta = metadata(name, "network", name, spec.tags, spec.name)
        meta["annotations"][STATE_ANNOTATION] = json.dumps(state, sort_keys=True)
        if not self.multus():
            return {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": meta,
                "data": {"network.json": json.dumps(state, sort_keys=True)},
            }
        return {
            "apiVersion": f"{NAD_GROUP}/v1",
            "kind": "NetworkAttachmentDefinition",
            "metadata": meta,
            "spec": {"config": _cni_config(name, state)},
        }

    def create_network(self, spec: NetworkSpec) -> Network:
        """Create (or find by key) a network object in the NS namespace."""
        ns = self.namespace_for(spec.tags)
        name = object_name("net", spec.key)
        found = self.rest.find(self._net_path(ns, name))
        if found is not None:
            return _network(found)
        self.ensure_namespace(ns)
        state = {"external": spec.external, "mtu": spec.mtu, "subnets": {}}
        body = self._net_manifest(name, spec, state)
        try:
            made = self.rest.create(self._net_path(ns), body, what="create of network")
        except VimConflict as exc:
            if getattr(exc, "k8s_reason", "") != "AlreadyExists":
                raise
            made = self.rest.get(self._net_path(ns, name))
        return _network(made)

    def _get_net_obj(self, network_id: str) -> dict[str, Any]:
        parts = split_id(network_id)
        if parts is None or not parts[1].startswith("net-"):
            raise VimNotFound(f"network {network_id} not found", request_id="nfvo-local")
        return self.rest.get(self._net_path(*parts), what=f"read of network {network_id}")

    def get_network(self, network_id: str) -> Network:
        """One network; VimNotFound if absent."""
        return _network(self._get_net_obj(network_id))

    def list_networks(self, tags: dict[str, str] | None) -> list[Network]:
        """Networks carrying all ``tags``."""
        objs = self.rest.items(self._net_path(self._scope(tags)), selector("network", tags))
        return [_network(o) for o in objs if has_tags(o, tags)]

    def delete_network(self, network_id: str) -> None:
        """Delete; absent is fine; VimConflict while ports use it. Leaves the namespace."""
        try:
            obj = self._get_net_obj(network_id)
        except VimNotFound:
            return
        ports = self._ports_of(obj["metadata"]["name"])
        if ports:
            raise VimConflict(
                f"network {network_id} is in use by {len(ports)} port(s)",
                request_id="nfvo-local",
            )
        ns, name = split_id(network_id) or ("", "")
        self.rest.delete(self._net_path(ns, name), what=f"delete of network {network_id}")

    def _update_state(self, network_id: str, change: Callable[[dict[str, Any]], Any]) -> Any:
        """Apply ``change`` to a network's state with optimistic concurrency."""
        for attempt in range(8):
            obj = self._get_net_obj(network_id)
            state = _state(obj)
            result = change(state)
            if result is None:
                return None
            meta = obj["metadata"]
            meta.setdefault("annotations", {})[STATE_ANNOTATION] = json.dumps(state, sort_keys=True)
            if "data" in obj or obj.get("kind") == "ConfigMap":
                obj["data"] = {"network.json": json.dumps(state, sort_keys=True)}
            if obj.get("kind") == "NetworkAttachmentDefinition":
                obj["spec"] = {"config": _cni_config(meta["name"], state)}
            ns, name = split_id(network_id) or ("", "")
            try:
                self.rest.replace(self._net_path(ns, name), obj)
                return result
            except VimConflict:
                if attempt == 7:
                    raise
        return None

    # ------------------------------------------------------------------ subnets

    def create_subnet(self, spec: SubnetSpec) -> Subnet:
        """Add a subnet to a network's state (or return the one with the same key)."""
        try:
            cidr = ipaddress.ip_network(spec.cidr, strict=False)
            gateway = ipaddress.ip_address(spec.gateway_ip) if spec.gateway_ip else None
        except ValueError as exc:
            raise VimBadRequest(f"invalid subnet: {exc}", request_id="nfvo-local") from exc
        if cidr.version != spec.ip_version or (gateway is not None and gateway not in cidr):
            raise VimBadRequest(
                f"subnet {spec.cidr} does not match IPv{spec.ip_version} / gateway "
                f"{spec.gateway_ip}",
                request_id="nfvo-local",
            )
        sub_name = object_name("sub", spec.key)
        record = {
            "name": spec.name,
            "cidr": str(cidr),
            "ip_version": spec.ip_version,
            "gateway_ip": str(gateway) if gateway else None,
            "dhcp": spec.dhcp,
            "tags": spec.tags,
        }

        def add(state: dict[str, Any]) -> Any:
            existing = state["subnets"].get(sub_name)
            if existing is not None:
                return None
            state["subnets"][sub_name] = record
            return True

        self._update_state(spec.network_id, add)
        net = self._get_net_obj(spec.network_id)
        return _subnet(spec.network_id, sub_name, _state(net)["subnets"][sub_name])

    def delete_subnet(self, subnet_id: str) -> None:
        """Remove a subnet; absent is fine; VimConflict while ports hold its addresses."""
        network_id, _, sub_name = subnet_id.rpartition(".")
        if not network_id or split_id(network_id) is None:
            return
        try:
            obj = self._get_net_obj(network_id)
        except VimNotFound:
            return
        if sub_name not in _state(obj)["subnets"]:
            return
        used = [
            p for p in self._ports_of(obj["metadata"]["name"]) if _data(p, "subnet") == subnet_id
        ]
        if used:
            raise VimConflict(
                f"subnet {subnet_id} has {len(used)} allocated port(s)", request_id="nfvo-local"
            )

        def drop(state: dict[str, Any]) -> Any:
            return state["subnets"].pop(sub_name, None) and True

        self._update_state(network_id, drop)

    # ------------------------------------------------------------------ ports

    def _ports_of(self, net_name: str) -> list[dict[str, Any]]:
        return self.rest.items(self._cm_path(None), selector("port", **{NETWORK_LABEL: net_name}))

    def create_port(self, spec: PortSpec) -> Port:
        """Allocate an address from the network's first subnet and record it."""
        ns = self.namespace_for(spec.tags)
        name = object_name("port", spec.key)
        found = self.rest.find(self._cm_path(ns, name))
        if found is not None:
            return _port(found)
        net = self._get_net_obj(spec.network_id)
        net_name = net["metadata"]["name"]
        subnet_id, ip = self._allocate(spec, net)
        self.ensure_namespace(ns)
        meta = metadata(name, "port", name, spec.tags, spec.name)
        meta["labels"][NETWORK_LABEL] = net_name
        body = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": meta,
            "data": {
                "network": spec.network_id,
                "subnet": subnet_id or "",
                "ip": ip or "",
                "mac": _mac(spec.key),
                "server": "",
                "securityRules": json.dumps([asdict(r) for r in spec.security_rules]),
            },
        }
        try:
            made = self.rest.create(self._cm_path(ns), body, what="create of port")
        except VimConflict as exc:
            if getattr(exc, "k8s_reason", "") != "AlreadyExists":
                raise
            made = self.rest.get(self._cm_path(ns, name))
        return _port(made)

    def _allocate(self, spec: PortSpec, net: dict[str, Any]) -> tuple[str | None, str | None]:
        subnets = _state(net)["subnets"]
        if not subnets:
            return None, None
        network_id = f"{net['metadata']['namespace']}.{net['metadata']['name']}"
        sub_name, sub = sorted(subnets.items(), key=lambda kv: kv[1].get("ip_version", 4))[0]
        cidr = ipaddress.ip_network(sub["cidr"])
        used = {_data(p, "ip") for p in self._ports_of(net["metadata"]["name"])}
        gateway = sub.get("gateway_ip")
        subnet_id = f"{network_id}.{sub_name}"
        if spec.fixed_ip:
            try:
                wanted = ipaddress.ip_address(spec.fixed_ip)
            except ValueError as exc:
                raise VimBadRequest(f"bad fixed IP: {exc}", request_id="nfvo-local") from exc
            if wanted not in cidr:
                raise VimBadRequest(
                    f"fixed IP {wanted} is outside subnet {cidr}", request_id="nfvo-local"
                )
            if str(wanted) in used or str(wanted) == gateway:
                raise VimConflict(f"IP {wanted} is already allocated", request_id="nfvo-local")
            return subnet_id, str(wanted)
        hosts = cidr.hosts()
        first = next(hosts, None)  # the default gateway when none is given
        reserved = {gateway or (str(first) if first else None)}
        for candidate in hosts:
            text = str(candidate)
            if text not in used and text not in reserved:
                return subnet_id, text
        raise VimConflict(f"subnet {cidr} has no free address", request_id="nfvo-local")

    def _port_obj(self, port_id: str) -> dict[str, Any]:
        parts = split_id(port_id)
        if parts is None or not parts[1].startswith("port-"):
            raise VimNotFound(f"port {port_id} not found", request_id="nfvo-local")
        return self.rest.get(self._cm_path(*parts), what=f"read of port {port_id}")

    def get_port(self, port_id: str) -> Port:
        """One port; VimNotFound if absent."""
        return _port(self._port_obj(port_id))

    def port_object(self, port_id: str) -> dict[str, Any]:
        """The raw ConfigMap of a port (for server wiring)."""
        return self._port_obj(port_id)

    def list_ports(self, tags: dict[str, str] | None) -> list[Port]:
        """Ports carrying all ``tags``."""
        objs = self.rest.items(self._cm_path(self._scope(tags)), selector("port", tags))
        return [_port(o) for o in objs if has_tags(o, tags)]

    def delete_port(self, port_id: str) -> None:
        """Delete; absent is fine."""
        parts = split_id(port_id)
        if parts is not None:
            self.rest.delete(self._cm_path(*parts), what=f"delete of port {port_id}")

    def bind(self, port_id: str, server_id: str) -> None:
        """Record (or clear, with "") the server a port is bound to."""
        parts = split_id(port_id)
        if parts is None:
            return
        try:
            self.rest.patch(self._cm_path(*parts), {"data": {"server": server_id}})
        except VimNotFound:
            if server_id:
                raise

    def network_object(self, network_id: str) -> dict[str, Any]:
        """The raw object of a network."""
        return self._get_net_obj(network_id)


# ---------------------------------------------------------------------- conversions


def _state(obj: dict[str, Any]) -> dict[str, Any]:
    raw = (obj.get("metadata", {}).get("annotations") or {}).get(STATE_ANNOTATION) or "{}"
    state = json.loads(raw)
    state.setdefault("subnets", {})
    return state


def _data(obj: dict[str, Any], key: str) -> str:
    return str((obj.get("data") or {}).get(key) or "")


def _cni_config(name: str, state: dict[str, Any]) -> str:
    conf: dict[str, Any] = {
        "cniVersion": "0.3.1",
        "name": name,
        "type": "bridge",
        "bridge": "nfvo" + short_hash(name, 9),
        "ipam": {"type": "static"},
    }
    if state.get("mtu"):
        conf["mtu"] = state["mtu"]
    return json.dumps(conf, sort_keys=True)


def _network(obj: dict[str, Any]) -> Network:
    meta = obj["metadata"]
    network_id = f"{meta['namespace']}.{meta['name']}"
    state = _state(obj)
    return Network(
        id=network_id,
        name=(meta.get("annotations") or {}).get(NAME_ANNOTATION, meta["name"]),
        status="ACTIVE",
        external=bool(state.get("external")),
        tags=tags_of(obj),
        subnets=[f"{network_id}.{s}" for s in sorted(state["subnets"])],
    )


def _subnet(network_id: str, sub_name: str, rec: dict[str, Any]) -> Subnet:
    return Subnet(
        id=f"{network_id}.{sub_name}",
        name=rec.get("name", sub_name),
        network_id=network_id,
        cidr=rec["cidr"],
        ip_version=int(rec.get("ip_version", 4)),
        gateway_ip=rec.get("gateway_ip"),
        dhcp=bool(rec.get("dhcp", True)),
        tags=dict(rec.get("tags") or {}),
    )


def _port(obj: dict[str, Any]) -> Port:
    meta = obj["metadata"]
    server = _data(obj, "server") or None
    rules = json.loads(_data(obj, "securityRules") or "[]")
    return Port(
        id=f"{meta['namespace']}.{meta['name']}",
        name=(meta.get("annotations") or {}).get(NAME_ANNOTATION, meta["name"]),
        network_id=_data(obj, "network"),
        status="ACTIVE" if server else "DOWN",
        server_id=server,
        mac_address=_data(obj, "mac") or None,
        ip_addresses=[_data(obj, "ip")] if _data(obj, "ip") else [],
        security_rules=[SecurityRule(**r) for r in rules],
        tags=tags_of(obj),
    )


def _mac(key: str) -> str:
    digest = short_hash(key, 10)
    return "02:" + ":".join(digest[i : i + 2] for i in range(0, 10, 2))
