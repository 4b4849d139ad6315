"""action plans: consolidation / rebalance plans of a VIM and their migration steps

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "action_plans",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=True),
        sa.Column("vim_id", sa.String(length=36), nullable=False),
        sa.Column("goal", sa.String(length=32), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("emptiable_bound", sa.Integer(), nullable=True),
        sa.Column("hosts_emptied", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["vim_id"], ["vim_accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("action_plans") as batch:
        batch.create_index("ix_action_plans_created", ["created_at", "id"])
        batch.create_index("ix_action_plans_tenant_id", ["tenant_id"])
        batch.create_index("ix_action_plans_vim_id", ["vim_id"])
    op.create_table(
        "action_plan_steps",
        sa.Column("plan_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("demand_id", sa.String(length=512), nullable=False),
        sa.Column("server_id", sa.String(length=255), nullable=True),
        sa.Column("ns_instance_id", sa.String(length=36), nullable=False),
        sa.Column("vnf_instance_id", sa.String(length=255), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("target", sa.String(length=255), nullable=False),
        sa.Column("batch", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("op_occ_id", sa.String(length=36), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["plan_id"], ["action_plans.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("plan_id", "seq"),
    )
    with op.batch_alter_table("action_plan_steps") as batch:
        batch.create_index("ix_action_plan_steps_ns_instance_id", ["ns_instance_id"])
        batch.create_index("ix_action_plan_steps_op_occ_id", ["op_occ_id"])


def downgrade() -> None:
    op.drop_table("action_plan_steps")
    op.drop_table("action_plans")
