"""An index of active specialists' specialties

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 01:10:00

The Specialty select of the directory and the slot finder lists each specialty of active specialists once,
and the specialty filter finds the specialists of one: both read this partial index alone instead of every
specialist's row, however many specialists there are.
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

ACTIVE = "role = 'specialist' AND is_blocked IS false AND confirmed_at IS NOT NULL"


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index('ix_users_active_specialty', [sa.text('lower(specialty)'), 'specialty'], unique=False, postgresql_where=sa.text(ACTIVE), sqlite_where=sa.text(ACTIVE))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index('ix_users_active_specialty', postgresql_where=sa.text(ACTIVE), sqlite_where=sa.text(ACTIVE))
