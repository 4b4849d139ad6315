"""Asking the optimizer where each VDU instance goes: all of a planned NS at instantiation
(``place_plan``), and the VDU instances a SCALE, HEAL or UPDATE adds or recreates, next to
those already running (``place_changes``). Both take demands and rules from the planner
(``placement_inputs``), so every operation keeps the same rules; the optimizer stays a pure
function of (hosts, demands, rules), run with the strategy the VIM account names
(``config.placement_strategy``). Each answer becomes a ``VimDecision`` (strategy, bounds,
assignment and explanation per VDU instance) the operation records."""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.orm import Session

from nfvo import optimizer
from nfvo.catalog.descriptors import Nsd, Vnfd
from nfvo.inventory.lcm_repo import PlacementRecordRepository
from nfvo.inventory.models import NsLcmOpOcc, NsLcmOpPlacement
from nfvo.lcm.model import ChangeSet, NsLevelPlan, PlacementBounds
from nfvo.lcm.plan import NsPlan, PlacementInput, VnfPlan, apply_placement, placement_inputs
from nfvo.optimizer.bounds import best_bound
from nfvo.optimizer.model import (
    Demand,
    Explanation,
    FilterVerdict,
    HostCapacity,
    Placement,
    PlacementRule,
)
from nfvo.resources.service import ResourceService, placement_strategies
from nfvo.vnfm.base import VnfDeploymentSpec

# Usage older than this is re-synced from the VIM before placing; newer is reused (operations
# running at the same moment are covered by the VIM placing a VDU whose planned host is full).
FRESH_SYNC_S = 5.0
# Seconds the configuration-LP lower bound may take per placement (a proven bound whenever it
# stops; it changes no assignment, only what the op occurrence records as the bound).
BOUND_BUDGET_S = 0.05


class PlacementFailed(Exception):
    """Some VDU instances fit on no host of their VIM; ``problem`` names them and why (the
    descriptor rules they are bound by included)."""

    def __init__(self, problem: dict[str, Any]) -> None:
        super().__init__(problem["detail"])
        self.problem = problem


def strategy_names() -> list[str]:
    """The placement strategies a VIM account may name."""
    return placement_strategies()


def _strategy_of(resources: ResourceService, vim_id: str) -> str | None:
    """The strategy the VIM account names (None: the optimizer's default); PlacementFailed
    when it names one this optimizer does not have (renamed since it was checked)."""
    name = resources.placement_strategy(vim_id)
    if name is not None and name not in strategy_names():
        raise PlacementFailed(
            {
                "title": "Placement failed",
                "status": 422,
                "vimAccountId": vim_id,
                "field": "config.placement_strategy",
                "detail": f"VIM account {vim_id} names placement strategy {name!r} in "
                f"config.placement_strategy, which is unknown; known: "
                f"{', '.join(strategy_names())}",
            }
        )
    return name


def _solve(
    hosts: Sequence[HostCapacity],
    demands: Sequence[Demand],
    rules: Sequence[PlacementRule],
    strategy: str | None,
) -> optimizer.Placement:
    """One optimizer run; ``strategy`` None: the optimizer's own default. Where the volume
    and anti-affinity bounds leave a gap, the configuration LP gets ``BOUND_BUDGET_S``."""
    return optimizer.place(
        hosts, demands, rules, strategy, bound=best_bound, bound_budget_s=BOUND_BUDGET_S
    )


def _split(demand_id: str) -> tuple[str, str, int]:
    """(VNF instance id, VDU id, index) of a demand id ``<vnf>/<vdu>-<index>``."""
    vnf_id, _, key = demand_id.partition("/")
    vdu_id, _, index = key.rpartition("-")
    return vnf_id, vdu_id, int(index) if index.isdigit() else 0


