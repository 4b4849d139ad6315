"""A real nfvo API server on loopback (uvicorn in a thread) and a client for it."""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from nfvo.api.app import create_app
from nfvo.config import Settings
from nfvo.runtime import Runtime, Services

ADMIN_PASSWORD = "admin-test-secret"
COLLECTIONS = {
    "vnf": ("/vnfpkgm/v2/vnf_packages", "package_content", "onboardingState"),
    "nsd": ("/nsd/v2/ns_descriptors", "nsd_content", "nsdOnboardingState"),
    "pnfd": ("/nsd/v2/pnf_descriptors", "pnfd_content", "pnfdOnboardingState"),
}


@dataclass
class LiveApi:
    """A running server: its URL, an admin client, and its services for white-box checks."""

    base_url: str
    client: httpx.Client
    services: Services
    server: uvicorn.Server
    thread: threading.Thread

    @property
    def data_dir(self) -> Path:
        return self.services.settings.data_dir

    def token(self, user: str, password: str) -> str:
        r = httpx.post(
            f"{self.base_url}/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=(user, password),
        )
        r.raise_for_status()
        return r.json()["access_token"]

    def client_for(self, user: str, password: str) -> httpx.Client:
        tok = self.token(user, password)
        return httpx.Client(
            base_url=self.base_url, headers={"Authorization": f"Bearer {tok}"}, timeout=60
        )

    def gui_session(
        self, user: str = "admin", password: str = ADMIN_PASSWORD
    ) -> tuple[httpx.Client, str]:
        """A client signed in to the GUI through its form, and the session's CSRF token."""
        s = httpx.Client(base_url=self.base_url, timeout=60)
        r = s.post("/ui/login", data={"client_id": user, "client_secret": password})
        assert r.status_code == 303, r.text
        m = re.search(r'name="csrf_token" value="([0-9a-f]+)"', s.get("/ui/").text)
        assert m, "the GUI page carries no CSRF token"
        return s, m.group(1)

    def create(self, kind: str, **body: Any) -> dict[str, Any]:
        coll, _, _ = COLLECTIONS[kind]
        r = self.client.post(coll, json=body)
        assert r.status_code == 201, r.text
        return r.json()

    def upload(self, kind: str, pkg_id: str, data: bytes) -> httpx.Response:
        coll, content, _ = COLLECTIONS[kind]
        return self.client.put(
            f"{coll}/{pkg_id}/{content}", content=data, headers={"Content-Type": "application/zip"}
        )

    def wait(self, kind: str, pkg_id: str, timeout: float = 60) -> dict[str, Any]:
        coll, _, state = COLLECTIONS[kind]
        deadline = time.monotonic() + timeout
        while True:
            info = self.client.get(f"{coll}/{pkg_id}", params={"all_fields": ""}).json()
            if info[state] in ("ONBOARDED", "ERROR"):
                return info
            if time.monotonic() > deadline:
                raise AssertionError(f"{pkg_id} still {info[state]} after {timeout} s")
            time.sleep(0.05)

    def onboard(self, kind: str, data: bytes, **body: Any) -> dict[str, Any]:
        pkg = self.create(kind, **body)
        r = self.upload(kind, pkg["id"], data)
        assert r.status_code == 202, r.text
        return self.wait(kind, pkg["id"])

    def close(self) -> None:
        self.client.close()
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.services.db.dispose()


def start_live(data_dir: Path, db_url: str, **settings: Any) -> LiveApi:
    """Start nfvo on a free loopback port with a known admin password."""
    s = Settings(data_dir=data_dir, database_url=db_url, admin_password=ADMIN_PASSWORD, **settings)
    runtime = Runtime(s)
    runtime.start()  # before the server: migrations and the engine's launch take their time
    services = runtime.services
    config = uvicorn.Config(
        create_app(runtime),
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="on",
        proxy_headers=False,  # as nfvo serve: X-Forwarded-For only from NFVO_TRUSTED_PROXIES
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("nfvo test server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    tok = httpx.post(
        f"{base}/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=("admin", ADMIN_PASSWORD),
    ).json()["access_token"]
    client = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {tok}"}, timeout=60)
    return LiveApi(base, client, services, server, thread)


OP_PENDING = ("STARTING", "PROCESSING", "ROLLING_BACK")


def wait_for(
    c: httpx.Client,
    url: str,
    key: str,
    pending: tuple[str, ...],
    timeout: float = 60,
    interval: float = 0.05,
) -> dict[str, Any]:
    """GET ``url`` until its ``key`` (top level or under ``_admin``) leaves ``pending``."""
    deadline = time.monotonic() + timeout
    while True:
        body = c.get(url).json()
        value = body.get(key, body.get("_admin", {}).get(key))
        if value not in pending:
            return body
        assert time.monotonic() < deadline, f"{url}: still {value} after {timeout} s"
        time.sleep(interval)


def wait_op(c: httpx.Client, location: str, timeout: float = 60) -> dict[str, Any]:
    """The NS LCM operation occurrence at ``location`` once it has settled."""
    return wait_for(c, location, "operationState", OP_PENDING, timeout)


def sim_vim(c: httpx.Client, name: str, **config: object) -> str:
    """Register a sim VIM account with ``config`` and wait until it is ENABLED; its id."""
    vim = c.post("/admin/v1/vim_accounts", json={"name": name, "vim_type": "sim", "config": config})
    assert vim.status_code in (201, 202), vim.text
    vim_id = vim.json()["id"]
    deadline = time.monotonic() + 10
    while (
        c.get(f"/admin/v1/vim_accounts/{vim_id}").json()["_admin"]["operationalState"] != "ENABLED"
    ):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    return vim_id
