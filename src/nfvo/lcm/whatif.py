"""Operator questions answered without deploying anything: "where would this NS (or this
scale) go, and why" (``plan``) and "how many more of this NS fit" (``capacity``).

Why it exists: an operator wants the placement an operation will get before asking for it.
The answer must be the one the operation then gets, so nothing here places by itself: an
instantiate plan runs the LCM's own planner (``plan_instantiation``) and placement
(``placement.place_plan(..., sync=False)``) on the inventory as last synced plus what nfvo
placed since, exactly as an INSTANTIATE request does before it is accepted; a scale plan runs
``LcmService._changes`` and its placement (``placement.place_changes``) without claiming the
NS or starting an operation. Nothing is written, reserved or asked of a VIM.

``capacity`` places one NS instance after another on one host snapshot, each taking room
before the next, with the same demands, rules and strategy as an instantiate.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, cast

from nfvo import optimizer
from nfvo.catalog.descriptors import Nsd, Vnfd
from nfvo.catalog.states import OperationalState, PackageKind
from nfvo.errors import BadRequest, Conflict, NotFound, UnprocessableEntity
from nfvo.inventory.lcm_repo import NsRecordsRepository
from nfvo.inventory.models import CatalogPackage, NsInstance, VimAccount
from nfvo.lcm import placement, requests
from nfvo.lcm.model import ChangeSet
from nfvo.lcm.plan import (
    NsPlan,
    PlacementInput,
    PlanError,
    placement_inputs,
    plan_instantiation,
    requested_ns_vl_cidrs,
)
from nfvo.lcm.service import LcmService, _unplaceable
from nfvo.lcm.states import NsState, OpType
from nfvo.optimizer.model import HostCapacity, Placement, PlacementRule
from nfvo.resources.service import ResourceService, Scope
from nfvo.vnfm.base import VnfDeploymentSpec

# The NS instance id a plan of an NS that does not exist yet uses for its VNF instance ids.
PLACEHOLDER_NS = "what-if"
MAX_CAPACITY = 1000  # most NS instances one capacity query places
DEFAULT_CAPACITY = 100
SHOWN_INSTANCES = 10  # capacity: instances listed with their hosts
MAX_HOST_ROWS = 1000  # plan: touched hosts listed per VIM
_USABLE = ("ENABLED", "PROCESSING")


@dataclass(frozen=True)
class _Vnf:
    """Who a VNF instance of a plan is: profile, index among the profile's, real id."""

    profile_id: str
    index: int
    vim_id: str
    real_id: str | None


