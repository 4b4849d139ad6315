"""The work behind each checkpointed step of the NS workflows (plain functions; ``engine``
wraps them as DBOS steps). Every function is idempotent: it may run again after a crash."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy.orm import Session, object_session

from nfvo.catalog.descriptors import Nsd, Vnfd
from nfvo.catalog.service import CatalogService
from nfvo.inventory.db import Database
from nfvo.inventory.lcm_repo import NsRecordsRepository, NsRepository, OpOccRepository
from nfvo.inventory.models import NsInstance, NsLcmOpOcc, NsVl, NsVnf, NsVnfc, utcnow
from nfvo.lcm import codec, events, placement
from nfvo.lcm.model import ChangeSet, NsLevelPlan, NsVlPlan
from nfvo.lcm.plan import PlanError, plan_instantiation
from nfvo.lcm.states import NsState, OpState, OpType, Trigger, engine_failure, transition
from nfvo.resources.service import ResourceService, Scope
from nfvo.vim.base import (
    TAG_KEY,
    TAG_NS,
    Network,
    NetworkSpec,
    SubnetSpec,
    VimDriver,
    VimError,
    VimNotFound,
)
from nfvo.vnfm import images as vnfm_images
from nfvo.vnfm import keys
from nfvo.vnfm.base import VnfDeploymentSpec, Vnfm, VnfmError, VnfRecord


@dataclass
class Context:
    """The services the steps use (one per process, set when the engine launches)."""

    db: Database
    catalog: CatalogService
    resources: ResourceService
    vnfm: Vnfm


_ctx: Context | None = None


def set_context(ctx: Context) -> None:
    """Install the services for this process."""
    global _ctx
    _ctx = ctx


def ctx() -> Context:
    """The services of this process."""
    assert _ctx is not None, "the LCM engine has not been launched"
    return _ctx


class Cancelled(Exception):
    """The client cancelled the operation; it stops at the next checkpoint."""


class OpFailure(Exception):
    """A failure with a ready ProblemDetails body."""

    def __init__(self, problem: dict[str, Any]) -> None:
        super().__init__(problem.get("detail"))
        self.problem = problem


# -- helpers -------------------------------------------------------------------------------
def _op(s: Session, op_id: str) -> NsLcmOpOcc:
    op = OpOccRepository(s).get(op_id)
    assert op is not None, f"op {op_id} vanished"
    return op


def _ns_of(s: Session, op: NsLcmOpOcc, *, with_plan: bool = False) -> NsInstance:
    ns = NsRepository(s).get(op.ns_instance_id, with_plan=with_plan)
    assert ns is not None, f"NS {op.ns_instance_id} vanished"
    return ns


def _set_state(op: NsLcmOpOcc, state: OpState) -> None:
    """Change the op's state and queue the notification in the same transaction."""
    op.state = state
    op.state_entered_time = utcnow()
    if state != OpState.PROCESSING:  # START went out when the op was requested
        session = object_session(op)
        assert session is not None
        events.op_event(session, op)


def _start_processing(op: NsLcmOpOcc) -> None:
    if op.state == OpState.STARTING:
        _set_state(op, transition(op.state, Trigger.ENGINE))


def _spec(s: Session, vnf: NsVnf, ns_vls: Sequence[NsVl] | None = None) -> VnfDeploymentSpec:
    """A VNF's spec from its row, its NS virtual links (read here unless given) resolved to
    the VIM's network ids."""
    spec = codec.spec_from_json(vnf.spec)
    if ns_vls is None:
        ns_vls = NsRecordsRepository(s).ns_vls(vnf.ns_instance_id)
    spec.ext_networks = {
        vl.vl_id: vl.network_id for vl in ns_vls if vl.vim_account_id == spec.vim_account_id
    }
    return spec


def _vnf(s: Session, vnf_id: str) -> NsVnf:
    vnf = NsRecordsRepository(s).vnf(vnf_id)
    assert vnf is not None, f"VNF instance {vnf_id} vanished"
    return vnf


