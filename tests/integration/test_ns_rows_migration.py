"""Migration 0006: NS instances kept as JSON documents (plan.vnfs, vnf_records, vl_records,
scale_status.vnf) become rows, on SQLite and PostgreSQL, and read back through the API's
read model exactly as before."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import text
from tests.support.migrations import alembic

from nfvo.inventory.db import Database
from nfvo.inventory.lcm_repo import NsRecordsRepository, NsRepository

NS = "6f0c4f3e-0000-4000-8000-000000000001"
VIM = "6f0c4f3e-0000-4000-8000-0000000000aa"


def _spec(vnf_id: str) -> dict:
    return {
        "ns_instance_id": NS,
        "vnf_instance_id": vnf_id,
        "vnf_profile_id": "web",
        "vnfd_id": "vnfd-web",
        "flavour_id": "default",
        "vim_account_id": VIM,
        "internal_vls": [{"vl_id": "int", "cidr": "10.1.0.0/24"}],
        "vdus": [
            {
                "vdu_id": "vdu",
                "name": "vdu",
                "count": 2,
                "vcpus": 1,
                "ram_mib": 512,
                "disk_gib": 1,
                "cps": [],
            }
        ],
        "ext_networks": {"ns-vl": ""},
        "hosts": {},
        "params": {},
    }


def _vnfc(vnf_id: str, index: int) -> dict:
    return {
        "vdu_id": "vdu",
        "index": index,
        "key": f"{vnf_id}/vdu/vdu/{index}",
        "server_id": f"srv-{vnf_id}-{index}",
        "status": "ACTIVE",
        "host": f"host-{index}",
        "zone": "az1",
        "port_ids": {"cp": f"port-{vnf_id}-{index}"},
        "addresses": {"cp": [f"10.1.0.{10 + index}"]},
    }


def test_json_documents_become_rows(db_url: str) -> None:
    db = Database(db_url)
    try:
        alembic(db, "upgrade", "0005")
        plan = {
            "virtual_links": [
                {"vl_id": "ns-vl", "cidr": "172.16.0.0/24", "ip_version": 4, "vim_account_id": VIM}
            ],
            "vnfs": {"vnf-a": _spec("vnf-a"), "vnf-b": _spec("vnf-b")},
            "vnf_layers": [["vnf-a", "vnf-b"]],
            "placement": {},
        }
        records = {
            "vnf-a": {
                "vnf_instance_id": "vnf-a",
                "vim_account_id": VIM,
                "vnfcs": [_vnfc("vnf-a", 0), _vnfc("vnf-a", 1)],
                "vls": [{"vl_id": "int", "network_id": "net-a", "subnet_id": "sub-a"}],
            }
        }
        vl_records = {"ns-vl": {VIM: {"network_id": "net-ns", "subnet_id": "sub-ns"}}}
        scale = {"vnf": {"vnf-a": {"web_scale": 1}}, "ns": {"ns_aspect": 2}}
        now = datetime.now(UTC)
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO ns_instances (id, tenant_id, nsd_info_id, nsd_id, name, "
                    "description, ns_state, flavour_id, instantiation_level_id, current_op_id, "
                    "plan, vnf_records, vl_records, scale_status, revision, created_at, "
                    "updated_at) VALUES (:id, NULL, 'nsd-info', 'nsd', 'old', NULL, "
                    "'INSTANTIATED', 'default', NULL, NULL, :plan, :rec, :vl, :scale, 1, "
                    ":now, :now)"
                ),
                {
                    "id": NS,
                    "plan": json.dumps(plan),
                    "rec": json.dumps(records),
                    "vl": json.dumps(vl_records),
                    "scale": json.dumps(scale),
                    "now": now,
                },
            )
        db.migrate()
        with db.session() as s:
            ns = NsRepository(s).get(NS, with_plan=True)
            repo = NsRecordsRepository(s)
            vnfs = repo.vnfs(NS)
            vnfcs = repo.vnfcs("vnf-a")
            vls = repo.vnf_vls("vnf-a")
            ns_vls = repo.ns_vls(NS)
        assert ns is not None
        assert "vnfs" not in ns.plan and ns.plan["vnf_layers"] == [["vnf-a", "vnf-b"]]
        assert ns.scale_status == {"ns_aspect": 2}
        assert [(v.id, v.seq, v.instantiated, v.scale_levels) for v in vnfs] == [
            ("vnf-a", 0, True, {"web_scale": 1}),
            ("vnf-b", 1, False, {}),
        ]
        assert vnfs[0].spec == _spec("vnf-a")
        assert [(c.idx, c.server_id, c.host, c.port_ids, c.addresses) for c in vnfcs] == [
            (0, "srv-vnf-a-0", "host-0", {"cp": "port-vnf-a-0"}, {"cp": ["10.1.0.10"]}),
            (1, "srv-vnf-a-1", "host-1", {"cp": "port-vnf-a-1"}, {"cp": ["10.1.0.11"]}),
        ]
        assert [(v.vl_id, v.network_id, v.subnet_id) for v in vls] == [("int", "net-a", "sub-a")]
        assert [(v.vl_id, v.vim_account_id, v.network_id) for v in ns_vls] == [
            ("ns-vl", VIM, "net-ns")
        ]
        with db.engine.connect() as conn:
            cols = list(conn.execute(text("SELECT * FROM ns_instances")).keys())
        assert "vnf_records" not in cols and "vl_records" not in cols
    finally:
        db.dispose()
