"""Working hours (SPEC §12): save a specialist's weekly hours and rules, generate their free slots, days off.

Generation works on wall-clock times in the specialist's zone, one calendar day at a time, so a session at 09:00
stays at 09:00 across DST changes; a session whose start or end the clocks skip, or that the change lengthens or
shortens, is not made. Existing slots win: a session overlapping a live slot (manual, generated or booked) is
skipped, and so is one the specialist deleted before (its soft-deleted row). The exclusion constraint
`ex_slots_no_overlap` has the last word: rows it refuses are skipped (ON CONFLICT DO NOTHING), never an error.
The work is a fixed number of statements whatever the horizon: one read of the slots in the window, one DELETE,
and one INSERT per INSERT_BATCH sessions.

Locks: the specialist's user row first (slots.lock_specialists), as every change to their slots does.
"""

import bisect
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, exists, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from portal.access import get_own_day_off_or_404
from portal.clock import utcnow
from portal.extensions import db
from portal.i18n import gettext as _
from portal.models import Availability, Consultation, DayOff, Slot, User, WorkingHours
from portal.services.errors import DomainError
from portal.services.slots import MAX_AHEAD, NOTE_MAX, blocked_error, lock_specialists, zone_of

INSERT_BATCH = 1000  # sessions per INSERT (7 values each, well under the driver's 65,535 parameters)
DAYS_OFF_MAX_DAYS = 366  # one period at most

Ranges = dict[int, list[tuple[int, int]]]  # weekday (0 = Monday) → (start minute, end minute), sorted


@dataclass(frozen=True)
class Rules:
    """What the availability page saves besides the hours."""

    session_minutes: int
    break_minutes: int
    notice_hours: int
    horizon_days: int
    cutoff_hours: int


@dataclass(frozen=True)
class Outcome:
    """What a save or an extension did to the slots."""

    created: int
    removed: int


