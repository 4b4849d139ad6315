"""``nfvo sub``: NS LCM notification subscriptions (``nslcm/v2/subscriptions``)."""

from __future__ import annotations

from typing import Annotated, Any

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
from nfvo.cli.client.output import Format, details, emit, note

SUBS = "/nslcm/v2/subscriptions"
sub_app = typer.Typer(help="Notification subscriptions: list, create, show, delete.")

COLUMNS = [
    ("ID", "id"),
    ("CALLBACK", "callbackUri"),
    ("VERBOSITY", "verbosity"),
    ("FILTER", "filter"),
]
Many = list[str] | None


@sub_app.command("list")
@handled
def sub_list(output: OutputOpt = Format.table) -> None:
    """Subscriptions."""
    emit_list(SUBS, COLUMNS, output, "subscriptions")


@sub_app.command("show")
@handled
def sub_show(
    sub: Annotated[str, typer.Argument(help="Subscription id.")],
    output: OutputOpt = Format.table,
) -> None:
    """One subscription."""
    emit_one(SUBS, sub, COLUMNS, output)


@sub_app.command("create")
@handled
def sub_create(
    callback: Annotated[
        str | None,
        typer.Option("--callback", help="http(s) URL; it must answer a test GET with 204."),
    ] = None,
    ns: Annotated[Many, typer.Option("--ns", help="Only these NS instance ids.")] = None,
    notification_type: Annotated[
        Many,
        typer.Option(
            "--type", help="Notification types, e.g. NsLcmOperationOccurrenceNotification."
        ),
    ] = None,
    operation: Annotated[
        Many, typer.Option("--operation", help="Operation types (INSTANTIATE, SCALE, ...).")
    ] = None,
    state: Annotated[
        Many, typer.Option("--state", help="Operation states (COMPLETED, FAILED_TEMP, ...).")
    ] = None,
    verbosity: Annotated[str | None, typer.Option(help="FULL (default) or SHORT.")] = None,
    basic_auth: Annotated[
        str | None,
        typer.Option("--basic-auth", help="USER:PASSWORD nfvo sends to the callback."),
    ] = None,
    body: BodyOpt = None,
    output: OutputOpt = Format.table,
) -> None:
    """Subscribe a callback URL to NS life-cycle notifications."""
    req = load_object(body, "--body")
    if callback:
        req["callbackUri"] = callback
    if "callbackUri" not in req:
        raise UsageError("give --callback URL (or callbackUri in --body)")
    flt: dict[str, Any] = dict(req.get("filter") or {})
    if ns:
        flt["nsInstanceSubscriptionFilter"] = {"nsInstanceIds": list(ns)}
    for key, values in (
        ("notificationTypes", notification_type),
        ("operationTypes", operation),
        ("operationStates", state),
    ):
        if values:
            flt[key] = list(values)
    if flt:
        req["filter"] = flt
    if verbosity:
        req["verbosity"] = verbosity
    if basic_auth:
        user, sep, password = basic_auth.partition(":")
        if not sep:
            raise UsageError("--basic-auth must be USER:PASSWORD")
        req["authentication"] = {
            "authType": ["BASIC"],
            "paramsBasic": {"userName": user, "password": password},
        }
    with open_session() as s:
        r = s.request("POST", SUBS, json=req)
        if r.status_code == 303:  # an equal subscription exists (SOL005 §6.4.16.3.1)
            item = s.get(r.headers["location"])
            note(output, f"An identical subscription exists: {item['id']}.")
        else:
            item = r.json()
    emit(item, output, details(item, COLUMNS))


@sub_app.command("delete")
@handled
def sub_delete(sub: Annotated[str, typer.Argument(help="Subscription id.")]) -> None:
    """Delete a subscription."""
    with open_session() as s:
        s.delete(f"{SUBS}/{sub}")
    note(Format.table, f"Deleted subscription {sub}.")
