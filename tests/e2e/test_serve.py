"""``nfvo serve`` and ``nfvo demo`` as real subprocesses: first start, persistence across a
kill -9, the no-auth guard, and two processes sharing one PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from tests.support.proc import NFVO, Server, free_port

from nfvo import __version__
from nfvo.samples import build_sample

HEALTHCHECK = Path(__file__).parents[2] / "deploy" / "image" / "healthcheck.py"


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for s in started:
        s.kill()


def onboard(c: httpx.Client, name: str) -> str:
    pkg = c.post("/vnfpkgm/v2/vnf_packages", json={}).json()
    r = c.put(
        f"/vnfpkgm/v2/vnf_packages/{pkg['id']}/package_content",
        content=build_sample(name),
        headers={"Content-Type": "application/zip"},
    )
    assert r.status_code == 202
    for _ in range(600):
        info = c.get(f"/vnfpkgm/v2/vnf_packages/{pkg['id']}").json()
        if info["onboardingState"] in ("ONBOARDED", "ERROR"):
            assert info["onboardingState"] == "ONBOARDED", info
            return pkg["id"]
        time.sleep(0.05)
    raise AssertionError("onboarding did not finish")


def read_credentials(data_dir: Path) -> tuple[str, str]:
    path = data_dir / "admin-credentials"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    values = dict(line.split("=", 1) for line in path.read_text().splitlines())
    return values["NFVO_USER"], values["NFVO_PASSWORD"]


def test_first_start_persistence_and_kill9(tmp_path: Path, servers: list[Server]) -> None:
    env = {"NFVO_DATABASE_URL": "", "NFVO_ADMIN_PASSWORD": ""}
    srv = Server(tmp_path / "d", env).start()
    servers.append(srv)
    user, password = read_credentials(srv.data_dir)
    assert user == "admin" and len(password) >= 16
    with srv.client(user, password) as c:
        pkg_id = onboard(c, "vnf-db")
    srv.kill()
    again = Server(tmp_path / "d", env).start()
    servers.append(again)
    assert read_credentials(again.data_dir) == (user, password)  # written once, not rotated
    with again.client(user, password) as c:
        info = c.get(f"/vnfpkgm/v2/vnf_packages/{pkg_id}").json()
        assert info["onboardingState"] == "ONBOARDED"
        assert c.get(f"/vnfpkgm/v2/vnf_packages/{pkg_id}/package_content").content == build_sample(
            "vnf-db"
        )
    assert list((tmp_path / "d" / "tmp").iterdir()) == []


def test_admin_password_from_environment(tmp_path: Path, servers: list[Server]) -> None:
    env = {
        "NFVO_DATABASE_URL": "",
        "NFVO_ADMIN_USER": "root-op",
        "NFVO_ADMIN_PASSWORD": "s3cret-pw!",
    }
    srv = Server(tmp_path / "d", env).start()
    servers.append(srv)
    assert not (tmp_path / "d" / "admin-credentials").exists()
    with srv.client("root-op", "s3cret-pw!") as c:
        assert c.get("/vnfpkgm/v2/vnf_packages").status_code == 200


def test_no_auth_only_on_loopback(tmp_path: Path, servers: list[Server]) -> None:
    r = subprocess.run(
        [*NFVO, "serve", "--no-auth", "--host", "0.0.0.0", "--data-dir", str(tmp_path / "x")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2
    assert "--no-auth is refused" in r.stderr
    assert not (tmp_path / "x").exists()
    srv = Server(tmp_path / "d", {"NFVO_DATABASE_URL": ""}, "--no-auth").start()
    servers.append(srv)
    assert httpx.get(srv.base + "/vnfpkgm/v2/vnf_packages").status_code == 200


def test_two_processes_share_packages_through_postgresql(
    pg_url: str, tmp_path: Path, servers: list[Server]
) -> None:
    # nodes sharing a database share the secret key (it seals VIM credentials and token keys)
    env = {
        "NFVO_DATABASE_URL": pg_url,
        "NFVO_ADMIN_PASSWORD": "shared-admin-pw",
        "NFVO_SECRET_KEY": Fernet.generate_key().decode(),
    }
    a = Server(tmp_path / "a", env).start()
    servers.append(a)
    b = Server(tmp_path / "b", env).start()
    servers.append(b)
    with a.client("admin", "shared-admin-pw") as ca, b.client("admin", "shared-admin-pw") as cb:
        pkg_id = onboard(ca, "vnf-web")
        # B never saw the upload: the archive comes from the shared database
        r = cb.get(f"/vnfpkgm/v2/vnf_packages/{pkg_id}/package_content")
        assert r.status_code == 200 and r.content == build_sample("vnf-web")
        r = cb.get(f"/vnfpkgm/v2/vnf_packages/{pkg_id}/artifacts/Files/cloud-init/web.yaml")
        assert r.status_code == 200 and r.content
        # a token from A is valid on B: the signing key lives (sealed) in the database
        tok = ca.headers["Authorization"]
        assert (
            httpx.get(
                b.base + "/vnfpkgm/v2/vnf_packages", headers={"Authorization": tok}
            ).status_code
            == 200
        )


def test_demo_onboards_samples(tmp_path: Path) -> None:
    env = {**os.environ, "NFVO_DATABASE_URL": "", "NFVO_ADMIN_PASSWORD": ""}
    r = subprocess.run(
        [*NFVO, "demo", "--exit", "--port", "0", "--data-dir", str(tmp_path / "d")],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("ONBOARDED") == 3
    for name in ("vnf-web", "vnf-db", "ns-webapp"):
        assert name in r.stdout
    assert "ENABLED  demo-sim (sim: 2 zones, 6 hosts" in r.stdout
    assert "INSTANTIATED  demo-webapp" in r.stdout and "ACTIVE on host-" in r.stdout
    assert "Traceback" not in r.stdout + r.stderr


# ``nfvo serve --role worker`` in a fresh interpreter; once /healthz answers it prints the
# web-framework modules it has loaded, then serves on until SIGTERM
_WORKER = """
import json, sys, threading, time, urllib.request
port = sys.argv[1]