def _record(s: Session, vnf: NsVnf) -> VnfRecord:
    """What the VNF has on its VIM, from its VNFC and VL rows."""
    repo = NsRecordsRepository(s)
    return codec.record_of(vnf, repo.vnfcs(vnf.id), repo.vnf_vls(vnf.id))


def _spec_and_record(vnf_id: str) -> tuple[VnfDeploymentSpec, VnfRecord]:
    with ctx().db.session() as s:
        vnf = _vnf(s, vnf_id)
        return _spec(s, vnf), _record(s, vnf)


def _intend(
    s: Session, vnf: NsVnf, spec: VnfDeploymentSpec, existing: Sequence[NsVnfc] | None = None
) -> None:
    """VNFC rows for every VDU instance of ``spec`` that has none yet, before the VIM is
    asked to create anything (keyed: the create after a crash returns the same server)."""
    wanted = [
        (vdu.vdu_id, index, keys.vnfc_key(vnf.id, vdu.vdu_id, index))
        for vdu in spec.vdus
        for index in range(vdu.count)
    ]
    NsRecordsRepository(s).add_vnfc_intents(vnf, wanted, existing)


def _save(vnf_id: str, spec: VnfDeploymentSpec, record: VnfRecord, *, counts: bool = False) -> None:
    """Record what the VNFM reports for one VNF (its rows only; ``counts``: the VDU counts
    of ``spec`` become the VNF's planned counts)."""
    with ctx().db.session() as s:
        repo = NsRecordsRepository(s)
        vnf = _vnf(s, vnf_id)
        repo.put_vnf_state(vnf, codec.vnfc_columns(spec, record), codec.vl_columns(record))
        stored = codec.from_json(VnfDeploymentSpec, vnf.spec)
        if counts:
            wanted = {v.vdu_id: v.count for v in spec.vdus}
            for vdu in stored.vdus:
                vdu.count = wanted.get(vdu.vdu_id, vdu.count)
        # where the VNFCs run now: a later heal recreates them there when it still can
        stored.hosts = {f"{c.vdu_id}-{c.index}": c.host for c in record.vnfcs if c.host}
        repo.update_vnf(vnf_id, instantiated=True, spec=codec.to_json(stored))


def problem_of(exc: BaseException) -> dict[str, Any]:
    """ProblemDetails for an op-occ ``error`` naming what failed and where."""
    if isinstance(exc, OpFailure | placement.PlacementFailed):
        return exc.problem
    if isinstance(exc, VnfmError):
        return {"title": "VNF operation failed", "status": 500, **exc.to_dict()}
    if isinstance(exc, VimError):
        return {
            "title": "VIM operation failed",
            "status": 500,
            "detail": exc.message,
            **exc.to_dict(),
        }
    if isinstance(exc, PlanError):
        return {
            "title": "Invalid instantiation request",
            "status": 422,
            "detail": f"{exc.field}: {exc.message}",
            "field": exc.field,
        }
    if isinstance(exc, Cancelled):
        return {"title": "Operation cancelled", "status": 409, "detail": str(exc)}
    return {"title": "Internal error", "status": 500, "detail": f"{type(exc).__name__}: {exc}"}


# -- instantiate ---------------------------------------------------------------------------
def _default_vim(tenant_id: str | None) -> str | None:
    vims = [
        v for v in ctx().resources.list_vims(Scope(tenant_id)) if v.operational_state == "ENABLED"
    ]
    return vims[0].id if vims else None


