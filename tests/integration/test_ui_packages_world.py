"""The ETSI SOL004 sample packages (valid and broken, as ../shared/etsi/sol004 assembles
them) uploaded through the GUI's upload form over plain HTTP with a session: each valid one
reaches ONBOARDED in its row, each broken one is shown refused with its cause (and the file
when the catalog names one), and nothing of a refused upload is left in the API's list."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from tests.support.etsi_openapi import ETSI_DIR
from tests.support.live import LiveApi

PKGS = "/vnfpkgm/v2/vnf_packages"


@pytest.fixture(scope="module")
def etsi_samples(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    script = ETSI_DIR / "sol004" / "build_samples.py"
    if not script.exists():
        pytest.skip(
            f"ETSI corpus not found at {ETSI_DIR}; place the shared/etsi folder beside the repo"
        )
    out = tmp_path_factory.mktemp("sol004-ui")
    subprocess.run([sys.executable, str(script), str(out)], check=True, capture_output=True)
    return out, json.loads((out / "expected.json").read_text())


def _session(live: LiveApi) -> httpx.Client:
    """An admin GUI session sending its CSRF token and htmx's header, as the page does."""
    s, csrf = live.gui_session()
    s.headers.update({"X-CSRF-Token": csrf, "HX-Request": "true"})
    return s


def _settle(s: httpx.Client, pkg_id: str) -> str:
    """The tracked row until onboarding ends: 'ONBOARDED', or the refusal's HTML."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        r = s.post(f"/ui/packages/vnf/{pkg_id}/track")
        assert r.status_code < 500, r.text
        if 'data-testid="upload-refused"' in r.text:
            return r.text
        state = re.search(r'data-testid="onboarding-state">(\w+)<', r.text)
        if state and state.group(1) == "ONBOARDED":
            return "ONBOARDED"
        time.sleep(0.1)
    raise AssertionError(f"package {pkg_id} did not settle")


def test_etsi_samples_through_the_gui(live: LiveApi, etsi_samples: tuple[Path, dict]) -> None:
    folder, expected = etsi_samples
    s = _session(live)
    wrong = []
    for name, exp in sorted(expected.items()):
        data = (folder / f"{name}.zip").read_bytes()
        r = s.post(
            "/ui/packages/upload",
            data={"kind": "vnf"},
            files={"file": (f"{name}.zip", data, "application/zip")},
        )
        assert r.status_code < 500, (name, r.text)
        started = re.search(r'data-package-id="([0-9a-f-]+)"', r.text)
        outcome = _settle(s, started.group(1)) if started else r.text
        if exp["onboard"]:
            if outcome != "ONBOARDED":
                wrong.append((name, "expected ONBOARDED", outcome[-300:]))
                continue
            pid = started.group(1)  # free its vnfdId for the next sample that shares it
            live.client.patch(f"{PKGS}/{pid}", json={"operationalState": "DISABLED"})
            assert live.client.delete(f"{PKGS}/{pid}").status_code == 204
        else:
            cause = re.search(r'data-testid="problem-cause">([A-Z_]+)<', outcome)
            if outcome == "ONBOARDED" or not cause:
                wrong.append((name, "expected a refusal with its cause", outcome[-300:]))
    assert not wrong, wrong
    # nothing half-made: no package of a refused upload is left
    assert live.client.get(PKGS).json() == []
