"""list indexes: keyset paging by (created_at, id) / (start_time, id) and common filters

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# (index name, table, columns): every list reads a range of its sort key, alone or behind the
# tenant or a frequently filtered column.
INDEXES = (
    ("ix_ns_instances_created", "ns_instances", ["created_at", "id"]),
    ("ix_ns_instances_tenant_created", "ns_instances", ["tenant_id", "created_at", "id"]),
    ("ix_ns_instances_state_created", "ns_instances", ["ns_state", "created_at", "id"]),
    ("ix_ns_instances_nsd_id", "ns_instances", ["nsd_id"]),
    ("ix_ns_lcm_op_occs_start", "ns_lcm_op_occs", ["start_time", "id"]),
    ("ix_ns_lcm_op_occs_tenant_start", "ns_lcm_op_occs", ["tenant_id", "start_time", "id"]),
    ("ix_ns_lcm_op_occs_state_start", "ns_lcm_op_occs", ["state", "start_time", "id"]),
    ("ix_ns_lcm_op_occs_ns_start", "ns_lcm_op_occs", ["ns_instance_id", "start_time", "id"]),
    ("ix_catalog_packages_kind_created", "catalog_packages", ["kind", "created_at", "id"]),
    ("ix_lccn_subscriptions_created", "lccn_subscriptions", ["created_at", "id"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
