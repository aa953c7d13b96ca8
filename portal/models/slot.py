"""Slots a specialist publishes and the consultations clients request on them."""

from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import CheckConstraint, ColumnElement, ForeignKey, Index, String, Text, case, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, utcnow
from portal.models.user import User

STATUSES = ("pending", "accepted", "rejected", "cancelled", "cancelled_by_specialist", "expired")
ACTIVE_STATUSES = ("pending", "accepted")
CANCEL_REASONS = ("Health", "Personal", "Found_another_specialist", "Other")
RESCHEDULED = "Rescheduled"  # the cancel_reason of an accepted consultation replaced by a new time (SPEC §13)
MESSAGE_MAX = 500  # characters of a client's message to the specialist


class Slot(Base):
    """A time a specialist offers. One specialist's live slots never overlap:
    enforced on PostgreSQL by the exclusion constraint `ex_slots_no_overlap` (see migrations)."""

    __tablename__ = "slots"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_slots_specialist_id_starts_at", "specialist_id", "starts_at"),
        Index(
            "ix_slots_live_starts_at",
            "starts_at",
            "id",
            postgresql_where=text("deleted_at IS NULL"),
            sqlite_where=text("deleted_at IS NULL"),
        ),
        # The slot finder filtered by a specialty walks one specialty's live slots in time order, however many
        # specialists share it.
        Index(
            "ix_slots_live_specialty_starts_at",
            "specialty_key",
            "starts_at",
            "id",
            postgresql_where=text("deleted_at IS NULL"),
            sqlite_where=text("deleted_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    specialist_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    note: Mapped[Optional[str]] = mapped_column(String(255))
    # Made from the specialist's working hours (SPEC §12) rather than published by hand.
    generated: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The specialist's specialty in lower case, as the Specialty select compares it. Written by the database
    # alone (triggers of migration 0013): when a slot is stored, and on all of a specialist's slots when their
    # specialty changes. The portal only reads it.
    specialty_key: Mapped[Optional[str]] = mapped_column(String(100))
    deleted_at: Mapped[Optional[datetime]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    specialist: Mapped[User] = relationship(lazy="raise")

    @property
    def duration_minutes(self) -> int:
        return minutes_between(self.starts_at, self.ends_at)


class Consultation(Base):
    """A client's request for a slot and everything that happens to it afterwards."""

    __tablename__ = "consultations"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'accepted', 'rejected', 'cancelled', 'cancelled_by_specialist', 'expired')",
            name="status",
        ),
        # At most one accepted consultation per slot: no double booking.
        Index(
            "uq_consultations_slot_accepted",
            "slot_id",
            unique=True,
            postgresql_where=text("status = 'accepted'"),
            sqlite_where=text("status = 'accepted'"),
        ),
        # At most one active request per client and slot.
        Index(
            "uq_consultations_slot_client_active",
            "slot_id",
            "client_id",
            unique=True,
            postgresql_where=text("status IN ('pending', 'accepted')"),
            sqlite_where=text("status IN ('pending', 'accepted')"),
        ),
        Index("ix_consultations_slot_id_status", "slot_id", "status"),
        # The expiry sweep reads only pending requests, every minute.
        Index(
            "ix_consultations_pending_slot_id",
            "slot_id",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
        Index("ix_consultations_client_id_created_at", "client_id", "created_at"),
        # The admin dashboard counts each kind of event per week by a range scan of its timestamp (insights.py).
        Index("ix_consultations_created_at", "created_at"),
        Index("ix_consultations_accepted_at", "accepted_at", postgresql_where=text("accepted_at IS NOT NULL")),
        Index("ix_consultations_rejected_at", "rejected_at", postgresql_where=text("rejected_at IS NOT NULL")),
        Index(
            "ix_consultations_cancelled_at",
            "cancelled_at",
            postgresql_include=["status", "cancel_reason"],
            postgresql_where=text("cancelled_at IS NOT NULL"),
        ),
        # ... and the requests nobody answered, by their slot.
        Index(
            "ix_consultations_unanswered",
            "slot_id",
            postgresql_include=["status"],
            postgresql_where=text("status IN ('pending', 'expired')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id"))
    client_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(24), default="pending")
    cancel_reason: Mapped[Optional[str]] = mapped_column(String(32))
    cancel_comment: Mapped[Optional[str]] = mapped_column(String(500))
    reject_reason: Mapped[Optional[str]] = mapped_column(String(500))
    message: Mapped[Optional[str]] = mapped_column(Text)  # the client's words to the specialist (≤ MESSAGE_MAX)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    accepted_at: Mapped[Optional[datetime]]
    rejected_at: Mapped[Optional[datetime]]
    cancelled_at: Mapped[Optional[datetime]]
    expired_at: Mapped[Optional[datetime]]
    # A request for a new time that replaces this accepted consultation once the specialist accepts it (SPEC §13).
    rescheduled_from_id: Mapped[Optional[int]] = mapped_column(ForeignKey("consultations.id"), index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    slot: Mapped[Slot] = relationship(lazy="raise")
    client: Mapped[User] = relationship(lazy="raise")

    def display_status(self, now: datetime) -> str:
        """The status word a person sees: Expired is derived, never stored."""
        return shown_status(self.status, self.slot.starts_at, now)

    def can_cancel(self, now: datetime) -> bool:
        return is_cancellable(self.status, self.slot.starts_at, now)


def minutes_between(start: datetime, end: datetime) -> int:
    """A slot's length in whole minutes (what "45 min" shows)."""
    return int((end - start).total_seconds() // 60)


def is_cancellable(status: str, starts_at: datetime, now: datetime) -> bool:
    """Pending and accepted consultations may be cancelled until their slot starts."""
    return status in ACTIVE_STATUSES and starts_at > now


def inside_cutoff(starts_at: datetime, now: datetime, cutoff_hours: int) -> bool:
    """Whether the specialist's cancellation cutoff has begun: from then on a client cannot change it online."""
    return starts_at - now < timedelta(hours=cutoff_hours)


def is_reschedulable(status: str, starts_at: datetime, now: datetime, cutoff_hours: int) -> bool:
    """A client may move a pending or accepted consultation to a new time until the cutoff (SPEC §13)."""
    return is_cancellable(status, starts_at, now) and not inside_cutoff(starts_at, now, cutoff_hours)


def is_movable(status: str, starts_at: datetime, now: datetime) -> bool:
    """A specialist may move or cancel an accepted consultation until it starts."""
    return status == "accepted" and starts_at > now


def shown_status(status: str, starts_at: datetime, now: datetime) -> str:
    """A consultation's status as people see it: a pending request whose slot has started is Expired."""
    return "expired" if status == "pending" and starts_at <= now else status


def if_accepted(column) -> ColumnElement:
    """`column` on an accepted consultation, else NULL: each side sees the other's email address only once the
    consultation is accepted."""
    return case((Consultation.status == "accepted", column))