@dataclass
class VimDecision:
    """What the optimizer decided for the VDU instances of one operation on one VIM: the
    strategy, its answer (bounds, assignment, explanation per demand) and the hosts' zones.
    Operations record it (``to_dict``); a what-if reads ``placement`` directly."""

    vim_account_id: str
    strategy: str
    placement: Placement
    zones: dict[str, str] = field(default_factory=dict)

    def explanation(self, demand_id: str) -> Explanation:
        """The optimizer's explanation of a demand, or a minimal one where it gave none."""
        found = self.placement.explanations.get(demand_id)
        if found is not None:
            return found
        host = self.placement.assignments.get(demand_id)
        return Explanation(
            demand_id,
            host=host,
            zone=self.zones.get(host) if host else None,
            reason=self.placement.unplaced.get(demand_id),
        )

    def to_dict(self) -> dict[str, Any]:
        """The API's camelCase view (the placement record of an operation, per VIM)."""
        p = self.placement

        def who(demand_id: str) -> dict[str, Any]:
            vnf_id, vdu_id, index = _split(demand_id)
            return {"vnfInstanceId": vnf_id, "vduId": vdu_id, "index": index}

        ids = sorted({*p.assignments, *p.unplaced, *p.explanations}, key=_split)
        return {
            "vimAccountId": self.vim_account_id,
            "strategy": self.strategy,
            "algorithm": p.algorithm,
            "objective": p.objective,
            "lowerBound": p.lower_bound,
            "bounds": dict(p.bounds),
            "gap": p.gap,
            "solveTimeS": p.solve_time_s,
            "boundTimeS": p.bound_time_s,
            "assignments": [
                {**who(d), "host": h, "zone": self.zones.get(h)}
                for d in ids
                if (h := p.assignments.get(d)) is not None
            ],
            "unplaced": [{**who(d), "reason": p.unplaced[d]} for d in ids if d in p.unplaced],
            "explanations": [{**who(d), **self.explanation(d).to_dict()} for d in ids],
        }


def _policy_name(blocking: str | None, rules: Sequence[PlacementRule]) -> str | None:
    """The descriptor policy name (rule label) an explanation's ``blocking_rule`` stands for:
    the label itself, or the rule whose quoted label the optimizer's wording carries."""
    if blocking is None:
        return None
    labels = [r.label for r in rules if r.label]
    if blocking in labels:
        return blocking
    quoted = [lbl for lbl in labels if f"'{lbl}'" in blocking]
    return max(quoted, key=len) if quoted else blocking


def _decision(
    vim_id: str,
    strategy: str | None,
    result: Placement,
    hosts: Sequence[HostCapacity],
    rules: Sequence[PlacementRule] = (),
) -> VimDecision:
    """The decision of one VIM; explanations name a blocking rule by its policy name."""
    for exp in result.explanations.values():
        exp.blocking_rule = _policy_name(exp.blocking_rule, rules)
    name = strategy or getattr(optimizer, "DEFAULT_STRATEGY", None) or result.algorithm
    return VimDecision(vim_id, name, result, {h.name: h.zone for h in hosts})


def _failure(vim_id: str, decision: VimDecision, inp: PlacementInput) -> PlacementFailed:
    """PlacementFailed naming each unplaced VDU instance, why (the optimizer's explanation:
    the rule and the dimension that block it), and the descriptor rules it is bound by."""
    unplaced = decision.placement.unplaced
    covered = [_members(r, inp.demands) for r in inp.rules]
    described = {r.label: lbl for r, lbl in zip(inp.rules, inp.labels, strict=True) if r.label}
    parts, blocking, dims = [], set(), set()
    for demand_id in sorted(unplaced):
        why = decision.explanation(demand_id)
        vnf_id, _, key = demand_id.partition("/")
        text = f"{key} of VNF {vnf_id}: {why.reason or unplaced[demand_id]}"
        if why.blocking_rule:
            blocking.add(why.blocking_rule)
            text += f" (blocked by {described.get(why.blocking_rule, why.blocking_rule)})"
        else:
            labels = [lbl for lbl, m in zip(inp.labels, covered, strict=True) if demand_id in m]
            if labels:
                text += f" (bound by {'; '.join(labels)})"
        if why.blocking_dimension:
            dims.add(why.blocking_dimension)
            text += f" (short of {why.blocking_dimension})"
        parts.append(text)
    rules = sorted({lbl for lbl, m in zip(inp.labels, covered, strict=True) if m & set(unplaced)})
    problem: dict[str, Any] = {
        "title": "Placement failed",
        "status": 422,
        "vimAccountId": vim_id,
        "detail": f"no host of VIM {vim_id} can take " + "; ".join(parts),
        "placementRules": rules,
        "unplacedVdus": sorted(unplaced),
        "strategy": decision.strategy,
    }
    if blocking:
        problem["blockingRules"] = sorted(blocking)
    if dims:
        problem["blockingDimensions"] = sorted(dims)
    return PlacementFailed(problem)


