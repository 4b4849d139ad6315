"""The placement decision of each NS LCM operation occurrence (per VIM: strategy, bounds,
assignment and explanation per VDU instance).

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ns_lcm_op_placements",
        sa.Column("op_occ_id", sa.String(length=36), nullable=False),
        sa.Column("ns_instance_id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=True),
        sa.Column("operation", sa.String(length=16), nullable=False),
        sa.Column("vims", sa.JSON(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("op_occ_id"),
    )
    with op.batch_alter_table("ns_lcm_op_placements") as batch:
        batch.create_index(
            batch.f("ix_ns_lcm_op_placements_ns_instance_id"), ["ns_instance_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("ns_lcm_op_placements") as batch:
        batch.drop_index(batch.f("ix_ns_lcm_op_placements_ns_instance_id"))
    op.drop_table("ns_lcm_op_placements")