def plan(op_id: str) -> NsLevelPlan:
    """Plan and place the NS (reusing the stored plan on retry, so keys stay the same).
    The VNF instances become rows and the NS-level plan is stored, in one transaction."""
    with ctx().db.session() as s:
        op = _op(s, op_id)
        _raise_if_cancelled(op.cancel_pending)
        ns = _ns_of(s, op, with_plan=True)
        _start_processing(op)
        if ns.plan:
            return codec.from_json(NsLevelPlan, ns.plan)
        request, tenant, ns_id, nsd_info_id = dict(op.params), ns.tenant_id, ns.id, ns.nsd_info_id
    nsd, vnfds = ctx().catalog.ns_descriptors(nsd_info_id)
    artifacts = ctx().catalog.vnfd_artifacts(vnfds)
    ns_vim = (request.get("additionalParamsForNs") or {}).get("vimAccountId")
    default_vim = None if ns_vim else _default_vim(tenant)  # every VNF has one then
    ns_plan = plan_instantiation(
        ns_id, nsd, vnfds, request, default_vim=default_vim, artifacts=artifacts
    )
    decisions: dict[str, placement.VimDecision] = {}
    try:
        ns_level_plan, specs = placement.place_plan(
            ns_plan, vnfds, nsd, ctx().resources, decisions=decisions
        )
    except placement.PlacementFailed:
        _record_placement(op_id, decisions)  # what blocks it, kept with the failed op
        raise
    # images referenced by name must exist on the VIMs placement chose, before create_ns_vls
    missing = vnfm_images.missing_images_of_specs(specs, vnfds, ctx().resources.driver)
    if missing:
        raise OpFailure(vnfm_images.missing_images_problem(missing))
    vnf_levels, ns_levels = initial_scale_status(
        nsd, vnfds, specs, ns_plan.flavour_id, ns_plan.instantiation_level_id
    )
    with ctx().db.session() as s:
        NsRecordsRepository(s).add_vnfs(
            _vnf_row(ns_id, seq, spec, vnf_levels.get(spec.vnf_instance_id) or {})
            for seq, spec in enumerate(specs)
        )
        NsRepository(s).set_values(
            ns_id,
            plan=codec.to_json(ns_level_plan),
            scale_status=ns_levels,
            flavour_id=ns_plan.flavour_id,
            instantiation_level_id=ns_plan.instantiation_level_id,
        )
        placement.record(s, _op(s, op_id), decisions)
    return ns_level_plan


def _record_placement(op_id: str, decisions: dict[str, placement.VimDecision]) -> None:
    """Record a placement decision on its own (the one that failed: nothing else to write)."""
    if decisions:
        with ctx().db.session() as s:
            placement.record(s, _op(s, op_id), decisions)


def _vnf_row(ns_id: str, seq: int, spec: VnfDeploymentSpec, levels: dict[str, int]) -> NsVnf:
    return NsVnf(
        id=spec.vnf_instance_id,
        ns_instance_id=ns_id,
        seq=seq,
        vnf_profile_id=spec.vnf_profile_id,
        vnfd_id=spec.vnfd_id,
        flavour_id=spec.flavour_id,
        vim_account_id=spec.vim_account_id,
        spec=codec.to_json(spec),
        instantiated=False,
        scale_levels=levels,
    )


def create_ns_vls(op_id: str, vls: list[NsVlPlan]) -> None:
    """The NS virtual links, each on each VIM that uses it (keyed: a re-run after a crash
    gets back what the first run created)."""
    with ctx().db.session() as s:
        ns_id = _op(s, op_id).ns_instance_id
    for vl in vls:
        _create_ns_vl(ns_id, vl)


def _existing_network(driver: VimDriver, vl: NsVlPlan) -> Network:
    """The existing network an NS virtual link uses on a VIM: by id, else by (unique) name."""
    ref = vl.existing_network or ""
    try:
        return driver.get_network(ref)
    except VimNotFound:
        pass
    named = [n for n in driver.list_networks() if n.name == ref]
    if len(named) == 1:
        return named[0]
    problem = "no network" if not named else f"{len(named)} networks"
    raise VimNotFound(
        f"NS virtual link {vl.vl_id!r} is mapped to network {ref!r} of VIM account "
        f"{vl.vim_account_id}, which has {problem} with that id or name "
        f"(additionalParamsForNs.nsVirtualLinkNetworks)"
    )


