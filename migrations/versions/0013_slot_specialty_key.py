"""Each slot carries its specialist's specialty, for the slot finder's specialty filter

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 05:00:00

The slot finder filtered by a specialty checked each slot, in time order, against the ids of every active
specialist of that specialty: a list that grows with the number of specialists (about 500 at 10,000), planned
anew on every request. Each slot now carries its specialist's specialty in lower case (`slots.specialty_key`),
and an index of live slots by (specialty_key, starts_at, id) gives one specialty's next slots directly.

The column is written by the database alone, so that no way of storing a slot can leave it out or stale:
when a slot is stored (or moved to another specialist), from the specialist's row; when a specialist's
specialty changes, on all of their slots. On PostgreSQL the slot's trigger reads the specialist's row
FOR SHARE, so that a slot stored while the specialty changes waits for that change and takes the new value.
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

LIVE = "deleted_at IS NULL"

POSTGRESQL_UP = (
    """CREATE FUNCTION slots_specialty_key() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.specialty_key := (SELECT lower(specialty) FROM users WHERE id = NEW.specialist_id FOR SHARE);
    RETURN NEW;
END
$$""",
    """CREATE TRIGGER tr_slots_specialty_key BEFORE INSERT OR UPDATE OF specialist_id, specialty_key ON slots
    FOR EACH ROW EXECUTE FUNCTION slots_specialty_key()""",
    """CREATE FUNCTION users_specialty_to_slots() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE slots SET specialty_key = lower(NEW.specialty) WHERE specialist_id = NEW.id;
    RETURN NULL;
END
$$""",
    """CREATE TRIGGER tr_users_specialty_to_slots AFTER UPDATE OF specialty ON users
    FOR EACH ROW WHEN (lower(OLD.specialty) IS DISTINCT FROM lower(NEW.specialty))
    EXECUTE FUNCTION users_specialty_to_slots()""",
)
POSTGRESQL_DOWN = (
    "DROP TRIGGER tr_users_specialty_to_slots ON users",
    "DROP FUNCTION users_specialty_to_slots()",
    "DROP TRIGGER tr_slots_specialty_key ON slots",
    "DROP FUNCTION slots_specialty_key()",
)

_SQLITE_SET = "UPDATE slots SET specialty_key = (SELECT lower(specialty) FROM users WHERE id = NEW.specialist_id)"
SQLITE_UP = (
    f"CREATE TRIGGER tr_slots_specialty_key AFTER INSERT ON slots BEGIN {_SQLITE_SET} WHERE id = NEW.id; END",
    f"""CREATE TRIGGER tr_slots_specialty_key_moved AFTER UPDATE OF specialist_id, specialty_key ON slots
    BEGIN {_SQLITE_SET} WHERE id = NEW.id; END""",
    """CREATE TRIGGER tr_users_specialty_to_slots AFTER UPDATE OF specialty ON users
    WHEN lower(OLD.specialty) IS NOT lower(NEW.specialty)
    BEGIN UPDATE slots SET specialty_key = lower(NEW.specialty) WHERE specialist_id = NEW.id; END""",
)
SQLITE_DOWN = (
    "DROP TRIGGER tr_users_specialty_to_slots",
    "DROP TRIGGER tr_slots_specialty_key_moved",
    "DROP TRIGGER tr_slots_specialty_key",
)


def upgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table('slots', schema=None) as batch_op:
        batch_op.add_column(sa.Column('specialty_key', sa.String(length=100), nullable=True))
    op.execute(
        "UPDATE slots SET specialty_key = (SELECT lower(users.specialty) FROM users WHERE users.id = slots.specialist_id)"
    )
    with op.batch_alter_table('slots', schema=None) as batch_op:
        batch_op.create_index('ix_slots_live_specialty_starts_at', ['specialty_key', 'starts_at', 'id'], unique=False, postgresql_where=sa.text(LIVE), sqlite_where=sa.text(LIVE))
    for statement in POSTGRESQL_UP if postgresql else SQLITE_UP:
        op.execute(statement)


def downgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRESQL_DOWN if postgresql else SQLITE_DOWN:
        op.execute(statement)
    with op.batch_alter_table('slots', schema=None) as batch_op:
        batch_op.drop_index('ix_slots_live_specialty_starts_at', postgresql_where=sa.text(LIVE), sqlite_where=sa.text(LIVE))
        batch_op.drop_column('specialty_key')
