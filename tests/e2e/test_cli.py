"""The ``nfvo`` client against a real ``nfvo serve``, driven only through the command line:
login and its token file, tenants and users, a sim VIM, packages built and onboarded, and an
NS through its whole life cycle (a failed operation and its retry included); JSON and YAML
output parsed; errors as ProblemDetails on stderr with distinct exit codes."""

from __future__ import annotations

import json
import re
import signal
import stat
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import httpx
import pytest
import yaml
from tests.support.cli import Cli
from tests.support.proc import NFVO, Server

from nfvo.auth.service import read_admin_credentials
from nfvo.catalog.builder import digest
from nfvo.samples import NSD_WEBAPP_ID, SAMPLES_DIR, VNF_WEB_ID

SIM_CONFIG = {
    "zones": 2,
    "hosts": 4,
    "images": [{"name": n} for n in ("cirros", "web-img", "db-img")],
    "latency_ms": {"server_boot": 20},
}
FAULT = {"faults": {"server_create": {"error_rate": 1.0, "error": "VimUnavailable"}}}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("cli")
    srv = Server(root / "data", {"NFVO_DATABASE_URL": "", "NFVO_ADMIN_PASSWORD": ""}).start()
    yield srv
    srv.kill()


def admin_password(srv: Server) -> str:
    values = dict(
        line.split("=", 1) for line in (srv.data_dir / "admin-credentials").read_text().split()
    )
    return values["NFVO_PASSWORD"]


@pytest.fixture
def cli(server: Server, tmp_path: Path) -> Cli:
    """A client logged in as the admin (token in its own config dir)."""
    c = Cli(tmp_path / "home")
    c.run(
        "login", "--url", server.base, "--user", "admin", "--password-stdin",
        input=admin_password(server) + "\n",
    )  # fmt: skip
    return c


