"""Two-factor authentication: TOTP secrets, recovery codes, admin resets in the moderation log; the dashboard's indexes

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 22:10:00

Each account may keep an encrypted TOTP secret, when two-factor authentication was turned on and the last time
step a code was accepted for; its recovery codes are stored as keyed hashes, each usable once. An admin's reset of
someone's two-factor authentication is a moderation log entry. The admin dashboard counts consultations per week
by range scans of an index on each event's timestamp, and finds unanswered requests by a partial index.
"""

from alembic import op
import sqlalchemy as sa


revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

OLD_ACTIONS = "action IN ('block', 'unblock')"
NEW_ACTIONS = "action IN ('block', 'unblock', 'reset_two_factor')"


DASHBOARD_INDEXES = (
    ('ix_consultations_created_at', ['created_at'], {}),
    ('ix_consultations_accepted_at', ['accepted_at'], {'postgresql_where': sa.text('accepted_at IS NOT NULL')}),
    ('ix_consultations_rejected_at', ['rejected_at'], {'postgresql_where': sa.text('rejected_at IS NOT NULL')}),
    ('ix_consultations_cancelled_at', ['cancelled_at'], {'postgresql_include': ['status', 'cancel_reason'],
                                                         'postgresql_where': sa.text('cancelled_at IS NOT NULL')}),
    ('ix_consultations_unanswered', ['slot_id'], {'postgresql_include': ['status'],
                                                  'postgresql_where': sa.text("status IN ('pending', 'expired')")}),
)


def upgrade():
    with op.batch_alter_table('consultations', schema=None) as batch_op:
        for name, columns, options in DASHBOARD_INDEXES:
            batch_op.create_index(name, columns, unique=False, **options)

    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_recovery_codes_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
    )
    with op.batch_alter_table("recovery_codes", schema=None) as batch_op:
        batch_op.create_index("uq_recovery_codes_user_id_code_hash", ["user_id", "code_hash"], unique=True)

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("totp_secret", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("totp_enabled_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("totp_last_step", sa.Integer(), nullable=True))

    with op.batch_alter_table("moderation_log", schema=None) as batch_op:
        batch_op.alter_column(
            "action", existing_type=sa.String(length=10), type_=sa.String(length=20), existing_nullable=False
        )
        batch_op.drop_constraint(batch_op.f("ck_moderation_log_action"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_moderation_log_action"), sa.text(NEW_ACTIONS))


def downgrade():
    op.execute("DELETE FROM moderation_log WHERE action = 'reset_two_factor'")
    with op.batch_alter_table("moderation_log", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_moderation_log_action"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_moderation_log_action"), sa.text(OLD_ACTIONS))
        batch_op.alter_column(
            "action", existing_type=sa.String(length=20), type_=sa.String(length=10), existing_nullable=False
        )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("totp_last_step")
        batch_op.drop_column("totp_enabled_at")
        batch_op.drop_column("totp_secret")

    with op.batch_alter_table("recovery_codes", schema=None) as batch_op:
        batch_op.drop_index("uq_recovery_codes_user_id_code_hash")

    op.drop_table("recovery_codes")
