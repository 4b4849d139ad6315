"""From the live inventory of one VIM to the consolidation / rebalance planners' input.

Hosts are the synced ``vim_hosts`` rows (their usage counts every server on the host, nfvo's
own and others'; so servers nfvo does not own are immovable load already inside it). The
VDU instances nfvo may move are its VNFC rows on the VIM, sized as their VDUs, with the
placement rules of their NS re-derived from the descriptors exactly as instantiation derived
them (``placement_inputs``): demand ids ``<vnf_instance_id>/<vdu_id>-<index>``. A VNFC of an
NS with an operation open, or whose descriptors are gone, stays where it is (immovable).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from nfvo.catalog.descriptors import Nsd, Vnfd
from nfvo.lcm import codec
from nfvo.lcm.plan import NsPlan, VnfPlan, placement_inputs
from nfvo.lcm.states import NsState
from nfvo.optimizer.model import Demand, HostCapacity, PlacementRule
from nfvo.vnfm.base import VnfDeploymentSpec

Descriptors = Callable[[str], tuple[Nsd, dict[str, Vnfd]]]


@dataclass(frozen=True)
class VnfcRef:
    """Which VNFC row a planner demand stands for, and where it ran when planned."""

    ns_id: str
    vnf_id: str
    vdu_id: str
    index: int
    server_id: str
    host: str


@dataclass(frozen=True)
class RunningRow:
    """One VNFC of nfvo on the VIM as the inventory holds it (plain values)."""

    ns_id: str
    ns_state: str
    ns_busy: bool  # an operation is open on the NS
    nsd_info_id: str
    flavour_id: str | None
    vnf_id: str
    vnf_spec: Mapping[str, Any]
    vdu_id: str
    index: int
    server_id: str
    host: str | None


@dataclass
class PlanInputs:
    """The planners' input and the demand id -> VNFC map to turn migrations into steps."""

    hosts: list[HostCapacity]
    running: list[Any]  # nfvo.optimizer.plans.Running
    rules: list[PlacementRule]
    vnfcs: dict[str, VnfcRef] = field(default_factory=dict)


def demand_key(vdu_id: str, index: int) -> str:
    """``<vdu_id>-<index>``: how specs and demand ids name a VDU instance."""
    return f"{vdu_id}-{index}"


def split_demand(demand_id: str) -> tuple[str, str, int]:
    """(VNF instance id, VDU id, index) of ``<vnf_instance_id>/<vdu_id>-<index>``."""
    vnf_id, _, key = demand_id.partition("/")
    vdu_id, _, index = key.rpartition("-")
    return vnf_id, vdu_id, int(index)


def host_capacities(
    rows: Sequence[Any],
    placed: Mapping[str, tuple[float, float, float, int]],
    held: Mapping[str, tuple[str, str]] | None = None,
) -> list[HostCapacity]:
    """``HostCapacity`` per synced host: capacity x ratio, minus the synced usage and what
    nfvo recorded on the host since the sync (``placed``); ``held``: hosts an availability
    window holds (labelled with its id)."""
    out = []
    for h in rows:
        window = (held or {}).get(h.name)
        more = placed.get(h.name, (0.0, 0.0, 0.0, 0))
        out.append(
            HostCapacity.from_inventory(
                h.name,
                h.zone,
                (h.vcpus, h.ram_mib, h.disk_gib),
                (h.cpu_allocation_ratio, h.ram_allocation_ratio, h.disk_allocation_ratio),
                (h.vcpus_used + more[0], h.ram_mib_used + more[1], h.disk_gib_used + more[2]),
                state=h.state,
                labels=None if window is None else {"availability_window": window[1]},
            )
        )
    return out


def _ns_demands(
    vim_id: str, rows: Sequence[RunningRow], descriptors: Descriptors
) -> tuple[list[Demand], list[PlacementRule]] | None:
    """The NS's demands and rules on the VIM as instantiation derived them; None when its
    descriptors cannot be read any more."""
    first = rows[0]
    specs: dict[str, VnfDeploymentSpec] = {}
    for r in rows:
        if r.vnf_id not in specs:
            specs[r.vnf_id] = codec.spec_from_json(dict(r.vnf_spec))
    try:
        nsd, vnfds = descriptors(first.nsd_info_id)
        plan = NsPlan(
            first.ns_id,
            nsd.nsd_id,
            first.flavour_id or "",
            None,
            [],
            [VnfPlan(s) for s in specs.values()],
            [],
        )
        inp = placement_inputs(plan, vnfds, nsd).get(vim_id)
    except Exception:  # a deleted package, a descriptor this version cannot read
        return None
    if inp is None:
        return None
    labelled = [
        PlacementRule(r.kind, r.scope, list(r.members), r.label or label)
        for r, label in zip(inp.rules, inp.labels, strict=True)
    ]
    return inp.demands, labelled


def _fallback_demands(rows: Sequence[RunningRow]) -> list[Demand]:
    """Demands sized from the stored specs alone (no rules): for immovable VNFCs."""
    out = []
    for r in rows:
        spec = codec.spec_from_json(dict(r.vnf_spec))
        vdu = next((v for v in spec.vdus if v.vdu_id == r.vdu_id), None)
        if vdu is not None:
            demand_id = f"{r.vnf_id}/{demand_key(r.vdu_id, r.index)}"
            out.append(Demand(demand_id, vdu.vcpus, vdu.ram_mib, vdu.disk_gib, vdu.zone))
    return out


def running_inputs(
    vim_id: str,
    hosts: list[HostCapacity],
    rows: Sequence[RunningRow],
    descriptors: Descriptors,
) -> PlanInputs:
    """The planners' input for one VIM from its hosts and nfvo's VNFC rows on it (a VNFC
    recorded on a host the VIM's inventory does not list is left out)."""
    from nfvo.optimizer.plans import Running  # the planners' own record

    known = {h.name for h in hosts}
    by_ns: dict[str, list[RunningRow]] = {}
    for r in rows:
        if r.host and (r.host in known or not known):  # on a host the last sync did not see:
            by_ns.setdefault(r.ns_id, []).append(r)  # its load is wherever the VIM counts it
    out = PlanInputs(hosts=hosts, running=[], rules=[])
    for ns_id, ns_rows in by_ns.items():
        first = ns_rows[0]
        derived = _ns_demands(vim_id, ns_rows, descriptors)
        demands, rules = derived if derived is not None else (_fallback_demands(ns_rows), [])
        movable = (
            derived is not None and first.ns_state == NsState.INSTANTIATED and not first.ns_busy
        )
        at = {(r.vnf_id, r.vdu_id, r.index): r for r in ns_rows}
        present: set[str] = set()
        for d in demands:
            vnf_id, vdu_id, index = split_demand(d.id)
            row = at.get((vnf_id, vdu_id, index))
            if row is None or row.host is None:
                continue  # not created (or its host unknown): nothing to move
            present.add(d.id)
            out.vnfcs[d.id] = VnfcRef(ns_id, vnf_id, vdu_id, index, row.server_id, row.host)
            out.running.append(
                Running(
                    d.id,
                    row.host,
                    d.vcpus,
                    d.ram_mib,
                    d.disk_gib,
                    group=d.group,
                    vnf_id=vnf_id,
                    ns_id=ns_id,
                    zone_pin=d.zone,
                    movable=movable,
                )
            )
        groups = {d.group for d in demands if d.id in present and d.group}
        for rule in rules:
            members = [m for m in rule.members if m in present or m in groups]
            if members:
                out.rules.append(PlacementRule(rule.kind, rule.scope, members, rule.label))
    return out
