"""First start creates the admin client once, even when several nodes start together."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from nfvo.api.security import bootstrap_admin, read_admin_credentials, verify_secret
from nfvo.config import Settings
from nfvo.inventory.db import Database
from nfvo.inventory.repositories import ClientRepository


@pytest.fixture
def db(db_url: str) -> Database:
    d = Database(db_url)
    d.migrate()
    yield d
    d.dispose()


def test_first_start_writes_a_generated_password_once(db: Database, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url="sqlite://")
    path = bootstrap_admin(db, settings)
    assert path is not None and (Path(path).stat().st_mode & 0o777) == 0o600
    user, password = read_admin_credentials(tmp_path)
    with db.session() as s:
        assert verify_secret(password, ClientRepository(s).get(user).secret_hash)
    assert bootstrap_admin(db, settings) is None  # second start: nothing new
    assert read_admin_credentials(tmp_path) == (user, password)


def test_losing_the_race_to_create_the_admin_is_not_an_error(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    winner = tmp_path / "winner"
    loser = tmp_path / "loser"
    winner.mkdir()
    loser.mkdir()
    assert bootstrap_admin(db, Settings(data_dir=winner, database_url="sqlite://"))
    # the loser checked before the winner's insert committed: it sees no admin, then inserts
    monkeypatch.setattr(ClientRepository, "get", lambda self, client_id: None)
    assert bootstrap_admin(db, Settings(data_dir=loser, database_url="sqlite://")) is None
    assert not (loser / "admin-credentials").exists()  # its password would not work
    monkeypatch.undo()
    user, password = read_admin_credentials(winner)
    with db.session() as s:
        assert verify_secret(password, ClientRepository(s).get(user).secret_hash)


def test_nodes_starting_together_create_one_admin(db: Database, tmp_path: Path) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(3)

    def node(i: int) -> None:
        data = tmp_path / f"node{i}"
        data.mkdir()
        start.wait()
        try:
            bootstrap_admin(db, Settings(data_dir=data, database_url="sqlite://"))
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=node, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    written = [p for p in tmp_path.glob("node*/admin-credentials")]
    assert len(written) == 1
    user, password = read_admin_credentials(written[0].parent)
    with db.session() as s:
        assert verify_secret(password, ClientRepository(s).get(user).secret_hash)
