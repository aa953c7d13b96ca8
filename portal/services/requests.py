"""A specialist answers clients' requests: accept one (the others on the slot are rejected) or reject it."""

from datetime import datetime

from flask import abort
from sqlalchemy import select
from sqlalchemy.orm import aliased

from portal.access import own_request_slot_id_or_404
from portal.clock import utcnow
from portal.extensions import db
from portal.i18n import force_locale
from portal.i18n import gettext as _
from portal.ics import consultation_ics
from portal.models import Consultation, Slot, User
from portal.models.slot import RESCHEDULED
from portal.outbox import queue_email
from portal.services.errors import DomainError, StateConflict
from portal.services.slots import active_consultations, lock_consultation, lock_slots, save_guarded
from portal.webhooks import queue_webhooks
from portal.words import status_labels

ACCEPTED_CONSTRAINT = "uq_consultations_slot_accepted"
Replacement = aliased(Consultation)  # a request for a new time, joined to the consultation it replaces
REASON_MAX = 500


def lock_request(specialist: User, consultation_id: int, also_slot_id: int | None = None) -> tuple[Slot, Consultation]:
    """Lock the slot, then the request; check it is still the specialist's, pending and in the future.

    `also_slot_id`: another slot the answer changes (the time a new one replaces), locked in id order with it."""
    slot_id = own_request_slot_id_or_404(specialist, consultation_id)
    if also_slot_id is not None:
        lock_slots(slot_id, also_slot_id)
    # The slot lock comes first: it makes every answer on one slot wait for the previous one.
    slot = db.session.scalars(
        select(Slot).where(Slot.id == slot_id).with_for_update().execution_options(populate_existing=True)
    ).one()
    if slot.specialist_id != specialist.id:  # transferred meanwhile
        abort(404)
    consultation = lock_consultation(consultation_id)
    now = utcnow()
    if consultation.status != "pending":
        word = status_labels()[consultation.status]
        raise StateConflict(_("This request is no longer pending: it is %(status)s.", status=word))
    if slot.starts_at <= now:
        raise DomainError(_("This slot has already started; its requests can no longer be answered."))
    return slot, consultation


def booked_error() -> StateConflict:
    """The refusal when another request on the slot was accepted first."""
    return StateConflict(_("This slot is already booked: another request on it was accepted."))


def client_is_busy(client_id: int, slot: Slot) -> bool:
    """Whether the client already has an accepted consultation overlapping this slot, with anyone."""
    clash = (
        select(Consultation.id)
        .join(Slot, Slot.id == Consultation.slot_id)
        .where(
            Consultation.client_id == client_id,
            Consultation.status == "accepted",
            Slot.id != slot.id,
            Slot.starts_at < slot.ends_at,
            Slot.ends_at > slot.starts_at,
        )
        .limit(1)
    )
    return db.session.scalar(clash) is not None


def accept_request(specialist: User, consultation_id: int) -> tuple[Consultation, list[Consultation]]:
    """Accept a pending request; every other pending request on the slot is rejected. (accepted, auto-rejected).

    A request for a new time replaces the accepted consultation it came from: that one is cancelled (reason
    Rescheduled) in the same transaction, and its slot is free again."""
    replaced_slot_id = db.session.scalar(
        select(Consultation.slot_id)
        .join(Replacement, Replacement.rescheduled_from_id == Consultation.id)
        .where(Replacement.id == consultation_id)
    )
    slot, consultation = lock_request(specialist, consultation_id, replaced_slot_id)
    replaced = None
    if consultation.rescheduled_from_id is not None:
        replaced = lock_consultation(consultation.rescheduled_from_id)
        if replaced.slot_id != replaced_slot_id:  # moved by the specialist meanwhile
            raise changed_error()
    client = consultation.client
    if client.is_blocked:
        raise DomainError(
            _("The account of %(username)s is blocked; the request cannot be accepted.", username=client.label)
        )
    if specialist.is_blocked:
        raise DomainError(_("Your account is blocked"))
    now = utcnow()
    replacing = replaced is not None and replaced.status == "accepted" and replaced.slot.starts_at > now
    if replacing:
        replaced.status = "cancelled"
        replaced.cancel_reason = RESCHEDULED
        replaced.cancelled_at = now
    # Two specialists accepting one client's overlapping requests take turns on the client's row.
    db.session.execute(select(User.id).where(User.id == client.id).with_for_update(key_share=True))
    if client_is_busy(client.id, slot):
        raise DomainError(_("%(username)s already has an accepted consultation at this time.", username=client.label))
    others = [c for c in active_consultations(slot.id) if c.id != consultation.id]
    if any(c.status == "accepted" for c in others):
        raise booked_error()

    def change():
        consultation.status = "accepted"
        consultation.accepted_at = now

    save_guarded(change, ACCEPTED_CONSTRAINT, booked_error)
    rejected = [c for c in others if c.status == "pending"]
    for other in rejected:
        reject(other, slot, specialist, now)
    with force_locale(client.locale):
        ics = consultation_ics(consultation)
    if replacing:
        queue_email(
            client,
            "reschedule_accepted",
            ics=ics,
            slot=slot,
            consultation=consultation,
            client=client,
            specialist=specialist,
            old_starts_at=replaced.slot.starts_at,
        )
        # The earlier time is another event (its own UID) in the client's calendar: its CANCEL removes it there.
        with force_locale(client.locale):
            old_ics = consultation_ics(replaced, cancel=True)
        queue_email(
            client,
            "reschedule_replaced",
            ics=old_ics,
            slot=replaced.slot,
            consultation=replaced,
            client=client,
            specialist=specialist,
            new_starts_at=slot.starts_at,
        )
    else:
        queue_email(
            client,
            "request_accepted",
            ics=ics,
            slot=slot,
            consultation=consultation,
            client=client,
            specialist=specialist,
        )
    queue_webhooks("consultation.accepted", consultation, slot, specialist, client)
    if replacing:
        queue_webhooks("consultation.cancelled", replaced, replaced.slot, specialist, client)
    return consultation, rejected


def changed_error() -> StateConflict:
    """The refusal when the consultation moved to another time while this change waited for its lock."""
    return StateConflict(_("This consultation has just been changed. Please look at it again."))


def reject_request(specialist: User, consultation_id: int, reason: str | None = None) -> Consultation:
    """Reject a pending request, with an optional reason the client reads in the email."""
    reason = (reason or "").strip() or None
    if reason and len(reason) > REASON_MAX:
        raise DomainError(_("The reason can be at most 500 characters long."), field="reason")
    slot, consultation = lock_request(specialist, consultation_id)
    reject(consultation, slot, specialist, utcnow(), reason=reason, auto=False)
    return consultation


def reject(
    consultation: Consultation,
    slot: Slot,
    specialist: User,
    now: datetime,
    reason: str | None = None,
    auto: bool = True,
) -> None:
    """Mark a pending request rejected and tell its client (email and webhook) in the caller's transaction.

    `auto`: rejected because another request took the slot, not by the specialist's choice."""
    consultation.status = "rejected"
    consultation.rejected_at = now
    consultation.reject_reason = reason
    client = consultation.client
    queue_email(
        client,
        "request_rejected",
        slot=slot,
        consultation=consultation,
        client=client,
        specialist=specialist,
        reason=reason,
        auto=auto,
    )
    queue_webhooks("consultation.rejected", consultation, slot, specialist, client)
