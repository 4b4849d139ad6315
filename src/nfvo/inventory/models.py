"""ORM tables of nfvo. Only the inventory package imports this module's session machinery."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
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
    __table_args__ = (UniqueConstraint("onboarded_key", name="uq_catalog_onboarded_key"),)

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
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ServerSetting(Base):
    """Process-independent settings every node must agree on (e.g. the token signing key)."""

    __tablename__ = "server_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
