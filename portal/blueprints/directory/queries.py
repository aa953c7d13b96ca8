"""What the public pages show: specialists by name, one specialist's free times, one slot to book.

Free times are the slot finder's (client.queries.offered): one rule for every list of them.
"""

import zlib
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache, partial
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, bindparam, func, or_, select
from sqlalchemy.orm import aliased

from portal.blueprints.client.queries import booked, busy, offered, own_request, request_state
from portal.models import Slot, User
from portal.models.availability import too_late, too_soon
from portal.models.user import SORT_NAME
from portal.pagination import Page, keyset_page, ordered
from portal.rows import Timed, WithSpecialist, read_columns
from portal.search import contains
from portal.services import booking

BIO_CHARS = 160  # of a bio on a card: the start, cut at a word
SPECIALTIES_MAX = 200  # options of the Specialty select at most (the field is free text)
FREE_TIMES_MAX = 500  # rows of a profile's window at most: 14 days of a very busy specialist fit


def _next_free(*conditions) -> Select:
    """The first free time of the specialist of the enclosing query's User row (and `conditions`).

    The first in time order rather than min(): PostgreSQL walks the specialist's slots by start and stops at
    the first free one instead of gathering all of them.
    """
    return (
        select(Slot.starts_at)
        .where(Slot.specialist_id == User.id, offered(), *conditions)
        .order_by(Slot.starts_at)
        .limit(1)
        .correlate(User)
        .scalar_subquery()
    )


class Person(WithSpecialist):
    """A specialist's name, and the initials of the avatar drawn from it."""

    __slots__ = ()

    @property
    def initials(self) -> str:
        """Two letters: of the first two words of the name, else the first two of a one-word name."""
        words = self.specialist_name.replace("_", " ").replace(".", " ").replace("-", " ").split()
        letters = [word[0] for word in words[:2]] if len(words) > 1 else list(self.specialist_name[:2])
        return "".join(letters).upper()

    @property
    def avatar_tone(self) -> int:
        """One of six colours, the same for a person on every page."""
        return zlib.crc32(self.username.encode()) % 6


@dataclass(slots=True)
class SpecialistCard(Person):
    """A card of the directory."""

    id: int
    username: str
    display_name: str | None
    specialty: str | None
    bio_start: str | None  # the bio's first BIO_CHARS + 1 characters: one more tells it goes on
    sort_name: str
    next_free: datetime | None

    @property
    def bio_excerpt(self) -> str | None:
        """The start of the bio, cut after a whole word when it goes on."""
        text = " ".join((self.bio_start or "").split())
        if len(self.bio_start or "") <= BIO_CHARS:
            return text or None
        cut = text[:BIO_CHARS].rsplit(" ", 1)[0].rstrip(",.;:—-")
        return cut + "…"


@cache
def _cards(search: bool, specialty: bool, limit: int, ascending: bool, with_cursor: bool) -> Select:
    """A page's statement of active specialists by name with their next free time, built once per shape."""
    bio_start = func.substr(User.bio, 1, BIO_CHARS + 1)
    stmt = select(User.id, User.username, User.display_name, User.specialty, bio_start, SORT_NAME, _next_free()).where(
        User.is_active_specialist
    )
    if search:
        pattern = bindparam("pattern")
        stmt = stmt.where(or_(contains(User.username, pattern), contains(User.display_name, pattern)))
    if specialty:
        stmt = stmt.where(func.lower(User.specialty) == func.lower(bindparam("specialty")))
    return ordered(stmt, (SORT_NAME, User.id), ascending, with_cursor, limit)


def card_page(now: datetime, pattern: str | None, specialty: str | None, limit: int, after=None, before=None) -> Page:
    """A page of the directory: active specialists by name, narrowed by a search pattern and a specialty."""
    values = {"now": now, "pattern": pattern, "specialty": specialty}
    return keyset_page(
        partial(_cards, bool(pattern), bool(specialty), limit),
        lambda card: (card.sort_name, card.id),
        after=after,
        before=before,
        by_text=True,
        params={name: value for name, value in values.items() if value},
        make=SpecialistCard,
        limit=limit,
    )


def _with_specialty(person):
    """An active specialist with a specialty, as the partial index ix_users_active_specialty holds them."""
    return and_(person.is_active_specialist, person.specialty.is_not(None), person.specialty != "")


@cache
def _specialties() -> Select:
    """The specialty select's statement: each specialty of active specialists once, ignoring case.

    A walk over the index of active specialists' specialties from one distinct value to the next (a recursive
    CTE, each step one index probe), then the first spelling of each: about two probes per specialty, however
    many specialists share it (grouping every specialist cost 1.5 ms at 10,000 of them, this about 0.1)."""
    step, shown = aliased(User), aliased(User)
    first = select(func.min(func.lower(User.specialty)).label("key")).where(_with_specialty(User))
    keys = first.cte("specialty_keys", recursive=True)
    following = (
        select(func.lower(step.specialty))
        .where(_with_specialty(step), func.lower(step.specialty) > keys.c.key)
        .order_by(func.lower(step.specialty))
        .limit(1)
        .scalar_subquery()
    )
    keys = keys.union_all(select(following).where(keys.c.key.is_not(None)))
    spelling = (
        select(func.min(shown.specialty))
        .where(_with_specialty(shown), func.lower(shown.specialty) == keys.c.key)
        .scalar_subquery()
    )
    return select(spelling).where(keys.c.key.is_not(None)).order_by(keys.c.key).limit(SPECIALTIES_MAX)


