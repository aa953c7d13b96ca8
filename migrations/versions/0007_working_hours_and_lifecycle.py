"""Working hours, days off, stored expiry, reminders and rescheduling

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 21:40:00

Specialists keep their weekly hours, booking rules and days off; generated slots are marked as such. A pending
request nobody answered is stored as expired; what the scheduled sweeps sent is recorded once per consultation,
kind and person; a request for a new time remembers the accepted consultation it replaces; each account can turn
reminder emails off.
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

OLD_STATUSES = "status IN ('pending', 'accepted', 'rejected', 'cancelled', 'cancelled_by_specialist')"
NEW_STATUSES = "status IN ('pending', 'accepted', 'rejected', 'cancelled', 'cancelled_by_specialist', 'expired')"


def upgrade():
    op.create_table('availabilities',
    sa.Column('specialist_id', sa.Integer(), nullable=False),
    sa.Column('session_minutes', sa.Integer(), nullable=False),
    sa.Column('break_minutes', sa.Integer(), nullable=False),
    sa.Column('notice_hours', sa.Integer(), nullable=False),
    sa.Column('horizon_days', sa.Integer(), nullable=False),
    sa.Column('cutoff_hours', sa.Integer(), nullable=False),
    sa.Column('generated_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('session_minutes BETWEEN 15 AND 240', name=op.f('ck_availabilities_session_minutes')),
    sa.CheckConstraint('break_minutes BETWEEN 0 AND 120', name=op.f('ck_availabilities_break_minutes')),
    sa.CheckConstraint('notice_hours BETWEEN 0 AND 720', name=op.f('ck_availabilities_notice_hours')),
    sa.CheckConstraint('horizon_days BETWEEN 1 AND 365', name=op.f('ck_availabilities_horizon_days')),
    sa.CheckConstraint('cutoff_hours BETWEEN 0 AND 720', name=op.f('ck_availabilities_cutoff_hours')),
    sa.ForeignKeyConstraint(['specialist_id'], ['users.id'], name=op.f('fk_availabilities_specialist_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('specialist_id', name=op.f('pk_availabilities'))
    )
    op.create_table('working_hours',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('specialist_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.SmallInteger(), nullable=False),
    sa.Column('start_minute', sa.SmallInteger(), nullable=False),
    sa.Column('end_minute', sa.SmallInteger(), nullable=False),
    sa.CheckConstraint('weekday BETWEEN 0 AND 6', name=op.f('ck_working_hours_weekday')),
    sa.CheckConstraint('start_minute >= 0 AND end_minute <= 1440 AND start_minute < end_minute', name=op.f('ck_working_hours_range')),
    sa.ForeignKeyConstraint(['specialist_id'], ['users.id'], name=op.f('fk_working_hours_specialist_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_working_hours'))
    )
    with op.batch_alter_table('working_hours', schema=None) as batch_op:
        batch_op.create_index('ix_working_hours_specialist_id_weekday', ['specialist_id', 'weekday', 'start_minute'], unique=False)

    op.create_table('days_off',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('specialist_id', sa.Integer(), nullable=False),
    sa.Column('first_day', sa.Date(), nullable=False),
    sa.Column('last_day', sa.Date(), nullable=False),
    sa.Column('note', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('last_day >= first_day', name=op.f('ck_days_off_order')),
    sa.ForeignKeyConstraint(['specialist_id'], ['users.id'], name=op.f('fk_days_off_specialist_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_days_off'))
    )
    with op.batch_alter_table('days_off', schema=None) as batch_op:
        batch_op.create_index('ix_days_off_specialist_id_first_day', ['specialist_id', 'first_day'], unique=False)

    with op.batch_alter_table('slots', schema=None) as batch_op:
        batch_op.add_column(sa.Column('generated', sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminders_enabled', sa.Boolean(), server_default=sa.true(), nullable=False))

    with op.batch_alter_table('consultations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expired_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('rescheduled_from_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_consultations_rescheduled_from_id'), ['rescheduled_from_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_consultations_rescheduled_from_id_consultations'), 'consultations', ['rescheduled_from_id'], ['id'])
        batch_op.drop_constraint(batch_op.f('ck_consultations_status'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_consultations_status'), sa.text(NEW_STATUSES))

    op.create_table('consultation_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('consultation_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('outbox_email_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'], name=op.f('fk_consultation_notices_consultation_id_consultations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['outbox_email_id'], ['outbox_emails.id'], name=op.f('fk_consultation_notices_outbox_email_id_outbox_emails'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_consultation_notices_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consultation_notices')),
    sa.UniqueConstraint('consultation_id', 'kind', 'user_id', name='uq_consultation_notices_once')
    )


def downgrade():
    op.drop_table('consultation_notices')
    op.execute("UPDATE consultations SET status = 'pending' WHERE status = 'expired'")
    with op.batch_alter_table('consultations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_consultations_status'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_consultations_status'), sa.text(OLD_STATUSES))
        batch_op.drop_constraint(batch_op.f('fk_consultations_rescheduled_from_id_consultations'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_consultations_rescheduled_from_id'))
        batch_op.drop_column('rescheduled_from_id')
        batch_op.drop_column('expired_at')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('reminders_enabled')
    with op.batch_alter_table('slots', schema=None) as batch_op:
        batch_op.drop_column('generated')
    with op.batch_alter_table('days_off', schema=None) as batch_op:
        batch_op.drop_index('ix_days_off_specialist_id_first_day')
    op.drop_table('days_off')
    with op.batch_alter_table('working_hours', schema=None) as batch_op:
        batch_op.drop_index('ix_working_hours_specialist_id_weekday')
    op.drop_table('working_hours')
    op.drop_table('availabilities')