class WhatIfService:
    """Plans and capacity answers over the LCM's own planning and placement (read-only)."""

    def __init__(self, lcm: LcmService) -> None:
        self.lcm = lcm

    @property
    def resources(self) -> ResourceService:
        resources = self.lcm.resources
        if resources is None:
            raise Conflict("no resource inventory: plans need the VIM accounts")
        return resources

    # -- plan ------------------------------------------------------------------------------
    def plan(self, body: Mapping[str, Any], tenant: str | None) -> dict[str, Any]:
        """The placement an INSTANTIATE (``nsdId`` or a NOT_INSTANTIATED ``nsInstanceId``
        with the InstantiateNsRequest fields) or a SCALE (``nsInstanceId`` and ``scale``)
        would get, with explanations, room left and rules; ``feasible`` false (still 200)
        when some VDU instance fits nowhere."""
        if not isinstance(body, Mapping):
            raise BadRequest("the request body must be a JSON object", field="body")
        for key in ("nsdId", "nsInstanceId"):
            if key in body and not isinstance(body[key], str):
                raise BadRequest(f"{key} must be a string", field=key)
        requests.check_create({k: body[k] for k in ("nsdId",) if k in body})
        if "scale" in body:
            return self._plan_scale(body, tenant)
        return self._plan_instantiate(body, tenant)

    def _plan_instantiate(self, body: Mapping[str, Any], tenant: str | None) -> dict[str, Any]:
        params = {k: v for k, v in body.items() if k not in ("nsdId", "nsInstanceId")}
        requests.check_request(OpType.INSTANTIATE, params)
        if not isinstance(params.get("nsFlavourId"), str):
            raise BadRequest("nsFlavourId is required", field="nsFlavourId")
        ns_id = body.get("nsInstanceId")
        if ns_id is not None:
            ns = self.lcm.get(ns_id, tenant)
            if ns.ns_state != NsState.NOT_INSTANTIATED:
                raise Conflict(
                    f"NS instance {ns_id} is {ns.ns_state}; an instantiate plan needs it "
                    "NOT_INSTANTIATED (plan a scale with 'scale' instead)"
                )
            pkg_id, owner, plan_id = ns.nsd_info_id, ns.tenant_id, ns.id
        else:
            if not isinstance(body.get("nsdId"), str) or not body["nsdId"]:
                raise BadRequest("nsdId or nsInstanceId is required", field="nsdId")
            pkg_id, owner, plan_id = self._nsd(body["nsdId"], tenant).id, tenant, PLACEHOLDER_NS
        nsd, vnfds = self.lcm.catalog.ns_descriptors(pkg_id)
        ns_plan = self._instantiation(plan_id, nsd, vnfds, params, owner)
        self._check_vims(
            {v.spec.vim_account_id: v.spec.vnf_profile_id for v in ns_plan.vnfs}, owner
        )
        decisions: dict[str, placement.VimDecision] = {}
        started = time.perf_counter()
        failure = None
        snapshot = _Snapshot(self.resources)
        try:
            placement.place_plan(
                ns_plan, vnfds, nsd, snapshot.view(), sync=False, decisions=decisions
            )
        except placement.PlacementFailed as exc:
            failure = exc.problem
        inputs = placement_inputs(ns_plan, vnfds, nsd)
        who = _who(ns_plan.vnfs, real=ns_id is not None)
        report = _Report(snapshot, who)
        for vim_id, inp in inputs.items():
            report.vim(vim_id, inp, decisions.get(vim_id), failure)
        out = report.render(failure)
        out.update(operation="INSTANTIATE", nsInstanceId=ns_id, nsdId=nsd.nsd_id)
        out["nsFlavourId"] = ns_plan.flavour_id
        out["nsInstantiationLevelId"] = ns_plan.instantiation_level_id
        out["seconds"] = round(time.perf_counter() - started, 6)
        return out

    def _plan_scale(self, body: Mapping[str, Any], tenant: str | None) -> dict[str, Any]:
        scale = body["scale"]
        if not isinstance(scale, dict):
            raise BadRequest("scale must be a JSON object (a ScaleNsRequest)", field="scale")
        extra = sorted(set(body) - {"nsInstanceId", "scale"})
        if extra:
            raise BadRequest("a scale plan takes nsInstanceId and scale only", field=extra[0])
        ns_id = body.get("nsInstanceId")
        if not ns_id:
            raise BadRequest("nsInstanceId is required with scale", field="nsInstanceId")
        requests.check_request(OpType.SCALE, scale)
        ns = self.lcm.get(ns_id, tenant)
        if ns.ns_state != NsState.INSTANTIATED:
            raise Conflict(
                f"SCALE needs an NS in INSTANTIATED; NS instance {ns_id} is {ns.ns_state}"
            )
        started = time.perf_counter()
        change_set, place, _ = self.lcm._changes(ns, OpType.SCALE, dict(scale))
        failure = None
        decisions: dict[str, placement.VimDecision] = {}
        if place is not None:
            try:
                decisions = place()
            except placement.PlacementFailed as exc:
                failure = exc.problem
        out = self._scale_report(ns, change_set, failure, decisions)
        out.update(operation="SCALE", nsInstanceId=ns.id, nsdId=ns.nsd_id)
        out["seconds"] = round(time.perf_counter() - started, 6)
        return out

    def _scale_report(
        self,
        ns: NsInstance,
        changes: ChangeSet,
        failure: dict[str, Any] | None,
        decisions: Mapping[str, placement.VimDecision],
    ) -> dict[str, Any]:
        """Rows for the VDU instances a scale adds (and the VNFs it removes)."""
        with self.lcm.db.session() as s:
            rows = list(NsRecordsRepository(s).vnfs(ns.id))
        profiles = {r.id: r.vnf_profile_id for r in rows}
        vims = {r.id: r.vim_account_id for r in rows}
        unplaced = set((failure or {}).get("unplacedVdus", []))
        added: list[tuple[str, str, str, int, dict[str, str]]] = []
        for vnf_id, sc in changes.scale.items():
            for vdu_id, after in sc.after.items():
                for i in range(sc.before.get(vdu_id, 0), after):
                    added.append((vnf_id, profiles.get(vnf_id, ""), vdu_id, i, sc.hosts))
        for vnf_id, spec in changes.add.items():
            vims[vnf_id] = spec.vim_account_id
            for vdu in spec.vdus:
                for i in range(vdu.count):
                    added.append((vnf_id, spec.vnf_profile_id, vdu.vdu_id, i, spec.hosts))
        zones: dict[str, dict[str, str]] = {}
        out_rows = []
        for vnf_id, profile, vdu_id, i, hosts in added:
            vim_id = vims.get(vnf_id, "")
            if vim_id not in zones:
                zones[vim_id] = {h.name: h.zone for h in self.resources.host_capacities(vim_id)}
            host = hosts.get(f"{vdu_id}-{i}")
            decision = decisions.get(vim_id)
            demand_id = f"{vnf_id}/{vdu_id}-{i}"
            explanation = decision.placement.explanations.get(demand_id) if decision else None
            row: dict[str, Any] = {
                "vnfProfileId": profile,
                "vnfInstanceId": vnf_id,
                "vduId": vdu_id,
                "index": i,
                "vimAccountId": vim_id,
                "host": host,
                "zone": zones[vim_id].get(host) if host else None,
                "explanation": explanation.to_dict() if explanation else None,
            }
            if demand_id in unplaced:
                row["reason"] = (explanation.reason if explanation else None) or (
                    failure["detail"] if failure else None
                )
                row["blockingRule"] = explanation.blocking_rule if explanation else None
                row["blockingDimension"] = explanation.blocking_dimension if explanation else None
            out_rows.append(row)
        return {
            "feasible": failure is None,
            "vdus": out_rows,
            "unplaced": [r for r in out_rows if "reason" in r],
            "removedVnfInstanceIds": sorted(changes.remove),
            "placementRules": (failure or {}).get("placementRules", []),
            "problem": failure,
        }

    # -- capacity --------------------------------------------------------------------------
    def capacity(
        self,
        nsd_id: str,
        flavour_id: str,
        vim_id: str,
        tenant: str | None,
        *,
        level_id: str | None = None,
        most: int = DEFAULT_CAPACITY,
    ) -> dict[str, Any]:
        """How many more instances of the NS fit on the VIM now, and where the first ones go:
        one instance after another on one host snapshot, with the instantiate's strategy."""
        if not 1 <= most <= MAX_CAPACITY:
            raise BadRequest(f"max must be between 1 and {MAX_CAPACITY}", field="max")
        pkg = self._nsd(nsd_id, tenant)
        try:
            vim = self.resources.get_vim(vim_id, Scope(tenant))
        except NotFound:
            raise NotFound(f"VIM account {vim_id} does not exist", field="vimAccountId") from None
        _usable(vim, vim.id)
        nsd, vnfds = self.lcm.catalog.ns_descriptors(pkg.id)
        request: dict[str, Any] = {
            "nsFlavourId": flavour_id,
            "additionalParamsForNs": {"vimAccountId": vim.id},
        }
        if level_id is not None:
            request["nsInstantiationLevelId"] = level_id
        started = time.perf_counter()
        ns_plan = self._instantiation(PLACEHOLDER_NS, nsd, vnfds, request, tenant)
        inp = placement_inputs(ns_plan, vnfds, nsd).get(vim.id, PlacementInput())
        hosts = list(self.resources.host_capacities(vim.id))
        if not hosts:
            raise Conflict(
                f"VIM account {vim.name} ({vim.id}) has no synced host; sync it first",
                vimAccountId=vim.id,
            )
        who = _who(ns_plan.vnfs, real=False)
        try:
            strategy = placement._strategy_of(self.resources, vim.id)
        except placement.PlacementFailed as exc:
            raise _unplaceable(exc) from None
        fill = _Fill(hosts, inp, who, vim.id, strategy)
        count, limited, shown, strategy = fill.run(most)
        return {
            "count": count,
            "limitedBy": limited,
            "max": most,
            "nsdId": nsd.nsd_id,
            "nsFlavourId": ns_plan.flavour_id,
            "nsInstantiationLevelId": ns_plan.instantiation_level_id,
            "vimAccountId": vim.id,
            "strategy": strategy,
            "vdusPerInstance": len(inp.demands),
            "instances": shown,
            "instancesShown": len(shown),
            "seconds": round(time.perf_counter() - started, 6),
        }

    # -- shared checks ---------------------------------------------------------------------
    def _nsd(self, nsd_id: str, tenant: str | None) -> CatalogPackage:
        """The onboarded, enabled NSD the caller sees (404 otherwise, as for an unknown one)."""
        requests.check_create({"nsdId": nsd_id})
        try:
            pkg = self.lcm.catalog.find_onboarded(PackageKind.nsd, nsd_id)
        except NotFound:
            pkg = None
        if pkg is None or not Scope(tenant).sees(pkg.tenant_id):
            raise NotFound(f"no onboarded NSD has nsdId {nsd_id}", field="nsdId")
        self.lcm._check_nsd_packages(pkg.info or {}, nsd_id, tenant)
        if pkg.operational_state != OperationalState.ENABLED:
            raise Conflict(f"NSD {nsd_id} is DISABLED; enable it to create NS instances")
        return pkg

    def _instantiation(
        self,
        ns_id: str,
        nsd: Nsd,
        vnfds: dict[str, Vnfd],
        params: dict[str, Any],
        owner: str | None,
    ) -> NsPlan:
        """The LCM's plan of an INSTANTIATE (400 naming the field it cannot plan)."""
        ns_vim = (params.get("additionalParamsForNs") or {}).get("vimAccountId")
        default_vim = None if ns_vim else self.lcm._default_vim(owner)
        try:
            requested_ns_vl_cidrs(params.get("additionalParamsForNs") or {})
            return plan_instantiation(
                ns_id,
                nsd,
                vnfds,
                params,
                default_vim=default_vim,
                artifacts=self.lcm.catalog.vnfd_artifacts(vnfds),
            )
        except PlanError as exc:
            raise BadRequest(f"{exc.field}: {exc.message}", field=exc.field) from None

    def _check_vims(self, vims: Mapping[str, str], owner: str | None) -> None:
        """Each VIM the plan uses exists for the NS's tenant and is usable (422, as the
        INSTANTIATE request refuses it)."""
        for vim_id, profile_id in vims.items():
            try:
                vim = self.resources.get_vim(vim_id, Scope(owner))
            except NotFound:
                raise UnprocessableEntity(
                    f"VIM account {vim_id!r} (for VNF profile {profile_id}) does not exist",
                    field="vimAccountId",
                    vimAccountId=vim_id,
                ) from None
            _usable(vim, vim_id)


