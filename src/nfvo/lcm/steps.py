"""The work behind each checkpointed step of the NS workflows (plain functions; ``engine``
wraps them as DBOS steps). Every function is idempotent: it may run again after a crash."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO

from sqlalchemy.orm import object_session

from nfvo.catalog.descriptors import Nsd, Vnfd
from nfvo.catalog.service import CatalogService
from nfvo.catalog.states import PackageKind
from nfvo.inventory.db import Database
from nfvo.inventory.lcm_repo import NsRepository, OpOccRepository
from nfvo.inventory.models import NsInstance, NsLcmOpOcc, utcnow
from nfvo.lcm import codec, events, placement
from nfvo.lcm.plan import PlanError, plan_instantiation
from nfvo.lcm.states import NsState, OpState, Trigger, engine_failure, transition
from nfvo.resources.service import ResourceService, Scope
from nfvo.vim.base import (
    TAG_KEY,
    TAG_NS,
    NetworkSpec,
    SubnetSpec,
    VimCapacityExceeded,
    VimError,
)
from nfvo.vnfm.base import VnfDeploymentSpec, Vnfm, VnfmError, VnfRecord
from nfvo.vnfm.generic import cleanup_by_tags, ensure_images
from nfvo.vnfm.keys import split_generation


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
def _load(op_id: str, s: Any, *, lock: bool = True) -> tuple[NsLcmOpOcc, NsInstance]:
    op = OpOccRepository(s).get(op_id, lock=lock)
    assert op is not None, f"op {op_id} vanished"
    ns = NsRepository(s).get(op.ns_instance_id, lock=lock)
    assert ns is not None, f"NS {op.ns_instance_id} vanished"
    return op, ns


def _set_state(op: NsLcmOpOcc, state: OpState) -> None:
    """Change the op's state and queue the notification in the same transaction."""
    op.state = state
    op.state_entered_time = utcnow()
    if state != OpState.PROCESSING:  # START went out when the op was requested
        session = object_session(op)
        assert session is not None
        events.op_event(session, op)


def _driver(vim_id: str) -> Any:
    res = ctx().resources
    return res.driver_for(res.get_vim(vim_id, Scope(None)))


def _package_file(vnfd_id: str) -> Callable[[str], BinaryIO]:
    """Opens a file of the onboarded VNF package of ``vnfd_id`` (looked up only when used:
    an image the VIM already has is never read)."""

    def open_file(path: str) -> BinaryIO:
        catalog = ctx().catalog
        pkg = catalog.find_onboarded(PackageKind.vnf, vnfd_id)
        return catalog.files(PackageKind.vnf, pkg.id)[1].open(path)

    return open_file


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


def plan(op_id: str) -> dict[str, Any]:
    """Plan and place the NS (reusing the stored plan on retry, so keys stay the same)."""
    with ctx().db.session() as s:
        op, ns = _load(op_id, s)
        if op.state == OpState.STARTING:
            _set_state(op, transition(op.state, Trigger.ENGINE))
        if ns.plan:
            return dict(ns.plan)
        request, tenant, ns_id = dict(op.params), ns.tenant_id, ns.id
    nsd, vnfds = ctx().catalog.ns_descriptors(ns.nsd_info_id)
    artifacts = ctx().catalog.vnfd_artifacts(vnfds)
    ns_plan = plan_instantiation(
        ns_id, nsd, vnfds, request, default_vim=_default_vim(tenant), artifacts=artifacts
    )
    stored = placement.place_plan(ns_plan, vnfds, nsd, ctx().resources)
    scale_status = initial_scale_status(
        nsd, vnfds, stored, ns_plan.flavour_id, ns_plan.instantiation_level_id
    )
    with ctx().db.session() as s:
        _, ns = _load(op_id, s)
        ns.plan = stored
        ns.scale_status = scale_status
        ns.flavour_id = ns_plan.flavour_id
        ns.instantiation_level_id = ns_plan.instantiation_level_id
    return stored


