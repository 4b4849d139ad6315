"""``nfvo window``: availability windows (``/admin/v1/availability_windows``,
docs/availability-windows.md): when a host, zone or VIM account is available, then sleeps."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from nfvo.cli.client.common import OutputOpt, emit_list, emit_one, open_session
from nfvo.cli.client.errors import UsageError, handled
from nfvo.cli.client.output import Format, details, emit, when

WINDOWS = "/admin/v1/availability_windows"
VIMS = "/admin/v1/vim_accounts"
window_app = typer.Typer(help="Availability windows: create, list, show, cancel.")


def _resource(w: dict[str, Any]) -> str:
    if w.get("hostName"):
        return f"host {w['hostName']}"
    if w.get("zoneName"):
        return f"zone {w['zoneName']}"
    return "whole VIM"


def _next(w: dict[str, Any]) -> str:
    nxt = w.get("nextEvent") or {}
    return f"{nxt['event']} at {when(nxt['at'])}" if nxt else "-"


def _when(w: dict[str, Any]) -> str:
    rec = w.get("recurrence")
    if rec:
        return f"{rec['cron']} for {rec['duration']:g} s ({rec['timeZone']})"
    return f"{when(w.get('start'))} .. {when(w.get('end'))}"


COLUMNS = [
    ("ID", "id"),
    ("VIM", "vimAccountId"),
    ("RESOURCE", _resource),
    ("STATE", "state"),
    ("AVAILABLE", _when),
    ("NEXT", _next),
]
DETAILS = COLUMNS + [
    ("NAME", "name"),
    ("NOTICE (S)", "noticeSeconds"),
    ("ACTION PLAN", "actionPlanId"),
    ("DETAIL", "detail"),
    ("TENANT", "tenantId"),
]
WindowArg = Annotated[str, typer.Argument(help="Availability window id.")]


@window_app.command("list")
@handled
def window_list(output: OutputOpt = Format.table) -> None:
    """Availability windows you can see."""
    emit_list(WINDOWS, COLUMNS, output, "availability windows")


@window_app.command("show")
@handled
def window_show(window: WindowArg, output: OutputOpt = Format.table) -> None:
    """One availability window."""
    emit_one(WINDOWS, window, DETAILS, output)


@window_app.command("create")
@handled
def window_create(
    vim: Annotated[str, typer.Option("--vim", help="VIM account id or name.")],
    host: Annotated[str | None, typer.Option("--host", help="The host it covers.")] = None,
    zone: Annotated[str | None, typer.Option("--zone", help="The zone it covers.")] = None,
    start: Annotated[str | None, typer.Option(help="ISO 8601 date-time (default now).")] = None,
    end: Annotated[str | None, typer.Option(help="ISO 8601 end of a one-shot window.")] = None,
    duration: Annotated[
        str | None, typer.Option(help="Length of a one-shot window (P30D, '30 d').")
    ] = None,
    cron: Annotated[str | None, typer.Option(help="Recurrence: cron (0 8 * * 1-5).")] = None,
    every_for: Annotated[
        str | None, typer.Option("--for", help="Recurrence: occurrence length (PT10H).")
    ] = None,
    tz: Annotated[str, typer.Option("--tz", help="Recurrence: IANA time zone.")] = "UTC",
    notice: Annotated[str | None, typer.Option(help="Notice before each end (60 min).")] = None,
    name: Annotated[str | None, typer.Option(help="A label.")] = None,
    output: OutputOpt = Format.table,
) -> None:
    """Create a window: available from start to end (or during each cron occurrence), then
    drained and asleep."""
    if (cron is None) != (every_for is None):
        raise UsageError("a recurrence needs both --cron and --for")
    body: dict[str, Any] = {}
    given = {
        "hostName": host,
        "zoneName": zone,
        "start": start,
        "end": end,
        "duration": duration,
        "notice": notice,
        "name": name,
    }
    body |= {k: v for k, v in given.items() if v is not None}
    if cron is not None:
        body["recurrence"] = {"cron": cron, "duration": every_for, "timeZone": tz}
    with open_session() as s:
        body["vimAccountId"] = s.find(VIMS, vim)["id"]
        item = s.post(WINDOWS, body).json()
    emit(item, output, details(item, DETAILS))


@window_app.command("cancel")
@handled
def window_cancel(window: WindowArg, output: OutputOpt = Format.table) -> None:
    """Cancel a window: its resource wakes up."""
    with open_session() as s:
        item = s.request("DELETE", f"{WINDOWS}/{window}").json()
    emit(item, output, details(item, DETAILS))
