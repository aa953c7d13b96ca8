"""Outgoing emails, written in the same transaction as the change they report."""

from datetime import datetime
from typing import Optional

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, utcnow

EMAIL_STATES = ("queued", "sent", "failed")


class OutboxEmail(Base):
    __tablename__ = "outbox_emails"
    __table_args__ = (
        CheckConstraint("state IN ('queued', 'sent', 'failed')", name="state"),
        Index("ix_outbox_emails_state_created_at", "state", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    recipient: Mapped[str] = mapped_column(String(254))
    kind: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(255))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[Optional[str]] = mapped_column(Text)
    ics: Mapped[Optional[str]] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[Optional[str]] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    queued_at: Mapped[Optional[datetime]]
    sent_at: Mapped[Optional[datetime]]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
