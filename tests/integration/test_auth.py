"""Token lifetime and secret storage."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from tests.support.live import ADMIN_PASSWORD, start_live

from nfvo.api.security import hash_secret, verify_secret
from nfvo.inventory.repositories import ClientRepository


def test_expired_token_is_refused(db_url: str, tmp_path: Path) -> None:
    live = start_live(tmp_path / "d", db_url, token_ttl_seconds=4)
    try:
        tok = live.token("admin", ADMIN_PASSWORD)
        h = {"Authorization": f"Bearer {tok}"}
        assert httpx.get(live.base_url + "/vnfpkgm/v2/vnf_packages", headers=h).status_code == 200
        time.sleep(4.5)
        r = httpx.get(live.base_url + "/vnfpkgm/v2/vnf_packages", headers=h)
        assert r.status_code == 401 and "expired" in r.json()["detail"]
        # the secret is stored as a salted slow hash, never in clear
        with live.services.db.session() as s:
            stored = ClientRepository(s).get("admin").secret_hash
        assert ADMIN_PASSWORD not in stored and stored.startswith("scrypt$")
    finally:
        live.close()


def test_secret_hashes_are_salted() -> None:
    a, b = hash_secret("same-secret"), hash_secret("same-secret")
    assert a != b
    assert verify_secret("same-secret", a) and verify_secret("same-secret", b)
    assert not verify_secret("other", a)
    assert not verify_secret("same-secret", "garbage")
