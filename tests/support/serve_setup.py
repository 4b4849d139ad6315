"""What the crash tests against an ``nfvo serve`` process share: waiting for a resource to
leave its pending states, onboarding the sample packages, and opening the sim VIM's state
from the data directory (as the killed server left it)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

from nfvo.samples import build_sample
from nfvo.vim.base import VimDriver
from nfvo.vim.registry import create_driver

_SAMPLES = (
    ("vnf-web", "/vnfpkgm/v2/vnf_packages", "package_content", "onboardingState"),
    ("vnf-db", "/vnfpkgm/v2/vnf_packages", "package_content", "onboardingState"),
    ("ns-webapp", "/nsd/v2/ns_descriptors", "nsd_content", "nsdOnboardingState"),
)


def wait_settled(
    c: httpx.Client, url: str, key: str, pending: tuple[str, ...], timeout: float = 90
) -> dict[str, Any]:
    """GET ``url`` until ``key`` (top level or under ``_admin``) is not in ``pending``."""
    deadline = time.monotonic() + timeout
    while True:
        body = c.get(url).json()
        if body.get(key, body.get("_admin", {}).get(key)) not in pending:
            return body
        assert time.monotonic() < deadline, f"{url} still pending: {body}"
        time.sleep(0.05)


def onboard_samples(c: httpx.Client) -> None:
    """Onboard vnf-web, vnf-db and ns-webapp through the API (each ONBOARDED)."""
    for name, coll, content, state in _SAMPLES:
        pkg = c.post(coll, json={}).json()
        c.put(f"{coll}/{pkg['id']}/{content}", content=build_sample(name))
        info = wait_settled(c, f"{coll}/{pkg['id']}", state, ("CREATED", "UPLOADING", "PROCESSING"))
        assert info[state] == "ONBOARDED", info


def sim_driver(data: Path, vim_id: str) -> VimDriver:
    """The sim VIM of account ``vim_id`` as its state in ``data`` holds it."""
    return create_driver(
        "sim",
        vim_id=vim_id,
        vim_url=None,
        vim_user=None,
        vim_password=None,
        vim_tenant_name=None,
        config={},
        data_dir=data,
    )
