"""``nfvo login``, ``nfvo logout`` and ``nfvo profile``: which server, as whom."""

from __future__ import annotations

import os
import sys
import time
from typing import Annotated

import typer

from nfvo.cli.client import context
from nfvo.cli.client.config import DEFAULT_PROFILE, DEFAULT_URL, ConfigFile, Profile, normalize_url
from nfvo.cli.client.errors import UsageError, handled
from nfvo.cli.client.output import Format, emit, note, table
from nfvo.cli.client.session import fetch_token

profile_app = typer.Typer(help="Server profiles kept by `nfvo login`.", no_args_is_help=True)

ProfileOpt = Annotated[
    str | None,
    typer.Option("--profile", "-p", help="Profile name (default: NFVO_PROFILE, or 'default')."),
]


def _password(password: str | None, from_stdin: bool) -> str:
    if from_stdin:
        value = sys.stdin.readline().rstrip("\r\n")
        if not value:
            raise UsageError("--password-stdin read an empty line")
        return value
    if password:
        return password
    if os.environ.get("NFVO_PASSWORD"):
        return os.environ["NFVO_PASSWORD"]
    if sys.stdin.isatty():
        return typer.prompt("Password", hide_input=True)
    raise UsageError(
        "no password: give --password, --password-stdin or NFVO_PASSWORD",
        hint="e.g. printf '%s' \"$PW\" | nfvo login --user admin --password-stdin",
    )


@handled
def login(
    url: Annotated[
        str | None,
        typer.Option(help=f"Server URL (default: NFVO_URL, the profile's, or {DEFAULT_URL})."),
    ] = None,
    user: Annotated[
        str | None, typer.Option("--user", "-u", help="Client id (default: NFVO_USER, 'admin').")
    ] = None,
    password: Annotated[
        str | None,
        typer.Option(
            "--password", help="Secret (visible to other local users in `ps`; prefer stdin)."
        ),
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the secret from the first stdin line.")
    ] = False,
    profile: ProfileOpt = None,
) -> None:
    """Get a token and keep it (0600 file in ~/.config/nfvo) for the next commands; the
    profile (--profile, NFVO_PROFILE, else the current one, else 'default') becomes current."""
    config = ConfigFile.load()
    name = (
        profile
        or context.STATE.profile
        or os.environ.get("NFVO_PROFILE")
        or config.current
        or DEFAULT_PROFILE
    )
    known = config.profiles.get(name)
    base = normalize_url(
        url or os.environ.get("NFVO_URL") or (known.url if known else None) or DEFAULT_URL
    )
    who = user or os.environ.get("NFVO_USER") or (known.user if known else None) or "admin"
    secret = _password(password, password_stdin)
    token, expires_at = fetch_token(base, who, secret)
    config.profiles[name] = Profile(name, base, who, token, expires_at)
    config.current = name
    config.save()
    valid = f", valid {int((expires_at - time.time()) / 60)} min" if expires_at else ""
    note(Format.table, f"Logged in to {base} as {who} (profile {name}{valid}).")
    note(Format.table, f"Token kept in {config.path}.", style="dim")


@handled
def logout(profile: ProfileOpt = None) -> None:
    """Forget the token of a profile (the URL and user stay)."""
    config = ConfigFile.load()
    name = profile or context.STATE.profile or os.environ.get("NFVO_PROFILE") or config.current
    found = config.profiles.get(name or "")
    if found is None:
        raise UsageError(f"no profile named {name!r}")
    found.token, found.expires_at = None, None
    config.save()
    note(Format.table, f"Logged out of {found.url} (profile {name}).")


@profile_app.command("list")
@handled
def profile_list(
    output: Annotated[Format, typer.Option("--output", "-o", help="table, json or yaml")] = (
        Format.table
    ),
) -> None:
    """Profiles, the current one marked with *."""
    config = ConfigFile.load()
    now = time.time()
    rows = [
        {
            "name": p.name,
            "current": p.name == config.current,
            "url": p.url,
            "user": p.user,
            "loggedIn": p.token_valid(now),
            "expiresAt": p.expires_at,
        }
        for p in config.profiles.values()
    ]
    emit(
        rows,
        output,
        table(
            rows,
            [
                ("", lambda r: "*" if r["current"] else ""),
                ("PROFILE", "name"),
                ("URL", "url"),
                ("USER", "user"),
                ("LOGGED IN", "loggedIn"),
            ],
            empty="no profiles (nfvo login makes one)",
        ),
    )


@profile_app.command("use")
@handled
def profile_use(name: Annotated[str, typer.Argument(help="Profile to make current.")]) -> None:
    """Make a profile the current one."""
    config = ConfigFile.load()
    if name not in config.profiles:
        known = ", ".join(sorted(config.profiles)) or "none"
        raise UsageError(f"no profile named {name!r} (known: {known})")
    config.current = name
    config.save()
    note(Format.table, f"Now using profile {name} ({config.profiles[name].url}).")
