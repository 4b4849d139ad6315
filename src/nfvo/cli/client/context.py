"""The global options of one ``nfvo`` invocation (``--debug``, ``--profile``).

Why it exists: typer passes the root options to the root callback only; the commands of
every group read them from here instead of repeating them on each command.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass
class GlobalOptions:
    """Options given before the command (``nfvo --debug --profile lab ns list``)."""

    debug: bool = False
    profile: str | None = None


def _env_debug() -> bool:
    return os.environ.get("NFVO_DEBUG", "").lower() in ("1", "true", "yes")


STATE = GlobalOptions(debug=_env_debug())


def reset(debug: bool = False, profile: str | None = None) -> None:
    """Set the global options of this invocation (the root callback calls it)."""
    STATE.debug = debug or _env_debug()
    STATE.profile = profile