def _create_ns_vl(ns_id: str, vl: NsVlPlan) -> None:
    """One NS virtual link on one VIM (network + subnet, keyed), recorded as its row; an
    existing network is only looked up and recorded (it carries no tag of the NS, so
    terminating the NS leaves it)."""
    if vl.existing_network:
        found = _existing_network(ctx().resources.driver(vl.vim_account_id), vl)
        subnet = found.subnets[0] if found.subnets else None
        with ctx().db.session() as s:
            NsRecordsRepository(s).put_ns_vl(ns_id, vl.vl_id, vl.vim_account_id, found.id, subnet)
        return
    key = f"{ns_id}/nsvl/{vl.vl_id}/{vl.vim_account_id}"
    tags = {TAG_KEY: key, TAG_NS: ns_id}
    driver = ctx().resources.driver(vl.vim_account_id)
    net = driver.create_network(NetworkSpec(key=key, name=f"ns-{ns_id[:8]}-{vl.vl_id}", tags=tags))
    sub = driver.create_subnet(
        SubnetSpec(
            key=key + "/subnet",
            name=f"{vl.vl_id}-subnet",
            network_id=net.id,
            cidr=vl.cidr,
            ip_version=vl.ip_version,
            tags={**tags, TAG_KEY: key + "/subnet"},
        )
    )
    with ctx().db.session() as s:
        NsRecordsRepository(s).put_ns_vl(ns_id, vl.vl_id, vl.vim_account_id, net.id, sub.id)


def prepare_deploy(vnf_ids: Sequence[str], op_id: str | None = None) -> list[VnfDeploymentSpec]:
    """The specs of VNFs about to be deployed, in the order given, with a VNFC row written
    for each VDU instance they will have (one transaction, a few queries for any number).
    ``op_id``: stop first if the client cancelled that operation."""
    with ctx().db.session() as s:
        if op_id is not None:
            _check_cancel_in(s, op_id)
        repo = NsRecordsRepository(s)
        vnfs = repo.vnfs_by_id(vnf_ids)
        missing = [v for v in vnf_ids if v not in vnfs]
        assert not missing, f"VNF instances {missing} vanished"
        ns_vls = repo.ns_vls_of(sorted({v.ns_instance_id for v in vnfs.values()}))
        existing = repo.vnfcs_by_vnf(vnf_ids)
        specs = []
        for vnf_id in vnf_ids:
            vnf = vnfs[vnf_id]
            spec = _spec(s, vnf, ns_vls.get(vnf.ns_instance_id, []))
            _intend(s, vnf, spec, existing.get(vnf_id, []))
            specs.append(spec)
    return specs


def save_deployed(deployed: Sequence[tuple[VnfDeploymentSpec, VnfRecord]]) -> None:
    """Record what the VNFM created for deployed VNFs (one transaction): their VNFC and VL
    rows, and each VNF INSTANTIATED."""
    if not deployed:
        return
    with ctx().db.session() as s:
        repo = NsRecordsRepository(s)
        ids = [spec.vnf_instance_id for spec, _ in deployed]
        vnfs = repo.vnfs_by_id(ids)
        repo.put_vnf_states(
            [
                (vnfs[spec.vnf_instance_id], codec.vnfc_columns(spec, rec), codec.vl_columns(rec))
                for spec, rec in deployed
                if spec.vnf_instance_id in vnfs
            ]
        )
        repo.mark_instantiated(ids)


def deploy_vnf(op_id: str, vnf_instance_id: str) -> None:
    """Deploy one VNF through the VNFM (idempotent by keys) and record what it created."""
    (spec,) = prepare_deploy([vnf_instance_id])
    save_deployed([(spec, ctx().vnfm.instantiate(spec))])