def _usable(vim: VimAccount, vim_id: str) -> None:
    if vim.operational_state not in _USABLE:
        raise UnprocessableEntity(
            f"VIM account {vim.name} ({vim_id}) is {vim.operational_state}, not ENABLED"
            + (f": {vim.detailed_status}" if vim.detailed_status else ""),
            field="vimAccountId",
            vimAccountId=vim_id,
        )


def _who(vnfs: Iterable[Any], *, real: bool) -> dict[str, _Vnf]:
    """VNF instance id -> its profile, its index among the profile's instances, its VIM."""
    seen: dict[str, int] = defaultdict(int)
    out = {}
    for vnf in vnfs:
        spec: VnfDeploymentSpec = vnf.spec
        index = seen[spec.vnf_profile_id]
        seen[spec.vnf_profile_id] += 1
        out[spec.vnf_instance_id] = _Vnf(
            spec.vnf_profile_id,
            index,
            spec.vim_account_id,
            spec.vnf_instance_id if real else None,
        )
    return out


def _split(demand_id: str) -> tuple[str, str, int]:
    """``<vnf_instance_id>/<vdu_id>-<index>`` -> its three parts."""
    vnf_id, _, key = demand_id.partition("/")
    vdu_id, _, index = key.rpartition("-")
    return vnf_id, vdu_id, int(index)


