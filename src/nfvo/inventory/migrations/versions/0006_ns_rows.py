"""NS records as rows: VNF instances, VNFCs, VNF and NS virtual links

Revision ID: 0006
Revises: 0005

Until 0005 an NS kept what it was made of as JSON documents on its own row (``plan.vnfs``,
``vnf_records``, ``vl_records``, ``scale_status.vnf``) that concurrent steps rewrote whole.
This revision moves them into rows of their own and converts existing NS instances.
"""

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _create_tables() -> None:
    op.create_table(
        "ns_vnfs",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("ns_instance_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("vnf_profile_id", sa.String(length=255), nullable=False),
        sa.Column("vnfd_id", sa.String(length=255), nullable=False),
        sa.Column("flavour_id", sa.String(length=255), nullable=False),
        sa.Column("vim_account_id", sa.String(length=36), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("instantiated", sa.Boolean(), nullable=False),
        sa.Column("scale_levels", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["ns_instance_id"], ["ns_instances.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ns_vnfs_ns_instance_id", "ns_vnfs", ["ns_instance_id"])
    op.create_index("ix_ns_vnfs_vim_account_id", "ns_vnfs", ["vim_account_id"])
    op.create_table(
        "ns_vnfcs",
        sa.Column("vnf_instance_id", sa.String(length=255), nullable=False),
        sa.Column("vdu_id", sa.String(length=255), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("ns_instance_id", sa.String(length=36), nullable=False),
        sa.Column("vim_account_id", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=512), nullable=False),
        sa.Column("server_id", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=True),
        sa.Column("zone", sa.String(length=255), nullable=True),
        sa.Column("flavor", sa.String(length=255), nullable=True),
        sa.Column("image", sa.String(length=255), nullable=True),
        sa.Column("port_ids", sa.JSON(), nullable=False),
        sa.Column("addresses", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["vnf_instance_id"], ["ns_vnfs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("vnf_instance_id", "vdu_id", "idx"),
    )
    op.create_index("ix_ns_vnfcs_ns_instance_id", "ns_vnfcs", ["ns_instance_id"])
    op.create_index("ix_ns_vnfcs_vim_server", "ns_vnfcs", ["vim_account_id", "server_id"])
    op.create_table(
        "ns_vnf_vls",
        sa.Column("vnf_instance_id", sa.String(length=255), nullable=False),
        sa.Column("vl_id", sa.String(length=255), nullable=False),
        sa.Column("ns_instance_id", sa.String(length=36), nullable=False),
        sa.Column("network_id", sa.String(length=255), nullable=False),
        sa.Column("subnet_id", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(["vnf_instance_id"], ["ns_vnfs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("vnf_instance_id", "vl_id"),
    )
    op.create_index("ix_ns_vnf_vls_ns_instance_id", "ns_vnf_vls", ["ns_instance_id"])
    op.create_table(
        "ns_vls",
        sa.Column("ns_instance_id", sa.String(length=36), nullable=False),
        sa.Column("vl_id", sa.String(length=255), nullable=False),
        sa.Column("vim_account_id", sa.String(length=36), nullable=False),
        sa.Column("network_id", sa.String(length=255), nullable=False),
        sa.Column("subnet_id", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(["ns_instance_id"], ["ns_instances.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("ns_instance_id", "vl_id", "vim_account_id"),
    )


def _rows_of(ns: Any) -> dict[str, list[dict[str, Any]]]:
    """The rows one NS instance's JSON documents become."""
    plan = ns.plan or {}
    records = ns.vnf_records or {}
    levels = (ns.scale_status or {}).get("vnf") or {}
    now = datetime.now(UTC)
    out: dict[str, list[dict[str, Any]]] = {"vnfs": [], "vnfcs": [], "vnf_vls": [], "vls": []}
    for seq, (vnf_id, spec) in enumerate((plan.get("vnfs") or {}).items()):
        record = records.get(vnf_id)
        vim = spec["vim_account_id"]
        out["vnfs"].append(
            {
                "id": vnf_id,
                "ns_instance_id": ns.id,
                "seq": seq,
                "vnf_profile_id": spec["vnf_profile_id"],
                "vnfd_id": spec["vnfd_id"],
                "flavour_id": spec["flavour_id"],
                "vim_account_id": vim,
                "spec": spec,
                "instantiated": record is not None,
                "scale_levels": levels.get(vnf_id) or {},
            }
        )
        for c in (record or {}).get("vnfcs") or []:
            out["vnfcs"].append(
                {
                    "vnf_instance_id": vnf_id,
                    "vdu_id": c["vdu_id"],
                    "idx": c["index"],
                    "ns_instance_id": ns.id,
                    "vim_account_id": record.get("vim_account_id") or vim,
                    "key": c["key"],
                    "server_id": c.get("server_id"),
                    "status": c.get("status") or "UNKNOWN",
                    "host": c.get("host"),
                    "zone": c.get("zone"),
                    "flavor": None,
                    "image": None,
                    "port_ids": c.get("port_ids") or {},
                    "addresses": c.get("addresses") or {},
                    "updated_at": now,
                }
            )
        for v in (record or {}).get("vls") or []:
            out["vnf_vls"].append(
                {
                    "vnf_instance_id": vnf_id,
                    "vl_id": v["vl_id"],
                    "ns_instance_id": ns.id,
                    "network_id": v["network_id"],
                    "subnet_id": v.get("subnet_id"),
                }
            )
    for vl_id, per_vim in (ns.vl_records or {}).items():
        for vim, r in per_vim.items():
            out["vls"].append(
                {
                    "ns_instance_id": ns.id,
                    "vl_id": vl_id,
                    "vim_account_id": vim,
                    "network_id": r["network_id"],
                    "subnet_id": r.get("subnet_id"),
                }
            )
    return out


def _read_documents() -> list[Any]:
    conn = op.get_bind()
    ns_t = sa.Table("ns_instances", sa.MetaData(), autoload_with=conn)
    q = sa.select(
        ns_t.c.id, ns_t.c.plan, ns_t.c.vnf_records, ns_t.c.vl_records, ns_t.c.scale_status
    )
    return list(conn.execute(q).all())


def _write_rows(documents: list[Any]) -> None:
    conn = op.get_bind()
    meta = sa.MetaData()
    ns_t = sa.Table("ns_instances", meta, autoload_with=conn)
    targets = {
        name: sa.Table(table, meta, autoload_with=conn)
        for name, table in (
            ("vnfs", "ns_vnfs"),
            ("vnfcs", "ns_vnfcs"),
            ("vnf_vls", "ns_vnf_vls"),
            ("vls", "ns_vls"),
        )
    }
    for ns in documents:
        rows = _rows_of(ns)
        for name in ("vnfs", "vnfcs", "vnf_vls", "vls"):
            if rows[name]:
                conn.execute(targets[name].insert(), rows[name])
        plan = {k: v for k, v in (ns.plan or {}).items() if k != "vnfs"} if ns.plan else None
        levels = (ns.scale_status or {}).get("ns") or {}
        conn.execute(ns_t.update().where(ns_t.c.id == ns.id).values(plan=plan, scale_status=levels))


def upgrade() -> None:
    # Read the documents and drop their columns before the child tables exist: on SQLite the
    # batch column drop recreates ns_instances, and dropping the old table would cascade-delete
    # rows that already referenced it.
    documents = _read_documents()
    with op.batch_alter_table("ns_instances", schema=None) as batch_op:
        batch_op.drop_column("vnf_records")
        batch_op.drop_column("vl_records")
    _create_tables()
    _write_rows(documents)


def downgrade() -> None:
    raise NotImplementedError("NS records cannot be folded back into JSON documents")
