"""Repository for what monitoring learns from the VIMs: NS events and host states."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nfvo.inventory.models import NsEvent, NsInstance, VimHost


@dataclass(frozen=True)
class VnfcRef:
    """Where a server sits in an NS instance's ``vnf_records``."""

    ns_instance_id: str
    vnf_instance_id: str
    index: int


class MonitoringRepository:
    """NS events, the VNFCs holding a VIM server, and host states."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def vnfcs_of_server(self, vim_id: str, server_id: str) -> list[VnfcRef]:
        """Every VNFC (of any NS instance) deployed as ``server_id`` on ``vim_id``."""
        q = select(NsInstance.id, NsInstance.vnf_records)
        out = []
        for ns_id, records in self.s.execute(q):
            out.extend(find_vnfcs(ns_id, records or {}, vim_id, server_id))
        return out

    def lock_ns(self, ns_id: str) -> NsInstance | None:
        """An NS instance locked for update (fresh ``vnf_records``)."""
        q = select(NsInstance).where(NsInstance.id == ns_id).with_for_update()
        return self.s.execute(q.execution_options(populate_existing=True)).scalar_one_or_none()

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


def find_vnfcs(ns_id: str, records: dict[str, Any], vim_id: str, server_id: str) -> list[VnfcRef]:
    """The VNFCs of one NS instance's ``vnf_records`` that are ``server_id`` on ``vim_id``."""
    out = []
    for vnf_id, record in records.items():
        if not isinstance(record, dict) or record.get("vim_account_id") != vim_id:
            continue
        for i, vnfc in enumerate(record.get("vnfcs") or []):
            if isinstance(vnfc, dict) and vnfc.get("server_id") == server_id:
                out.append(VnfcRef(ns_id, vnf_id, i))
    return out
