"""Reminders 24 hours and 1 hour before an accepted consultation, to the client and the specialist (SPEC §13).

A sweep (run every minute by the worker) works out from the database what is due and has not been sent, and
sends each reminder in one transaction with the row that records it (`consultation_notices`, unique per
consultation, kind and person): two sweeps at once, or a sweep repeated after a killed worker, send nothing
twice, and a worker that was down catches up on its first sweep.
"""

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import Interval, String, and_, exists, func, literal, or_, select, union_all
from sqlalchemy.exc import IntegrityError

from portal.clock import utcnow
from portal.extensions import db
from portal.models import Consultation, ConsultationNotice, Slot, User
from portal.outbox import queue_email
from portal.services.slots import lock_slot_and_consultation

DAY_AHEAD = timedelta(hours=24)
HOUR_AHEAD = timedelta(hours=1)
# Consultations handled by one sweep at most; the next sweep carries on.
BATCH = 500


def _due(kind: str, window, now: datetime):
    """(consultation id, kind, person id, start) of every reminder of this kind due now and not yet recorded."""
    c, s, u, n = Consultation, Slot, User, ConsultationNotice
    return (
        select(c.id.label("consultation_id"), literal(kind, String).label("kind"), u.id.label("user_id"), s.starts_at)
        .join(s, s.id == c.slot_id)
        .join(u, or_(u.id == c.client_id, u.id == s.specialist_id))
        .where(c.status == "accepted", s.deleted_at.is_(None), s.starts_at > now, window)
        .where(u.reminders_enabled.is_(True), u.is_blocked.is_(False))
        .where(~exists().where(n.consultation_id == c.id, n.kind == kind, n.user_id == u.id))
    )


def due_reminders(now: datetime) -> dict[int, list[tuple[str, int]]]:
    """Per consultation, soonest first: the (kind, person id) reminders due at `now` and not yet sent.

    The 1-hour one is due in the last hour before the start. The 24-hour one is due from 24 hours before until
    the 1-hour one is, and only when the consultation was accepted at least 24 hours ahead.
    """
    s, c = Slot, Consultation
    accepted = func.coalesce(c.accepted_at, c.created_at)
    day = _due(
        "reminder_24h",
        and_(
            s.starts_at <= now + DAY_AHEAD,
            s.starts_at > now + HOUR_AHEAD,
            accepted <= s.starts_at - literal(DAY_AHEAD, Interval),
        ),
        now,
    )
    hour = _due("reminder_1h", s.starts_at <= now + HOUR_AHEAD, now)
    found = union_all(day, hour).subquery("due")
    rows = db.session.execute(
        select(found.c.consultation_id, found.c.kind, found.c.user_id).order_by(
            found.c.starts_at, found.c.consultation_id, found.c.kind, found.c.user_id
        )
    ).all()
    db.session.rollback()  # read without holding anything; each consultation is locked in its own transaction
    due: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for consultation_id, kind, user_id in rows:
        if consultation_id in due or len(due) < BATCH:
            due[consultation_id].append((kind, user_id))
    return due


def still_due(kind: str, consultation: Consultation, slot: Slot, now: datetime) -> bool:
    """The rule of `due_reminders`, checked again on the locked rows (a cancel may have come first)."""
    if consultation.status != "accepted" or slot.deleted_at is not None or slot.starts_at <= now:
        return False
    if kind == "reminder_1h":
        return slot.starts_at <= now + HOUR_AHEAD
    accepted = consultation.accepted_at or consultation.created_at
    return now + HOUR_AHEAD < slot.starts_at <= now + DAY_AHEAD and accepted <= slot.starts_at - DAY_AHEAD


def record_notice(consultation_id: int, kind: str, user_id: int) -> ConsultationNotice | None:
    """Add the row that says this was sent; None if it already was (the unique constraint decides)."""
    notice = ConsultationNotice(consultation_id=consultation_id, kind=kind, user_id=user_id)
    try:
        with db.session.begin_nested():
            db.session.add(notice)
    except IntegrityError:
        return None
    return notice


def send_reminders(consultation_id: int, reminders: list[tuple[str, int]], now: datetime) -> int:
    """Send one consultation's due reminders and record them (caller commits); how many were written."""
    locked = lock_slot_and_consultation(consultation_id)
    if locked is None:
        return 0
    slot, consultation = locked
    people = {consultation.client.id: consultation.client, slot.specialist.id: slot.specialist}
    sent = 0
    for kind, user_id in reminders:
        person = people.get(user_id)
        if person is None or not person.reminders_enabled or not still_due(kind, consultation, slot, now):
            continue
        notice = record_notice(consultation.id, kind, user_id)
        if notice is None:
            continue
        email = queue_email(
            person,
            kind,
            slot=slot,
            consultation=consultation,
            client=consultation.client,
            specialist=slot.specialist,
        )
        db.session.flush()
        notice.outbox_email_id = email.id
        sent += 1
    return sent


def sweep() -> int:
    """Send every reminder due now, one consultation per transaction; returns how many emails were written."""
    now = utcnow()
    total = 0
    for consultation_id, reminders in due_reminders(now).items():
        try:
            total += send_reminders(consultation_id, reminders, now)
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
    return total
