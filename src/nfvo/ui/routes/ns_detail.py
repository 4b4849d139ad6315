"""One NS instance: its header and allowed actions, its topology (NS, VNFs, VNFCs, hosts,
zones, VIMs, virtual links and connection points) as a graph and as a table, a side panel
per node, its operations and alarms; the page follows the NS live over server-sent events.

Everything is read through the LCM read model (the API's ``NsInstance``) plus the VIM
accounts and hosts of the resource service; every action is ``LcmService.start`` as in
``nslcm``."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from nfvo.api.deps import Services, services
from nfvo.errors import BadRequest, NfvoError, NotFound
from nfvo.lcm.states import OpType, ns_deletable, ns_operations
from nfvo.monitoring.fm import AlarmStore
from nfvo.monitoring.model import Resource, ResourceKind
from nfvo.query import ColumnTest, PageQuery
from nfvo.resources.service import Scope
from nfvo.ui.render import block_html, fragment, is_htmx, page, sse
from nfvo.ui.session import UiUser, operator, viewer

if TYPE_CHECKING:
    from nfvo.inventory.models import NsInstance, NsLcmOpOcc

router = APIRouter()
TEMPLATE = "ns/detail.html"
API_BASE = "/nslcm/v2"
OPS_SHOWN = 20
ALARMS_SHOWN = 50


# -- the topology ------------------------------------------------------------------------
@dataclass
class Node:
    """One node of the topology: its graph data and what its side panel shows."""

    id: str
    label: str
    kind: str
    state: str
    within: str = ""  # what it belongs to, for the table
    details: list[tuple[str, str]] = field(default_factory=list)
    metrics: Resource | None = None  # whose current metrics the panel shows


@dataclass
class Topology:
    """The nodes and edges of one NS's topology."""

    ns_id: str
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: dict[str, tuple[str, str]] = field(default_factory=dict)

    def add(self, node: Node) -> Node:
        return self.nodes.setdefault(node.id, node)

    def link(self, source: str, target: str) -> None:
        self.edges.setdefault(f"{source}->{target}", (source, target))

    def panel(self, node_id: str) -> str:
        return f"/ui/ns/{self.ns_id}/node/{quote(node_id, safe='')}"

    def spec(self) -> dict[str, Any]:
        """The Cytoscape spec of static/ui.js."""
        elements: list[dict[str, Any]] = [
            {
                "data": {
                    "id": n.id,
                    "label": n.label,
                    "kind": n.kind,
                    "state": n.state,
                    "panel": self.panel(n.id),
                }
            }
            for n in self.nodes.values()
        ]
        elements += [
            {"data": {"id": eid, "source": s, "target": t}} for eid, (s, t) in self.edges.items()
        ]
        return {"elements": elements, "layout": "breadthfirst"}

    def signature(self) -> str:
        """Changes whenever anything the graph or the table shows changes."""
        body = json.dumps(
            [[(n.id, n.label, n.state, n.within) for n in self.nodes.values()], list(self.edges)]
        )
        return hashlib.sha256(body.encode()).hexdigest()[:16]


def _addresses(info: dict[str, Any]) -> str:
    addrs = (info.get("metadata") or {}).get("addresses") or {}
    return ", ".join(f"{cp}: {' '.join(ips)}" for cp, ips in sorted(addrs.items())) or "-"


def _vim_inventory(
    svc: Services, vim_ids: set[str], scope: Scope
) -> tuple[dict[str, tuple[str, str]], dict[tuple[str, str], str], dict[tuple[str, str], str]]:
    """VIM accounts ``id -> (name, state)``, hosts and zones ``(vim, name) -> up|down``, as the
    inventory last synced them (a zone is up while one of its hosts is)."""
    vims: dict[str, tuple[str, str]] = {}
    hosts: dict[tuple[str, str], str] = {}
    zones: dict[tuple[str, str], str] = {}
    for vim_id in sorted(v for v in vim_ids if v):
        try:
            vim = svc.resources.get_vim(vim_id, scope)
        except NotFound:
            continue
        vims[vim_id] = (vim.name, vim.operational_state)
        for h in svc.resources.host_capacities(vim_id):
            hosts[(vim_id, h.name)] = "up" if h.up else "down"
            if h.up or (vim_id, h.zone) not in zones:
                zones[(vim_id, h.zone)] = hosts[(vim_id, h.name)]
    return vims, hosts, zones


