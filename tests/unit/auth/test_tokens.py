"""TokenService across processes sharing one database (two services stand for two API
processes): revocation and rotation seen within the refresh time, the startup key migration
run by several processes at once, and the cached-only check never touching the database."""

from __future__ import annotations

import threading
import time

import jwt
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from nfvo.auth.service import ClientService, Principal, RevokedToken, Role, TokenService
from nfvo.inventory.db import Database
from nfvo.inventory.repositories import SigningKeyRepository
from nfvo.resources.vault import Vault, VaultError

REFRESH = 0.4


@pytest.fixture
def vault() -> Vault:
    return Vault(Fernet.generate_key())


def _pair(db: Database, vault: Vault) -> tuple[TokenService, TokenService]:
    return (
        TokenService(db, 600, vault, refresh_seconds=REFRESH),
        TokenService(db, 600, vault, refresh_seconds=REFRESH),
    )


def _refused_within(tokens: TokenService, token: str, seconds: float) -> float:
    start = time.monotonic()
    while True:
        try:
            tokens.verify(token)
        except RevokedToken:
            return time.monotonic() - start
        assert time.monotonic() - start < seconds, "still accepted"
        time.sleep(0.05)


def test_a_revocation_on_one_process_reaches_the_other_within_the_refresh(
    db: Database, vault: Vault
) -> None:
    one, two = _pair(db, vault)
    clients = ClientService(db, one)
    for cid in ("a", "b", "c"):
        clients.create(cid, f"{cid}-secret-x", Role.operator)
    tok = {cid: one.issue(clients.get(cid))[0] for cid in ("a", "b", "c")}
    for cid in tok:
        assert two.verify(tok[cid]) == Principal(cid, Role.operator, None)
    clients.delete("a")
    clients.update("b", disabled=True)
    clients.revoke_tokens("c")
    for cid in tok:
        with pytest.raises(RevokedToken):
            one.verify(tok[cid])  # at once where the change was made
        assert _refused_within(two, tok[cid], REFRESH + 1.0) <= REFRESH + 1.0


def test_a_rotation_on_one_process_reaches_the_other(db: Database, vault: Vault) -> None:
    one, two = _pair(db, vault)
    clients = ClientService(db, one)
    token = one.issue(clients.create("a", "a-secret-x", Role.reader))[0]
    assert two.verify(token).client_id == "a"
    new = one.keys.rotate(0)
    with pytest.raises(RevokedToken, match="rotated out"):
        one.verify(token)
    _refused_within(two, token, REFRESH + 1.0)
    time.sleep(REFRESH + 0.1)
    fresh = two.issue(clients.get("a"))[0]  # the other process signs with the new key too
    assert jwt.get_unverified_header(fresh)["kid"] == new.kid
    assert one.verify(fresh).client_id == "a"


def test_expired_keys_are_deleted_by_the_next_rotation(db: Database, vault: Vault) -> None:
    tokens = TokenService(db, 600, vault)
    first = tokens.keys.current()
    tokens.keys.rotate(0)
    tokens.keys.rotate(0)
    kids = [k.kid for k in tokens.keys.list()]
    assert first.kid not in kids and len(kids) == 2


def test_rotations_in_a_loop_keep_a_bounded_number_of_keys(db: Database, vault: Vault) -> None:
    tokens = TokenService(db, 600, vault)
    for _ in range(20):
        newest = tokens.keys.rotate(600)
    keys = tokens.keys.list()
    assert len(keys) == tokens.keys.MAX_KEYS
    assert [k.kid for k in keys if k.signs()] == [newest.kid]


def test_the_cached_check_never_reads_the_database(db: Database, vault: Vault) -> None:
    tokens = TokenService(db, 600, vault, refresh_seconds=REFRESH)
    clients = ClientService(db, tokens)
    token = tokens.issue(clients.create("a", "a-secret-x", Role.reader))[0]
    assert tokens.verify(token).client_id == "a"
    assert tokens.verify_cached(token) == Principal("a", Role.reader, None)
    time.sleep(REFRESH + 0.1)
    assert tokens.verify_cached(token) is None  # due for a re-read: the caller offloads it
    assert tokens.verify(token).client_id == "a"
    assert tokens.verify_cached(token) is not None


def test_processes_starting_together_migrate_the_key_once(db: Database, vault: Vault) -> None:
    with db.session() as s:
        s.execute(
            text("INSERT INTO server_settings (key, value) VALUES ('jwt_signing_key', 'plain')")
        )
    made: list[TokenService] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def start() -> None:
        barrier.wait()
        try:
            made.append(TokenService(db, 600, vault))
        except BaseException as exc:  # noqa: BLE001 - asserted empty below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with db.session() as s:
        settings = s.execute(text("SELECT key FROM server_settings")).scalars().all()
        keys = SigningKeyRepository(s).list()
    assert "jwt_signing_key" not in settings
    assert 1 <= len(keys) <= 4 and all(k.retired_at is None for k in keys)
    # whichever key each process signs with, every process accepts the others' tokens
    clients = ClientService(db, made[0])
    client = clients.create("a", "a-secret-x", Role.reader)
    time.sleep(2.1)  # every process re-reads the keys
    for signer in made:
        token = signer.issue(client)[0]
        assert all(other.verify(token).client_id == "a" for other in made)


def test_another_vault_key_cannot_read_the_signing_key(db: Database, vault: Vault) -> None:
    TokenService(db, 600, vault)
    with pytest.raises(VaultError, match="same NFVO_SECRET_KEY"):
        TokenService(db, 600, Vault(Fernet.generate_key()))