def _members(rule: PlacementRule, inp: PlacementInput) -> list[str]:
    names = set(rule.members)
    return [
        d.id for d in inp.demands if d.id in names or (d.group is not None and d.group in names)
    ]


def _room(free: Sequence[float]) -> dict[str, float]:
    return {"vcpus": free[0], "ramMib": free[1], "diskGib": free[2]}


class _Snapshot:
    """The inventory as the placement read it: each VIM's host rows read once, so the answer
    (zones, room left) describes exactly the hosts the placement saw, at the cost of one read.
    ``view()`` stands in for the ResourceService the placement is given."""

    def __init__(self, resources: ResourceService) -> None:
        self.resources = resources
        self.rows: dict[str, list[HostCapacity]] = {}

    def host_capacities(self, vim_id: str) -> list[HostCapacity]:
        """The VIM's hosts as the optimizer sees them (read on first use, then the same)."""
        if vim_id not in self.rows:
            self.rows[vim_id] = list(self.resources.host_capacities(vim_id))
        return self.rows[vim_id]

    def view(self) -> ResourceService:
        """This snapshot where a ResourceService is expected (everything but host rows is
        the real service's)."""
        return cast(ResourceService, _SnapshotView(self))


class _SnapshotView:
    def __init__(self, snapshot: _Snapshot) -> None:
        self._snapshot = snapshot

    def host_capacities(self, vim_id: str) -> list[HostCapacity]:
        return self._snapshot.host_capacities(vim_id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._snapshot.resources, name)


