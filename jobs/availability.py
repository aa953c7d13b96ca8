"""RQ entry point: extend every specialist's generated slots to their horizon (run daily by the worker's scheduler,
queued by name as "jobs.availability.extend_horizons")."""

from sqlalchemy import select

from jobs import in_app
from portal.extensions import db
from portal.models import Availability
from portal.services import availability


def extend_horizons() -> int:
    """Generate each specialist's slots from where the last generation stopped to their horizon, one transaction
    per specialist; running it twice makes nothing new. How many slots were made."""
    created = 0
    with in_app():
        specialist_ids = list(
            db.session.scalars(select(Availability.specialist_id).order_by(Availability.specialist_id))
        )
        for specialist_id in specialist_ids:
            created += availability.extend_horizon(specialist_id).created
            db.session.commit()
    return created
