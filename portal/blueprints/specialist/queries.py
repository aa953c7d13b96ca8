"""Read-only queries of the specialist pages: one SQL statement per list, whatever its size."""

from dataclasses import dataclass
from datetime import datetime
from functools import cache, partial
from typing import NamedTuple

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.orm import aliased

from portal.extensions import db
from portal.models import ACTIVE_STATUSES, Consultation, DayOff, Slot, User
from portal.models.slot import if_accepted, shown_status
from portal.pagination import Page, keyset_page, ordered
from portal.rows import Timed, read_columns
from portal.services import availability

# Which consultations each tab of the requests page shows, and whether soonest slots come first.
REQUEST_TABS = ("pending", "accepted", "rejected", "cancelled", "all")


@dataclass
class SlotRow:
    """A slot with what the specialist needs to see at a glance."""

    slot: Slot
    pending: int
    client: User | None

    @property
    def state(self) -> str:
        """free, pending or booked."""
        if self.client is not None:
            return "booked"
        return "pending" if self.pending else "free"


def _pending_on_slot():
    """The number of pending requests on each row's slot."""
    waiting = aliased(Consultation)
    return (
        select(func.count(waiting.id))
        .where(waiting.slot_id == Slot.id, waiting.status == "pending")
        .correlate(Slot)
        .scalar_subquery()
    )


def _with_state(slot_columns: tuple, client_columns=lambda client: (client,)):
    """Live slots (`slot_columns` of them) with their pending count and `client_columns(client)` of the client
    who booked each (an aliased User, outer-joined: None for a slot nobody booked)."""
    booked = aliased(Consultation)
    client = aliased(User)
    return (
        select(*slot_columns, _pending_on_slot().label("pending"), *client_columns(client))
        .outerjoin(booked, and_(booked.slot_id == Slot.id, booked.status == "accepted"))
        .outerjoin(client, client.id == booked.client_id)
        .where(Slot.deleted_at.is_(None))
    )


@cache
def _slot_list(past: bool, limit: int, ascending: bool, with_cursor: bool):
    """A page's statement of the specialist's live slots (past or upcoming) with their state, built once."""
    now = bindparam("now", type_=Slot.starts_at.type)
    stmt = (
        _with_state((Slot,))
        .where(Slot.specialist_id == bindparam("specialist_id"))
        .where(Slot.starts_at <= now if past else Slot.starts_at > now)
    )
    return ordered(stmt, (Slot.starts_at, Slot.id), ascending, with_cursor, limit)


@dataclass(slots=True)
class SlotTimes(Timed):
    """What the calendar shows of a slot (a row of columns, not an ORM object: a week has dozens)."""

    id: int
    starts_at: datetime
    ends_at: datetime


class ClientName(NamedTuple):
    username: str
    display_name: str | None


@cache
def _week_stmt():
    """The calendar's statement, built once (building it costs more than running it); values bound per call."""
    return (
        _with_state((Slot.id, Slot.starts_at, Slot.ends_at), lambda client: (client.username, client.display_name))
        .where(Slot.specialist_id == bindparam("specialist_id"))
        .where(Slot.starts_at < bindparam("end"), Slot.ends_at > bindparam("start"))
        .order_by(Slot.starts_at)
    )


def week_slots(specialist_id: int, start: datetime, end: datetime) -> list[SlotRow]:
    """Every live slot touching [start, end): bounded by the week, so no pagination."""
    rows = read_columns(_week_stmt(), {"specialist_id": specialist_id, "start": start, "end": end})
    return [
        SlotRow(SlotTimes(ident, starts_at, ends_at), pending, ClientName(username, name) if username else None)
        for ident, starts_at, ends_at, pending, username, name in rows
    ]


def slot_page(specialist_id: int, now: datetime, past: bool, after=None, before=None, size: int = 20) -> Page:
    """Upcoming slots soonest first, or past ones latest first."""
    return keyset_page(
        partial(_slot_list, past, size),
        lambda row: (row.slot.starts_at, row.slot.id),
        after=after,
        before=before,
        descending=past,
        params={"specialist_id": specialist_id, "now": now},
        make=SlotRow,
        entities=True,
        limit=size,
    )


@dataclass(slots=True)
class RequestRow(Timed):
    """A row of the requests page: the request, its slot's times and the client (columns, not ORM objects)."""

    id: int
    status: str
    reject_reason: str | None
    cancel_comment: str | None
    created_at: datetime
    starts_at: datetime
    ends_at: datetime
    client_username: str
    client_display_name: str | None
    message: str | None  # the client's, written with the request
    client_email: str | None  # only on an accepted consultation
    replaces_starts_at: datetime | None  # a request for a new time: when the accepted consultation it replaces is
    slot_id: int
    slot_pending: int  # pending requests on the slot, this one included: those that compete with each other

    def display_status(self, now: datetime) -> str:
        return shown_status(self.status, self.starts_at, now)


