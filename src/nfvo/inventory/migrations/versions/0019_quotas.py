"""quotas per tenant and per NS instance, and the reservations of open operations

Revision ID: 0019
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quotas",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=True),
        sa.Column("ns_instance_id", sa.String(length=36), nullable=True),
        sa.Column("max_vcpus", sa.Integer(), nullable=True),
        sa.Column("max_ram_mib", sa.Integer(), nullable=True),
        sa.Column("max_instances", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("scope", "subject_id", name="uq_quotas_subject"),
    )
    with op.batch_alter_table("quotas") as batch:
        batch.create_index("ix_quotas_tenant_created", ["tenant_id", "created_at", "id"])
        batch.create_index("ix_quotas_created", ["created_at", "id"])
    op.create_table(
        "quota_reservations",
        sa.Column("ns_instance_id", sa.String(length=36), nullable=False),
        sa.Column("op_occ_id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=True),
        sa.Column("vcpus", sa.Integer(), nullable=False),
        sa.Column("ram_mib", sa.Integer(), nullable=False),
        sa.Column("instances", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["ns_instance_id"], ["ns_instances.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("ns_instance_id"),
    )
    with op.batch_alter_table("quota_reservations") as batch:
        batch.create_index("ix_quota_reservations_tenant_id", ["tenant_id"])


def downgrade() -> None:
    op.drop_table("quota_reservations")
    op.drop_table("quotas")