def create_ns_vl(op_id: str, vl: dict[str, Any]) -> None:
    """One NS virtual link on one VIM (network + subnet, keyed)."""
    with ctx().db.session() as s:
        _, ns = _load(op_id, s, lock=False)
        ns_id = ns.id
    key = f"{ns_id}/nsvl/{vl['vl_id']}/{vl['vim_account_id']}"
    tags = {TAG_KEY: key, TAG_NS: ns_id}
    driver = _driver(vl["vim_account_id"])
    try:
        net = driver.create_network(
            NetworkSpec(key=key, name=f"ns-{ns_id[:8]}-{vl['vl_id']}", tags=tags)
        )
        sub = driver.create_subnet(
            SubnetSpec(
                key=key + "/subnet",
                name=f"{vl['vl_id']}-subnet",
                network_id=net.id,
                cidr=vl["cidr"],
                ip_version=vl.get("ip_version", 4),
                tags={**tags, TAG_KEY: key + "/subnet"},
            )
        )
    finally:
        driver.close()
    with ctx().db.session() as s:
        _, ns = _load(op_id, s)
        records = dict(ns.vl_records or {})
        records.setdefault(vl["vl_id"], {})[vl["vim_account_id"]] = {
            "network_id": net.id,
            "subnet_id": sub.id,
        }
        ns.vl_records = records


def _current_spec(ns: NsInstance, vnf_instance_id: str) -> VnfDeploymentSpec:
    """A VNF's spec from the plan, its NS virtual links resolved to the VIM's network ids."""
    spec = codec.spec_from_json(ns.plan["vnfs"][vnf_instance_id])
    spec.ext_networks = {
        vl_id: per_vim[spec.vim_account_id]["network_id"]
        for vl_id, per_vim in (ns.vl_records or {}).items()
        if spec.vim_account_id in per_vim
    }
    return spec


def deploy_vnf(op_id: str, vnf_instance_id: str) -> None:
    """Deploy one VNF through the VNFM (idempotent by keys) and record what it created."""
    with ctx().db.session() as s:
        _, ns = _load(op_id, s, lock=False)
        spec = _current_spec(ns, vnf_instance_id)
    driver = _driver(spec.vim_account_id)
    try:
        ensure_images(spec, driver, _package_file(spec.vnfd_id))
        try:
            record = ctx().vnfm.instantiate(spec, driver)
        except VnfmError as exc:
            # The placement was computed from the last sync; operations running at the same
            # time may have taken the room since. The VIM is authoritative: let it choose.
            if not (spec.hosts and isinstance(exc.vim_error, VimCapacityExceeded)):
                raise
            spec.hosts = {}
            record = ctx().vnfm.instantiate(spec, driver)
    finally:
        driver.close()
    with ctx().db.session() as s:
        _, ns = _load(op_id, s)
        ns.vnf_records = {**(ns.vnf_records or {}), vnf_instance_id: codec.to_json(record)}


def finish_instantiate(op_id: str) -> None:
    """NS INSTANTIATED, op COMPLETED, NS unlocked."""
    with ctx().db.session() as s:
        op, ns = _load(op_id, s)
        if op.state == OpState.COMPLETED:
            return
        ns.ns_state = NsState.INSTANTIATED
        ns.current_op_id = None
        _set_state(op, transition(op.state, Trigger.ENGINE))


# -- terminate -----------------------------------------------------------------------------
def terminate_layers(op_id: str) -> list[list[str]]:
    """VNF instance ids to remove, in reverse dependency order; moves the op to PROCESSING."""
    with ctx().db.session() as s:
        op, ns = _load(op_id, s)
        if op.state == OpState.STARTING:
            _set_state(op, transition(op.state, Trigger.ENGINE))
        layers = list((ns.plan or {}).get("vnf_layers", []))
        present = set((ns.vnf_records or {}).keys())
    out = [[v for v in layer if v in present] for layer in reversed(layers)]
    leftovers = present - {v for layer in out for v in layer}
    if leftovers:
        out.append(sorted(leftovers))
    return [layer for layer in out if layer]


def _stop_gracefully(driver: Any, record: Any, timeout: float) -> None:
    """Stop every VDU instance and wait (up to ``timeout``) for SHUTOFF before deletion."""
    for vnfc in record.vnfcs:
        try:
            driver.stop_server(vnfc.server_id)
        except VimError:
            pass  # absent or already stopped: deletion follows anyway
    deadline = time.monotonic() + timeout
    pending = {v.server_id for v in record.vnfcs}
    while pending and time.monotonic() < deadline:
        for server_id in list(pending):
            try:
                if driver.get_server(server_id).status in ("SHUTOFF", "ERROR"):
                    pending.discard(server_id)
            except VimError:
                pending.discard(server_id)
        if pending:
            time.sleep(0.05)


