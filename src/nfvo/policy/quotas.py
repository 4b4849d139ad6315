"""Quotas per tenant and per NS instance: vCPUs, RAM (MiB) and instances (VNFCs).

Usage is what the VNFCs of the tenant's (or the NS's) instances hold now, from the
inventory: one instance per VNFC row, its VDU's vCPUs and RAM from its VNF's deployment
spec. An operation in flight counts for what it will make its NS hold (its reservation:
the NS's usage plus the operation's delta, kept while it is the NS's open operation), so a
half-done instantiation is not counted as half.

An operation's delta is the difference of its NS's specs after and before (the plan of an
INSTANTIATE, the change set of a SCALE / HEAL / UPDATE): a HEAL that recreates VNFCs
replaces them one for one and asks for nothing, a scale-in asks for less. Only a delta that
grows some dimension is checked; it is refused (:class:`QuotaExceeded`, 422) when usage plus
delta would pass a limit of the NS's quota or its tenant's.

:func:`reserve` runs inside the transaction that claims the NS (``LcmService.start``),
before placement. Concurrent operations of one tenant are serialised by the tenant quota's
``version``: read before usage, advanced by a conditional UPDATE after the check; of two
claims that read the same usage exactly one advances it, the other raises
:class:`Contended` and is retried from the claim, seeing the first one's reservation.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from nfvo.errors import QuotaExceeded
from nfvo.inventory.db import Database
from nfvo.inventory.quotas_repo import (
    NS,
    TENANT,
    QuotaRepository,
    QuotaReservationRow,
    QuotaRow,
)
from nfvo.query import PageQuery
from nfvo.vnfm.base import VnfDeploymentSpec

# the largest limit a quota may name per dimension (the columns are 32-bit integers)
MAX_LIMIT = {"vcpus": 1_000_000, "ram_mib": 2_000_000_000, "instances": 1_000_000}
# claims retried after a concurrent one of the same tenant took quota (then 409)
MAX_ATTEMPTS = 25
DIMENSIONS = ("vcpus", "ram_mib", "instances")
_API = {"vcpus": "vcpus", "ram_mib": "ramMib", "instances": "instances"}


class Contended(Exception):
    """Another operation of the tenant took quota between this claim's read and its
    update: the claim's transaction is rolled back and retried."""


@dataclass(frozen=True)
class Usage:
    """vCPUs, RAM (MiB) and instances (VNFCs)."""

    vcpus: int = 0
    ram_mib: int = 0
    instances: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.vcpus + other.vcpus,
            self.ram_mib + other.ram_mib,
            self.instances + other.instances,
        )

    def __sub__(self, other: Usage) -> Usage:
        return Usage(
            self.vcpus - other.vcpus,
            self.ram_mib - other.ram_mib,
            self.instances - other.instances,
        )

    def most(self, other: Usage) -> Usage:
        """The larger of the two in each dimension."""
        return Usage(
            max(self.vcpus, other.vcpus),
            max(self.ram_mib, other.ram_mib),
            max(self.instances, other.instances),
        )

    def grows(self) -> bool:
        """Some dimension is positive."""
        return any(getattr(self, d) > 0 for d in DIMENSIONS)

    def view(self) -> dict[str, int]:
        """The API form (``vcpus``, ``ramMib``, ``instances``)."""
        return {_API[d]: getattr(self, d) for d in DIMENSIONS}


def of_specs(specs: Iterable[VnfDeploymentSpec]) -> Usage:
    """What VNF instances deployed as ``specs`` hold."""
    vcpus = ram = count = 0
    for spec in specs:
        for vdu in spec.vdus:
            vcpus += vdu.count * vdu.vcpus
            ram += vdu.count * vdu.ram_mib
            count += vdu.count
    return Usage(vcpus, ram, count)


def delta(before: Mapping[str, VnfDeploymentSpec], after: Mapping[str, VnfDeploymentSpec]) -> Usage:
    """What an operation turning the specs ``before`` into ``after`` asks for."""
    return of_specs(after.values()) - of_specs(before.values())


# -- usage from the inventory ---------------------------------------------------------------
def _by_ns(repo: QuotaRepository, **where: Any) -> dict[str, Usage]:
    """Usage per NS instance of the VNFC rows selected by ``where``."""
    counts = repo.vnfc_counts(**where)
    specs = repo.vnf_specs(c.vnf_instance_id for c in counts)
    sizes: dict[tuple[str, str], tuple[int, int]] = {}
    for vnf_id, spec in specs.items():
        for vdu in spec.get("vdus") or []:
            sizes[(vnf_id, str(vdu.get("vdu_id")))] = (
                int(vdu.get("vcpus") or 0),
                int(vdu.get("ram_mib") or 0),
            )
    out: dict[str, Usage] = defaultdict(Usage)
    for c in counts:
        vcpus, ram = sizes.get((c.vnf_instance_id, c.vdu_id), (0, 0))
        out[c.ns_instance_id] += Usage(c.count * vcpus, c.count * ram, c.count)
    return out


def ns_usage(session: Session, ns_instance_id: str) -> Usage:
    """What the VNFCs of one NS instance hold now."""
    return _by_ns(QuotaRepository(session), ns_instance_id=ns_instance_id).get(
        ns_instance_id, Usage()
    )


def tenant_usage(session: Session, tenant_id: str) -> Usage:
    """What a tenant's NS instances hold now, an NS with an operation in flight counted
    for the more of what it holds and what its operation reserved."""
    repo = QuotaRepository(session)
    per_ns = _by_ns(repo, tenant_id=tenant_id)
    for r in repo.open_reservations(tenant_id):
        per_ns[r.ns_instance_id] = per_ns.get(r.ns_instance_id, Usage()).most(
            Usage(r.vcpus, r.ram_mib, r.instances)
        )
    total = Usage()
    for usage in per_ns.values():
        total += usage
    return total


