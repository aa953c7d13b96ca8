"""Reset and resend requests waiting for the worker."""

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, utcnow

REQUEST_KINDS = ("reset", "resend")


class AccountEmailRequest(Base):
    """Someone asked for a reset link or a new confirmation link for `email`, which may belong to nobody.

    The row is written the same way for any address and deleted once the worker has looked the address up
    and written the email (if any): a row that exists is a request still to be handled, and addresses that
    belong to nobody are not kept.
    """

    __tablename__ = "account_email_requests"
    __table_args__ = (
        CheckConstraint("kind IN ('reset', 'resend')", name="kind"),
        Index("ix_account_email_requests_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