def terminate_vnf(op_id: str, vnf_instance_id: str) -> None:
    """Remove one VNF's resources and forget its record (TERMINATE with
    ``terminationType: GRACEFUL`` stops the VDUs first, within ``gracefulTerminationTimeout``
    seconds; FORCEFUL, the default, deletes at once)."""
    with ctx().db.session() as s:
        op, ns = _load(op_id, s, lock=False)
        data = (ns.vnf_records or {}).get(vnf_instance_id)
        params = dict(op.params or {}) if op.operation == "TERMINATE" else {}
    graceful = params.get("terminationType") == "GRACEFUL"
    timeout = float(params.get("gracefulTerminationTimeout") or 30)
    if data is not None:
        record = codec.record_from_json(data)
        driver = _driver(record.vim_account_id)
        try:
            if graceful:
                _stop_gracefully(driver, record, timeout)
            ctx().vnfm.terminate(record, driver)
        finally:
            driver.close()
    with ctx().db.session() as s:
        _, ns = _load(op_id, s)
        records = dict(ns.vnf_records or {})
        records.pop(vnf_instance_id, None)
        ns.vnf_records = records


def delete_ns_vls(op_id: str) -> None:
    """Remove what is left of the NS once its VNFs are gone: the NS virtual links (and anything
    a crashed attempt created but never recorded), then the VIM's NS grouping."""
    with ctx().db.session() as s:
        _, ns = _load(op_id, s, lock=False)
        ns_id, vims = ns.id, _vims_of(ns)
    _purge_ns(ns_id, vims)
    with ctx().db.session() as s:
        _, ns = _load(op_id, s)
        ns.vl_records = {}


def _purge_ns(ns_id: str, vims: set[str]) -> None:
    """Delete every resource tagged with the NS on its VIMs, then let VIMs that group an NS's
    resources (a Kubernetes namespace) drop the group."""
    for vim_id in sorted(vims):
        driver = _driver(vim_id)
        try:
            cleanup_by_tags(driver, ns_instance_id=ns_id)
            release = getattr(driver, "delete_namespace_for", None)
            if callable(release):
                release(ns_id)
        finally:
            driver.close()


def finish_terminate(op_id: str) -> None:
    """NS NOT_INSTANTIATED, op COMPLETED, NS unlocked."""
    with ctx().db.session() as s:
        op, ns = _load(op_id, s)
        if op.state == OpState.COMPLETED:
            return
        ns.ns_state = NsState.NOT_INSTANTIATED
        ns.plan = None
        ns.vnf_records = {}
        ns.vl_records = {}
        ns.scale_status = {}
        ns.current_op_id = None  # terminate finished
        _set_state(op, transition(op.state, Trigger.ENGINE))


# -- rollback, failure, cancel -------------------------------------------------------------
def _vims_of(ns: NsInstance) -> set[str]:
    vims = {r["vim_account_id"] for r in (ns.vnf_records or {}).values()}
    for per_vim in (ns.vl_records or {}).values():
        vims |= set(per_vim)
    for spec in ((ns.plan or {}).get("vnfs") or {}).values():
        vims.add(spec["vim_account_id"])
    return vims


def rollback_instantiate(op_id: str) -> None:
    """Remove everything the instantiation created (all resources tagged with the NS)."""
    with ctx().db.session() as s:
        op, ns = _load(op_id, s, lock=False)
        if op.state == OpState.ROLLED_BACK:
            return
        ns_id, vims = ns.id, _vims_of(ns)
    _purge_ns(ns_id, vims)
    with ctx().db.session() as s:
        op, ns = _load(op_id, s)
        ns.ns_state = NsState.NOT_INSTANTIATED
        ns.plan, ns.vnf_records, ns.vl_records, ns.scale_status = None, {}, {}, {}
        ns.current_op_id = None
        _set_state(op, transition(op.state, Trigger.ENGINE))


def record_failure(op_id: str, problem: dict[str, Any]) -> None:
    """The op goes FAILED_TEMP with the ProblemDetails; the NS stays locked by it."""
    with ctx().db.session() as s:
        op, _ = _load(op_id, s)
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
        op, _ = _load(op_id, s, lock=False)
        pending = op.cancel_pending
    if pending:
        raise Cancelled("the operation was cancelled by the client (POST .../cancel)")


# -- scale, heal, update ------------------------------------------------------------------
def operation_of(op_id: str) -> str:
    """The op's type (fixed at creation, so safe to read inside a workflow)."""
    with ctx().db.session() as s:
        op, _ = _load(op_id, s, lock=False)
        return op.operation