def report():
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                health = json.load(r)
            break
        except OSError:
            time.sleep(0.1)
    else:
        health = None
    web = sorted(m for m in sys.modules if m.split(".")[0] in ("fastapi", "starlette", "uvicorn"))
    print(json.dumps({"health": health, "web": web}), flush=True)

threading.Thread(target=report, daemon=True).start()
from nfvo.cli.main import app
app(["serve", "--role", "worker", "--port", port, "--data-dir", sys.argv[2]])
"""


def test_worker_serves_health_without_the_web_framework(db_url: str, tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "NFVO_DATABASE_URL": db_url, "NFVO_EXECUTOR_ID": "worker-t"}
    proc = subprocess.Popen(
        [sys.executable, "-c", _WORKER, str(port), str(tmp_path / "d")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        report = json.loads(proc.stdout.readline() or "null")
        assert report is not None, proc.stderr.read() if proc.stderr else ""
        assert report["health"] == {"status": "ok", "version": __version__, "role": "worker"}
        assert report["web"] == []
        base = f"http://127.0.0.1:{port}"
        r = httpx.get(base + "/nslcm/v2/ns_instances")
        assert (
            r.status_code == 404 and r.json()["detail"] == "no resource at /nslcm/v2/ns_instances"
        )
        # the container HEALTHCHECK tells a worker from a broken API node this way
        check = subprocess.run(
            [sys.executable, str(HEALTHCHECK)],
            env={**os.environ, "NFVO_HEALTH_URL": base},
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert (check.returncode, check.stdout.strip()) == (0, "worker"), check.stderr
        proc.send_signal(signal.SIGTERM)
        # stopped cleanly, then ended by the signal as an API node is (uvicorn re-raises it)
        assert proc.wait(30) == -signal.SIGTERM
        with pytest.raises(httpx.ConnectError):
            httpx.get(base + "/healthz")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    log = proc.stderr.read() if proc.stderr else ""
    assert "nfvo worker shutting down" in log and "Traceback" not in log


def test_sigterm_ends_open_gui_event_streams(tmp_path: Path, servers: list[Server]) -> None:
    """A browser tab following a live page keeps an event stream open; SIGTERM must not wait
    for it (a graceful shutdown waits for every open request)."""
    env = {"NFVO_DATABASE_URL": "", "NFVO_ADMIN_PASSWORD": "gui-stream-secret"}
    srv = Server(tmp_path / "d", env).start()
    servers.append(srv)
    with httpx.Client(base_url=srv.base, timeout=30) as browser:
        r = browser.post(
            "/ui/login", data={"client_id": "admin", "client_secret": "gui-stream-secret"}
        )
        assert r.status_code == 303, r.text
        with browser.stream("GET", "/ui/alarms/events") as events:
            assert events.status_code == 200
            assert events.headers["content-type"].startswith("text/event-stream")
            first = next(events.iter_text())
            assert first.startswith(": stream open")
            assert srv.proc is not None
            started = time.monotonic()
            srv.proc.send_signal(signal.SIGTERM)
            srv.proc.wait(20)
            assert time.monotonic() - started < 10