def _members(rule: PlacementRule, demands: Sequence[Demand]) -> set[str]:
    """The demand ids a rule covers (its members are demand ids or groups)."""
    names = set(rule.members)
    return {d.id for d in demands if d.id in names or (d.group is not None and d.group in names)}


def _hosts(resources: ResourceService, vim_id: str, sync: bool) -> list[HostCapacity]:
    """The VIM's hosts with their free room and state; ``sync``: re-synced first when stale
    (else the last sync plus what nfvo placed since: no VIM call, as when an operation is
    requested)."""
    if sync:
        resources.sync_if_older(vim_id, FRESH_SYNC_S)
    return list(resources.host_capacities(vim_id))


def place_plan(
    ns_plan: NsPlan,
    vnfds: Mapping[str, Vnfd],
    nsd: Nsd,
    resources: ResourceService,
    *,
    sync: bool = True,
    decisions: dict[str, VimDecision] | None = None,
) -> tuple[NsLevelPlan, list[VnfDeploymentSpec]]:
    """Place every VDU instance (VIM inventory re-synced when stale, unless not ``sync``):
    the NS-level plan (VNF instance ids in dependency layers, the optimizer's bounds per VIM)
    and the VNFs' specs, hosts filled in. PlacementFailed when some VDU instance fits nowhere;
    a VIM whose inventory was never synced is left out when not ``sync``. ``decisions``
    receives the optimizer's decision per VIM (also the one that failed, before the raise)."""
    bounds: dict[str, PlacementBounds] = {}
    for vim_id, inp in placement_inputs(ns_plan, vnfds, nsd).items():
        hosts = _hosts(resources, vim_id, sync)
        if not hosts and not sync:
            continue  # nothing known yet: the operation syncs, then places
        strategy = _strategy_of(resources, vim_id)
        result = _solve(hosts, inp.demands, inp.rules, strategy)
        decision = _decision(vim_id, strategy, result, hosts, inp.rules)
        if decisions is not None:
            decisions[vim_id] = decision
        if result.unplaced:
            raise _failure(vim_id, decision, inp)
        apply_placement(ns_plan, result)
        bounds[vim_id] = PlacementBounds(
            algorithm=result.algorithm,
            objective=result.objective,
            lower_bound=result.lower_bound,
            gap=result.gap,
            solve_time_s=result.solve_time_s,
        )
    profile_to_vnfs: dict[str, list[str]] = defaultdict(list)
    for vnf in ns_plan.vnfs:
        profile_to_vnfs[vnf.spec.vnf_profile_id].append(vnf.spec.vnf_instance_id)
    layers = [[vid for p in layer for vid in profile_to_vnfs[p]] for layer in ns_plan.layers]
    plan = NsLevelPlan(list(ns_plan.virtual_links), layers, bounds)
    return plan, [vnf.spec for vnf in ns_plan.vnfs]


# -- placing next to what runs ---------------------------------------------------------------
@dataclass(frozen=True)
class _Where:
    """What the VDU instances already placed impose on one new demand."""

    excluded: frozenset[str]
    host: str | None
    zone: str | None
    soft_host: str | None
    rules: tuple[int, ...]


