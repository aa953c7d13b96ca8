"""Delivered emails: waiting for them, and reading their headers and parts."""

from email.header import decode_header, make_header

from sqlalchemy import select

from portal.models import OutboxEmail


def all_emails_delivered(db, mail) -> list:
    """Wait until every email the test wrote has reached the sink, so none arrives during the next test."""
    db.session.expire_all()
    count = len(db.session.scalars(select(OutboxEmail.id)).all())
    delivered = mail.wait_for(count)
    assert len(delivered) >= count, f"{len(delivered)} of {count} emails delivered"
    return delivered


def subject_of(message) -> str:
    """The decoded Subject header of a delivered email."""
    return str(make_header(decode_header(message["Subject"])))


def calendar_part(message) -> str:
    """The text/calendar attachment of a delivered email ('' if it has none)."""
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            return part.get_payload(decode=True).decode()
    return ""
