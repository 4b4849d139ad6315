"""Resource management use cases: tenants, VIM accounts (check, sync, owned resources) and
SDN controllers. No HTTP in here; the API maps the domain errors to ProblemDetails."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nfvo import optimizer
from nfvo.errors import BadRequest, Conflict, Forbidden, NotFound
from nfvo.inventory.db import Database
from nfvo.inventory.models import SdnController, Tenant, VimAccount
from nfvo.inventory.resources_repo import SdnRepository, TenantRepository, VimRepository
from nfvo.inventory.windows_repo import held_hosts, window_label
from nfvo.netguard import OutboundGuard
from nfvo.optimizer.model import HostCapacity
from nfvo.query import PageQuery
from nfvo.resources import sdn as sdn_drivers
from nfvo.resources.endpoints import check_tenant_urls, vim_urls
from nfvo.resources.vault import (
    Vault,
    VaultError,
    config_secrets,
    join_secrets,
    masked,
    split_secrets,
)
from nfvo.vim import base as vim_base
from nfvo.vim import registry
from nfvo.vim.sim import interrupts as sim_interrupts
from nfvo.vim.sim.interrupts import VimInterrupted

log = logging.getLogger(__name__)
MAX_CONFIG_BYTES = 1 << 20
VIM_TYPES = registry.VIM_TYPES  # the VIM types nfvo has a driver for
# how stale a reused driver's view of its account may be when another process changed it
REVISION_CHECK_S = 1.0
# the config key naming the optimizer strategy the LCM places with on a VIM account
PLACEMENT_STRATEGY = "placement_strategy"


@dataclass(frozen=True)
class Scope:
    """What the caller may see: one tenant (plus shared, tenant-less resources) or all."""

    tenant_id: str | None

    @property
    def is_global(self) -> bool:
        return self.tenant_id is None

    def sees(self, owner: str | None) -> bool:
        """Readable: global callers see all; a tenant sees its own and shared resources."""
        return self.is_global or owner in (None, self.tenant_id)

    def owns(self, owner: str | None) -> bool:
        """Writable: global callers change all; a tenant only its own."""
        return self.is_global or owner == self.tenant_id


def _now() -> datetime:
    return datetime.now(UTC)


def _check_config_size(config: Any) -> None:
    size = len(json.dumps(config))
    if size > MAX_CONFIG_BYTES:
        raise BadRequest(
            f"config is {size} bytes; the limit is {MAX_CONFIG_BYTES} bytes", field="config"
        )


def refuse_nulls(changes: dict[str, Any], *fields: str) -> None:
    """A PATCH may not set a mandatory attribute to null: 400 naming the first one."""
    for field in fields:
        if field in changes and changes[field] is None:
            raise BadRequest(f"{field} cannot be null; omit it to keep its value", field=field)


class ResourceService:
    """Tenants, VIM accounts and SDN controllers over the inventory."""

    def __init__(
        self,
        db: Database,
        vault: Vault,
        data_dir: Path,
        driver_factory: Callable[..., vim_base.VimDriver] = registry.create_driver,
        guard: OutboundGuard | None = None,
    ) -> None:
        self.db = db
        # the addresses a tenant admin's VIM / SDN URLs may resolve to (resources/endpoints)
        self.guard = guard or OutboundGuard.from_env()
        self.vault = vault
        self.data_dir = data_dir
        self._driver_factory = driver_factory
        # (VIM id, thread) -> (account revision, driver): see ``driver``
        self._drivers: dict[tuple[str, int], tuple[int, vim_base.VimDriver]] = {}
        self._drivers_lock = threading.Lock()
        # VIM id -> (revision, when read): a reused driver's account is re-read at most every
        # REVISION_CHECK_S (an update or delete made by this process forgets it at once)
        self._revisions: dict[str, tuple[int, float]] = {}

    # -- tenants -------------------------------------------------------------
    def create_tenant(self, name: str, description: str | None) -> Tenant:
        """A new tenant with a unique name."""
        with self.db.session() as s:
            repo = TenantRepository(s)
            if repo.by_name(name) is not None:
                raise Conflict(f"a tenant named {name!r} already exists", field="name")
            return repo.add(Tenant(id=str(uuid.uuid4()), name=name, description=description))

    def tenants_page(self, scope: Scope, query: PageQuery) -> list[Tenant]:
        """One chunk of the tenants the caller may see, by creation."""
        with self.db.session() as s:
            return TenantRepository(s).page(query, only=scope.tenant_id)

    def get_tenant(self, tenant_id: str, scope: Scope) -> Tenant:
        """One tenant or NotFound (also when it is another tenant's)."""
        with self.db.session() as s:
            t = TenantRepository(s).get(tenant_id)
        if t is None or not (scope.is_global or t.id == scope.tenant_id):
            raise NotFound(f"tenant {tenant_id} does not exist")
        return t

    def tenant_exists(self, tenant_id: str) -> bool:
        """Whether ``tenant_id`` names a tenant."""
        with self.db.session() as s:
            return TenantRepository(s).get(tenant_id) is not None

    def update_tenant(self, tenant_id: str, changes: dict[str, Any]) -> Tenant:
        """Rename / re-describe a tenant (global admins only; checked by the API)."""
        refuse_nulls(changes, "name")
        with self.db.session() as s:
            repo = TenantRepository(s)
            t = repo.get(tenant_id)
            if t is None:
                raise NotFound(f"tenant {tenant_id} does not exist")
            if "name" in changes and changes["name"] != t.name:
                if repo.by_name(changes["name"]) is not None:
                    raise Conflict(f"a tenant named {changes['name']!r} already exists")
                t.name = changes["name"]
            if "description" in changes:
                t.description = changes["description"]
            s.flush()
            return t

    def delete_tenant(self, tenant_id: str) -> None:
        """Delete an empty tenant; 409 lists what still belongs to it."""
        with self.db.session() as s:
            repo = TenantRepository(s)
            t = repo.get(tenant_id)
            if t is None:
                raise NotFound(f"tenant {tenant_id} does not exist")
            usage = {k: v for k, v in repo.usage(tenant_id).items() if v}
            if usage:
                listed = ", ".join(f"{v} {k}" for k, v in usage.items())
                raise Conflict(f"tenant {t.name} still owns {listed}; delete those first")
            repo.delete(t)

    # -- VIM accounts ----------------------------------------------------------
    def _visible_vim(self, vim_id: str, scope: Scope) -> VimAccount:
        with self.db.session() as s:
            vim = VimRepository(s).get(vim_id)
        if vim is None or not scope.sees(vim.tenant_id):
            raise NotFound(f"VIM account {vim_id} does not exist")
        return vim

    def _writable_vim(self, vim_id: str, scope: Scope) -> VimAccount:
        vim = self._visible_vim(vim_id, scope)
        if not scope.owns(vim.tenant_id):
            raise Forbidden(f"VIM account {vim_id} is shared; only a global admin may change it")
        return vim

    def create_vim(self, body: dict[str, Any], scope: Scope) -> VimAccount:
        """Validate and store a VIM account in PROCESSING state (check and sync follow)."""
        tenant_id = _owner_of(body.get("tenant_id"), scope)
        if tenant_id is not None and not self.tenant_exists(tenant_id):
            raise BadRequest(f"tenant {tenant_id} does not exist", field="tenant_id")
        config = body.get("config") or {}
        _check_config_size(config)
        try:
            config = registry.validate_config(body["vim_type"], config)
        except vim_base.VimConfigError as exc:
            field = (
                exc.field if exc.field.startswith(("config", "vim_type")) else f"config.{exc.field}"
            )
            raise BadRequest(f"{field}: {exc.message}", field=field) from None
        check_placement_strategy(config)
        if not scope.is_global:
            check_tenant_urls(self.guard, vim_urls(body.get("vim_url"), config))
        public, secrets = split_secrets(config)
        if body.get("vim_password") is not None:
            secrets["vim_password"] = body["vim_password"]
        vim = VimAccount(
            id=str(uuid.uuid4()),
            tenant_id=tenant_id,
            name=body["name"],
            vim_type=body["vim_type"],
            vim_url=body.get("vim_url"),
            vim_user=body.get("vim_user"),
            vim_tenant_name=body.get("vim_tenant_name"),
            description=body.get("description"),
            config=public,
            secrets=self.vault.seal(secrets),
            operational_state="PROCESSING",
            detailed_status="connectivity check pending",
            vim_info={},
        )
        with self.db.session() as s:
            repo = VimRepository(s)
            if repo.name_taken(vim.name) or not repo.add_unique(vim):
                raise _name_conflict("VIM account", vim.name)
        return vim

    def list_vims(self, scope: Scope) -> list[VimAccount]:
        """VIM accounts the caller may see."""
        with self.db.session() as s:
            rows = list(VimRepository(s).list())
        return [v for v in rows if scope.sees(v.tenant_id)]

    def vims_page(self, scope: Scope, query: PageQuery) -> list[VimAccount]:
        """One chunk of the VIM accounts the caller may see, by creation."""
        with self.db.session() as s:
            return VimRepository(s).page(query, tenant=scope.tenant_id)

    def get_vim(self, vim_id: str, scope: Scope) -> VimAccount:
        """One VIM account visible to the caller."""
        return self._visible_vim(vim_id, scope)

    def public_config(self, vim: VimAccount) -> dict[str, Any]:
        """The config as shown by the API: credentials masked, never revealed."""
        try:
            secrets = self.vault.open(vim.secrets)
        except VaultError:
            secrets = {}
        return masked(vim.config or {}, config_secrets(secrets, "vim_password"))

    def driver_for(self, vim: VimAccount) -> vim_base.VimDriver:
        """A driver connected with the decrypted credentials."""
        secrets = self.vault.open(vim.secrets)
        password = secrets.get("vim_password")
        config = join_secrets(vim.config or {}, config_secrets(secrets, "vim_password"))
        return self._driver_factory(
            vim.vim_type,
            vim_id=vim.id,
            vim_url=vim.vim_url,
            vim_user=vim.vim_user,
            vim_password=password,
            vim_tenant_name=vim.vim_tenant_name,
            config=config,
            data_dir=self.data_dir,
        )

    def driver(self, vim_id: str) -> vim_base.VimDriver:
        """A connected driver of a VIM account for the calling thread, built once and reused
        until the account changes (its revision, read at most every ``REVISION_CHECK_S``;
        at once after a change made through this process), so a step costs at most one query
        instead of a new connection. The caller must not close it; a deleted account raises
        NotFound."""
        key = (vim_id, threading.get_ident())
        with self._drivers_lock:
            cached = self._drivers.get(key)
        if cached is not None:
            if cached[0] == self._revision(vim_id):
                return cached[1]
        vim = self.get_vim(vim_id, Scope(None))
        self._revisions[vim_id] = (vim.revision, time.monotonic())
        driver = self.driver_for(vim)
        with self._drivers_lock:
            old = self._drivers.get(key)
            self._drivers[key] = (vim.revision, driver)
        if old is not None:
            old[1].close()
        return driver

    def _revision(self, vim_id: str) -> int:
        """The account's revision, read again when the last read is older than
        ``REVISION_CHECK_S`` (NotFound once it is deleted)."""
        seen = self._revisions.get(vim_id)
        now = time.monotonic()
        if seen is not None and now - seen[1] < REVISION_CHECK_S:
            return seen[0]
        with self.db.session() as s:
            revision = VimRepository(s).revision(vim_id)
        if revision is None:
            self._revisions.pop(vim_id, None)
            raise NotFound(f"VIM account {vim_id} does not exist")
        self._revisions[vim_id] = (revision, now)
        return revision

    def check_and_sync(self, vim_id: str) -> None:
        """Connectivity check then inventory sync; sets ENABLED, or ERROR with the VIM's words."""
        with self.db.session() as s:
            vim = VimRepository(s).get(vim_id)
        if vim is None:
            return
        try:
            with sim_interrupts.background():  # ended at once by a shutdown
                driver = self.driver_for(vim)
                try:
                    info = driver.check()
                    self._sync_with(vim_id, driver)
                finally:
                    driver.close()
        except VimInterrupted as exc:  # account deleted or nfvo stopping: leave the state be
            log.info("%s; check and sync of VIM %s ended", exc, vim_id)
            return
        except vim_base.VimError as exc:
            self._set_state(vim_id, "ERROR", _describe(exc))
            return
        except (VaultError, vim_base.VimConfigError) as exc:
            self._set_state(vim_id, "ERROR", str(exc))
            return
        self._set_state(vim_id, "ENABLED", "connectivity check and inventory sync succeeded", info)

    def stop_background(self) -> None:
        """End background VIM work in flight at once (the process is stopping): simulated
        calls of checks and syncs wake and fail, so those return promptly."""
        sim_interrupts.stop_all(self.data_dir)

    def resume_background(self) -> None:
        """Allow VIM work again after :meth:`stop_background` (the process starts)."""
        sim_interrupts.resume_all(self.data_dir)

    def _set_state(self, vim_id: str, state: str, status: str, info: dict | None = None) -> None:
        values: dict[str, Any] = {"operational_state": state, "detailed_status": status}
        if info is not None:
            values["vim_info"] = json.loads(json.dumps(info, default=str))
        with self.db.session() as s:  # conditional: an account deleted meanwhile stays gone
            if not VimRepository(s).set_state(vim_id, values):
                return
        if state == "ERROR":
            log.warning("VIM account %s: %s", vim_id, status)

    def _sync_with(self, vim_id: str, driver: vim_base.VimDriver) -> dict[str, int]:
        zones = [asdict(z) for z in driver.list_zones()]
        hosts = [asdict(h) | {"usage_source": "vim"} for h in driver.list_hosts()]
        flavors = [asdict(f) for f in driver.list_flavors()]
        images = [asdict(i) for i in driver.list_images()]
        networks = [
            {"id": n.id, "name": n.name, "external": n.external, "status": n.status}
            for n in driver.list_networks()
        ]
        with self.db.session() as s:
            repo = VimRepository(s)
            repo.replace_inventory(
                vim_id,
                zones=zones,
                hosts=hosts,
                flavors=flavors,
                images=images,
                networks=networks,
                synced_at=_now(),
            )
            return repo.counts(vim_id)

    def sync_if_older(self, vim_id: str, max_age_s: float) -> None:
        """Check and sync the VIM unless its last sync is younger than ``max_age_s``."""
        with self.db.session() as s:
            vim = VimRepository(s).get(vim_id)
        last = vim.last_sync_at if vim else None
        if last is not None and last.tzinfo is None:
            last = last.replace(tzinfo=UTC)
        if last is None or (_now() - last).total_seconds() > max_age_s:
            self.check_and_sync(vim_id)

    def sync(self, vim_id: str, scope: Scope) -> dict[str, int]:
        """On-demand sync (also re-enables a VIM that was in ERROR)."""
        vim = self._writable_vim(vim_id, scope)
        self.check_and_sync(vim.id)
        vim = self._visible_vim(vim_id, scope)
        if vim.operational_state != "ENABLED":
            raise Conflict(
                f"sync of VIM account {vim.name} failed: {vim.detailed_status}",
                operationalState=vim.operational_state,
            )
        with self.db.session() as s:
            return VimRepository(s).counts(vim_id)

    def sync_all(self) -> None:
        """Periodic sync of every VIM account (errors are recorded on the account)."""
        with self.db.session() as s:
            ids = [v.id for v in VimRepository(s).list()]
        for vim_id in ids:
            try:
                self.check_and_sync(vim_id)
            except Exception:  # one broken VIM must not stop the others
                log.exception("periodic sync of VIM %s failed", vim_id)

    def update_vim(self, vim_id: str, changes: dict[str, Any], scope: Scope) -> VimAccount:
        """PATCH: plain fields replace; ``config`` keys merge (null removes a key)."""
        refuse_nulls(changes, "name")
        current = self._writable_vim(vim_id, scope)
        secrets = self.vault.open(current.secrets)
        config = join_secrets(current.config or {}, config_secrets(secrets, "vim_password"))
        if "config" in changes:
            patch = changes["config"] or {}
            _check_config_size(patch)
            allowed = registry.RUNTIME_CONFIG_KEYS.get(current.vim_type)
            if allowed is not None:
                fixed = sorted(set(patch) - set(allowed))
                if fixed:
                    raise BadRequest(
                        f"config.{fixed[0]} cannot change after registration; only "
                        f"{sorted(allowed)} can (register a new VIM account for a new topology)",
                        field=f"config.{fixed[0]}",
                    )
            for k, v in patch.items():
                if v is None:
                    config.pop(k, None)
                else:
                    config[k] = v
            try:
                config = registry.validate_config(current.vim_type, config)
            except vim_base.VimConfigError as exc:
                raise BadRequest(f"{exc.field}: {exc.message}", field=exc.field) from None
            check_placement_strategy(config)
        if not scope.is_global:
            url = changes["vim_url"] if "vim_url" in changes else current.vim_url
            check_tenant_urls(self.guard, vim_urls(url, config))
        public, new_secrets = split_secrets(config)
        if "vim_password" in changes:
            new_secrets["vim_password"] = changes["vim_password"]
        elif "vim_password" in secrets:
            new_secrets["vim_password"] = secrets["vim_password"]
        with self.db.session() as s:
            repo = VimRepository(s)
            vim = repo.get(vim_id, lock=True)
            assert vim is not None
            if "name" in changes and repo.name_taken(changes["name"], vim.id):
                raise _name_conflict("VIM account", changes["name"])
            for field in ("name", "vim_url", "vim_user", "vim_tenant_name", "description"):
                if field in changes:
                    setattr(vim, field, changes[field])
            if "name" in changes and not repo.flush_unique():
                raise _name_conflict("VIM account", changes["name"])
            vim.config = public
            vim.secrets = self.vault.seal(new_secrets)
            vim.operational_state = "PROCESSING"
            vim.detailed_status = "connectivity check pending after update"
            vim.revision += 1
        self._revisions.pop(vim_id, None)
        return self._visible_vim(vim_id, scope)

    def owned_resources(self, vim: VimAccount) -> dict[str, list[dict[str, Any]]]:
        """Servers, networks and ports nfvo created on the VIM (those carrying its key tag)."""
        driver = self.driver_for(vim)
        try:
            servers = [s for s in driver.list_servers() if vim_base.TAG_KEY in s.tags]
            networks = [n for n in driver.list_networks() if vim_base.TAG_KEY in n.tags]
            ports = [p for p in driver.list_ports() if vim_base.TAG_KEY in p.tags]
        finally:
            driver.close()

        def owner(tags: dict[str, str]) -> dict[str, Any]:
            return {
                "nsInstanceId": tags.get(vim_base.TAG_NS),
                "vnfInstanceId": tags.get(vim_base.TAG_VNF),
            }

        return {
            "servers": [
                {
                    "id": s.id,
                    "name": s.name,
                    "status": s.status,
                    "host": s.host,
                    "zone": s.zone,
                    "vcpus": s.vcpus,
                    "ramMib": s.ram_mib,
                    "diskGib": s.disk_gib,
                    "addresses": s.addresses,
                    **owner(s.tags),
                }
                for s in servers
            ],
            "networks": [
                {"id": n.id, "name": n.name, "status": n.status, **owner(n.tags)} for n in networks
            ],
            "ports": [
                {
                    "id": p.id,
                    "name": p.name,
                    "status": p.status,
                    "networkId": p.network_id,
                    "serverId": p.server_id,
                    "ipAddresses": p.ip_addresses,
                    **owner(p.tags),
                }
                for p in ports
            ],
        }

    def host_capacities(self, vim_id: str) -> list[HostCapacity]:
        """Every synced host as the optimizer sees it: capacity, allocation ratios, usage (the
        last sync's plus what nfvo placed on the host since) and state. A host that is not
        ``up`` stays in the list: the optimizer's host-state filter removes it and says so."""
        with self.db.session() as s:
            repo = VimRepository(s)
            hosts = repo.hosts(vim_id)
            placed = repo.placed_since_sync(vim_id)
            held = held_hosts(s, vim_id, [(h.name, h.zone) for h in hosts])
            return [
                HostCapacity.from_inventory(
                    h.name,
                    h.zone,
                    (h.vcpus, h.ram_mib, h.disk_gib),
                    (h.cpu_allocation_ratio, h.ram_allocation_ratio, h.disk_allocation_ratio),
                    tuple(  # type: ignore[arg-type]
                        u + more
                        for u, more in zip(
                            (h.vcpus_used, h.ram_mib_used, h.disk_gib_used),
                            placed.get(h.name, _NOTHING)[:3],
                            strict=True,
                        )
                    ),
                    state=h.state,
                    labels=window_label(held.get(h.name)),
                )
                for h in hosts
            ]

    def placement_strategy(self, vim_id: str) -> str | None:
        """The optimizer strategy a VIM account names (``config.placement_strategy``); None:
        the optimizer's default (also for an account that no longer exists)."""
        with self.db.session() as s:
            vim = VimRepository(s).get(vim_id)
            value = (vim.config or {}).get(PLACEMENT_STRATEGY) if vim is not None else None
        return value if isinstance(value, str) else None

    def resources(self, vim_id: str, scope: Scope) -> dict[str, Any]:
        """Zones and hosts (as synced) plus what nfvo owns on the VIM (live)."""
        vim = self._visible_vim(vim_id, scope)
        with self.db.session() as s:
            repo = VimRepository(s)
            zones = [{"name": z.name, "available": z.available} for z in repo.zones(vim_id)]
            placed = VimRepository(s).placed_since_sync(vim_id)
            hosts = [_host_view(h, placed.get(h.name, _NOTHING)) for h in repo.hosts(vim_id)]
        out: dict[str, Any] = {
            "vimAccountId": vim.id,
            "lastSync": vim.last_sync_at.isoformat() if vim.last_sync_at else None,
            "zones": zones,
            "hosts": hosts,
        }
        try:
            out.update(self.owned_resources(vim))
        except vim_base.VimError as exc:
            raise Conflict(
                f"cannot list resources of VIM account {vim.name}: {_describe(exc)}",
                **exc.to_dict(),
            ) from None
        return out

    def networks(self, vim_id: str, scope: Scope) -> list[dict[str, Any]]:
        """The networks of a VIM account as last synced (``id``, ``name``, ``external``,
        ``status``), by name; NotFound when the caller does not see the account."""
        self._visible_vim(vim_id, scope)
        with self.db.session() as s:
            return [_network_view(n) for n in VimRepository(s).networks(vim_id)]

    def synced_catalog(self, vim_id: str, scope: Scope) -> dict[str, list[dict[str, Any]]]:
        """What the last sync recorded of a visible VIM besides zones and hosts: its flavors,
        images and networks (read from the inventory; the VIM is not asked)."""
        self._visible_vim(vim_id, scope)
        with self.db.session() as s:
            repo = VimRepository(s)
            return {
                "flavors": [
                    {
                        "id": f.id,
                        "name": f.name,
                        "vcpus": f.vcpus,
                        "ramMib": f.ram_mib,
                        "diskGib": f.disk_gib,
                    }
                    for f in repo.flavors(vim_id)
                ],
                "images": [
                    {
                        "id": i.id,
                        "name": i.name,
                        "diskFormat": i.disk_format,
                        "sizeBytes": i.size_bytes,
                    }
                    for i in repo.images(vim_id)
                ],
                "networks": [_network_view(n) for n in repo.networks(vim_id)],
            }

    def delete_vim(self, vim_id: str, scope: Scope, *, force: bool = False) -> None:
        """Delete; 409 while nfvo still has servers/networks/ports on it (unless ``force``)."""
        vim = self._writable_vim(vim_id, scope)
        driver = None
        try:
            driver = self.driver_for(vim)
            owned = self.owned_resources(vim)
        except (vim_base.VimError, VaultError) as exc:
            if not force:
                raise Conflict(
                    f"cannot verify that VIM account {vim.name} holds no nfvo resources "
                    f"({exc}); retry, or delete with ?force=true"
                ) from None
            owned = {}
        live = {k: len(v) for k, v in owned.items() if v}
        if live and not force:
            listed = ", ".join(f"{n} {k}" for k, n in live.items())
            raise Conflict(
                f"VIM account {vim.name} still holds nfvo resources: {listed}", resources=live
            )
        with self.db.session() as s:
            repo = VimRepository(s)
            row = repo.get(vim_id, lock=True)
            if row is not None:
                repo.delete(row)
        self._revisions.pop(vim_id, None)
        if vim.vim_type == "sim":  # work still running for it (a check, a sync) ends now
            sim_interrupts.interrupt(self.data_dir, vim.id)
        destroy = getattr(driver, "destroy", None)
        if callable(destroy):
            destroy()
        elif vim.vim_type == "sim":
            for p in (self.data_dir / "sim").glob(f"{vim.id}.db*"):
                p.unlink(missing_ok=True)

    # -- SDN controllers -------------------------------------------------------
    def _visible_sdn(self, sdn_id: str, scope: Scope) -> SdnController:
        with self.db.session() as s:
            row = SdnRepository(s).get(sdn_id)
        if row is None or not scope.sees(row.tenant_id):
            raise NotFound(f"SDN controller {sdn_id} does not exist")
        return row

    def create_sdn(self, body: dict[str, Any], scope: Scope) -> SdnController:
        """Store an SDN controller (PROCESSING until checked)."""
        if body["type"] not in sdn_drivers.SDN_TYPES:
            raise BadRequest(f"type must be one of {list(sdn_drivers.SDN_TYPES)}", field="type")
        tenant_id = _owner_of(body.get("tenant_id"), scope)
        if tenant_id is not None and not self.tenant_exists(tenant_id):
            raise BadRequest(f"tenant {tenant_id} does not exist", field="tenant_id")
        config = body.get("config") or {}
        _check_config_size(config)
        if not scope.is_global:
            url = body.get("url")
            check_tenant_urls(self.guard, [("url", url)] if isinstance(url, str) and url else [])
        public, secrets = split_secrets(config)
        if body.get("password") is not None:
            secrets["password"] = body["password"]
        row = SdnController(
            id=str(uuid.uuid4()),
            tenant_id=tenant_id,
            name=body["name"],
            sdn_type=body["type"],
            url=body.get("url"),
            user=body.get("user"),
            description=body.get("description"),
            config=public,
            secrets=self.vault.seal(secrets),
            operational_state="PROCESSING",
            detailed_status="connectivity check pending",
        )
        with self.db.session() as s:
            repo = SdnRepository(s)
            if repo.name_taken(row.name) or not repo.add_unique(row):
                raise _name_conflict("SDN controller", row.name)
        return row

    def check_sdn(self, sdn_id: str) -> None:
        """Connectivity check of an SDN controller: ENABLED or ERROR with its words."""
        with self.db.session() as s:
            row = SdnRepository(s).get(sdn_id)
        if row is None:
            return
        secrets = self.vault.open(row.secrets)
        config = join_secrets(row.config or {}, config_secrets(secrets, "password"))
        try:
            sdn_drivers.create_sdn_driver(
                row.sdn_type,
                sdn_id=row.id,
                user=row.user,
                password=secrets.get("password"),
                config=config,
            ).check()
            state, status = "ENABLED", "connectivity check succeeded"
        except sdn_drivers.SdnError as exc:
            state, status = "ERROR", str(exc)
        with self.db.session() as s:
            # one conditional UPDATE: a controller deleted meanwhile is simply not there (an
            # ORM flush of a row deleted under it raised StaleDataError, and the request
            # whose background task this is lost its connection)
            SdnRepository(s).set_state(sdn_id, state, status)

    def sdns_page(self, scope: Scope, query: PageQuery) -> list[SdnController]:
        """One chunk of the SDN controllers the caller may see, by creation."""
        with self.db.session() as s:
            return SdnRepository(s).page(query, tenant=scope.tenant_id)

    def get_sdn(self, sdn_id: str, scope: Scope) -> SdnController:
        """One SDN controller visible to the caller."""
        return self._visible_sdn(sdn_id, scope)

    def sdn_public_config(self, row: SdnController) -> dict[str, Any]:
        """Config with credentials masked."""
        secrets = self.vault.open(row.secrets)
        return masked(row.config or {}, config_secrets(secrets, "password"))

    def update_sdn(self, sdn_id: str, changes: dict[str, Any], scope: Scope) -> SdnController:
        """PATCH an SDN controller (credentials re-encrypted; re-checked afterwards)."""
        refuse_nulls(changes, "name")
        row = self._visible_sdn(sdn_id, scope)
        if not scope.owns(row.tenant_id):
            raise Forbidden(f"SDN controller {sdn_id} is shared; only a global admin may change it")
        if not scope.is_global and isinstance(changes.get("url"), str):
            check_tenant_urls(self.guard, [("url", changes["url"])])
        secrets = self.vault.open(row.secrets)
        with self.db.session() as s:
            repo = SdnRepository(s)
            row = repo.get(sdn_id, lock=True)
            assert row is not None
            if "name" in changes and repo.name_taken(changes["name"], row.id):
                raise _name_conflict("SDN controller", changes["name"])
            for field in ("name", "url", "user", "description"):
                if field in changes:
                    setattr(row, field, changes[field])
            if "name" in changes and not repo.flush_unique():
                raise _name_conflict("SDN controller", changes["name"])
            if "config" in changes:
                _check_config_size(changes["config"])
                public, cfg_secrets = split_secrets(changes["config"] or {})
                row.config = public
                secrets = {k: v for k, v in secrets.items() if k == "password"} | cfg_secrets
            if "password" in changes:
                secrets["password"] = changes["password"]
            row.secrets = self.vault.seal(secrets)
            row.operational_state, row.detailed_status = "PROCESSING", "check pending after update"
            row.revision += 1
        return self._visible_sdn(sdn_id, scope)

    def delete_sdn(self, sdn_id: str, scope: Scope) -> None:
        """Delete an SDN controller template."""
        row = self._visible_sdn(sdn_id, scope)
        if not scope.owns(row.tenant_id):
            raise Forbidden(f"SDN controller {sdn_id} is shared; only a global admin may delete it")
        with self.db.session() as s:
            repo = SdnRepository(s)
            r = repo.get(sdn_id, lock=True)
            if r is not None:
                repo.delete(r)


def placement_strategies() -> list[str]:
    """The names of the optimizer's placement strategies, sorted."""
    registered = getattr(optimizer, "STRATEGIES", None) or optimizer.ALGORITHMS
    return sorted(registered)


def check_placement_strategy(config: dict[str, Any]) -> None:
    """400 naming ``config.placement_strategy`` and the known names when the account names a
    strategy the optimizer does not have (the VIM drivers only check it is a short name)."""
    name = config.get(PLACEMENT_STRATEGY)
    if name is None:
        return
    known = placement_strategies()
    if name not in known:
        field = f"config.{PLACEMENT_STRATEGY}"
        raise BadRequest(
            f"{field}: unknown placement strategy {name!r}; known: {', '.join(known)}",
            field=field,
            knownStrategies=known,
        )


def _owner_of(named: Any, scope: Scope) -> str | None:
    """The tenant a new account belongs to: the one named (global callers), else the caller's.
    A tenant naming another tenant is refused as if that tenant did not exist."""
    if scope.is_global:
        return named
    if named not in (None, scope.tenant_id):
        raise BadRequest(f"tenant {named} does not exist", field="tenant_id")
    return scope.tenant_id


def _name_conflict(what: str, name: str) -> Conflict:
    """409 for a name another account already has: names are unique across tenants, so that
    a name the global admin gives (``--vim NAME``) means one account."""
    return Conflict(
        f"a {what} named {name!r} already exists (names are unique across tenants); "
        "choose another name",
        field="name",
        name=name,
    )


def _network_view(n: Any) -> dict[str, Any]:
    """A synced network as the API and the GUI show it."""
    return {"id": n.id, "name": n.name, "external": n.external, "status": n.status}


def _describe(exc: vim_base.VimError) -> str:
    text = f"{type(exc).__name__}: {exc.vim_message}"
    if exc.request_id:
        text += f" (request {exc.request_id})"
    return text


_NOTHING = (0.0, 0.0, 0.0, 0)


def _num(x: float) -> int | float:
    return int(x) if float(x).is_integer() else x


def _host_view(h: Any, placed: tuple[float, float, float, int] = _NOTHING) -> dict[str, Any]:
    return {
        "name": h.name,
        "zone": h.zone,
        "state": h.state,
        "capacity": {"vcpus": h.vcpus, "ramMib": h.ram_mib, "diskGib": h.disk_gib},
        "allocationRatio": {
            "cpu": h.cpu_allocation_ratio,
            "ram": h.ram_allocation_ratio,
            "disk": h.disk_allocation_ratio,
        },
        "usage": {
            "vcpus": _num(h.vcpus_used + placed[0]),
            "ramMib": _num(h.ram_mib_used + placed[1]),
            "diskGib": _num(h.disk_gib_used + placed[2]),
            "servers": h.servers + placed[3],
        },
        # what of ``usage`` nfvo placed since the last sync (the rest is the sync's count)
        "placedSinceSync": {
            "vcpus": _num(placed[0]),
            "ramMib": _num(placed[1]),
            "diskGib": _num(placed[2]),
            "servers": placed[3],
        },
        "usageSource": h.usage_source,
    }