def place_more(
    hosts: Sequence[HostCapacity],
    inp: PlacementInput,
    fixed: Mapping[str, str],
    new: Iterable[str],
    prefer: Mapping[str, str] | None = None,
    *,
    strategy: str | None = None,
    runs: list[Placement] | None = None,
) -> tuple[dict[str, str], dict[str, str]]:
    """Place the demands ``new`` of ``inp`` while the demands ``fixed`` stay where they run
    (demand id -> host): returns (assignments, unplaced with reasons).

    A rule binding a new demand to placed ones becomes host exclusions (anti-affinity) or a
    host / zone pin (affinity); new demands under the same constraints go to the optimizer
    together (with the rules between them), one batch after the other, each batch seeing the
    placements of the batches before. ``prefer``: a host to try first for a demand (a healed
    VNFC's former host), given up when it does not fit. ``runs`` receives each optimizer
    answer (explanations of hosts a rule excluded for running members included).
    """
    demands = {d.id: d for d in inp.demands}
    zone_of = {h.name: h.zone for h in hosts}
    covered = [_members(r, inp.demands) for r in inp.rules]
    free = {h.name: list(h.free()) for h in hosts}
    placed = dict(fixed)
    prefer_left = dict(prefer or {})
    assignments: dict[str, str] = {}
    unplaced: dict[str, str] = {}

    def where(demand_id: str) -> _Where:
        d = demands[demand_id]
        excluded: set[str] = set()
        host, zone, rules = d.host, d.zone, []
        for index, (rule, members) in enumerate(zip(inp.rules, covered, strict=True)):
            if demand_id not in members:
                continue
            others = sorted({placed[m] for m in members if m != demand_id and m in placed})
            if not others:
                continue
            rules.append(index)
            if rule.kind == "anti_affinity":
                if rule.scope == "host":
                    excluded.update(others)
                else:
                    zones = {zone_of.get(h) for h in others}
                    excluded.update(h for h, z in zone_of.items() if z in zones)
            elif rule.scope == "host":
                host = host or others[0]
            else:
                zone = zone or zone_of.get(others[0])
        soft = prefer_left.get(demand_id) if host is None else None
        if soft is not None and soft in excluded:
            soft = None
        return _Where(frozenset(excluded), host, zone, soft, tuple(rules))

    remaining = [d for d in dict.fromkeys(new) if d in demands]
    while remaining:
        first = where(remaining[0])
        batch = [d for d in remaining if where(d) == first]
        pool = [
            replace(h, vcpus_free=f[0], ram_mib_free=f[1], disk_gib_free=f[2])
            for h in hosts
            if h.name not in first.excluded
            for f in [free[h.name]]
        ]
        ids = set(batch)
        batch_demands = [
            replace(
                demands[d],
                host=first.host or first.soft_host,
                zone=first.zone,
                exclude_hosts=demands[d].exclude_hosts | first.excluded,
            )
            for d in batch
        ]
        batch_rules = [
            PlacementRule(r.kind, r.scope, sorted(m & ids), r.label)
            for r, m in zip(inp.rules, covered, strict=True)
            if len(m & ids) > 1
        ]
        result = _solve(pool, batch_demands, batch_rules, strategy)
        _note_exclusions(result, first, inp)
        if runs is not None:
            runs.append(result)
        for demand_id, host in result.assignments.items():
            placed[demand_id] = assignments[demand_id] = host
            size = demands[demand_id].size()
            free[host] = [a - b for a, b in zip(free[host], size, strict=True)]
        retry = []
        for demand_id, why in result.unplaced.items():
            if first.soft_host is not None:
                prefer_left.pop(demand_id, None)  # the former host is no option: any host
                retry.append(demand_id)
                continue
            if first.excluded:
                labels = "; ".join(inp.labels[i] for i in first.rules)
                why = (
                    f"rule {labels} excludes host(s) {', '.join(sorted(first.excluded))} "
                    f"(where its other members run); on the other hosts: {why}"
                )
            elif first.rules:
                why += f" (bound by {'; '.join(inp.labels[i] for i in first.rules)})"
            unplaced[demand_id] = why
        remaining = retry + [d for d in remaining if d not in ids]
    return assignments, unplaced


def _note_exclusions(result: Placement, where: _Where, inp: PlacementInput) -> None:
    """Add to the explanations the hosts left out because a rule keeps the demand away from
    (or pins it next to) members already running, and name that rule when it blocks."""
    if not where.rules:
        return
    rules = [inp.rules[i] for i in where.rules]
    label = "; ".join(r.label or inp.labels[i] for r, i in zip(rules, where.rules, strict=True))
    for exp in result.explanations.values():
        if where.excluded:
            kept = tuple(sorted(where.excluded)[:5])
            exp.filtered.insert(0, FilterVerdict("running_members", len(where.excluded), kept))
        if exp.host is None and exp.blocking_rule is None:
            exp.blocking_rule = label


