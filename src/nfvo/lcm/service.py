"""NS life-cycle use cases behind ``nslcm``: NS instances and the one way to start, retry,
roll back, fail or cancel an operation (the API and, later, the policy engine call these)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection
from typing import Any

from sqlalchemy.orm import Session

from nfvo.catalog.descriptors import Nsd, Vnfd
from nfvo.catalog.service import CatalogService
from nfvo.catalog.states import OperationalState, PackageKind, UsageState
from nfvo.errors import BadRequest, Conflict, NotFound, UnprocessableEntity
from nfvo.inventory.db import Database
from nfvo.inventory.lcm_repo import (
    NsRecordsRepository,
    NsRepository,
    OpOccRepository,
    PlacementRecordRepository,
)
from nfvo.inventory.models import NsInstance, NsLcmOpOcc, utcnow
from nfvo.inventory.repositories import CatalogRepository
from nfvo.lcm import changes, codec, engine, events, placement, requests
from nfvo.lcm.model import ChangeSet
from nfvo.lcm.plan import NsVlPlan, PlanError, plan_instantiation, requested_ns_vl_cidrs
from nfvo.lcm.read import NsReadModel
from nfvo.lcm.states import (
    NEEDS,
    ROLLBACK_OPS,
    IllegalTransition,
    NsState,
    OpState,
    OpType,
    Trigger,
    transition,
)
from nfvo.policy import quotas
from nfvo.query import PageQuery
from nfvo.resources.service import ResourceService, Scope
from nfvo.vnfm.base import VnfDeploymentSpec

SUPPORTED = frozenset(engine.WORKFLOWS)


class LcmService:
    """NS instances and their operations over the inventory and the durable engine."""

    def __init__(
        self, db: Database, catalog: CatalogService, resources: ResourceService | None = None
    ) -> None:
        self.db = db
        self.catalog = catalog
        self.resources = resources
        self.read = NsReadModel(db, catalog)

    # -- NS instances --------------------------------------------------------------------
    def create(self, body: dict[str, Any], tenant: str | None) -> NsInstance:
        """A new NS instance (NOT_INSTANTIATED) from an onboarded, enabled NSD."""
        nsd_id = body.get("nsdId")
        if not isinstance(nsd_id, str) or not nsd_id:
            raise BadRequest("nsdId is required (the NSD's descriptor id)", field="nsdId")
        name = body.get("nsName")
        if not isinstance(name, str) or not name.strip():
            raise BadRequest("nsName is required", field="nsName")
        requests.check_create(body)
        try:
            nsd = self.catalog.find_onboarded(PackageKind.nsd, nsd_id)
        except NotFound:
            raise BadRequest(f"no onboarded NSD has nsdId {nsd_id}", field="nsdId") from None
        if not Scope(tenant).sees(nsd.tenant_id):  # own or shared NSDs
            raise BadRequest(f"no onboarded NSD has nsdId {nsd_id}", field="nsdId")
        self._check_nsd_packages(nsd.info or {}, nsd_id, tenant)
        if nsd.operational_state != OperationalState.ENABLED:
            raise Conflict(f"NSD {nsd_id} is DISABLED; enable it to create NS instances")
        ns = NsInstance(
            id=str(uuid.uuid4()),
            tenant_id=tenant,
            nsd_info_id=nsd.id,
            nsd_id=nsd_id,
            name=name,
            description=body.get("nsDescription"),
            ns_state=NsState.NOT_INSTANTIATED,
            scale_status={},
        )
        with self.db.session() as s:
            NsRepository(s).add(ns)
            events.created(s, ns)
            catalog = CatalogRepository(s)
            pkg = catalog.lock(nsd.id)
            if pkg is not None and pkg.usage_state != UsageState.IN_USE:
                pkg.usage_state = UsageState.IN_USE
            # the VNF packages the NS deploys are in use as long as the NS exists
            for vnf_pkg_id in sorted((pkg.info or {}).get("vnfPkgIds", []) if pkg else []):
                vnf_pkg = catalog.lock(vnf_pkg_id)
                if vnf_pkg is not None and vnf_pkg.usage_state != UsageState.IN_USE:
                    vnf_pkg.usage_state = UsageState.IN_USE
        return ns

    def _check_nsd_packages(self, info: dict[str, Any], nsd_id: str, tenant: str | None) -> None:
        """The VNF packages an NSD deploys must be visible to the NS's tenant as well (an NSD
        onboarded before references were checked per tenant could name another tenant's)."""
        scope = Scope(tenant)
        for pkg_id in info.get("vnfPkgIds", []):
            try:
                owner = self.catalog.get(PackageKind.vnf, pkg_id).tenant_id
            except NotFound:
                owner = None  # deleted since: instantiation reports it
            if not scope.sees(owner):
                raise UnprocessableEntity(
                    f"NSD {nsd_id} deploys a VNF package that is not available to this tenant",
                    field="nsdId",
                )

    def get(self, ns_id: str, tenant: str | None) -> NsInstance:
        """One NS instance visible to the caller."""
        with self.db.session() as s:
            ns = NsRepository(s).get(ns_id)
        if ns is None or not Scope(tenant).owns(ns.tenant_id):
            raise NotFound(f"NS instance {ns_id} does not exist")
        return ns

    def page(
        self, tenant: str | None, query: PageQuery, *, without: Collection[str] = ()
    ) -> list[Any]:
        """One chunk of the NS instances visible to the caller, by creation (``without``:
        columns left unread: read-only rows where they hold None)."""
        with self.db.session() as s:
            return NsRepository(s).page(query, tenant=tenant, without=without)

    def ns_counts(self, tenant: str | None) -> dict[str, tuple[int, int]]:
        """Per NS state, how many NS instances the caller sees and how many of them have an
        operation open (counted in SQL, whatever the number of instances)."""
        with self.db.session() as s:
            return NsRepository(s).count_by_state(tenant=tenant)

    def delete(self, ns_id: str, tenant: str | None) -> None:
        """Delete an NS instance: only NOT_INSTANTIATED and with no operation running (one
        conditional DELETE decides between racing requests)."""
        self.get(ns_id, tenant)
        with self.db.session() as s:
            repo = NsRepository(s)
            ns = repo.get(ns_id)
            if ns is None:
                raise NotFound(f"NS instance {ns_id} does not exist")
            events.deleted(s, ns)  # before the row goes: subscription filters may read it
            if not repo.delete_if_idle(ns_id, NsState.NOT_INSTANTIATED):
                s.rollback()
                current = repo.get(ns_id)
                if current is None:
                    raise NotFound(f"NS instance {ns_id} does not exist")
                raise Conflict(
                    f"NS instance {ns_id} is {current.ns_state}"
                    + (
                        f" with operation {current.current_op_id} open"
                        if current.current_op_id
                        else ""
                    )
                    + "; terminate it first"
                )
            OpOccRepository(s).delete_for(ns_id)
            catalog = CatalogRepository(s)
            if repo.using_nsd(ns.nsd_info_id) == 0:
                pkg = catalog.lock(ns.nsd_info_id)
                if pkg is not None:
                    pkg.usage_state = UsageState.NOT_IN_USE
            nsd_pkg = catalog.get(ns.nsd_info_id)
            for vnf_pkg_id in sorted((nsd_pkg.info or {}).get("vnfPkgIds", []) if nsd_pkg else []):
                vnf_pkg = catalog.lock(vnf_pkg_id)  # first: the counts below see racing creates
                if vnf_pkg is None:
                    continue
                users = catalog.referencing(PackageKind.nsd.value, "vnfPkgIds", vnf_pkg_id)
                if not any(repo.using_nsd(u.id) for u in users):
                    vnf_pkg.usage_state = UsageState.NOT_IN_USE

    # -- operations ----------------------------------------------------------------------
    def start(
        self,
        ns_id: str,
        op: OpType,
        params: dict[str, Any],
        tenant: str | None,
        *,
        automatic: bool = False,
        bind: Callable[[Session, NsLcmOpOcc], None] | None = None,
    ) -> NsLcmOpOcc:
        """Create the op occurrence (STARTING) and start its durable workflow.

        ``automatic``: started by the policy engine (``isAutomaticInvocation: true``); it
        goes through exactly the checks, claim and placement of a user's request.
        ``bind(session, occ)``: called in the transaction that claims the NS and creates the
        op occurrence (the policy engine writes an alert's idempotency key there); when it
        raises, nothing of the request remains and the error is raised."""
        if op not in SUPPORTED:
            raise Conflict(f"{op.value} is not available in this release")
        requests.check_request(op, params)
        if op is OpType.INSTANTIATE and not isinstance(params.get("nsFlavourId"), str):
            raise BadRequest("nsFlavourId is required", field="nsFlavourId")
        if op is OpType.INSTANTIATE:
            try:
                requested_ns_vl_cidrs(params.get("additionalParamsForNs") or {})
            except PlanError as exc:
                raise BadRequest(f"{exc.field}: {exc.message}", field=exc.field) from None
        if op is OpType.TERMINATE and params.get("terminationType") not in (
            None,
            "GRACEFUL",
            "FORCEFUL",
        ):
            raise BadRequest(
                "terminationType must be GRACEFUL or FORCEFUL", field="terminationType"
            )
        current = self.get(ns_id, tenant)
        # validated now; placed once the NS is claimed (a busy NS is refused without placing)
        placing: Callable[[], dict[str, placement.VimDecision]] | None = None
        asked = quotas.Usage()
        if op is OpType.INSTANTIATE and current.ns_state == NsState.NOT_INSTANTIATED:
            placing, asked = self._check_instantiate(current, params)
        change_set = ChangeSet()
        if (
            op in (OpType.SCALE, OpType.HEAL, OpType.UPDATE)
            and current.ns_state == NsState.INSTANTIATED
        ):
            change_set, placing, asked = self._changes(current, op, params)
        op_id = str(uuid.uuid4())
        for attempt in range(quotas.MAX_ATTEMPTS):
            try:
                occ = self._open(
                    current, op, params, op_id, change_set, placing, asked, automatic, bind
                )
                break
            except quotas.Contended:
                if attempt + 1 == quotas.MAX_ATTEMPTS:
                    raise Conflict(
                        f"other operations of tenant {current.tenant_id} kept taking quota "
                        "while this one was checked; retry"
                    ) from None
        engine.start(occ.id, occ.operation, occ.generation)
        return occ

    def _open(
        self,
        current: NsInstance,
        op: OpType,
        params: dict[str, Any],
        op_id: str,
        change_set: ChangeSet,
        placing: Callable[[], dict[str, placement.VimDecision]] | None,
        asked: quotas.Usage,
        automatic: bool,
        bind: Callable[[Session, NsLcmOpOcc], None] | None,
    ) -> NsLcmOpOcc:
        """One transaction: claim the NS, check and reserve quota, place, record the op
        occurrence (quotas.Contended: a concurrent claim of the tenant took quota; retry)."""
        ns_id = current.id
        with self.db.session() as s:
            repo = NsRepository(s)
            if not repo.claim(ns_id, op_id, NEEDS[op]):
                s.rollback()
                self._refuse(repo.get(ns_id), ns_id, op)
            quotas.reserve(
                s,
                ns_instance_id=ns_id,
                tenant_id=current.tenant_id,
                op_occ_id=op_id,
                asked=asked,
            )
            decisions: dict[str, placement.VimDecision] = {}
            if placing is not None:
                try:
                    decisions = placing()
                except placement.PlacementFailed as exc:
                    s.rollback()  # the claim too: nothing of the request remains
                    raise _unplaceable(exc) from None
            occ = OpOccRepository(s).add(
                NsLcmOpOcc(
                    id=op_id,
                    ns_instance_id=ns_id,
                    tenant_id=current.tenant_id,
                    operation=op.value,
                    state=OpState.STARTING,
                    params=params,
                    changes=codec.to_json(change_set),
                    is_automatic_invocation=automatic,
                )
            )
            if op is not OpType.INSTANTIATE:  # an instantiate's plan step places (and records)
                placement.record(s, occ, decisions)
            if bind is not None:
                bind(s, occ)
            events.op_event(s, occ, start=True)
        return occ

    def start_migration(
        self, ns_id: str, params: dict[str, Any], bind: Callable[[Session, str], None]
    ) -> NsLcmOpOcc:
        """An UPDATE op occurrence that migrates VDU instances of an action plan
        (``params``: ``actionPlanId`` and this NS's ``migrations``; SOL005 has no migrate
        type). The NS is claimed as by ``start`` (409 when another operation is open or it is
        not INSTANTIATED); ``bind(session, op_id)`` hands the plan's steps to the op in the
        claim's transaction. Its workflow (``modify`` with ``actions.migrate_vdus``) starts
        with ``run``: a plan claims all its NSs first, so no migration waits for an NS that
        is not claimed yet."""
        op_id = str(uuid.uuid4())
        with self.db.session() as s:
            repo = NsRepository(s)
            if not repo.claim(ns_id, op_id, NEEDS[OpType.UPDATE]):
                s.rollback()
                self._refuse(repo.get(ns_id), ns_id, OpType.UPDATE)
            ns = repo.get(ns_id)
            assert ns is not None
            occ = OpOccRepository(s).add(
                NsLcmOpOcc(
                    id=op_id,
                    ns_instance_id=ns_id,
                    tenant_id=ns.tenant_id,
                    operation=OpType.UPDATE.value,
                    state=OpState.STARTING,
                    params=params,
                    changes=codec.to_json(ChangeSet()),
                )
            )
            bind(s, op_id)
            events.op_event(s, occ, start=True)
        return occ

    @staticmethod
    def run(occ: NsLcmOpOcc) -> None:
        """Start the durable workflow of an op occurrence created by ``start_migration``."""
        engine.start(occ.id, occ.operation, occ.generation)

    @staticmethod
    def _refuse(ns: NsInstance | None, ns_id: str, op: OpType) -> None:
        """Why an operation could not take the NS (409, or 404 when it is gone)."""
        if ns is None:
            raise NotFound(f"NS instance {ns_id} does not exist")
        if ns.current_op_id:
            raise Conflict(
                f"NS instance {ns_id} has operation {ns.current_op_id} that is not finished; "
                "wait for it, or fail / roll it back",
                nsLcmOpOccId=ns.current_op_id,
            )
        raise Conflict(
            f"{op.value} needs an NS in {NEEDS[op].value}; NS instance {ns_id} is {ns.ns_state}"
        )

    def _check_instantiate(
        self, ns: NsInstance, params: dict[str, Any]
    ) -> tuple[Callable[[], dict[str, placement.VimDecision]] | None, quotas.Usage]:
        """Refuse an INSTANTIATE that cannot succeed before any op occurrence exists: unknown
        flavour or level, a bad parameter, a day-0 file the package lacks (400); a VIM account
        that does not exist or is in ERROR, VDUs no host can take under the descriptors'
        rules (422). Returns the placement check (PlacementFailed), run once the NS is claimed
        (the same planning and placement run again in the operation), and what the plan asks
        of the quotas."""
        nsd, vnfds = self.catalog.ns_descriptors(ns.nsd_info_id)
        ns_vim = (params.get("additionalParamsForNs") or {}).get("vimAccountId")
        default_vim = None if ns_vim else self._default_vim(ns.tenant_id)
        try:
            ns_plan = plan_instantiation(
                ns.id,
                nsd,
                vnfds,
                params,
                default_vim=default_vim,
                artifacts=self.catalog.vnfd_artifacts(vnfds),
            )
        except PlanError as exc:
            raise BadRequest(f"{exc.field}: {exc.message}", field=exc.field) from None
        asked = quotas.of_specs(vnf.spec for vnf in ns_plan.vnfs)
        resources = self.resources
        if resources is None:
            return None, asked
        seen: set[str] = set()
        for vnf in ns_plan.vnfs:
            vim_id = vnf.spec.vim_account_id
            if vim_id in seen:
                continue
            seen.add(vim_id)
            try:
                vim = resources.get_vim(vim_id, Scope(ns.tenant_id))
            except NotFound:
                raise UnprocessableEntity(
                    f"VIM account {vim_id!r} (for VNF profile {vnf.spec.vnf_profile_id}) "
                    "does not exist",
                    field="vimAccountId",
                    vimAccountId=vim_id,
                ) from None
            # PROCESSING: its connectivity check after a change is running (not refused)
            if vim.operational_state not in ("ENABLED", "PROCESSING"):
                raise UnprocessableEntity(
                    f"VIM account {vim.name} ({vim_id}) is {vim.operational_state}, not ENABLED"
                    + (f": {vim.detailed_status}" if vim.detailed_status else ""),
                    field="vimAccountId",
                    vimAccountId=vim_id,
                )

        for vl in ns_plan.virtual_links:
            if vl.existing_network:
                self._check_existing_network(vl, Scope(ns.tenant_id))

        def place() -> dict[str, placement.VimDecision]:
            decisions: dict[str, placement.VimDecision] = {}
            placement.place_plan(ns_plan, vnfds, nsd, resources, sync=False, decisions=decisions)
            return decisions

        return place, asked

    def _check_existing_network(self, vl: NsVlPlan, scope: Scope) -> None:
        """An existing network an NS VL is mapped to must be one of its VIM's networks (by id
        or name, unique): 422 naming the field and the networks there are, else. A network
        the last sync has not seen yet gets one fresh sync before the refusal."""
        assert self.resources is not None and vl.existing_network
        field = f"additionalParamsForNs.nsVirtualLinkNetworks.{vl.vl_id}"
        ref = vl.existing_network
        for attempt in range(2):
            nets = self.resources.networks(vl.vim_account_id, scope)
            by_id = [n for n in nets if n["id"] == ref]
            named = [n for n in nets if n["name"] == ref]
            if by_id or len(named) == 1:
                return
            if len(named) > 1:
                raise UnprocessableEntity(
                    f"{field}: VIM account {vl.vim_account_id} has {len(named)} networks named "
                    f"{ref!r}; name it by id",
                    field=field,
                )
            if attempt == 0:
                self.resources.sync_if_older(vl.vim_account_id, 2.0)
        known = ", ".join(n["name"] for n in nets[:20]) or "none"
        raise UnprocessableEntity(
            f"{field}: VIM account {vl.vim_account_id} has no network {ref!r} (by id or name); "
            f"its networks: {known}",
            field=field,
        )

    def _default_vim(self, tenant_id: str | None) -> str | None:
        """The VIM an NS without a named one uses: the first ENABLED one its tenant sees."""
        if self.resources is None:
            return None
        vims = self.resources.list_vims(Scope(tenant_id))
        return next((v.id for v in vims if v.operational_state == "ENABLED"), None)

    def _changes(
        self, ns: NsInstance, op: OpType, params: dict[str, Any]
    ) -> tuple[ChangeSet, Callable[[], dict[str, placement.VimDecision]] | None, quotas.Usage]:
        """Validated change set of a SCALE/HEAL/UPDATE request (400 naming the field), the
        placement of the VDU instances it adds or recreates (run once the NS is claimed:
        it writes their hosts into the change set, PlacementFailed when some fit nowhere),
        and what it asks of the quotas (the specs after minus before: a heal asks nothing)."""
        nsd, vnfds = self.catalog.ns_descriptors(ns.nsd_info_id)

        def replan(
            profile_id: str, index: int, vnf_id: str, flavour: str, level: str | None
        ) -> VnfDeploymentSpec:
            return self._replan(ns, nsd, vnfds, profile_id, index, vnf_id, flavour, level)

        with self.db.session() as s:
            repo = NsRecordsRepository(s)
            vnfs = list(repo.vnfs(ns.id))
            vnfcs = repo.vnfcs_of([ns.id])
        try:
            change_set = changes.compute(
                op,
                params,
                ns_id=ns.id,
                vnfs={v.id: codec.from_json(VnfDeploymentSpec, v.spec) for v in vnfs},
                vnfc_keys={
                    v.id: [c.key for c in vnfcs.get(v.id, []) if c.server_id]
                    for v in vnfs
                    if v.instantiated
                },
                vnf_levels={v.id: dict(v.scale_levels or {}) for v in vnfs},
                ns_levels=dict(ns.scale_status or {}),
                nsd=nsd,
                vnfds=vnfds,
                flavour_id=ns.flavour_id,
                replan=replan,
            )
        except PlanError as exc:
            raise BadRequest(f"{exc.field}: {exc.message}", field=exc.field) from None
        specs = {v.id: codec.from_json(VnfDeploymentSpec, v.spec) for v in vnfs}
        asked = quotas.delta(specs, placement.specs_after(specs, change_set)[0])
        resources, flavour_id = self.resources, ns.flavour_id
        if resources is None or flavour_id is None:
            return change_set, None, asked
        running = [
            placement.RunningVnfc(
                c.vnf_instance_id, c.vdu_id, c.idx, c.key, c.host, bool(c.server_id)
            )
            for rows in vnfcs.values()
            for c in rows
        ]

        def place() -> dict[str, placement.VimDecision]:
            decisions: dict[str, placement.VimDecision] = {}
            placement.place_changes(
                ns.id,
                nsd,
                vnfds,
                flavour_id,
                specs,
                running,
                change_set,
                resources,
                decisions=decisions,
            )
            return decisions

        return change_set, place, asked

    def _replan(
        self,
        ns: NsInstance,
        nsd: Nsd,
        vnfds: dict[str, Vnfd],
        profile_id: str,
        index: int,
        vnf_id: str,
        flavour: str,
        level: str | None,
    ) -> VnfDeploymentSpec:
        """The spec one VNF would have with another deployment flavour (CHANGE_VNF_DF)."""
        altered = nsd.model_copy(deep=True)
        ns_flavour = next(f for f in altered.flavours if f.flavour_id == ns.flavour_id)
        profile = next(p for p in ns_flavour.vnf_profiles if p.id == profile_id)
        profile.flavour_id, profile.instantiation_level = flavour, level
        with self.db.session() as s:
            inst = OpOccRepository(s).last_of(ns.id, OpType.INSTANTIATE)
            request = dict(inst.params) if inst else {}
            row = NsRecordsRepository(s).vnf(vnf_id)
            assert row is not None, f"VNF instance {vnf_id} vanished"
            vim_account_id = row.vim_account_id
        artifacts = self.catalog.vnfd_artifacts(vnfds)
        plan = plan_instantiation(
            ns.id,
            altered,
            vnfds,
            request,
            default_vim=vim_account_id,
            vnf_instance_ids={f"{profile_id}-{index}": vnf_id},
            artifacts=artifacts,
        )
        spec = next(v.spec for v in plan.vnfs if v.spec.vnf_instance_id == vnf_id)
        spec.vim_account_id = vim_account_id
        return spec

    def op(self, op_id: str, tenant: str | None) -> NsLcmOpOcc:
        """One op occurrence visible to the caller."""
        with self.db.session() as s:
            occ = OpOccRepository(s).get(op_id)
        if occ is None or not Scope(tenant).owns(occ.tenant_id):
            raise NotFound(f"NS LCM operation occurrence {op_id} does not exist")
        return occ

    def placement_of(self, op_id: str, tenant: str | None) -> dict[str, Any]:
        """The placement decision an op occurrence visible to the caller recorded; 404 when
        the op does not exist for the caller or placed nothing."""
        occ = self.op(op_id, tenant)
        with self.db.session() as s:
            row = PlacementRecordRepository(s).get(occ.id)
            if row is None:
                raise NotFound(
                    f"NS LCM operation occurrence {op_id} ({occ.operation}) has recorded no "
                    "placement decision (it placed no VDU instance, or has not placed yet)",
                    nsLcmOpOccId=op_id,
                )
            return placement.record_view(row)

    def ops_page(
        self, tenant: str | None, query: PageQuery, *, without: Collection[str] = ()
    ) -> list[Any]:
        """One chunk of the op occurrences visible to the caller, by start time (``without``:
        columns left unread: read-only rows where they hold None)."""
        with self.db.session() as s:
            return OpOccRepository(s).page(query, tenant=tenant, without=without)

    def act(
        self, op_id: str, trigger: Trigger, tenant: str | None, cancel_mode: str | None = None
    ) -> NsLcmOpOcc:
        """retry / rollback / continue / fail / cancel, with the SOL005 state rules (409)."""
        self.op(op_id, tenant)
        restart: tuple[str, int, bool] | None = None
        with self.db.session() as s:
            occ = OpOccRepository(s).get(op_id, lock=True)
            assert occ is not None
            state = OpState(occ.state)
            if trigger is Trigger.CANCEL:
                if state not in (OpState.STARTING, OpState.PROCESSING, OpState.ROLLING_BACK):
                    raise Conflict(
                        f"operation is {state.value}; only a STARTING, PROCESSING or "
                        "ROLLING_BACK operation can be cancelled"
                    )
                occ.cancel_pending, occ.cancel_mode = True, cancel_mode or "GRACEFUL"
                return occ
            if trigger is Trigger.ROLLBACK and occ.operation not in ROLLBACK_OPS:
                raise Conflict(f"rollback of {occ.operation} is not available; retry or fail it")
            try:
                target = transition(state, trigger)
            except IllegalTransition as exc:
                raise Conflict(str(exc), operationState=state.value) from None
            occ.state, occ.state_entered_time = target, utcnow()
            if target is OpState.FAILED:
                self._release(s, occ)
                events.op_event(s, occ)
            elif target in (OpState.PROCESSING, OpState.ROLLING_BACK):
                occ.generation += 1
                occ.error = None
                restart = (occ.operation, occ.generation, target is OpState.ROLLING_BACK)
                events.op_event(s, occ, start=True)
        if restart:
            engine.start(op_id, restart[0], restart[1], rollback=restart[2])
        return self.op(op_id, tenant)

    @staticmethod
    def _release(s: Session, occ: NsLcmOpOcc) -> None:
        """A FAILED op gives the NS back; resources that remain make it INSTANTIATED, so the
        client can terminate them."""
        values: dict[str, Any] = {}
        if NsRecordsRepository(s).has_resources(occ.ns_instance_id):
            values["ns_state"] = NsState.INSTANTIATED
        NsRepository(s).release(occ.ns_instance_id, occ.id, **values)


def _unplaceable(exc: placement.PlacementFailed) -> UnprocessableEntity:
    """422 with the placement's ProblemDetails members (rules, VDU instances, VIM)."""
    extra = {k: v for k, v in exc.problem.items() if k not in ("title", "status", "detail")}
    return UnprocessableEntity(exc.problem["detail"], **extra)
