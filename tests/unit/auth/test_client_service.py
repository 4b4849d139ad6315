"""API clients behind ClientService: authentication, tenant scoping, concurrent writers."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from nfvo.auth.service import ApiClient, ClientService, Role
from nfvo.errors import Conflict, NfvoError, NotFound
from nfvo.inventory.db import Database
from nfvo.inventory.repositories import ClientRepository


@pytest.fixture
def clients(db: Database) -> ClientService:
    return ClientService(db)


def test_authenticate_needs_the_right_secret_of_an_enabled_client(
    clients: ClientService, db: Database
) -> None:
    made = clients.create("ci-bot", "right-secret", Role.operator, None)
    assert made == ApiClient("ci-bot", "operator", None, False)
    assert clients.authenticate("ci-bot", "right-secret") == made
    assert clients.authenticate("ci-bot", "wrong-secret") is None
    assert clients.authenticate("nobody", "right-secret") is None
    with db.session() as s:
        ClientRepository(s).get("ci-bot").disabled = True
    assert clients.authenticate("ci-bot", "right-secret") is None


def test_the_secret_is_stored_hashed(clients: ClientService, db: Database) -> None:
    clients.create("ci-bot", "clear-secret-value", Role.reader)
    with db.session() as s:
        stored = ClientRepository(s).get("ci-bot").secret_hash
    assert "clear-secret-value" not in stored and stored.startswith("scrypt$")


def test_create_twice_is_a_conflict(clients: ClientService) -> None:
    clients.create("dup", "secret-one", Role.reader)
    with pytest.raises(Conflict, match="'dup' already exists"):
        clients.create("dup", "secret-two", Role.admin)
    assert clients.authenticate("dup", "secret-one") is not None
    assert clients.authenticate("dup", "secret-two") is None


def test_list_and_delete_are_scoped_to_a_tenant(clients: ClientService) -> None:
    clients.create("a-1", "secret-a1", Role.reader, "tenant-a")
    clients.create("b-1", "secret-b1", Role.admin, "tenant-b")
    clients.create("root", "secret-root", Role.admin)
    assert [c.client_id for c in clients.list()] == ["a-1", "b-1", "root"]
    assert [c.client_id for c in clients.list("tenant-a")] == ["a-1"]
    with pytest.raises(NotFound, match="'b-1' does not exist"):
        clients.delete("b-1", "tenant-a")  # another tenant's client looks absent
    clients.delete("b-1", "tenant-b")
    clients.delete("root")
    with pytest.raises(NotFound):
        clients.delete("root")
    assert [c.client_id for c in clients.list()] == ["a-1"]


def test_a_create_that_lost_the_race_after_its_check_is_a_conflict(
    clients: ClientService, monkeypatch: pytest.MonkeyPatch
) -> None:
    clients.create("taken", "secret-first", Role.reader)
    # the other request inserted between this one's check and its insert
    monkeypatch.setattr(ClientRepository, "get", lambda self, client_id: None)
    with pytest.raises(Conflict, match="'taken' already exists"):
        clients.create("taken", "secret-second", Role.admin)
    monkeypatch.undo()
    assert clients.authenticate("taken", "secret-first") is not None


def _race(n: int, action: Callable[[int], object]) -> tuple[int, list[NfvoError]]:
    """Run ``action(i)`` in ``n`` threads released together; (successes, domain errors)."""
    barrier = threading.Barrier(n)
    ok: list[int] = []
    errors: list[NfvoError] = []
    unexpected: list[BaseException] = []

    def run(i: int) -> None:
        barrier.wait()
        try:
            action(i)
            ok.append(i)
        except NfvoError as exc:
            errors.append(exc)
        except BaseException as exc:  # noqa: BLE001 - asserted empty below
            unexpected.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert unexpected == []
    return len(ok), errors


def test_concurrent_creates_of_one_id_make_one_client(clients: ClientService) -> None:
    created, errors = _race(4, lambda i: clients.create("same", f"secret-{i}-xx", Role.reader))
    assert created == 1
    assert len(errors) == 3 and all(isinstance(e, Conflict) for e in errors)
    assert [c.client_id for c in clients.list()] == ["same"]


def test_concurrent_deletes_of_one_client_succeed_once(clients: ClientService) -> None:
    clients.create("gone", "secret-gone", Role.reader)
    deleted, errors = _race(4, lambda i: clients.delete("gone"))
    assert deleted == 1
    assert len(errors) == 3 and all(isinstance(e, NotFound) for e in errors)


def test_update_changes_the_secret_and_disables_within_a_tenant_only(
    clients: ClientService,
) -> None:
    clients.create("a-1", "secret-a1-x", Role.reader, "tenant-a")
    gen = clients.get("a-1").token_generation
    with pytest.raises(NotFound):
        clients.update("a-1", "tenant-b", disabled=True)  # another tenant's: absent
    assert clients.update("a-1", "tenant-a", disabled=False).token_generation == gen
    changed = clients.update("a-1", "tenant-a", secret="secret-a1-y")
    assert changed.token_generation != gen  # a new secret ends the old tokens
    assert clients.authenticate("a-1", "secret-a1-x") is None
    assert clients.authenticate("a-1", "secret-a1-y") == changed
    off = clients.update("a-1", disabled=True)
    assert off.disabled and off.token_generation != changed.token_generation
    assert clients.authenticate("a-1", "secret-a1-y") is None
    on = clients.update("a-1", disabled=False)
    assert on.token_generation == off.token_generation  # enabling brings no token back
    clients.revoke_tokens("a-1")
    assert clients.get("a-1").token_generation != on.token_generation
    with pytest.raises(NotFound):
        clients.revoke_tokens("ghost")


def test_oversized_credentials_fail_like_wrong_ones(clients: ClientService) -> None:
    clients.create("c", "secret-c-xx", Role.reader)
    assert clients.authenticate("c" * 129, "secret-c-xx") is None
    assert clients.authenticate("c", "x" * 5000) is None
    assert clients.authenticate("c", "secret-c-xx") is not None
