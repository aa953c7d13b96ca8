"""A specialist's slots: publish (with weekly repeat), edit, transfer and delete.

Lock order, the same in every transaction that takes more than one of these locks, so none waits in a circle:

1. specialists' user rows, ascending id, FOR NO KEY UPDATE (`lock_specialists`: publishing, editing and
   transferring; a transfer also locks the row of the user it names, before checking that one is a specialist);
   blocking takes its two user rows in the same order (FOR NO KEY UPDATE) and then, for a specialist, the
   slots of their future consultations (their pending requests are rejected, accepted ones cancelled);
2. the slot row, FOR UPDATE (edit, delete, request, cancel, accept, reject); a change that touches two slots
   (a new time, a move, accepting a new time) locks both in ascending id order (`lock_slots`); a request (and a
   new time) first share-locks the row of the slot's specialist (FOR SHARE, `booking.hold_specialist`), so that
   it waits for a block under way and then sees it;
3. the slot's consultations, FOR UPDATE;
4. clients' user rows, FOR KEY SHARE (accepting; and every row that refers to a user, such as an outbox email).

Nothing that holds a slot or a consultation waits for a specialist's row: FOR KEY SHARE (taken by a request's
email to the specialist) does not conflict with FOR NO KEY UPDATE. Two changes to one specialist's slots therefore
take turns on that specialist's row before either touches the overlap constraint, whose check would otherwise
make two inserts wait for each other ("deadlock detected while checking exclusion constraint").
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from portal.access import get_own_slot_or_404
from portal.clock import utcnow
from portal.extensions import db
from portal.i18n import force_locale, when_text, zone_label
from portal.i18n import gettext as _
from portal.ics import consultation_ics
from portal.models import ACTIVE_STATUSES, Consultation, Slot, User
from portal.outbox import queue_email
from portal.services.errors import DomainError
from portal.webhooks import queue_webhooks

MAX_DURATION = timedelta(hours=12)
MAX_AHEAD = timedelta(days=365)
MAX_REPEAT_WEEKS = 12
NOTE_MAX = 255
OVERLAP_CONSTRAINT = "ex_slots_no_overlap"


def zone_of(user: User) -> ZoneInfo:
    """The user's time zone."""
    return ZoneInfo(user.timezone)


def local_instant(day: date, wall: time, zone: ZoneInfo, field: str) -> datetime:
    """The UTC instant of a wall-clock time: one skipped by DST is refused, a repeated one is its first occurrence."""
    naive = datetime.combine(day, wall.replace(second=0, microsecond=0))
    instant = naive.replace(tzinfo=zone).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != naive:
        raise DomainError(
            _(
                "%(time)s does not exist on %(date)s in %(zone)s: the clocks move forward then. Choose another time.",
                time=when_text(naive.time(), "time"),
                date=when_text(day, "date"),
                zone=zone_label(zone.key),
            ),
            field=field,
        )
    return instant


def span_text(starts_at: datetime, ends_at: datetime, zone: ZoneInfo) -> str:
    """A slot's time like "Mon, 6 Apr 2026, 09:00–09:45" in the given zone (the formats of portal/i18n.py)."""
    return f"{when_text(starts_at, tz=zone.key)}–{when_text(ends_at, 'time', tz=zone.key)}"


def end_error() -> DomainError:
    """The refusal for an end time not after the start time."""
    return DomainError(_("The end time must be after the start time, on the same date."), field="end_time")


def check_times(starts_at: datetime, ends_at: datetime, now: datetime) -> None:
    """Refuse a slot that ends before it starts, has begun, is too long or too far ahead."""
    if ends_at <= starts_at:
        raise end_error()
    if starts_at <= now:
        raise DomainError(_("This start time has already passed."), field="start_time")
    if ends_at - starts_at > MAX_DURATION:
        raise DomainError(_("A slot can last at most 12 hours."), field="start_time")
    if starts_at > now + MAX_AHEAD:
        raise DomainError(_("A slot can start at most 365 days ahead."), field="start_time")


def check_day(day: date, now: datetime) -> None:
    """Refuse a date far outside the bookable year before any arithmetic on it (year 1 or 9999)."""
    if day < (now - timedelta(days=2)).date():
        raise DomainError(_("This start time has already passed."), field="start_time")
    if day > (now + MAX_AHEAD + timedelta(days=2)).date():
        raise DomainError(_("A slot can start at most 365 days ahead."), field="start_time")


