"""Repositories for tenants, VIM accounts with their synced inventory, and SDN controllers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import delete, func, insert, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from nfvo.inventory.models import (
    Base,
    CatalogPackage,
    NsVnf,
    NsVnfc,
    OAuthClient,
    SdnController,
    Tenant,
    VimAccount,
    VimFlavor,
    VimHost,
    VimImage,
    VimNetwork,
    VimZone,
)
from nfvo.inventory.paging import PageQuery, fetch_after, own_or_shared

T = TypeVar("T", bound=Base)


class _Crud:
    model: type[Base]

    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, row: T) -> T:
        """Insert a row."""
        self.s.add(row)
        self.s.flush()
        return row

    def delete(self, row: Base) -> None:
        """Delete a row."""
        self.s.delete(row)
        self.s.flush()

    def add_unique(self, row: T) -> bool:
        """Insert a row unless a unique index refuses it (False: a racing request took the
        name first; the caller must then end the transaction with a rollback)."""
        self.s.add(row)
        return self.flush_unique()

    def flush_unique(self) -> bool:
        """Flush pending changes unless a unique index refuses them (False: roll back)."""
        try:
            self.s.flush()
        except IntegrityError:
            return False
        return True


class TenantRepository(_Crud):
    """Tenants (projects)."""

    def get(self, tenant_id: str) -> Tenant | None:
        """A tenant by id."""
        return self.s.get(Tenant, tenant_id)

    def by_name(self, name: str) -> Tenant | None:
        """A tenant by its unique name."""
        return self.s.execute(select(Tenant).where(Tenant.name == name)).scalar_one_or_none()

    def page(self, query: PageQuery, *, only: str | None = None) -> list[Tenant]:
        """One chunk of tenants by creation (``only``: just that tenant)."""
        visible = true() if only is None else Tenant.id == only
        return fetch_after(self.s, Tenant, (Tenant.created_at, Tenant.id), query, visible=visible)

    def usage(self, tenant_id: str) -> dict[str, int]:
        """How many things still belong to a tenant (deletion is refused while any do)."""
        counts = {}
        for label, model in (
            ("vimAccounts", VimAccount),
            ("sdnControllers", SdnController),
            ("packages", CatalogPackage),
            ("users", OAuthClient),
        ):
            q = select(func.count()).select_from(model).where(model.tenant_id == tenant_id)
            counts[label] = int(self.s.execute(q).scalar_one())
        return counts


class VimRepository(_Crud):
    """VIM accounts and the inventory synced from them."""

    def set_state(self, vim_id: str, values: dict[str, Any]) -> bool:
        """Record a check's outcome (state, status, VIM info) by one conditional UPDATE
        (False if the account is gone)."""
        q = (
            update(VimAccount)
            .where(VimAccount.id == vim_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return bool(self.s.execute(q).rowcount)

    def get(self, vim_id: str, *, lock: bool = False) -> VimAccount | None:
        """A VIM account by id."""
        q = select(VimAccount).where(VimAccount.id == vim_id)
        if lock:
            q = q.with_for_update()
        return self.s.execute(q).scalar_one_or_none()

    def revision(self, vim_id: str) -> int | None:
        """A VIM account's revision (None: no such account), without loading the row."""
        q = select(VimAccount.revision).where(VimAccount.id == vim_id)
        return self.s.execute(q).scalar_one_or_none()

    def list(self) -> Sequence[VimAccount]:
        """All VIM accounts by creation."""
        q = select(VimAccount).order_by(VimAccount.created_at, VimAccount.id)
        return self.s.execute(q).scalars().all()

    def page(self, query: PageQuery, *, tenant: str | None) -> list[VimAccount]:
        """One chunk of the VIM accounts a caller sees (own and shared), by creation."""
        return fetch_after(
            self.s,
            VimAccount,
            (VimAccount.created_at, VimAccount.id),
            query,
            visible=own_or_shared(VimAccount, tenant),
        )

    def name_taken(self, name: str, except_id: str | None = None) -> bool:
        """Whether another VIM account, of any tenant, already has ``name`` (names are unique
        across tenants; the unique index decides between racing requests)."""
        q = select(VimAccount.id).where(VimAccount.name == name)
        return any(i != except_id for (i,) in self.s.execute(q))

    def replace_inventory(
        self,
        vim_id: str,
        *,
        zones: Iterable[dict[str, Any]],
        hosts: Iterable[dict[str, Any]],
        flavors: Iterable[dict[str, Any]],
        images: Iterable[dict[str, Any]],
        networks: Iterable[dict[str, Any]],
        synced_at: datetime,
    ) -> None:
        """Replace everything synced from one VIM, in the caller's transaction (bulk inserts).

        The account row is locked first so concurrent syncs of one VIM take turns."""
        vim = self.get(vim_id, lock=True)
        hosts = self._keep_held(vim_id, list(hosts))
        for model, rows in (
            (VimZone, zones),
            (VimHost, hosts),
            (VimFlavor, flavors),
            (VimImage, images),
            (VimNetwork, networks),
        ):
            self.s.execute(delete(model).where(model.vim_id == vim_id))
            batch = [{**r, "vim_id": vim_id} for r in rows]
            if batch:
                self.s.execute(insert(model), batch)
        if vim is not None:
            vim.last_sync_at = synced_at

    def _keep_held(self, vim_id: str, hosts: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The synced hosts with the states availability windows set kept: a host the
        inventory has ``draining``/``sleeping``, or that a draining or sleeping window covers,
        keeps that state whatever the VIM reports (the VIM knows nothing of windows)."""
        from nfvo.inventory.windows_repo import HELD_HOST_STATES, held_hosts

        q = select(VimHost.name, VimHost.state).where(
            VimHost.vim_id == vim_id, VimHost.state.in_(HELD_HOST_STATES)
        )
        kept: dict[str, str] = {name: state for name, state in self.s.execute(q)}
        by_window = held_hosts(self.s, vim_id, [(h["name"], h.get("zone", "")) for h in hosts])
        kept.update({name: state for name, (state, _) in by_window.items()})
        if not kept:
            return hosts
        return [h | {"state": kept[h["name"]]} if h["name"] in kept else h for h in hosts]

    def zones(self, vim_id: str) -> Sequence[VimZone]:
        """Synced zones of a VIM."""
        q = select(VimZone).where(VimZone.vim_id == vim_id).order_by(VimZone.name)
        return self.s.execute(q).scalars().all()

    def hosts(self, vim_id: str) -> Sequence[VimHost]:
        """Synced hosts of a VIM."""
        q = select(VimHost).where(VimHost.vim_id == vim_id).order_by(VimHost.name)
        return self.s.execute(q).scalars().all()

    def placed_since_sync(self, vim_id: str) -> dict[str, tuple[float, float, float, int]]:
        """What nfvo placed on each host of a VIM since its last inventory sync: (vcpus, RAM
        MiB, disk GiB, servers) of the VNFCs recorded on that host after the sync (a sync
        counts what was there then, nfvo's own servers included), sized as their VDUs."""
        vim = self.s.get(VimAccount, vim_id)
        q = select(NsVnfc.vnf_instance_id, NsVnfc.vdu_id, NsVnfc.host).where(
            NsVnfc.vim_account_id == vim_id,
            NsVnfc.server_id.is_not(None),
            NsVnfc.host.is_not(None),
        )
        if vim is not None and vim.last_sync_at is not None:
            q = q.where(NsVnfc.updated_at > vim.last_sync_at)
        rows = self.s.execute(q).all()
        if not rows:
            return {}
        vnf_ids = sorted({r[0] for r in rows})
        sizes: dict[tuple[str, str], tuple[float, float, float]] = {}
        specs = self.s.execute(select(NsVnf.id, NsVnf.spec).where(NsVnf.id.in_(vnf_ids)))
        for vnf_id, spec in specs:
            for vdu in (spec or {}).get("vdus", []):
                sizes[(vnf_id, vdu.get("vdu_id"))] = (
                    float(vdu.get("vcpus") or 0),
                    float(vdu.get("ram_mib") or 0),
                    float(vdu.get("disk_gib") or 0),
                )
        out: dict[str, tuple[float, float, float, int]] = {}
        for vnf_id, vdu_id, host in rows:
            v, r, d = sizes.get((vnf_id, vdu_id), (0.0, 0.0, 0.0))
            have = out.get(host, (0.0, 0.0, 0.0, 0))
            out[host] = (have[0] + v, have[1] + r, have[2] + d, have[3] + 1)
        return out

    def flavors(self, vim_id: str) -> Sequence[VimFlavor]:
        """Synced flavors of a VIM."""
        q = select(VimFlavor).where(VimFlavor.vim_id == vim_id).order_by(VimFlavor.name)
        return self.s.execute(q).scalars().all()

    def images(self, vim_id: str) -> Sequence[VimImage]:
        """Synced images of a VIM."""
        q = select(VimImage).where(VimImage.vim_id == vim_id).order_by(VimImage.name)
        return self.s.execute(q).scalars().all()

    def networks(self, vim_id: str) -> Sequence[VimNetwork]:
        """Synced networks of a VIM."""
        q = select(VimNetwork).where(VimNetwork.vim_id == vim_id).order_by(VimNetwork.name)
        return self.s.execute(q).scalars().all()

    def counts(self, vim_id: str) -> dict[str, int]:
        """Rows synced per kind (tests and the API summary use it)."""
        out = {}
        for label, model in (
            ("zones", VimZone),
            ("hosts", VimHost),
            ("flavors", VimFlavor),
            ("images", VimImage),
            ("networks", VimNetwork),
        ):
            q = select(func.count()).select_from(model).where(model.vim_id == vim_id)
            out[label] = int(self.s.execute(q).scalar_one())
        return out


class SdnRepository(_Crud):
    """SDN/WAN controller templates."""

    def name_taken(self, name: str, except_id: str | None = None) -> bool:
        """Whether another SDN controller, of any tenant, already has ``name``."""
        q = select(SdnController.id).where(SdnController.name == name)
        return any(i != except_id for (i,) in self.s.execute(q))

    def get(self, sdn_id: str, *, lock: bool = False) -> SdnController | None:
        """An SDN controller by id."""
        q = select(SdnController).where(SdnController.id == sdn_id)
        if lock:
            q = q.with_for_update()
        return self.s.execute(q).scalar_one_or_none()

    def set_state(self, sdn_id: str, state: str, status: str) -> bool:
        """Record a connectivity check's outcome by one conditional UPDATE (False if the
        controller is gone)."""
        q = (
            update(SdnController)
            .where(SdnController.id == sdn_id)
            .values(operational_state=state, detailed_status=status)
            .execution_options(synchronize_session=False)
        )
        return bool(self.s.execute(q).rowcount)

    def page(self, query: PageQuery, *, tenant: str | None) -> list[SdnController]:
        """One chunk of the SDN controllers a caller sees (own and shared), by creation."""
        return fetch_after(
            self.s,
            SdnController,
            (SdnController.created_at, SdnController.id),
            query,
            visible=own_or_shared(SdnController, tenant),
        )