def initial_scale_status(
    nsd: Nsd, vnfds: dict[str, Vnfd], stored: dict[str, Any], flavour_id: str, level_id: str | None
) -> dict[str, Any]:
    """Scale levels right after instantiation: per VNF aspect and per NS aspect."""
    flavour = next((f for f in nsd.flavours if f.flavour_id == flavour_id), None)
    profiles = {p.id: p for p in (flavour.vnf_profiles if flavour else [])}
    vnf_levels: dict[str, dict[str, int]] = {}
    for vnf_id, spec in stored["vnfs"].items():
        vflav = next(
            (f for f in vnfds[spec["vnfd_id"]].flavours if f.flavour_id == spec["flavour_id"]), None
        )
        if vflav is None:
            continue
        profile = profiles.get(spec["vnf_profile_id"])
        lvl_id = (
            profile.instantiation_level if profile else None
        ) or vflav.default_instantiation_level
        level = next((lv for lv in vflav.instantiation_levels if lv.id == lvl_id), None)
        vnf_levels[vnf_id] = {
            a.id: (level.scale_info.get(a.id, 0) if level else 0) for a in vflav.scaling_aspects
        }
    ns_level = next(
        (lv for lv in (flavour.instantiation_levels if flavour else []) if lv.id == level_id), None
    )
    ns_levels = {
        a.id: (ns_level.scale_info.get(a.id, 0) if ns_level else 0)
        for a in (flavour.scaling_aspects if flavour else [])
    }
    return {"vnf": vnf_levels, "ns": ns_levels}


def begin_modify(op_id: str) -> dict[str, Any]:
    """PROCESSING; VNFs to add join the plan (as a last layer). Returns the change set."""
    with ctx().db.session() as s:
        op, ns = _load(op_id, s)
        if op.state == OpState.STARTING:
            _set_state(op, transition(op.state, Trigger.ENGINE))
        changes = dict(op.changes or {})
        add = changes.get("add") or {}
        if add:
            plan_ = dict(ns.plan or {})
            vnfs = dict(plan_.get("vnfs") or {})
            new = [v for v in add if v not in vnfs]
            vnfs.update(add)
            plan_["vnfs"] = vnfs
            if new:
                plan_["vnf_layers"] = [*plan_.get("vnf_layers", []), new]
            ns.plan = plan_
        return changes


def _spec_and_record(op_id: str, vnf_id: str) -> tuple[VnfDeploymentSpec, VnfRecord]:
    with ctx().db.session() as s:
        _, ns = _load(op_id, s, lock=False)
        return _current_spec(ns, vnf_id), codec.record_from_json(ns.vnf_records[vnf_id])


def _save(op_id: str, vnf_id: str, record: Any, counts: dict[str, int] | None = None) -> None:
    with ctx().db.session() as s:
        _, ns = _load(op_id, s)
        ns.vnf_records = {**(ns.vnf_records or {}), vnf_id: codec.to_json(record)}
        if counts is not None:
            plan_ = dict(ns.plan)
            spec = dict(plan_["vnfs"][vnf_id])
            spec["vdus"] = [
                {**v, "count": counts.get(v["vdu_id"], v["count"])} for v in spec["vdus"]
            ]
            plan_["vnfs"] = {**plan_["vnfs"], vnf_id: spec}
            ns.plan = plan_


def scale_vnf(op_id: str, vnf_id: str, counts: dict[str, int]) -> None:
    """Bring one VNF to ``counts`` VDU instances (idempotent: keyed creates, highest removed)."""
    spec, record = _spec_and_record(op_id, vnf_id)
    for vdu in spec.vdus:
        vdu.count = counts.get(vdu.vdu_id, vdu.count)
    driver = _driver(spec.vim_account_id)
    try:
        ensure_images(spec, driver, _package_file(spec.vnfd_id))
        record = ctx().vnfm.scale(spec, record, driver)
    finally:
        driver.close()
    _save(op_id, vnf_id, record, counts)


def heal_vnf(op_id: str, vnf_id: str, keys: list[str], recreate: bool) -> None:
    """Restart or recreate VNFCs of one VNF."""
    spec, record = _spec_and_record(op_id, vnf_id)
    # the keys were taken when the heal was requested; a VNFC recreated since then carries a
    # newer generation of the same base key
    current = {split_generation(c.key)[0]: c.key for c in record.vnfcs}
    keys = [current[base] for base, _ in map(split_generation, keys) if base in current]
    driver = _driver(spec.vim_account_id)
    try:
        if recreate:
            ensure_images(spec, driver, _package_file(spec.vnfd_id))
        record = ctx().vnfm.heal(spec, record, driver, keys, recreate=recreate)
    finally:
        driver.close()
    _save(op_id, vnf_id, record)