def finish_instantiate(op_id: str) -> None:
    """NS INSTANTIATED, op COMPLETED, NS unlocked (unless the client cancelled)."""
    with ctx().db.session() as s:
        op = _op(s, op_id)
        if op.state == OpState.COMPLETED:
            return
        _raise_if_cancelled(op.cancel_pending)
        NsRepository(s).release(op.ns_instance_id, op.id, ns_state=NsState.INSTANTIATED)
        _set_state(op, transition(op.state, Trigger.ENGINE))


# -- terminate -----------------------------------------------------------------------------
def terminate_layers(op_id: str) -> list[list[str]]:
    """VNF instance ids to remove, in reverse dependency order; moves the op to PROCESSING."""
    with ctx().db.session() as s:
        op = _op(s, op_id)
        ns = _ns_of(s, op, with_plan=True)
        _start_processing(op)
        layers = codec.from_json(NsLevelPlan, ns.plan).vnf_layers
        present = {v.id for v in NsRecordsRepository(s).vnfs(ns.id) if v.instantiated}
    out = [[v for v in layer if v in present] for layer in reversed(layers)]
    leftovers = present - {v for layer in out for v in layer}
    if leftovers:
        out.append(sorted(leftovers))
    return [layer for layer in out if layer]


def terminate_vnf(op_id: str, vnf_instance_id: str) -> None:
    """Remove one VNF's resources and forget them (TERMINATE with ``terminationType:
    GRACEFUL`` stops the VDUs first, within ``gracefulTerminationTimeout`` seconds; FORCEFUL,
    the default, deletes at once)."""
    with ctx().db.session() as s:
        op = _op(s, op_id)
        params = dict(op.params or {}) if op.operation == OpType.TERMINATE else {}
        vnf = NsRecordsRepository(s).vnf(vnf_instance_id)
        record = _record(s, vnf) if vnf is not None and vnf.instantiated else None
    graceful = params.get("terminationType") == "GRACEFUL"
    timeout = float(params.get("gracefulTerminationTimeout") or 30)
    if record is not None:
        ctx().vnfm.terminate(record, graceful_timeout_s=timeout if graceful else None)
    with ctx().db.session() as s:
        NsRecordsRepository(s).clear_vnf(vnf_instance_id)


def delete_ns_vls(op_id: str) -> None:
    """Remove what is left of the NS once its VNFs are gone: the NS virtual links (and anything
    a crashed attempt created but never recorded), then the VIM's NS grouping (unless the
    client cancelled)."""
    check_cancel(op_id)
    with ctx().db.session() as s:
        ns_id = _op(s, op_id).ns_instance_id
        vims = NsRecordsRepository(s).vims_of(ns_id)
    ctx().vnfm.release_ns(ns_id, vims)
    with ctx().db.session() as s:
        NsRecordsRepository(s).clear_ns_vls(ns_id)


def _forget_ns(s: Session, op: NsLcmOpOcc) -> None:
    """The NS is NOT_INSTANTIATED again: its rows go, its plan and scale levels are cleared,
    the op gives the NS back."""
    NsRecordsRepository(s).clear_ns(op.ns_instance_id)
    NsRepository(s).release(
        op.ns_instance_id,
        op.id,
        ns_state=NsState.NOT_INSTANTIATED,
        plan=None,
        scale_status={},
    )
    _set_state(op, transition(op.state, Trigger.ENGINE))


def finish_terminate(op_id: str) -> None:
    """NS NOT_INSTANTIATED, op COMPLETED, NS unlocked."""
    with ctx().db.session() as s:
        op = _op(s, op_id)
        if op.state == OpState.COMPLETED:
            return
        _forget_ns(s, op)


# -- rollback, failure, cancel -------------------------------------------------------------
def rollback_instantiate(op_id: str) -> None:
    """Remove everything the instantiation created (all resources tagged with the NS)."""
    with ctx().db.session() as s:
        op = _op(s, op_id)
        if op.state == OpState.ROLLED_BACK:
            return
        ns_id = op.ns_instance_id
        vims = NsRecordsRepository(s).vims_of(ns_id)
    ctx().vnfm.release_ns(ns_id, vims)
    with ctx().db.session() as s:
        _forget_ns(s, _op(s, op_id))


