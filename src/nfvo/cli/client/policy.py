"""``nfvo policy decisions``: what the policy engine decided and why
(``/admin/v1/policy_decisions``),
and ``nfvo quota``: the quotas of a tenant or an NS instance (``/admin/v1/quotas``)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from nfvo.cli.client.common import OutputOpt, emit_one, open_session
from nfvo.cli.client.errors import ApiError, UsageError, handled
from nfvo.cli.client.output import Format, details, emit, table, when
from nfvo.cli.client.policies import policy_app
from nfvo.cli.client.progress import NS

DECISIONS = "/admin/v1/policy_decisions"
QUOTAS = "/admin/v1/quotas"

# the decision log joins the auto-scaling policies' group: `nfvo policy decisions`
quota_app = typer.Typer(help="Quotas per tenant and per NS instance (vCPU, RAM, instances).")

DECISION_COLUMNS = [
    ("WHEN", lambda d: when(d.get("createdAt"))),
    ("KIND", "kind"),
    ("ACTION", "action"),
    ("DECISION", "decision"),
    ("REASON", "reason"),
    ("NS INSTANCE", "nsInstanceId"),
    ("POLICY", "policyId"),
    ("OPERATION", "nsLcmOpOccId"),
]
DECISION_DETAILS = [("ID", "id"), *DECISION_COLUMNS, ("DETAIL", "detail"), ("INPUTS", "inputs")]
QUOTA_COLUMNS = [
    ("SCOPE", "scope"),
    ("TENANT", "tenantId"),
    ("NS INSTANCE", "nsInstanceId"),
    ("vCPU", lambda q: _of(q, "maxVcpus", "vcpus")),
    ("RAM MiB", lambda q: _of(q, "maxRamMib", "ramMib")),
    ("INSTANCES", lambda q: _of(q, "maxInstances", "instances")),
]


def _of(quota: dict[str, Any], limit: str, used: str) -> str:
    """``used / limit`` (``-``: unlimited)."""
    cap = quota.get(limit)
    return f"{(quota.get('usage') or {}).get(used, 0)} / {'-' if cap is None else cap}"


def _ns_id(s: Any, ns: str) -> str:
    """The id of an NS named by id or name (a deleted NS: the id as given)."""
    try:
        return str(s.find(NS, ns, ("nsInstanceName",))["id"])
    except ApiError as exc:
        if exc.status != 404:
            raise
        return ns


@policy_app.command("decisions")
@handled
def decisions(
    ns: Annotated[
        str | None, typer.Option("--ns", help="Only the decisions about this NS (id or name).")
    ] = None,
    reason: Annotated[
        str | None,
        typer.Option(help="Only this reason (ACTED, COOLDOWN, IN_FLIGHT, MAX_LEVEL, QUOTA, ...)."),
    ] = None,
    kind: Annotated[
        str | None, typer.Option(help="Only this kind (AUTO_SCALE, AUTO_HEAL, WINDOW, QUOTA).")
    ] = None,
    policy: Annotated[str | None, typer.Option("--policy", help="Only this policy id.")] = None,
    output: OutputOpt = Format.table,
) -> None:
    """Decisions of the policy engine, oldest first."""
    filters = [f"(eq,reason,{reason.upper()})"] if reason else []
    if kind:
        filters.append(f"(eq,kind,{kind.upper()})")
    if policy:
        filters.append(f"(eq,policyId,{policy})")
    with open_session() as s:
        if ns:
            filters.append(f"(eq,nsInstanceId,{_ns_id(s, ns)})")
        rows = s.list(DECISIONS, params={"filter": ";".join(filters)} if filters else None)
    emit(rows, output, table(rows, DECISION_COLUMNS, empty="no decisions"))


@policy_app.command("decision")
@handled
def decision(
    decision_id: Annotated[str, typer.Argument(help="Decision id.")],
    output: OutputOpt = Format.table,
) -> None:
    """One decision, with its detail and the inputs it evaluated."""
    emit_one(DECISIONS, decision_id, DECISION_DETAILS, output)


def _subject(tenant: str | None, ns: str | None, s: Any) -> str:
    if (tenant is None) == (ns is None):
        raise UsageError("give exactly one of --tenant and --ns")
    if tenant is not None:
        return f"{QUOTAS}/tenants/{s.find('/admin/v1/tenants', tenant)['id']}"
    return f"{QUOTAS}/ns_instances/{s.find(NS, ns, ('nsInstanceName',))['id']}"


TenantOpt = Annotated[str | None, typer.Option("--tenant", help="A tenant (id or name).")]
NsOpt = Annotated[str | None, typer.Option("--ns", help="An NS instance (id or name).")]


@quota_app.command("list")
@handled
def quota_list(output: OutputOpt = Format.table) -> None:
    """The quotas you can see, with what each subject uses now."""
    with open_session() as s:
        rows = s.list(QUOTAS)
    emit(rows, output, table(rows, QUOTA_COLUMNS, empty="no quotas"))


@quota_app.command("show")
@handled
def quota_show(
    tenant: TenantOpt = None, ns: NsOpt = None, output: OutputOpt = Format.table
) -> None:
    """The quota of a tenant or an NS instance (unlimited when none is set) and its usage."""
    with open_session() as s:
        item = s.get(_subject(tenant, ns, s))
    emit(item, output, details(item, QUOTA_COLUMNS))


@quota_app.command("set")
@handled
def quota_set(
    tenant: TenantOpt = None,
    ns: NsOpt = None,
    vcpus: Annotated[int | None, typer.Option(help="Most vCPUs (omit: unlimited).")] = None,
    ram_mib: Annotated[int | None, typer.Option(help="Most RAM in MiB (omit: unlimited).")] = None,
    instances: Annotated[int | None, typer.Option(help="Most VNFCs (omit: unlimited).")] = None,
    output: OutputOpt = Format.table,
) -> None:
    """Set the quota of a tenant (global admins) or an NS instance (operators)."""
    body = {"maxVcpus": vcpus, "maxRamMib": ram_mib, "maxInstances": instances}
    with open_session() as s:
        item = s.request("PUT", _subject(tenant, ns, s), json=body).json()
    emit(item, output, details(item, QUOTA_COLUMNS))
