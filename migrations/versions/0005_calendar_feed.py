"""Calendar feed address of each user

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 10:00:00

Each account gets a random, unguessable token that addresses its private calendar feed
(/feeds/<token>.ics); new accounts get one when they are created, existing ones here.
"""
import secrets

import sqlalchemy as sa
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('feed_token', sa.String(length=64), nullable=True))
    bind = op.get_bind()
    ids = [row[0] for row in bind.execute(sa.text("SELECT id FROM users"))]
    if ids:
        bind.execute(
            sa.text("UPDATE users SET feed_token = :token WHERE id = :id"),
            [{"id": ident, "token": secrets.token_urlsafe(32)} for ident in ids],
        )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index('uq_users_feed_token', ['feed_token'], unique=True)


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index('uq_users_feed_token')
        batch_op.drop_column('feed_token')
