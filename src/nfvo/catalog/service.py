"""Catalog use cases: create, upload, onboard, modify, delete and read packages.

Every state change goes through the onboarding state machine in ``states``; every
failure of a package leaves exactly one thing behind: its record in ERROR state
with ``onboardingFailureDetails`` naming the cause.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from nfvo.catalog.csar import CsarLimits
from nfvo.catalog.descriptors import Nsd, Vnfd
from nfvo.catalog.errors import PackageError
from nfvo.catalog.onboarding import analyse_package
from nfvo.catalog.states import (
    OnboardingState,
    OperationalState,
    PackageKind,
    UsageState,
    can_transition,
)
from nfvo.catalog.store import PackageCache, PackageFiles
from nfvo.errors import Conflict, Forbidden, NotFound, PreconditionFailed
from nfvo.inventory.blobs import BlobRepository
from nfvo.inventory.db import Database
from nfvo.inventory.models import CatalogPackage
from nfvo.inventory.repositories import CatalogRepository, DuplicateOnboarded, StaleRevision
from nfvo.lru import Lru
from nfvo.notifications.packages import PackageEvent, enqueue_package_event
from nfvo.query import PageQuery

log = logging.getLogger(__name__)
_NODE = f"{socket.gethostname()}:{os.getpid()}"
_WORD = {PackageKind.vnf: "VNF package", PackageKind.nsd: "NSD", PackageKind.pnfd: "PNFD"}
_REF_FIELD = {
    PackageKind.vnf: "vnfPkgIds",
    PackageKind.pnfd: "pnfdInfoIds",
    PackageKind.nsd: "nestedNsdInfoIds",
}


class CatalogService:
    """The catalog's use cases over the inventory; no HTTP in here."""

    def __init__(self, db: Database, cache_dir: Path, limits: CsarLimits | None = None) -> None:
        self.db = db
        self.cache = PackageCache(db, cache_dir)
        self.limits = limits or CsarLimits()
        # An onboarded package never changes (new content is a new package), so what is
        # parsed or read from it is kept per process, by package id and checksum.
        self._parsed = Lru(256)

    # -- reads -------------------------------------------------------------
    def get(self, kind: PackageKind, pkg_id: str, tenant_id: str | None = None) -> CatalogPackage:
        """One package or NotFound."""
        with self.db.session() as s:
            pkg = CatalogRepository(s).get(pkg_id, kind=kind)
        if pkg is None or (tenant_id is not None and pkg.tenant_id not in (None, tenant_id)):
            raise NotFound(f"{_WORD[kind]} {pkg_id} does not exist")
        return pkg

    def writable(self, kind: PackageKind, pkg_id: str, tenant_id: str | None) -> CatalogPackage:
        """A package the caller may change: its own tenant's (shared ones: global callers only)."""
        pkg = self.get(kind, pkg_id, tenant_id)
        if tenant_id is not None and pkg.tenant_id != tenant_id:
            raise Forbidden(f"{_WORD[kind]} {pkg_id} is shared; only a global admin may change it")
        return pkg

    def page(
        self, kind: PackageKind, query: PageQuery, tenant_id: str | None = None
    ) -> list[CatalogPackage]:
        """One chunk of the packages of a kind visible to the tenant, by creation."""
        with self.db.session() as s:
            return CatalogRepository(s).page(kind.value, query, tenant=tenant_id)

    def descriptor(self, kind: PackageKind, pkg_id: str) -> dict[str, Any]:
        """The stored typed descriptor (JSON) of an onboarded package."""
        with self.db.session() as s:
            pkg = CatalogRepository(s).get(pkg_id, kind=kind, with_descriptor=True)
        if pkg is None:
            raise NotFound(f"{_WORD[kind]} {pkg_id} does not exist")
        self._require_onboarded(pkg, kind)
        return dict(pkg.descriptor or {})

    def onboarded(
        self, kind: PackageKind, pkg_id: str, tenant_id: str | None = None
    ) -> CatalogPackage:
        """A package visible to the tenant that is ONBOARDED (else NotFound / Conflict)."""
        pkg = self.get(kind, pkg_id, tenant_id)
        self._require_onboarded(pkg, kind)
        return pkg

    def find_onboarded(self, kind: PackageKind, descriptor_id: str) -> CatalogPackage:
        """The onboarded package carrying ``descriptor_id`` (NotFound otherwise)."""
        return self.find_all_onboarded(kind, [descriptor_id])[descriptor_id]

    def find_all_onboarded(
        self, kind: PackageKind, descriptor_ids: Iterable[str]
    ) -> dict[str, CatalogPackage]:
        """The onboarded packages carrying ``descriptor_ids``, by descriptor id (one query;
        NotFound naming the first that has none)."""
        wanted = list(dict.fromkeys(descriptor_ids))
        with self.db.session() as s:
            found = CatalogRepository(s).find_onboarded(kind.value, wanted)
        for descriptor_id in wanted:
            if descriptor_id not in found:
                raise NotFound(f"no onboarded {_WORD[kind]} has descriptor id {descriptor_id}")
        return found

    def ns_descriptors(self, nsd_info_id: str) -> tuple[Nsd, dict[str, Vnfd]]:
        """An onboarded NSD and the onboarded VNFDs it references, by vnfdId (parsed once per
        package and process; callers must not change them: copy first, as CHANGE_VNF_DF does)."""
        pkg = self.get(PackageKind.nsd, nsd_info_id)
        self._require_onboarded(pkg, PackageKind.nsd)
        nsd = self._parsed.get_or(
            ("nsd", pkg.id, _checksum(pkg)),
            lambda: Nsd.model_validate(self.descriptor(PackageKind.nsd, pkg.id)),
        )
        vnfds = {}
        packages = self.find_all_onboarded(PackageKind.vnf, nsd.vnfd_ids)
        for vnfd_id in nsd.vnfd_ids:
            vnf_pkg = packages[vnfd_id]
            vnfds[vnfd_id] = self._parsed.get_or(
                ("vnfd", vnf_pkg.id, _checksum(vnf_pkg)),
                lambda p=vnf_pkg: Vnfd.model_validate(self.descriptor(PackageKind.vnf, p.id)),
            )
        return nsd, vnfds

    def vnfd_artifacts(self, vnfd_ids: Iterable[str]) -> dict[str, dict[str, bytes]]:
        """Small artifacts (day-0 files) of the onboarded VNF packages, by vnfdId (read once
        per package and process)."""
        out = {}
        for vnfd_id, pkg in self.find_all_onboarded(PackageKind.vnf, vnfd_ids).items():
            out[vnfd_id] = self._parsed.get_or(
                ("artifacts", pkg.id, _checksum(pkg)),
                lambda p=pkg: self.small_artifacts(PackageKind.vnf, p.id),
            )
        return out

    def small_artifacts(
        self, kind: PackageKind, pkg_id: str, limit: int = 256 << 10
    ) -> dict[str, bytes]:
        """Artifact files of a package up to ``limit`` bytes each (day-0 scripts, cloud-init)."""
        pkg, files = self.files(kind, pkg_id)
        info = pkg.info or {}
        descriptor = set(info.get("descriptorFiles", []))
        day0 = set(info.get("day0Files", []))  # bounded at onboarding; may sit beside the VNFD
        sizes = files.sizes()
        names = [
            n
            for n in info.get("files", [])
            if n in day0 or (n not in descriptor and sizes.get(n, limit + 1) <= limit)
        ]
        return dict(files.iter_members(names))

    def files(
        self, kind: PackageKind, pkg_id: str, tenant_id: str | None = None
    ) -> tuple[CatalogPackage, PackageFiles]:
        """Member access to an onboarded package's archive."""
        pkg = self.onboarded(kind, pkg_id, tenant_id)
        assert pkg.blob_id is not None
        return pkg, self.cache.files(pkg.blob_id)

    def open_vnf_file(self, vnfd_id: str, path: str) -> BinaryIO:
        """A file of the onboarded VNF package of ``vnfd_id`` (e.g. a software image)."""
        pkg = self.find_onboarded(PackageKind.vnf, vnfd_id)
        return self.files(PackageKind.vnf, pkg.id)[1].open(path)

    def content(self, pkg: CatalogPackage, start: int, end: int | None) -> Iterator[bytes]:
        """Bytes ``start..end`` of an onboarded package's stored archive, streamed."""
        blob_id = pkg.blob_id
        assert blob_id is not None

        def gen() -> Iterator[bytes]:
            with self.db.session() as s:
                yield from BlobRepository(s).iter_range(blob_id, start, end)

        return gen()

    # -- writes ------------------------------------------------------------
    def create(
        self, kind: PackageKind, user_defined_data: dict[str, Any], tenant_id: str | None = None
    ) -> CatalogPackage:
        """A new, empty package record in CREATED state."""
        pkg = CatalogPackage(
            id=str(uuid.uuid4()),
            kind=kind.value,
            tenant_id=tenant_id,
            onboarding_state=OnboardingState.CREATED,
            operational_state=OperationalState.DISABLED,
            usage_state=UsageState.NOT_IN_USE,
            info={},
            user_defined_data=user_defined_data or {},
        )
        with self.db.session() as s:
            CatalogRepository(s).add(pkg)
        return pkg

    def _transition(
        self, kind: PackageKind, pkg_id: str, dst: OnboardingState, **info: Any
    ) -> None:
        with self.db.session() as s:
            repo = CatalogRepository(s)
            pkg = repo.lock(pkg_id, kind=kind)
            if pkg is None:
                raise NotFound(f"{_WORD[kind]} {pkg_id} does not exist")
            if not can_transition(pkg.onboarding_state, dst):
                raise Conflict(
                    f"{_WORD[kind]} {pkg_id} is {pkg.onboarding_state}; content can only be "
                    f"uploaded once, to a package in CREATED state",
                    onboardingState=pkg.onboarding_state,
                )
            pkg.onboarding_state = dst
            if info:
                pkg.info = {**(pkg.info or {}), **info}
            repo.save(pkg)

    def start_upload(self, kind: PackageKind, pkg_id: str) -> None:
        """CREATED -> UPLOADING, or Conflict."""
        self._transition(kind, pkg_id, OnboardingState.UPLOADING, worker=_NODE)

    def start_processing(self, kind: PackageKind, pkg_id: str) -> None:
        """UPLOADING -> PROCESSING."""
        self._transition(kind, pkg_id, OnboardingState.PROCESSING)

    def fail(self, kind: PackageKind, pkg_id: str, error: PackageError) -> None:
        """Move the package to ERROR with the failure details (no other trace is kept)."""
        details = {
            "type": "https://nfvo.dev/problems/package/" + error.cause.lower().replace("_", "-"),
            "title": "Package onboarding failed",
            "status": 422,
            **error.to_dict(),
        }
        with self.db.session() as s:
            repo = CatalogRepository(s)
            pkg = repo.lock(pkg_id, kind=kind)
            if pkg is None:
                return
            pkg.onboarding_state = OnboardingState.ERROR
            pkg.failure_details = details
            repo.save(pkg)
            enqueue_package_event(s, pkg, PackageEvent.FAILED)
        log.info("%s %s rejected: %s", _WORD[kind], pkg_id, error.message())

    def process(self, kind: PackageKind, pkg_id: str, path: Path) -> None:
        """PROCESSING -> ONBOARDED or ERROR. Always deletes ``path``."""
        try:
            try:
                result = analyse_package(path, kind, self.limits)
                self._store(kind, pkg_id, path, result)
            except PackageError as exc:
                self.fail(kind, pkg_id, exc)
            except Exception as exc:  # a bug must not leave the package PROCESSING forever
                log.exception("unexpected error onboarding %s", pkg_id)
                self.fail(kind, pkg_id, PackageError("INTERNAL_ERROR", f"internal error: {exc}"))
        finally:
            path.unlink(missing_ok=True)

    def _store(self, kind: PackageKind, pkg_id: str, path: Path, result: Any) -> None:
        duplicate = PackageError(
            "DUPLICATE_DESCRIPTOR",
            f"a {_WORD[kind]} with descriptor id {result.descriptor_id} is already onboarded",
        )
        with self.db.session() as s:
            repo = CatalogRepository(s)
            pkg = repo.lock(pkg_id, kind=kind)
            if pkg is None:  # deleted meanwhile
                return
            if repo.find_onboarded(kind.value, [result.descriptor_id]):
                raise duplicate
            info = dict(result.info)
            if kind is PackageKind.nsd:
                info.update(self._resolve_references(repo, result, pkg.tenant_id))
            with path.open("rb") as archive:
                blob = BlobRepository(s).put(archive)  # hashes the archive as it stores it
            pkg.blob_id = blob.id
            pkg.descriptor_id = result.descriptor_id
            pkg.descriptor = result.descriptor.model_dump(mode="json")
            pkg.onboarding_state = OnboardingState.ONBOARDED
            pkg.operational_state = OperationalState.ENABLED
            pkg.onboarded_key = f"{kind.value}:{result.descriptor_id}"
            info["checksum"] = {"algorithm": "SHA-256", "hash": blob.sha256}
            info["packageSize"] = blob.size
            pkg.info = info
            try:
                repo.save(pkg)
            except DuplicateOnboarded:  # onboarded by another process since the check above
                raise duplicate from None
            enqueue_package_event(s, pkg, PackageEvent.ONBOARDED)

    def _resolve_references(
        self, repo: CatalogRepository, result: Any, tenant_id: str | None
    ) -> dict[str, Any]:
        """Package ids of the VNFDs/PNFDs/nested NSDs an NSD needs; all must be onboarded and
        visible to the NSD's tenant (its own or shared; a shared NSD: shared ones only) -
        another tenant's package is reported exactly as one that is not onboarded."""
        wanted = [
            (PackageKind.vnf, result.referenced_vnfd_ids, "vnfPkgIds", "VNFD", "vnfdId"),
            (PackageKind.pnfd, result.referenced_pnfd_ids, "pnfdInfoIds", "PNFD", "pnfdId"),
            (PackageKind.nsd, result.referenced_nsd_ids, "nestedNsdInfoIds", "NSD", "nsdId"),
        ]
        out: dict[str, Any] = {}
        for kind, ids, field, word, attr in wanted:
            found = {
                d: p
                for d, p in repo.find_onboarded(kind.value, ids).items()
                if p.tenant_id in (None, tenant_id)
            }
            missing = [i for i in ids if i not in found]
            if missing:
                raise PackageError(
                    f"{word}_NOT_ONBOARDED",
                    f"the NSD references {word}s that are not onboarded: missing {attr} "
                    + ", ".join(missing),
                )
            out[field] = sorted({p.id for p in found.values()})
        return out

    def modify(
        self,
        kind: PackageKind,
        pkg_id: str,
        *,
        operational_state: str | None,
        user_defined_data: dict[str, Any] | None,
        if_match: int | None = None,
    ) -> CatalogPackage:
        """Enable/disable and merge user-defined data (JSON merge patch semantics)."""
        with self.db.session() as s:
            repo = CatalogRepository(s)
            pkg = repo.lock(pkg_id, kind=kind)
            if pkg is None:
                raise NotFound(f"{_WORD[kind]} {pkg_id} does not exist")
            if if_match is not None and pkg.revision != if_match:
                raise PreconditionFailed(
                    f"{_WORD[kind]} {pkg_id} changed since it was read (ETag mismatch)"
                )
            if operational_state is not None:
                self._require_onboarded(pkg, kind)
                if pkg.operational_state == operational_state:
                    raise Conflict(
                        f"{_WORD[kind]} {pkg_id} is already {operational_state}",
                        operationalState=pkg.operational_state,
                    )
                pkg.operational_state = OperationalState(operational_state)
            if user_defined_data is not None:
                merged = dict(pkg.user_defined_data or {})
                for k, v in user_defined_data.items():
                    if v is None:
                        merged.pop(k, None)
                    else:
                        merged[k] = v
                pkg.user_defined_data = merged
            try:
                repo.save(pkg)
            except StaleRevision:  # pragma: no cover - row is locked
                raise PreconditionFailed("concurrent modification") from None
            if operational_state is not None:
                enqueue_package_event(s, pkg, PackageEvent.OPERATIONAL_STATE)
        return pkg

    def delete(self, kind: PackageKind, pkg_id: str) -> None:
        """Delete a package: only when DISABLED and NOT_IN_USE and nothing references it."""
        blob_id = None
        with self.db.session() as s:
            repo = CatalogRepository(s)
            pkg = repo.lock(pkg_id, kind=kind)
            if pkg is None:
                raise NotFound(f"{_WORD[kind]} {pkg_id} does not exist")
            if pkg.onboarding_state in (OnboardingState.UPLOADING, OnboardingState.PROCESSING):
                raise Conflict(f"{_WORD[kind]} {pkg_id} is {pkg.onboarding_state}; wait for it")
            # PNFDs have no operational state in SOL005 (§5.5.2.5); VNF packages and NSDs must
            # be disabled before deletion.
            if kind is not PackageKind.pnfd and pkg.operational_state != OperationalState.DISABLED:
                raise Conflict(
                    f"{_WORD[kind]} {pkg_id} is {pkg.operational_state}; disable it first "
                    '(PATCH {"operationalState": "DISABLED"})'
                )
            if pkg.usage_state != UsageState.NOT_IN_USE:
                raise Conflict(f"{_WORD[kind]} {pkg_id} is IN_USE")
            users = repo.referencing(PackageKind.nsd.value, _REF_FIELD[kind], pkg_id)
            if users:
                raise Conflict(
                    f"{_WORD[kind]} {pkg_id} is referenced by NSD "
                    + ", ".join(u.id for u in users)
                    + "; delete those first"
                )
            blob_id = pkg.blob_id
            enqueue_package_event(s, pkg, PackageEvent.DELETED)
            repo.delete(pkg)
            if blob_id:
                BlobRepository(s).delete(blob_id)
        if blob_id:
            self.cache.evict(blob_id)

    def recover_interrupted(self) -> int:
        """At start: packages this host left UPLOADING/PROCESSING (a crash) go to ERROR."""
        host = socket.gethostname() + ":"
        count = 0
        with self.db.session() as s:
            for kind in PackageKind:
                for pkg in CatalogRepository(s).list(kind.value):
                    worker = (pkg.info or {}).get("worker", "")
                    if pkg.onboarding_state in (
                        OnboardingState.UPLOADING,
                        OnboardingState.PROCESSING,
                    ) and (worker.startswith(host) and worker != _NODE):
                        pkg.onboarding_state = OnboardingState.ERROR
                        pkg.failure_details = {
                            "title": "Package onboarding interrupted",
                            "status": 500,
                            "cause": "INTERRUPTED",
                            "detail": "the nfvo process handling this upload stopped; "
                            "delete the package and upload it again",
                        }
                        count += 1
        return count

    @staticmethod
    def _require_onboarded(pkg: CatalogPackage, kind: PackageKind) -> None:
        if pkg.onboarding_state != OnboardingState.ONBOARDED:
            raise Conflict(
                f"{_WORD[kind]} {pkg.id} is {pkg.onboarding_state}, not ONBOARDED",
                onboardingState=pkg.onboarding_state,
            )


def _checksum(pkg: CatalogPackage) -> str:
    return str(((pkg.info or {}).get("checksum") or {}).get("hash") or pkg.blob_id or "")
