"""Migration 0011: the table of placement records, on SQLite and PostgreSQL; the repository
writes one row per op occurrence, replaces it when the step runs again, and deletes it with
the NS's op history; downgrade drops it."""

from __future__ import annotations

from sqlalchemy import inspect
from tests.support.migrations import alembic

from nfvo.inventory.db import Database
from nfvo.inventory.lcm_repo import OpOccRepository, PlacementRecordRepository
from nfvo.inventory.models import NsLcmOpOcc


def test_table_records_replaces_deletes_and_downgrades(db_url: str) -> None:
    db = Database(db_url)
    try:
        alembic(db, "upgrade", "0010")
        assert "ns_lcm_op_placements" not in inspect(db.engine).get_table_names()
        alembic(db, "upgrade", "0011")
        assert "ns_lcm_op_placements" in inspect(db.engine).get_table_names()
        op = NsLcmOpOcc(
            id="op-1", ns_instance_id="ns-1", tenant_id="t", operation="SCALE", state="STARTING"
        )
        with db.session() as s:
            OpOccRepository(s).add(op)
            PlacementRecordRepository(s).put(op, [{"vimAccountId": "v", "strategy": "a"}])
        with db.session() as s:
            PlacementRecordRepository(s).put(op, [{"vimAccountId": "v", "strategy": "b"}])
        with db.session() as s:
            row = PlacementRecordRepository(s).get("op-1")
            assert row is not None and row.vims == [{"vimAccountId": "v", "strategy": "b"}]
            assert (row.ns_instance_id, row.tenant_id, row.operation) == ("ns-1", "t", "SCALE")
        with db.session() as s:
            OpOccRepository(s).delete_for("ns-1")
        with db.session() as s:
            assert PlacementRecordRepository(s).get("op-1") is None
        alembic(db, "downgrade", "0010")
        assert "ns_lcm_op_placements" not in inspect(db.engine).get_table_names()
    finally:
        db.engine.dispose()
