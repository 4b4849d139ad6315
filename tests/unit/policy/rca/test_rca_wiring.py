"""Wiring: with RCA the fault manager is attached without listening (the engine listens and
calls it); without RCA it listens as before."""

from __future__ import annotations

from pathlib import Path

from nfvo.inventory.db import Database
from nfvo.monitoring import fm


class Hub:
    def __init__(self) -> None:
        self.listeners: list = []

    def on_fault(self, fn) -> None:
        self.listeners.append(fn)


def test_attach_listens_unless_told_not_to(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    db.migrate()
    hub = Hub()
    manager = fm.attach(hub, db)
    assert hub.listeners == [manager.handle]
    quiet = Hub()
    assert isinstance(fm.attach(quiet, db, listen=False), fm.FaultManager)
    assert quiet.listeners == []
