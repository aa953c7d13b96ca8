"""An index of pending requests for the expiry sweep

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 22:40:00

The worker looks for unanswered requests every minute; a partial index keeps that a walk over the pending ones
only, however many consultations there are.
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('consultations', schema=None) as batch_op:
        batch_op.create_index('ix_consultations_pending_slot_id', ['slot_id'], unique=False, postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'"))


def downgrade():
    with op.batch_alter_table('consultations', schema=None) as batch_op:
        batch_op.drop_index('ix_consultations_pending_slot_id', postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'"))
