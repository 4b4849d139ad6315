"""ORM tables of nfvo. Only the inventory package imports this module's session machinery."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, deferred, mapped_column


def utcnow() -> datetime:
    """Timezone-aware now, for timestamps."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base of every nfvo table."""

    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Blob(Base):
    """A stored binary object (a package archive), chunked so every process sharing the
    database sees it and no single row grows beyond a chunk."""

    __tablename__ = "blobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    chunk_size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class BlobChunk(Base):
    """One chunk of a blob, in order of ``seq``."""

    __tablename__ = "blob_chunks"

    blob_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("blobs.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class CatalogPackage(Base):
    """A VNF package, an NSD archive or a PNFD archive, with its onboarding state.

    ``kind`` is ``vnf``, ``nsd`` or ``pnfd``; ``onboarded_key`` is set only once the
    package is ONBOARDED so that the database itself refuses two onboarded packages
    with the same descriptor id.
    """

    __tablename__ = "catalog_packages"
    __table_args__ = (
        UniqueConstraint("onboarded_key", name="uq_catalog_onboarded_key"),
        Index("ix_catalog_packages_kind_created", "kind", "created_at", "id"),  # list order
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), index=True)
    tenant_id: Mapped[str | None] = mapped_column(String(36), index=True, nullable=True)
    descriptor_id: Mapped[str | None] = mapped_column(String(255), index=True, nullable=True)
    onboarded_key: Mapped[str | None] = mapped_column(String(280), nullable=True)
    onboarding_state: Mapped[str] = mapped_column(String(16))
    operational_state: Mapped[str] = mapped_column(String(16))
    usage_state: Mapped[str] = mapped_column(String(16))
    info: Mapped[dict[str, Any]] = mapped_column(default=dict)
    user_defined_data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    failure_details: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    descriptor: Mapped[dict[str, Any] | None] = deferred(mapped_column(JSON, nullable=True))
    blob_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("blobs.id", ondelete="SET NULL"), nullable=True
    )
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class OAuthClient(Base):
    """An API client (user) of the OAuth2 client-credentials grant, with its role."""

    __tablename__ = "oauth_clients"

    client_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    secret_hash: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(16))
    tenant_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    disabled: Mapped[bool] = mapped_column(default=False)
    # A random value written into each token; a new one revokes every token issued before.
    token_generation: Mapped[str] = mapped_column(String(32), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class JwtSigningKey(Base):
    """A key that signs or verifies bearer tokens, sealed with the vault key (never in clear).

    The newest key without ``retired_at`` signs; a key verifies until ``expires_at``."""

    __tablename__ = "jwt_signing_keys"

    kid: Mapped[str] = mapped_column(String(32), primary_key=True)
    sealed_key: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ServerSetting(Base):
    """Process-independent settings every node must agree on (e.g. the token signing key)."""

    __tablename__ = "server_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Tenant(Base):
    """A tenant (project): VIM accounts, packages and NS instances belong to one."""

    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class VimAccount(Base):
    """A registered VIM. Credentials live only in ``secrets`` (Fernet-encrypted). Names are
    unique across tenants: the global admin sees every account and resolves ``--vim NAME``."""

    __tablename__ = "vim_accounts"
    __table_args__ = (Index("ux_vim_accounts_name", "name", unique=True),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str | None] = mapped_column(String(36), index=True, nullable=True)
    name: Mapped[str] = mapped_column(String(128))
    vim_type: Mapped[str] = mapped_column(String(32))
    vim_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    vim_user: Mapped[str | None] = mapped_column(String(255), nullable=True)
    vim_tenant_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    secrets: Mapped[str | None] = mapped_column(Text, nullable=True)
    operational_state: Mapped[str] = mapped_column(String(16))
    detailed_status: Mapped[str | None] = mapped_column(Text, nullable=True)
    vim_info: Mapped[dict[str, Any]] = mapped_column(default=dict)
    last_sync_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class VimZone(Base):
    """An availability zone of a VIM, as last synced."""

    __tablename__ = "vim_zones"

    vim_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("vim_accounts.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    available: Mapped[bool] = mapped_column(default=True)


class VimHost(Base):
    """A compute host of a VIM with capacity and usage (``usage_source``: vim | monitoring)."""

    __tablename__ = "vim_hosts"

    vim_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("vim_accounts.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    zone: Mapped[str] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16))
    vcpus: Mapped[int] = mapped_column(Integer)
    ram_mib: Mapped[int] = mapped_column(BigInteger)
    disk_gib: Mapped[int] = mapped_column(BigInteger)
    cpu_allocation_ratio: Mapped[float] = mapped_column(default=1.0)
    ram_allocation_ratio: Mapped[float] = mapped_column(default=1.0)
    disk_allocation_ratio: Mapped[float] = mapped_column(default=1.0)
    vcpus_used: Mapped[int] = mapped_column(Integer, default=0)
    ram_mib_used: Mapped[int] = mapped_column(BigInteger, default=0)
    disk_gib_used: Mapped[int] = mapped_column(BigInteger, default=0)
    servers: Mapped[int] = mapped_column(Integer, default=0)
    usage_source: Mapped[str] = mapped_column(String(16), default="vim")


class VimFlavor(Base):
    """A flavor of a VIM."""

    __tablename__ = "vim_flavors"

    vim_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("vim_accounts.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    vcpus: Mapped[int] = mapped_column(Integer)
    ram_mib: Mapped[int] = mapped_column(BigInteger)
    disk_gib: Mapped[int] = mapped_column(BigInteger)


class VimImage(Base):
    """An image of a VIM."""

    __tablename__ = "vim_images"

    vim_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("vim_accounts.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    disk_format: Mapped[str | None] = mapped_column(String(32), nullable=True)
    container_format: Mapped[str | None] = mapped_column(String(32), nullable=True)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    checksum: Mapped[str | None] = mapped_column(String(255), nullable=True)


class VimNetwork(Base):
    """A network of a VIM (provider networks and those nfvo created)."""

    __tablename__ = "vim_networks"

    vim_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("vim_accounts.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    external: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(32), default="ACTIVE")


class SdnController(Base):
    """An SDN/WAN controller template; credentials only in ``secrets``. Names are unique
    across tenants, as VIM account names are."""

    __tablename__ = "sdn_controllers"
    __table_args__ = (Index("ux_sdn_controllers_name", "name", unique=True),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str | None] = mapped_column(String(36), index=True, nullable=True)
    name: Mapped[str] = mapped_column(String(128))
    sdn_type: Mapped[str] = mapped_column(String(32))
    url: Mapped[str | None] = mapped_column(Text, nullable=True)
    user: Mapped[str | None] = mapped_column(String(255), nullable=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    secrets: Mapped[str | None] = mapped_column(Text, nullable=True)
    operational_state: Mapped[str] = mapped_column(String(16))
    detailed_status: Mapped[str | None] = mapped_column(Text, nullable=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class NsInstance(Base):
    """An NS instance: its descriptor, state and NS-level plan. What it is made of (VNF
    instances, VNFCs, virtual links) lives in rows of their own (``NsVnf``, ``NsVnfc``,
    ``NsVnfVl``, ``NsVl``), each written by the step that created it.

    ``current_op_id`` is the one open operation; it is only ever set or cleared by a
    conditional UPDATE (see ``NsRepository.claim``), which is what makes "one open operation
    per NS" hold on SQLite, where ``FOR UPDATE`` does nothing."""

    __tablename__ = "ns_instances"
    __table_args__ = (  # list pages: (created_at, id) ranges, alone or behind a filter column
        Index("ix_ns_instances_created", "created_at", "id"),
        Index("ix_ns_instances_tenant_created", "tenant_id", "created_at", "id"),
        Index("ix_ns_instances_state_created", "ns_state", "created_at", "id"),
        Index("ix_ns_instances_nsd_id", "nsd_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str | None] = mapped_column(String(36), index=True, nullable=True)
    nsd_info_id: Mapped[str] = mapped_column(String(36), index=True)
    nsd_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    ns_state: Mapped[str] = mapped_column(String(24))
    flavour_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    instantiation_level_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    current_op_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    # NS-level plan only ({"virtual_links", "vnf_layers", "placement"}); each VNF's spec is a
    # row of ns_vnfs. Deferred: only the steps that order the VNFs read it.
    plan: Mapped[dict[str, Any] | None] = deferred(mapped_column(JSON, nullable=True))
    # NS scaling aspect id -> level (per-VNF levels are on ns_vnfs)
    scale_status: Mapped[dict[str, Any]] = mapped_column(default=dict)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class NsLcmOpOcc(Base):
    """One NS life-cycle operation occurrence and its state (SOL005 NsLcmOpOcc)."""

    __tablename__ = "ns_lcm_op_occs"
    __table_args__ = (  # list pages: (start_time, id) ranges, alone or behind a filter column
        Index("ix_ns_lcm_op_occs_start", "start_time", "id"),
        Index("ix_ns_lcm_op_occs_tenant_start", "tenant_id", "start_time", "id"),
        Index("ix_ns_lcm_op_occs_state_start", "state", "start_time", "id"),
        Index("ix_ns_lcm_op_occs_ns_start", "ns_instance_id", "start_time", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    ns_instance_id: Mapped[str] = mapped_column(String(36), index=True)
    tenant_id: Mapped[str | None] = mapped_column(String(36), index=True, nullable=True)
    operation: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(24))
    is_automatic_invocation: Mapped[bool] = mapped_column(default=False)
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    changes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    cancel_pending: Mapped[bool] = mapped_column(default=False)
    cancel_mode: Mapped[str | None] = mapped_column(String(16), nullable=True)
    generation: Mapped[int] = mapped_column(Integer, default=1)
    start_time: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    state_entered_time: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class NsLcmOpPlacement(Base):
    """The placement decision an NS LCM operation occurrence took (the optimizer's answer per
    VIM: strategy, bounds, assignment and explanation per VDU instance), written with the
    step that placed and replaced when that step runs again."""

    __tablename__ = "ns_lcm_op_placements"

    op_occ_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    ns_instance_id: Mapped[str] = mapped_column(String(36), index=True)
    tenant_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    operation: Mapped[str] = mapped_column(String(16))
    vims: Mapped[list[Any]] = mapped_column(default=list)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LccnSubscriptionRow(Base):
    """A SOL005 subscription (NS LCM, VNF package or NSD management): where to send which
    notifications, and how to authenticate there. Callback credentials live only in
    ``secrets`` (Fernet-encrypted)."""

    __tablename__ = "lccn_subscriptions"
    __table_args__ = (Index("ix_lccn_subscriptions_created", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # the SOL005 API subscribed to: nslcm, vnfpkgm (VNF packages) or nsd (NSDs and PNFDs)
    api: Mapped[str] = mapped_column(
        String(16), index=True, default="nslcm", server_default="nslcm"
    )
    tenant_id: Mapped[str | None] = mapped_column(String(36), index=True, nullable=True)
    callback_uri: Mapped[str] = mapped_column(Text)
    filter: Mapped[dict[str, Any]] = mapped_column(default=dict)
    verbosity: Mapped[str] = mapped_column(String(8), default="FULL")
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    auth_type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    secrets: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class NotificationDelivery(Base):
    """One notification owed to one subscription (the outbox). Pending while
    ``next_attempt_at`` is set; ``delivered_at`` marks success; neither means given up."""

    __tablename__ = "notification_deliveries"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    subscription_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("lccn_subscriptions.id", ondelete="CASCADE"), index=True
    )
    notification: Mapped[dict[str, Any]] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), index=True, nullable=True
    )
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class NsEvent(Base):
    """Something a VIM reported about the resources of an NS instance (a server lost or in
    error), recorded once so that the policy engine can react to it (e.g. heal)."""

    __tablename__ = "ns_events"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    ns_instance_id: Mapped[str] = mapped_column(String(36), index=True)
    vnf_instance_id: Mapped[str] = mapped_column(String(255))
    vnfc_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    handled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )


class NsVnf(Base):
    """One VNF instance of an NS: its deployment spec (the plan for this VNF), where it stands
    and its scale levels. Written only by the steps acting on this VNF."""

    __tablename__ = "ns_vnfs"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    ns_instance_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("ns_instances.id", ondelete="CASCADE"), index=True
    )
    seq: Mapped[int] = mapped_column(Integer, default=0)  # order in the plan
    vnf_profile_id: Mapped[str] = mapped_column(String(255))
    vnfd_id: Mapped[str] = mapped_column(String(255))
    flavour_id: Mapped[str] = mapped_column(String(255))
    vim_account_id: Mapped[str] = mapped_column(String(36), index=True)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    instantiated: Mapped[bool] = mapped_column(default=False)
    scale_levels: Mapped[dict[str, Any]] = mapped_column(default=dict)


class NsVnfc(Base):
    """One VDU instance (VNFC) of a VNF instance. The row is written before its server is
    created (``server_id`` empty, the key the VIM create will carry) and completed after, so a
    crash in between leaves a row that the next attempt reconciles by key."""

    __tablename__ = "ns_vnfcs"

    vnf_instance_id: Mapped[str] = mapped_column(
        String(255), ForeignKey("ns_vnfs.id", ondelete="CASCADE"), primary_key=True
    )
    vdu_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    idx: Mapped[int] = mapped_column(Integer, primary_key=True)
    ns_instance_id: Mapped[str] = mapped_column(String(36), index=True)
    vim_account_id: Mapped[str] = mapped_column(String(36))
    key: Mapped[str] = mapped_column(String(512))
    server_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    status: Mapped[str] = mapped_column(String(32))
    host: Mapped[str | None] = mapped_column(String(255), nullable=True)
    zone: Mapped[str | None] = mapped_column(String(255), nullable=True)
    flavor: Mapped[str | None] = mapped_column(String(255), nullable=True)
    image: Mapped[str | None] = mapped_column(String(255), nullable=True)
    port_ids: Mapped[dict[str, Any]] = mapped_column(default=dict)  # cp_id -> VIM port id
    addresses: Mapped[dict[str, Any]] = mapped_column(default=dict)  # cp_id -> [IP, ...]
    # cp_id -> MAC address of the port, as the VIM reported it (null in rows of older versions)
    mac_addresses: Mapped[dict[str, Any] | None] = mapped_column(nullable=True, default=dict)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    __table_args__ = (Index("ix_ns_vnfcs_vim_server", "vim_account_id", "server_id"),)


class NsVnfVl(Base):
    """An internal virtual link of a VNF instance as created on its VIM."""

    __tablename__ = "ns_vnf_vls"

    vnf_instance_id: Mapped[str] = mapped_column(
        String(255), ForeignKey("ns_vnfs.id", ondelete="CASCADE"), primary_key=True
    )
    vl_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    ns_instance_id: Mapped[str] = mapped_column(String(36), index=True)
    network_id: Mapped[str] = mapped_column(String(255))
    subnet_id: Mapped[str | None] = mapped_column(String(255), nullable=True)


class NsVl(Base):
    """An NS virtual link on one VIM (network + subnet), created by its own step."""

    __tablename__ = "ns_vls"

    ns_instance_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("ns_instances.id", ondelete="CASCADE"), primary_key=True
    )
    vl_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    vim_account_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    network_id: Mapped[str] = mapped_column(String(255))
    subnet_id: Mapped[str | None] = mapped_column(String(255), nullable=True)


class ActionPlan(Base):
    """A consolidation or rebalance plan of one VIM (Watcher's audit result): stored so an
    admin can inspect it before applying it; its migrations are ``ActionPlanStep`` rows.
    ``tenant_id`` None: only a global admin sees it. ``state`` changes only through
    ``nfvo.lcm.action_states``."""

    __tablename__ = "action_plans"
    __table_args__ = (Index("ix_action_plans_created", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str | None] = mapped_column(String(36), index=True, nullable=True)
    vim_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("vim_accounts.id", ondelete="CASCADE"), index=True
    )
    goal: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    # before/after load figures, unmet targets, solve time, planner name
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    emptiable_bound: Mapped[int | None] = mapped_column(Integer, nullable=True)
    hosts_emptied: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class ActionPlanStep(Base):
    """One migration of an action plan, in execution order (``seq``): which VNFC (its
    demand id ``<vnf_instance_id>/<vdu_id>-<index>`` and server), from where to where, and
    how applying it went (the op occurrence that ran it, a reason when it was skipped)."""

    __tablename__ = "action_plan_steps"

    plan_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("action_plans.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    demand_id: Mapped[str] = mapped_column(String(512))
    server_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    ns_instance_id: Mapped[str] = mapped_column(String(36), index=True)
    vnf_instance_id: Mapped[str] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(255))
    target: Mapped[str] = mapped_column(String(255))
    # migrations with the same batch move together (members of a host-affinity rule)
    batch: Mapped[int | None] = mapped_column(Integer, nullable=True)
    state: Mapped[str] = mapped_column(String(16))
    op_occ_id: Mapped[str | None] = mapped_column(String(36), index=True, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
