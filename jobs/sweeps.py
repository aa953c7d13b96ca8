"""RQ entry points of the periodic sweeps (enqueued by the worker's scheduler: portal/schedule.py)."""

from jobs import in_app
from portal.services import expiry, reminders


def send_reminders() -> int:
    """Send the reminders due now (queued by name as "jobs.sweeps.send_reminders"); how many emails."""
    with in_app():
        return reminders.sweep()


def expire_requests() -> int:
    """Expire the requests nobody answered in time (queued by name as "jobs.sweeps.expire_requests")."""
    with in_app():
        return expiry.sweep()