def _merged(runs: Sequence[Placement], hosts_used: Iterable[str]) -> Placement:
    """One answer from the batches of ``place_more``: every assignment and explanation; the
    objective counts the hosts receiving the placed demands, the bounds are the batches' best,
    times add up. A demand retried elsewhere keeps its last answer."""
    assignments: dict[str, str] = {}
    unplaced: dict[str, str] = {}
    explanations: dict[str, Explanation] = {}
    bounds: dict[str, float] = {}
    for run in runs:
        for demand_id, host in run.assignments.items():
            assignments[demand_id] = host
            unplaced.pop(demand_id, None)
        for demand_id, why in run.unplaced.items():
            unplaced[demand_id] = why
        explanations.update(run.explanations)
        for name, value in run.bounds.items():
            bounds[name] = max(bounds.get(name, 0.0), value)
    objective = float(len(set(hosts_used)))
    lower = min(objective, max((r.lower_bound for r in runs), default=0.0))
    return Placement(
        assignments=assignments,
        unplaced=unplaced,
        objective=objective,
        lower_bound=lower,
        gap=(objective - lower) / objective if objective else 0.0,
        solve_time_s=sum(r.solve_time_s for r in runs),
        algorithm=runs[0].algorithm if runs else "",
        explanations=explanations,
        bounds=bounds,
        bound_time_s=sum(r.bound_time_s for r in runs),
    )


@dataclass
class RunningVnfc:
    """A VNFC of the NS as recorded: where it runs (``host`` None when unknown)."""

    vnf_instance_id: str
    vdu_id: str
    index: int
    key: str
    host: str | None
    has_server: bool


def specs_after(
    specs: Mapping[str, VnfDeploymentSpec], changes: ChangeSet
) -> tuple[dict[str, VnfDeploymentSpec], set[str]]:
    """The NS's VNF specs once the change is applied, and the VNFs deployed anew."""
    after = {v: copy.deepcopy(s) for v, s in specs.items() if v not in set(changes.remove)}
    for vnf_id, sc in changes.scale.items():
        for vdu in after[vnf_id].vdus:
            vdu.count = sc.after.get(vdu.vdu_id, vdu.count)
    fresh = set()
    for vnf_id, spec in changes.add.items():
        after[vnf_id], _ = spec, fresh.add(vnf_id)
    for vnf_id, rep in changes.replace.items():
        after[vnf_id], _ = rep.after, fresh.add(vnf_id)
    return after, fresh


