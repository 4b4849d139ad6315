"""policy engine: availability windows

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "availability_windows",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=True),
        sa.Column("vim_id", sa.String(length=36), nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("target", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("start_ts", sa.Float(), nullable=False),
        sa.Column("end_ts", sa.Float(), nullable=True),
        sa.Column("cron", sa.String(length=255), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("time_zone", sa.String(length=64), nullable=True),
        sa.Column("notice_s", sa.Float(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("period_end_ts", sa.Float(), nullable=True),
        sa.Column("noticed_ts", sa.Float(), nullable=True),
        sa.Column("next_event", sa.String(length=16), nullable=True),
        sa.Column("next_event_ts", sa.Float(), nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until_ts", sa.Float(), nullable=True),
        sa.Column("plan_id", sa.String(length=36), nullable=True),
        sa.Column("drain_attempts", sa.Integer(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["vim_id"], ["vim_accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("availability_windows") as batch:
        batch.create_index("ix_availability_windows_created", ["created_at", "id"])
        batch.create_index("ix_availability_windows_due", ["next_event_ts"])
        batch.create_index("ix_availability_windows_vim", ["vim_id", "state"])


def downgrade() -> None:
    op.drop_table("availability_windows")
