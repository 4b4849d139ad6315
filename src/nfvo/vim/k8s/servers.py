"""Servers of the Kubernetes driver: manifests, status and placement.

A server is a one-replica Deployment (a StatefulSet when the ``nfvo.stateful`` tag is "true")
using the ``Recreate`` strategy, so a VNFC never runs twice. Kubernetes would leave an
unplaceable pod Pending forever; nfvo wants an immediate typed refusal, so the driver checks
the nodes' allocatable room (minus the requests of the pods already on them) before creating.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from nfvo.vim.base import Flavor, Host, Server, ServerSpec, VimBadRequest, VimCapacityExceeded
from nfvo.vim.k8s.api import (
    SERVER_LABEL,
    metadata,
    quantity,
    short_hash,
    tags_of,
)

ZONE_LABEL = "topology.kubernetes.io/zone"
HOST_LABEL = "kubernetes.io/hostname"
STATEFUL_TAG = "nfvo.stateful"
PORTS_ANNOTATION = "nfvo.io/ports"
ADDRESSES_ANNOTATION = "nfvo.io/addresses"
ZONE_ANNOTATION = "nfvo.io/zone"
HOST_ANNOTATION = "nfvo.io/last-host"
PHASE_ANNOTATION = "nfvo.io/phase"
FLAVOR_ANNOTATION = "nfvo.io/flavor"
RESTART_ANNOTATION = "kubectl.kubernetes.io/restartedAt"
MULTUS_ANNOTATION = "k8s.v1.cni.cncf.io/networks"
GIB = 2**30
MIB = 2**20

FLAVORS = [
    Flavor("k8s.tiny", "k8s.tiny", 1, 512, 1),
    Flavor("k8s.small", "k8s.small", 1, 2048, 10),
    Flavor("k8s.medium", "k8s.medium", 2, 4096, 20),
    Flavor("k8s.large", "k8s.large", 4, 8192, 40),
    Flavor("k8s.xlarge", "k8s.xlarge", 8, 16384, 80),
]


@dataclass
class Size:
    """What one server requests."""

    vcpus: int
    ram_mib: int
    disk_gib: int
    flavor: str | None = None


def resolve_size(spec: ServerSpec) -> Size:
    """The flavor's or the explicit size; VimBadRequest for an unknown flavor."""
    if spec.flavor is not None:
        for f in FLAVORS:
            if spec.flavor in (f.id, f.name):
                return Size(f.vcpus, f.ram_mib, f.disk_gib, f.id)
        raise VimBadRequest(
            f"unknown flavor {spec.flavor!r}; one of {[f.id for f in FLAVORS]}",
            request_id="nfvo-local",
        )
    if not spec.vcpus or not spec.ram_mib or spec.vcpus < 1 or spec.ram_mib < 1:
        raise VimBadRequest("a server needs a flavor or vcpus and ram_mib", request_id="nfvo-local")
    return Size(spec.vcpus, spec.ram_mib, spec.disk_gib or 0)


def is_stateful(tags: dict[str, str]) -> bool:
    """Whether the server is a StatefulSet."""
    return tags.get(STATEFUL_TAG, "").lower() == "true"


def resources(size: Size) -> dict[str, Any]:
    """Requests == limits (Guaranteed QoS, like a VM's dedicated flavor)."""
    amounts = {"cpu": str(size.vcpus), "memory": f"{size.ram_mib}Mi"}
    if size.disk_gib:
        amounts["ephemeral-storage"] = f"{size.disk_gib}Gi"
    return {"requests": dict(amounts), "limits": dict(amounts)}


