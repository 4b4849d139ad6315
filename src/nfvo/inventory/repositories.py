"""Repositories over the catalog, API clients and server settings tables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, undefer

from nfvo.inventory.models import CatalogPackage, JwtSigningKey, OAuthClient, ServerSetting
from nfvo.inventory.paging import PageQuery, fetch_after, own_or_shared


class StaleRevision(Exception):
    """The row changed since the caller read it (optimistic concurrency / If-Match)."""


class DuplicateOnboarded(Exception):
    """Another onboarded package already carries this descriptor id."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


class CatalogRepository:
    """CRUD over ``catalog_packages`` for one session."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, pkg: CatalogPackage) -> CatalogPackage:
        """Insert a new package row."""
        self.s.add(pkg)
        self.s.flush()
        return pkg

    def get(
        self, pkg_id: str, *, kind: str | None = None, with_descriptor: bool = False
    ) -> CatalogPackage | None:
        """One package by id (optionally only of ``kind``)."""
        q = select(CatalogPackage).where(CatalogPackage.id == pkg_id)
        if kind:
            q = q.where(CatalogPackage.kind == kind)
        if with_descriptor:
            q = q.options(undefer(CatalogPackage.descriptor))
        return self.s.execute(q).scalar_one_or_none()

    def lock(self, pkg_id: str, *, kind: str | None = None) -> CatalogPackage | None:
        """Like ``get`` but locks the row for update (PostgreSQL) for state changes."""
        q = select(CatalogPackage).where(CatalogPackage.id == pkg_id).with_for_update()
        if kind:
            q = q.where(CatalogPackage.kind == kind)
        return self.s.execute(q).scalar_one_or_none()

    def list(self, kind: str, *, tenant_id: str | None = None) -> Sequence[CatalogPackage]:
        """All packages of a kind, oldest first (descriptors not loaded)."""
        q = select(CatalogPackage).where(CatalogPackage.kind == kind)
        if tenant_id is not None:
            q = q.where(CatalogPackage.tenant_id == tenant_id)
        return (
            self.s.execute(q.order_by(CatalogPackage.created_at, CatalogPackage.id)).scalars().all()
        )

    def page(self, kind: str, query: PageQuery, *, tenant: str | None) -> list[CatalogPackage]:
        """One chunk of the packages of a kind a caller sees (own and shared), by creation."""
        return fetch_after(
            self.s,
            CatalogPackage,
            (CatalogPackage.created_at, CatalogPackage.id),
            query,
            visible=(CatalogPackage.kind == kind) & own_or_shared(CatalogPackage, tenant),
        )

    def find_onboarded(self, kind: str, descriptor_ids: Sequence[str]) -> dict[str, CatalogPackage]:
        """Onboarded packages of ``kind`` by descriptor id."""
        if not descriptor_ids:
            return {}
        keys = [f"{kind}:{d}" for d in descriptor_ids]
        rows = self.s.execute(
            select(CatalogPackage).where(CatalogPackage.onboarded_key.in_(keys))
        ).scalars()
        return {r.descriptor_id or "": r for r in rows}

    def referencing(self, kind: str, field: str, value: str) -> list[CatalogPackage]:
        """Packages of ``kind`` whose ``info[field]`` list contains ``value``."""
        rows = self.s.execute(select(CatalogPackage).where(CatalogPackage.kind == kind)).scalars()
        return [r for r in rows if value in (r.info or {}).get(field, [])]

    def save(self, pkg: CatalogPackage, *, expected_revision: int | None = None) -> None:
        """Flush changes, bumping the revision; enforce the descriptor-id uniqueness."""
        if expected_revision is not None and pkg.revision != expected_revision:
            raise StaleRevision(pkg.id)
        pkg.revision = (pkg.revision or 0) + 1
        try:
            self.s.flush()
        except IntegrityError as exc:  # the session must now be rolled back by the caller
            raise DuplicateOnboarded(pkg.onboarded_key or "") from exc

    def delete(self, pkg: CatalogPackage) -> None:
        """Remove the package row."""
        self.s.delete(pkg)
        self.s.flush()

    def count(self, kind: str | None = None) -> int:
        """Number of rows (tests use it to prove nothing leaked)."""
        q = select(func.count()).select_from(CatalogPackage)
        if kind:
            q = q.where(CatalogPackage.kind == kind)
        return int(self.s.execute(q).scalar_one())


class ClientRepository:
    """OAuth2 clients (API users)."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def get(self, client_id: str) -> OAuthClient | None:
        """A client by id."""
        return self.s.get(OAuthClient, client_id)

    def add(self, client: OAuthClient) -> OAuthClient:
        """Insert a client."""
        self.s.add(client)
        self.s.flush()
        return client

    def list(self) -> Sequence[OAuthClient]:
        """All clients by id."""
        return self.s.execute(select(OAuthClient).order_by(OAuthClient.client_id)).scalars().all()

    def delete(self, client: OAuthClient) -> None:
        """Remove a client."""
        self.s.delete(client)
        self.s.flush()

    def remove(self, client_id: str, *, tenant_id: str | None = None) -> bool:
        """Delete a client by id, only if it belongs to ``tenant_id`` when that is given;
        whether a row went (one conditional DELETE, so two removers never both succeed)."""
        q = delete(OAuthClient).where(OAuthClient.client_id == client_id)
        if tenant_id is not None:
            q = q.where(OAuthClient.tenant_id == tenant_id)
        return self.s.execute(q).rowcount == 1  # type: ignore[attr-defined]

    def count(self) -> int:
        """Number of clients."""
        return int(self.s.execute(select(func.count()).select_from(OAuthClient)).scalar_one())


class SettingsRepository:
    """Key/value settings shared by every nfvo process on the database."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def get_or_create(self, key: str, factory: Any) -> str:
        """The stored value, or ``factory()`` stored now (first writer wins across processes)."""
        row = self.s.get(ServerSetting, key)
        if row is not None:
            return row.value
        value = str(factory())
        try:
            with self.s.begin_nested():
                self.s.add(ServerSetting(key=key, value=value))
                self.s.flush()
        except IntegrityError:
            row = self.s.get(ServerSetting, key)
            assert row is not None
            return row.value
        return value

    def remove(self, key: str) -> bool:
        """Delete a setting; whether it was there (idempotent, safe for concurrent callers)."""
        q = delete(ServerSetting).where(ServerSetting.key == key)
        return self.s.execute(q).rowcount == 1  # type: ignore[attr-defined]


class SigningKeyRepository:
    """The sealed JWT signing keys (``jwt_signing_keys``)."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def list(self) -> Sequence[JwtSigningKey]:
        """Every key, oldest first."""
        q = select(JwtSigningKey).order_by(JwtSigningKey.created_at, JwtSigningKey.kid)
        return self.s.execute(q).scalars().all()

    def add(self, key: JwtSigningKey) -> JwtSigningKey:
        """Insert a key."""
        self.s.add(key)
        self.s.flush()
        return key

    def delete(self, key: JwtSigningKey) -> None:
        """Remove a key (one that verifies nothing any more)."""
        self.s.delete(key)
        self.s.flush()
