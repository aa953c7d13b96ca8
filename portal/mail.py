"""SMTP delivery of one outbox row: build the message (with its .ics), send it, record the outcome."""

import smtplib
from email.message import EmailMessage
from email.utils import make_msgid

from flask import current_app
from sqlalchemy import select

from portal.clock import utcnow
from portal.extensions import db
from portal.models import OutboxEmail


def build_message(row: OutboxEmail) -> EmailMessage:
    config = current_app.config
    message = EmailMessage()
    message["Subject"] = row.subject
    message["From"] = config["MAIL_DEFAULT_SENDER"]
    message["To"] = row.recipient
    message["Message-ID"] = make_msgid(idstring=f"outbox-{row.id}", domain="consultation-portal")
    message["X-Portal-Outbox-Id"] = str(row.id)
    message.set_content(row.body_text)
    if row.ics:
        message.add_attachment(
            row.ics.encode("utf-8"),
            maintype="text",
            subtype="calendar",
            filename="consultation.ics",
            params={"method": ics_method(row.ics)},
        )
    return message


def ics_method(ics: str) -> str:
    """The calendar's METHOD (REQUEST or CANCEL), which mail clients also need on the attachment's type."""
    for line in ics.splitlines():
        if line.startswith("METHOD:"):
            return line.removeprefix("METHOD:").strip()
    return "PUBLISH"


def smtp_send(message: EmailMessage) -> None:
    config = current_app.config
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=15) as smtp:
        if config["MAIL_USE_TLS"]:
            smtp.starttls()
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
        smtp.send_message(message)


def deliver(outbox_id: int, final_attempt: bool = True) -> str:
    """Send the row if it is still queued; record the outcome; re-raise an SMTP failure.

    The row's lock is waited for, not skipped: the drain's probe holds it for a moment, and a job that gave up
    then would end unsent and be queued again with its retries counted from zero. A second job for the same
    row (re-queued by the drain) waits for the first and then finds it sent."""
    row = db.session.scalars(select(OutboxEmail).where(OutboxEmail.id == outbox_id).with_for_update()).first()
    if row is None:
        db.session.rollback()
        return "missing"
    if row.state != "queued":  # sent, or failed for good (a retry from the admins' page queues it again first)
        db.session.rollback()
        return f"already-{row.state}"
    try:
        if current_app.config["MAIL_SERVER"]:
            smtp_send(build_message(row))
        # Without a mail server (embedded default) the email is shown on /dev/mail instead.
    except Exception as exc:
        row.attempts += 1
        row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if final_attempt:
            row.state = "failed"
        db.session.commit()
        raise
    row.attempts += 1
    row.state = "sent"
    row.sent_at = utcnow()
    row.last_error = None
    db.session.commit()
    return "sent"
