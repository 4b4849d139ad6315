"""Repositories for NS instances and their life-cycle operation occurrences."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nfvo.inventory.models import NsInstance, NsLcmOpOcc
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

    def get(self, ns_id: str, *, lock: bool = False) -> NsInstance | None:
        """An NS instance by id (optionally locked for update)."""
        q = select(NsInstance).where(NsInstance.id == ns_id)
        if lock:
            q = q.with_for_update()
        return self.s.execute(q).scalar_one_or_none()

    def list(self) -> Sequence[NsInstance]:
        """All NS instances by creation."""
        q = select(NsInstance).order_by(NsInstance.created_at, NsInstance.id)
        return self.s.execute(q).scalars().all()

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

    def using_nsd(self, nsd_info_id: str) -> int:
        """How many NS instances were created from an NSD."""
        q = select(NsInstance.id).where(NsInstance.nsd_info_id == nsd_info_id)
        return len(self.s.execute(q).all())

    def delete(self, ns: NsInstance) -> None:
        """Remove an NS instance."""
        self.s.delete(ns)
        self.s.flush()


class OpOccRepository:
    """NS LCM operation occurrences."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, op: NsLcmOpOcc) -> NsLcmOpOcc:
        """Insert an op occurrence."""
        self.s.add(op)
        self.s.flush()
        return op

    def get(self, op_id: str, *, lock: bool = False) -> NsLcmOpOcc | None:
        """An op occurrence by id."""
        q = select(NsLcmOpOcc).where(NsLcmOpOcc.id == op_id)
        if lock:
            q = q.with_for_update()
        return self.s.execute(q).scalar_one_or_none()

    def list(self, ns_instance_id: str | None = None) -> Sequence[NsLcmOpOcc]:
        """Op occurrences (of one NS instance) by start time."""
        q = select(NsLcmOpOcc)
        if ns_instance_id:
            q = q.where(NsLcmOpOcc.ns_instance_id == ns_instance_id)
        return self.s.execute(q.order_by(NsLcmOpOcc.start_time, NsLcmOpOcc.id)).scalars().all()

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

    def delete_for(self, ns_instance_id: str) -> None:
        """Remove the op history of a deleted NS instance."""
        for op in self.list(ns_instance_id):
            self.s.delete(op)
        self.s.flush()
