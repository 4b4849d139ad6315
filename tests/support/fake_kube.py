"""A loopback fake of the Kubernetes API server for the Kubernetes driver's tests.

A real HTTP server (``ThreadingHTTPServer`` on 127.0.0.1) serving the subset of the API the
driver uses, with realistic JSON objects and ``Status`` errors: discovery, namespaces, nodes,
configmaps, services, deployments and statefulsets (with the ``scale`` subresource), pods,
Multus NetworkAttachmentDefinitions (when enabled), pod and node metrics (``usage`` overrides
the default), and watches of pods and nodes (``?watch=true``: streamed events from a journal
kept by diffing the store, resumable from a resourceVersion, ``410 Gone`` once ``compact``
dropped it). It plays the controllers
too: workloads get one pod per replica, scheduled onto a node that matches the nodeSelector and
has room for the requests (Pending/Unschedulable otherwise); pods turn ready after
``ready_delay`` seconds; template changes recreate the pods. Every request is recorded, and
faults (status codes, quota refusals, slowness) can be injected per method and path.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    409: "Conflict",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}
# resource -> (kind, group/version, namespaced)
RESOURCES: dict[str, tuple[str, str, bool]] = {
    "namespaces": ("Namespace", "v1", False),
    "nodes": ("Node", "v1", False),
    "configmaps": ("ConfigMap", "v1", True),
    "services": ("Service", "v1", True),
    "pods": ("Pod", "v1", True),
    "deployments": ("Deployment", "apps/v1", True),
    "statefulsets": ("StatefulSet", "apps/v1", True),
    "network-attachment-definitions": (
        "NetworkAttachmentDefinition",
        "k8s.cni.cncf.io/v1",
        True,
    ),
}
WORKLOADS = ("deployments", "statefulsets")
WATCHED = ("pods", "nodes")
MAX_WATCH_S = 300
_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
_SUFFIX = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 1e3, "M": 1e6, "G": 1e9}


def parse_quantity(value: Any) -> float:
    """A resource quantity as a number (cores or bytes)."""
    text = str(value)
    if text.endswith("m"):
        return float(text[:-1]) / 1000
    for suffix, factor in _SUFFIX.items():
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * factor
    return float(text)


def now_iso() -> str:
    """A creationTimestamp."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ApiError(Exception):
    """A failure answered as a Kubernetes ``Status``."""

    def __init__(self, code: int, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.reason = code, message, reason or REASONS.get(code, "Unknown")


@dataclass
class Fault:
    """An injected failure: the next ``count`` matching requests (None: all) fail or stall."""

    method: str
    pattern: str
    status: int = 500
    count: int | None = 1
    message: str = "injected fault"
    reason: str | None = None
    delay: float = 0.0


@dataclass
class Recorded:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    audit_id: str = ""


def default_nodes() -> list[dict[str, Any]]:
    """Two zones of two nodes (4 CPU, 8 GiB, 80 GiB each)."""
    return [
        {"name": f"{z}{i}", "zone": f"zone-{z}", "cpu": "4", "memory": "8Gi", "storage": "80Gi"}
        for z in ("a", "b")
        for i in (1, 2)
    ]


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch (strategic merge patches are treated the same way)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def matches(labels: dict[str, str], selector: str | None) -> bool:
    """Equality/existence label selector matching (``a=b,c!=d,e,!f``)."""
    for term in filter(None, (selector or "").split(",")):
        if "!=" in term:
            k, v = term.split("!=", 1)
            if labels.get(k) == v:
                return False
        elif "=" in term:
            k, v = term.split("=", 1)
            if labels.get(k.rstrip("=")) != v:
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    return True


class FakeKube:
    """The fake API server and its state; use as a context manager or start()/stop()."""

    def __init__(
        self,
        *,
        token: str = "test-token",
        nodes: list[dict[str, Any]] | None = None,
        ready_delay: float = 0.05,
        multus: bool = False,
        metrics: bool = True,
        workload_quota: int | None = None,
        bad_images: tuple[str, ...] = (),
    ) -> None:
        self.token = token
        self.ready_delay = ready_delay
        self.multus = multus
        self.metrics = metrics
        self.workload_quota = workload_quota
        self.bad_images = set(bad_images)
        self.requests: list[Recorded] = []
        self.faults: list[Fault] = []
        self.lock = threading.RLock()
        self.store: dict[str, dict[tuple[str, str], dict[str, Any]]] = {r: {} for r in RESOURCES}
        self._rv = itertools.count(1000)
        self._server: ThreadingHTTPServer | None = None
        self.usage: dict[str, tuple[float, float]] = {}  # "ns/pod" or node -> (cores, bytes)
        self.journal: dict[str, list[tuple[int, str, dict[str, Any]]]] = {r: [] for r in WATCHED}
        self._seen: dict[str, dict[tuple[str, str], str]] = {r: {} for r in WATCHED}
        self._compacted: dict[str, int] = {r: 0 for r in WATCHED}
        self._stopping = threading.Event()
        for spec in nodes if nodes is not None else default_nodes():
            self.add_node(**spec)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeKube:
        """Serve on a free loopback port."""
        fake = self

        class Handler(_Handler):
            kube = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        """Stop serving (open watches end within a poll)."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeKube:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The API server URL."""
        assert self._server is not None, "not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # ------------------------------------------------------------------ knobs / inspection

    def add_node(
        self,
        name: str,
        zone: str | None = None,
        cpu: str = "4",
        memory: str = "8Gi",
        storage: str = "80Gi",
        ready: bool = True,
    ) -> None:
        """Add a node (labels: hostname and zone)."""
        labels = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux"}
        if zone:
            labels["topology.kubernetes.io/zone"] = zone
        amounts = {"cpu": cpu, "memory": memory, "ephemeral-storage": storage, "pods": "110"}
        node = {
            "metadata": {"name": name, "labels": labels},
            "spec": {},
            "status": {
                "capacity": dict(amounts),
                "allocatable": dict(amounts),
                "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            },
        }
        self._stamp("nodes", node)
        self.store["nodes"][("", name)] = node

    def fail(
        self,
        method: str,
        pattern: str,
        status: int = 500,
        *,
        count: int | None = 1,
        message: str | None = None,
        reason: str | None = None,
        delay: float = 0.0,
    ) -> None:
        """Make the next ``count`` requests whose path matches ``pattern`` fail (or stall)."""
        text = message or f"injected {status} for {method} {pattern}"
        with self.lock:
            self.faults.append(Fault(method, pattern, status, count, text, reason, delay))

    def fail_quota(self, method: str, pattern: str, *, count: int | None = 1) -> None:
        """A 403 quota refusal, worded as the ResourceQuota admission plugin words it."""
        self.fail(
            method,
            pattern,
            403,
            count=count,
            message="exceeded quota: nfvo-quota, requested: pods=1, used: pods=10, "
            "limited: pods=10",
        )

    def set_node_ready(self, name: str, status: str) -> None:
        """Set a node's Ready condition ("True", "False" or "Unknown")."""
        with self.lock:
            node = self.store["nodes"][("", name)]
            node["status"]["conditions"] = [{"type": "Ready", "status": status}]
            self._stamp("nodes", node)

    def set_pod_status(self, namespace: str, name: str, status: dict[str, Any]) -> None:
        """Replace a pod's status (the controllers leave a Running/Failed pod as it is)."""
        with self.lock:
            pod = self.store["pods"][(namespace, name)]
            pod["status"] = copy.deepcopy(status)
            self._stamp("pods", pod)

    def compact(self, resource: str) -> None:
        """Forget the watch history of ``resource``: older resourceVersions get 410 Gone."""
        with self.lock:
            self._reconcile()
            self._journal(resource)
            self.journal[resource].clear()
            self._compacted[resource] = next(self._rv)

    def sent(self, method: str, pattern: str) -> list[Recorded]:
        """Recorded requests with ``method`` whose path matches ``pattern``."""
        return [r for r in self.requests if r.method == method and re.search(pattern, r.path)]

    def objects(self, resource: str, namespace: str | None = None) -> list[dict[str, Any]]:
        """Stored objects of a resource (copies)."""
        with self.lock:
            self._reconcile()
            return [
                copy.deepcopy(o)
                for (ns, _), o in self.store[resource].items()
                if namespace is None or ns == namespace
            ]

    # ------------------------------------------------------------------ request handling

    def handle(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        body: Any,
        headers: dict[str, str],
        audit_id: str = "",
    ) -> tuple[int, Any]:
        """Serve one request: (status code, JSON answer)."""
        self.requests.append(Recorded(method, path, query, copy.deepcopy(body), headers, audit_id))
        if headers.get("authorization") != f"Bearer {self.token}":
            raise ApiError(401, "Unauthorized")
        fault = self._take_fault(method, path)
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            else:
                raise ApiError(fault.status, fault.message, fault.reason)
        with self.lock:
            self._reconcile()
            answer = self._route(method, path, query, body)
            self._reconcile()
            return answer

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.method == method and re.search(fault.pattern, path):
                    if fault.count is not None:
                        fault.count -= 1
                        if fault.count <= 0:
                            self.faults.remove(fault)
                    return fault
        return None

    def _route(self, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        parts = [p for p in path.split("/") if p]
        if path == "/version":
            return 200, {"major": "1", "minor": "31", "gitVersion": "v1.31.0-fake"} | {
                "platform": "linux/amd64"
            }
        if parts == ["api"]:
            return 200, {"kind": "APIVersions", "versions": ["v1"]}
        if parts == ["apis"]:
            return 200, self._discovery()
        if len(parts) >= 2 and parts[0] == "api":
            gv, rest = parts[1], parts[2:]
        elif len(parts) >= 3 and parts[0] == "apis":
            gv, rest = f"{parts[1]}/{parts[2]}", parts[3:]
        else:
            raise ApiError(404, f"the server could not find the requested resource ({path})")
        if gv == "metrics.k8s.io/v1beta1" and self.metrics:
            return 200, self._metrics(rest, query.get("labelSelector"))
        ns = ""
        if len(rest) >= 3 and rest[0] == "namespaces":
            ns, rest = rest[1], rest[2:]
        res, name, sub = (rest + [None, None, None])[:3]
        if res not in RESOURCES or RESOURCES[res][1] != gv:
            raise ApiError(404, f"the server could not find the requested resource ({path})")
        if res == "network-attachment-definitions" and not self.multus:
            raise ApiError(404, "the server could not find the requested resource")
        return self._crud(method, res, ns, name, sub, query, body)

    def _discovery(self) -> dict[str, Any]:
        groups = [("apps", "v1")]
        if self.multus:
            groups.append(("k8s.cni.cncf.io", "v1"))
        if self.metrics:
            groups.append(("metrics.k8s.io", "v1beta1"))
        return {
            "kind": "APIGroupList",
            "apiVersion": "v1",
            "groups": [
                {
                    "name": g,
                    "versions": [{"groupVersion": f"{g}/{v}", "version": v}],
                    "preferredVersion": {"groupVersion": f"{g}/{v}", "version": v},
                }
                for g, v in groups
            ],
        }

    # ------------------------------------------------------------------ CRUD

    def _crud(
        self,
        method: str,
        res: str,
        ns: str,
        name: str | None,
        sub: str | None,
        query: dict[str, str],
        body: Any,
    ) -> tuple[int, Any]:
        kind, gv, namespaced = RESOURCES[res]
        if namespaced and ns and res != "namespaces" and ("", ns) not in self.store["namespaces"]:
            if method in ("POST", "PUT", "PATCH"):
                raise ApiError(404, f'namespaces "{ns}" not found')
        if name is None:
            if method == "GET":
                return 200, self._list(res, ns, query.get("labelSelector"))
            if method == "POST":
                return 201, self._create(res, ns, body)
            raise ApiError(405, f"method {method} not allowed")
        obj = self.store[res].get((ns, name))
        if sub == "scale" and res in WORKLOADS:
            return self._scale(method, res, ns, name, obj, body)
        if method == "GET":
            if obj is None:
                raise ApiError(404, f'{res} "{name}" not found')
            return 200, self._out(res, obj)
        if obj is None:
            raise ApiError(404, f'{res} "{name}" not found')
        if method == "PUT":
            return 200, self._replace(res, obj, body)
        if method == "PATCH":
            return 200, self._update(res, obj, merge_patch(copy.deepcopy(obj), body))
        if method == "DELETE":
            self._delete(res, ns, name)
            return 200, {"kind": "Status", "apiVersion": "v1", "status": "Success"}
        raise ApiError(405, f"method {method} not allowed")

    def _out(self, res: str, obj: dict[str, Any]) -> dict[str, Any]:
        kind, gv, _ = RESOURCES[res]
        return {"kind": kind, "apiVersion": gv, **copy.deepcopy(obj)}

    def _list(self, res: str, ns: str, selector: str | None) -> dict[str, Any]:
        kind, gv, _ = RESOURCES[res]
        if res in WATCHED:
            self._journal(res)
        items = [
            copy.deepcopy(o)
            for (ons, _), o in sorted(self.store[res].items())
            if (not ns or ons == ns) and matches(o["metadata"].get("labels") or {}, selector)
        ]
        if res == "network-attachment-definitions":  # custom resources keep kind per item
            items = [{"kind": kind, "apiVersion": gv, **i} for i in items]
        return {
            "kind": f"{kind}List",
            "apiVersion": gv,
            "metadata": {"resourceVersion": str(next(self._rv))},
            "items": items,
        }

    def _stamp(self, res: str, obj: dict[str, Any]) -> None:
        meta = obj.setdefault("metadata", {})
        meta["resourceVersion"] = str(next(self._rv))
        meta.setdefault("uid", str(uuid.uuid4()))
        meta.setdefault("creationTimestamp", now_iso())

    def _create(self, res: str, ns: str, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ApiError(400, "the body of the request was in an unknown format")
        obj = copy.deepcopy(body)
        obj.pop("kind", None)
        obj.pop("apiVersion", None)
        meta = obj.setdefault("metadata", {})
        name = meta.get("name") or ""
        if not _NAME_RE.match(name) or (res == "namespaces" and len(name) > 63):
            raise ApiError(422, f'{RESOURCES[res][0]} "{name}" is invalid: metadata.name')
        if RESOURCES[res][2]:
            meta["namespace"] = ns
        key = (ns if RESOURCES[res][2] else "", name)
        if key in self.store[res]:
            raise ApiError(409, f'{res} "{name}" already exists', "AlreadyExists")
        if res in WORKLOADS:
            self._admit_workload(res, ns, name, obj)
            meta["generation"] = 1
            obj["status"] = {"observedGeneration": 0}
        if res == "namespaces":
            obj["status"] = {"phase": "Active"}
        for k in ("resourceVersion", "uid", "creationTimestamp"):
            meta.pop(k, None)
        self._stamp(res, obj)
        self.store[res][key] = obj
        return self._out(res, obj)

    def _admit_workload(self, res: str, ns: str, name: str, obj: dict[str, Any]) -> None:
        containers = obj.get("spec", {}).get("template", {}).get("spec", {}).get("containers")
        if not containers or not all(c.get("image") for c in containers):
            raise ApiError(422, f'{res} "{name}" is invalid: spec.template.spec.containers')
        if self.workload_quota is not None:
            used = sum(1 for (o, _) in self.store[res] if o == ns)
            if used >= self.workload_quota:
                raise ApiError(
                    403,
                    f'{res}.apps "{name}" is forbidden: exceeded quota: nfvo-quota, requested: '
                    f"count/{res}.apps=1, used: count/{res}.apps={used}, limited: "
                    f"count/{res}.apps={self.workload_quota}",
                )

    def _replace(self, res: str, obj: dict[str, Any], body: Any) -> dict[str, Any]:
        sent = (body or {}).get("metadata", {}).get("resourceVersion")
        if sent and sent != obj["metadata"]["resourceVersion"]:
            raise ApiError(
                409,
                f'Operation cannot be fulfilled on {res} "{obj["metadata"]["name"]}": the object '
                "has been modified; please apply your changes to the latest version and try again",
            )
        new = copy.deepcopy(body)
        new.pop("kind", None)
        new.pop("apiVersion", None)
        for k in ("uid", "creationTimestamp", "namespace", "name", "generation"):
            if k in obj["metadata"]:
                new.setdefault("metadata", {})[k] = obj["metadata"][k]
        return self._update(res, obj, new)

    def _update(self, res: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        meta = new["metadata"]
        if res in WORKLOADS and new.get("spec") != old.get("spec"):
            meta["generation"] = int(old["metadata"].get("generation", 1)) + 1
        if res in WORKLOADS:
            new["status"] = old.get("status", {})
        self._stamp(res, new)
        key = (meta.get("namespace", ""), meta["name"])
        self.store[res][key] = new
        return self._out(res, new)

    def _delete(self, res: str, ns: str, name: str) -> None:
        obj = self.store[res].pop((ns, name))
        if res == "namespaces":
            for r, objs in self.store.items():
                if RESOURCES[r][2]:
                    for key in [k for k in objs if k[0] == name]:
                        del objs[key]
        if res in WORKLOADS:
            self._drop_pods(obj["metadata"]["uid"], lambda p: True)

    def _scale(
        self, method: str, res: str, ns: str, name: str, obj: dict | None, body: Any
    ) -> tuple[int, Any]:
        if obj is None:
            raise ApiError(404, f'{res}.apps "{name}" not found')
        if method in ("PATCH", "PUT"):
            replicas = int(((body or {}).get("spec") or {}).get("replicas", 1))
            if replicas < 0:
                raise ApiError(422, "spec.replicas: must be greater than or equal to 0")
            self._update(
                res, obj, merge_patch(copy.deepcopy(obj), {"spec": {"replicas": replicas}})
            )
            obj = self.store[res][(ns, name)]
        elif method != "GET":
            raise ApiError(405, f"method {method} not allowed")
        return 200, {
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"replicas": obj["spec"].get("replicas", 1)},
            "status": {"replicas": obj.get("status", {}).get("replicas", 0)},
        }

    # ------------------------------------------------------------------ watch

    def _journal(self, res: str) -> None:
        """Append an event per object added, changed or deleted since the last look."""
        now = {key: obj for key, obj in self.store[res].items()}
        seen = self._seen[res]
        for key, obj in sorted(now.items()):
            text = json.dumps(obj, sort_keys=True, default=str)
            if seen.get(key) != text:
                self._event(res, "MODIFIED" if key in seen else "ADDED", obj)
                seen[key] = text
        for key in [k for k in seen if k not in now]:
            old = json.loads(seen.pop(key))
            self._event(res, "DELETED", old)

    def _event(self, res: str, kind: str, obj: dict[str, Any]) -> None:
        rv = next(self._rv)
        out = {"kind": RESOURCES[res][0], "apiVersion": RESOURCES[res][1], **copy.deepcopy(obj)}
        out["metadata"]["resourceVersion"] = str(rv)
        self.journal[res].append((rv, kind, out))

    def watch(self, path: str, query: dict[str, str], headers: dict[str, str]) -> Any:
        """The events of a watch request (a generator), or ``ApiError`` before any."""
        self.requests.append(Recorded("WATCH", path, dict(query), None, headers))
        if headers.get("authorization") != f"Bearer {self.token}":
            raise ApiError(401, "Unauthorized")
        fault = self._take_fault("WATCH", path)
        if fault is not None:
            raise ApiError(fault.status, fault.message, fault.reason)
        parts = [p for p in path.split("/") if p]
        ns = ""
        if len(parts) >= 5 and parts[2] == "namespaces":
            ns, parts = parts[3], parts[:2] + parts[4:]
        if parts[:2] != ["api", "v1"] or len(parts) != 3 or parts[2] not in WATCHED:
            raise ApiError(404, f"the server could not find the requested resource ({path})")
        timeout = min(float(query.get("timeoutSeconds") or MAX_WATCH_S), MAX_WATCH_S)
        return self._stream(parts[2], ns, query, time.monotonic() + timeout)

    def _stream(self, res: str, ns: str, query: dict[str, str], deadline: float) -> Any:
        cursor = int(query.get("resourceVersion") or 0)
        selector = query.get("labelSelector")
        if cursor and cursor < self._compacted[res]:
            yield {"type": "ERROR", "object": {"kind": "Status", "apiVersion": "v1",
                   "status": "Failure", "reason": "Expired", "code": 410,
                   "message": f"too old resource version: {cursor}"}}  # fmt: skip
            return
        while time.monotonic() < deadline and not self._stopping.is_set():
            with self.lock:
                self._reconcile()
                self._journal(res)
                batch = [
                    (rv, kind, obj)
                    for rv, kind, obj in self.journal[res]
                    if rv > cursor
                    and (not ns or obj["metadata"].get("namespace") == ns)
                    and matches(obj["metadata"].get("labels") or {}, selector)
                ]
                if self.journal[res]:
                    cursor = max(cursor, self.journal[res][-1][0])
            for _, kind, obj in batch:
                yield {"type": kind, "object": obj}
            time.sleep(0.02)

    # ------------------------------------------------------------------ metrics

    def _metrics(self, rest: list[str], selector: str | None) -> dict[str, Any]:
        if rest == ["nodes"]:
            return {"kind": "NodeMetricsList", "apiVersion": "metrics.k8s.io/v1beta1",
                    "metadata": {}, "items": [self._node_metrics(n) for _, n in
                                              sorted(self.store["nodes"])]}  # fmt: skip
        if rest == ["pods"] or (len(rest) == 3 and rest[0] == "namespaces" and rest[2] == "pods"):
            ns = rest[1] if len(rest) == 3 else None
            items = [
                self._pod_usage(pod)
                for (pns, _), pod in sorted(self.store["pods"].items())
                if (ns is None or pns == ns)
                and pod["status"].get("phase") == "Running"
                and matches(pod["metadata"].get("labels") or {}, selector)
            ]
            return {"kind": "PodMetricsList", "apiVersion": "metrics.k8s.io/v1beta1",
                    "metadata": {}, "items": items}  # fmt: skip
        return self._pod_metrics(rest)

    def _pod_usage(self, pod: dict[str, Any]) -> dict[str, Any]:
        meta = pod["metadata"]
        cpu, mem, _ = _requests(pod)
        cpu, mem = self.usage.get(f"{meta['namespace']}/{meta['name']}", (cpu / 4, mem / 4))
        containers = pod["spec"]["containers"]
        share = len(containers) or 1
        return {
            "metadata": {"name": meta["name"], "namespace": meta["namespace"],
                         "labels": dict(meta.get("labels") or {})},
            "timestamp": now_iso(),
            "window": "10s",
            "containers": [
                {"name": c["name"], "usage": {"cpu": f"{int(cpu * 1e9 / share)}n",
                                              "memory": f"{int(mem / share / 1024)}Ki"}}
                for c in containers
            ],
        }  # fmt: skip

    def _node_metrics(self, name: str) -> dict[str, Any]:
        cpu = mem = 0.0
        for pod in self.store["pods"].values():
            if pod["spec"].get("nodeName") == name and pod["status"].get("phase") == "Running":
                c, m, _ = _requests(pod)
                cpu, mem = cpu + c / 4, mem + m / 4
        cpu, mem = self.usage.get(name, (cpu, mem))
        usage = {"cpu": f"{int(cpu * 1e9)}n", "memory": f"{int(mem / 1024)}Ki"}
        return {"metadata": {"name": name}, "timestamp": now_iso(), "window": "10s", "usage": usage}

    def _pod_metrics(self, rest: list[str]) -> dict[str, Any]:
        if len(rest) != 4 or rest[0] != "namespaces" or rest[2] != "pods":
            raise ApiError(404, "the server could not find the requested resource")
        pod = self.store["pods"].get((rest[1], rest[3]))
        if pod is None or pod["status"].get("phase") != "Running":
            raise ApiError(404, f'podmetrics.metrics.k8s.io "{rest[3]}" not found')
        cpu, mem, _ = _requests(pod)
        return {
            "kind": "PodMetrics",
            "apiVersion": "metrics.k8s.io/v1beta1",
            "metadata": {"name": rest[3], "namespace": rest[1]},
            "timestamp": now_iso(),
            "window": "10s",
            "containers": [
                {
                    "name": c["name"],
                    "usage": {"cpu": f"{int(cpu * 250)}m", "memory": f"{int(mem / 4 / 1024)}Ki"},
                }
                for c in pod["spec"]["containers"]
            ],
        }

    # ------------------------------------------------------------------ controllers

    def _reconcile(self) -> None:
        for res in WORKLOADS:
            for obj in list(self.store[res].values()):
                self._reconcile_workload(res, obj)
        for pod in self.store["pods"].values():
            self._progress_pod(pod)
        for res in WORKLOADS:
            for obj in self.store[res].values():
                self._workload_status(obj)

    def _owned(self, uid: str) -> list[dict[str, Any]]:
        return [
            p
            for p in self.store["pods"].values()
            if any(o.get("uid") == uid for o in p["metadata"].get("ownerReferences") or [])
        ]

    def _drop_pods(self, uid: str, which: Any) -> None:
        for key, pod in list(self.store["pods"].items()):
            owners = pod["metadata"].get("ownerReferences") or []
            if any(o.get("uid") == uid for o in owners) and which(pod):
                del self.store["pods"][key]

    def _reconcile_workload(self, res: str, obj: dict[str, Any]) -> None:
        meta, spec = obj["metadata"], obj["spec"]
        template = spec.get("template", {})
        digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()[:10]
        self._drop_pods(
            meta["uid"], lambda p: p["metadata"]["labels"].get("pod-template-hash") != digest
        )
        pods = self._owned(meta["uid"])
        want = int(spec.get("replicas", 1))
        for pod in sorted(pods, key=lambda p: p["metadata"]["name"])[want:]:
            del self.store["pods"][(meta["namespace"], pod["metadata"]["name"])]
        for index in range(len(pods), want):
            suffix = str(index) if res == "statefulsets" else f"{digest}-{uuid.uuid4().hex[:5]}"
            self._new_pod(res, obj, template, f"{meta['name']}-{suffix}", digest)

    def _new_pod(
        self, res: str, owner: dict[str, Any], template: dict, name: str, digest: str
    ) -> None:
        tmeta = template.get("metadata") or {}
        pod = {
            "metadata": {
                "name": name,
                "namespace": owner["metadata"]["namespace"],
                "labels": {**(tmeta.get("labels") or {}), "pod-template-hash": digest},
                "annotations": dict(tmeta.get("annotations") or {}),
                "ownerReferences": [
                    {
                        "apiVersion": "apps/v1",
                        "kind": RESOURCES[res][0],
                        "name": owner["metadata"]["name"],
                        "uid": owner["metadata"]["uid"],
                    }
                ],
            },
            "spec": copy.deepcopy(template.get("spec") or {}),
            "status": {"phase": "Pending"},
        }
        self._stamp("pods", pod)
        self.store["pods"][(pod["metadata"]["namespace"], name)] = pod
        self._schedule(pod)

    def _schedule(self, pod: dict[str, Any]) -> None:
        cpu, mem, disk = _requests(pod)
        wanted = pod["spec"].get("nodeSelector") or {}
        best: tuple[float, str] | None = None
        for (_, name), node in sorted(self.store["nodes"].items()):
            labels = node["metadata"]["labels"]
            ready = node["status"]["conditions"][0]["status"] == "True"
            if not ready or any(labels.get(k) != v for k, v in wanted.items()):
                continue
            alloc = node["status"]["allocatable"]
            used = [0.0, 0.0, 0.0]
            for other in self.store["pods"].values():
                if other["spec"].get("nodeName") == name:
                    used = [a + b for a, b in zip(used, _requests(other), strict=True)]
            free_cpu = parse_quantity(alloc["cpu"]) - used[0]
            if (
                free_cpu + 1e-9 < cpu
                or parse_quantity(alloc["memory"]) - used[1] < mem
                or parse_quantity(alloc["ephemeral-storage"]) - used[2] < disk
            ):
                continue
            if best is None or free_cpu > best[0]:
                best = (free_cpu, name)
        if best is None:
            count = len(self.store["nodes"])
            pod["status"] = {
                "phase": "Pending",
                "conditions": [
                    {
                        "type": "PodScheduled",
                        "status": "False",
                        "reason": "Unschedulable",
                        "message": f"0/{count} nodes are available: insufficient resources or "
                        "node selector mismatch.",
                    }
                ],
            }
            return
        pod["spec"]["nodeName"] = best[1]
        pod["status"] = {
            "phase": "Pending",
            "conditions": [{"type": "PodScheduled", "status": "True"}],
            "scheduledAt": time.monotonic(),
        }

    def _progress_pod(self, pod: dict[str, Any]) -> None:
        status = pod["status"]
        if not pod["spec"].get("nodeName"):
            self._schedule(pod)
            return
        if status.get("phase") == "Running":
            return
        image = pod["spec"]["containers"][0].get("image")
        if image in self.bad_images:
            status["containerStatuses"] = [
                {
                    "name": pod["spec"]["containers"][0]["name"],
                    "ready": False,
                    "state": {
                        "waiting": {
                            "reason": "ErrImagePull",
                            "message": f'failed to pull image "{image}": not found',
                        }
                    },
                }
            ]
            return
        if time.monotonic() - status.get("scheduledAt", 0) >= self.ready_delay:
            status["phase"] = "Running"
            status["conditions"] = [
                {"type": "PodScheduled", "status": "True"},
                {"type": "Ready", "status": "True"},
            ]
            status["containerStatuses"] = [
                {"name": c["name"], "ready": True, "state": {"running": {"startedAt": now_iso()}}}
                for c in pod["spec"]["containers"]
            ]

    def _workload_status(self, obj: dict[str, Any]) -> None:
        pods = self._owned(obj["metadata"]["uid"])
        ready = sum(1 for p in pods if p["status"].get("phase") == "Running")
        status = {
            "observedGeneration": obj["metadata"].get("generation", 1),
            "replicas": len(pods),
            "updatedReplicas": len(pods),
            "readyReplicas": ready,
            "availableReplicas": ready,
        }
        if obj.get("status") != status:
            obj["status"] = status
            obj["metadata"]["resourceVersion"] = str(next(self._rv))


def _requests(pod: dict[str, Any]) -> tuple[float, float, float]:
    cpu = mem = disk = 0.0
    for c in pod["spec"].get("containers") or []:
        req = (c.get("resources") or {}).get("requests") or {}
        cpu += parse_quantity(req.get("cpu", 0))
        mem += parse_quantity(req.get("memory", 0))
        disk += parse_quantity(req.get("ephemeral-storage", 0))
    return cpu, mem, disk


class _Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 glue between http.server and ``FakeKube.handle``."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    kube: FakeKube

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        return

    def _serve(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        audit_id = str(uuid.uuid4())
        if self.command == "GET" and query.get("watch") in ("true", "1", "True"):
            self._watch(url.path, query, headers)
            return
        try:
            body = json.loads(raw) if raw else None
            code, answer = self.kube.handle(self.command, url.path, query, body, headers, audit_id)
        except ApiError as exc:
            code = exc.code
            answer = {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Failure",
                "message": exc.message,
                "reason": exc.reason,
                "code": exc.code,
            }
        except ValueError as exc:
            code, answer = 400, {"kind": "Status", "status": "Failure", "message": str(exc)}
        data = json.dumps(answer).encode()
        try:
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Audit-Id", audit_id)
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # the client gave up (a timeout test)
            pass

    def _watch(self, path: str, query: dict[str, str], headers: dict[str, str]) -> None:
        try:
            events = self.kube.watch(path, query, headers)
        except ApiError as exc:
            data = json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                               "message": exc.message, "reason": exc.reason,
                               "code": exc.code}).encode()  # fmt: skip
            self.send_response(exc.code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        self.close_connection = True
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Connection", "close")
            self.end_headers()
            for event in events:
                line = json.dumps(event).encode() + b"\n"
                self.wfile.write(f"{len(line):x}\r\n".encode() + line + b"\r\n")
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        except OSError:  # the client went away
            pass

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve  # noqa: N815
