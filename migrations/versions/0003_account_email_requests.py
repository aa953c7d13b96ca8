"""Reset and resend requests handled by the worker

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-10 10:00:00

Reset and resend requests do the same thing for any address: the request writes a row here and returns;
the worker looks the address up, issues the link, writes the email to the outbox and deletes the row, all in
one transaction. A row that exists is a request still to be handled; the outbox drain picks up old ones.
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('account_email_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('reset', 'resend')", name=op.f('ck_account_email_requests_kind')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_email_requests'))
    )
    with op.batch_alter_table('account_email_requests', schema=None) as batch_op:
        batch_op.create_index('ix_account_email_requests_created_at', ['created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('account_email_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_account_email_requests_created_at')

    op.drop_table('account_email_requests')
