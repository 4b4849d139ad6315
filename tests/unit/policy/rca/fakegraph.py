"""A minimal entity graph with the pinned schema (vertex keys and attributes, edge labels,
the helper methods), and a builder that writes the matching inventory rows, so the RCA
engine can be tested before and beside the real ``nfvo.policy.rca.graph.EntityGraph``."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from nfvo.inventory.db import Database
from nfvo.inventory.models import NsInstance, NsVnf, NsVnfc, Tenant


class FakeGraph:
    """``.g``, ``.lock``, ``.ready`` and the helpers the engine uses."""

    def __init__(self, ready: bool = True) -> None:
        self.g = nx.MultiDiGraph()
        self.lock = threading.RLock()
        self.ready = ready

    def resource(self, key: str, **attrs: Any) -> str:
        kind, _, rest = key.partition(":")
        vim_id, _, rid = rest.partition(":") if kind not in ("vim", "vnf", "ns") else ("", "", rest)
        base = {
            "category": "RESOURCE",
            "type": kind,
            "id": rid or rest,
            "vim_id": vim_id or (rest if kind == "vim" else None),
            "name": rid or rest,
            "state": "OK",
            "marked_down": False,
        }
        if key not in self.g:
            self.g.add_node(key, **(base | attrs))
        return key

    def add_alarm(self, key: str, resource_key: str, **attrs: Any) -> None:
        self.g.add_node(key, **attrs)
        self.add_edge(key, resource_key, "on")

    def remove_alarm(self, key: str) -> None:
        if key in self.g:
            self.g.remove_node(key)

    def add_edge(self, src: str, dst: str, label: str) -> None:
        self.g.add_edge(src, dst, key=label, label=label)

    def remove_edge(self, src: str, dst: str, label: str) -> None:
        if self.g.has_edge(src, dst, key=label):
            self.g.remove_edge(src, dst, key=label)

    def servers_under(self, resource_key: str) -> list[str]:
        """Servers contained (vim, zone, host), comprised (ns, vnf) or attached through a
        port (network) under ``resource_key``."""
        g, out = self.g, set()
        todo, seen = [resource_key], {resource_key}
        while todo:
            v = todo.pop()
            if g.nodes[v].get("type") == "server":
                out.add(v)
                continue
            nxt = [d for _, d, k in g.out_edges(v, keys=True) if k in ("contains", "comprises")]
            if g.nodes[v].get("type") == "network":  # its ports, then their servers
                ports = [s for s, _, k in g.in_edges(v, keys=True) if k == "attached"]
                nxt += [
                    d for p in ports for _, d, k in g.out_edges(p, keys=True) if k == "attached"
                ]
            for d in nxt:
                if d not in seen:
                    seen.add(d)
                    todo.append(d)
        return sorted(out)


@dataclass
class World:
    """Inventory rows and graph vertices of VNFCs on hosts, NS and VNFs."""

    db: Database | None
    graph: FakeGraph
    vim: str = "vim-1"
    zone: str = "az1"
    ns_tenant: dict[str, str | None] = field(default_factory=dict)
    vnf_ns: dict[str, str] = field(default_factory=dict)
    servers: dict[str, list[str]] = field(default_factory=dict)  # host -> server keys

    def host(self, name: str) -> str:
        g = self.graph
        vim = g.resource(f"vim:{self.vim}")
        zone = g.resource(f"zone:{self.vim}:{self.zone}")
        host = g.resource(f"host:{self.vim}:{name}")
        if not g.g.has_edge(vim, zone, key="contains"):
            g.add_edge(vim, zone, "contains")
        if not g.g.has_edge(zone, host, key="contains"):
            g.add_edge(zone, host, "contains")
        return host

    def ns(self, ns_id: str, tenant: str | None = None) -> str:
        if ns_id not in self.ns_tenant:
            self.ns_tenant[ns_id] = tenant
            self.graph.resource(f"ns:{ns_id}", tenant_id=tenant)
            if self.db is not None:
                with self.db.session() as s:
                    if tenant and s.get(Tenant, tenant) is None:
                        s.add(Tenant(id=tenant, name=f"tenant-{tenant}"))
                        s.flush()
                    s.add(
                        NsInstance(
                            id=ns_id,
                            tenant_id=tenant,
                            nsd_info_id=str(uuid.uuid4()),
                            nsd_id="nsd-1",
                            name=f"ns-{ns_id[:8]}",
                            ns_state="INSTANTIATED",
                        )
                    )
        return f"ns:{ns_id}"

    def vnf(self, vnf_id: str, ns_id: str) -> str:
        key = f"vnf:{vnf_id}"
        if vnf_id not in self.vnf_ns:
            self.vnf_ns[vnf_id] = ns_id
            tenant = self.ns_tenant[ns_id]
            self.graph.resource(key, tenant_id=tenant, ns_instance_id=ns_id)
            self.graph.add_edge(f"ns:{ns_id}", key, "comprises")
            if self.db is not None:
                with self.db.session() as s:
                    s.add(
                        NsVnf(
                            id=vnf_id,
                            ns_instance_id=ns_id,
                            vnf_profile_id="p1",
                            vnfd_id="vnfd-1",
                            flavour_id="default",
                            vim_account_id=self.vim,
                            spec={},
                        )
                    )
        return key

    def vnfcs(
        self, host: str, ns_id: str, vnf_id: str, count: int, tenant: str | None = None
    ) -> list[str]:
        """``count`` VNFCs (VDU ``vdu1``) of VNF ``vnf_id`` of NS ``ns_id`` on ``host``."""
        self.ns(ns_id, tenant)
        vnf = self.vnf(vnf_id, ns_id)
        host_key = self.host(host)
        made = []
        start = sum(1 for k in self.graph.g if k.startswith(f"server:{self.vim}:{vnf_id}-"))
        rows = []
        for i in range(start, start + count):
            sid = f"{vnf_id}-s{i}"
            key = self.graph.resource(
                f"server:{self.vim}:{sid}",
                tenant_id=self.ns_tenant[ns_id],
                ns_instance_id=ns_id,
                vnf_instance_id=vnf_id,
                vnfc_id=f"vdu1-{i}",
                vdu_id="vdu1",
            )
            self.graph.add_edge(host_key, key, "contains")
            self.graph.add_edge(vnf, key, "comprises")
            made.append(key)
            rows.append(
                NsVnfc(
                    vnf_instance_id=vnf_id,
                    vdu_id="vdu1",
                    idx=i,
                    ns_instance_id=ns_id,
                    vim_account_id=self.vim,
                    key=f"{vnf_id}/vdu1-{i}",
                    server_id=sid,
                    status="ACTIVE",
                    host=host,
                    zone=self.zone,
                )
            )
        if self.db is not None:
            with self.db.session() as s:
                s.add_all(rows)
        self.servers.setdefault(host, []).extend(made)
        return made

    def network(self, net: str, servers: list[str]) -> str:
        """A network with one port per server attached to it."""
        key = self.graph.resource(f"network:{self.vim}:{net}")
        for i, server in enumerate(servers):
            port = self.graph.resource(f"port:{self.vim}:{net}-p{i}")
            self.graph.add_edge(port, server, "attached")
            self.graph.add_edge(port, key, "attached")
        return key
