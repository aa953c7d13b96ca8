"""Recovery codes of two-factor authentication: each one signs in once, in place of an authentication code."""

from datetime import datetime
from typing import Optional

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, utcnow


class RecoveryCode(Base):
    """One of the ten codes shown when two-factor authentication is turned on, stored as a keyed hash only."""

    __tablename__ = "recovery_codes"
    __table_args__ = (Index("uq_recovery_codes_user_id_code_hash", "user_id", "code_hash", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[Optional[datetime]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
