"""What the client pages list: offered slots and the client's consultations, one keyset page at a time."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import Select, bindparam, case, exists, func, or_, select, tuple_

from portal.extensions import db
from portal.models import ACTIVE_STATUSES, Consultation, Slot, User
from portal.models.slot import shown_status
from portal.rows import WithSpecialist
from portal.search import contains, contains_pattern
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


@dataclass(frozen=True, slots=True)
class OfferedSlot(WithSpecialist):
    """A row of the slot finder: the slot and its specialist's public details."""

    id: int
    starts_at: datetime
    ends_at: datetime
    note: str | None
    username: str
    display_name: str | None
    specialty: str | None
    mine: int | None  # the client's own request on it: _PRECEDENCE of its status, None without one

    @property
    def my_state(self) -> str | None:
        """accepted, pending or rejected: what the client's own request on this slot shows instead of Request."""
        return _STATE_OF.get(self.mine)


# Which of a client's requests on a slot decides what its row shows.
_PRECEDENCE = {"accepted": 3, "pending": 2, "rejected": 1}
_STATE_OF = {rank: status for status, rank in _PRECEDENCE.items()}


@cache
def _offered_slots() -> Select:
    """The finder's base statement, built once (building it costs more than running it); `now` and the
    client's id bound per call. The client's own request on each slot comes in the same query."""
    booked = exists().where(Consultation.slot_id == Slot.id, Consultation.status == "accepted")
    mine = (
        select(func.max(case(_PRECEDENCE, value=Consultation.status)))
        .where(Consultation.slot_id == Slot.id, Consultation.client_id == bindparam("client_id"))
        .correlate(Slot)
        .scalar_subquery()
    )
    columns = (Slot.id, Slot.starts_at, Slot.ends_at, Slot.note, User.username, User.display_name, User.specialty)
    return (
        select(*columns, mine)
        .join(Slot.specialist)
        .where(Slot.deleted_at.is_(None), Slot.starts_at > bindparam("now"), ~booked)
        .where(User.role == "specialist", User.is_blocked.is_(False), User.confirmed_at.is_not(None))
    )


def matching_specialists(filters: SlotFilters) -> list[int] | None:
    """Ids of the active specialists whose name, username or specialty match the filters; None: no such filter.

    A separate, small query on purpose: joined into the slot query, PostgreSQL cannot know how many slots
    belong to the matching specialists (estimates were 20× off and it sorted every future slot of theirs);
    given their ids it walks the slots in time order and stops after a page.
    """
    if not (filters.specialist or filters.specialty):
        return None
    stmt = select(User.id).where(User.role == "specialist", User.is_blocked.is_(False), User.confirmed_at.is_not(None))
    if filters.specialist:
        pattern = contains_pattern(filters.specialist)
        stmt = stmt.where(or_(contains(User.username, pattern), contains(User.display_name, pattern)))
    if filters.specialty:
        stmt = stmt.where(contains(User.specialty, contains_pattern(filters.specialty)))
    return list(db.session.scalars(stmt))


@cache
def _filtered_slots(by_specialist: bool, since: bool, until: bool) -> Select:
    """The offered slots narrowed by the filters in use (one statement per combination, values bound)."""
    stmt = _offered_slots()
    if by_specialist:
        stmt = stmt.where(Slot.specialist_id.in_(bindparam("specialist_ids", expanding=True)))
    if since:
        stmt = stmt.where(Slot.starts_at >= bindparam("since", type_=Slot.starts_at.type))
    if until:
        stmt = stmt.where(Slot.starts_at < bindparam("until", type_=Slot.starts_at.type))
    return stmt


def filter_slots(filters: SlotFilters, specialist_ids: list[int] | None) -> tuple[Select, dict]:
    """The statement and bound values narrowing the offered slots to these specialists and a range of days
    in the client's zone."""
    values: dict = {} if specialist_ids is None else {"specialist_ids": specialist_ids}
    if filters.date_from:
        values["since"] = day_start(filters.date_from, filters.timezone)
    if filters.date_to:
        values["until"] = day_start(filters.date_to + timedelta(days=1), filters.timezone)
    stmt = _filtered_slots("specialist_ids" in values, "since" in values, "until" in values)
    return stmt, values