def record_failure(op_id: str, problem: dict[str, Any]) -> None:
    """The op goes FAILED_TEMP with the ProblemDetails; the NS stays locked by it."""
    with ctx().db.session() as s:
        op = _op(s, op_id)
        if OpState(op.state) in (
            OpState.COMPLETED,
            OpState.FAILED,
            OpState.ROLLED_BACK,
            OpState.FAILED_TEMP,
        ):
            return
        op.error = {"type": "about:blank", **problem}
        op.cancel_pending = False
        _set_state(op, engine_failure(op.state))


def check_cancel(op_id: str) -> None:
    """Stop at this checkpoint when the client asked to cancel."""
    with ctx().db.session() as s:
        _check_cancel_in(s, op_id)


def _check_cancel_in(s: Session, op_id: str) -> None:
    pending = OpOccRepository(s).cancel_pending(op_id)
    assert pending is not None, f"op {op_id} vanished"
    _raise_if_cancelled(pending)


def _raise_if_cancelled(pending: bool) -> None:
    if pending:
        raise Cancelled("the operation was cancelled by the client (POST .../cancel)")


# -- scale, heal, update ------------------------------------------------------------------
def operation_of(op_id: str) -> str:
    """The op's type (fixed at creation, so safe to read inside a workflow)."""
    with ctx().db.session() as s:
        return _op(s, op_id).operation


def initial_scale_status(
    nsd: Nsd,
    vnfds: dict[str, Vnfd],
    specs: list[VnfDeploymentSpec],
    flavour_id: str,
    level_id: str | None,
) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    """Scale levels right after instantiation: (per VNF instance and aspect, per NS aspect)."""
    flavour = next((f for f in nsd.flavours if f.flavour_id == flavour_id), None)
    profiles = {p.id: p for p in (flavour.vnf_profiles if flavour else [])}
    vnf_levels: dict[str, dict[str, int]] = {}
    for spec in specs:
        vflav = next(
            (f for f in vnfds[spec.vnfd_id].flavours if f.flavour_id == spec.flavour_id), None
        )
        if vflav is None:
            continue
        profile = profiles.get(spec.vnf_profile_id)
        lvl_id = (
            profile.instantiation_level if profile else None
        ) or vflav.default_instantiation_level
        level = next((lv for lv in vflav.instantiation_levels if lv.id == lvl_id), None)
        vnf_levels[spec.vnf_instance_id] = {
            a.id: (level.scale_info.get(a.id, 0) if level else 0) for a in vflav.scaling_aspects
        }
    ns_level = next(
        (lv for lv in (flavour.instantiation_levels if flavour else []) if lv.id == level_id), None
    )
    ns_levels = {
        a.id: (ns_level.scale_info.get(a.id, 0) if ns_level else 0)
        for a in (flavour.scaling_aspects if flavour else [])
    }
    return vnf_levels, ns_levels


