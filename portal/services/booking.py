"""Booking from the client's side: request a slot, cancel a consultation (not inside the specialist's cutoff)."""

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from portal.access import get_own_consultation_or_404
from portal.clock import utcnow
from portal.extensions import db
from portal.i18n import force_locale
from portal.i18n import lazy_gettext as _l
from portal.ics import consultation_ics
from portal.models import ACTIVE_STATUSES, CANCEL_REASONS, MESSAGE_MAX, Availability, Consultation, Slot, User
from portal.models.availability import DEFAULT_CUTOFF_HOURS, too_late, too_soon
from portal.models.slot import inside_cutoff
from portal.outbox import queue_email
from portal.services.errors import DomainError
from portal.services.slots import lock_consultation, lock_slots
from portal.webhooks import queue_webhooks

ACTIVE_UNIQUE = "uq_consultations_slot_client_active"

SLOT_GONE = _l("This slot is no longer available.")
SLOT_TAKEN = _l("This slot has just been booked by someone else.")
SLOT_STARTED = _l("This slot has already started and can no longer be requested.")
TOO_SOON = _l("This time is too soon to book.")
NOT_OPEN_YET = _l("This time is not open for booking yet.")
SPECIALIST_AWAY = _l("This specialist is not taking requests at the moment.")
ALREADY_REQUESTED = _l("You have already requested this slot.")
WAS_REJECTED = _l("The specialist declined your request for this slot, so it cannot be requested again.")
OVERLAPS = _l("You already have an accepted consultation at this time.")
NOT_CANCELLABLE = _l("This consultation can no longer be cancelled.")
NEED_REASON = _l("Choose a reason or write a comment.")
MESSAGE_TOO_LONG = _l("Use at most 500 characters.")  # MESSAGE_MAX
TOO_LATE = _l("It is too late to change this online; please contact the specialist.")


def refusal(
    *,
    deleted: bool,
    starts_at,
    now,
    specialist_active: bool,
    own: str | None,
    booked: bool,
    overlaps: bool,
    soon: bool = False,
    late: bool = False,
):
    """Why a client may not request a slot (the rules of §6 Request and §12, in the order they are told), or None.

    `own` is the client's own request on the slot: accepted, pending, rejected or None; `soon` and `late` say
    whether it starts inside the specialist's minimum notice or beyond their horizon (models.availability).
    The booking page asks it with the values of one query; request_slot with the locked slot's.
    """
    if deleted:
        return SLOT_GONE
    if starts_at <= now:
        return SLOT_STARTED
    if soon:
        return TOO_SOON
    if late:
        return NOT_OPEN_YET
    if not specialist_active:
        return SPECIALIST_AWAY
    if own in ACTIVE_STATUSES:
        return ALREADY_REQUESTED
    if own == "rejected":
        return WAS_REJECTED
    if booked:
        return SLOT_TAKEN
    if overlaps:
        return OVERLAPS
    return None


def hold_specialist(slot_id: int) -> None:
    """Share-lock the row of the slot's specialist before the slot's lock (the order of portal/services/slots.py):
    a block under way finishes first, and the request then sees the specialist blocked, so none slips in after
    the block rejected their requests."""
    specialist_id = db.session.scalar(select(Slot.specialist_id).where(Slot.id == slot_id))
    if specialist_id is not None:
        db.session.execute(select(User.id).where(User.id == specialist_id).with_for_update(read=True))


def _violates(error: IntegrityError, constraint: str) -> bool:
    """Whether the database refused the row because of this constraint."""
    diag = getattr(error.orig, "diag", None)
    if getattr(diag, "constraint_name", None) == constraint:
        return True
    text = str(error.orig)
    # SQLite names the columns instead of the index.
    return constraint in text or "consultations.slot_id, consultations.client_id" in text


def request_slot(client: User, slot_id: int, message: str | None = None) -> Consultation:
    """Ask for a slot, optionally with a message: a pending consultation, the specialist emailed (caller commits)."""
    message = message or None
    if message is not None and len(message) > MESSAGE_MAX:
        raise DomainError(MESSAGE_TOO_LONG, field="message")
    now = utcnow()
    hold_specialist(slot_id)
    slot = lock_slots(slot_id).get(slot_id)
    if slot is None:
        raise DomainError(SLOT_GONE)
    check_requestable(client, slot, now)
    consultation = Consultation(slot=slot, client=client, status="pending", created_at=now, message=message)
    guard_request(lambda: db.session.add(consultation))
    queue_email(
        slot.specialist, "new_request", slot=slot, client=client, specialist=slot.specialist, consultation=consultation
    )
    queue_webhooks("consultation.requested", consultation, slot, slot.specialist, client)
    return consultation


