"""Inventory: the database layer (ORM tables, repositories, migrations).

Nothing else opens a connection."""
