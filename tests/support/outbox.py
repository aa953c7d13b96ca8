"""Reading the outbox as the database has it now, from outside the request that wrote it."""

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import OutboxEmail


def outbox_row(outbox_id: int) -> OutboxEmail:
    """The outbox row as the database has it now."""
    db.session.remove()
    return db.session.scalars(select(OutboxEmail).where(OutboxEmail.id == outbox_id)).one()


def outbox_states(app) -> dict[str, int]:
    """How many outbox rows are in each state."""
    with app.app_context():
        rows = db.session.execute(select(OutboxEmail.state, func.count()).group_by(OutboxEmail.state)).all()
        db.session.remove()
    return dict(rows)
