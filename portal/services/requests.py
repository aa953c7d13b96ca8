"""A specialist answers clients' requests: accept one (the others on the slot are rejected) or reject it."""

from flask import abort
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.access import own_request_slot_id_or_404
from portal.clock import utcnow
from portal.extensions import db
from portal.i18n import gettext as _
from portal.ics import consultation_ics
from portal.models import Consultation, Slot, User
from portal.outbox import queue_email
from portal.services.errors import DomainError, StateConflict
from portal.services.slots import active_consultations, save_guarded
from portal.words import status_labels

ACCEPTED_CONSTRAINT = "uq_consultations_slot_accepted"
REASON_MAX = 500


def lock_request(specialist: User, consultation_id: int) -> tuple[Slot, Consultation]:
    """Lock the slot, then the request; check it is still the specialist's, pending and in the future."""
    slot_id = own_request_slot_id_or_404(specialist, consultation_id)
    # The slot lock comes first: it makes every answer on one slot wait for the previous one.
    slot = db.session.scalars(
        select(Slot).where(Slot.id == slot_id).with_for_update().execution_options(populate_existing=True)
    ).one()
    if slot.specialist_id != specialist.id:  # transferred meanwhile
        abort(404)
    consultation = db.session.scalars(
        select(Consultation)
        .where(Consultation.id == consultation_id)
        .options(joinedload(Consultation.client, innerjoin=True))
        .with_for_update(of=Consultation)
        .execution_options(populate_existing=True)
    ).one()
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
    """Accept a pending request; every other pending request on the slot is rejected. (accepted, auto-rejected)."""
    slot, consultation = lock_request(specialist, consultation_id)
    client = consultation.client
    if client.is_blocked:
        raise DomainError(
            _("The account of %(username)s is blocked; the request cannot be accepted.", username=client.label)
        )
    if specialist.is_blocked:
        raise DomainError(_("Your account is blocked"))
    # Two specialists accepting one client's overlapping requests take turns on the client's row.
    db.session.execute(select(User.id).where(User.id == client.id).with_for_update(key_share=True))
    if client_is_busy(client.id, slot):
        raise DomainError(_("%(username)s already has an accepted consultation at this time.", username=client.label))
    others = [c for c in active_consultations(slot.id) if c.id != consultation.id]
    if any(c.status == "accepted" for c in others):
        raise booked_error()
    now = utcnow()

    def change():
        consultation.status = "accepted"
        consultation.accepted_at = now

    save_guarded(change, ACCEPTED_CONSTRAINT, booked_error)
    rejected = [c for c in others if c.status == "pending"]
    for other in rejected:
        other.status = "rejected"
        other.rejected_at = now
        queue_email(
            other.client,
            "request_rejected",
            slot=slot,
            consultation=other,
            client=other.client,
            specialist=specialist,
            reason=None,
            auto=True,
        )
    with force_locale(client.locale):
        ics = consultation_ics(consultation)
    queue_email(
        client, "request_accepted", ics=ics, slot=slot, consultation=consultation, client=client, specialist=specialist
    )
    return consultation, rejected


def reject_request(specialist: User, consultation_id: int, reason: str | None = None) -> Consultation:
    """Reject a pending request, with an optional reason the client reads in the email."""
    reason = (reason or "").strip() or None
    if reason and len(reason) > REASON_MAX:
        raise DomainError(_("The reason can be at most 500 characters long."), field="reason")
    slot, consultation = lock_request(specialist, consultation_id)
    consultation.status = "rejected"
    consultation.rejected_at = utcnow()
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
        auto=False,
    )
    return consultation
