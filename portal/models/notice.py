"""What the scheduled sweeps have sent: one row per consultation, kind and person, so nothing is sent twice."""

from datetime import datetime
from typing import Optional

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, utcnow

# reminder_24h / reminder_1h go to both sides; expired goes to the client.
NOTICE_KINDS = ("reminder_24h", "reminder_1h", "expired")


class ConsultationNotice(Base):
    """Written in the same transaction as the outbox email it records; the unique constraint is the last word
    when two workers sweep at once."""

    __tablename__ = "consultation_notices"
    __table_args__ = (UniqueConstraint("consultation_id", "kind", "user_id", name="uq_consultation_notices_once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    outbox_email_id: Mapped[Optional[int]] = mapped_column(ForeignKey("outbox_emails.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
