"""nspm: PM jobs, performance reports and thresholds

Revision ID: 0015
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pm_jobs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=True),
        sa.Column("object_type", sa.String(length=32), nullable=False),
        sa.Column("object_instance_ids", sa.JSON(), nullable=False),
        sa.Column("sub_object_instance_ids", sa.JSON(), nullable=True),
        sa.Column("criteria", sa.JSON(), nullable=False),
        sa.Column("callback_uri", sa.Text(), nullable=False),
        sa.Column("subscription_id", sa.String(length=36), nullable=False),
        sa.Column("started_at", sa.Float(), nullable=False),
        sa.Column("last_period", sa.Integer(), nullable=False),
        sa.Column("finished", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["subscription_id"], ["lccn_subscriptions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("pm_jobs") as batch:
        batch.create_index("ix_pm_jobs_created", ["created_at", "id"])
        batch.create_index("ix_pm_jobs_tenant_id", ["tenant_id"])
        batch.create_index("ix_pm_jobs_subscription_id", ["subscription_id"])
    op.create_table(
        "pm_reports",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("pm_job_id", sa.String(length=36), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("entries", sa.JSON(), nullable=False),
        sa.Column("ready_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["pm_job_id"], ["pm_jobs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("pm_job_id", "period", name="uq_pm_reports_job_period"),
    )
    with op.batch_alter_table("pm_reports") as batch:
        batch.create_index("ix_pm_reports_pm_job_id", ["pm_job_id"])
    op.create_table(
        "pm_thresholds",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=True),
        sa.Column("object_type", sa.String(length=32), nullable=False),
        sa.Column("object_instance_id", sa.String(length=255), nullable=False),
        sa.Column("sub_object_instance_ids", sa.JSON(), nullable=True),
        sa.Column("criteria", sa.JSON(), nullable=False),
        sa.Column("callback_uri", sa.Text(), nullable=False),
        sa.Column("subscription_id", sa.String(length=36), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["subscription_id"], ["lccn_subscriptions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("pm_thresholds") as batch:
        batch.create_index("ix_pm_thresholds_created", ["created_at", "id"])
        batch.create_index("ix_pm_thresholds_tenant_id", ["tenant_id"])
        batch.create_index("ix_pm_thresholds_subscription_id", ["subscription_id"])


def downgrade() -> None:
    op.drop_table("pm_thresholds")
    op.drop_table("pm_reports")
    op.drop_table("pm_jobs")
