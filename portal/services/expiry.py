"""Expiry of unanswered requests: a pending request still pending when its slot starts, or once the specialist's
minimum notice has run out, is stored as expired and its client emailed once (SPEC §13).

Like the reminders (portal/services/reminders.py), a sweep run every minute by the worker: derived from the
database, one request per transaction, the email recorded under the unique constraint of `consultation_notices`.
"""

from datetime import datetime, timedelta

from sqlalchemy import select

from portal.clock import utcnow
from portal.extensions import db
from portal.models import Availability, Consultation, Slot
from portal.models.availability import DEFAULT_NOTICE_HOURS, too_soon
from portal.outbox import queue_email
from portal.services.reminders import record_notice
from portal.services.slots import lock_slot_and_consultation
from portal.webhooks import queue_webhooks

BATCH = 500


def notice_hours_of(specialist_id: int) -> int:
    """The specialist's minimum notice in hours (the default when they never saved their availability)."""
    hours = db.session.scalar(select(Availability.notice_hours).where(Availability.specialist_id == specialist_id))
    return DEFAULT_NOTICE_HOURS if hours is None else hours


def expires_at(slot: Slot, notice_hours: int) -> datetime:
    """The instant a pending request on this slot can no longer be answered."""
    return slot.starts_at - timedelta(hours=notice_hours)


def due_expiries(now: datetime) -> list[int]:
    """Pending requests whose slot is now too soon to book (inside the specialist's minimum notice, or started):
    the booking window's own rule (models.availability.too_soon), soonest first."""
    ids = list(
        db.session.scalars(
            select(Consultation.id)
            .join(Slot, Slot.id == Consultation.slot_id)
            .where(Consultation.status == "pending", too_soon())
            .order_by(Slot.starts_at, Consultation.id)
            .limit(BATCH),
            {"now": now},
        )
    )
    db.session.rollback()
    return ids


def expire_request(consultation_id: int, now: datetime) -> bool:
    """Store one request as expired and email its client (caller commits); False if it no longer needs it."""
    locked = lock_slot_and_consultation(consultation_id)
    if locked is None:
        return False
    slot, consultation = locked
    if consultation.status != "pending" or expires_at(slot, notice_hours_of(slot.specialist_id)) > now:
        return False
    consultation.status = "expired"
    consultation.expired_at = now
    client = consultation.client
    queue_webhooks("consultation.expired", consultation, slot, slot.specialist, client)
    notice = record_notice(consultation.id, "expired", client.id)
    if notice is not None:
        email = queue_email(
            client, "request_expired", slot=slot, consultation=consultation, client=client, specialist=slot.specialist
        )
        db.session.flush()
        notice.outbox_email_id = email.id
    return True


def sweep() -> int:
    """Expire every request due now, one per transaction; returns how many were expired."""
    now = utcnow()
    total = 0
    for consultation_id in due_expiries(now):
        try:
            total += expire_request(consultation_id, now)
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
    return total
