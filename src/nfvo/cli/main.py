"""``nfvo`` command line: ``serve`` runs the API, ``demo`` shows it working end to end, and
the client commands (``login``, ``vim``, ``pkg``, ``nsd``, ``ns``, ``op``...) drive a running
server over its REST API (see :mod:`nfvo.cli.client`)."""

from __future__ import annotations

import ipaddress
import logging
import os
from pathlib import Path
from typing import Annotated

import typer

from nfvo import __version__
from nfvo.cli import helpfmt
from nfvo.cli.client import context, register
from nfvo.config import Settings, SettingsError

helpfmt.install()

app = typer.Typer(
    name="nfvo",
    help="nfvo: an ETSI NFV Orchestrator (SOL005 APIs). `serve` runs it; the client commands "
    "drive a running server (`nfvo login` first, or NFVO_URL/NFVO_USER/NFVO_PASSWORD).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Data directory (SQLite file, scratch). Default ~/.nfvo"),
]


def is_loopback(host: str) -> bool:
    """Whether ``host`` only listens on the local machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _print_version(value: bool) -> None:
    if value:
        typer.echo(__version__)
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", is_eager=True, callback=_print_version
        ),
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks of client errors (also NFVO_DEBUG=1).")
    ] = False,
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile", "-p", help="Server profile kept by `nfvo login` (also NFVO_PROFILE)."
        ),
    ] = None,
) -> None:
    """nfvo: an ETSI NFV Orchestrator (SOL005 APIs): the server, and a client for its API."""
    context.reset(debug=debug, profile=profile)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8080,
    data_dir: DataDir = None,
    no_auth: Annotated[
        bool, typer.Option("--no-auth", help="Disable authentication (loopback hosts only).")
    ] = False,
    log_level: Annotated[str, typer.Option(help="Log level.")] = "info",
    role: Annotated[
        str,
        typer.Option(
            help="all: API and operations; api: API only (operations queued); "
            "worker: operations only (set a unique NFVO_EXECUTOR_ID per worker)."
        ),
    ] = "all",
) -> None:
    """Run nfvo (embedded SQLite by default; NFVO_DATABASE_URL for PostgreSQL)."""
    from nfvo.runtime import ROLES
    from nfvo.runtime import serve as run

    if no_auth and not is_loopback(host):
        typer.echo(
            f"error: --no-auth is refused on {host}: it would expose an unauthenticated API. "
            "Use a loopback host (127.0.0.1, ::1) or drop --no-auth.",
            err=True,
        )
        raise typer.Exit(2)
    if role not in ROLES:
        typer.echo(f"error: --role must be all, api or worker (got {role!r})", err=True)
        raise typer.Exit(2)
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = Settings.from_env(data_dir=data_dir, auth_enabled=not no_auth, role=role)
    except SettingsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    run(settings, host=host, port=port, log_level=log_level)


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="TCP port (0 picks a free one).")] = 8080,
    data_dir: DataDir = None,
    exit_after: Annotated[
        bool, typer.Option("--exit", help="Exit after the tour instead of serving until Ctrl-C.")
    ] = False,
) -> None:
    """Start nfvo on the embedded default, onboard the sample packages, and keep serving."""
    from nfvo.cli.demo import run_demo

    raise typer.Exit(run_demo(port=port, data_dir=data_dir, exit_after=exit_after))


register(app)


def main() -> None:  # pragma: no cover - console entry
    """Console entry point."""
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    app()