class _Report:
    """Builds the plan answer VIM by VIM: rows per VDU instance, room left, rules, bounds."""

    def __init__(self, snapshot: _Snapshot, who: Mapping[str, _Vnf]) -> None:
        self.snapshot = snapshot
        self.who = who
        self.rows: list[dict[str, Any]] = []
        self.vims: list[dict[str, Any]] = []
        self.rules: list[dict[str, Any]] = []

    def vim(
        self,
        vim_id: str,
        inp: PlacementInput,
        decision: placement.VimDecision | None,
        failure: dict[str, Any] | None,
    ) -> None:
        result = decision.placement if decision else None
        hosts = self.snapshot.host_capacities(vim_id)
        zone_of = {h.name: h.zone for h in hosts}
        assigned = result.assignments if result else {}
        for d in inp.demands:
            self.rows.append(self._row(vim_id, d.id, assigned.get(d.id), zone_of, result, failure))
        summary: dict[str, Any] = {"vimAccountId": vim_id, "hostsKnown": len(hosts)}
        if result is None:
            summary["placed"] = 0
            summary["note"] = (
                "no synced host: the VIM places these VDU instances itself"
                if not hosts
                else "not placed: placement on another VIM failed first"
            )
        elif decision is not None:
            summary.update(
                strategy=decision.strategy,
                algorithm=result.algorithm,
                objective=result.objective,
                lowerBound=result.lower_bound,
                gap=result.gap,
                bounds=dict(result.bounds),
                solveTimeS=result.solve_time_s,
                placed=len(result.assignments),
                unplaced=len(result.unplaced),
            )
            summary["capacity"] = _left(hosts, inp, result.assignments)
        self.vims.append(summary)
        self._rules(vim_id, inp, assigned, zone_of, result)

    def _row(
        self,
        vim_id: str,
        demand_id: str,
        host: str | None,
        zone_of: Mapping[str, str],
        result: Placement | None,
        failure: dict[str, Any] | None,
    ) -> dict[str, Any]:
        vnf_id, vdu_id, index = _split(demand_id)
        vnf = self.who[vnf_id]
        explanation = result.explanations.get(demand_id) if result else None
        row: dict[str, Any] = {
            "vnfProfileId": vnf.profile_id,
            "vnfIndex": vnf.index,
            "vnfInstanceId": vnf.real_id,
            "vduId": vdu_id,
            "index": index,
            "vimAccountId": vim_id,
            "host": host,
            "zone": zone_of.get(host) if host else None,
            "explanation": explanation.to_dict() if explanation else None,
        }
        if result is not None and demand_id in result.unplaced:
            row["reason"] = (explanation.reason if explanation else None) or result.unplaced[
                demand_id
            ]
            row["blockingRule"] = explanation.blocking_rule if explanation else None
            row["blockingDimension"] = explanation.blocking_dimension if explanation else None
        elif result is None and failure is not None and host is None:
            row["reason"] = "not evaluated: " + str(failure.get("detail"))
        return row

    def _rules(
        self,
        vim_id: str,
        inp: PlacementInput,
        assigned: Mapping[str, str],
        zone_of: Mapping[str, str],
        result: Placement | None,
    ) -> None:
        """Each rule re-checked on the answer: kept among the placed members, all placed."""
        for rule, label in zip(inp.rules, inp.labels, strict=True):
            members = _members(rule, inp)
            placed = [assigned[m] for m in members if m in assigned]
            where = placed if rule.scope == "host" else [zone_of.get(h, "") for h in placed]
            holds = (
                len(set(where)) == len(where)
                if rule.kind == "anti_affinity"
                else len(set(where)) <= 1
            )
            self.rules.append(
                {
                    "label": label,
                    "vimAccountId": vim_id,
                    "kind": rule.kind,
                    "scope": rule.scope,
                    "members": len(members),
                    "placed": len(placed),
                    "satisfied": result is not None and holds and len(placed) == len(members),
                }
            )

    def render(self, failure: dict[str, Any] | None) -> dict[str, Any]:
        unplaced = [r for r in self.rows if r["host"] is None and "reason" in r]
        return {
            "feasible": failure is None,
            "vdus": self.rows,
            "unplaced": unplaced,
            "vims": self.vims,
            "rules": self.rules,
            "rulesSatisfied": [r["label"] for r in self.rules if r["satisfied"]],
            "problem": failure,
        }


