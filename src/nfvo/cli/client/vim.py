"""``nfvo vim``: VIM accounts (``/admin/v1/vim_accounts``): register, check, sync, inspect."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from nfvo.cli.client import metrics
from nfvo.cli.client.admin import TENANTS
from nfvo.cli.client.common import (
    DEFAULT_WAIT_TIMEOUT,
    OutputOpt,
    TimeoutOpt,
    WaitOpt,
    emit_list,
    load_object,
    open_session,
)
from nfvo.cli.client.errors import handled
from nfvo.cli.client.output import Format, details, emit, note, table, when
from nfvo.cli.client.progress import wait_state
from nfvo.cli.client.session import ApiSession

VIMS = "/admin/v1/vim_accounts"
vim_app = typer.Typer(help="VIM accounts: register, list, show, sync, update, delete.")


class VimType(StrEnum):
    """VIM drivers nfvo ships."""

    sim = "sim"
    openstack = "openstack"
    kubernetes = "kubernetes"


def _state(v: dict[str, Any]) -> str:
    return (v.get("_admin") or {}).get("operationalState") or "-"


COLUMNS = [
    ("ID", "id"),
    ("NAME", "name"),
    ("TYPE", "vim_type"),
    ("STATE", _state),
    ("URL", "vim_url"),
    ("TENANT", "tenant_id"),
]
DETAILS = COLUMNS + [
    ("VIM USER", "vim_user"),
    ("VIM PROJECT", "vim_tenant_name"),
    ("DESCRIPTION", "description"),
    ("STATUS DETAIL", lambda v: (v.get("_admin") or {}).get("detailed-status")),
    ("LAST SYNC", lambda v: when((v.get("_admin") or {}).get("lastSync"))),
    ("CONFIG", "config"),
]
VimArg = Annotated[str, typer.Argument(help="VIM account id or name.")]
ConfigOpt = Annotated[
    str | None,
    typer.Option(
        "--config", help="Driver configuration: JSON/YAML text or @FILE (see docs/resources.md)."
    ),
]


def find_vim(s: ApiSession, ref: str) -> dict[str, Any]:
    """A VIM account by id or name."""
    return s.find(VIMS, ref)


def _given(
    url: str | None,
    user: str | None,
    password: str | None,
    tenant: str | None,
    description: str | None,
) -> dict[str, str]:
    """The account fields of ``register`` / ``update`` options that were given."""
    fields = {
        "vim_url": url,
        "vim_user": user,
        "vim_password": password,
        "vim_tenant_name": tenant,
        "description": description,
    }
    return {key: value for key, value in fields.items() if value is not None}


def _wait_vim(s: ApiSession, vim: dict[str, Any], fmt: Format, timeout: float) -> dict[str, Any]:
    return wait_state(
        f"VIM {vim['name']}",
        lambda: s.get(f"{VIMS}/{vim['id']}"),
        _state,
        running=frozenset({"PROCESSING"}),
        success="ENABLED",
        problem_of=lambda v: {
            "title": "VIM check failed",
            "detail": (v.get("_admin") or {}).get("detailed-status") or "no detail",
        },
        hint=f"fix the account (`nfvo vim update {vim['name']} ...`), it is checked again",
        fmt=fmt,
        timeout=timeout,
    )


@vim_app.command("register")
@handled
def register(
    name: Annotated[str, typer.Option("--name", help="Account name (unique per tenant).")],
    vim_type: Annotated[VimType, typer.Option("--type", help="VIM driver.")],
    url: Annotated[str | None, typer.Option(help="VIM endpoint (Keystone, API server).")] = None,
    user: Annotated[str | None, typer.Option(help="VIM user.")] = None,
    password: Annotated[str | None, typer.Option(help="VIM password (stored encrypted).")] = None,
    tenant: Annotated[
        str | None, typer.Option(help="VIM project/tenant name (vim_tenant_name).")
    ] = None,
    description: Annotated[str | None, typer.Option(help="Free text.")] = None,
    config: ConfigOpt = None,
    owner: Annotated[
        str | None, typer.Option(help="nfvo tenant (id or name) owning the account.")
    ] = None,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = DEFAULT_WAIT_TIMEOUT,
    output: OutputOpt = Format.table,
) -> None:
    """Register a VIM account; it is checked and synced in the background (--wait for it)."""
    body: dict[str, Any] = {"name": name, "vim_type": vim_type.value}
    body |= _given(url, user, password, tenant, description)
    body["config"] = load_object(config, "--config")
    with open_session() as s:
        if owner:
            body["tenant_id"] = s.find(TENANTS, owner)["id"]
        vim = s.post(VIMS, body).json()
        if wait:
            vim = _wait_vim(s, vim, output, timeout)
    emit(vim, output, details(vim, DETAILS))


@vim_app.command("list")
@handled
def vim_list(output: OutputOpt = Format.table) -> None:
    """VIM accounts you can see."""
    emit_list(VIMS, COLUMNS, output, "VIM accounts")


@vim_app.command("show")
@handled
def vim_show(
    vim: VimArg,
    output: OutputOpt = Format.table,
) -> None:
    """One VIM account, and the current metrics of its hosts ("no data" when nothing was
    measured)."""
    usage = None
    with open_session() as s:
        item = find_vim(s, vim)
        if output is Format.table:
            usage = metrics.fetch(s, f"{VIMS}/{item['id']}/metrics")
    emit(item, output, details(item, DETAILS), *metrics.vim_tables(usage))


@vim_app.command("resources")
@handled
def vim_resources(
    vim: VimArg,
    output: OutputOpt = Format.table,
) -> None:
    """Zones and hosts (as last synced) and the servers nfvo owns there."""
    with open_session() as s:
        item = find_vim(s, vim)
        res = s.get(f"{VIMS}/{item['id']}/resources")
    hosts = table(
        res.get("hosts") or [],
        [
            ("HOST", "name"),
            ("ZONE", "zone"),
            ("STATE", "state"),
            ("vCPU USED/CAP", lambda h: f"{h['usage']['vcpus']}/{h['capacity']['vcpus']}"),
            ("RAM MiB USED/CAP", lambda h: f"{h['usage']['ramMib']}/{h['capacity']['ramMib']}"),
            ("SERVERS", "usage.servers"),
        ],
        title=f"Hosts of {item['name']} (last sync {when(res.get('lastSync'))})",
    )
    servers = table(
        res.get("servers") or [],
        [
            ("SERVER", "name"),
            ("STATUS", "status"),
            ("HOST", "host"),
            ("ZONE", "zone"),
            ("NS", "nsInstanceId"),
            ("VNF", "vnfInstanceId"),
        ],
        title="Servers owned by nfvo",
        empty="no servers owned by nfvo",
    )
    emit(res, output, hosts, servers)


@vim_app.command("sync")
@handled
def vim_sync(
    vim: VimArg,
    output: OutputOpt = Format.table,
) -> None:
    """Read zones, hosts, flavors, images and networks from the VIM now."""
    with open_session() as s:
        item = find_vim(s, vim)
        out = s.post(f"{VIMS}/{item['id']}/sync").json()
    counts = out.get("synced") or {}
    emit(out, output, table([counts], [(k.upper(), k) for k in counts], title="Synced"))


@vim_app.command("update")
@handled
def vim_update(
    vim: VimArg,
    name: Annotated[str | None, typer.Option(help="New name.")] = None,
    url: Annotated[str | None, typer.Option(help="New endpoint.")] = None,
    user: Annotated[str | None, typer.Option(help="New VIM user.")] = None,
    password: Annotated[str | None, typer.Option(help="New VIM password.")] = None,
    tenant: Annotated[str | None, typer.Option(help="New VIM project name.")] = None,
    description: Annotated[str | None, typer.Option(help="New description.")] = None,
    config: Annotated[
        str | None,
        typer.Option(
            "--config",
            help="Config keys to merge (null removes a key): JSON/YAML text or @FILE. For the "
            'sim VIM e.g. \'{"faults": {"server_create": {"error_rate": 1.0}}}\'.',
        ),
    ] = None,
    wait: WaitOpt = False,
    timeout: TimeoutOpt = DEFAULT_WAIT_TIMEOUT,
    output: OutputOpt = Format.table,
) -> None:
    """Change a VIM account; it is checked and synced again."""
    body: dict[str, Any] = {"name": name} if name is not None else {}
    body |= _given(url, user, password, tenant, description)
    if config is not None:
        body["config"] = load_object(config, "--config")
    with open_session() as s:
        item = find_vim(s, vim)
        updated = s.patch(f"{VIMS}/{item['id']}", body)
        if wait:
            updated = _wait_vim(s, updated, output, timeout)
    emit(updated, output, details(updated, DETAILS))


@vim_app.command("delete")
@handled
def vim_delete(
    vim: VimArg,
    force: Annotated[
        bool, typer.Option("--force", help="Delete even if nfvo resources remain on it.")
    ] = False,
) -> None:
    """Delete a VIM account (refused while nfvo still has resources on it)."""
    with open_session() as s:
        item = find_vim(s, vim)
        s.delete(f"{VIMS}/{item['id']}", params={"force": "true"} if force else None)
    note(Format.table, f"Deleted VIM account {item['name']} ({item['id']}).")
