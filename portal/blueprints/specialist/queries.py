"""Read-only queries of the specialist pages: one SQL statement per list, whatever its size."""

from dataclasses import dataclass
from datetime import datetime
from functools import cache, partial
from typing import NamedTuple

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.orm import aliased

from portal.extensions import db
from portal.models import Consultation, Slot, User
from portal.models.slot import if_accepted, shown_status
from portal.pagination import Page, keyset_page, ordered
from portal.rows import Timed

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


def _with_state(slot_columns: tuple, client_columns=lambda client: (client,)):
    """Live slots (`slot_columns` of them) with their pending count and `client_columns(client)` of the client
    who booked each (an aliased User, outer-joined: None for a slot nobody booked)."""
    pending = (
        select(func.count(Consultation.id))
        .where(Consultation.slot_id == Slot.id, Consultation.status == "pending")
        .correlate(Slot)
        .scalar_subquery()
    )
    booked = aliased(Consultation)
    client = aliased(User)
    return (
        select(*slot_columns, pending.label("pending"), *client_columns(client))
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


@dataclass(frozen=True, slots=True)
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
    rows = db.session.execute(_week_stmt(), {"specialist_id": specialist_id, "start": start, "end": end})
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
        limit=size,
    )


@dataclass(frozen=True, slots=True)
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

    def display_status(self, now: datetime) -> str:
        return shown_status(self.status, self.starts_at, now)


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
        )
        .join(Slot, Slot.id == Consultation.slot_id)
        .join(User, User.id == Consultation.client_id)
        .where(Slot.specialist_id == bindparam("specialist_id"))
    )


@cache
def _request_list(tab: str, limit: int, ascending: bool, with_cursor: bool):
    """A page's statement of one tab of the requests page, built once per shape."""
    stmt = _requests_stmt()
    if tab == "pending":
        stmt = stmt.where(
            Consultation.status == "pending", Slot.starts_at > bindparam("now", type_=Slot.starts_at.type)
        )
    elif tab == "cancelled":
        stmt = stmt.where(Consultation.status.in_(("cancelled", "cancelled_by_specialist")))
    elif tab in ("accepted", "rejected"):
        stmt = stmt.where(Consultation.status == tab)
    return ordered(stmt, (Slot.starts_at, Consultation.id), ascending, with_cursor, limit)


def request_page(specialist_id: int, now: datetime, tab: str, after=None, before=None, size: int = 20) -> Page:
    """Requests on the specialist's slots with slot and client; pending ones soonest first, others latest first."""
    return keyset_page(
        partial(_request_list, tab, size),
        lambda row: (row.starts_at, row.id),
        after=after,
        before=before,
        descending=tab != "pending",
        params={"specialist_id": specialist_id, "now": now},
        make=RequestRow,
        limit=size,
    )
