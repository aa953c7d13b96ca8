"""What the client pages list: offered slots and the client's consultations, one keyset page at a time."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, partial
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Exists, ScalarSelect, Select, and_, bindparam, case, exists, func, or_, select
from sqlalchemy.orm import aliased

from portal.extensions import db
from portal.models import Consultation, Slot, User
from portal.models.availability import within_window
from portal.models.slot import if_accepted, is_cancellable, shown_status
from portal.pagination import Page, keyset_page, ordered
from portal.rows import WithSpecialist
from portal.search import contains, contains_pattern


@dataclass
class SlotFilters:
    specialist: str = ""
    specialty: str = ""
    date_from: date | None = None
    date_to: date | None = None
    timezone: str = "UTC"
    whole_specialty: bool = False  # the page's select names a whole specialty; the API's filter is a part of one


def day_start(day: date, tz: str) -> datetime:
    """Midnight of a calendar day in a time zone, as a UTC instant."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(tz)).astimezone(UTC)


# Which of a client's requests on a slot decides what its row shows.
_PRECEDENCE = {"accepted": 3, "pending": 2, "rejected": 1}
_STATE_OF = {rank: status for status, rank in _PRECEDENCE.items()}


def request_state(rank: int | None) -> str | None:
    """accepted, pending or rejected: the client's own request on a slot, from `own_request()`'s rank."""
    return _STATE_OF.get(rank)


def booked() -> Exists:
    """Whether someone's request on each slot is accepted."""
    return exists().where(Consultation.slot_id == Slot.id, Consultation.status == "accepted")


def offered(specialist=User) -> ColumnElement[bool]:
    """The one rule of a free slot, which a client may request: live, starting after `now` (bound) and within its
    specialist's booking window (no sooner than the minimum notice, no later than the horizon), accepted by
    nobody, its specialist active. `specialist` is the slot's User in the statement (joined, or correlated).

    Every list of free times filters with it: the slot finder, a profile's times, the directory's next free time,
    the API's slot list; the booking page and the request service ask too_soon/too_late, of which within_window is
    the form for lists (portal/models/availability.py).
    """
    return and_(
        Slot.deleted_at.is_(None),
        Slot.starts_at > bindparam("now", type_=Slot.starts_at.type),
        within_window(),
        ~booked(),
        specialist.is_active_specialist,
    )


def own_request() -> ScalarSelect:
    """The rank (_PRECEDENCE) of the client's (`client_id`, bound) own request on each slot; None without one."""
    return (
        select(func.max(case(_PRECEDENCE, value=Consultation.status)))
        .where(Consultation.slot_id == Slot.id, Consultation.client_id == bindparam("client_id"))
        .correlate(Slot)
        .scalar_subquery()
    )


def busy(from_now: bool = False) -> Exists:
    """Whether the client (`client_id`, bound) holds an accepted consultation, with anyone, overlapping each slot
    (the booking rule of booking.request_slot, as SQL).

    The client's accepted consultations are gathered once per statement (a materialized CTE) rather than looked
    up again for each row: a page of 20 slots against a client with a long history cost 20 scans of it.
    `from_now`: only those not yet ended at `now` (bound), the only ones a list of future slots can meet.
    """
    theirs, when = aliased(Consultation), aliased(Slot)
    mine = (
        select(when.starts_at, when.ends_at)
        .join(theirs, theirs.slot_id == when.id)
        .where(theirs.client_id == bindparam("client_id"), theirs.status == "accepted", when.deleted_at.is_(None))
    )
    if from_now:
        mine = mine.where(when.ends_at > bindparam("now", type_=Slot.starts_at.type))
    mine = mine.cte("my_accepted").prefix_with("MATERIALIZED")
    return exists().where(mine.c.starts_at < Slot.ends_at, mine.c.ends_at > Slot.starts_at).correlate(Slot)


@dataclass(slots=True)
class OfferedSlot(WithSpecialist):
    """A row of the slot finder: the slot and its specialist's public details."""

    id: int
    starts_at: datetime
    ends_at: datetime
    note: str | None
    username: str
    display_name: str | None
    specialty: str | None
    mine: int | None  # the client's own request on it: its rank, None without one
    busy: bool  # the client has an accepted consultation at an overlapping time

    @property
    def my_state(self) -> str | None:
        """accepted, pending or rejected: what the client's own request on this slot shows instead of Request."""
        return request_state(self.mine)


@cache
def _offered_slots() -> Select:
    """The finder's base statement, built once (building it costs more than running it); `now` and the
    client's id bound per call. The client's own request on each slot, and whether the client is busy at its
    time, come in the same query."""
    columns = (Slot.id, Slot.starts_at, Slot.ends_at, Slot.note, User.username, User.display_name, User.specialty)
    return select(*columns, own_request(), busy(from_now=True)).join(Slot.specialist).where(offered())


