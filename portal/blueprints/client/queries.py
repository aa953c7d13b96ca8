"""What the client pages list: offered slots and the client's consultations, one keyset page at a time."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, exists, or_, select, tuple_
from sqlalchemy.orm import contains_eager

from portal.extensions import db
from portal.models import Consultation, Slot, User
from portal.services.booking import valid_id

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
# Cursors outside these bounds are not positions in any list: they are ignored.
CURSOR_MIN = datetime(2000, 1, 1, tzinfo=UTC)
CURSOR_MAX = datetime(2200, 1, 1, tzinfo=UTC)


@dataclass
class Page:
    items: list
    prev_cursor: str | None = None
    next_cursor: str | None = None


@dataclass
class SlotFilters:
    specialist: str = ""
    specialty: str = ""
    date_from: date | None = None
    date_to: date | None = None
    timezone: str = "UTC"


def encode_cursor(starts_at: datetime, ident: int) -> str:
    """A position in a list ordered by (start, id): `<microseconds since 1970>-<id>`."""
    return f"{(starts_at - EPOCH) // MICROSECOND}-{ident}"


def decode_cursor(value: str | None) -> tuple[datetime, int] | None:
    """The (start, id) of a cursor, or None when it is missing or malformed."""
    if not value or len(value) > 40:
        return None
    micros, _, ident = value.partition("-")
    if not (micros.isdigit() and ident.isdigit() and valid_id(int(ident))):
        return None
    moment = EPOCH + int(micros) * MICROSECOND if len(micros) < 19 else None
    if moment is None or not CURSOR_MIN <= moment < CURSOR_MAX:
        return None
    return moment, int(ident)


def day_start(day: date, tz: str) -> datetime:
    """Midnight of a calendar day in a time zone, as a UTC instant."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(tz)).astimezone(UTC)


def _like(text: str) -> str:
    """A LIKE pattern matching the text anywhere, its % and _ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def offered_slots(now: datetime) -> Select:
    """Free future slots of active specialists, with the specialist loaded in the same query."""
    booked = exists().where(Consultation.slot_id == Slot.id, Consultation.status == "accepted")
    return (
        select(Slot)
        .join(Slot.specialist)
        .options(contains_eager(Slot.specialist))
        .where(Slot.deleted_at.is_(None), Slot.starts_at > now, ~booked)
        .where(User.role == "specialist", User.is_blocked.is_(False), User.confirmed_at.is_not(None))
    )


def filter_slots(stmt: Select, filters: SlotFilters) -> Select:
    """Narrow the offered slots by specialist, specialty and a range of days in the client's zone."""
    if filters.specialist:
        pattern = _like(filters.specialist)
        stmt = stmt.where(or_(User.username.ilike(pattern, escape="\\"), User.display_name.ilike(pattern, escape="\\")))
    if filters.specialty:
        stmt = stmt.where(User.specialty.ilike(_like(filters.specialty), escape="\\"))
    if filters.date_from:
        stmt = stmt.where(Slot.starts_at >= day_start(filters.date_from, filters.timezone))
    if filters.date_to:
        stmt = stmt.where(Slot.starts_at < day_start(filters.date_to + timedelta(days=1), filters.timezone))
    return stmt


def keyset_page(stmt: Select, columns, key, limit: int, after=None, before=None, descending=False) -> Page:
    """One page of `stmt` ordered by `columns`, after or before a cursor; no OFFSET, stable under inserts."""
    forward = before is None
    cursor = decode_cursor(after if forward else before)
    ascending = forward != descending
    position = tuple_(*columns)
    paged = stmt
    if cursor:
        paged = paged.where(position > cursor if ascending else position < cursor)
    order = [c.asc() if ascending else c.desc() for c in columns]
    rows = list(db.session.scalars(paged.order_by(*order).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    if not forward:
        if not more:  # reached the beginning: show the first page, full
            return keyset_page(stmt, columns, key, limit, descending=descending)
        rows.reverse()
        return Page(rows, prev_cursor=encode_cursor(*key(rows[0])), next_cursor=encode_cursor(*key(rows[-1])))
    page = Page(rows, next_cursor=encode_cursor(*key(rows[-1])) if more else None)
    if cursor:
        page.prev_cursor = encode_cursor(*key(rows[0])) if rows else encode_cursor(*cursor)
    return page


def slot_page(now: datetime, filters: SlotFilters, limit: int, after=None, before=None) -> Page:
    """A page of offered slots, soonest first."""
    stmt = filter_slots(offered_slots(now), filters)
    return keyset_page(stmt, (Slot.starts_at, Slot.id), lambda s: (s.starts_at, s.id), limit, after, before)


# Which of a client's requests on a slot decides what its row shows.
_PRECEDENCE = {"accepted": 3, "pending": 2, "rejected": 1}


def my_requests_on(client_id: int, slot_ids: list[int]) -> dict[int, str]:
    """The client's request state on each of these slots (accepted, pending or rejected), in one query."""
    if not slot_ids:
        return {}
    rows = db.session.execute(
        select(Consultation.slot_id, Consultation.status).where(
            Consultation.client_id == client_id,
            Consultation.slot_id.in_(slot_ids),
            Consultation.status.in_(tuple(_PRECEDENCE)),
        )
    )
    found: dict[int, str] = {}
    for slot_id, status in rows:
        if _PRECEDENCE[status] > _PRECEDENCE.get(found.get(slot_id, ""), 0):
            found[slot_id] = status
    return found


def consultation_page(client_id: int, now: datetime, past: bool, limit: int, after=None, before=None) -> Page:
    """A page of the client's consultations: upcoming soonest first, or past latest first."""
    stmt = (
        select(Consultation)
        .join(Consultation.slot)
        .join(Slot.specialist)
        .options(contains_eager(Consultation.slot).contains_eager(Slot.specialist))
        .where(Consultation.client_id == client_id)
        .where(Slot.starts_at <= now if past else Slot.starts_at > now)
    )
    columns = (Slot.starts_at, Consultation.id)
    return keyset_page(stmt, columns, lambda c: (c.slot.starts_at, c.id), limit, after, before, descending=past)