def _place_again(op_id: str, changes: ChangeSet) -> ChangeSet:
    """A retried SCALE or HEAL chooses the hosts of the VDU instances it adds or recreates
    again, on a re-synced inventory (those chosen when it was requested may be down or full
    by now; what the failed attempt created stays where it is). PlacementFailed when a rule
    cannot be met any more."""
    if not changes.scale and not any(h.recreate for h in changes.heal.values()):
        return changes
    with ctx().db.session() as s:
        op = _op(s, op_id)
        ns = _ns_of(s, op)
        repo = NsRecordsRepository(s)
        specs = {v.id: codec.spec_from_json(v.spec) for v in repo.vnfs(ns.id)}
        running = [
            placement.RunningVnfc(
                c.vnf_instance_id, c.vdu_id, c.idx, c.key, c.host, bool(c.server_id)
            )
            for rows in repo.vnfcs_of([ns.id]).values()
            for c in rows
        ]
        ns_id, flavour_id, nsd_info_id = ns.id, ns.flavour_id, ns.nsd_info_id
    if flavour_id is None:
        return changes
    nsd, vnfds = ctx().catalog.ns_descriptors(nsd_info_id)
    for sc in changes.scale.values():
        sc.hosts = {}
    for heal in changes.heal.values():
        heal.hosts = {}
    decisions: dict[str, placement.VimDecision] = {}
    try:
        placement.place_changes(
            ns_id,
            nsd,
            vnfds,
            flavour_id,
            specs,
            running,
            changes,
            ctx().resources,
            sync=True,
            decisions=decisions,
        )
    except placement.PlacementFailed:
        _record_placement(op_id, decisions)
        raise
    with ctx().db.session() as s:
        op = _op(s, op_id)
        op.changes = codec.to_json(changes)
        placement.record(s, op, decisions)
    return changes


def begin_modify(op_id: str) -> ChangeSet:
    """PROCESSING; VNFs to add become VNF instance rows (as a last layer of the plan); a
    retried SCALE or HEAL places again (``_place_again``). Returns the change set."""
    with ctx().db.session() as s:
        op = _op(s, op_id)
        retried = op.generation > 1 and op.state != OpState.ROLLING_BACK
        stored = codec.from_json(ChangeSet, op.changes)
    if retried:
        _place_again(op_id, stored)
    with ctx().db.session() as s:
        op = _op(s, op_id)
        _start_processing(op)
        changes = codec.from_json(ChangeSet, op.changes)
        if changes.add:
            repo = NsRecordsRepository(s)
            ns = _ns_of(s, op, with_plan=True)
            have = {v.id for v in repo.vnfs(ns.id)}
            new = [v for v in changes.add if v not in have]
            seq = repo.next_seq(ns.id)
            repo.add_vnfs(
                _vnf_row(ns.id, seq + i, changes.add[v], changes.levels.get(v) or {})
                for i, v in enumerate(new)
            )
            if new:
                plan_ = codec.from_json(NsLevelPlan, ns.plan).with_layer(new)
                NsRepository(s).set_values(ns.id, plan=codec.to_json(plan_))
        return changes


def _changes_of(op_id: str) -> ChangeSet:
    with ctx().db.session() as s:
        return codec.from_json(ChangeSet, _op(s, op_id).changes)


def scale_vnf(op_id: str, vnf_id: str, counts: dict[str, int]) -> None:
    """Bring one VNF to ``counts`` VDU instances (idempotent: keyed creates, highest removed);
    new instances go to the hosts placed when the operation was requested."""
    spec, record = _spec_and_record(vnf_id)
    for vdu in spec.vdus:
        vdu.count = counts.get(vdu.vdu_id, vdu.count)
    change = _changes_of(op_id).scale.get(vnf_id)
    if change is not None and change.after == counts:
        spec.hosts.update(change.hosts)
    with ctx().db.session() as s:
        _intend(s, _vnf(s, vnf_id), spec)
    record = ctx().vnfm.scale(spec, record)
    _save(vnf_id, spec, record, counts=True)


def heal_vnf(op_id: str, vnf_id: str, keys_: list[str], recreate: bool) -> None:
    """Restart or recreate VNFCs of one VNF."""
    spec, record = _spec_and_record(vnf_id)
    # the keys were taken when the heal was requested; a VNFC recreated since then carries a
    # newer generation of the same base key
    current = {keys.split_generation(c.key)[0]: c.key for c in record.vnfcs}
    wanted = [current[base] for base, _ in map(keys.split_generation, keys_) if base in current]
    change = _changes_of(op_id).heal.get(vnf_id)
    if recreate and change is not None:
        spec.hosts.update(change.hosts)  # placed when the heal was requested
    record = ctx().vnfm.heal(spec, record, wanted, recreate=recreate)
    _save(vnf_id, spec, record)


