"""The ``nfvo`` client commands: a command line for the REST API of a running nfvo.

``register`` adds them to the root typer app: ``login``/``logout``, and one group per API
resource (``vim``, ``pkg``, ``nsd``, ``ns``, ``op``, ``sub``, ``tenant``, ``user``,
``profile``, ``policy``, ``quota``). The modules import only the HTTP client, rich and typer
(plus the CSAR builder for ``pkg build``), so a command starts fast and never needs the
server's code.
"""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the client commands to ``app``."""
    from nfvo.cli.client import (
        admin,
        auth,
        ns,
        ops,
        packages,
        plans,
        policies,
        policy,
        subscriptions,
        vim,
    )

    app.command(rich_help_panel="Client")(auth.login)
    app.command(rich_help_panel="Client")(auth.logout)
    app.command(rich_help_panel="Client")(plans.plan)
    app.command(rich_help_panel="Client")(plans.capacity)
    groups = (
        ("vim", vim.vim_app),
        ("pkg", packages.pkg_app),
        ("nsd", packages.nsd_app),
        ("ns", ns.ns_app),
        ("op", ops.op_app),
        ("sub", subscriptions.sub_app),
        ("policy", policies.policy_app),
        ("tenant", admin.tenant_app),
        ("user", admin.user_app),
        ("profile", auth.profile_app),
        ("quota", policy.quota_app),
    )
    for name, group in groups:
        group.info.no_args_is_help = True
        app.add_typer(group, name=name, rich_help_panel="Client")
