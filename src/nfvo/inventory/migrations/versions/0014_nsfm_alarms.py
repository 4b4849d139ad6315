"""nsfm alarms: SOL005 NS fault management alarms, one active per (NS, fault)

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "nsfm_alarms",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("ns_instance_id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=True),
        sa.Column("fault_key", sa.Text(), nullable=False),
        sa.Column("fault_digest", sa.String(length=64), nullable=False),
        sa.Column("active_key", sa.String(length=64), nullable=True),
        sa.Column("event_type", sa.String(length=32), nullable=False),
        sa.Column("probable_cause", sa.String(length=255), nullable=False),
        sa.Column("fault_type", sa.String(length=64), nullable=True),
        sa.Column("perceived_severity", sa.String(length=16), nullable=False),
        sa.Column("ack_state", sa.String(length=16), nullable=False),
        sa.Column("faulty_component", sa.JSON(), nullable=True),
        sa.Column("faulty_resource", sa.JSON(), nullable=True),
        sa.Column("faulty_resource_type", sa.String(length=16), nullable=True),
        sa.Column("fault_details", sa.JSON(), nullable=False),
        sa.Column("is_root_cause", sa.Boolean(), nullable=False),
        sa.Column("correlated_alarm_ids", sa.JSON(), nullable=False),
        sa.Column("event_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("nsfm_alarms") as batch:
        batch.create_index("ix_nsfm_alarms_created", ["created_at", "id"])
        batch.create_index("ix_nsfm_alarms_tenant_created", ["tenant_id", "created_at", "id"])
        batch.create_index("ix_nsfm_alarms_active", ["active_key"], unique=True)
        batch.create_index("ix_nsfm_alarms_fault", ["fault_digest"])
        batch.create_index("ix_nsfm_alarms_ns", ["ns_instance_id"])


def downgrade() -> None:
    op.drop_table("nsfm_alarms")
