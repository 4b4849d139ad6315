"""``--wait`` on a terminal: the client runs in a pseudo-terminal against a real ``nfvo serve``
whose sim VIM boots servers slowly, and the live display must show the operation while it runs
(state PROCESSING, VNFs deployed k/n, elapsed time, redrawn in place) and its end state."""

from __future__ import annotations

import fcntl
import os
import re
import select
import struct
import subprocess
import termios
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.support.cli import Cli
from tests.support.proc import NFVO, Server

from nfvo.samples import NSD_WEBAPP_ID, build_sample

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture
def ns_ready(tmp_path: Path) -> Iterator[tuple[Server, str, str]]:
    """A server with the samples onboarded, a slow sim VIM and an NS to instantiate."""
    srv = Server(
        tmp_path / "data", {"NFVO_DATABASE_URL": "", "NFVO_ADMIN_PASSWORD": "tty-admin-pw"}
    ).start()
    try:
        with srv.client("admin", "tty-admin-pw") as c:
            for name, coll, content in (
                ("vnf-web", "/vnfpkgm/v2/vnf_packages", "package_content"),
                ("vnf-db", "/vnfpkgm/v2/vnf_packages", "package_content"),
                ("ns-webapp", "/nsd/v2/ns_descriptors", "nsd_content"),
            ):
                pkg = c.post(coll, json={}).json()
                r = c.put(
                    f"{coll}/{pkg['id']}/{content}",
                    content=build_sample(name),
                    headers={"Content-Type": "application/zip"},
                )
                assert r.status_code == 202, r.text
                _until(lambda p=pkg, k=coll: "ONBOARDED" in str(c.get(f"{k}/{p['id']}").json()))
            vim = c.post(
                "/admin/v1/vim_accounts",
                json={
                    "name": "slow",
                    "vim_type": "sim",
                    "config": {
                        "zones": 1,
                        "hosts": 2,
                        "images": [{"name": n} for n in ("cirros", "web-img", "db-img")],
                        "latency_ms": {"server_boot": 700},
                    },
                },
            ).json()
            _until(
                lambda: (
                    c.get(f"/admin/v1/vim_accounts/{vim['id']}").json()["_admin"][
                        "operationalState"
                    ]
                    == "ENABLED"
                )
            )
            ns = c.post(
                "/nslcm/v2/ns_instances", json={"nsdId": NSD_WEBAPP_ID, "nsName": "tty-shop"}
            ).json()
        yield srv, vim["id"], ns["id"]
    finally:
        srv.kill()


def _until(check: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def run_in_pty(args: list[str], env: dict[str, str], cols: int = 150) -> tuple[int, str]:
    """Run ``args`` with stdin/stdout/stderr on a pseudo-terminal; (exit code, raw output)."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, cols, 0, 0))
    proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    out = b""
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not data:
                    break
                out += data
            elif proc.poll() is not None:
                break
        return proc.wait(10), out.decode("utf-8", "replace")
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()


def test_wait_shows_live_progress_on_a_terminal(
    ns_ready: tuple[Server, str, str], tmp_path: Path
) -> None:
    srv, vim_id, ns_id = ns_ready
    cli = Cli(tmp_path / "home", NFVO_URL=srv.base, NFVO_USER="admin", NFVO_PASSWORD="tty-admin-pw")
    env = cli.env | {"TERM": "xterm-256color"}
    env.pop("COLUMNS", None)
    args = [*NFVO, "ns", "instantiate", ns_id, "--flavour", "default", "--vim", vim_id, "--wait"]
    started = time.monotonic()
    rc, raw = run_in_pty(args, env)
    took = time.monotonic() - started
    text = ANSI.sub("", raw)
    assert rc == 0, text
    assert took > 1.4  # two dependency layers of 0.7 s boots: there was time to see it run
    # the live display: one line redrawn in place (carriage return + erase line), coloured
    assert "\r\x1b[2K" in raw and "\x1b[33mPROCESSING" in raw
    frames = [f for f in re.split(r"\r|\n", text) if "INSTANTIATE tty-shop" in f]
    running = [f for f in frames if "PROCESSING" in f]
    assert len(running) >= 3, frames  # redrawn while it ran
    assert any("VNFs deployed 0/2" in f or "VNFs deployed 1/2" in f for f in running), frames
    assert any(re.search(r"0:00:0\d", f) for f in running), frames  # elapsed time
    assert "VNFs deployed 2/2" in text
    assert re.search(r"INSTANTIATE tty-shop: COMPLETED in \d+\.\d s", text), text
    assert "Traceback" not in text
    # the same command with stdout not a terminal: plain lines, no redraws
    r = cli.run("ns", "terminate", ns_id, "--wait")
    assert "\x1b" not in r.stdout and "\r" not in r.stdout
    assert "TERMINATE tty-shop: COMPLETED" in r.stdout