def _left(
    hosts: Sequence[HostCapacity], inp: PlacementInput, assigned: Mapping[str, str]
) -> dict[str, Any]:
    """Free room per zone (schedulable hosts) and per touched host, before and after."""
    size = {d.id: d.size() for d in inp.demands}
    used: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for demand_id, host in assigned.items():
        room, need = used[host], size[demand_id]
        room[0], room[1], room[2] = room[0] + need[0], room[1] + need[1], room[2] + need[2]
    # zone -> [hosts, vcpus, ram, disk] free before the plan
    zones: dict[str, list[float]] = {}
    touched = []
    for h in hosts:
        if h.schedulable:
            z = zones.get(h.zone)
            if z is None:
                z = zones[h.zone] = [0, 0.0, 0.0, 0.0]
            z[0] += 1
            z[1] += h.vcpus_free
            z[2] += h.ram_mib_free
            z[3] += h.disk_gib_free
        taken = used.get(h.name)
        if taken is not None and len(touched) < MAX_HOST_ROWS:
            after = [f - t for f, t in zip(h.free(), taken, strict=True)]
            touched.append(
                {"host": h.name, "zone": h.zone, "free": _room(h.free()), "freeAfter": _room(after)}
            )
    zone_of = {h.name: h.zone for h in hosts if h.name in used}
    taken_in: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for name, taken in used.items():
        acc = taken_in[zone_of.get(name, "")]
        for i in range(3):
            acc[i] += taken[i]
    out_zones = []
    for zone, (count, *free) in zones.items():
        after = [f - t for f, t in zip(free, taken_in.get(zone, (0.0, 0.0, 0.0)), strict=True)]
        out_zones.append(
            {"zone": zone, "hosts": count, "free": _room(free), "freeAfter": _room(after)}
        )
    return {"zones": out_zones, "hosts": touched, "hostsTouched": len(used)}


