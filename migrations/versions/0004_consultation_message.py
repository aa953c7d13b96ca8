"""Clients' messages to the specialist on their requests; the specialist directory's index by name

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 10:00:00

A client may write a few words when requesting a slot (at most 500 characters, checked by the form and the
booking service); the specialist reads them on the request and in the email. The directory lists active
specialists by name (display name, else username, ignoring case) one keyset page at a time: a partial index
on that expression and the id, over specialists only, serves the order and the cursor.
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('consultations', sa.Column('message', sa.Text(), nullable=True))
    op.create_index(
        'ix_users_specialist_name',
        'users',
        [sa.literal_column('lower(coalesce(display_name, username))'), 'id'],
        unique=False,
        postgresql_where=sa.text("role = 'specialist'"),
        sqlite_where=sa.text("role = 'specialist'"),
    )


def downgrade():
    op.drop_index('ix_users_specialist_name', table_name='users')
    with op.batch_alter_table('consultations', schema=None) as batch_op:
        batch_op.drop_column('message')