def no_traceback(r: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in r.stdout + r.stderr


def test_login_keeps_a_private_token_per_profile(server: Server, tmp_path: Path) -> None:
    c = Cli(tmp_path / "home")
    r = c.run(
        "login", "--url", server.base, "--user", "admin", "--password-stdin",
        input=admin_password(server) + "\n",
    )  # fmt: skip
    assert f"Logged in to {server.base} as admin" in r.stdout
    assert stat.S_IMODE(c.config_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(c.config_file.parent.stat().st_mode) == 0o700
    saved = yaml.safe_load(c.config_file.read_text())
    assert saved["current"] == "default"
    assert saved["profiles"]["default"]["url"] == server.base
    assert saved["profiles"]["default"]["token"]
    assert admin_password(server) not in c.config_file.read_text()  # never the password
    # the cached token serves the next commands (no credentials in the environment)
    assert c.json("vim", "list") == []
    # a second profile, selected by --profile or NFVO_PROFILE
    c.run(
        "login", "--profile", "other", "--url", server.base, "--password-stdin",
        input=admin_password(server) + "\n",
    )  # fmt: skip
    profiles = {p["name"]: p for p in c.json("profile", "list")}
    assert set(profiles) == {"default", "other"} and profiles["other"]["current"]
    assert c.json("--profile", "default", "tenant", "list") == []
    r = c.run("vim", "list", rc=2, NFVO_PROFILE="missing")
    assert "no profile named 'missing'" in r.stderr
    # logged out: exit 4 and what to do
    c.run("logout")
    r = c.run("vim", "list", rc=4)
    assert "nfvo login" in r.stderr
    no_traceback(r)
    # wrong password: refused, exit 4, nothing cached
    r = c.run("login", "--url", server.base, "--password-stdin", input="wrong-password\n", rc=4)
    assert "refused the credentials" in r.stderr


def test_environment_credentials_need_no_login(server: Server, tmp_path: Path) -> None:
    c = Cli(
        tmp_path / "ci",
        NFVO_URL=server.base,
        NFVO_USER="admin",
        NFVO_PASSWORD=admin_password(server),
    )
    assert isinstance(c.json("pkg", "list"), list)
    assert not c.config_file.exists()  # scripts leave no file behind
    r = c.run("pkg", "list", rc=4, NFVO_PASSWORD="not-the-password")
    assert "refused the credentials of 'admin'" in r.stderr
    no_traceback(r)


def test_tenants_and_users(cli: Cli, server: Server) -> None:
    tenant = cli.json("tenant", "create", "--name", "blue", "--description", "team blue")
    assert tenant["name"] == "blue"
    listed = yaml.safe_load(cli.run("tenant", "list", "-o", "yaml").stdout)
    assert [t["name"] for t in listed] == ["blue"]
    assert cli.json("tenant", "show", "blue")["id"] == tenant["id"]  # by name
    user = cli.json("user", "create", "blue-op", "--role", "operator", "--tenant", "blue")
    assert user["tenantId"] == tenant["id"] and len(user["clientSecret"]) >= 8
    # the new client logs in through the environment and sees only its tenant
    as_user = Cli(
        cli.home.parent / "blue",
        NFVO_URL=server.base,
        NFVO_USER="blue-op",
        NFVO_PASSWORD=user["clientSecret"],
    )
    assert [t["name"] for t in as_user.json("tenant", "list")] == ["blue"]
    r = as_user.run("tenant", "create", "--name", "red", rc=1)
    assert "Forbidden (403)" in r.stderr
    table = cli.run("user", "list").stdout
    assert "blue-op" in table and "operator" in table
    cli.run("user", "delete", "blue-op")
    assert "blue-op" not in {u["clientId"] for u in cli.json("user", "list")}
    cli.run("tenant", "delete", tenant["id"])
    assert cli.json("tenant", "list") == []


def test_unknown_ids_usage_and_connection_errors(cli: Cli) -> None:
    for args in (("ns", "show", "no-such-ns"), ("vim", "show", "nope"), ("op", "show", "x")):
        r = cli.run(*args, rc=1)
        assert r.stdout == ""
        assert "Not Found (404)" in r.stderr and "does not exist" in r.stderr
        no_traceback(r)
    r = cli.run("ns", "show", "no-such-ns", "-o", "json", rc=1)
    assert r.stdout == "" and "Not Found (404)" in r.stderr
    r = cli.run("--debug", "ns", "show", "no-such-ns", rc=1)
    assert "Traceback" in r.stderr  # --debug shows where it came from
    r = cli.run("ns", "scale", "x", rc=2)
    assert "--aspect" in r.stderr
    no_traceback(r)
    r = cli.run("vim", "register", "--name", "x", "--type", "vmware", rc=2)
    r = cli.run("ns", "list", rc=3, NFVO_URL="http://127.0.0.1:9")
    assert "cannot reach nfvo at http://127.0.0.1:9" in r.stderr and "NFVO_URL" in r.stderr
    no_traceback(r)


def _web_vnfcs(ns: dict) -> list[dict]:
    return [
        c
        for v in ns["vnfInstance"]
        if v["vnfdId"] == VNF_WEB_ID
        for c in v["instantiatedVnfInfo"]["vnfcResourceInfo"]
        if c["vduId"] == "web"
    ]


def _servers(ns: dict) -> set[str]:
    return {c["computeResource"]["resourceId"] for c in _web_vnfcs(ns)}


def test_ns_life_cycle_through_the_cli(cli: Cli, tmp_path: Path) -> None:
    started = time.monotonic()
    # a sim VIM, checked and synced before the command returns
    vim = cli.json(
        "vim", "register", "--name", "lab", "--type", "sim",
        "--config", json.dumps(SIM_CONFIG), "--wait",
    )  # fmt: skip
    assert vim["_admin"]["operationalState"] == "ENABLED"
    assert {h["zone"] for h in cli.json("vim", "resources", "lab")["hosts"]} == {
        "zone-1",
        "zone-2",
    }
    # pkg build: a CSAR whose manifest hashes every file
    csar = tmp_path / "vnf-web.csar"
    r = cli.run("pkg", "build", str(SAMPLES_DIR / "vnf-web"), "-o", str(csar))
    assert "manifest hashes" in r.stdout
    with zipfile.ZipFile(csar) as z:
        manifest = z.read("vnf-web.mf").decode()
        for name in z.namelist():
            if name.endswith("web.yaml"):
                assert digest(z.read(name)) in manifest
    web = cli.json("pkg", "onboard", str(csar), "--wait")
    assert web["onboardingState"] == "ONBOARDED" and web["vnfdId"] == VNF_WEB_ID
    db = cli.json("pkg", "onboard", str(SAMPLES_DIR / "vnf-db"), "--wait")  # a folder
    assert db["onboardingState"] == "ONBOARDED"
    r = cli.run("pkg", "onboard", str(SAMPLES_DIR / "ns-webapp"), rc=2)
    assert "nfvo nsd onboard" in r.stderr
    nsd = cli.json("nsd", "onboard", str(SAMPLES_DIR / "ns-webapp"), "--wait")
    assert nsd["nsdOnboardingState"] == "ONBOARDED" and nsd["nsdId"] == NSD_WEBAPP_ID
    assert {p["id"] for p in cli.json("pkg", "list")} == {web["id"], db["id"]}

    ns = cli.json("ns", "create", "--nsd", NSD_WEBAPP_ID, "--name", "shop")
    assert ns["nsState"] == "NOT_INSTANTIATED"
    r = cli.run("ns", "instantiate", "shop", "--flavour", "default", "--vim", "lab", "--wait")
    progress = [line for line in r.stdout.splitlines() if "INSTANTIATE shop: " in line]
    assert len(progress) >= 2 and "\r" not in r.stdout  # a line per change, then a summary
    assert "VNFs deployed 2/2" in progress[-2] and "COMPLETED" in progress[-2]
    assert re.fullmatch(r"INSTANTIATE shop: COMPLETED in \d+\.\d s", progress[-1])
    shown = cli.json("ns", "show", "shop")
    assert shown["nsState"] == "INSTANTIATED" and len(shown["vnfInstance"]) == 2
    assert {v["vimId"] for v in shown["vnfInstance"]} == {vim["id"]}
    assert len(_web_vnfcs(shown)) == 1
    table = cli.run("ns", "show", "shop").stdout
    assert "host-" in table and "zone-" in table and "lab" in table  # where it runs

    # scale the web VNF out and in (SCALE_VNF), then the NS's web tier (SCALE_NS)
    op = cli.json(
        "ns", "scale", "shop", "--vnf", "vnf_web", "--aspect", "web_scale", "--out", "--wait"
    )
    assert op["operationState"] == "COMPLETED" and op["lcmOperationType"] == "SCALE"
    assert len(_web_vnfcs(cli.json("ns", "show", ns["id"]))) == 2
    cli.run("ns", "scale", "shop", "--vnf", "vnf_web", "--aspect", "web_scale", "--in", "--wait")
    assert len(_web_vnfcs(cli.json("ns", "show", "shop"))) == 1
    cli.run("ns", "scale", "shop", "--aspect", "web_tier", "--out", "--wait")
    assert len(cli.json("ns", "show", "shop")["vnfInstance"]) == 3
    cli.run("ns", "scale", "shop", "--aspect", "web_tier", "--steps", "1", "--in", "--wait")
    assert len(cli.json("ns", "show", "shop")["vnfInstance"]) == 2

    # heal (recreate) the web VNF: new servers; update: stop, then start
    before = _servers(cli.json("ns", "show", "shop"))
    cli.run("ns", "heal", "shop", "--vnf", "vnf_web", "--recreate", "--wait")
    after = _servers(cli.json("ns", "show", "shop"))
    assert after and not after & before
    cli.run("ns", "update", "shop", "--vnf", "vnf_web", "--stop", "--wait")
    assert {c["metadata"]["status"] for c in _web_vnfcs(cli.json("ns", "show", "shop"))} == {
        "SHUTOFF"
    }
    cli.run("ns", "update", "shop", "--vnf", "vnf_web", "--start", "--wait")
    assert {c["metadata"]["status"] for c in _web_vnfcs(cli.json("ns", "show", "shop"))} == {
        "ACTIVE"
    }

    # a fault on the VIM: the scale-out ends FAILED_TEMP, --wait exits 1 with the problem
    cli.run("vim", "update", "lab", "--config", json.dumps(FAULT), "-o", "json")
    r = cli.run(
        "ns", "scale", "shop", "--vnf", "vnf_web", "--aspect", "web_scale", "--out", "--wait",
        rc=1,
    )  # fmt: skip
    assert "ended FAILED_TEMP" in r.stderr
    assert "VNF operation failed" in r.stderr or "(500)" in r.stderr
    assert "vimError: VimUnavailable" in r.stderr and "vduId: web" in r.stderr
    assert "nfvo op retry" in r.stderr
    no_traceback(r)
    [failed] = cli.json("op", "list", "--ns", ns["id"], "--state", "FAILED_TEMP")
    assert failed["lcmOperationType"] == "SCALE"
    assert cli.json("op", "show", failed["id"])["error"]["vimError"] == "VimUnavailable"
    # clear the fault, retry: COMPLETED, exit 0
    cli.run("vim", "update", "lab", "--config", '{"faults": null}', "-o", "json")
    r = cli.run("op", "retry", failed["id"], "--wait")
    assert "SCALE shop: COMPLETED" in r.stdout
    done = yaml.safe_load(cli.run("op", "show", failed["id"], "-o", "yaml").stdout)
    assert done["operationState"] == "COMPLETED"
    assert len(_web_vnfcs(cli.json("ns", "show", "shop"))) == 2

    # terminate, delete; the NS is gone
    op = cli.json("ns", "terminate", "shop", "--wait")
    assert op["operationState"] == "COMPLETED" and op["lcmOperationType"] == "TERMINATE"
    assert cli.json("ns", "show", "shop")["nsState"] == "NOT_INSTANTIATED"
    assert {o["lcmOperationType"] for o in cli.json("op", "list", "--ns", ns["id"])} == {
        "INSTANTIATE",
        "SCALE",
        "HEAL",
        "UPDATE",
        "TERMINATE",
    }
    cli.run("ns", "delete", "shop")
    r = cli.run("ns", "show", ns["id"], rc=1)
    assert "Not Found (404)" in r.stderr
    # packages: disable/enable with If-Match, delete (NSD first: it references the VNFs)
    assert cli.json("nsd", "disable", nsd["id"])["nsdOperationalState"] == "DISABLED"
    r = cli.run("pkg", "delete", web["id"], rc=1)
    assert "Conflict (409)" in r.stderr
    cli.run("nsd", "delete", nsd["id"])
    assert cli.json("pkg", "disable", web["id"])["operationalState"] == "DISABLED"
    assert cli.json("pkg", "enable", web["id"])["operationalState"] == "ENABLED"
    cli.run("pkg", "delete", web["id"], "--force")
    cli.run("pkg", "delete", db["id"], "--force")
    assert cli.json("pkg", "list") == [] and cli.json("nsd", "list") == []
    cli.run("vim", "delete", "lab")
    assert time.monotonic() - started < 90


class _Callback(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - the subscription test GET
        self.send_response(204)
        self.end_headers()

    def log_message(self, *a):
        pass


def test_subscriptions(cli: Cli) -> None:
    srv = HTTPServer(("127.0.0.1", 0), _Callback)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{srv.server_port}/notify"
        sub = cli.json(
            "sub", "create", "--callback", url, "--operation", "INSTANTIATE",
            "--state", "COMPLETED", "--state", "FAILED_TEMP",
        )  # fmt: skip
        assert sub["callbackUri"] == url
        assert sub["filter"] == {
            "operationTypes": ["INSTANTIATE"],
            "operationStates": ["COMPLETED", "FAILED_TEMP"],
        }
        assert [s["id"] for s in cli.json("sub", "list")] == [sub["id"]]
        cli.run("sub", "delete", sub["id"])
        assert cli.json("sub", "list") == []
        r = cli.run("sub", "create", "--callback", "ftp://x", rc=1)
        assert "Bad Request (400)" in r.stderr and "callbackUri" in r.stderr
    finally:
        srv.shutdown()


def test_demo_suggests_commands_that_work(tmp_path: Path) -> None:
    """``nfvo demo`` ends with ``nfvo`` commands to try; each one works on the demo server."""
    cli = Cli(tmp_path / "home", NFVO_DATABASE_URL="", NFVO_ADMIN_PASSWORD="")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "nfvo"  # what `nfvo` is on a user's PATH
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m nfvo.cli "$@"\n')
    wrapper.chmod(0o755)
    env = cli.env | {"PATH": f"{bin_dir}:{cli.env['PATH']}", "PYTHONUNBUFFERED": "1"}
    demo = subprocess.Popen(
        [*NFVO, "demo", "--port", "0", "--data-dir", str(tmp_path / "data")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    lines: list[str] = []
    out = demo.stdout
    assert out is not None
    threading.Thread(target=lambda: lines.extend(out), daemon=True).start()
    try:
        deadline = time.monotonic() + 90
        while not any(line.startswith("Admin ") for line in lines):
            assert demo.poll() is None, "".join(lines)
            assert time.monotonic() < deadline, "".join(lines)
            time.sleep(0.1)
        text = "".join(lines)
        assert "INSTANTIATED  demo-webapp" in text and "Traceback" not in text
        tour = text.split("4. Your turn", 1)[1].split("\nAPI ", 1)[0]
        commands = [
            line.strip()
            for line in tour.splitlines()[1:]
            if line.strip() and not line.strip().startswith("#")
        ]
        assert any("nfvo login" in c for c in commands)
        assert any(c.startswith("nfvo ns scale") for c in commands)
        for command in commands:
            r = subprocess.run(
                ["bash", "-c", command], capture_output=True, text=True, env=env, timeout=120
            )
            assert r.returncode == 0, f"{command}\n{r.stdout}\n{r.stderr}"
            assert "Traceback" not in r.stdout + r.stderr
        assert commands[-1].startswith("nfvo op list")  # it lists what the others did
        assert all(op in r.stdout for op in ("INSTANTIATE", "SCALE", "HEAL"))
        # the GUI line names the NS's page, which a browser signed in as admin can open
        gui = next(line.split()[1] for line in lines if line.startswith("GUI "))
        admin = read_admin_credentials(tmp_path / "data")
        assert admin is not None
        secret = admin[1]
        base = gui.split("/ui/", 1)[0]
        with httpx.Client(base_url=base, timeout=30) as browser:
            signed = browser.post(
                "/ui/login", data={"client_id": "admin", "client_secret": secret, "next": "/ui/"}
            )
            assert signed.status_code == 303, signed.text
            page = browser.get(gui)
            assert page.status_code == 200 and "demo-webapp" in page.text
    finally:
        demo.send_signal(signal.SIGINT)
        try:
            demo.wait(30)
        except subprocess.TimeoutExpired:
            demo.kill()
            demo.wait(10)
