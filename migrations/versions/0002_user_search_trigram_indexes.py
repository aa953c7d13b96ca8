"""Trigram indexes for substring search on users

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 18:40:00

The admins' user search (username or email) and the clients' specialist filter (name, username, specialty)
match substrings with ILIKE '%…%', which a btree index cannot serve. On PostgreSQL these are GIN indexes
with pg_trgm's operator class (a trusted extension: the database owner may create it); on SQLite, plain
indexes, so the schema matches the models everywhere.
"""
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

COLUMNS = ("username", "email", "display_name", "specialty")


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        op.create_index(
            f"ix_users_{column}_trgm",
            "users",
            [column],
            postgresql_using="gin",
            postgresql_ops={column: "gin_trgm_ops"},
        )


def downgrade():
    for column in COLUMNS:
        op.drop_index(f"ix_users_{column}_trgm", table_name="users")
