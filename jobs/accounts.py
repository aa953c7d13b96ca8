"""RQ entry point: handle one reset or resend request (queued by name as "jobs.accounts.handle_email_request")."""

from jobs import in_app
from portal.services import email_requests


def handle_email_request(request_id: int) -> str:
    """Look the address up and write its email, if any; raise on failure so RQ retries it."""
    with in_app():
        return email_requests.handle(request_id)