def specialties() -> list[str]:
    """The distinct specialties of active specialists, alphabetically (at most SPECIALTIES_MAX)."""
    return list(read_columns(_specialties()).scalars())


@dataclass(slots=True)
class Profile(Person):
    """A specialist's public page: who they are and their first free time from the window's start."""

    id: int
    username: str
    display_name: str | None
    specialty: str | None
    bio: str | None
    timezone: str
    next_free: datetime | None


@cache
def _profile() -> Select:
    """The profile's statement, built once: the active specialist by username, their first free time from `since`."""
    since = bindparam("since", type_=Slot.starts_at.type)
    columns = (User.id, User.username, User.display_name, User.specialty, User.bio, User.timezone)
    return select(*columns, _next_free(Slot.starts_at >= since)).where(
        User.is_active_specialist, func.lower(User.username) == bindparam("username")
    )


def profile(username: str, now: datetime, since: datetime) -> Profile | None:
    """The active specialist of this username (any case) with their first free time from `since`; else None."""
    row = read_columns(_profile(), {"username": username.lower(), "now": now, "since": since}).first()
    return Profile(*row) if row else None


@dataclass(slots=True)
class FreeTime(Timed):
    """A free time on a profile."""

    id: int
    starts_at: datetime
    ends_at: datetime


@cache
def _free_times() -> Select:
    """One specialist's free times in [since, until), soonest first, FREE_TIMES_MAX + 1 at most."""
    moment = Slot.starts_at.type
    return (
        select(Slot.id, Slot.starts_at, Slot.ends_at)
        .join(Slot.specialist)
        .where(offered(), Slot.specialist_id == bindparam("specialist_id"))
        .where(Slot.starts_at >= bindparam("since", type_=moment), Slot.starts_at < bindparam("until", type_=moment))
        .order_by(Slot.starts_at, Slot.id)
        .limit(FREE_TIMES_MAX + 1)
    )


def free_times(specialist_id: int, now: datetime, since: datetime, until: datetime) -> tuple[list[FreeTime], bool]:
    """The specialist's free times in [since, until), and whether there were more than FREE_TIMES_MAX."""
    values = {"specialist_id": specialist_id, "now": now, "since": since, "until": until}
    rows = [FreeTime(*row) for row in read_columns(_free_times(), values)]
    return rows[:FREE_TIMES_MAX], len(rows) > FREE_TIMES_MAX


def by_day(times, zone: ZoneInfo) -> list[tuple[date, list]]:
    """Free times grouped under their calendar day in the viewer's zone, in order."""
    days: list[tuple[date, list]] = []
    for time in times:
        day = time.starts_at.astimezone(zone).date()
        if not days or days[-1][0] != day:
            days.append((day, []))
        days[-1][1].append(time)
    return days


@dataclass(slots=True)
class BookingSlot(Person):
    """The slot on the booking page, its specialist, and what decides whether this client may request it."""

    id: int
    starts_at: datetime
    ends_at: datetime
    note: str | None
    deleted: bool
    username: str
    display_name: str | None
    specialty: str | None
    timezone: str
    specialist_active: bool
    booked: bool
    mine: int | None
    busy: bool
    soon: bool
    late: bool

    def refusal(self, now: datetime):
        """The message refusing this client's request (booking.refusal), or None when they may request it."""
        return booking.refusal(
            deleted=self.deleted,
            starts_at=self.starts_at,
            now=now,
            specialist_active=self.specialist_active,
            own=request_state(self.mine),
            booked=self.booked,
            overlaps=self.busy,
            soon=self.soon,
            late=self.late,
        )


@cache
def _booking_slot() -> Select:
    """The booking page's statement, built once: the slot, its specialist, and the rules' facts for the client."""
    columns = (Slot.id, Slot.starts_at, Slot.ends_at, Slot.note, Slot.deleted_at.is_not(None))
    specialist = (User.username, User.display_name, User.specialty, User.timezone, User.is_active_specialist)
    return (
        select(*columns, *specialist, booked(), own_request(), busy(), too_soon(), too_late())
        .join(Slot.specialist)
        .where(Slot.id == bindparam("slot_id"))
    )


def booking_slot(slot_id: int, client_id: int, now: datetime) -> BookingSlot | None:
    """The slot with its specialist and this client's standing on it, in one query; None if there is no such slot."""
    row = read_columns(_booking_slot(), {"slot_id": slot_id, "client_id": client_id, "now": now}).first()
    return BookingSlot(*row) if row else None