def _replaced_time():
    """The time of the accepted consultation a request for a new time would replace (NULL for other requests)."""
    replaced, replaced_slot = aliased(Consultation), aliased(Slot)
    return (
        select(replaced_slot.starts_at)
        .join(replaced, replaced.slot_id == replaced_slot.id)
        .where(replaced.id == Consultation.rescheduled_from_id)
        .correlate(Consultation)
        .scalar_subquery()
    )


@cache
def _requests_stmt():
    """The requests page's base statement, built once; the specialist's id is bound per call."""
    return (
        select(
            Consultation.id,
            Consultation.status,
            Consultation.reject_reason,
            Consultation.cancel_comment,
            Consultation.created_at,
            Slot.starts_at,
            Slot.ends_at,
            User.username,
            User.display_name,
            Consultation.message,
            if_accepted(User.email),
            _replaced_time(),
            Slot.id,
            _pending_on_slot(),
        )
        .join(Slot, Slot.id == Consultation.slot_id)
        .join(User, User.id == Consultation.client_id)
        .where(Slot.specialist_id == bindparam("specialist_id"))
    )


@cache
def _request_list(tab: str, one_slot: bool, limit: int, ascending: bool, with_cursor: bool):
    """A page's statement of one tab of the requests page (of one slot, or all), built once per shape."""
    stmt = _requests_stmt()
    if one_slot:
        stmt = stmt.where(Slot.id == bindparam("slot_id"))
    if tab == "pending":
        stmt = stmt.where(
            Consultation.status == "pending", Slot.starts_at > bindparam("now", type_=Slot.starts_at.type)
        )
    elif tab == "cancelled":
        stmt = stmt.where(Consultation.status.in_(("cancelled", "cancelled_by_specialist")))
    elif tab in ("accepted", "rejected"):
        stmt = stmt.where(Consultation.status == tab)
    return ordered(stmt, (Slot.starts_at, Consultation.id), ascending, with_cursor, limit)


def request_page(
    specialist_id: int, now: datetime, tab: str, after=None, before=None, size: int = 20, slot_id: int | None = None
) -> Page:
    """Requests on the specialist's slots (or on one of them) with slot and client; pending ones soonest first,
    others latest first. A slot's requests come one after another: a specialist's live slots never share a start."""
    params = {"specialist_id": specialist_id, "now": now}
    if slot_id is not None:
        params["slot_id"] = slot_id
    return keyset_page(
        partial(_request_list, tab, slot_id is not None, size),
        lambda row: (row.starts_at, row.id),
        after=after,
        before=before,
        descending=tab != "pending",
        params=params,
        make=RequestRow,
        limit=size,
    )


def by_slot(rows: list) -> list[tuple]:
    """Rows of the requests page under their slot: (first row of the slot, its rows), in the page's order."""
    groups: list[tuple] = []
    for row in rows:
        if not groups or groups[-1][0].slot_id != row.slot_id:
            groups.append((row, []))
        groups[-1][1].append(row)
    return groups


DAYS_OFF_SHOWN = 50  # periods of days off listed at most (those not yet over, soonest first)
HELD_SHOWN = 100  # slots with requests listed under them at most


@dataclass(slots=True)
class HeldSlot(Timed):
    """A slot inside days off that holds requests: the specialist handles it by hand."""

    id: int
    starts_at: datetime
    ends_at: datetime
    pending: int
    booked: bool


@dataclass
class Period:
    """A period of days off on the availability page, with the slots in it that hold requests."""

    id: int
    first_day: object
    last_day: object
    note: str | None
    start: datetime
    end: datetime
    held: list[HeldSlot]


def days_off(specialist_id: int, now: datetime, zone) -> list[Period]:
    """The specialist's periods of days off not yet over, each with its future slots holding requests (two queries)."""
    today = now.astimezone(zone).date()
    periods = [
        Period(ident, first, last, note, *availability.period_bounds(first, last, zone), [])
        for ident, first, last, note in db.session.execute(
            select(DayOff.id, DayOff.first_day, DayOff.last_day, DayOff.note)
            .where(DayOff.specialist_id == specialist_id, DayOff.last_day >= today)
            .order_by(DayOff.first_day, DayOff.id)
            .limit(DAYS_OFF_SHOWN)
        )
    ]
    if not periods:
        return periods
    pending = func.count(Consultation.id).filter(Consultation.status == "pending")
    booked = func.count(Consultation.id).filter(Consultation.status == "accepted") > 0
    held = db.session.execute(
        select(Slot.id, Slot.starts_at, Slot.ends_at, pending, booked)
        .join(Consultation, Consultation.slot_id == Slot.id)
        .where(Slot.specialist_id == specialist_id, Slot.deleted_at.is_(None), Consultation.status.in_(ACTIVE_STATUSES))
        .where(
            Slot.starts_at > now,
            Slot.starts_at >= min(period.start for period in periods),
            Slot.starts_at < max(period.end for period in periods),
        )
        .group_by(Slot.id)
        .order_by(Slot.starts_at)
        .limit(HELD_SHOWN)
    )
    for row in held:
        slot = HeldSlot(*row)
        for period in periods:
            if period.start <= slot.starts_at < period.end:
                period.held.append(slot)
    return periods