@dataclass
class _Fill:
    """NS instances placed one after another on one host snapshot, each taking its room."""

    hosts: list[HostCapacity]
    inp: PlacementInput
    who: Mapping[str, _Vnf]
    vim_id: str
    algorithm: str | None

    def run(self, most: int) -> tuple[int, str, list[list[dict[str, Any]]], str | None]:
        """(count, what stops the next one, the first ones' hosts, the strategy used)."""
        free = {h.name: list(h.free()) for h in self.hosts}
        zone_of = {h.name: h.zone for h in self.hosts}
        size = {d.id: d.size() for d in self.inp.demands}
        shown: list[list[dict[str, Any]]] = []
        strategy = self.algorithm
        pool = list(self.hosts)
        for count in range(most):
            result = self._place(pool, explain=False)
            strategy = self.algorithm or optimizer.DEFAULT_STRATEGY
            if result.unplaced:
                result = self._place(pool, explain=True)  # the same answer, with its reasons
                why = _limit(count, result, self.inp, self.vim_id, self.algorithm, pool)
                return count, why, shown, strategy
            touched = set(result.assignments.values())
            for demand_id, host in result.assignments.items():
                free[host] = [a - b for a, b in zip(free[host], size[demand_id], strict=True)]
            pool = [
                replace(h, vcpus_free=f[0], ram_mib_free=f[1], disk_gib_free=f[2])
                if h.name in touched
                else h
                for h in pool
                for f in [free[h.name]]
            ]
            if len(shown) < SHOWN_INSTANCES:
                shown.append(_where(result.assignments, self.who, zone_of))
        return most, f"max ({most}) reached: more may fit; ask with a larger max", shown, strategy

    def _place(self, pool: Sequence[HostCapacity], *, explain: bool) -> Placement:
        """One instance on ``pool``; explanations only when asked (the instances that fit
        need none), where the optimizer offers the choice."""
        return optimizer.place(
            pool, self.inp.demands, self.inp.rules, self.algorithm, explain=explain
        )


def _limit(
    count: int,
    result: Placement,
    inp: PlacementInput,
    vim_id: str,
    strategy: str | None,
    hosts: Sequence[HostCapacity],
) -> str:
    """The sentence saying why instance ``count + 1`` does not fit: the detail an
    instantiate's 422 would give (the blocking rule and short dimension named)."""
    decision = placement._decision(vim_id, strategy, result, hosts, inp.rules)
    detail = placement._failure(vim_id, decision, inp).problem["detail"]
    return f"instance {count + 1}: {detail}"


def _where(
    assignments: Mapping[str, str], who: Mapping[str, _Vnf], zone_of: Mapping[str, str]
) -> list[dict[str, Any]]:
    out = []
    for demand_id, host in assignments.items():
        vnf_id, vdu_id, index = _split(demand_id)
        vnf = who[vnf_id]
        out.append(
            {
                "vnfProfileId": vnf.profile_id,
                "vnfIndex": vnf.index,
                "vduId": vdu_id,
                "index": index,
                "host": host,
                "zone": zone_of.get(host),
            }
        )
    out.sort(key=lambda r: (r["vnfProfileId"], r["vnfIndex"], r["vduId"], r["index"]))
    return out