def operate_vnf(op_id: str, vnf_id: str, state: str) -> None:
    """Start or stop every VDU instance of one VNF."""
    spec, record = _spec_and_record(op_id, vnf_id)
    driver = _driver(spec.vim_account_id)
    try:
        for vnfc in record.vnfcs:
            server = (driver.start_server if state == "STARTED" else driver.stop_server)(
                vnfc.server_id
            )
            vnfc.status = server.status
    finally:
        driver.close()
    _save(op_id, vnf_id, record)


def set_spec(op_id: str, vnf_id: str, which: str) -> None:
    """CHANGE_VNF_DF: make the ``before`` or ``after`` spec of a replaced VNF the current one."""
    with ctx().db.session() as s:
        op, ns = _load(op_id, s)
        spec = (op.changes or {})["replace"][vnf_id][which]
        plan_ = dict(ns.plan or {})
        plan_["vnfs"] = {**plan_.get("vnfs", {}), vnf_id: spec}
        ns.plan = plan_


def finish_modify(op_id: str) -> None:
    """Removed VNFs leave the plan, scale levels update, op COMPLETED, NS unlocked."""
    with ctx().db.session() as s:
        op, ns = _load(op_id, s)
        if op.state == OpState.COMPLETED:
            return
        changes = op.changes or {}
        removed = set(changes.get("remove") or [])
        plan_ = dict(ns.plan or {})
        plan_["vnfs"] = {k: v for k, v in plan_.get("vnfs", {}).items() if k not in removed}
        plan_["vnf_layers"] = [
            [v for v in layer if v not in removed] for layer in plan_.get("vnf_layers", [])
        ]
        ns.plan = plan_
        status = {
            "vnf": dict((ns.scale_status or {}).get("vnf", {})),
            "ns": dict((ns.scale_status or {}).get("ns", {})),
        }
        for vnf_id, sc in (changes.get("scale") or {}).items():
            status["vnf"][vnf_id] = {
                **status["vnf"].get(vnf_id, {}),
                sc["aspect"]: sc["level_after"],
            }
        for aspect, sc in (changes.get("ns_scale") or {}).items():
            status["ns"][aspect] = sc["after"]
        for vnf_id in [*removed, *(changes.get("replace") or {})]:
            status["vnf"].pop(vnf_id, None)
        ns.scale_status = status
        ns.current_op_id = None
        events.vnf_changes(s, op, changes)
        _set_state(op, transition(op.state, Trigger.ENGINE))


def rollback_modify(op_id: str) -> None:
    """Undo a SCALE/UPDATE: added VNFs removed, scaled VNFs back to their former counts."""
    with ctx().db.session() as s:
        op, ns = _load(op_id, s, lock=False)
        if op.state == OpState.ROLLED_BACK:
            return
        changes, ns_id = dict(op.changes or {}), ns.id
    for vnf_id, spec in (changes.get("add") or {}).items():
        driver = _driver(spec["vim_account_id"])
        try:
            cleanup_by_tags(driver, ns_instance_id=ns_id, vnf_instance_id=vnf_id)
        finally:
            driver.close()
    for vnf_id, sc in (changes.get("scale") or {}).items():
        scale_vnf(op_id, vnf_id, sc["before"])
    for vnf_id in changes.get("replace") or {}:
        terminate_vnf(op_id, vnf_id)
        set_spec(op_id, vnf_id, "before")
        deploy_vnf(op_id, vnf_id)
    with ctx().db.session() as s:
        op, ns = _load(op_id, s)
        added = set((changes.get("add") or {}).keys())
        plan_ = dict(ns.plan or {})
        plan_["vnfs"] = {k: v for k, v in plan_.get("vnfs", {}).items() if k not in added}
        plan_["vnf_layers"] = [
            [v for v in layer if v not in added]
            for layer in plan_.get("vnf_layers", [])
            if set(layer) - added
        ]
        ns.plan = plan_
        ns.vnf_records = {k: v for k, v in (ns.vnf_records or {}).items() if k not in added}
        ns.current_op_id = None
        _set_state(op, transition(op.state, Trigger.ENGINE))
