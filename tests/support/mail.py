"""Delivered emails: the SMTP sink that receives them, waiting for them, and reading their headers and parts."""

import threading
import time
from email import message_from_bytes
from email.header import decode_header, make_header
from email.message import Message

from aiosmtpd.controller import Controller
from sqlalchemy import select

from portal.models import OutboxEmail
from tests.support.paths import free_port


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


def body_of(message: Message) -> str:
    """The text/plain part of an email, decoded."""
    for part in message.walk():
        if part.get_content_type() == "text/plain" and not part.get_filename():
            return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    return ""


class SmtpSink:
    """An in-process SMTP server that keeps every message it receives."""

    def __init__(self):
        self.messages: list[Message] = []
        self.lock = threading.Lock()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"

    def clear(self):
        with self.lock:
            self.messages.clear()

    def to(self, address: str) -> list[Message]:
        with self.lock:
            return [m for m in self.messages if address.lower() in (m["To"] or "").lower()]

    def wait_for(self, count: int = 1, to: str | None = None, timeout: float = 20.0) -> list[Message]:
        """Wait until at least `count` messages (to `to`, if given) have arrived."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.to(to) if to else list(self.messages)
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.05)