def matching_specialists(filters: SlotFilters) -> list[int] | None:
    """Ids of the active specialists whose name or username match the filters, or whose specialty contains the
    API's `specialty`; None: no such filter (the page's whole specialty is matched on the slots themselves).

    A separate, small query on purpose: joined into the slot query, PostgreSQL cannot know how many slots
    belong to the matching specialists (estimates were 20× off and it sorted every future slot of theirs);
    given their ids it walks the slots in time order and stops after a page.
    """
    partial_specialty = filters.specialty and not filters.whole_specialty
    if not (filters.specialist or partial_specialty):
        return None
    stmt = select(User.id).where(User.is_active_specialist)
    if filters.specialist:
        pattern = contains_pattern(filters.specialist)
        stmt = stmt.where(or_(contains(User.username, pattern), contains(User.display_name, pattern)))
    if partial_specialty:
        stmt = stmt.where(contains(User.specialty, contains_pattern(filters.specialty)))
    return list(db.session.scalars(stmt))


@cache
def _filtered_slots(by_specialist: bool, by_specialty: bool, since: bool, until: bool) -> Select:
    """The offered slots narrowed by the filters in use (one statement per combination, values bound)."""
    stmt = _offered_slots()
    if by_specialist:
        stmt = stmt.where(Slot.specialist_id.in_(bindparam("specialist_ids", expanding=True)))
    if by_specialty:
        # Each slot carries its specialist's specialty (ix_slots_live_specialty_starts_at): one specialty's
        # slots in time order, however many specialists share it.
        stmt = stmt.where(Slot.specialty_key == func.lower(bindparam("specialty", type_=Slot.specialty_key.type)))
    if since:
        stmt = stmt.where(Slot.starts_at >= bindparam("since", type_=Slot.starts_at.type))
    if until:
        stmt = stmt.where(Slot.starts_at < bindparam("until", type_=Slot.starts_at.type))
    return stmt


def filter_slots(filters: SlotFilters, specialist_ids: list[int] | None) -> tuple[tuple, dict]:
    """The shape of `_filtered_slots` and the bound values narrowing the offered slots to these specialists,
    the page's whole specialty and a range of days in the client's zone."""
    values: dict = {} if specialist_ids is None else {"specialist_ids": specialist_ids}
    if filters.specialty and filters.whole_specialty:
        values["specialty"] = filters.specialty
    if filters.date_from:
        values["since"] = day_start(filters.date_from, filters.timezone)
    if filters.date_to:
        values["until"] = day_start(filters.date_to + timedelta(days=1), filters.timezone)
    return tuple(key in values for key in ("specialist_ids", "specialty", "since", "until")), values


@cache
def _slot_list(shape: tuple, limit: int, ascending: bool, with_cursor: bool) -> Select:
    """A page's statement of offered slots for one combination of filters, built once."""
    return ordered(_filtered_slots(*shape), (Slot.starts_at, Slot.id), ascending, with_cursor, limit)


def slot_page(client_id: int, now: datetime, filters: SlotFilters, limit: int, after=None, before=None) -> Page:
    """A page of offered slots, soonest first, each with the client's own request state on it."""
    specialist_ids = matching_specialists(filters)
    if specialist_ids == []:  # nobody matches: no slot can
        return Page([])
    shape, values = filter_slots(filters, specialist_ids)
    values.update(now=now, client_id=client_id)
    return keyset_page(
        partial(_slot_list, shape, limit),
        lambda slot: (slot.starts_at, slot.id),
        after=after,
        before=before,
        params=values,
        make=OfferedSlot,
        limit=limit,
    )


@dataclass(slots=True)
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
    specialist_email: str | None  # only on an accepted consultation

    def display_status(self, now: datetime) -> str:
        return shown_status(self.status, self.starts_at, now)

    def can_cancel(self, now: datetime) -> bool:
        return is_cancellable(self.status, self.starts_at, now)


TABS = ("upcoming", "past")


def upcoming(now) -> ColumnElement[bool]:
    """The client's Upcoming tab (SPEC §11): a pending request whose slot has not begun, or an accepted
    consultation that has not ended. Everything else — rejected, cancelled, expired, held — is Past and cancelled."""
    return or_(
        and_(Consultation.status == "pending", Slot.starts_at > now),
        and_(Consultation.status == "accepted", Slot.ends_at > now),
    )


@cache
def _my_consultations(tab: str) -> Select:
    """The client list's statement of one tab, built once; the client's id and `now` bound per call."""
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
            if_accepted(User.email),
        )
        .join(Consultation.slot)
        .join(Slot.specialist)
        .where(Consultation.client_id == bindparam("client_id"))
        .where(upcoming(now) if tab == "upcoming" else ~upcoming(now))
    )


@cache
def _my_consultation_list(tab: str, limit: int, ascending: bool, with_cursor: bool) -> Select:
    """A page's statement of the client's consultations, built once per shape."""
    return ordered(_my_consultations(tab), (Slot.starts_at, Consultation.id), ascending, with_cursor, limit)


def consultation_page(client_id: int, now: datetime, tab: str, limit: int, after=None, before=None) -> Page:
    """A page of one tab of the client's consultations: Upcoming soonest first, Past and cancelled newest first."""
    return keyset_page(
        partial(_my_consultation_list, tab, limit),
        lambda consultation: (consultation.starts_at, consultation.id),
        after=after,
        before=before,
        descending=tab == "past",
        params={"client_id": client_id, "now": now},
        make=MyConsultation,
        limit=limit,
    )