def check_requestable(client: User, slot: Slot, now) -> None:
    """Refuse (DomainError) the client's request for this locked slot: the rules of §6 Request, as the booking
    page tells them. A request and a reschedule to a new time both ask it."""
    statuses = set(
        db.session.scalars(
            select(Consultation.status).where(Consultation.slot_id == slot.id, Consultation.client_id == client.id)
        )
    )
    booked, soon, late = db.session.execute(
        select(
            exists().where(Consultation.slot_id == slot.id, Consultation.status == "accepted"), too_soon(), too_late()
        ).where(Slot.id == slot.id),
        {"now": now},
    ).one()
    problem = refusal(
        deleted=slot.deleted_at is not None,
        starts_at=slot.starts_at,
        now=now,
        specialist_active=slot.specialist.is_active_specialist,
        own=next((status for status in ("accepted", "pending", "rejected") if status in statuses), None),
        booked=booked,
        overlaps=_has_overlapping_booking(client, slot),
        soon=soon,
        late=late,
    )
    if problem is not None:
        raise DomainError(problem)


def guard_request(change) -> None:
    """Apply `change()` (a new request, or one moved to another slot) in a SAVEPOINT: a concurrent request of the
    same client on that slot is refused, as the booking page would."""
    try:
        with db.session.begin_nested():
            change()
    except IntegrityError as error:
        if _violates(error, ACTIVE_UNIQUE):
            raise DomainError(ALREADY_REQUESTED) from error
        raise


def _has_overlapping_booking(client: User, slot: Slot) -> bool:
    """Whether the client already holds an accepted consultation overlapping this slot."""
    return bool(
        db.session.scalar(
            select(
                exists()
                .where(Consultation.client_id == client.id, Consultation.status == "accepted")
                .where(Consultation.slot_id == Slot.id)
                .where(Slot.deleted_at.is_(None), Slot.starts_at < slot.ends_at, Slot.ends_at > slot.starts_at)
            )
        )
    )


def cancel_consultation(client: User, consultation_id: int, reason: str | None, comment: str | None) -> Consultation:
    """Cancel the client's consultation with a reason; an accepted slot is free again (caller commits)."""
    reason = reason or None
    comment = comment or None
    if reason is not None and reason not in CANCEL_REASONS:
        raise DomainError(_l("Choose one of the listed reasons."), field="reason")
    if reason is None and comment is None:
        raise DomainError(NEED_REASON, field="reason")
    consultation = get_own_consultation_or_404(client, consultation_id)
    # Slot first, then the consultation: the same order as every other change on a slot.
    slot = lock_slots(consultation.slot_id).get(consultation.slot_id)
    consultation = lock_consultation(consultation.id)
    now = utcnow()
    if slot is None or slot.deleted_at is not None or not consultation.can_cancel(now):
        raise DomainError(NOT_CANCELLABLE)
    check_cutoff(slot, now)
    was_accepted = consultation.status == "accepted"
    consultation.status = "cancelled"
    consultation.cancel_reason = reason
    consultation.cancel_comment = comment
    consultation.cancelled_at = now
    queue_email(
        slot.specialist,
        "request_cancelled",
        slot=slot,
        client=client,
        specialist=slot.specialist,
        consultation=consultation,
        was_accepted=was_accepted,
    )
    # The client's own confirmation; an accepted consultation is in their calendar, so it is cancelled there too.
    with force_locale(client.locale):
        ics = consultation_ics(consultation, cancel=True) if was_accepted else None
    queue_email(
        client,
        "cancellation_confirmed",
        ics=ics,
        slot=slot,
        client=client,
        specialist=slot.specialist,
        consultation=consultation,
        was_accepted=was_accepted,
    )
    queue_webhooks("consultation.cancelled", consultation, slot, slot.specialist, client)
    return consultation


def cutoff_hours(specialist_id: int) -> int:
    """The specialist's cancellation cutoff in hours (the default when they never saved their availability)."""
    hours = db.session.scalar(select(Availability.cutoff_hours).where(Availability.specialist_id == specialist_id))
    return DEFAULT_CUTOFF_HOURS if hours is None else hours


def check_cutoff(slot: Slot, now) -> None:
    """Refuse a client's change once the specialist's cancellation cutoff before the slot has begun."""
    if inside_cutoff(slot.starts_at, now, cutoff_hours(slot.specialist_id)):
        raise DomainError(TOO_LATE)