@lru_cache(maxsize=256)
def _paged(stmt: Select, columns: tuple, ascending: bool, with_cursor: bool, limit: int) -> Select:
    """`stmt` ordered by `columns` from a bound cursor position, one row more than a page (built once)."""
    if with_cursor:
        position = tuple_(*columns)
        mark = tuple_(*(bindparam(f"cursor_{i}", type_=column.type) for i, column in enumerate(columns)))
        stmt = stmt.where(position > mark if ascending else position < mark)
    return stmt.order_by(*(c.asc() if ascending else c.desc() for c in columns)).limit(limit + 1)


def keyset_page(
    stmt: Select, columns, key, limit: int, after=None, before=None, descending=False, params=None, make=None
) -> Page:
    """One page of `stmt` ordered by `columns`, after or before a cursor; no OFFSET, stable under inserts.

    `params` are the values of the statement's bound parameters; `make(*row)` turns each result row into an
    item (a row class).
    """
    forward = before is None
    cursor = decode_cursor(after if forward else before)
    ascending = forward != descending
    values = dict(params or {})
    if cursor:
        values.update({f"cursor_{i}": value for i, value in enumerate(cursor)})
    result = db.session.execute(_paged(stmt, tuple(columns), ascending, cursor is not None, limit), values)
    rows = [make(*row) for row in result] if make else list(result.scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    if not forward:
        if not more:  # reached the beginning: show the first page, full
            return keyset_page(stmt, columns, key, limit, descending=descending, params=params, make=make)
        rows.reverse()
        return Page(rows, prev_cursor=encode_cursor(*key(rows[0])), next_cursor=encode_cursor(*key(rows[-1])))
    page = Page(rows, next_cursor=encode_cursor(*key(rows[-1])) if more else None)
    if cursor:
        page.prev_cursor = encode_cursor(*key(rows[0])) if rows else encode_cursor(*cursor)
    return page


def slot_page(client_id: int, now: datetime, filters: SlotFilters, limit: int, after=None, before=None) -> Page:
    """A page of offered slots, soonest first, each with the client's own request state on it."""
    specialist_ids = matching_specialists(filters)
    if specialist_ids == []:  # nobody matches: no slot can
        return Page([])
    stmt, values = filter_slots(filters, specialist_ids)
    key = lambda s: (s.starts_at, s.id)  # noqa: E731
    columns = (Slot.starts_at, Slot.id)
    values.update(now=now, client_id=client_id)
    return keyset_page(stmt, columns, key, limit, after, before, params=values, make=OfferedSlot)


@dataclass(frozen=True, slots=True)
class MyConsultation(WithSpecialist):
    """A row of the client's consultation list: the consultation, its slot's times, the specialist."""

    id: int
    status: str
    reject_reason: str | None
    cancel_reason: str | None
    starts_at: datetime
    ends_at: datetime
    username: str
    display_name: str | None
    specialty: str | None

    def display_status(self, now: datetime) -> str:
        return shown_status(self.status, self.starts_at, now)

    def can_cancel(self, now: datetime) -> bool:
        """Pending and accepted consultations may be cancelled until their slot starts (as booking.can_cancel)."""
        return self.status in ACTIVE_STATUSES and self.starts_at > now


@cache
def _my_consultations(past: bool) -> Select:
    """The client list's statement (past or upcoming), built once; the client's id and `now` bound per call."""
    now = bindparam("now", type_=Slot.starts_at.type)
    return (
        select(
            Consultation.id,
            Consultation.status,
            Consultation.reject_reason,
            Consultation.cancel_reason,
            Slot.starts_at,
            Slot.ends_at,
            User.username,
            User.display_name,
            User.specialty,
        )
        .join(Consultation.slot)
        .join(Slot.specialist)
        .where(Consultation.client_id == bindparam("client_id"))
        .where(Slot.starts_at <= now if past else Slot.starts_at > now)
    )


def consultation_page(client_id: int, now: datetime, past: bool, limit: int, after=None, before=None) -> Page:
    """A page of the client's consultations: upcoming soonest first, or past latest first."""
    stmt = _my_consultations(past)
    columns = (Slot.starts_at, Consultation.id)
    return keyset_page(
        stmt,
        columns,
        lambda c: (c.starts_at, c.id),
        limit,
        after,
        before,
        descending=past,
        params={"client_id": client_id, "now": now},
        make=MyConsultation,
    )
