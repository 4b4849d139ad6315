"""Run the ``nfvo`` client as a user would: a subprocess with its own HOME and config dir."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from tests.support.proc import NFVO

# client settings a developer's shell or a CI runner may carry; a test must not inherit them
CLIENT_ENV = (
    "NFVO_URL",
    "NFVO_USER",
    "NFVO_PASSWORD",
    "NFVO_PROFILE",
    "NFVO_DEBUG",
    "FORCE_COLOR",
    "NO_COLOR",
    "TTY_COMPATIBLE",
    "TTY_INTERACTIVE",
    "COLUMNS",
    "LINES",
)


class Cli:
    """``python -m nfvo.cli ...`` with HOME and XDG_CONFIG_HOME under ``home``."""

    def __init__(self, home: Path, **env: str) -> None:
        self.home = home
        base = {k: v for k, v in os.environ.items() if k not in CLIENT_ENV}
        self.env = base | {
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / "config"),
            "COLUMNS": "200",
        }
        self.env.update(env)

    @property
    def config_file(self) -> Path:
        return self.home / "config" / "nfvo" / "config.yaml"

    def run(
        self, *args: str, rc: int | None = 0, input: str | None = None, **env: str
    ) -> subprocess.CompletedProcess[str]:
        """Run; ``rc`` is the exit code expected (None: any)."""
        r = subprocess.run(
            [*NFVO, *args],
            capture_output=True,
            text=True,
            input=input,
            env=self.env | env,
            timeout=120,
        )
        if rc is not None:
            assert r.returncode == rc, (
                f"nfvo {' '.join(args)} exited {r.returncode}, expected {rc}\n"
                f"stdout:\n{r.stdout}\nstderr:\n{r.stderr}"
            )
        return r

    def json(self, *args: str, **env: str) -> Any:
        """Run with ``-o json``; the parsed stdout (which must hold nothing else)."""
        return json.loads(self.run(*args, "-o", "json", **env).stdout)
