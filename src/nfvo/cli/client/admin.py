"""``nfvo tenant`` and ``nfvo user``: tenants and API clients (``/admin/v1``)."""

from __future__ import annotations

from typing import Annotated

import typer

from nfvo.cli.client.common import OutputOpt, emit_list, open_session
from nfvo.cli.client.errors import handled
from nfvo.cli.client.output import Format, details, emit, note, when

TENANTS = "/admin/v1/tenants"
USERS = "/admin/v1/users"

tenant_app = typer.Typer(help="Tenants (projects isolating VIMs, packages, NSs).")
user_app = typer.Typer(help="API clients (client-credentials users) and their roles.")

TENANT_COLUMNS = [
    ("ID", "id"),
    ("NAME", "name"),
    ("DESCRIPTION", "description"),
    ("CREATED", lambda t: when((t.get("_admin") or {}).get("created"))),
]
USER_COLUMNS = [("CLIENT ID", "clientId"), ("ROLE", "role"), ("TENANT", "tenantId")]


@tenant_app.command("list")
@handled
def tenant_list(output: OutputOpt = Format.table) -> None:
    """Tenants you can see."""
    emit_list(TENANTS, TENANT_COLUMNS, output, "tenants")


@tenant_app.command("create")
@handled
def tenant_create(
    name: Annotated[str, typer.Option("--name", help="Tenant name (unique).")],
    description: Annotated[str | None, typer.Option(help="Free text.")] = None,
    output: OutputOpt = Format.table,
) -> None:
    """Create a tenant (global admins only)."""
    body = {"name": name} | ({"description": description} if description else {})
    with open_session() as s:
        tenant = s.post(TENANTS, body).json()
    emit(tenant, output, details(tenant, TENANT_COLUMNS))


@tenant_app.command("show")
@handled
def tenant_show(
    tenant: Annotated[str, typer.Argument(help="Tenant id or name.")],
    output: OutputOpt = Format.table,
) -> None:
    """One tenant."""
    with open_session() as s:
        item = s.find(TENANTS, tenant)
    emit(item, output, details(item, TENANT_COLUMNS))


@tenant_app.command("delete")
@handled
def tenant_delete(tenant: Annotated[str, typer.Argument(help="Tenant id or name.")]) -> None:
    """Delete a tenant (refused while it owns anything)."""
    with open_session() as s:
        item = s.find(TENANTS, tenant)
        s.delete(f"{TENANTS}/{item['id']}")
    note(Format.table, f"Deleted tenant {item['name']} ({item['id']}).")


@user_app.command("list")
@handled
def user_list(output: OutputOpt = Format.table) -> None:
    """API clients you can see (secrets are never shown)."""
    emit_list(USERS, USER_COLUMNS + [("DISABLED", "disabled")], output, "users")


@user_app.command("create")
@handled
def user_create(
    client_id: Annotated[str, typer.Argument(help="Client id (letters, digits, _ . @ -).")],
    role: Annotated[str, typer.Option(help="reader, operator or admin.")] = "reader",
    tenant: Annotated[
        str | None, typer.Option(help="Tenant id or name the client belongs to.")
    ] = None,
    secret: Annotated[
        str | None,
        typer.Option(help="Client secret (8+ characters; generated when not given)."),
    ] = None,
    output: OutputOpt = Format.table,
) -> None:
    """Create an API client; its secret is shown once."""
    body: dict[str, str] = {"clientId": client_id, "role": role}
    if secret:
        body["clientSecret"] = secret
    with open_session() as s:
        if tenant:
            body["tenantId"] = s.find(TENANTS, tenant)["id"]
        created = s.post(USERS, body).json()
    emit(
        created,
        output,
        details(created, USER_COLUMNS + [("SECRET", "clientSecret")]),
    )
    if output is Format.table:
        note(output, "The secret is shown only now; keep it.", style="yellow")


@user_app.command("delete")
@handled
def user_delete(client_id: Annotated[str, typer.Argument(help="Client id.")]) -> None:
    """Delete an API client (not the one you are logged in as)."""
    with open_session() as s:
        s.delete(f"{USERS}/{client_id}")
    note(Format.table, f"Deleted API client {client_id}.")
