"""Repositories for NS instances, what they are made of, and their operation occurrences.

Concurrency rules (they hold on SQLite, which has no row locks, as on PostgreSQL):

- An NS's one open operation is taken and given back only by conditional UPDATEs
  (``claim``/``release``): the database decides which of two racing requests wins.
- An NS is deleted by a conditional DELETE (``delete_if_idle``).
- Every other row (a VNF instance, its VNFCs and VLs, an NS VL) is written only by the step
  acting on it, so concurrent steps of one operation never rewrite each other's data.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, literal, select, tuple_, update
from sqlalchemy.orm import Session, undefer

from nfvo.inventory.models import (
    NsInstance,
    NsLcmOpOcc,
    NsLcmOpPlacement,
    NsVl,
    NsVnf,
    NsVnfc,
    NsVnfVl,
    VimAccount,
    utcnow,
)
from nfvo.inventory.paging import PageQuery, fetch_after, owned_by


class NsRepository:
    """NS instances."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, ns: NsInstance) -> NsInstance:
        """Insert an NS instance."""
        self.s.add(ns)
        self.s.flush()
        return ns

    def get(self, ns_id: str, *, with_plan: bool = False) -> NsInstance | None:
        """An NS instance by id, read fresh (``with_plan``: its NS-level plan loaded too)."""
        q = select(NsInstance).where(NsInstance.id == ns_id)
        if with_plan:
            q = q.options(undefer(NsInstance.plan))
        q = q.execution_options(populate_existing=True)
        return self.s.execute(q).scalar_one_or_none()

    def page(
        self, query: PageQuery, *, tenant: str | None, without: Collection[str] = ()
    ) -> list[Any]:
        """One chunk of the NS instances a caller owns, by creation (``without``: columns
        left unread, see :func:`fetch_after`)."""
        return fetch_after(
            self.s,
            NsInstance,
            (NsInstance.created_at, NsInstance.id),
            query,
            visible=owned_by(NsInstance, tenant),
            without=without,
        )

    def count_by_state(self, *, tenant: str | None) -> dict[str, tuple[int, int]]:
        """Per ``ns_state``, how many NS instances a caller owns and how many of those have an
        operation open: one GROUP BY, no row read."""
        q = (
            select(NsInstance.ns_state, func.count(), func.count(NsInstance.current_op_id))
            .where(owned_by(NsInstance, tenant))
            .group_by(NsInstance.ns_state)
        )
        return {state: (int(n), int(busy)) for state, n, busy in self.s.execute(q)}

    def using_nsd(self, nsd_info_id: str) -> int:
        """How many NS instances were created from an NSD."""
        q = select(func.count()).select_from(NsInstance)
        return int(self.s.execute(q.where(NsInstance.nsd_info_id == nsd_info_id)).scalar_one())

    def claim(self, ns_id: str, op_id: str, needed_state: str) -> bool:
        """Make ``op_id`` the NS's open operation if it has none and is in ``needed_state``
        (one conditional UPDATE: of racing callers exactly one gets True)."""
        q = (
            update(NsInstance)
            .where(
                NsInstance.id == ns_id,
                NsInstance.current_op_id.is_(None),
                NsInstance.ns_state == needed_state,
            )
            .values(current_op_id=op_id, revision=NsInstance.revision + 1, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        return self.s.execute(q).rowcount == 1

    def release(self, ns_id: str, op_id: str, **values: Any) -> bool:
        """Clear the open operation ``op_id`` (and set ``values``), only if it still is the
        NS's open operation."""
        q = (
            update(NsInstance)
            .where(NsInstance.id == ns_id, NsInstance.current_op_id == op_id)
            .values(current_op_id=None, revision=NsInstance.revision + 1, **values)
            .execution_options(synchronize_session=False)
        )
        return self.s.execute(q).rowcount == 1

    def set_values(self, ns_id: str, **values: Any) -> None:
        """Set columns of an NS row (written by the one open operation only)."""
        q = (
            update(NsInstance)
            .where(NsInstance.id == ns_id)
            .values(revision=NsInstance.revision + 1, **values)
            .execution_options(synchronize_session=False)
        )
        self.s.execute(q)

    def delete_if_idle(self, ns_id: str, idle_state: str) -> bool:
        """Delete the NS if it is in ``idle_state`` with no open operation (conditional
        DELETE: of racing callers exactly one gets True)."""
        q = (
            delete(NsInstance)
            .where(
                NsInstance.id == ns_id,
                NsInstance.current_op_id.is_(None),
                NsInstance.ns_state == idle_state,
            )
            .execution_options(synchronize_session=False)
        )
        return self.s.execute(q).rowcount == 1


class NsRecordsRepository:
    """What an NS is made of: VNF instances, their VNFCs and VLs, the NS virtual links."""

    def __init__(self, session: Session) -> None:
        self.s = session

    # -- several NS instances at once (a page of the read model) ----------------------------
    def _grouped(
        self,
        model: Any,
        ids: Sequence[str],
        order: Sequence[Any],
        key: str,
        *,
        by: str = "ns_instance_id",
    ) -> dict[str, list[Any]]:
        """Rows of ``model`` whose column ``by`` is any of ``ids`` (one query), grouped by
        ``key``."""
        out: dict[str, list[Any]] = {}
        if ids:
            q = select(model).where(getattr(model, by).in_(list(ids))).order_by(*order)
            for row in self.s.execute(q).scalars():
                out.setdefault(getattr(row, key), []).append(row)
        return out

    def vnfs_of(self, ns_ids: Sequence[str]) -> dict[str, list[NsVnf]]:
        """The VNF instances of several NS instances in plan order, by NS id."""
        return self._grouped(NsVnf, ns_ids, (NsVnf.seq, NsVnf.id), "ns_instance_id")

    def vnfcs_of(self, ns_ids: Sequence[str]) -> dict[str, list[NsVnfc]]:
        """The VNFC rows of several NS instances, by VNF instance id."""
        return self._grouped(NsVnfc, ns_ids, (NsVnfc.vdu_id, NsVnfc.idx), "vnf_instance_id")

    def vnf_vls_of(self, ns_ids: Sequence[str]) -> dict[str, list[NsVnfVl]]:
        """The internal VLs of several NS instances, by VNF instance id."""
        return self._grouped(NsVnfVl, ns_ids, (NsVnfVl.vl_id,), "vnf_instance_id")

    def ns_vls_of(self, ns_ids: Sequence[str]) -> dict[str, list[NsVl]]:
        """The NS virtual links of several NS instances, per VIM, by NS id."""
        return self._grouped(NsVl, ns_ids, (NsVl.vl_id, NsVl.vim_account_id), "ns_instance_id")

    # -- VNF instances -----------------------------------------------------------------------
    def add_vnfs(self, rows: Iterable[NsVnf]) -> None:
        """Insert VNF instances that are not there yet (a re-run plan step adds nothing)."""
        rows = list(rows)
        if not rows:
            return
        have = set(
            self.s.execute(select(NsVnf.id).where(NsVnf.id.in_([r.id for r in rows]))).scalars()
        )
        self.s.add_all(r for r in rows if r.id not in have)
        self.s.flush()

    def vnf(self, vnf_id: str) -> NsVnf | None:
        """One VNF instance, read fresh."""
        q = select(NsVnf).where(NsVnf.id == vnf_id).execution_options(populate_existing=True)
        return self.s.execute(q).scalar_one_or_none()

    def vnfs_by_id(self, vnf_ids: Sequence[str]) -> dict[str, NsVnf]:
        """VNF instances by id (one query; ids that do not exist are absent)."""
        if not vnf_ids:
            return {}
        q = select(NsVnf).where(NsVnf.id.in_(list(vnf_ids)))
        return {v.id: v for v in self.s.execute(q).scalars()}

    def vnfs(self, ns_id: str) -> Sequence[NsVnf]:
        """The VNF instances of an NS in plan order."""
        q = select(NsVnf).where(NsVnf.ns_instance_id == ns_id).order_by(NsVnf.seq, NsVnf.id)
        return self.s.execute(q).scalars().all()

    def next_seq(self, ns_id: str) -> int:
        """The plan position after the last VNF instance of the NS."""
        q = select(func.max(NsVnf.seq)).where(NsVnf.ns_instance_id == ns_id)
        top = self.s.execute(q).scalar_one()
        return 0 if top is None else int(top) + 1

    def update_vnf(self, vnf_id: str, **values: Any) -> None:
        """Set columns of one VNF instance."""
        q = (
            update(NsVnf)
            .where(NsVnf.id == vnf_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        self.s.execute(q)

    def mark_instantiated(self, vnf_ids: Sequence[str]) -> None:
        """VNF instances now have their resources on the VIM."""
        if vnf_ids:
            q = (
                update(NsVnf)
                .where(NsVnf.id.in_(list(vnf_ids)))
                .values(instantiated=True)
                .execution_options(synchronize_session=False)
            )
            self.s.execute(q)

    def delete_vnfs(self, vnf_ids: Iterable[str]) -> None:
        """Remove VNF instances (their VNFCs and VLs go with them)."""
        ids = list(vnf_ids)
        if ids:
            self.s.execute(delete(NsVnfc).where(NsVnfc.vnf_instance_id.in_(ids)))
            self.s.execute(delete(NsVnfVl).where(NsVnfVl.vnf_instance_id.in_(ids)))
            self.s.execute(delete(NsVnf).where(NsVnf.id.in_(ids)))

    # -- VNFCs and VNF VLs -------------------------------------------------------------------
    def vnfcs(self, vnf_id: str) -> Sequence[NsVnfc]:
        """The VNFC rows of one VNF instance."""
        q = (
            select(NsVnfc)
            .where(NsVnfc.vnf_instance_id == vnf_id)
            .order_by(NsVnfc.vdu_id, NsVnfc.idx)
            .execution_options(populate_existing=True)
        )
        return self.s.execute(q).scalars().all()

    def vnf_vls(self, vnf_id: str) -> Sequence[NsVnfVl]:
        """The internal VLs of one VNF instance."""
        q = select(NsVnfVl).where(NsVnfVl.vnf_instance_id == vnf_id).order_by(NsVnfVl.vl_id)
        return self.s.execute(q).scalars().all()

    def vnfcs_by_vnf(self, vnf_ids: Sequence[str]) -> dict[str, list[NsVnfc]]:
        """The VNFC rows of several VNF instances (one query), by VNF instance id."""
        order = (NsVnfc.vnf_instance_id, NsVnfc.vdu_id, NsVnfc.idx)
        return self._grouped(NsVnfc, vnf_ids, order, "vnf_instance_id", by="vnf_instance_id")

    def vnf_vls_by_vnf(self, vnf_ids: Sequence[str]) -> dict[str, list[NsVnfVl]]:
        """The internal VLs of several VNF instances (one query), by VNF instance id."""
        order = (NsVnfVl.vnf_instance_id, NsVnfVl.vl_id)
        return self._grouped(NsVnfVl, vnf_ids, order, "vnf_instance_id", by="vnf_instance_id")

    def add_vnfc_intents(
        self,
        vnf: NsVnf,
        wanted: Iterable[tuple[str, int, str]],
        existing: Sequence[NsVnfc] | None = None,
    ) -> None:
        """Rows for VNFCs about to be created (``(vdu_id, index, key)``), where none exists:
        written before the VIM is asked, so a crash in between leaves a trace. ``existing``:
        the VNF's VNFC rows when the caller has just read them."""
        rows = self.vnfcs(vnf.id) if existing is None else existing
        have = {(c.vdu_id, c.idx) for c in rows}
        for vdu_id, index, key in wanted:
            if (vdu_id, index) in have:
                continue
            self.s.add(
                NsVnfc(
                    vnf_instance_id=vnf.id,
                    vdu_id=vdu_id,
                    idx=index,
                    ns_instance_id=vnf.ns_instance_id,
                    vim_account_id=vnf.vim_account_id,
                    key=key,
                    server_id=None,
                    status="PENDING",
                    port_ids={},
                    addresses={},
                )
            )
        self.s.flush()

    def put_vnf_state(
        self, vnf: NsVnf, vnfcs: Sequence[dict[str, Any]], vls: Sequence[dict[str, Any]]
    ) -> None:
        """Make the VNF's VNFC and VL rows exactly ``vnfcs`` / ``vls`` (column dicts keyed by
        ``vdu_id``+``idx`` / ``vl_id``): rows not given are removed, others updated or added."""
        self.put_vnf_states([(vnf, vnfcs, vls)])

    def put_vnf_states(
        self, states: Sequence[tuple[NsVnf, Sequence[dict[str, Any]], Sequence[dict[str, Any]]]]
    ) -> None:
        """``put_vnf_state`` for several VNF instances in one flush (their current rows read
        with two queries); ``NsVnf`` may be detached (only its ids are read)."""
        ids = [vnf.id for vnf, _, _ in states]
        current_vnfcs = self.vnfcs_by_vnf(ids)
        current_vls = self.vnf_vls_by_vnf(ids)
        for vnf, vnfcs, vls in states:
            current = {(c.vdu_id, c.idx): c for c in current_vnfcs.get(vnf.id, [])}
            seen = set()
            for data in vnfcs:
                k = (data["vdu_id"], data["idx"])
                seen.add(k)
                row = current.get(k)
                if row is None:
                    row = NsVnfc(
                        vnf_instance_id=vnf.id,
                        ns_instance_id=vnf.ns_instance_id,
                        vim_account_id=vnf.vim_account_id,
                    )
                    self.s.add(row)
                for name, value in data.items():
                    setattr(row, name, value)
            for k, row in current.items():
                if k not in seen:
                    self.s.delete(row)
            have_vls = {v.vl_id: v for v in current_vls.get(vnf.id, [])}
            for data in vls:
                vl = have_vls.pop(data["vl_id"], None)
                if vl is None:
                    self.s.add(
                        NsVnfVl(vnf_instance_id=vnf.id, ns_instance_id=vnf.ns_instance_id, **data)
                    )
                else:
                    vl.network_id, vl.subnet_id = data["network_id"], data.get("subnet_id")
            for vl in have_vls.values():
                self.s.delete(vl)
        self.s.flush()

    def clear_vnf(self, vnf_id: str) -> None:
        """Forget what a VNF instance had on its VIM (it stays planned, NOT_INSTANTIATED)."""
        self.s.execute(delete(NsVnfc).where(NsVnfc.vnf_instance_id == vnf_id))
        self.s.execute(delete(NsVnfVl).where(NsVnfVl.vnf_instance_id == vnf_id))
        self.update_vnf(vnf_id, instantiated=False)

    def set_vnfc_status(self, vnf_id: str, statuses: dict[tuple[str, int], str]) -> None:
        """Set the status of VNFCs of one VNF instance."""
        for (vdu_id, index), status in statuses.items():
            self.s.execute(
                update(NsVnfc)
                .where(
                    NsVnfc.vnf_instance_id == vnf_id,
                    NsVnfc.vdu_id == vdu_id,
                    NsVnfc.idx == index,
                )
                .values(status=status, updated_at=utcnow())
                .execution_options(synchronize_session=False)
            )

    # -- NS virtual links --------------------------------------------------------------------
    def ns_vls(self, ns_id: str) -> Sequence[NsVl]:
        """The NS virtual links of an NS, per VIM."""
        q = (
            select(NsVl)
            .where(NsVl.ns_instance_id == ns_id)
            .order_by(NsVl.vl_id, NsVl.vim_account_id)
        )
        return self.s.execute(q).scalars().all()

    def put_ns_vl(
        self, ns_id: str, vl_id: str, vim_id: str, network_id: str, subnet_id: str | None
    ) -> None:
        """Record an NS virtual link on one VIM (again: the same row)."""
        row = self.s.get(NsVl, (ns_id, vl_id, vim_id))
        if row is None:
            self.s.add(
                NsVl(
                    ns_instance_id=ns_id,
                    vl_id=vl_id,
                    vim_account_id=vim_id,
                    network_id=network_id,
                    subnet_id=subnet_id,
                )
            )
        else:
            row.network_id, row.subnet_id = network_id, subnet_id
        self.s.flush()

    def vims_of(self, ns_id: str) -> set[str]:
        """Every VIM an NS has (or had planned) anything on."""
        vims = set(
            self.s.execute(
                select(NsVnf.vim_account_id).where(NsVnf.ns_instance_id == ns_id)
            ).scalars()
        )
        vims |= set(
            self.s.execute(
                select(NsVl.vim_account_id).where(NsVl.ns_instance_id == ns_id)
            ).scalars()
        )
        return vims

    def vim_types(self, vim_ids: Iterable[str]) -> dict[str, str]:
        """The VIM type of each of these VIM accounts (absent ones left out)."""
        ids = sorted(set(vim_ids))
        if not ids:
            return {}
        q = select(VimAccount.id, VimAccount.vim_type).where(VimAccount.id.in_(ids))
        return {vim_id: vim_type for vim_id, vim_type in self.s.execute(q)}

    def has_resources(self, ns_id: str) -> bool:
        """Whether anything of the NS is recorded as created on a VIM."""
        q1 = select(NsVnf.id).where(NsVnf.ns_instance_id == ns_id, NsVnf.instantiated.is_(True))
        q2 = select(NsVl.vl_id).where(NsVl.ns_instance_id == ns_id)
        q3 = select(NsVnfc.idx).where(NsVnfc.ns_instance_id == ns_id)
        return any(self.s.execute(q.limit(1)).first() is not None for q in (q1, q2, q3))

    def clear_ns_vls(self, ns_id: str) -> None:
        """Forget the NS virtual links of an NS (after they were deleted on the VIMs)."""
        self.s.execute(delete(NsVl).where(NsVl.ns_instance_id == ns_id))

    def clear_ns(self, ns_id: str) -> None:
        """Forget everything the NS is made of (after terminate or rollback)."""
        self.s.execute(delete(NsVnfc).where(NsVnfc.ns_instance_id == ns_id))
        self.s.execute(delete(NsVnfVl).where(NsVnfVl.ns_instance_id == ns_id))
        self.s.execute(delete(NsVnf).where(NsVnf.ns_instance_id == ns_id))
        self.s.execute(delete(NsVl).where(NsVl.ns_instance_id == ns_id))


class OpOccRepository:
    """NS LCM operation occurrences."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, op: NsLcmOpOcc) -> NsLcmOpOcc:
        """Insert an op occurrence."""
        self.s.add(op)
        self.s.flush()
        return op

    def cancel_pending(self, op_id: str) -> bool | None:
        """Whether the client asked to cancel the op (None: no such op), one column read."""
        q = select(NsLcmOpOcc.cancel_pending).where(NsLcmOpOcc.id == op_id)
        return self.s.execute(q).scalar_one_or_none()

    def get(self, op_id: str, *, lock: bool = False) -> NsLcmOpOcc | None:
        """An op occurrence by id, read fresh."""
        q = select(NsLcmOpOcc).where(NsLcmOpOcc.id == op_id)
        if lock:
            q = q.with_for_update()
        q = q.execution_options(populate_existing=True)
        return self.s.execute(q).scalar_one_or_none()

    def page(
        self, query: PageQuery, *, tenant: str | None, without: Collection[str] = ()
    ) -> list[Any]:
        """One chunk of the op occurrences a caller owns, by start time (``without``: columns
        left unread, see :func:`fetch_after`)."""
        return fetch_after(
            self.s,
            NsLcmOpOcc,
            (NsLcmOpOcc.start_time, NsLcmOpOcc.id),
            query,
            visible=owned_by(NsLcmOpOcc, tenant),
            without=without,
        )

    def newest(
        self,
        *,
        tenant: str | None,
        before: tuple[datetime, str] | None,
        limit: int,
        equal: dict[str, str],
    ) -> list[Any]:
        """Up to ``limit`` op occurrences a caller owns, newest first, strictly before the
        ``(start_time, id)`` key ``before``, with the columns named in ``equal`` (of
        ns_instance_id, state, operation) equal to the values given: a keyset walk down the
        (start_time, id) indexes. Read-only rows without params, error and changes."""
        op = NsLcmOpOcc
        q = (
            select(
                op.id,
                op.ns_instance_id,
                op.tenant_id,
                op.operation,
                op.state,
                op.is_automatic_invocation,
                op.start_time,
                op.state_entered_time,
            )
            .where(owned_by(op, tenant))
            .order_by(op.start_time.desc(), op.id.desc())
            .limit(limit)
        )
        columns = {
            "ns_instance_id": op.ns_instance_id,
            "state": op.state,
            "operation": op.operation,
        }
        for name, value in equal.items():
            q = q.where(columns[name] == value)
        if before is not None:
            q = q.where(
                tuple_(op.start_time, op.id)
                < tuple_(literal(before[0], type_=op.start_time.type), literal(before[1]))
            )
        return list(self.s.execute(q))

    def last_of(self, ns_instance_id: str, operation: str) -> NsLcmOpOcc | None:
        """The latest op occurrence of one type on an NS."""
        q = (
            select(NsLcmOpOcc)
            .where(NsLcmOpOcc.ns_instance_id == ns_instance_id, NsLcmOpOcc.operation == operation)
            .order_by(NsLcmOpOcc.start_time.desc(), NsLcmOpOcc.id.desc())
            .limit(1)
        )
        return self.s.execute(q).scalar_one_or_none()

    def delete_for(self, ns_instance_id: str) -> None:
        """Remove the op history of a deleted NS instance (placement records included)."""
        self.s.execute(delete(NsLcmOpOcc).where(NsLcmOpOcc.ns_instance_id == ns_instance_id))
        PlacementRecordRepository(self.s).delete_for(ns_instance_id)

    def set_state_if(self, op_id: str, expected: Iterable[str], **values: Any) -> bool:
        """Set columns of an op occurrence only while it is in one of ``expected`` states."""
        q = (
            update(NsLcmOpOcc)
            .where(NsLcmOpOcc.id == op_id, NsLcmOpOcc.state.in_(list(expected)))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return self.s.execute(q).rowcount == 1


class PlacementRecordRepository:
    """The placement decision of each op occurrence: one row per op, written in the
    transaction of the step that placed and replaced when that step runs again."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def put(self, op: NsLcmOpOcc, vims: list[dict[str, Any]]) -> None:
        """Record (or replace) the decision of ``op``: one entry per VIM placed on."""
        row = self.s.get(NsLcmOpPlacement, op.id)
        if row is None:
            self.s.add(
                NsLcmOpPlacement(
                    op_occ_id=op.id,
                    ns_instance_id=op.ns_instance_id,
                    tenant_id=op.tenant_id,
                    operation=op.operation,
                    vims=vims,
                )
            )
        else:
            row.vims, row.recorded_at = vims, utcnow()
        self.s.flush()

    def get(self, op_id: str) -> NsLcmOpPlacement | None:
        """The recorded decision of one op occurrence, read fresh."""
        q = select(NsLcmOpPlacement).where(NsLcmOpPlacement.op_occ_id == op_id)
        return self.s.execute(q.execution_options(populate_existing=True)).scalar_one_or_none()

    def delete_for(self, ns_instance_id: str) -> None:
        """Remove the records of a deleted NS instance's operations."""
        self.s.execute(
            delete(NsLcmOpPlacement).where(NsLcmOpPlacement.ns_instance_id == ns_instance_id)
        )
