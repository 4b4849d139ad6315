"""The Kubernetes VIM driver: nfvo's networks, ports and servers as Kubernetes objects.

Mapping (see also ``nfvo.vim.k8s``):

* every NS gets a namespace ``<namespace_prefix><nfvo.ns tag>`` (``<prefix>default`` for
  untagged objects), created on first use;
* a network is a ConfigMap, or a Multus NetworkAttachmentDefinition when the cluster serves
  ``k8s.cni.cncf.io/v1``; its subnets are recorded in it; a port is a ConfigMap holding one
  address allocation;
* a server is a one-replica Deployment (StatefulSet for ``nfvo.stateful=true``); a port on an
  NS-level network (one without an ``nfvo.vnf`` tag) is exposed by a Service;
* ids are ``<namespace>.<object name>`` and names derive from the idempotency key, so a
  retried create finds the object the first attempt made.

Deleting the last network of a namespace leaves the namespace; ``delete_namespace_for`` (only
once nothing of the NS is left) and ``destroy_ns`` (everything, at once) remove it.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from nfvo.vim.base import (
    TAG_KEY,
    TAG_NS,
    TAG_VNF,
    Flavor,
    Host,
    Image,
    ImageLookup,
    ImageRef,
    ImageSpec,
    Network,
    NetworkSpec,
    Port,
    PortSpec,
    Server,
    ServerMetrics,
    ServerSpec,
    Subnet,
    SubnetSpec,
    VimBadRequest,
    VimConflict,
    VimDriver,
    VimNotFound,
    Zone,
)
from nfvo.vim.k8s import servers as sv
from nfvo.vim.k8s.api import (
    MANAGED_BY,
    SERVER_LABEL,
    Rest,
    dns_label,
    has_tags,
    object_name,
    quantity,
    selector,
    split_id,
)
from nfvo.vim.k8s.config import client_configuration, parse_kube_config
from nfvo.vim.k8s.networks import NAD_GROUP, NetworkStore, _state

APPS = "/apis/apps/v1"
_S = TypeVar("_S", NetworkSpec, SubnetSpec, PortSpec, ServerSpec)
CORE = "/api/v1"
METRICS_GROUP = "metrics.k8s.io"


class KubernetesVim(VimDriver):
    """A VIM account on a Kubernetes cluster, reached through the official client."""

    vim_type: ClassVar[str] = "kubernetes"
    server_resource_type: ClassVar[str] = "Deployment"  # a StatefulSet when tagged stateful
    network_resource_type: ClassVar[str] = "NetworkAttachmentDefinition"

    def __init__(
        self,
        *,
        vim_id: str,
        config: dict[str, Any],
        vim_url: str | None = None,
        vim_user: str | None = None,
        vim_password: str | None = None,
        vim_tenant_name: str | None = None,
        data_dir: Path | None = None,
    ) -> None:
        from kubernetes import client

        self.vim_id = vim_id
        self.cfg = parse_kube_config(config)
        conf = client_configuration(self.cfg, vim_url, vim_password)
        self._api_client = client.ApiClient(configuration=conf)
        self.rest = Rest(self._api_client, (self.cfg.connect_timeout, self.cfg.request_timeout))
        self._groups: set[str] | None = None
        self._namespaces: set[str] = set()
        self.networks = NetworkStore(
            self.rest, self.namespace_for, self.ensure_namespace, self.multus
        )

    # ------------------------------------------------------------------ helpers

    def namespace_for(self, tags: dict[str, str] | None) -> str:
        """The namespace of an NS (of the ``nfvo.ns`` tag)."""
        prefix = self.cfg.namespace_prefix
        return prefix + dns_label((tags or {}).get(TAG_NS) or "default", 63 - len(prefix))

    def ensure_namespace(self, ns: str) -> None:
        """Create the namespace unless it exists."""
        if ns in self._namespaces:
            return
        body = {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": ns, "labels": {MANAGED_BY: "nfvo"}},
        }
        try:
            self.rest.create(f"{CORE}/namespaces", body, what=f"create of namespace {ns}")
        except VimConflict as exc:
            if getattr(exc, "k8s_reason", "") != "AlreadyExists":
                raise
        self._namespaces.add(ns)

    def _api_groups(self) -> set[str]:
        if self._groups is None:
            found = self.rest.get("/apis", what="API discovery")
            self._groups = {
                f"{g['name']}/{v['version']}"
                for g in found.get("groups") or []
                for v in g.get("versions") or []
            }
        return self._groups

    def multus(self) -> bool:
        """Whether the cluster serves Multus' NetworkAttachmentDefinitions."""
        return f"{NAD_GROUP}/v1" in self._api_groups()

    def _nodes(self) -> list[dict[str, Any]]:
        return self.rest.items(f"{CORE}/nodes")

    def _pods(self, ns: str | None = None, label_selector: str | None = None) -> list[dict]:
        path = f"{CORE}/namespaces/{ns}/pods" if ns else f"{CORE}/pods"
        return self.rest.items(path, label_selector)

    # ------------------------------------------------------------------ check / inventory

    def check(self) -> dict[str, Any]:
        """Version and capabilities of the cluster (an authenticated call)."""
        version = self.rest.get("/version", what="version check")
        self._groups = None
        return {
            "vim_type": "kubernetes",
            "version": version.get("gitVersion"),
            "platform": version.get("platform"),
            "multus": self.multus(),
            "metrics": any(g.startswith(METRICS_GROUP + "/") for g in self._api_groups()),
        }

    def list_zones(self) -> list[Zone]:
        """Zones from the nodes' ``topology.kubernetes.io/zone`` labels."""
        zones: dict[str, bool] = {}
        for node in self._nodes():
            zone = sv.node_zone(node)
            zones[zone] = zones.get(zone, False) or sv.node_ready(node)
        return [Zone(name, available) for name, available in sorted(zones.items())]

    def list_hosts(self) -> list[Host]:
        """Nodes: allocatable cpu/memory/ephemeral storage and the pods' requests on them."""
        return sv.to_hosts(self._nodes(), self._pods())

    def set_host_schedulable(self, host: str, schedulable: bool, reason: str = "") -> bool:
        """Cordon the node (``spec.unschedulable``: no new pod; those there keep running), or
        uncordon it."""
        body = {"spec": {"unschedulable": not schedulable}}
        self.rest.patch(f"{CORE}/nodes/{host}", body, what=f"cordon of node {host}")
        return True

    def list_flavors(self) -> list[Flavor]:
        """A fixed set of sizes (Kubernetes has no flavors)."""
        return list(sv.FLAVORS)

    def list_images(self) -> list[Image]:
        """The images named in the account config (registries are not browsed)."""
        return [Image(id=i, name=i, container_format="oci") for i in self.cfg.images]

    def find_image(self, ref: ImageRef) -> ImageLookup:
        """The container image reference itself (the kubelet pulls it when a pod starts; no
        registry is browsed), unless the account's ``images`` list does not allow it."""
        if self.cfg.images and ref.name not in self.cfg.images:
            return ImageLookup(
                None,
                f"container image {ref.name!r} is not among the images VIM {self.vim_id} "
                f"allows ({', '.join(self.cfg.images[:10])})",
            )
        return ImageLookup(Image(id=ref.name, name=ref.name, container_format="oci"))

    def ensure_image(self, spec: ImageSpec) -> Image:
        """The container image reference itself: the kubelet pulls it from its registry when a
        pod starts, so there is nothing to upload (and no API call is made)."""
        return Image(id=spec.name, name=spec.name, container_format="oci")

    # ------------------------------------------------------------------ networks / ports

    def create_network(self, spec: NetworkSpec) -> Network:
        """Create (or return the keyed) network."""
        return self.networks.create_network(_keyed(spec))

    def get_network(self, network_id: str) -> Network:
        """A network; VimNotFound if absent."""
        return self.networks.get_network(network_id)

    def list_networks(self, tags: dict[str, str] | None = None) -> list[Network]:
        """Networks carrying all ``tags``."""
        return self.networks.list_networks(tags)

    def delete_network(self, network_id: str) -> None:
        """Delete (never the namespace); VimConflict while ports use it."""
        self.networks.delete_network(network_id)

    def create_subnet(self, spec: SubnetSpec) -> Subnet:
        """Create (or return the keyed) subnet."""
        return self.networks.create_subnet(_keyed(spec))

    def delete_subnet(self, subnet_id: str) -> None:
        """Delete; absent is fine."""
        self.networks.delete_subnet(subnet_id)

    def create_port(self, spec: PortSpec) -> Port:
        """Create (or return the keyed) port with an address from the network's subnet."""
        return self.networks.create_port(_keyed(spec))

    def get_port(self, port_id: str) -> Port:
        """A port; VimNotFound if absent."""
        return self.networks.get_port(port_id)

    def list_ports(self, tags: dict[str, str] | None = None) -> list[Port]:
        """Ports carrying all ``tags``."""
        return self.networks.list_ports(tags)

    def delete_port(self, port_id: str) -> None:
        """Delete; absent is fine."""
        self.networks.delete_port(port_id)

    # ------------------------------------------------------------------ servers

    @staticmethod
    def _workload_path(ns: str, name: str | None = None, stateful: bool = False) -> str:
        res = "statefulsets" if stateful else "deployments"
        path = f"{APPS}/namespaces/{ns}/{res}"
        return f"{path}/{name}" if name else path

    def _workload(self, server_id: str) -> tuple[str, str, bool]:
        parts = split_id(server_id)
        if parts is None or not parts[1].startswith(("srv-", "sts-")):
            raise VimNotFound(f"server {server_id} not found", request_id="nfvo-local")
        return parts[0], parts[1], parts[1].startswith("sts-")

    def _get_workload(self, server_id: str) -> dict[str, Any]:
        ns, name, stateful = self._workload(server_id)
        return self.rest.get(
            self._workload_path(ns, name, stateful), what=f"read of server {server_id}"
        )

    def _view(self, obj: dict[str, Any]) -> Server:
        meta = obj["metadata"]
        pods = self._pods(meta["namespace"], f"{SERVER_LABEL}={meta['name']}")
        node = sv.pod_node(pods) or (meta.get("annotations") or {}).get(sv.HOST_ANNOTATION)
        zones: dict[str, str] = {}
        if node:
            found = self.rest.find(f"{CORE}/nodes/{node}")
            if found is not None:
                zones[node] = sv.node_zone(found)
        return sv.to_server(obj, pods, zones)

    def _port_wiring(self, spec: ServerSpec, server_id: str) -> list[dict[str, Any]]:
        """What the manifest needs of each port; refuses missing or foreign-bound ports."""
        out = []
        for port_id in spec.ports:
            port = self.networks.port_object(port_id)
            data = port.get("data") or {}
            if data.get("server") and data["server"] != server_id:
                raise VimConflict(
                    f"port {port_id} is bound to server {data['server']}", request_id="nfvo-local"
                )
            net = self.networks.network_object(data.get("network", ""))
            net_tags = json.loads(net["metadata"].get("annotations", {}).get("nfvo.io/tags", "{}"))
            info: dict[str, Any] = {
                "id": port_id,
                "ip": data.get("ip") or "",
                "rules": json.loads(data.get("securityRules") or "[]"),
                "ns_level": TAG_VNF not in net_tags,
            }
            if net.get("kind") == "NetworkAttachmentDefinition":
                attach: dict[str, Any] = {
                    "name": net["metadata"]["name"],
                    "namespace": net["metadata"]["namespace"],
                    "mac": data.get("mac"),
                }
                sub = _state(net)["subnets"].get((data.get("subnet") or "").rpartition(".")[2])
                if sub and info["ip"]:
                    attach["ips"] = [f"{info['ip']}/{sub['cidr'].split('/')[1]}"]
                info["multus"] = attach
            out.append(info)
        return out

    def create_server(self, spec: ServerSpec) -> Server:
        """Create (or return the keyed) server after checking a node has room for it."""
        spec = _keyed(spec)
        stateful = sv.is_stateful(spec.tags)
        ns = self.namespace_for(spec.tags)
        name = object_name("sts" if stateful else "srv", spec.key)
        server_id = f"{ns}.{name}"
        path = self._workload_path(ns, name, stateful)
        found = self.rest.find(path)
        if found is not None:
            return self._view(found)
        if not spec.image and self.cfg.default_image:
            spec = dataclasses.replace(spec, image=self.cfg.default_image)
        if not spec.image or (self.cfg.images and spec.image not in self.cfg.images):
            raise VimBadRequest(
                f"unknown image {spec.image!r}; known: {self.cfg.images}"
                + ("" if spec.image else " (or set config.default_image)"),
                request_id="nfvo-local",
            )
        size = sv.resolve_size(spec)
        wiring = self._port_wiring(spec, server_id)
        sv.pick_node(self._nodes(), self._pods(), size, zone=spec.zone, host=spec.host)
        self.ensure_namespace(ns)
        ud_name = f"{name}-ud" if spec.user_data else None
        if ud_name:
            self._create_ignoring_existing(
                f"{CORE}/namespaces/{ns}/configmaps", sv.userdata_manifest(ud_name, spec)
            )
        body = sv.server_manifest(name, spec, size, wiring, ud_name)
        try:
            made = self.rest.create(
                self._workload_path(ns, stateful=stateful), body, what="create of server"
            )
        except VimConflict as exc:
            if getattr(exc, "k8s_reason", "") != "AlreadyExists":
                self._drop_userdata(ns, ud_name)
                raise
            made = self.rest.get(path)
        except Exception:
            self._drop_userdata(ns, ud_name)
            raise
        for info in wiring:
            self.networks.bind(info["id"], server_id)
            if info["ns_level"]:
                self._create_ignoring_existing(
                    f"{CORE}/namespaces/{ns}/services",
                    sv.service_manifest(name, info, spec.tags),
                )
        return self._view(made)

    def _create_ignoring_existing(self, path: str, body: dict[str, Any]) -> None:
        try:
            self.rest.create(path, body, what=f"create of {body['kind']}")
        except VimConflict as exc:
            if getattr(exc, "k8s_reason", "") != "AlreadyExists":
                raise

    def _drop_userdata(self, ns: str, ud_name: str | None) -> None:
        if ud_name:
            try:
                self.rest.delete(f"{CORE}/namespaces/{ns}/configmaps/{ud_name}")
            except Exception:  # noqa: BLE001 - best effort; the original error matters
                pass

    def get_server(self, server_id: str) -> Server:
        """A server with its status; VimNotFound if absent."""
        return self._view(self._get_workload(server_id))

    def list_servers(self, tags: dict[str, str] | None = None) -> list[Server]:
        """Servers carrying all ``tags`` (Deployments and StatefulSets)."""
        ns = self.namespace_for(tags) if tags and TAG_NS in tags else None
        sel = selector("server", tags)
        objs: list[dict[str, Any]] = []
        for res in ("deployments", "statefulsets"):
            path = f"{APPS}/namespaces/{ns}/{res}" if ns else f"{APPS}/{res}"
            objs += [o for o in self.rest.items(path, sel) if has_tags(o, tags)]
        if not objs:
            return []
        pods_by: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for pod in self._pods(ns, selector("server")):
            meta = pod["metadata"]
            owner = (meta.get("labels") or {}).get(SERVER_LABEL, "")
            pods_by.setdefault((meta.get("namespace", ""), owner), []).append(pod)
        zones = {n["metadata"]["name"]: sv.node_zone(n) for n in self._nodes()}
        out = []
        for obj in objs:
            meta = obj["metadata"]
            out.append(sv.to_server(obj, pods_by.get((meta["namespace"], meta["name"]), []), zones))
        return sorted(out, key=lambda s: (s.created_at or "", s.id))

    def delete_server(self, server_id: str) -> None:
        """Delete the workload, its Services and user data; unbind its ports."""
        try:
            ns, name, stateful = self._workload(server_id)
        except VimNotFound:
            return
        obj = self.rest.find(self._workload_path(ns, name, stateful))
        if obj is None:
            return
        self.rest.delete(self._workload_path(ns, name, stateful), what="delete of server")
        for svc in self.rest.items(f"{CORE}/namespaces/{ns}/services", f"{SERVER_LABEL}={name}"):
            self.rest.delete(f"{CORE}/namespaces/{ns}/services/{svc['metadata']['name']}")
        self.rest.delete(f"{CORE}/namespaces/{ns}/configmaps/{name}-ud")
        ann = obj["metadata"].get("annotations") or {}
        for port_id in json.loads(ann.get(sv.PORTS_ANNOTATION, "[]")):
            self.networks.bind(port_id, "")

    def _scale(self, server_id: str, replicas: int, annotations: dict[str, str]) -> Server:
        ns, name, stateful = self._workload(server_id)
        path = self._workload_path(ns, name, stateful)
        self.rest.patch(path, {"metadata": {"annotations": annotations}}, what="annotate server")
        self.rest.patch(f"{path}/scale", {"spec": {"replicas": replicas}}, what="scale server")
        return self.get_server(server_id)

    def start_server(self, server_id: str) -> Server:
        """Scale to 1."""
        self._get_workload(server_id)
        return self._scale(server_id, 1, {sv.PHASE_ANNOTATION: "BUILD"})

    def stop_server(self, server_id: str) -> Server:
        """Scale to 0 (SHUTOFF), remembering the node it ran on."""
        server = self.get_server(server_id)
        ann = {sv.PHASE_ANNOTATION: "SHUTOFF"}
        if server.host:
            ann[sv.HOST_ANNOTATION] = server.host
        return self._scale(server_id, 0, ann)

    def reboot_server(self, server_id: str) -> Server:
        """A rollout restart: the pod is replaced."""
        ns, name, stateful = self._workload(server_id)
        self._get_workload(server_id)
        now = datetime.now(UTC).isoformat()
        patch = {
            "metadata": {"annotations": {sv.PHASE_ANNOTATION: "REBOOT"}},
            "spec": {"template": {"metadata": {"annotations": {sv.RESTART_ANNOTATION: now}}}},
        }
        self.rest.patch(self._workload_path(ns, name, stateful), patch, what="reboot of server")
        return self.get_server(server_id)

    def migrate_server(self, server_id: str, host: str | None = None) -> Server:
        """Move the pod by pinning the workload to another node of its zone."""
        obj = self._get_workload(server_id)
        current = self._view(obj)
        ann = obj["metadata"].get("annotations") or {}
        zone = ann.get(sv.ZONE_ANNOTATION)
        size = sv.Size(current.vcpus, current.ram_mib, current.disk_gib)
        if host is not None and host == current.host:
            raise VimBadRequest(f"server already runs on {host}", request_id="nfvo-local")
        target = sv.pick_node(
            self._nodes(), self._pods(), size, zone=zone, host=host, exclude=current.host
        )
        ns, name, stateful = self._workload(server_id)
        patch = {
            "metadata": {"annotations": {sv.PHASE_ANNOTATION: "MIGRATING"}},
            "spec": {"template": {"spec": {"nodeSelector": {sv.HOST_LABEL: target}}}},
        }
        self.rest.patch(self._workload_path(ns, name, stateful), patch, what="migrate server")
        return self.get_server(server_id)

    def server_metrics(self, server_id: str) -> ServerMetrics:
        """Usage from metrics.k8s.io when served (zeros otherwise; no network counters)."""
        server = self.get_server(server_id)
        now = datetime.now(UTC).isoformat()
        cpu = ram = 0.0
        ns, name, _ = self._workload(server_id)
        if any(g.startswith(METRICS_GROUP + "/") for g in self._api_groups()):
            for pod in self._pods(ns, f"{SERVER_LABEL}={name}"):
                found = self.rest.find(
                    f"/apis/{METRICS_GROUP}/v1beta1/namespaces/{ns}/pods/{pod['metadata']['name']}"
                )
                for c in (found or {}).get("containers") or []:
                    cpu += quantity(c.get("usage", {}).get("cpu", 0)) * 100.0
                    ram += quantity(c.get("usage", {}).get("memory", 0)) / sv.MIB
        return ServerMetrics(
            server_id=server.id,
            timestamp=now,
            cpu_percent=min(cpu, 100.0 * max(server.vcpus, 1)),
            ram_used_mib=min(ram, float(server.ram_mib)),
            net_rx_bps=0.0,
            net_tx_bps=0.0,
        )

    # ------------------------------------------------------------------ NS namespaces

    def release_ns_group(self, ns_instance_id: str) -> None:
        """The NS's namespace goes once its resources are gone."""
        self.delete_namespace_for(ns_instance_id)

    def delete_namespace_for(self, ns_instance_id: str) -> None:
        """Delete an NS's namespace once its servers, ports and networks are gone.

        VimConflict while any remain (terminate deletes them first); absent is fine.
        """
        tags = {TAG_NS: ns_instance_id}
        left = (
            len(self.list_servers(tags))
            + len(self.list_ports(tags))
            + len(self.list_networks(tags))
        )
        if left:
            raise VimConflict(
                f"namespace of NS {ns_instance_id} still holds {left} nfvo object(s)",
                request_id="nfvo-local",
            )
        self.destroy_ns(ns_instance_id)

    def destroy_ns(self, ns_instance_id: str) -> None:
        """Delete an NS's namespace and, by Kubernetes' cascade, everything in it."""
        ns = self.namespace_for({TAG_NS: ns_instance_id})
        self.rest.delete(f"{CORE}/namespaces/{ns}", what=f"delete of namespace {ns}")
        self._namespaces.discard(ns)

    def close(self) -> None:
        """Release the connection pool."""
        try:
            self._api_client.close()
        except Exception:  # noqa: BLE001 - closing is best effort
            pass


def _keyed(spec: _S) -> _S:
    """The spec with its idempotency key among its tags (listings can find it by key)."""
    return dataclasses.replace(spec, tags={**spec.tags, TAG_KEY: spec.key})
