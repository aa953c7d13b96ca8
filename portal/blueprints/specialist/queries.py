"""Read-only queries of the specialist pages: one SQL statement per list, whatever its size."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import NamedTuple

from sqlalchemy import and_, bindparam, func, select, tuple_
from sqlalchemy.orm import aliased

from portal.extensions import db
from portal.models import Consultation, Slot, User
from portal.models.slot import shown_status
from portal.rows import Timed

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

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


@dataclass
class Page:
    items: list
    prev_cursor: str | None
    next_cursor: str | None


def encode_cursor(moment: datetime, ident: int) -> str:
    """A list position as text: microseconds since 1970 and the row id."""
    return f"{(moment - EPOCH) // timedelta(microseconds=1)}_{ident}"


def decode_cursor(value: str | None) -> tuple[datetime, int] | None:
    """(instant, id) from a cursor; anything malformed means the first page."""
    micros, _, ident = (value or "").partition("_")
    if not (micros.lstrip("-").isdigit() and ident.isdigit()) or len(micros) > 18 or len(ident) > 12:
        return None
    try:
        return EPOCH + timedelta(microseconds=int(micros)), int(ident)
    except OverflowError:
        return None


def keyset_page(
    stmt, sort_col, id_col, descending: bool, after: str | None, before: str | None, size: int, key, params=None
):
    """One page of `stmt` ordered by (sort_col, id_col), after or before a cursor; one extra row tells if more.

    `params` are the values of the statement's bound parameters.
    """
    backward = before is not None and decode_cursor(before) is not None
    cursor = decode_cursor(before if backward else after)
    ascending = descending == backward
    if cursor is not None:
        bound = tuple_(sort_col, id_col)
        stmt = stmt.where(bound > tuple_(*cursor) if ascending else bound < tuple_(*cursor))
    order = (sort_col.asc(), id_col.asc()) if ascending else (sort_col.desc(), id_col.desc())
    rows = list(db.session.execute(stmt.order_by(*order).limit(size + 1), params))
    more = len(rows) > size
    rows = rows[:size]
    if backward:
        rows.reverse()
    has_prev, has_next = (more, True) if backward else (cursor is not None, more)
    items = [key(row) for row in rows]
    first, last = (items[0], items[-1]) if items else (None, None)
    return Page(
        items=[item for item, _ in items],
        prev_cursor=encode_cursor(*first[1]) if has_prev and first else None,
        next_cursor=encode_cursor(*last[1]) if has_next and last else None,
    )


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


def _slot_rows_stmt(specialist_id: int):
    """Live slots of a specialist with their pending count and the client who booked each."""
    return _with_state((Slot,)).where(Slot.specialist_id == specialist_id)


@dataclass(frozen=True, slots=True)
class SlotTimes(Timed):
    """What the calendar shows of a slot (a row of columns, not an ORM object: a week has dozens)."""

    id: int
    starts_at: datetime
    ends_at: datetime


class ClientName(NamedTuple):
    username: str


@cache
def _week_stmt():
    """The calendar's statement, built once (building it costs more than running it); values bound per call."""
    return (
        _with_state((Slot.id, Slot.starts_at, Slot.ends_at), lambda client: (client.username,))
        .where(Slot.specialist_id == bindparam("specialist_id"))
        .where(Slot.starts_at < bindparam("end"), Slot.ends_at > bindparam("start"))
        .order_by(Slot.starts_at)
    )


def week_slots(specialist_id: int, start: datetime, end: datetime) -> list[SlotRow]:
    """Every live slot touching [start, end): bounded by the week, so no pagination."""
    rows = db.session.execute(_week_stmt(), {"specialist_id": specialist_id, "start": start, "end": end})
    return [
        SlotRow(SlotTimes(ident, starts_at, ends_at), pending, ClientName(username) if username else None)
        for ident, starts_at, ends_at, pending, username in rows
    ]


def slot_page(specialist_id: int, now: datetime, past: bool, after=None, before=None, size: int = 20) -> Page:
    """Upcoming slots soonest first, or past ones latest first."""
    stmt = _slot_rows_stmt(specialist_id).where(Slot.starts_at <= now if past else Slot.starts_at > now)
    return keyset_page(
        stmt,
        Slot.starts_at,
        Slot.id,
        descending=past,
        after=after,
        before=before,
        size=size,
        key=lambda row: (SlotRow(*row), (row[0].starts_at, row[0].id)),
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
        )
        .join(Slot, Slot.id == Consultation.slot_id)
        .join(User, User.id == Consultation.client_id)
        .where(Slot.specialist_id == bindparam("specialist_id"))
    )


def request_page(specialist_id: int, now: datetime, tab: str, after=None, before=None, size: int = 20) -> Page:
    """Requests on the specialist's slots with slot and client; pending ones soonest first, others latest first."""
    stmt = _requests_stmt()
    if tab == "pending":
        stmt = stmt.where(Consultation.status == "pending", Slot.starts_at > now)
    elif tab == "cancelled":
        stmt = stmt.where(Consultation.status.in_(("cancelled", "cancelled_by_specialist")))
    elif tab in ("accepted", "rejected"):
        stmt = stmt.where(Consultation.status == tab)
    return keyset_page(
        stmt,
        Slot.starts_at,
        Consultation.id,
        descending=tab != "pending",
        after=after,
        before=before,
        size=size,
        key=lambda row: (RequestRow(*row), (row.starts_at, row.id)),
        params={"specialist_id": specialist_id},
    )