def check_note(note: str | None) -> None:
    """Refuse a note longer than the column holds."""
    if note and len(note) > NOTE_MAX:
        raise DomainError(_("The note can be at most 255 characters long."), field="note")


def find_overlap(specialist_id: int, starts_at: datetime, ends_at: datetime, exclude_id: int | None = None):
    """Another live slot of the specialist sharing some time with this one (touching is fine)."""
    stmt = select(Slot).where(
        Slot.specialist_id == specialist_id,
        Slot.deleted_at.is_(None),
        Slot.starts_at < ends_at,
        Slot.ends_at > starts_at,
    )
    if exclude_id is not None:
        stmt = stmt.where(Slot.id != exclude_id)
    return db.session.scalars(stmt.order_by(Slot.starts_at).limit(1)).first()


def overlap_error(conflict: Slot | None, zone: ZoneInfo, owner: User | None = None) -> DomainError:
    """The refusal for an overlap, the same whether Python or the database found it."""
    if owner is not None:
        if conflict is None:
            message = _("This slot overlaps a slot of %(username)s.", username=owner.label)
        else:
            message = _(
                "This slot overlaps a slot of %(username)s (%(span)s).",
                username=owner.label,
                span=span_text(conflict.starts_at, conflict.ends_at, zone),
            )
        return DomainError(message, field="specialist")
    if conflict is None:
        return DomainError(_("This overlaps another of your slots. Slots may touch but not overlap."), "start_time")
    return DomainError(
        _(
            "This overlaps your slot %(span)s. Slots may touch but not overlap.",
            span=span_text(conflict.starts_at, conflict.ends_at, zone),
        ),
        field="start_time",
    )


def constraint_name(error: IntegrityError) -> str | None:
    """The name of the constraint a database error reports (PostgreSQL)."""
    return getattr(getattr(error.orig, "diag", None), "constraint_name", None)


def save_guarded(change, constraint: str, refusal) -> None:
    """Apply `change()` and flush in a SAVEPOINT; a concurrent request's violation becomes `refusal()`."""
    if db.session.get_bind().dialect.name != "postgresql":
        # SQLite (the embedded default) has neither the constraints nor reliable savepoints under pysqlite:
        # releasing the first savepoint would commit, so one request's batch could no longer be rolled back.
        change()
        db.session.flush()
        return
    try:
        with db.session.begin_nested():
            change()
    except IntegrityError as error:
        if constraint_name(error) != constraint:
            raise
        raise refusal() from None


