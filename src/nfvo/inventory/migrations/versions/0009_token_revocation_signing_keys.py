"""bearer tokens bound to their client (a per-client token generation) and JWT signing keys
kept sealed in their own table, so that several can verify during a rotation

Revision ID: 0009
Revises: 0008

The plaintext key that ``server_settings`` held until now is removed at start-up by the code
(a migration cannot read the vault key), not here.
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("oauth_clients") as batch:
        batch.add_column(
            sa.Column("token_generation", sa.String(length=32), nullable=False, server_default="")
        )
    clients = sa.table(
        "oauth_clients", sa.column("client_id", sa.String), sa.column("token_generation", sa.String)
    )
    conn = op.get_bind()
    for (client_id,) in conn.execute(sa.select(clients.c.client_id)).all():
        conn.execute(
            clients.update()
            .where(clients.c.client_id == client_id)
            .values(token_generation=secrets.token_hex(8))
        )
    op.create_table(
        "jwt_signing_keys",
        sa.Column("kid", sa.String(length=32), nullable=False),
        sa.Column("sealed_key", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("kid"),
    )


def downgrade() -> None:
    op.drop_table("jwt_signing_keys")
    with op.batch_alter_table("oauth_clients") as batch:
        batch.drop_column("token_generation")
