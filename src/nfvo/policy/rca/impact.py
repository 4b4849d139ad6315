"""``GET /admin/v1/impact?resource=``: which NS instances, VNF instances and servers a fault
on a resource (host, zone, VIM, network, port, server, VNF, NS) takes down, answered from the
RCA entity graph.

Tenant scope, as the other resource views of ``/admin/v1`` (``nfvo.monitoring.current``): a
tenant caller may name its own NS and VNF instances, its own and shared VIM accounts with
their zones and hosts, the servers and ports of its own NS instances, and the networks of its
own VIMs or of its own NS instances (anything else is a 404, as an unknown resource); the
answer lists only the caller's own NS instances, their VNF instances and servers. A global
caller sees everything.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from nfvo.errors import NfvoError, NotFound
from nfvo.monitoring.current import iso, parse_resource
from nfvo.monitoring.model import Resource, ResourceKind
from nfvo.policy.rca.graph import EntityGraph
from nfvo.policy.rca.topology import ATTACHED, COMPRISES
from nfvo.resources.service import Scope

log = logging.getLogger(__name__)

MAX_LISTED = 10_000  # entries per list of an answer (the counts say how many there are)
_OWNED_BY_NS = (ResourceKind.NS, ResourceKind.VNF, ResourceKind.SERVER, ResourceKind.PORT)


class RcaUnavailable(NfvoError):
    """The entity graph does not run in this process, or has no snapshot of the inventory
    yet and cannot read one: the caller should retry (503)."""

    status = 503
    title = "Service Unavailable"


def impact_view(
    graph: EntityGraph | None,
    resource: str | None,
    tenant: str | None,
    clock: Callable[[], float] = time.time,
) -> dict[str, Any]:
    """The ``/admin/v1/impact`` answer for the ``resource`` query parameter (a
    ``Resource.key``) as ``tenant`` (None: a global caller) may see it.

    BadRequest naming ``resource`` when it is missing or not a resource key; NotFound when
    the graph has no such resource or the caller may not see it; RcaUnavailable when there is
    no graph to answer from."""
    r = parse_resource(resource)
    if graph is None:
        raise RcaUnavailable("root-cause analysis does not run in this process")
    _bring_up_to_date(graph)
    scope = Scope(tenant)
    with graph.lock:
        if not _visible(graph, r, scope):
            raise NotFound(f"resource {r.key} does not exist", field="resource")
        impact = graph.impact(r.key)
        ns = {k: v for k, v in impact.ns.items() if scope.owns(_tenant(graph, f"ns:{k}"))}
        servers = [s for s in impact.servers if graph.g.nodes[s].get("ns_instance_id") in ns]
    vnfs = sorted(v for vs in ns.values() for v in vs)
    ns_items = sorted(ns.items())
    return {
        "resource": r.key,
        "resourceType": r.kind.value,
        "at": iso(clock()),
        "counts": {"nsInstances": len(ns), "vnfInstances": len(vnfs), "servers": len(servers)},
        "truncated": max(len(ns), len(vnfs), len(servers)) > MAX_LISTED,
        "nsInstances": [
            {"nsInstanceId": k, "vnfInstanceIds": list(v)} for k, v in ns_items[:MAX_LISTED]
        ],
        "vnfInstanceIds": vnfs[:MAX_LISTED],
        "servers": [_server(graph, s) for s in servers[:MAX_LISTED]],
    }


def _bring_up_to_date(graph: EntityGraph) -> None:
    """Read the inventory's changes now (a cheap check when nothing changed), so the answer
    follows an operation that just completed; a failing read answers from the last snapshot
    when there is one."""
    try:
        graph.refresh_if_changed()
    except Exception as exc:  # the database is unavailable: the snapshot may still answer
        if not graph.ready:
            raise RcaUnavailable(
                f"the entity graph has no snapshot of the inventory yet ({type(exc).__name__})"
            ) from None
        log.warning("impact answered from the last snapshot: reading the inventory failed: %s", exc)


def _tenant(graph: EntityGraph, key: str) -> str | None:
    attrs = graph.g.nodes.get(key)
    return None if attrs is None else attrs.get("tenant_id")


def _visible(graph: EntityGraph, r: Resource, scope: Scope) -> bool:
    """Whether the caller may name the resource (it must exist in the graph)."""
    g = graph.g
    attrs = g.nodes.get(r.key)
    if attrs is None or attrs.get("category") != "RESOURCE":
        return False
    if scope.is_global:
        return True
    if r.kind in _OWNED_BY_NS:
        return scope.owns(attrs.get("tenant_id"))
    vim = g.nodes.get(f"vim:{r.vim_id or r.id}") or {}
    if not vim.get("registered") or not scope.sees(vim.get("tenant_id")):
        return False
    if r.kind is not ResourceKind.NETWORK or scope.owns(vim.get("tenant_id")):
        return True
    # a network of a shared VIM: one of the caller's NS instances has it (as a virtual link,
    # or a port on it)
    holders: Iterable[str] = (
        u for u, keyed in g.pred[r.key].items() if COMPRISES in keyed or ATTACHED in keyed
    )
    return any(scope.owns(g.nodes[u].get("tenant_id")) for u in holders)


def _server(graph: EntityGraph, key: str) -> dict[str, Any]:
    a = graph.g.nodes[key]
    return {
        "resource": key,
        "serverId": a["id"],
        "vimAccountId": a["vim_id"],
        "host": a.get("host"),
        "nsInstanceId": a.get("ns_instance_id"),
        "vnfInstanceId": a.get("vnf_instance_id"),
        "vnfcInstanceId": a.get("vnfc_id"),
        "vduId": a.get("vdu_id"),
    }