def _check(row: QuotaRow, used: Usage, asked: Usage, subject: dict[str, Any]) -> None:
    for dim in DIMENSIONS:
        limit: int | None = getattr(row, f"max_{dim}")
        want, have = getattr(asked, dim), getattr(used, dim)
        if limit is None or want <= 0 or have + want <= limit:
            continue
        quota = "tenant" if row.scope == TENANT else "ns"
        who = f"tenant {row.subject_id}" if row.scope == TENANT else f"NS instance {row.subject_id}"
        raise QuotaExceeded(
            f"the operation needs {want} more {_API[dim]} but {who} uses {have} of its "
            f"{quota} quota of {limit}",
            quota=quota,
            dimension=_API[dim],
            limit=limit,
            inUse=have,
            requested=want,
            **subject,
        )


def reserve(
    session: Session,
    *,
    ns_instance_id: str,
    tenant_id: str | None,
    op_occ_id: str,
    asked: Usage,
) -> None:
    """Check the NS's and its tenant's quotas for an operation asking ``asked`` and reserve
    it, in the transaction that has just claimed the NS for ``op_occ_id``.

    QuotaExceeded (422) naming the quota, dimension, limit, usage and request when it does
    not fit; Contended when another operation of the tenant took quota concurrently (roll
    back, claim again). An operation that grows nothing is never refused."""
    if not asked.grows():
        return
    repo = QuotaRepository(session)
    tenant_quota = repo.get(TENANT, tenant_id) if tenant_id is not None else None
    ns_quota = repo.get(NS, ns_instance_id)
    if tenant_quota is None and ns_quota is None:
        return
    version = tenant_quota.version if tenant_quota is not None else 0
    used_ns = ns_usage(session, ns_instance_id)
    if ns_quota is not None:
        _check(ns_quota, used_ns, asked, {"nsInstanceId": ns_instance_id})
    if tenant_quota is not None and tenant_id is not None:
        used = tenant_usage(session, tenant_id)
        _check(tenant_quota, used, asked, {"tenantId": tenant_id})
    projected = used_ns + asked
    repo.reserve(
        QuotaReservationRow(
            ns_instance_id=ns_instance_id,
            op_occ_id=op_occ_id,
            tenant_id=tenant_id,
            vcpus=max(projected.vcpus, 0),
            ram_mib=max(projected.ram_mib, 0),
            instances=max(projected.instances, 0),
        )
    )
    if tenant_quota is not None and not repo.bump(tenant_quota.id, version):
        raise Contended(f"tenant {tenant_id}'s quota usage changed during the check")


# -- the API's use cases ---------------------------------------------------------------------
@dataclass(frozen=True)
class Limits:
    """The limits of a quota (None: unlimited)."""

    vcpus: int | None = None
    ram_mib: int | None = None
    instances: int | None = None


class QuotaService:
    """Read and set quotas (callers check who may: see the admin routes)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def view(
        self,
        scope: str,
        subject_id: str,
        tenant_id: str | None,
        row: QuotaRow | None = None,
        root: str = "",
    ) -> dict[str, Any]:
        """The quota of a subject (limits null when none is set) and its usage now
        (``root``: the server's public root, links are absolute)."""
        with self.db.session() as s:
            if row is None:
                row = QuotaRepository(s).get(scope, subject_id)
            if scope == TENANT:
                used = tenant_usage(s, subject_id)
            else:
                used = ns_usage(s, subject_id)
        path = "tenants" if scope == TENANT else "ns_instances"
        return {
            "id": row.id if row is not None else None,
            "scope": scope,
            "tenantId": tenant_id,
            "nsInstanceId": subject_id if scope == NS else None,
            "maxVcpus": row.max_vcpus if row is not None else None,
            "maxRamMib": row.max_ram_mib if row is not None else None,
            "maxInstances": row.max_instances if row is not None else None,
            "usage": used.view(),
            "_links": {"self": {"href": f"{root}/admin/v1/quotas/{path}/{subject_id}"}},
        }

    def put(
        self, scope: str, subject_id: str, tenant_id: str | None, limits: Limits, root: str = ""
    ) -> dict[str, Any]:
        """Set (create or replace) the limits of a subject's quota."""
        values = {
            "max_vcpus": limits.vcpus,
            "max_ram_mib": limits.ram_mib,
            "max_instances": limits.instances,
        }
        for _ in range(3):  # a concurrent first PUT of the same subject: update it instead
            try:
                with self.db.session() as s:
                    repo = QuotaRepository(s)
                    row = repo.get(scope, subject_id)
                    if row is None:
                        repo.add(
                            QuotaRow(
                                id=str(uuid.uuid4()),
                                scope=scope,
                                subject_id=subject_id,
                                tenant_id=tenant_id,
                                ns_instance_id=subject_id if scope == NS else None,
                                version=0,
                                **values,
                            )
                        )
                    else:
                        repo.set_limits(row.id, **values)
                break
            except IntegrityError:
                continue
        return self.view(scope, subject_id, tenant_id, root=root)

    def delete(self, scope: str, subject_id: str) -> None:
        """Remove a subject's quota (unlimited again); nothing to remove is no error."""
        with self.db.session() as s:
            QuotaRepository(s).delete(scope, subject_id)

    def page(self, tenant: str | None, query: PageQuery) -> list[QuotaRow]:
        """One page of the quotas the caller sees (its tenant's and its NSs')."""
        with self.db.session() as s:
            return QuotaRepository(s).page(tenant, query)

    def row_view(self, row: QuotaRow, root: str = "") -> dict[str, Any]:
        """The API view of a listed quota."""
        return self.view(row.scope, row.subject_id, row.tenant_id, row, root)
