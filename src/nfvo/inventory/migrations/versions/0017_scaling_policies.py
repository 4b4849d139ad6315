"""policy engine: auto-scaling policies and the idempotency keys of alert-started scales

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scaling_policies",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("ns_instance_id", sa.String(length=36), nullable=False),
        sa.Column("target", sa.String(length=8), nullable=False),
        sa.Column("vnf_instance_id", sa.String(length=255), nullable=True),
        sa.Column("aspect_id", sa.String(length=255), nullable=False),
        sa.Column("metric", sa.String(length=64), nullable=False),
        sa.Column("aggregation", sa.String(length=8), nullable=False),
        sa.Column("window_s", sa.Float(), nullable=False),
        sa.Column("out_threshold", sa.Float(), nullable=True),
        sa.Column("out_relation", sa.String(length=4), nullable=False),
        sa.Column("in_threshold", sa.Float(), nullable=True),
        sa.Column("in_relation", sa.String(length=4), nullable=False),
        sa.Column("cooldown_out_s", sa.Float(), nullable=False),
        sa.Column("cooldown_in_s", sa.Float(), nullable=False),
        sa.Column("steps", sa.Integer(), nullable=False),
        sa.Column("max_scale_level", sa.Integer(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("scaling_policies") as batch:
        batch.create_index("ix_scaling_policies_created", ["created_at", "id"])
        batch.create_index("ix_scaling_policies_tenant_created", ["tenant_id", "created_at", "id"])
        batch.create_index("ix_scaling_policies_ns", ["ns_instance_id"])
    op.create_table(
        "scaling_triggers",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("policy_id", sa.String(length=255), nullable=False),
        sa.Column("ns_instance_id", sa.String(length=36), nullable=False),
        sa.Column("op_occ_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("scaling_triggers") as batch:
        batch.create_index("ix_scaling_triggers_ns", ["ns_instance_id"])


def downgrade() -> None:
    op.drop_table("scaling_triggers")
    op.drop_table("scaling_policies")
