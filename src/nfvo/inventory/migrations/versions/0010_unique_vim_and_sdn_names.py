"""VIM account and SDN controller names unique across tenants (the global admin sees them
all, so two accounts named alike make a name ambiguous); existing duplicates are renamed
``<name>-<first 8 characters of the id>``, oldest first keeping the name.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TABLES = ("vim_accounts", "sdn_controllers")


def _rename_duplicates(table: str) -> None:
    """Give every account but the oldest of a name a suffixed name of its own."""
    conn = op.get_bind()
    t = sa.table(
        table, sa.column("id", sa.String), sa.column("name", sa.String), sa.column("created_at")
    )
    rows = conn.execute(sa.select(t.c.id, t.c.name).order_by(t.c.created_at, t.c.id)).all()
    taken = {name for _, name in rows}
    seen: set[str] = set()
    for row_id, name in rows:
        if name not in seen:
            seen.add(name)
            continue
        new, n = f"{name[:119]}-{row_id[:8]}", 1
        while new in taken:
            n += 1
            new = f"{name[:110]}-{row_id[:8]}-{n}"
        taken.add(new)
        conn.execute(sa.update(t).where(t.c.id == row_id).values(name=new))


def upgrade() -> None:
    for table in TABLES:
        _rename_duplicates(table)
        with op.batch_alter_table(table) as batch:
            batch.create_index(f"ux_{table}_name", ["name"], unique=True)


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_index(f"ux_{table}_name")
