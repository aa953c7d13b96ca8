"""Reset and resend requests: the same quick, durable step for any address; the lookup and the email come later.

Asking for a reset link or a new confirmation link must not tell whether the address has an account, not
even by how long the answer takes. So the request only writes an `account_email_requests` row (the same for
any address) and commits; after the commit the row's id is queued on RQ by name (JOB). The job does the
part that differs, in one transaction: it locks the row, looks the address up, issues the link, writes the
email to the outbox and deletes the row; the outbox then sends the email as usual.

No request is lost: the row is in the database before the answer is sent, and the outbox drain handles rows
older than OUTBOX_STALE_SECONDS itself (Redis down, job lost). A row is handled once: it is locked while it is
handled and deleted in the same transaction, so a second job or the drain finds nothing to do. Without Redis
(the embedded default) requests are handled in-process after the view, before that request's emails are
delivered.
"""

import logging
from datetime import datetime

from flask import Flask
from sqlalchemy import select

from portal import after_commit
from portal.extensions import db
from portal.models import AccountEmailRequest
from portal.outbox import enqueue_jobs
from portal.services import accounts

log = logging.getLogger(__name__)

RESET = "reset"
RESEND = "resend"
JOB = "jobs.accounts.handle_email_request"
KIND = "account-request"


def init_app(app: Flask) -> None:
    """Queue requests after their commit; without Redis, handle them after the view (portal/after_commit.py)."""
    after_commit.register(app, KIND, lambda ids: enqueue_jobs(JOB, KIND, ids), handle)


def request_password_reset(email: str) -> None:
    """Record a request for a reset link (caller commits); the worker sends one if the address has an account."""
    _record(RESET, email)


def resend_confirmation(email: str) -> None:
    """Record a request for a new confirmation link (caller commits); sent only to an unconfirmed account."""
    _record(RESEND, email)


def _record(kind: str, email: str) -> None:
    row = AccountEmailRequest(kind=kind, email=email.strip()[:254])
    db.session.add(row)
    db.session.flush()
    after_commit.remember(KIND, row)


def handle(request_id: int) -> str:
    """Look the address up, write its email if it gets one, and delete the request: one transaction, done once."""
    row = db.session.scalars(
        select(AccountEmailRequest).where(AccountEmailRequest.id == request_id).with_for_update(skip_locked=True)
    ).first()
    if row is None:  # handled already, or being handled right now
        db.session.rollback()
        return "done-or-busy"
    user = accounts.find_by_email(row.email)
    if user is not None and not user.is_blocked:
        if row.kind == RESET:
            accounts.send_reset_link(user)
        elif not user.is_confirmed:
            accounts.send_confirmation(user)
    db.session.delete(row)
    db.session.commit()
    return "handled"


def handle_stale(cutoff: datetime) -> int:
    """Handle the requests written before `cutoff` (their job was lost or never queued); returns how many."""
    ids = list(
        db.session.scalars(
            select(AccountEmailRequest.id)
            .where(AccountEmailRequest.created_at <= cutoff)
            .order_by(AccountEmailRequest.id)
            .limit(1000)
        )
    )
    db.session.rollback()
    handled = sum(handle(request_id) == "handled" for request_id in ids)
    if handled:
        log.info("outbox drain handled %d account email request(s)", handled)
    return handled
