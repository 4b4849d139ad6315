"""subscriptions of every SOL005 API: which API (nslcm, vnfpkgm, nsd) a subscription is to;
the MAC address of each VNFC port

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ns_vnfcs") as batch:
        batch.add_column(sa.Column("mac_addresses", sa.JSON(), nullable=True))
    with op.batch_alter_table("lccn_subscriptions") as batch:
        batch.add_column(
            sa.Column("api", sa.String(length=16), nullable=False, server_default="nslcm")
        )
        batch.create_index("ix_lccn_subscriptions_api", ["api"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("lccn_subscriptions") as batch:
        batch.drop_index("ix_lccn_subscriptions_api")
        batch.drop_column("api")
    with op.batch_alter_table("ns_vnfcs") as batch:
        batch.drop_column("mac_addresses")