def build_topology(svc: Services, ns: NsInstance, scope: Scope) -> Topology:
    """The topology of ``ns`` from the read model's NsInstance, where each connection point
    sits (the read model's ``connection_points``) and the inventory (VIM accounts, hosts,
    zones) as ``scope`` sees it."""
    view = svc.lcm.read.ns_view(ns, API_BASE)
    cps = svc.lcm.read.connection_points(ns.id)
    vim_ids = {v.get("vimId") or "" for v in view.get("vnfInstance", [])}
    vim_ids |= {h["vimId"] for vl in view.get("virtualLinkInfo", []) for h in vl["resourceHandle"]}
    vims, hosts, zones = _vim_inventory(svc, vim_ids, scope)
    topo = Topology(ns.id)
    ns_node = topo.add(
        Node(
            f"ns:{ns.id}",
            ns.name,
            "ns",
            "PROCESSING" if ns.current_op_id else ns.ns_state,
            details=[("NS instance", ns.id), ("NSD", ns.nsd_id), ("State", ns.ns_state)],
            metrics=Resource(ResourceKind.NS, ns.id),
        )
    )

    def vim_node(vim_id: str) -> str:
        name, state = vims.get(vim_id, (vim_id, "unknown"))
        node = topo.add(
            Node(
                f"vim:{vim_id}",
                name,
                "vim",
                state,
                details=[("VIM account", vim_id), ("Name", name), ("State", state)],
                metrics=Resource(ResourceKind.VIM, vim_id),
            )
        )
        return node.id

    def ns_vl_node(vl_id: str) -> str:
        return topo.add(
            Node(f"nsvl:{vl_id}", vl_id, "vl", "ok", ns.name, [("NS virtual link", vl_id)])
        ).id

    for vl in view.get("virtualLinkInfo", []):
        node_id = ns_vl_node(vl["id"])
        node = topo.nodes[node_id]
        for h in vl["resourceHandle"]:
            node.details += [("VIM", h["vimId"]), ("Network", h["resourceId"])]
        topo.link(ns_node.id, node_id)
    for vnf in view.get("vnfInstance", []):
        vnf_id, vim_id = vnf["id"], vnf.get("vimId") or ""
        vnf_node = topo.add(
            Node(
                f"vnf:{vnf_id}",
                vnf["vnfProfileId"],
                "vnf",
                vnf["instantiationState"],
                ns.name,
                [
                    ("VNF instance", vnf_id),
                    ("Product", f"{vnf['vnfProductName']} {vnf['vnfSoftwareVersion']}".strip()),
                    ("VNFD", vnf["vnfdId"]),
                    ("VIM", vims.get(vim_id, (vim_id, ""))[0]),
                    ("VIM id", vim_id),
                ],
                Resource(ResourceKind.VNF, vnf_id),
            )
        )
        topo.link(ns_node.id, vnf_node.id)
        inst = vnf.get("instantiatedVnfInfo") or {}
        for sc in inst.get("scaleStatus", []):
            vnf_node.details.append((f"Scale level {sc['aspectId']}", str(sc["scaleLevel"])))
        for vl in inst.get("vnfVirtualLinkResourceInfo", []):
            vl_node = topo.add(
                Node(
                    f"vl:{vnf_id}:{vl['id']}",
                    vl["id"],
                    "vl",
                    "ok",
                    vnf["vnfProfileId"],
                    [
                        ("Internal virtual link", vl["id"]),
                        ("VIM id", vl["networkResource"]["vimId"]),
                        ("Network", vl["networkResource"]["resourceId"]),
                    ],
                )
            )
            topo.link(vnf_node.id, vl_node.id)
        for c in inst.get("vnfcResourceInfo", []):
            meta = c.get("metadata") or {}
            host, zone = meta.get("host"), meta.get("zone")
            c_vim = c["computeResource"]["vimId"]
            server = c["computeResource"]["resourceId"]
            vnfc = topo.add(
                Node(
                    f"vnfc:{c['id']}",
                    c["id"].split("-vdu-", 1)[-1],
                    "vnfc",
                    meta.get("status") or "unknown",
                    vnf["vnfProfileId"],
                    [
                        ("VNFC", c["id"]),
                        ("VDU", c["vduId"]),
                        ("Status", meta.get("status") or "-"),
                        ("Addresses", _addresses(c)),
                        ("Server id", server),
                        ("VIM", vims.get(c_vim, (c_vim, ""))[0]),
                        ("VIM id", c_vim),
                        ("Host", host or "-"),
                        ("Zone", zone or "-"),
                    ],
                    Resource(ResourceKind.SERVER, server, c_vim) if server else None,
                )
            )
            topo.link(vnf_node.id, vnfc.id)
            v_id = vim_node(c_vim)
            place = v_id
            if zone:
                place = topo.add(
                    Node(
                        f"zone:{c_vim}:{zone}",
                        zone,
                        "zone",
                        zones.get((c_vim, zone), "unknown"),
                        vims.get(c_vim, (c_vim, ""))[0],
                        [("Zone", zone), ("VIM id", c_vim)],
                        Resource(ResourceKind.ZONE, zone, c_vim),
                    )
                ).id
                topo.link(place, v_id)
            if host:
                h = topo.add(
                    Node(
                        f"host:{c_vim}:{host}",
                        host,
                        "host",
                        hosts.get((c_vim, host), "unknown"),
                        zone or "",
                        [("Host", host), ("Zone", zone or "-"), ("VIM id", c_vim)],
                        Resource(ResourceKind.HOST, host, c_vim),
                    )
                )
                topo.link(h.id, place)
                place = h.id
            topo.link(vnfc.id, place)
            for cp in c.get("vnfcCpInfo", []):
                cp_node = topo.add(
                    Node(
                        f"cp:{c['id']}:{cp['id']}",
                        cp["id"],
                        "cp",
                        "ok",
                        c["id"],
                        [("Connection point", cp["id"]), ("Port", cp.get("vnfLinkPortId") or "-")],
                    )
                )
                topo.link(vnfc.id, cp_node.id)
                where = cps.get((vnf_id, c["vduId"], cp["id"]))
                if where is None:
                    continue
                network, on_ns_vl = where
                if on_ns_vl:
                    target = ns_vl_node(network)
                    topo.link(ns_node.id, target)
                else:
                    target = f"vl:{vnf_id}:{network}"
                    if target not in topo.nodes:
                        topo.add(Node(target, network, "vl", "ok", vnf["vnfProfileId"]))
                        topo.link(vnf_node.id, target)
                topo.link(cp_node.id, target)
    return topo