def _wall(day: date, minute: int, zone: ZoneInfo) -> datetime | None:
    """The UTC instant of a wall-clock minute of a day in the zone; None when the clocks skip it."""
    naive = datetime.combine(day, time(minute // 60, minute % 60))
    instant = naive.replace(tzinfo=zone).astimezone(UTC)
    return instant if instant.astimezone(zone).replace(tzinfo=None) == naive else None


def sessions(
    hours: Ranges, session: int, pause: int, zone: ZoneInfo, days_off: list[tuple[date, date]], after, until
) -> list[tuple[datetime, datetime]]:
    """The sessions the hours make, starting in (after, until], outside days off, in time order (UTC)."""
    length = timedelta(minutes=session)
    found: list[tuple[datetime, datetime]] = []
    day, last = after.astimezone(zone).date(), until.astimezone(zone).date()
    while day <= last:
        if not any(first <= day <= final for first, final in days_off):
            for start, end in hours.get(day.weekday(), ()):
                minute = start
                while minute + session <= end:
                    starts_at, ends_at = _wall(day, minute, zone), _wall(day, minute + session, zone)
                    fits = starts_at is not None and ends_at is not None and ends_at - starts_at == length
                    if fits and after < starts_at <= until:
                        found.append((starts_at, ends_at))
                    minute += session + pause
        day += timedelta(days=1)
    return found


def hours_of(specialist_id: int) -> Ranges:
    """The specialist's saved ranges by weekday."""
    hours: Ranges = {}
    rows = db.session.execute(
        select(WorkingHours.weekday, WorkingHours.start_minute, WorkingHours.end_minute)
        .where(WorkingHours.specialist_id == specialist_id)
        .order_by(WorkingHours.weekday, WorkingHours.start_minute)
    )
    for weekday, start, end in rows:
        hours.setdefault(weekday, []).append((start, end))
    return hours


def _days_off_of(specialist_id: int, since: date) -> list[tuple[date, date]]:
    return list(
        db.session.execute(
            select(DayOff.first_day, DayOff.last_day).where(
                DayOff.specialist_id == specialist_id, DayOff.last_day >= since
            )
        ).tuples()
    )


def _insert(rows: list[dict]) -> int:
    """Insert slots, skipping any the overlap constraint refuses; how many went in."""
    if not rows:
        return 0
    dialect = db.session.get_bind().dialect.name
    make = postgresql.insert if dialect == "postgresql" else sqlite.insert if dialect == "sqlite" else insert
    created = 0
    for at in range(0, len(rows), INSERT_BATCH):
        stmt = make(Slot).values(rows[at : at + INSERT_BATCH])
        if make is not insert:
            stmt = stmt.on_conflict_do_nothing()
        created += len(db.session.execute(stmt.returning(Slot.id)).all())
    return created


def _unrequested():
    """Slots on which nobody has ever requested anything (no consultation row in any status)."""
    return ~exists().where(Consultation.slot_id == Slot.id)


def _claim_unrequested(*conditions) -> list[tuple[int, datetime, datetime, bool]]:
    """(id, start, end, generated) of the slots matching `conditions` that nobody has requested, locked FOR UPDATE
    (lock order 2, after the specialist's row). A slot a client is requesting right now is locked by that request
    and skipped: it stays."""
    return list(
        db.session.execute(
            select(Slot.id, Slot.starts_at, Slot.ends_at, Slot.generated)
            .where(*conditions, _unrequested())
            .with_for_update(of=Slot, skip_locked=True)
        ).tuples()
    )


def _remove_unrequested(ids: list[int], now: datetime) -> int:
    """Remove these claimed slots, checking again that none has a request: generated ones go for good (nobody ever
    saw a request on them), manual ones are deleted as the Delete button deletes them, kept in the history.

    Checked again in a statement of its own: it sees every request committed before the slots were locked, and no
    request can come after (a request locks its slot first)."""
    if not ids:
        return 0
    chosen = (Slot.id.in_(ids), _unrequested())
    options = {"synchronize_session": False}
    removed = db.session.execute(delete(Slot).where(*chosen, Slot.generated), execution_options=options).rowcount
    removed += db.session.execute(
        update(Slot).where(*chosen, ~Slot.generated).values(deleted_at=now, updated_at=now), execution_options=options
    ).rowcount
    return removed


def generate(specialist: User, rules: Availability, after: datetime, until: datetime, prune: bool) -> Outcome:
    """Make the sessions of the specialist's hours in (after, until]; with `prune`, first remove their future
    generated slots without requests that are not among those sessions (call holding the specialist's lock)."""
    zone, now = zone_of(specialist), utcnow()
    wanted = sessions(
        hours_of(specialist.id),
        rules.session_minutes,
        rules.break_minutes,
        zone,
        _days_off_of(specialist.id, after.astimezone(zone).date()),
        after,
        until,
    )
    removed = 0
    if prune:
        keep = set(wanted)
        claimed = _claim_unrequested(
            Slot.specialist_id == specialist.id, Slot.generated, Slot.deleted_at.is_(None), Slot.starts_at > now
        )
        removed = _remove_unrequested([ident for ident, start, end, _ in claimed if (start, end) not in keep], now)
    if not wanted:
        return Outcome(0, removed)
    existing = db.session.execute(
        select(Slot.starts_at, Slot.ends_at, Slot.deleted_at.is_not(None)).where(
            Slot.specialist_id == specialist.id,
            Slot.starts_at < wanted[-1][1],
            Slot.ends_at > wanted[0][0],
            Slot.deleted_at.is_(None) | Slot.generated,
        )
    ).all()
    live = sorted((start, end) for start, end, deleted in existing if not deleted)
    # A generated slot the specialist deleted stays deleted: the same session is not made again.
    deleted = {(start, end) for start, end, was_deleted in existing if was_deleted}
    rows = [
        {
            "specialist_id": specialist.id,
            "starts_at": start,
            "ends_at": end,
            "generated": True,
            "created_at": now,
            "updated_at": now,
        }
        for start, end in wanted
        if (start, end) not in deleted and not _overlaps(live, start, end)
    ]
    return Outcome(_insert(rows), removed)


def _overlaps(live: list[tuple[datetime, datetime]], start: datetime, end: datetime) -> bool:
    """Whether [start, end) shares time with one of the sorted, non-overlapping live slots."""
    at = bisect.bisect_left(live, (end,))  # slots starting before `end`...
    return at > 0 and live[at - 1][1] > start  # ...the last of which ends after `start` (they do not overlap)


def _locked(specialist: User) -> None:
    lock_specialists(specialist.id)
    if specialist.is_blocked:
        raise blocked_error()


def rules_of(specialist_id: int) -> Availability | None:
    """The specialist's saved availability, or None if they never saved the page."""
    return db.session.get(Availability, specialist_id)


def save_availability(specialist: User, hours: Ranges, rules: Rules) -> Outcome:
    """Save the weekly hours and rules, and bring the generated slots in line with them (caller commits)."""
    _locked(specialist)
    row = db.session.get(Availability, specialist.id, populate_existing=True)
    if row is None:
        row = Availability(specialist_id=specialist.id)
        db.session.add(row)
    for name, value in vars(rules).items():
        setattr(row, name, value)
    db.session.execute(delete(WorkingHours).where(WorkingHours.specialist_id == specialist.id))
    ranges = [
        {"specialist_id": specialist.id, "weekday": weekday, "start_minute": start, "end_minute": end}
        for weekday, pairs in sorted(hours.items())
        for start, end in pairs
    ]
    if ranges:
        db.session.execute(insert(WorkingHours), ranges)
    now = utcnow()
    until = now + timedelta(days=rules.horizon_days)
    db.session.flush()
    outcome = generate(specialist, row, now, until, prune=True)
    row.generated_until = until
    return outcome


def extend_horizon(specialist_id: int) -> Outcome:
    """Generate the specialist's slots from where the last generation stopped to their horizon (caller commits)."""
    specialist = db.session.get(User, specialist_id)
    if specialist is None or not specialist.is_active_specialist:
        return Outcome(0, 0)
    lock_specialists(specialist_id)
    row = db.session.get(Availability, specialist_id, populate_existing=True)
    if row is None or specialist.is_blocked:
        return Outcome(0, 0)
    now = utcnow()
    until = now + timedelta(days=row.horizon_days)
    after = max(now, row.generated_until or now)
    if after >= until:
        return Outcome(0, 0)
    outcome = generate(specialist, row, after, until, prune=False)
    row.generated_until = until
    return outcome


def check_days_off(first: date, last: date, note: str | None, today: date) -> None:
    """Refuse a period ending before it starts, in the past, too long or too far ahead."""
    if last < first:
        raise DomainError(_("The last day must be on or after the first day."), field="last_day")
    if last < today:
        raise DomainError(_("This period has already passed."), field="last_day")
    if (last - first).days >= DAYS_OFF_MAX_DAYS:
        raise DomainError(_("A period of days off can last at most 366 days."), field="last_day")
    if first > today + MAX_AHEAD:
        raise DomainError(_("Days off can start at most 365 days ahead."), field="first_day")
    if note and len(note) > NOTE_MAX:
        raise DomainError(_("The note can be at most 255 characters long."), field="note")


def period_bounds(first: date, last: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants a period of whole days covers in the zone: midnight of the first day to midnight after the last."""
    start = datetime.combine(first, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return start, end


def add_days_off(specialist: User, first: date, last: date, note: str | None) -> tuple[DayOff, int]:
    """Record days off and clear their free slots without requests (caller commits); (period, slots removed)."""
    zone, now = zone_of(specialist), utcnow()
    check_days_off(first, last, note, now.astimezone(zone).date())
    _locked(specialist)
    period = DayOff(specialist_id=specialist.id, first_day=first, last_day=last, note=note or None, created_at=now)
    db.session.add(period)
    start, end = period_bounds(first, last, zone)
    claimed = _claim_unrequested(
        Slot.specialist_id == specialist.id,
        Slot.deleted_at.is_(None),
        Slot.starts_at > now,
        Slot.starts_at >= start,
        Slot.starts_at < end,
    )
    removed = _remove_unrequested([ident for ident, *_ in claimed], now)
    db.session.flush()
    return period, removed


def remove_days_off(specialist: User, day_off_id: int) -> int:
    """Remove a period of days off and generate its slots again (caller commits); how many slots were made."""
    _locked(specialist)
    period = get_own_day_off_or_404(specialist, day_off_id)
    db.session.delete(period)
    db.session.flush()
    row = db.session.get(Availability, specialist.id)
    if row is None or row.generated_until is None:
        return 0
    now = utcnow()
    start, end = period_bounds(period.first_day, period.last_day, zone_of(specialist))
    after, until = max(now, start), min(end - timedelta(microseconds=1), row.generated_until)
    if after >= until:
        return 0
    return generate(specialist, row, after, until, prune=False).created


RANGES_MAX = 12  # ranges of one weekday at most
_RANGE = re.compile(r"^(\d{1,2}):(\d{2})\s*[-–—]\s*(\d{1,2}):(\d{2})$")


def _minute(hours: str, minutes: str) -> int | None:
    value = int(hours) * 60 + int(minutes)
    return value if int(hours) < 24 and int(minutes) < 60 else None


def parse_ranges(text: str | None) -> list[tuple[int, int]]:
    """`09:00-12:00, 13:00-17:00` as sorted (start minute, end minute) pairs; DomainError names what is wrong."""
    pairs: list[tuple[int, int]] = []
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        match = _RANGE.match(part)
        start = match and _minute(match[1], match[2])
        end = match and _minute(match[3], match[4])
        if not match or start is None or end is None:
            raise DomainError(
                _("“%(text)s” is not a range of times: write them like 09:00-12:00, 13:00-17:00.", text=part[:40])
            )
        if end <= start:
            raise DomainError(_("In %(range)s the end must be after the start.", range=part))
        pairs.append((start, end))
    if len(pairs) > RANGES_MAX:
        raise DomainError(_("Use at most 12 ranges a day."))
    pairs.sort()
    for (start, end), (next_start, next_end) in zip(pairs, pairs[1:], strict=False):
        if next_start < end:
            raise DomainError(
                _(
                    "%(first)s and %(second)s overlap.",
                    first=format_range(start, end),
                    second=format_range(next_start, next_end),
                )
            )
    return pairs


def format_range(start: int, end: int) -> str:
    """A range as the field shows it: 09:00-12:00."""
    return f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"


def format_ranges(pairs: list[tuple[int, int]]) -> str:
    """A weekday's ranges as the field shows them: 09:00-12:00, 13:00-17:00."""
    return ", ".join(format_range(start, end) for start, end in pairs)