def lock_specialists(*user_ids: int) -> None:
    """Lock these users' rows in ascending id order, refreshing them, until the transaction ends (see above)."""
    # FOR NO KEY UPDATE: requests that only refer to the specialist (a consultation's email) pass freely.
    db.session.scalars(
        select(User)
        .where(User.id.in_(set(user_ids)))
        .order_by(User.id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).all()


def blocked_error() -> DomainError:
    """The refusal for a specialist blocked while their change was waiting for its lock."""
    return DomainError(_("Your account is blocked"))


def lock_slots(*slot_ids: int) -> dict[int, Slot]:
    """Lock these slots, with their specialists, in ascending id order (a change touching two slots, such as a
    move from one time to another, takes them in the same order as every other): {id: slot}; a missing id is
    absent."""
    rows = db.session.scalars(
        select(Slot)
        .where(Slot.id.in_(set(slot_ids)))
        .options(joinedload(Slot.specialist, innerjoin=True))
        .order_by(Slot.id)
        .with_for_update(of=Slot)
        .execution_options(populate_existing=True)
    )
    return {slot.id: slot for slot in rows}


def lock_consultation(consultation_id: int) -> Consultation:
    """A consultation row locked FOR UPDATE (after its slot's lock), with its slot, specialist and client,
    refreshed."""
    return db.session.scalars(
        select(Consultation)
        .where(Consultation.id == consultation_id)
        .options(
            joinedload(Consultation.client, innerjoin=True),
            joinedload(Consultation.slot, innerjoin=True).joinedload(Slot.specialist, innerjoin=True),
        )
        .with_for_update(of=Consultation)
        .execution_options(populate_existing=True)
    ).one()


def lock_slot_and_consultation(consultation_id: int) -> tuple[Slot, Consultation] | None:
    """The consultation's slot, then the consultation, locked (the order every change on a slot takes);
    None for a consultation that does not exist."""
    slot_id = db.session.scalar(select(Consultation.slot_id).where(Consultation.id == consultation_id))
    if slot_id is None:
        return None
    slot = lock_slots(slot_id)[slot_id]
    return slot, lock_consultation(consultation_id)


def active_consultations(slot_id: int, lock: bool = True) -> list[Consultation]:
    """Pending and accepted consultations of a slot with their clients, locked FOR UPDATE."""
    stmt = (
        select(Consultation)
        .where(Consultation.slot_id == slot_id, Consultation.status.in_(ACTIVE_STATUSES))
        .options(joinedload(Consultation.client, innerjoin=True))
        .order_by(Consultation.id)
    )
    if lock:
        stmt = stmt.with_for_update(of=Consultation).execution_options(populate_existing=True)
    return list(db.session.scalars(stmt))


def create_slots(
    specialist: User, day: date, start: time, end: time, note: str | None = None, repeat_weeks: int = 0
) -> list[Slot]:
    """Publish a slot and its weekly repeats; one invalid date refuses the whole batch, naming that date."""
    if not 0 <= repeat_weeks <= MAX_REPEAT_WEEKS:
        raise DomainError(_("Repeat for 0 to 12 weeks."), field="repeat_weeks")
    check_note(note)
    lock_specialists(specialist.id)
    if specialist.is_blocked:
        raise blocked_error()
    zone, now = zone_of(specialist), utcnow()
    created: list[Slot] = []
    for week in range(repeat_weeks + 1):
        current = day + timedelta(weeks=week) if week else day
        try:
            check_day(current, now)
            created.append(_create_one(specialist, current, start, end, note or None, zone, now))
        except DomainError as error:
            if repeat_weeks:
                day_text = when_text(current, "date")
                raise DomainError(
                    _("Slot on %(date)s: %(problem)s", date=day_text, problem=error.message), error.field
                ) from None
            raise
    return created


def _create_one(specialist, day, start, end, note, zone, now) -> Slot:
    if end <= start:
        raise end_error()
    starts_at = local_instant(day, start, zone, "start_time")
    ends_at = local_instant(day, end, zone, "end_time")
    check_times(starts_at, ends_at, now)
    conflict = find_overlap(specialist.id, starts_at, ends_at)
    if conflict is not None:
        raise overlap_error(conflict, zone)
    slot = Slot(specialist_id=specialist.id, starts_at=starts_at, ends_at=ends_at, note=note)
    save_guarded(
        lambda: db.session.add(slot),
        OVERLAP_CONSTRAINT,
        lambda: overlap_error(find_overlap(specialist.id, starts_at, ends_at), zone),
    )
    return slot


def find_user(username: str) -> User | None:
    """A user by username, in any case (not locked)."""
    return db.session.scalars(select(User).where(func.lower(User.username) == username.strip().lower())).first()


def check_transfer_target(user: User | None, username: str) -> User:
    """The user a slot may go to: an active, confirmed, unblocked specialist (call it holding the row's lock)."""
    if user is None:
        raise DomainError(_("There is no user named %(username)s.", username=username), field="specialist")
    if not user.is_active_specialist:
        raise DomainError(
            _("Slots can only go to an active specialist; %(username)s is not one.", username=user.label),
            field="specialist",
        )
    return user


def resulting_times(slot: Slot, zone: ZoneInfo, day=None, start=None, end=None) -> tuple[datetime, datetime]:
    """The slot's instants after an edit: a part not given, or given unchanged, keeps the stored instant."""
    old_start, old_end = slot.starts_at.astimezone(zone), slot.ends_at.astimezone(zone)
    day = day or old_start.date()
    start = start or old_start.time()
    end = end or old_end.time()
    if end <= start:
        raise end_error()
    same_start = (day, start) == (old_start.date(), old_start.time())
    same_end = (day, end) == (old_end.date(), old_end.time())
    # Kept instants matter on a DST fall-back day, where a wall time alone names two instants.
    starts_at = slot.starts_at if same_start else local_instant(day, start, zone, "start_time")
    ends_at = slot.ends_at if same_end else local_instant(day, end, zone, "end_time")
    return starts_at, ends_at


def edit_slot(
    specialist: User,
    slot_id: int,
    *,
    day: date | None = None,
    start: time | None = None,
    end: time | None = None,
    note: str | None = None,
    new_owner: str | None = None,
) -> tuple[Slot, bool]:
    """Change a future slot's time or note and/or transfer it; clients holding it are emailed. (slot, changed)."""
    zone, now = zone_of(specialist), utcnow()
    target = None
    if new_owner and new_owner.strip().lower() != specialist.username.lower():
        target = find_user(new_owner)
    # Both specialists' rows before the slot's: a block, or an edit by the other one, takes turns with this.
    lock_specialists(specialist.id, *([target.id] if target else []))
    if specialist.is_blocked:
        raise blocked_error()
    slot = get_own_slot_or_404(specialist, slot_id, lock=True)
    if slot.starts_at <= now:
        raise DomainError(_("This slot has already started and can no longer be changed."))
    if day is not None:
        check_day(day, now)
    starts_at, ends_at = resulting_times(slot, zone, day, start, end)
    check_times(starts_at, ends_at, now)
    note = slot.note if note is None else (note or None)
    check_note(note)
    owner = specialist
    if new_owner and new_owner.strip().lower() != specialist.username.lower():
        owner = check_transfer_target(target, new_owner)
    other = owner if owner.id != specialist.id else None
    conflict = find_overlap(owner.id, starts_at, ends_at, exclude_id=slot_id)
    if conflict is not None:
        raise overlap_error(conflict, zone, other)
    old = {"old_starts_at": slot.starts_at, "old_ends_at": slot.ends_at, "old_minutes": slot.duration_minutes}
    if (starts_at, ends_at, note, owner.id) == (slot.starts_at, slot.ends_at, slot.note, slot.specialist_id):
        return slot, False
    consultations = active_consultations(slot_id)
    # A new time or a new specialist is news for webhooks; a new note alone is not.
    moved = (starts_at, ends_at, owner.id) != (slot.starts_at, slot.ends_at, slot.specialist_id)

    def change():
        slot.starts_at, slot.ends_at, slot.note, slot.specialist_id = starts_at, ends_at, note, owner.id

    save_guarded(
        change,
        OVERLAP_CONSTRAINT,
        lambda: overlap_error(find_overlap(owner.id, starts_at, ends_at, slot_id), zone, other),
    )
    for consultation in consultations:
        client = consultation.client
        ics = None
        if consultation.status == "accepted":
            with force_locale(client.locale):
                ics = consultation_ics(consultation)
        queue_email(
            client,
            "slot_changed",
            ics=ics,
            slot=slot,
            consultation=consultation,
            client=client,
            specialist=owner,
            old_specialist=specialist,
            transferred=other is not None,
            **old,
        )
        if moved:
            queue_webhooks("consultation.rescheduled", consultation, slot, owner, client)
    return slot, True


def count_active(slot_id: int) -> int:
    """How many clients hold a pending or accepted request on the slot."""
    return db.session.scalar(
        select(func.count(Consultation.id)).where(
            Consultation.slot_id == slot_id, Consultation.status.in_(ACTIVE_STATUSES)
        )
    )


def delete_slot(specialist: User, slot_id: int) -> int:
    """Soft-delete a future slot; its pending and accepted consultations are cancelled and the clients emailed."""
    now = utcnow()
    slot = get_own_slot_or_404(specialist, slot_id, lock=True)
    if slot.starts_at <= now:
        raise DomainError(_("This slot has already started; it stays in your history."))
    consultations = active_consultations(slot_id)
    slot.deleted_at = now
    for consultation in consultations:
        was = consultation.status
        consultation.status = "cancelled_by_specialist"
        consultation.cancelled_at = now
        client = consultation.client
        # An accepted consultation is in the client's calendar (its invitation): cancel it there too.
        with force_locale(client.locale):
            ics = consultation_ics(consultation, cancel=True) if was == "accepted" else None
        queue_email(
            client,
            "slot_deleted",
            ics=ics,
            slot=slot,
            consultation=consultation,
            client=client,
            specialist=specialist,
            was=was,
        )
        queue_webhooks("consultation.cancelled", consultation, slot, specialist, client)
    return len(consultations)