def operate_vnf(op_id: str, vnf_id: str, state: str) -> None:
    """Start or stop every VDU instance of one VNF."""
    _, record = _spec_and_record(vnf_id)
    record = ctx().vnfm.operate(record, state)
    with ctx().db.session() as s:
        NsRecordsRepository(s).set_vnfc_status(
            vnf_id, {(c.vdu_id, c.index): c.status for c in record.vnfcs}
        )


def set_spec(op_id: str, vnf_id: str, which: Literal["before", "after"]) -> None:
    """CHANGE_VNF_DF: make the ``before`` or ``after`` spec of a replaced VNF the current one."""
    with ctx().db.session() as s:
        replace = codec.from_json(ChangeSet, _op(s, op_id).changes).replace[vnf_id]
        spec = replace.before if which == "before" else replace.after
        NsRecordsRepository(s).update_vnf(
            vnf_id, spec=codec.to_json(spec), vnfd_id=spec.vnfd_id, flavour_id=spec.flavour_id
        )


def _drop_from_layers(s: Session, ns_id: str, gone: set[str]) -> None:
    ns = NsRepository(s).get(ns_id, with_plan=True)
    if ns is None or not gone:
        return
    plan_ = codec.from_json(NsLevelPlan, ns.plan).without(gone)
    NsRepository(s).set_values(ns_id, plan=codec.to_json(plan_))


def finish_modify(op_id: str) -> None:
    """Removed VNFs leave the NS, scale levels update, op COMPLETED, NS unlocked."""
    with ctx().db.session() as s:
        op = _op(s, op_id)
        if op.state == OpState.COMPLETED:
            return
        changes = codec.from_json(ChangeSet, op.changes)
        repo = NsRecordsRepository(s)
        removed = set(changes.remove)
        repo.delete_vnfs(removed)
        _drop_from_layers(s, op.ns_instance_id, removed)
        for vnf_id, sc in changes.scale.items():
            vnf = repo.vnf(vnf_id)
            if vnf is not None:
                levels = {**(vnf.scale_levels or {}), sc.aspect: sc.level_after}
                repo.update_vnf(vnf_id, scale_levels=levels)
        for vnf_id in changes.replace:
            repo.update_vnf(vnf_id, scale_levels=changes.levels.get(vnf_id) or {})
        values: dict[str, Any] = {}
        if changes.ns_scale:
            ns = _ns_of(s, op)
            status = dict(ns.scale_status or {})
            for aspect, nsc in changes.ns_scale.items():
                status[aspect] = nsc.after
            values["scale_status"] = status
        NsRepository(s).release(op.ns_instance_id, op.id, **values)
        events.vnf_changes(s, op, changes)
        _set_state(op, transition(op.state, Trigger.ENGINE))


def rollback_modify(op_id: str) -> None:
    """Undo a SCALE/UPDATE: added VNFs removed, scaled VNFs back to their former counts."""
    with ctx().db.session() as s:
        op = _op(s, op_id)
        if op.state == OpState.ROLLED_BACK:
            return
        changes, ns_id = codec.from_json(ChangeSet, op.changes), op.ns_instance_id
    for vnf_id, spec in changes.add.items():
        ctx().vnfm.remove_vnf(ns_id, vnf_id, spec.vim_account_id)
    for vnf_id, sc in changes.scale.items():
        scale_vnf(op_id, vnf_id, sc.before)
    for vnf_id in changes.replace:
        terminate_vnf(op_id, vnf_id)
        set_spec(op_id, vnf_id, "before")
        deploy_vnf(op_id, vnf_id)
    with ctx().db.session() as s:
        op = _op(s, op_id)
        added = set(changes.add)
        NsRecordsRepository(s).delete_vnfs(added)
        _drop_from_layers(s, ns_id, added)
        NsRepository(s).release(ns_id, op.id)
        _set_state(op, transition(op.state, Trigger.ENGINE))