def server_manifest(
    name: str,
    spec: ServerSpec,
    size: Size,
    ports: list[dict[str, Any]],
    userdata_cm: str | None,
) -> dict[str, Any]:
    """The Deployment/StatefulSet of a server."""
    stateful = is_stateful(spec.tags)
    meta = metadata(name, "server", name, spec.tags, spec.name)
    meta["annotations"][PORTS_ANNOTATION] = json.dumps([p["id"] for p in ports])
    meta["annotations"][ADDRESSES_ANNOTATION] = json.dumps([p["ip"] for p in ports if p["ip"]])
    if spec.zone:
        meta["annotations"][ZONE_ANNOTATION] = spec.zone
    if size.flavor:
        meta["annotations"][FLAVOR_ANNOTATION] = size.flavor
    selector_labels = {SERVER_LABEL: name}
    pod_meta: dict[str, Any] = {
        "labels": {**meta["labels"], **selector_labels},
        "annotations": {k: v for k, v in meta["annotations"].items()},
    }
    attachments = [p["multus"] for p in ports if p.get("multus")]
    if attachments:
        pod_meta["annotations"][MULTUS_ANNOTATION] = json.dumps(attachments)
    node_selector = {}
    if spec.zone:
        node_selector[ZONE_LABEL] = spec.zone
    if spec.host:
        node_selector[HOST_LABEL] = spec.host
    container: dict[str, Any] = {
        "name": "vdu",
        "image": spec.image,
        "resources": resources(size),
        "env": [{"name": "NFVO_SERVER_NAME", "value": spec.name}],
    }
    pod_spec: dict[str, Any] = {"containers": [container]}
    if node_selector:
        pod_spec["nodeSelector"] = node_selector
    if userdata_cm:
        container["volumeMounts"] = [
            {"name": "user-data", "mountPath": "/var/lib/nfvo", "readOnly": True}
        ]
        pod_spec["volumes"] = [{"name": "user-data", "configMap": {"name": userdata_cm}}]
    body: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet" if stateful else "Deployment",
        "metadata": meta,
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": selector_labels},
            "template": {"metadata": pod_meta, "spec": pod_spec},
        },
    }
    if stateful:
        body["spec"]["serviceName"] = name
    else:
        body["spec"]["strategy"] = {"type": "Recreate"}
    return body


def userdata_manifest(name: str, spec: ServerSpec) -> dict[str, Any]:
    """The ConfigMap carrying a server's user data."""
    meta = metadata(name, "userdata", name, spec.tags, f"{spec.name} user data")
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": meta,
        "data": {"user-data": spec.user_data or ""},
    }


def service_manifest(server_name: str, port: dict[str, Any], tags: dict[str, str]) -> dict:
    """A Service exposing a server port on an NS-level network (headless when no rule)."""
    name = "svc-" + short_hash(server_name + port["id"], 20)
    meta = metadata(name, "service", name, tags, f"{server_name} {port['id']}")
    meta["labels"][SERVER_LABEL] = server_name
    svc_ports = []
    for rule in port.get("rules", []):
        proto = (rule.get("protocol") or "").upper()
        low = rule.get("port_range_min")
        if rule.get("direction", "ingress") != "ingress" or proto not in ("TCP", "UDP") or not low:
            continue
        svc_ports.append({"name": f"{proto.lower()}-{low}", "protocol": proto, "port": low})
    spec: dict[str, Any] = {"selector": {SERVER_LABEL: server_name}}
    if svc_ports:
        spec["ports"] = svc_ports[:50]
    else:
        spec["clusterIP"] = "None"
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": spec}


# ---------------------------------------------------------------------- status


def pod_node(pods: list[dict[str, Any]]) -> str | None:
    """The node of the newest scheduled, not-terminating pod."""
    live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
    live.sort(key=lambda p: p["metadata"].get("creationTimestamp") or "", reverse=True)
    for pod in live:
        node = (pod.get("spec") or {}).get("nodeName")
        if node:
            return node
    return None


def _pod_fault(pods: list[dict[str, Any]]) -> str | None:
    for pod in pods:
        status = pod.get("status") or {}
        for cond in status.get("conditions") or []:
            if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
                if cond.get("reason") == "Unschedulable":
                    return f"Unschedulable: {cond.get('message', '')}"
        for cs in status.get("containerStatuses") or []:
            waiting = (cs.get("state") or {}).get("waiting") or {}
            if waiting.get("reason") in ("ErrImagePull", "ImagePullBackOff", "CrashLoopBackOff"):
                return f"{waiting['reason']}: {waiting.get('message', '')}"
        if status.get("phase") == "Failed":
            return status.get("message") or "pod failed"
    return None