# -- what the page shows -----------------------------------------------------------------
def _ops_of(svc: Services, ns: NsInstance, user: UiUser) -> list[Any]:
    """The NS's latest operations, newest first."""
    return svc.lcm.read.recent_ops(user.tenant_id, ns_instance_id=ns.id, limit=OPS_SHOWN)


def _alarms_of(svc: Services, ns_id: str, user: UiUser) -> list[Any]:
    """The NS's alarms, oldest first (as the nsfm list filtered on the NS)."""
    test = ColumnTest("ns_instance_id", "in", (ns_id,))
    return AlarmStore(svc.db).page(user.tenant_id, PageQuery(None, (test,), ALARMS_SHOWN))


def _scale_aspects(ns: NsInstance, view: dict[str, Any]) -> list[tuple[str, str]]:
    """(value, label) of every scaling aspect: the NS's own, then each VNF's."""
    levels = (ns.scale_status or {}).items()
    out = [(f"ns:{a}", f"NS aspect {a} (level {lvl})") for a, lvl in levels]
    for vnf in view.get("vnfInstance", []):
        for sc in (vnf.get("instantiatedVnfInfo") or {}).get("scaleStatus", []):
            label = f"{vnf['vnfProfileId']}: {sc['aspectId']} (level {sc['scaleLevel']})"
            out.append((f"vnf:{vnf['id']}:{sc['aspectId']}", label))
    return out


def _vnf_choices(view: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (v["id"], f"{v['vnfProfileId']} ({v['id'][:8]})")
        for v in view.get("vnfInstance", [])
        if v["instantiationState"] == "INSTANTIATED"
    ]


def _header_values(svc: Services, ns: NsInstance, user: UiUser) -> dict[str, Any]:
    busy = bool(ns.current_op_id)
    allowed = [op.value for op in ns_operations(ns.ns_state, busy)] if user.can_operate else []
    forms = {OpType.SCALE.value, OpType.HEAL.value, OpType.UPDATE.value}
    view = svc.lcm.read.ns_view(ns, API_BASE) if forms & set(allowed) else {}
    return {
        "ns": ns,
        "busy": busy,
        "allowed": allowed,
        "deletable": ns_deletable(ns.ns_state, busy) and user.can_operate,
        "aspects": _scale_aspects(ns, view) if view else [],
        "vnf_choices": _vnf_choices(view) if view else [],
    }


