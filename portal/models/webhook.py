"""Webhook endpoints and their deliveries (an outbox of HTTP requests, written with the change they report)."""

from datetime import datetime
from typing import Optional

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, utcnow
from portal.models.user import User

WEBHOOK_EVENTS = (
    "consultation.requested",
    "consultation.accepted",
    "consultation.rejected",
    "consultation.cancelled",
    "consultation.rescheduled",
    "consultation.expired",
)
DELIVERY_STATES = ("queued", "sent", "failed")


class WebhookEndpoint(Base):
    """A URL a specialist (their consultations) or an admin (all consultations) wants events posted to."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = (Index("ix_webhook_endpoints_user_id_created_at", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2000))
    # The chosen events, space-separated (names from WEBHOOK_EVENTS).
    events: Mapped[str] = mapped_column(String(300))
    # Standard Webhooks secret, `whsec_<base64>`: needed to sign, so kept as is; shown to its owner only once.
    secret: Mapped[str] = mapped_column(String(100))
    failures: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    disabled_at: Mapped[Optional[datetime]]
    # Why it stopped: "owner" (the owner's button) or "failures" (too many failed deliveries in a row).
    disabled_reason: Mapped[Optional[str]] = mapped_column(String(20))

    user: Mapped[User] = relationship(lazy="raise")

    @property
    def event_list(self) -> list[str]:
        return self.events.split()

    @property
    def enabled(self) -> bool:
        return self.disabled_at is None


class WebhookDelivery(Base):
    """One event for one endpoint: sent by the worker, retried with backoff; `message_id` is its webhook-id."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        CheckConstraint("state IN ('queued', 'sent', 'failed')", name="state"),
        Index("ix_webhook_deliveries_endpoint_id_created_at", "endpoint_id", "created_at", "id"),
        Index("ix_webhook_deliveries_state_next_attempt_at", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(40))
    message_id: Mapped[str] = mapped_column(String(40), unique=True)
    payload: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    status_code: Mapped[Optional[int]]
    last_error: Mapped[Optional[str]] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[Optional[datetime]]
    queued_at: Mapped[Optional[datetime]]
    sent_at: Mapped[Optional[datetime]]

    endpoint: Mapped[WebhookEndpoint] = relationship(lazy="raise")
