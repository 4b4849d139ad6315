"""``nfvo serve`` as a real subprocess, for end-to-end and crash tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

NFVO = [sys.executable, "-m", "nfvo.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# A loaded 2-core machine can take half a minute to bring the workflow engine up on
# PostgreSQL (its schema migration waits for other sessions' transactions).
START_TIMEOUT_S = 60.0


class Server:
    """One ``nfvo serve`` subprocess on a free loopback port; output goes to a log file."""

    def __init__(self, data_dir: Path, env: dict[str, str] | None = None, *extra: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.data_dir = data_dir
        self.env = {**os.environ, **(env or {})}
        self.extra = extra
        self.proc: subprocess.Popen | None = None
        self.log_path = data_dir.parent / f"serve-{self.port}.log"

    def start(self) -> Server:
        self.proc = subprocess.Popen(
            [
                *NFVO,
                "serve",
                "--port",
                str(self.port),
                "--data-dir",
                str(self.data_dir),
                "--log-level",
                "warning",
                *self.extra,
            ],
            env=self.env,
            stdout=self.log_path.open("wb"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(self.log_path.read_text(errors="replace"))
            try:
                if httpx.get(self.base + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        self.kill()  # never leave a half-started server behind (it would hold the database)
        log = self.log_path.read_text(errors="replace")[-2000:]
        raise AssertionError(f"nfvo serve did not come up in {START_TIMEOUT_S:g} s:\n{log}")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def client(self, user: str, password: str) -> httpx.Client:
        r = httpx.post(
            self.base + "/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=(user, password),
        )
        assert r.status_code == 200, r.text
        tok = r.json()["access_token"]
        return httpx.Client(
            base_url=self.base, headers={"Authorization": f"Bearer {tok}"}, timeout=60
        )
