"""The Kubernetes monitoring source: node conditions and nfvo's pods (watched), usage from
the metrics API (polled).

Two watch threads (nodes; pods labelled ``nfvo.io/server`` in every namespace) list once,
then watch from the list's resourceVersion with the official client's ``Watch``, resuming from
the last event's resourceVersion when a watch request ends, and listing again when the API
server answers ``410 Gone`` (the version was compacted). Every (re-)list is compared with
what was reported before, so only changes are reported:

* a node whose ``Ready`` condition turns ``False`` / ``Unknown`` -> ``HOST_DOWN``; ``True``
  again -> ``HOST_UP`` (a node first seen not ready is reported down; first seen ready,
  nothing);
* a server (the Deployment / StatefulSet ``<namespace>.<name>`` the driver names, whose pods
  carry ``nfvo.io/server=<name>``) none of whose pods runs while one failed (phase ``Failed``,
  a container waiting in ``CrashLoopBackOff``, or terminated with a non-zero exit code) ->
  ``SERVER_CRASHED``; one of its pods running again -> ``SERVER_RECOVERED``; its last pod
  deleted and the workload gone too -> ``SERVER_GONE``.

The main loop (every ``interval_s``, default 30 s) reads ``metrics.k8s.io/v1beta1`` pods and
nodes: a server's ``cpu_utilization`` is its pods' CPU usage in % of their CPU limits (of
their requests where a container has no limit), ``memory_utilization`` likewise; a host's is
its usage in % of the node's allocatable. Values are capped at 100. A 404 means no metrics
server: logged once at info, asked again every ``METRICS_REPROBE`` rounds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from nfvo.monitoring.model import FaultEvent, FaultKind, Resource, ResourceKind, Sample, Severity
from nfvo.monitoring.sources.base import Source, SourceContext, host_event, vim_event
from nfvo.vim.base import VimError, VimNotFound
from nfvo.vim.k8s.api import MANAGED_BY, SERVER_LABEL, quantity

log = logging.getLogger(__name__)

SOURCE = "kubernetes"
CORE = "/api/v1"
METRICS = "/apis/metrics.k8s.io/v1beta1"
POD_SELECTOR = f"{MANAGED_BY}=nfvo,{SERVER_LABEL}"
METRICS_REPROBE = 20  # rounds between probes of an absent metrics API
MAX_BACKOFF_S = 30.0
CRASH_REASONS = frozenset({"CrashLoopBackOff"})
OK, CRASHED = "ok", "crashed"


def _bounded(options: dict[str, Any], key: str, default: float, low: float, high: float) -> float:
    value = options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"monitoring.{key} must be a number")
    if not low <= float(value) <= high:
        raise ValueError(f"monitoring.{key} must be between {low:g} and {high:g}")
    return float(value)


# ---------------------------------------------------------------------- pure mappings


def server_id_of(pod: dict[str, Any]) -> str | None:
    """The nfvo server id (``<namespace>.<workload>``) a pod belongs to, if any."""
    meta = pod.get("metadata") or {}
    name = (meta.get("labels") or {}).get(SERVER_LABEL)
    ns = meta.get("namespace")
    return f"{ns}.{name}" if name and ns else None


def node_ready(node: dict[str, Any]) -> bool | None:
    """The node's ``Ready`` condition: True, False (``False`` or ``Unknown``), None if absent."""
    for cond in (node.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return cond.get("status") == "True"
    return None


def pod_health(pod: dict[str, Any]) -> tuple[str | None, str]:
    """(``"crashed"`` / ``"ok"`` / None for undecided, why) of one pod."""
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        return None, ""
    status = pod.get("status") or {}
    if status.get("phase") == "Failed":
        return CRASHED, status.get("reason") or status.get("message") or "pod failed"
    for cs in status.get("containerStatuses") or []:
        state = cs.get("state") or {}
        waiting = state.get("waiting") or {}
        if waiting.get("reason") in CRASH_REASONS:
            return CRASHED, f"{cs.get('name')}: {waiting['reason']}"
        terminated = state.get("terminated") or {}
        if terminated and int(terminated.get("exitCode") or 0) != 0:
            code = terminated.get("exitCode")
            return CRASHED, f"{cs.get('name')}: terminated ({terminated.get('reason')}, {code})"
    if status.get("phase") == "Running":
        return OK, ""
    return None, ""


def server_health(pods: list[dict[str, Any]]) -> tuple[str | None, str]:
    """A server's health from its pods: ok if one runs, else crashed if one failed."""
    verdicts = [pod_health(p) for p in pods]
    if any(v == OK for v, _ in verdicts):
        return OK, ""
    for v, why in verdicts:
        if v == CRASHED:
            return CRASHED, why
    return None, ""


def pod_capacity(pod: dict[str, Any]) -> tuple[float, float]:
    """(CPU cores, memory bytes) a pod may use: per container its limit, else its request."""
    cpu = mem = 0.0
    for c in (pod.get("spec") or {}).get("containers") or []:
        res = c.get("resources") or {}
        limits, requests = res.get("limits") or {}, res.get("requests") or {}
        cpu += quantity(limits.get("cpu", requests.get("cpu", 0)))
        mem += quantity(limits.get("memory", requests.get("memory", 0)))
    return cpu, mem


def percent(used: float, capacity: float) -> float | None:
    """``used`` in % of ``capacity`` (0-100), None without a capacity."""
    if capacity <= 0:
        return None
    return max(0.0, min(100.0, used / capacity * 100.0))


class KubernetesSource(Source):
    """One Kubernetes account's monitoring: node and pod faults by watch, usage by poll."""

    name = "kubernetes"
    default_interval_s = 30.0

    def __init__(self, ctx: SourceContext, clock: Callable[[], float] = time.time) -> None:
        super().__init__(ctx)
        opts = ctx.options
        self.interval_s = _bounded(opts, "interval_s", self.default_interval_s, 1.0, 3600.0)
        self.watch_timeout_s = _bounded(opts, "watch_timeout_s", 60.0, 1.0, 600.0)
        self.clock = clock
        self.rest = ctx.driver.rest  # type: ignore[attr-defined]
        self._lock = threading.Lock()
        self.nodes: dict[str, dict[str, Any]] = {}
        self.pods: dict[tuple[str, str], dict[str, Any]] = {}
        self.node_state: dict[str, bool] = {}  # node -> ready, as reported
        self.server_state: dict[str, str] = {}  # server id -> ok / crashed, as reported
        self.unreachable = False
        self.metrics_absent = False
        self.relists: dict[str, int] = {"nodes": 0, "pods": 0}
        self._rounds_absent = 0
        self._watchers: list[threading.Thread] = []
        self._watches: list[Any] = []

    # ------------------------------------------------------------------ life cycle

    def start(self) -> None:
        """Start the metrics loop and the two watches (idempotent)."""
        if self.alive():
            return
        super().start()
        self._watchers = [
            threading.Thread(
                target=self._watch_loop,
                args=(res,),
                name=f"monitor-k8s-{res}-{self.ctx.vim_id[:8]}",
                daemon=True,
            )
            for res in ("nodes", "pods")
        ]
        for t in self._watchers:
            t.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the watches and the metrics loop, then release the driver."""
        self._stop.set()
        for w in list(self._watches):
            w.stop()
        for t in self._watchers:
            t.join(timeout)
        self._watchers = []
        super().stop(timeout)

    # ------------------------------------------------------------------ reachability

    def _fault(self, event: FaultEvent) -> None:
        try:
            self.ctx.sink.fault(event)
        except Exception:
            log.exception("VIM %s: the monitoring sink refused %s", self.ctx.vim_id, event.kind)

    def _set_unreachable(self, error: str) -> None:
        with self._lock:
            if self.unreachable:
                return
            self.unreachable = True
        log.warning("VIM %s unreachable: %s", self.ctx.vim_id, error)
        self._fault(vim_event(self.ctx.vim_id, False, self.clock(), SOURCE, error))

    def _set_reachable(self) -> None:
        with self._lock:
            if not self.unreachable:
                return
            self.unreachable = False
        log.info("VIM %s answers again", self.ctx.vim_id)
        self._fault(vim_event(self.ctx.vim_id, True, self.clock(), SOURCE))

    # ------------------------------------------------------------------ watches

    def _watch_loop(self, res: str) -> None:
        rv: str | None = None
        backoff = 0.5
        last_error = ""
        failures = 0  # in a row: one may be a kept-alive connection the server closed
        while not self._stop.is_set():
            try:
                if rv is None:
                    rv = self.relist(res)
                rv = self._watch(res, rv)
                backoff, failures = 0.5, 0
            except Exception as exc:  # noqa: BLE001 - the thread must survive anything
                if getattr(exc, "status", None) == 410:
                    log.info("VIM %s: %s watch expired (410 Gone); listing again",
                             self.ctx.vim_id, res)  # fmt: skip
                    rv = None
                    continue
                text = str(exc) or type(exc).__name__
                failures += 1
                if (isinstance(exc, VimError) or _transport(exc)) and failures >= 2:
                    self._set_unreachable(text)
                elif text != last_error:
                    log.warning("VIM %s: %s watch failed: %s", self.ctx.vim_id, res, text)
                last_error = text
                self._stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)

    def relist(self, res: str) -> str:
        """List ``res`` and report what changed since the last report; the list's
        resourceVersion to watch from."""
        query = {"labelSelector": POD_SELECTOR} if res == "pods" else None
        found = self.rest.call("GET", f"{CORE}/{res}", query=query, what=f"list of {res}")
        self._set_reachable()
        with self._lock:
            self.relists[res] += 1
        items = found.get("items") or []
        if res == "nodes":
            names = {(n.get("metadata") or {}).get("name") for n in items}
            with self._lock:
                gone = [n for name, n in self.nodes.items() if name not in names]
            for node in gone:
                self.on_node("DELETED", node)
            for node in items:
                self.on_node("MODIFIED", node)
        else:
            listed = {_key(p) for p in items}
            with self._lock:
                vanished = [p for k, p in self.pods.items() if k not in listed]
            for pod in vanished:
                self.on_pod("DELETED", pod)
            for pod in items:
                self.on_pod("MODIFIED", pod)
        return str((found.get("metadata") or {}).get("resourceVersion") or "")

    def _watch(self, res: str, rv: str) -> str:
        from kubernetes import client

        core = client.CoreV1Api(self.rest.api_client)
        kwargs: dict[str, Any] = {
            "resource_version": rv,
            "timeout_seconds": int(self.watch_timeout_s),
            "allow_watch_bookmarks": True,
            "_request_timeout": (self.rest.timeout[0], self.watch_timeout_s + 30),
        }
        if res == "pods":
            fn = core.list_pod_for_all_namespaces
            kwargs["label_selector"] = POD_SELECTOR
        else:
            fn = core.list_node
        w = _RawWatch()
        self._watches.append(w)
        try:
            for event in w.stream(fn, **kwargs):
                self._set_reachable()
                obj = event["raw_object"]
                rv = str((obj.get("metadata") or {}).get("resourceVersion") or rv)
                if event["type"] in ("ADDED", "MODIFIED", "DELETED"):
                    handler = self.on_node if res == "nodes" else self.on_pod
                    handler(event["type"], obj)
                if self._stop.is_set():
                    break
        finally:
            w.stop()
            self._watches.remove(w)
        return rv

    # ------------------------------------------------------------------ events

    def on_node(self, kind: str, node: dict[str, Any]) -> None:
        """Take one node event; report a change of readiness."""
        name = (node.get("metadata") or {}).get("name")
        if not name:
            return
        with self._lock:
            if kind == "DELETED":
                self.nodes.pop(name, None)
                return
            self.nodes[name] = node
            ready = node_ready(node)
            before = self.node_state.get(name)
            if ready is None or before == ready or (before is None and ready):
                if ready is not None:
                    self.node_state[name] = ready
                return
            self.node_state[name] = ready
        raw = {"conditions": (node.get("status") or {}).get("conditions") or []}
        log.info("VIM %s: node %s %s", self.ctx.vim_id, name, "ready" if ready else "not ready")
        at = self.clock()
        self._fault(host_event(self.ctx.vim_id, name, ready, at, SOURCE, raw, "node not ready"))

    def on_pod(self, kind: str, pod: dict[str, Any]) -> None:
        """Take one pod event; report a change of its server's health (or its loss)."""
        sid = server_id_of(pod)
        if sid is None:
            return
        with self._lock:
            if kind == "DELETED":
                self.pods.pop(_key(pod), None)
            else:
                self.pods[_key(pod)] = pod
            mine = [p for p in self.pods.values() if server_id_of(p) == sid]
        if kind == "DELETED" and not mine:
            self._maybe_gone(sid, pod)
            return
        health, why = server_health(mine)
        with self._lock:
            before = self.server_state.get(sid)
            if health is None or health == before or (before is None and health == OK):
                if health is not None:
                    self.server_state[sid] = health
                return
            self.server_state[sid] = health
        resource = Resource(ResourceKind.SERVER, sid, self.ctx.vim_id)
        raw = {"pod": (pod.get("metadata") or {}).get("name"), "status": pod.get("status") or {}}
        if health == CRASHED:
            event = FaultEvent(
                resource,
                FaultKind.SERVER_CRASHED,
                Severity.MAJOR,
                self.clock(),
                SOURCE,
                raw,
                probable_cause=why[:200],
            )
        else:
            event = FaultEvent(
                resource, FaultKind.SERVER_RECOVERED, Severity.CLEARED, self.clock(), SOURCE, raw
            )
        self._fault(event)

    def _maybe_gone(self, sid: str, pod: dict[str, Any]) -> None:
        """The server's last pod went: SERVER_GONE if its workload is gone too."""
        try:
            self.ctx.driver.get_server(sid)
            return  # the controller will make a new pod
        except VimNotFound:
            pass
        except Exception as exc:  # noqa: BLE001 - cannot tell now; the next re-list will
            log.info("VIM %s: cannot check server %s: %s", self.ctx.vim_id, sid, exc)
            return
        with self._lock:
            self.server_state.pop(sid, None)
        self._fault(
            FaultEvent(
                Resource(ResourceKind.SERVER, sid, self.ctx.vim_id),
                FaultKind.SERVER_GONE,
                Severity.MAJOR,
                self.clock(),
                SOURCE,
                {"pod": (pod.get("metadata") or {}).get("name")},
                probable_cause="workload deleted",
            )
        )

    # ------------------------------------------------------------------ metrics

    def poll_once(self) -> None:
        """Read the metrics API once; hand the samples to the sink. Never raises."""
        try:
            self._metrics_round()
        except Exception:  # noqa: BLE001 - a bug must not kill the source's thread
            log.exception("VIM %s: Kubernetes metrics round failed", self.ctx.vim_id)

    def _metrics_round(self) -> None:
        if self.metrics_absent:
            self._rounds_absent += 1
            if self._rounds_absent < METRICS_REPROBE:
                return
            self._rounds_absent = 0
        try:
            pods = self.rest.call(
                "GET", f"{METRICS}/pods", query={"labelSelector": POD_SELECTOR}, what="pod metrics"
            )
            nodes = self.rest.call("GET", f"{METRICS}/nodes", what="node metrics")
        except VimNotFound:
            if not self.metrics_absent:
                log.info("VIM %s serves no metrics.k8s.io API; no usage samples",
                         self.ctx.vim_id)  # fmt: skip
            self.metrics_absent = True
            return
        except VimError as exc:
            log.info("VIM %s: reading metrics: %s", self.ctx.vim_id, exc)
            return
        if self.metrics_absent:
            log.info("VIM %s serves metrics.k8s.io now", self.ctx.vim_id)
        self.metrics_absent = False
        batch = self.server_samples(pods.get("items") or []) + self.host_samples(
            nodes.get("items") or []
        )
        if batch:
            self.ctx.sink.samples(batch)

    def server_samples(self, items: list[dict[str, Any]]) -> list[Sample]:
        """Per-server CPU / memory utilisation from PodMetrics items."""
        now = self.clock()
        used: dict[str, list[float]] = {}  # sid -> [cpu used, mem used, cpu cap, mem cap]
        with self._lock:
            for item in items:
                pod = self.pods.get(_key(item))
                sid = server_id_of(pod or item)
                if sid is None or pod is None:
                    continue
                acc = used.setdefault(sid, [0.0, 0.0, 0.0, 0.0])
                for c in item.get("containers") or []:
                    usage = c.get("usage") or {}
                    acc[0] += quantity(usage.get("cpu", 0))
                    acc[1] += quantity(usage.get("memory", 0))
                cap_cpu, cap_mem = pod_capacity(pod)
                acc[2] += cap_cpu
                acc[3] += cap_mem
        out: list[Sample] = []
        for sid, (cpu, mem, cap_cpu, cap_mem) in sorted(used.items()):
            resource = Resource(ResourceKind.SERVER, sid, self.ctx.vim_id)
            out.extend(_pair(resource, percent(cpu, cap_cpu), percent(mem, cap_mem), now))
        return out

    def host_samples(self, items: list[dict[str, Any]]) -> list[Sample]:
        """Per-node CPU / memory utilisation from NodeMetrics items and allocatable."""
        now = self.clock()
        out: list[Sample] = []
        with self._lock:
            nodes = dict(self.nodes)
        for item in items:
            name = (item.get("metadata") or {}).get("name")
            node = nodes.get(name or "")
            if node is None:
                continue
            alloc = (node.get("status") or {}).get("allocatable") or {}
            usage = item.get("usage") or {}
            cpu = percent(quantity(usage.get("cpu", 0)), quantity(alloc.get("cpu", 0)))
            mem = percent(quantity(usage.get("memory", 0)), quantity(alloc.get("memory", 0)))
            out.extend(_pair(Resource(ResourceKind.HOST, name, self.ctx.vim_id), cpu, mem, now))
        return out


def _raw_watch_class() -> Any:
    from kubernetes import watch

    class RawWatch(watch.Watch):  # type: ignore[misc]
        """A ``Watch`` whose events keep the API's JSON only: no model objects, whose
        client-side validation refuses objects the API server itself accepts."""

        def get_return_type(self, func: Any) -> None:
            return None

    return RawWatch


def _RawWatch() -> Any:  # noqa: N802 - builds the class on first use (lazy import)
    global _RAW_WATCH
    if _RAW_WATCH is None:
        _RAW_WATCH = _raw_watch_class()
    return _RAW_WATCH()


_RAW_WATCH: Any = None


def _pair(resource: Resource, cpu: float | None, mem: float | None, now: float) -> list[Sample]:
    out = []
    if cpu is not None:
        out.append(Sample(resource, "cpu_utilization", cpu, now))
    if mem is not None:
        out.append(Sample(resource, "memory_utilization", mem, now))
    return out


def _key(obj: dict[str, Any]) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return str(meta.get("namespace") or ""), str(meta.get("name") or "")


def _transport(exc: Exception) -> bool:
    """Whether ``exc`` says the API server could not be reached (not a bad answer)."""
    from urllib3 import exceptions as u3

    return isinstance(exc, u3.HTTPError | OSError | ConnectionError)
