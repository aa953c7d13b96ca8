"""RQ entry point: deliver one outbox email (queued by name as "jobs.email.send_email")."""

from rq import get_current_job

from jobs import in_app
from portal.mail import deliver


def send_email(outbox_id: int) -> str:
    """Deliver the email; raise on failure so RQ retries it with backoff (the last try marks it failed)."""
    job = get_current_job()
    final = job is None or not job.retries_left
    with in_app():
        return deliver(outbox_id, final_attempt=final)
