"""monitoring samples: per (resource, metric) aggregates per 10 s bucket, kept for a bounded time

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "monitoring_samples",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("resource_key", sa.String(length=600), nullable=False),
        sa.Column("metric", sa.String(length=128), nullable=False),
        sa.Column("bucket_at", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("peak", sa.Float(), nullable=False),
        sa.Column("low", sa.Float(), nullable=False),
        sa.Column("last", sa.Float(), nullable=False),
        sa.Column("last_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("resource_key", "metric", "bucket_at", name="uq_monitoring_samples"),
    )
    with op.batch_alter_table("monitoring_samples") as batch:
        batch.create_index("ix_monitoring_samples_bucket_at", ["bucket_at"])


def downgrade() -> None:
    op.drop_table("monitoring_samples")
