"""Repository for what monitoring learns from the VIMs: VNFC statuses, NS events and host
states."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from nfvo.inventory.models import NsEvent, NsInstance, NsVnfc, VimHost, utcnow


@dataclass(frozen=True)
class VnfcStatusChange:
    """A VNFC whose status an event changed, and what it was."""

    ns_instance_id: str
    vnf_instance_id: str
    vnfc_key: str
    vdu_id: str
    previous_status: str
    current_op_id: str | None


class MonitoringRepository:
    """NS events, the VNFCs holding a VIM server, and host states."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def mark_server(
        self, vim_id: str, server_id: str, status: str, *, final: str
    ) -> list[VnfcStatusChange]:
        """Set ``status`` on every VNFC (of any NS) deployed as ``server_id`` on ``vim_id``,
        unless it already has that status or the ``final`` one. Each row changes by a
        conditional UPDATE, so a duplicate event changes (and reports) nothing."""
        q = select(NsVnfc).where(NsVnfc.vim_account_id == vim_id, NsVnfc.server_id == server_id)
        out = []
        for row in self.s.execute(q).scalars().all():
            previous = row.status
            if previous in (status, final):
                continue
            changed = self.s.execute(
                update(NsVnfc)
                .where(
                    NsVnfc.vnf_instance_id == row.vnf_instance_id,
                    NsVnfc.vdu_id == row.vdu_id,
                    NsVnfc.idx == row.idx,
                    NsVnfc.status == previous,
                )
                .values(status=status, updated_at=utcnow())
                .execution_options(synchronize_session=False)
            ).rowcount
            if not changed:
                continue
            op_id = self.s.execute(
                select(NsInstance.current_op_id).where(NsInstance.id == row.ns_instance_id)
            ).scalar_one_or_none()
            out.append(
                VnfcStatusChange(
                    row.ns_instance_id, row.vnf_instance_id, row.key, row.vdu_id, previous, op_id
                )
            )
        return out

    def add_event(self, event: NsEvent) -> NsEvent:
        """Record an NS event."""
        self.s.add(event)
        self.s.flush()
        return event

    def events(self, ns_instance_id: str | None = None) -> Sequence[NsEvent]:
        """NS events (of one NS instance) by time."""
        q = select(NsEvent)
        if ns_instance_id:
            q = q.where(NsEvent.ns_instance_id == ns_instance_id)
        return self.s.execute(q.order_by(NsEvent.created_at, NsEvent.id)).scalars().all()

    def host(self, vim_id: str, name: str) -> VimHost | None:
        """A synced host by Nova's service host name (exact, else same short name)."""
        rows = self.s.execute(select(VimHost).where(VimHost.vim_id == vim_id)).scalars().all()
        for row in rows:
            if row.name == name:
                return row
        short = name.split(".", 1)[0]
        matches = [r for r in rows if r.name.split(".", 1)[0] == short]
        return matches[0] if len(matches) == 1 else None
