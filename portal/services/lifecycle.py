"""A consultation after the request (SPEC §13): the client asks for a new time, the specialist moves or cancels
an accepted one, and blocking a specialist ends what they had booked.

Each change is one transaction that locks the slots first (both, in ascending id order, when it goes from one
time to another: portal/services/slots.py tells the order), then the consultations.
"""

from itertools import groupby

from flask import abort
from sqlalchemy import select

from portal.access import get_own_consultation_or_404, own_request_slot_id_or_404
from portal.clock import utcnow
from portal.extensions import db
from portal.i18n import force_locale
from portal.i18n import gettext as _
from portal.i18n import lazy_gettext as _l
from portal.ics import cancellations_ics, consultation_ics
from portal.models import ACTIVE_STATUSES, Consultation, Slot, User
from portal.models.slot import is_cancellable, is_movable
from portal.outbox import queue_email
from portal.services.booking import SLOT_GONE, check_cutoff, check_requestable, guard_request, hold_specialist
from portal.services.errors import DomainError
from portal.services.requests import (
    ACCEPTED_CONSTRAINT,
    REASON_MAX,
    booked_error,
    changed_error,
    client_is_busy,
    reject,
)
from portal.services.slots import active_consultations, lock_consultation, lock_slots, save_guarded
from portal.webhooks import queue_webhooks

NOT_RESCHEDULABLE = _l("This consultation can no longer be rescheduled.")
NOT_MOVABLE = _l("Only an accepted consultation that has not started can be changed.")
SAME_TIME = _l("This is the consultation's current time. Choose another one.")
ALREADY_ASKED = _l(
    "You have already asked for a new time for this consultation. Wait for the answer, or cancel that request first."
)
CHOOSE_TIME = _l("Choose a time.")


def _time_field(error: DomainError) -> DomainError:
    """A refusal about the chosen time, shown next to the list of times."""
    return DomainError(error.message, field="slot_id")


def reschedule(client: User, consultation_id: int, slot_id: int | None) -> tuple[Consultation, bool]:
    """Ask for a new time: a pending request moves to it, an accepted consultation gets a new request that replaces
    it once the specialist accepts (requests.accept_request). (the request at the new time, whether it is new)."""
    if not slot_id:
        raise DomainError(CHOOSE_TIME, field="slot_id")
    current = get_own_consultation_or_404(client, consultation_id)
    old_slot_id = current.slot_id
    hold_specialist(slot_id)
    slots = lock_slots(old_slot_id, slot_id)
    consultation = lock_consultation(current.id)
    if consultation.slot_id != old_slot_id:
        raise changed_error()
    now = utcnow()
    old, target = slots[old_slot_id], slots.get(slot_id)
    if old.deleted_at is not None or not is_cancellable(consultation.status, old.starts_at, now):
        raise DomainError(NOT_RESCHEDULABLE)
    check_cutoff(old, now)
    if target is None or target.specialist_id != old.specialist_id:
        raise DomainError(SLOT_GONE, field="slot_id")
    if target.id == old.id:
        raise DomainError(SAME_TIME, field="slot_id")
    try:
        check_requestable(client, target, now)
    except DomainError as error:
        raise _time_field(error) from None
    specialist = old.specialist
    if consultation.status == "pending":
        request, created = consultation, False

        def change():
            consultation.slot = target

        guard_request(change)
    else:
        waiting = db.session.scalars(
            select(Consultation.id)
            .where(Consultation.rescheduled_from_id == consultation.id, Consultation.status == "pending")
            .limit(1)
        ).first()
        if waiting is not None:
            raise DomainError(ALREADY_ASKED)
        request, created = Consultation(slot=target, client=client, status="pending", created_at=now), True
        request.rescheduled_from_id = consultation.id
        guard_request(lambda: db.session.add(request))
    context = dict(slot=target, client=client, specialist=specialist, consultation=request, old_slot=old)
    queue_email(specialist, "reschedule_requested", was_accepted=created, **context)
    queue_email(client, "reschedule_sent", was_accepted=created, **context)
    if created:
        queue_webhooks("consultation.requested", request, target, specialist, client)
    else:
        queue_webhooks("consultation.rescheduled", request, target, specialist, client)
    return request, created


def _lock_own_accepted(specialist: User, consultation_id: int, *other_slot_ids: int) -> tuple[dict, Consultation]:
    """Lock the slot of the specialist's accepted consultation (with `other_slot_ids`), then the consultation."""
    slot_id = own_request_slot_id_or_404(specialist, consultation_id)
    slots = lock_slots(slot_id, *other_slot_ids)
    if slots.get(slot_id) is None or slots[slot_id].specialist_id != specialist.id:  # transferred meanwhile
        abort(404)
    consultation = lock_consultation(consultation_id)
    if consultation.slot_id != slot_id:
        raise changed_error()
    if not is_movable(consultation.status, consultation.slot.starts_at, utcnow()):
        raise DomainError(NOT_MOVABLE)
    return slots, consultation


