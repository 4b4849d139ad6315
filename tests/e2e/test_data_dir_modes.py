"""Every file nfvo creates in its data directory is owner-only (issue 12, item 6).

``nfvo serve`` starts on a fresh data directory with its default SQLite database under an
ordinary umask (022); it then registers a sim VIM, onboards a package and serves one of its
artifacts, so that the database and its WAL, the workflow database, the sim VIM's state file,
the package cache, the vault key and the admin credentials all exist. Walking the directory,
every file must be 0600 and every directory 0700. A second start narrows what an older
version left readable.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.proc import Server

from nfvo.samples import build_sample

PASSWORD = "modes-test-pw-1"
EXPECTED = {"nfvo.db", "nfvo.db-wal", "nfvo.db-shm", "workflows.db", "secret.key"}


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _modes(root: Path) -> dict[str, int]:
    out = {".": stat.S_IMODE(root.stat().st_mode)}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            out[str(path.relative_to(root))] = stat.S_IMODE(path.lstat().st_mode)
    return out


def _do_work(srv: Server) -> str:
    with srv.client("admin", PASSWORD) as c:
        r = c.post(
            "/admin/v1/vim_accounts", json={"name": "s", "vim_type": "sim", "config": {"hosts": 2}}
        )
        assert r.status_code == 201, r.text
        vim_id = r.json()["id"]
        pkg = c.post("/vnfpkgm/v2/vnf_packages", json={}).json()
        r = c.put(
            f"/vnfpkgm/v2/vnf_packages/{pkg['id']}/package_content",
            content=build_sample("vnf-db"),
            headers={"Content-Type": "application/zip"},
        )
        assert r.status_code == 202
        for _ in range(600):
            info = c.get(f"/vnfpkgm/v2/vnf_packages/{pkg['id']}").json()
            if info["onboardingState"] == "ONBOARDED":
                break
            time.sleep(0.05)
        r = c.get(f"/vnfpkgm/v2/vnf_packages/{pkg['id']}/artifacts/ChangeLog.txt")
        assert r.status_code == 200
        for _ in range(200):
            v = c.get(f"/admin/v1/vim_accounts/{vim_id}").json()
            if v["_admin"]["operationalState"] != "PROCESSING":
                break
            time.sleep(0.05)
        return vim_id


def _assert_private(data_dir: Path, vim_id: str) -> None:
    modes = _modes(data_dir)
    present = set(modes)
    assert EXPECTED <= present, sorted(present)
    assert f"sim/{vim_id}.db" in present and "cache" in present, sorted(present)
    assert any(p.startswith("cache/") and p.endswith(".pkg") for p in present), sorted(present)
    loose = {
        p: oct(m) for p, m in modes.items() if m != (0o700 if (data_dir / p).is_dir() else 0o600)
    }
    assert not loose, f"not owner-only: {loose}"


def test_every_data_dir_file_is_owner_only(tmp_path: Path, umask_022: None) -> None:
    env = {"NFVO_DATABASE_URL": "", "NFVO_ADMIN_PASSWORD": PASSWORD, "NFVO_SECRET_KEY": ""}
    data_dir = tmp_path / "d"
    srv = Server(data_dir, env).start()
    try:
        vim_id = _do_work(srv)
        _assert_private(data_dir, vim_id)
    finally:
        srv.kill()
    # an older version's loose modes are narrowed on the next start
    for path in (data_dir, data_dir / "nfvo.db", data_dir / "nfvo.db-wal", data_dir / "sim"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    (data_dir / "sim" / f"{vim_id}.db").chmod(0o644)
    again = Server(data_dir, env).start()
    try:
        with again.client("admin", PASSWORD) as c:
            assert c.post(f"/admin/v1/vim_accounts/{vim_id}/sync").status_code == 200
        _assert_private(data_dir, vim_id)
    finally:
        again.kill()
