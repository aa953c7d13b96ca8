"""The moderation log."""

from datetime import datetime
from typing import Optional

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, utcnow
from portal.models.user import User


class ModerationLog(Base):
    """Who blocked, unblocked or reset the two-factor authentication of whom, when and why."""

    __tablename__ = "moderation_log"
    __table_args__ = (
        CheckConstraint("action IN ('block', 'unblock', 'reset_two_factor')", name="action"),
        Index("ix_moderation_log_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    admin_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    reason: Mapped[Optional[str]] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    admin: Mapped[User] = relationship(foreign_keys=[admin_id], lazy="raise")
    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="raise")
