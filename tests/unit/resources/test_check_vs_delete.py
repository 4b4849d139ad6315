"""A connectivity check that finishes after its account was deleted records nothing and
raises nothing (it runs as a request's background task: an exception there used to end the
client's kept-alive connection, and the client's next request got no answer)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nfvo.inventory.db import Database
from nfvo.resources import sdn as sdn_drivers
from nfvo.resources.service import ResourceService, Scope
from nfvo.resources.vault import Vault, load_key

GLOBAL = Scope(None)


@pytest.fixture
def resources(tmp_path: Path, db_url: str) -> ResourceService:
    db = Database(db_url)
    db.migrate()
    return ResourceService(db, Vault(load_key(tmp_path)), tmp_path)


class _DeletedDuringCheck:
    """An SDN driver whose check deletes the controller it checks (the race, made certain)."""

    def __init__(self, resources: ResourceService, sdn_id: str) -> None:
        self.resources, self.sdn_id = resources, sdn_id

    def check(self) -> None:
        self.resources.delete_sdn(self.sdn_id, GLOBAL)


def test_sdn_deleted_during_its_check(
    resources: ResourceService, monkeypatch: pytest.MonkeyPatch
) -> None:
    row = resources.create_sdn({"name": "sdn-race", "type": "sim"}, GLOBAL)

    def driver(*_a: Any, **_kw: Any) -> _DeletedDuringCheck:
        return _DeletedDuringCheck(resources, row.id)

    monkeypatch.setattr(sdn_drivers, "create_sdn_driver", driver)
    resources.check_sdn(row.id)  # no StaleDataError
    with pytest.raises(Exception, match="does not exist"):
        resources.get_sdn(row.id, GLOBAL)


def test_sdn_check_records_its_outcome(
    resources: ResourceService, monkeypatch: pytest.MonkeyPatch
) -> None:
    row = resources.create_sdn({"name": "sdn-ok", "type": "sim"}, GLOBAL)

    class Fine:
        def check(self) -> None:
            pass

    monkeypatch.setattr(sdn_drivers, "create_sdn_driver", lambda *a, **kw: Fine())
    resources.check_sdn(row.id)
    assert resources.get_sdn(row.id, GLOBAL).operational_state == "ENABLED"


def test_vim_state_of_a_deleted_account_is_not_recorded(resources: ResourceService) -> None:
    vim = resources.create_vim({"name": "v-race", "vim_type": "sim", "config": {}}, GLOBAL)
    resources.delete_vim(vim.id, GLOBAL, force=True)
    resources._set_state(vim.id, "ENABLED", "connectivity check and inventory sync succeeded")
    assert all(v.id != vim.id for v in resources.list_vims(GLOBAL))
