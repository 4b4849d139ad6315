"""Effects of VIM events on the inventory: VNFC status, NS events, host state; idempotence."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from nfvo.inventory.db import Database
from nfvo.inventory.models import NsInstance, NsVnf, NsVnfc, VimAccount, VimHost
from nfvo.inventory.monitoring_repo import MonitoringRepository
from nfvo.monitoring import events
from nfvo.monitoring.nova import HostDown, HostUp, ServerError, ServerGone


def make_vim(db: Database, vim_id: str, hosts: tuple[str, ...] = ("compute-1",)) -> None:
    """A VIM account with synced hosts (all up)."""
    with db.session() as s:
        s.add(
            VimAccount(
                id=vim_id,
                name=f"vim-{vim_id[:8]}",
                vim_type="openstack",
                operational_state="ENABLED",
                config={},
                vim_info={},
            )
        )
        s.flush()
        for h in hosts:
            s.add(
                VimHost(
                    vim_id=vim_id,
                    name=h,
                    zone="nova",
                    state="up",
                    vcpus=8,
                    ram_mib=8192,
                    disk_gib=100,
                    usage_source="monitoring",
                )
            )


def make_ns(db: Database, vim_id: str, servers: dict[str, list[str]]) -> str:
    """An INSTANTIATED NS whose VNFs (vnf id -> server ids) run on ``vim_id``."""
    ns_id = str(uuid.uuid4())
    with db.session() as s:
        s.add(
            NsInstance(
                id=ns_id,
                nsd_info_id=str(uuid.uuid4()),
                nsd_id="nsd",
                name="ns",
                ns_state="INSTANTIATED",
                scale_status={},
            )
        )
        s.flush()
        for seq, (vnf_id, sids) in enumerate(servers.items()):
            s.add(
                NsVnf(
                    id=vnf_id,
                    ns_instance_id=ns_id,
                    seq=seq,
                    vnf_profile_id="p",
                    vnfd_id="vnfd",
                    flavour_id="default",
                    vim_account_id=vim_id,
                    spec={},
                    instantiated=True,
                    scale_levels={},
                )
            )
            s.flush()
            for i, sid in enumerate(sids):
                s.add(
                    NsVnfc(
                        vnf_instance_id=vnf_id,
                        vdu_id="vdu",
                        idx=i,
                        ns_instance_id=ns_id,
                        vim_account_id=vim_id,
                        key=f"vdu-{i}",
                        server_id=sid,
                        status="ACTIVE",
                        host="compute-1",
                        zone="nova",
                        port_ids={},
                        addresses={},
                    )
                )
    return ns_id


def statuses(db: Database, ns_id: str) -> dict[str, str]:
    """server id -> VNFC status of an NS."""
    with db.session() as s:
        rows = s.scalars(select(NsVnfc).where(NsVnfc.ns_instance_id == ns_id))
        return {c.server_id: c.status for c in rows}


def host_state(db: Database, vim_id: str, name: str) -> tuple[str, str]:
    with db.session() as s:
        h = s.get(VimHost, (vim_id, name))
        return h.state, h.usage_source


@pytest.fixture
def db(tmp_path) -> Iterator[Database]:
    d = Database(f"sqlite:///{tmp_path / 'm.db'}")
    d.migrate()
    yield d
    d.dispose()


def test_server_gone_marks_lost_once_and_records_one_event(db: Database) -> None:
    vim = str(uuid.uuid4())
    make_vim(db, vim)
    ns_id = make_ns(db, vim, {"vnf-a": ["s1", "s2"], "vnf-b": ["s3"]})
    out = events.apply(db, vim, ServerGone("s2", "instance.delete.end", "msg-1"))
    assert [(e["vnfInstanceId"], e["vnfcKey"], e["kind"]) for e in out] == [
        ("vnf-a", "vdu-1", "SERVER_LOST")
    ]
    assert out[0]["detail"]["reason"] == "instance.delete.end"
    assert out[0]["detail"]["previousStatus"] == "ACTIVE"
    assert statuses(db, ns_id) == {"s1": "ACTIVE", "s2": "LOST", "s3": "ACTIVE"}
    # the same event again (redelivery, duplicate): nothing more
    assert events.apply(db, vim, ServerGone("s2", "instance.delete.end", "msg-1")) == []
    assert events.apply(db, vim, ServerGone("s2", "instance.update", "msg-2")) == []
    with db.session() as s:
        rows = MonitoringRepository(s).events(ns_id)
    assert [(r.kind, r.vnfc_key) for r in rows] == [("SERVER_LOST", "vdu-1")]


def test_server_error_then_gone_escalates_but_lost_is_final(db: Database) -> None:
    vim = str(uuid.uuid4())
    make_vim(db, vim)
    ns_id = make_ns(db, vim, {"vnf-a": ["s1"]})
    first = events.apply(db, vim, ServerError("s1", "NoValidHost: none"))
    assert (
        first[0]["kind"] == "SERVER_ERROR" and first[0]["detail"]["reason"] == "NoValidHost: none"
    )
    assert statuses(db, ns_id) == {"s1": "ERROR"}
    assert events.apply(db, vim, ServerError("s1", "again")) == []
    assert events.apply(db, vim, ServerGone("s1", "deleted"))[0]["kind"] == "SERVER_LOST"
    assert events.apply(db, vim, ServerError("s1", "late")) == []
    assert statuses(db, ns_id) == {"s1": "LOST"}


def test_server_of_another_vim_or_unknown_changes_nothing(db: Database) -> None:
    vim, other = str(uuid.uuid4()), str(uuid.uuid4())
    make_vim(db, vim)
    make_vim(db, other)
    ns_id = make_ns(db, vim, {"vnf-a": ["s1"]})
    assert events.apply(db, other, ServerGone("s1", "deleted")) == []
    assert events.apply(db, vim, ServerGone("nope", "deleted")) == []
    assert statuses(db, ns_id) == {"s1": "ACTIVE"}


def test_same_server_in_two_ns_records_both(db: Database) -> None:
    vim = str(uuid.uuid4())
    make_vim(db, vim)
    a = make_ns(db, vim, {"vnf-a": ["shared"]})
    b = make_ns(db, vim, {"vnf-b": ["shared"]})
    out = events.apply(db, vim, ServerGone("shared", "deleted"))
    assert sorted(e["nsInstanceId"] for e in out) == sorted([a, b])


def test_host_down_and_up_keep_usage_source(db: Database) -> None:
    vim = str(uuid.uuid4())
    make_vim(db, vim, ("compute-1", "compute-2.example.org"))
    assert events.apply(db, vim, HostDown("compute-1", "forced_down")) == []
    assert host_state(db, vim, "compute-1") == ("down", "monitoring")
    events.apply(db, vim, HostDown("compute-1", "forced_down"))
    assert host_state(db, vim, "compute-1") == ("down", "monitoring")
    events.apply(db, vim, HostUp("compute-1"))
    assert host_state(db, vim, "compute-1") == ("up", "monitoring")
    # Nova's short service host name matches the synced FQDN
    events.apply(db, vim, HostDown("compute-2"))
    assert host_state(db, vim, "compute-2.example.org")[0] == "down"
    events.apply(db, vim, HostDown("unknown-host"))  # not synced: ignored, no error
