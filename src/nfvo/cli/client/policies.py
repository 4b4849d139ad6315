"""``nfvo policy``: auto-scaling policies (``/admin/v1/policies``, docs/autoscale.md)."""

from __future__ import annotations

from typing import Annotated

import typer

from nfvo.cli.client.common import (
    BodyOpt,
    OutputOpt,
    emit_list,
    emit_one,
    load_object,
    open_session,
)
from nfvo.cli.client.errors import UsageError, handled
from nfvo.cli.client.output import Format, details, emit

POLICIES = "/admin/v1/policies"
policy_app = typer.Typer(
    help="The policy engine: auto-scaling policies (list, show, create, delete) and its "
    "decisions (acted or declined, and why)."
)

COLUMNS = [
    ("ID", "id"),
    ("NAME", "name"),
    ("NS", "nsInstanceId"),
    ("VNF", lambda r: r.get("vnfInstanceId") or "-"),
    ("ASPECT", "aspectId"),
    ("METRIC", "metric"),
    ("OUT", lambda r: _rule(r, "Out")),
    ("IN", lambda r: _rule(r, "In")),
    ("COOLDOWN OUT/IN", lambda r: f"{r.get('scaleOutCooldown')}/{r.get('scaleInCooldown')} s"),
    ("ENABLED", "enabled"),
]


def _rule(r: dict, way: str) -> str:
    threshold = r.get(f"scale{way}Threshold")
    if threshold is None:
        return "-"
    return f"{r.get(f'scale{way}RelationalOperation')} {threshold}"


@policy_app.command("list")
@handled
def policy_list(output: OutputOpt = Format.table) -> None:
    """Auto-scaling policies."""
    emit_list(POLICIES, COLUMNS, output, "policies")


@policy_app.command("show")
@handled
def policy_show(
    policy: Annotated[str, typer.Argument(help="Policy id.")],
    output: OutputOpt = Format.table,
) -> None:
    """One policy."""
    emit_one(POLICIES, policy, COLUMNS, output)


@policy_app.command("create")
@handled
def policy_create(
    ns: Annotated[str | None, typer.Option("--ns", help="NS instance id.")] = None,
    vnf: Annotated[
        str | None, typer.Option("--vnf", help="VNF instance id (absent: an NS aspect).")
    ] = None,
    aspect: Annotated[str | None, typer.Option("--aspect", help="Scaling aspect id.")] = None,
    metric: Annotated[
        str | None, typer.Option("--metric", help="e.g. v_cpu_usage_mean_vnf or VCpuUsageMeanVnf.")
    ] = None,
    out: Annotated[float | None, typer.Option("--out", help="Scale-out threshold.")] = None,
    in_: Annotated[float | None, typer.Option("--in", help="Scale-in threshold.")] = None,
    window: Annotated[
        str | None, typer.Option("--window", help="Threshold time, e.g. '1 min' or 60.")
    ] = None,
    cooldown: Annotated[
        str | None, typer.Option("--cooldown", help="Cooldown of both directions, e.g. '5 min'.")
    ] = None,
    body: BodyOpt = None,
    output: OutputOpt = Format.table,
) -> None:
    """Create a policy (options, or a full request with --body; OSM names accepted)."""
    req = load_object(body, "--body")
    for key, value in (
        ("nsInstanceId", ns),
        ("vnfInstanceId", vnf),
        ("aspectId", aspect),
        ("metric", metric),
        ("scaleOutThreshold", out),
        ("scaleInThreshold", in_),
        ("thresholdTime", window),
        ("cooldown", cooldown),
    ):
        if value is not None:
            req[key] = value
    if "nsInstanceId" not in req:
        raise UsageError("give --ns NS_INSTANCE_ID (or nsInstanceId in --body)")
    with open_session() as s:
        item = s.request("POST", POLICIES, json=req).json()
    emit(item, output, details(item, COLUMNS))


@policy_app.command("delete")
@handled
def policy_delete(policy: Annotated[str, typer.Argument(help="Policy id.")]) -> None:
    """Delete a policy."""
    with open_session() as s:
        s.delete(f"{POLICIES}/{policy}")