def _topology_values(svc: Services, ns: NsInstance, user: UiUser) -> dict[str, Any]:
    topo = build_topology(svc, ns, user.scope)
    return {"ns": ns, "topo": topo, "graph": topo.spec()}


def _version(ns: NsInstance) -> str:
    """Changes with every write to the NS row (an operation claims and releases it)."""
    return f"{ns.ns_state}/{ns.current_op_id or ''}/{ns.updated_at.isoformat()}"


@router.get("/ui/ns/{ns_id}", response_class=HTMLResponse)
def ns_detail(
    ns_id: str,
    request: Request,
    user: UiUser = Depends(viewer),
    svc: Services = Depends(services),
) -> HTMLResponse:
    """The NS page: header, actions, topology graph and table, VNFs, operations, alarms."""
    ns = svc.lcm.get(ns_id, user.tenant_id)
    values = {**_header_values(svc, ns, user), **_topology_values(svc, ns, user)}
    return page(
        request,
        TEMPLATE,
        **values,
        ops=_ops_of(svc, ns, user),
        alarms=_alarms_of(svc, ns.id, user),
        version=_version(ns),
    )


@router.get("/ui/ns/{ns_id}/topology", response_class=HTMLResponse)
def ns_topology(
    ns_id: str,
    request: Request,
    user: UiUser = Depends(viewer),
    svc: Services = Depends(services),
) -> HTMLResponse:
    """The topology graph and table (a fragment)."""
    ns = svc.lcm.get(ns_id, user.tenant_id)
    return fragment(request, TEMPLATE, "topology", **_topology_values(svc, ns, user))


@router.get("/ui/ns/{ns_id}/events")
async def ns_events(
    ns_id: str,
    request: Request,
    v: str = "",
    t: str = "",
    user: UiUser = Depends(viewer),
    svc: Services = Depends(services),
) -> StreamingResponse:
    """Server-sent events of the NS page: ``header`` when its state or open operation
    changes, ``topology`` when a node or link changes, ``ops`` with the operations list.
    ``v`` and ``t``: the state and topology versions the page shows already."""
    await run_in_threadpool(svc.lcm.get, ns_id, user.tenant_id)  # 404 before streaming
    seen = {"version": v, "topology": t}

    def check() -> tuple[list[tuple[str, str]], bool]:
        try:
            ns = svc.lcm.get(ns_id, user.tenant_id)
        except NotFound:
            return [("header", "<p class='problem'>This NS instance was deleted.</p>")], True
        events: list[tuple[str, str]] = []
        version = _version(ns)
        changed = version != seen["version"]
        if changed or ns.current_op_id:
            values = _topology_values(svc, ns, user)
            sig = values["topo"].signature()
            if sig != seen["topology"]:
                seen["topology"] = sig
                events.append(("topology", block_html(request, TEMPLATE, "topology", **values)))
        if changed:
            seen["version"] = version
            events.append(
                ("header", block_html(request, TEMPLATE, "header", **_header_values(svc, ns, user)))
            )
            events.append(
                ("ops", block_html(request, TEMPLATE, "ops", ns=ns, ops=_ops_of(svc, ns, user)))
            )
        return events, False

    async def poll() -> tuple[list[tuple[str, str]], bool]:
        return await run_in_threadpool(check)

    return sse(request, poll, interval=0.5)


def _metric_rows(svc: Services, res: Resource | None, user: UiUser) -> list[tuple[str, Any]]:
    """The current value of each metric of ``res`` that has data (none without a hub)."""
    if res is None or svc.metrics is None:
        return []
    try:
        body = svc.metrics.of_resource(res, user.tenant_id, None)
    except NfvoError:
        return []
    return [
        (name, round(stat["last"], 2) if isinstance(stat["last"], float) else stat["last"])
        for name, stat in body.get("metrics", {}).items()
        if not stat.get("noData")
    ]


@router.get("/ui/ns/{ns_id}/node/{node_id:path}", response_class=HTMLResponse)
def ns_node(
    ns_id: str,
    node_id: str,
    request: Request,
    user: UiUser = Depends(viewer),
    svc: Services = Depends(services),
) -> HTMLResponse:
    """The side panel of one topology node: its ids, addresses, host, zone, VIM and current
    metrics (when monitoring has them)."""
    ns = svc.lcm.get(ns_id, user.tenant_id)
    node = build_topology(svc, ns, user.scope).nodes.get(node_id)
    if node is None:
        raise NotFound(f"NS instance {ns_id} has no node {node_id} (any more)")
    return page(
        request,
        "ns/detail_node.html",
        block="panel",
        ns=ns,
        node=node,
        metrics=_metric_rows(svc, node.metrics, user),
    )


