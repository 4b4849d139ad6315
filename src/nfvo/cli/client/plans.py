"""``nfvo plan`` and ``nfvo capacity``: what-if placement questions (``/admin/v1/plans``,
``/admin/v1/capacity``, docs/whatif.md). Nothing is deployed or reserved."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from nfvo.cli.client.common import BodyOpt, OutputOpt, load_object, open_session
from nfvo.cli.client.errors import UsageError, handled
from nfvo.cli.client.output import Format, details, emit, table

PLANS = "/admin/v1/plans"
CAPACITY = "/admin/v1/capacity"
VIMS = "/admin/v1/vim_accounts"

VDU_COLUMNS = [
    ("VNF PROFILE", "vnfProfileId"),
    ("VNF#", "vnfIndex"),
    ("VDU", "vduId"),
    ("#", "index"),
    ("HOST", lambda r: r.get("host") or "-"),
    ("ZONE", lambda r: r.get("zone") or "-"),
    ("WHY NOT", lambda r: r.get("reason") or ""),
]
VIM_COLUMNS = [
    ("VIM", "vimAccountId"),
    ("STRATEGY", "strategy"),
    ("HOSTS USED", "objective"),
    ("LOWER BOUND", "lowerBound"),
    ("GAP", "gap"),
    ("PLACED", "placed"),
    ("UNPLACED", "unplaced"),
]


def _vim_id(s: Any, ref: str | None) -> str | None:
    return None if ref is None else s.find(VIMS, ref)["id"]


@handled
def plan(
    nsd: Annotated[str | None, typer.Option("--nsd", help="NSD id (nsdId) to instantiate.")] = None,
    ns: Annotated[
        str | None,
        typer.Option("--ns", help="NS instance id (NOT_INSTANTIATED, or with --scale)."),
    ] = None,
    flavour: Annotated[str | None, typer.Option("--flavour", help="NS deployment flavour.")] = None,
    level: Annotated[str | None, typer.Option("--level", help="NS instantiation level.")] = None,
    vim: Annotated[str | None, typer.Option("--vim", help="VIM account id or name.")] = None,
    scale: Annotated[
        str | None, typer.Option("--scale", help="A ScaleNsRequest: JSON/YAML text or @FILE.")
    ] = None,
    body: BodyOpt = None,
    output: OutputOpt = Format.table,
) -> None:
    """Where an instantiate (or a scale) would place each VDU instance, and why."""
    req = load_object(body, "--body")
    given = {"nsdId": nsd, "nsInstanceId": ns, "nsFlavourId": flavour}
    req |= {k: v for k, v in given.items() if v is not None}
    if level is not None:
        req["nsInstantiationLevelId"] = level
    if scale is not None:
        req["scale"] = load_object(scale, "--scale")
    if "nsdId" not in req and "nsInstanceId" not in req:
        raise UsageError("give --nsd (an NSD id) or --ns (an NS instance id)")
    with open_session() as s:
        vim_id = _vim_id(s, vim)
        if vim_id is not None:
            req.setdefault("additionalParamsForNs", {})["vimAccountId"] = vim_id
        out = s.post(PLANS, req).json()
    verdict = "feasible" if out.get("feasible") else "NOT feasible"
    summary = details(
        {"verdict": verdict, "rules": ", ".join(out.get("rulesSatisfied") or []) or "-"},
        [("PLAN", "verdict"), ("RULES KEPT", "rules")],
    )
    problem = out.get("problem") or {}
    why = details(problem, [("WHY", "detail")]) if problem else None
    emit(
        out,
        output,
        summary,
        table(out.get("vdus") or [], VDU_COLUMNS, title="VDU instances", empty="nothing to place"),
        table(out.get("vims") or [], VIM_COLUMNS, title="Per VIM") if out.get("vims") else None,
        why,
    )


@handled
def capacity(
    nsd: Annotated[str, typer.Option("--nsd", help="NSD id (nsdId).")],
    flavour: Annotated[str, typer.Option("--flavour", help="NS deployment flavour.")],
    vim: Annotated[str, typer.Option("--vim", help="VIM account id or name.")],
    level: Annotated[str | None, typer.Option("--level", help="NS instantiation level.")] = None,
    most: Annotated[int, typer.Option("--max", help="Stop counting at (1 to 1000).")] = 100,
    output: OutputOpt = Format.table,
) -> None:
    """How many more instances of an NS fit on a VIM now, and what stops the next one."""
    with open_session() as s:
        params: dict[str, Any] = {
            "nsdId": nsd,
            "nsFlavourId": flavour,
            "vimAccountId": _vim_id(s, vim),
            "max": most,
        }
        if level is not None:
            params["nsInstantiationLevelId"] = level
        out = s.get(CAPACITY, params=params)
    emit(
        out,
        output,
        details(out, [("FIT", "count"), ("LIMITED BY", "limitedBy"), ("STRATEGY", "strategy")]),
    )
