"""Reset and resend requests waiting for the worker: look at them, wait for the worker to handle them."""

import time

from sqlalchemy import select

from portal.extensions import db
from portal.models import AccountEmailRequest


def pending_requests() -> list[tuple[str, str]]:
    """(kind, email) of the requests not handled yet, oldest first."""
    rows = db.session.execute(
        select(AccountEmailRequest.kind, AccountEmailRequest.email).order_by(AccountEmailRequest.id)
    ).all()
    db.session.rollback()  # no snapshot kept open while the worker changes rows
    return [tuple(row) for row in rows]


def wait_until_handled(timeout: float = 20.0) -> None:
    """Wait until the worker has handled every request (each is deleted with its work)."""
    deadline = time.monotonic() + timeout
    while pending_requests():
        assert time.monotonic() < deadline, f"requests still pending after {timeout} s: {pending_requests()}"
        time.sleep(0.05)
    db.session.expire_all()