# -- actions -------------------------------------------------------------------------------
def _started(request: Request, op: NsLcmOpOcc) -> Response:
    """Where a started operation goes: its live page."""
    target = f"/ui/ops/{op.id}"
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return Response(status_code=303, headers={"Location": target})


def _start(svc: Services, ns_id: str, op: OpType, body: dict[str, Any], user: UiUser) -> Any:
    return svc.lcm.start(ns_id, op, body, user.tenant_id)


@router.post("/ui/ns/{ns_id}/scale")
def ns_scale(
    ns_id: str,
    request: Request,
    aspect: str = Form(..., max_length=600),
    direction: str = Form("SCALE_OUT", max_length=16),
    steps: int = Form(1, ge=1, le=100),
    user: UiUser = Depends(operator),
    svc: Services = Depends(services),
) -> Response:
    """Scale the NS (an NS aspect: SCALE_NS) or one VNF (a VNF aspect: SCALE_VNF)."""
    if direction not in ("SCALE_OUT", "SCALE_IN"):
        raise BadRequest("direction must be SCALE_OUT or SCALE_IN", field="direction")
    kind, _, rest = aspect.partition(":")
    if kind == "ns" and rest:
        body: dict[str, Any] = {
            "scaleType": "SCALE_NS",
            "scaleNsData": {
                "scaleNsByStepsData": {
                    "scalingDirection": direction,
                    "aspectId": rest,
                    "numberOfSteps": steps,
                }
            },
        }
    elif kind == "vnf" and ":" in rest:
        vnf_id, _, aspect_id = rest.rpartition(":")
        body = {
            "scaleType": "SCALE_VNF",
            "scaleVnfData": [
                {
                    "vnfInstanceId": vnf_id,
                    "scaleVnfType": direction,
                    "scaleByStepData": {"aspectId": aspect_id, "numberOfSteps": steps},
                }
            ],
        }
    else:
        raise BadRequest("choose a scaling aspect", field="aspect")
    return _started(request, _start(svc, ns_id, OpType.SCALE, body, user))


@router.post("/ui/ns/{ns_id}/heal")
def ns_heal(
    ns_id: str,
    request: Request,
    vnf_id: str = Form("", max_length=255),
    heal_type: str = Form("RESTART", max_length=16),
    user: UiUser = Depends(operator),
    svc: Services = Depends(services),
) -> Response:
    """Heal one VNF (restart or recreate its VNFCs) or, with no VNF chosen, the whole NS."""
    if heal_type not in ("RESTART", "RECREATE"):
        raise BadRequest("the heal type must be RESTART or RECREATE", field="heal_type")
    if vnf_id:
        body: dict[str, Any] = {
            "healVnfData": [{"vnfInstanceId": vnf_id, "additionalParams": {"healType": heal_type}}]
        }
    else:
        degree = "HEAL_RESTORE" if heal_type == "RECREATE" else "HEAL_RESTART"
        body = {"healNsData": {"degreeHealing": degree}}
    return _started(request, _start(svc, ns_id, OpType.HEAL, body, user))


@router.post("/ui/ns/{ns_id}/update")
def ns_update(
    ns_id: str,
    request: Request,
    vnf_id: str = Form(..., max_length=255),
    change_state_to: str = Form(..., max_length=16),
    user: UiUser = Depends(operator),
    svc: Services = Depends(services),
) -> Response:
    """UPDATE OPERATE_VNF: start or stop every VNFC of one VNF."""
    body = {
        "updateType": "OPERATE_VNF",
        "operateVnfData": [{"vnfInstanceId": vnf_id, "changeStateTo": change_state_to}],
    }
    return _started(request, _start(svc, ns_id, OpType.UPDATE, body, user))


@router.post("/ui/ns/{ns_id}/terminate")
def ns_terminate(
    ns_id: str,
    request: Request,
    termination_type: str = Form("GRACEFUL", max_length=16),
    user: UiUser = Depends(operator),
    svc: Services = Depends(services),
) -> Response:
    """Terminate the NS (its VNFs, then its virtual links)."""
    body = {"terminationType": termination_type}
    return _started(request, _start(svc, ns_id, OpType.TERMINATE, body, user))