def server_status(obj: dict[str, Any], pods: list[dict[str, Any]]) -> tuple[str, str | None]:
    """(status, fault) of a server from its workload object and pods."""
    spec, st = obj.get("spec") or {}, obj.get("status") or {}
    meta = obj["metadata"]
    if meta.get("deletionTimestamp"):
        return "DELETED", None
    if int(spec.get("replicas", 1)) == 0:
        return "SHUTOFF", None
    fault = _pod_fault(pods)
    if fault:
        return "ERROR", fault
    rolled = int(st.get("observedGeneration", 0)) >= int(meta.get("generation", 1))
    updated = int(st.get("updatedReplicas", st.get("currentReplicas", 0)) or 0)
    ready = int(st.get("readyReplicas", 0) or 0)
    live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
    if rolled and updated >= 1 and ready >= 1 and len(live) == 1:
        return "ACTIVE", None
    phase = (meta.get("annotations") or {}).get(PHASE_ANNOTATION)
    return (phase if phase in ("REBOOT", "MIGRATING") else "BUILD"), None


def to_server(obj: dict[str, Any], pods: list[dict[str, Any]], zones: dict[str, str]) -> Server:
    """The nfvo view of a workload."""
    meta = obj["metadata"]
    ann = meta.get("annotations") or {}
    status, fault = server_status(obj, pods)
    container = obj["spec"]["template"]["spec"]["containers"][0]
    req = (container.get("resources") or {}).get("requests") or {}
    host = pod_node(pods) or ann.get(HOST_ANNOTATION)
    return Server(
        id=f"{meta['namespace']}.{meta['name']}",
        name=ann.get("nfvo.io/name", meta["name"]),
        status=status,
        host=host,
        zone=zones.get(host) if host else ann.get(ZONE_ANNOTATION),
        vcpus=math.ceil(quantity(req.get("cpu", 0))),
        ram_mib=int(quantity(req.get("memory", 0)) // MIB),
        disk_gib=int(quantity(req.get("ephemeral-storage", 0)) // GIB),
        image=container.get("image"),
        flavor=ann.get(FLAVOR_ANNOTATION),
        ports=json.loads(ann.get(PORTS_ANNOTATION, "[]")),
        addresses=json.loads(ann.get(ADDRESSES_ANNOTATION, "[]")),
        tags=tags_of(obj),
        fault=fault,
        created_at=meta.get("creationTimestamp"),
    )


# ---------------------------------------------------------------------- placement


def pod_requests(pod: dict[str, Any]) -> tuple[float, float, float]:
    """(cpu cores, memory bytes, ephemeral bytes) a pod requests."""
    cpu = mem = disk = 0.0
    for c in (pod.get("spec") or {}).get("containers") or []:
        req = (c.get("resources") or {}).get("requests") or {}
        cpu += quantity(req.get("cpu", 0))
        mem += quantity(req.get("memory", 0))
        disk += quantity(req.get("ephemeral-storage", 0))
    return cpu, mem, disk


def is_server_pod(pod: dict[str, Any]) -> bool:
    """Whether a pod belongs to an nfvo server."""
    return SERVER_LABEL in ((pod.get("metadata") or {}).get("labels") or {})


def _active_pod(pod: dict[str, Any]) -> bool:
    phase = (pod.get("status") or {}).get("phase")
    return phase not in ("Succeeded", "Failed") and not pod["metadata"].get("deletionTimestamp")


def node_ready(node: dict[str, Any]) -> bool:
    """Ready and schedulable."""
    if (node.get("spec") or {}).get("unschedulable"):
        return False
    conds = (node.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conds)


def to_hosts(nodes: list[dict[str, Any]], pods: list[dict[str, Any]]) -> list[Host]:
    """Hosts from Nodes; usage = the requests of the pods bound to each node."""
    usage: dict[str, list[float]] = {}
    for pod in pods:
        node = (pod.get("spec") or {}).get("nodeName")
        if not node or not _active_pod(pod):
            continue
        cpu, mem, disk = pod_requests(pod)
        u = usage.setdefault(node, [0.0, 0.0, 0.0, 0])
        u[0] += cpu
        u[1] += mem
        u[2] += disk
        u[3] += 1 if is_server_pod(pod) else 0
    hosts = []
    for node in nodes:
        name = node["metadata"]["name"]
        alloc = (node.get("status") or {}).get("allocatable") or {}
        u = usage.get(name, [0.0, 0.0, 0.0, 0])
        hosts.append(
            Host(
                name=name,
                zone=node_zone(node),
                vcpus=int(quantity(alloc.get("cpu", 0))),
                ram_mib=int(quantity(alloc.get("memory", 0)) // MIB),
                disk_gib=int(quantity(alloc.get("ephemeral-storage", 0)) // GIB),
                vcpus_used=math.ceil(round(u[0], 3)),
                ram_mib_used=math.ceil(u[1] / MIB),
                disk_gib_used=math.ceil(u[2] / GIB),
                servers=int(u[3]),
                state="up" if node_ready(node) else "down",
            )
        )
    return hosts


def node_zone(node: dict[str, Any]) -> str:
    """A node's zone label ("default" when it has none)."""
    return ((node.get("metadata") or {}).get("labels") or {}).get(ZONE_LABEL) or "default"


def pick_node(
    nodes: list[dict[str, Any]],
    pods: list[dict[str, Any]],
    size: Size,
    *,
    zone: str | None,
    host: str | None,
    exclude: str | None = None,
) -> str:
    """The node with most room that fits ``size``; typed refusal when none does."""
    by_name = {n["metadata"]["name"]: n for n in nodes}
    if host is not None:
        if host not in by_name:
            raise VimBadRequest(f"no such host {host!r}", request_id="nfvo-local")
        if zone is not None and node_zone(by_name[host]) != zone:
            raise VimBadRequest(f"host {host} is not in zone {zone}", request_id="nfvo-local")
    if zone is not None and not any(node_zone(n) == zone for n in nodes):
        raise VimBadRequest(f"no such zone {zone!r}", request_id="nfvo-local")
    best: tuple[float, str] | None = None
    for h in to_hosts(nodes, pods):
        if h.state != "up" or h.name == exclude:
            continue
        if (host is not None and h.name != host) or (zone is not None and h.zone != zone):
            continue
        alloc = by_name[h.name]["status"].get("allocatable") or {}
        free_cpu = quantity(alloc.get("cpu", 0)) - _used(pods, h.name, 0)
        free_mem = quantity(alloc.get("memory", 0)) - _used(pods, h.name, 1)
        free_disk = quantity(alloc.get("ephemeral-storage", 0)) - _used(pods, h.name, 2)
        if free_cpu + 1e-9 < size.vcpus or free_mem < size.ram_mib * MIB:
            continue
        if size.disk_gib and free_disk < size.disk_gib * GIB:
            continue
        score = (free_cpu - size.vcpus, h.name)
        if best is None or score[0] > best[0]:
            best = score
    if best is None:
        where = f"host {host}" if host else (f"zone {zone}" if zone else "any node")
        raise VimCapacityExceeded(
            f"no room on {where} for {size.vcpus} vCPU / {size.ram_mib} MiB"
            + (f" / {size.disk_gib} GiB" if size.disk_gib else ""),
            request_id="nfvo-local",
        )
    return best[1]


def _used(pods: list[dict[str, Any]], node: str, index: int) -> float:
    return sum(
        pod_requests(p)[index]
        for p in pods
        if (p.get("spec") or {}).get("nodeName") == node and _active_pod(p)
    )
