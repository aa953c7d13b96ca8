"""Handle one reset or resend request: look the address up and write its email, if any."""

from jobs.email import _get_app  # the worker's app (set by `flask worker`), or one built here
from portal.extensions import db
from portal.services import email_requests


def handle_email_request(request_id: int) -> str:
    """RQ job (queued by name from portal.services.email_requests); raise on failure so RQ retries it."""
    app = _get_app()
    with app.app_context():
        # A forked work-horse must not reuse the parent's pooled connections.
        db.engine.dispose(close=False)
        try:
            return email_requests.handle(request_id)
        finally:
            db.session.remove()