def place_changes(
    ns_id: str,
    nsd: Nsd,
    vnfds: Mapping[str, Vnfd],
    flavour_id: str,
    specs: Mapping[str, VnfDeploymentSpec],
    vnfcs: Sequence[RunningVnfc],
    changes: ChangeSet,
    resources: ResourceService,
    *,
    sync: bool = False,
    decisions: dict[str, VimDecision] | None = None,
) -> None:
    """Place the VDU instances that ``changes`` adds (SCALE_VNF out, SCALE_NS out, ADD_VNF),
    redeploys (CHANGE_VNF_DF) or recreates (HEAL with RECREATE) with the rules of
    instantiation, next to the VNFCs that keep running; the hosts are written into the
    change set. PlacementFailed (before any VIM resource is touched) when some fit nowhere.
    Hosts come from the last inventory sync plus what nfvo placed since (``sync``: re-synced
    first when stale); on a VIM with no synced host, the VIM places them itself.
    ``decisions`` receives the optimizer's decision per VIM (the failed one too)."""
    after, fresh = specs_after(specs, changes)
    running = {(c.vnf_instance_id, c.vdu_id, c.index): c for c in vnfcs if c.has_server}
    healed = {
        (c.vnf_instance_id, c.vdu_id, c.index): c
        for vnf_id, heal in changes.heal.items()
        if heal.recreate
        for c in vnfcs
        if c.vnf_instance_id == vnf_id and c.key in set(heal.keys)
    }
    fixed: dict[str, str] = {}
    new: list[str] = []
    prefer: dict[str, str] = {}
    freed: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for vnf_id, spec in after.items():
        for vdu in spec.vdus:
            for index in range(vdu.count):
                demand_id = f"{vnf_id}/{vdu.vdu_id}-{index}"
                at = (vnf_id, vdu.vdu_id, index)
                vnfc = running.get(at)
                if vnf_id in fresh or (vnfc is None and vnf_id in changes.scale):
                    new.append(demand_id)
                elif vnfc is None:
                    continue  # not created (yet): no place to keep, none to find now
                elif at in healed:
                    new.append(demand_id)
                    if vnfc.host:
                        prefer[demand_id] = vnfc.host
                        _free(freed, vnfc.host, vdu)
                elif vnfc.host:
                    fixed[demand_id] = vnfc.host
    for vnf_id, rep in changes.replace.items():  # its old VNFCs go before the new ones come
        old = {v.vdu_id: v for v in rep.before.vdus}
        for c in vnfcs:
            if c.vnf_instance_id == vnf_id and c.host and c.has_server and c.vdu_id in old:
                _free(freed, c.host, old[c.vdu_id])
    if not new:
        return
    plan = NsPlan(ns_id, nsd.nsd_id, flavour_id, None, [], [VnfPlan(s) for s in after.values()], [])
    for vim_id, inp in placement_inputs(plan, vnfds, nsd).items():
        mine = [d.id for d in inp.demands if d.id in set(new)]
        hosts = [_with_freed(h, freed) for h in _hosts(resources, vim_id, sync)] if mine else []
        if not hosts:
            continue
        strategy = _strategy_of(resources, vim_id)
        runs: list[Placement] = []
        assignments, unplaced = place_more(
            hosts, inp, fixed, mine, prefer, strategy=strategy, runs=runs
        )
        merged = _merged(runs, assignments.values())
        merged.unplaced = dict(unplaced)
        decision = _decision(vim_id, strategy, merged, hosts, inp.rules)
        if decisions is not None:
            decisions[vim_id] = decision
        if unplaced:
            raise _failure(vim_id, decision, inp)
        _record(changes, assignments)


def _with_freed(h: HostCapacity, freed: Mapping[str, list[float]]) -> HostCapacity:
    """A host with the room of VNFCs about to go (healed, redeployed) given back."""
    if h.name not in freed:
        return h
    room = freed[h.name]
    return replace(
        h,
        vcpus_free=h.vcpus_free + room[0],
        ram_mib_free=h.ram_mib_free + room[1],
        disk_gib_free=h.disk_gib_free + room[2],
    )


def record(s: Session, op: NsLcmOpOcc, decisions: Mapping[str, VimDecision]) -> None:
    """Store the operation's placement decision (one entry per VIM) in the session's
    transaction, replacing what an earlier run of the same step recorded (nothing placed:
    nothing recorded)."""
    if decisions:
        PlacementRecordRepository(s).put(op, [d.to_dict() for _, d in sorted(decisions.items())])


def record_view(row: NsLcmOpPlacement) -> dict[str, Any]:
    """The API view of a recorded decision."""
    return {
        "nsLcmOpOccId": row.op_occ_id,
        "nsInstanceId": row.ns_instance_id,
        "operation": row.operation,
        "recordedAt": row.recorded_at.isoformat(),
        "vims": list(row.vims or []),
    }


def _free(freed: dict[str, list[float]], host: str, vdu: Any) -> None:
    room = freed[host]
    room[0] += vdu.vcpus
    room[1] += vdu.ram_mib
    room[2] += vdu.disk_gib


def _record(changes: ChangeSet, assignments: Mapping[str, str]) -> None:
    """Write the hosts into the change set (``<vdu_id>-<index>`` -> host per VNF)."""
    for demand_id, host in assignments.items():
        vnf_id, _, key = demand_id.partition("/")
        if vnf_id in changes.add:
            changes.add[vnf_id].hosts[key] = host
        elif vnf_id in changes.replace:
            changes.replace[vnf_id].after.hosts[key] = host
        elif vnf_id in changes.heal:
            changes.heal[vnf_id].hosts[key] = host
        elif vnf_id in changes.scale:
            changes.scale[vnf_id].hosts[key] = host