def move_consultation(specialist: User, consultation_id: int, slot_id: int | None) -> Consultation:
    """Move an accepted consultation to another free slot of the specialist; pending requests on that slot are
    rejected; the client is emailed the updated invitation (same UID, higher SEQUENCE)."""
    if not slot_id:
        raise DomainError(CHOOSE_TIME, field="slot_id")
    slots, consultation = _lock_own_accepted(specialist, consultation_id, slot_id)
    old, target, now = consultation.slot, slots.get(slot_id), utcnow()
    if target is None or target.specialist_id != specialist.id or target.deleted_at is not None:
        raise DomainError(SLOT_GONE, field="slot_id")
    if target.id == old.id:
        raise DomainError(SAME_TIME, field="slot_id")
    if target.starts_at <= now:
        raise DomainError(_("This time has already started."), field="slot_id")
    others = active_consultations(target.id)
    if any(other.status == "accepted" for other in others):
        raise _time_field(booked_error())
    client = consultation.client
    db.session.execute(select(User.id).where(User.id == client.id).with_for_update(key_share=True))
    if client_is_busy(client.id, target):
        raise DomainError(
            _("%(username)s already has an accepted consultation at this time.", username=client.label),
            field="slot_id",
        )
    for other in others:  # the client's own pending request there too: the slot is theirs now
        reject(other, target, specialist, now)
    db.session.flush()

    def change():
        consultation.slot = target

    save_guarded(change, ACCEPTED_CONSTRAINT, lambda: _time_field(booked_error()))
    with force_locale(client.locale):
        ics = consultation_ics(consultation)
    queue_email(
        client,
        "consultation_moved",
        ics=ics,
        slot=target,
        consultation=consultation,
        client=client,
        specialist=specialist,
        old_starts_at=old.starts_at,
    )
    queue_webhooks("consultation.rescheduled", consultation, target, specialist, client)
    return consultation


def cancel_by_specialist(specialist: User, consultation_id: int, reason: str | None, remove_slot: bool) -> Consultation:
    """Cancel an accepted consultation with a reason the client reads; the slot is offered again unless removed."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Tell the client why."), field="reason")
    if len(reason) > REASON_MAX:
        raise DomainError(_("The reason can be at most 500 characters long."), field="reason")
    slots, consultation = _lock_own_accepted(specialist, consultation_id)
    slot, now = consultation.slot, utcnow()
    consultation.status = "cancelled_by_specialist"
    consultation.cancelled_at = now
    consultation.cancel_comment = reason
    if remove_slot:
        slot.deleted_at = now
    client = consultation.client
    with force_locale(client.locale):
        ics = consultation_ics(consultation, cancel=True)
    queue_email(
        client,
        "specialist_cancelled",
        ics=ics,
        slot=slot,
        consultation=consultation,
        client=client,
        specialist=specialist,
        reason=reason,
    )
    queue_webhooks("consultation.cancelled", consultation, slot, specialist, client)
    return consultation


def release_consultations(specialist: User) -> int:
    """For a specialist being blocked: reject their pending requests and cancel their accepted consultations that
    have not started; each client concerned gets one email about all of theirs. How many clients were told."""
    now = utcnow()
    slot_ids = sorted(
        set(
            db.session.scalars(
                select(Consultation.slot_id)
                .join(Slot, Slot.id == Consultation.slot_id)
                .where(
                    Slot.specialist_id == specialist.id,
                    Slot.deleted_at.is_(None),
                    Slot.starts_at > now,
                    Consultation.status.in_(ACTIVE_STATUSES),
                )
            )
        )
    )
    if not slot_ids:
        return 0
    slots = lock_slots(*slot_ids)
    consultations = [consultation for slot_id in slot_ids for consultation in active_consultations(slot_id)]
    consultations.sort(key=lambda consultation: (consultation.client_id, slots[consultation.slot_id].starts_at))
    told = 0
    for _client_id, theirs in groupby(consultations, key=lambda consultation: consultation.client_id):
        theirs = list(theirs)
        client = theirs[0].client
        with force_locale(client.locale):
            reason = _("The specialist is not available.")
        items = []
        for consultation in theirs:
            items.append((slots[consultation.slot_id], consultation.status))
            if consultation.status == "pending":
                consultation.status = "rejected"
                consultation.rejected_at = now
                consultation.reject_reason = reason
            else:
                consultation.status = "cancelled_by_specialist"
                consultation.cancelled_at = now
                consultation.cancel_comment = reason
            event = "consultation.rejected" if consultation.status == "rejected" else "consultation.cancelled"
            queue_webhooks(event, consultation, slots[consultation.slot_id], specialist, client)
        cancelled = [c for c in theirs if c.status == "cancelled_by_specialist"]
        with force_locale(client.locale):
            ics = cancellations_ics(cancelled) if cancelled else None
        queue_email(client, "specialist_unavailable", ics=ics, client=client, specialist=specialist, items=items)
        told += 1
    return told
