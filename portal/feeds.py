"""Calendar feeds (/feeds/<token>.ics): a person's consultations, and a specialist's slots, for their calendar app.

A feed is bounded whatever the history: it starts 30 days back (by the slot's start; a client's cancellations
by the time they were cancelled) and holds at most MAX_EVENTS events, the upcoming ones soonest first and then
the most recent past ones.

The ETag is a digest of the rows (with which have started, and the owner's names), made by PostgreSQL from the
feed's own statement without sending the rows: the owner and the digest are two SQL statements, and a calendar
app polling an unchanged feed gets its 304, or the body kept under that ETag (feed_body), with nothing more.
Only for a new ETag are the rows read (a third statement), made into `entries` (everything an event shows, as
plain values) and rendered by `icalendar`. On SQLite the digest is made from the rows in Python.
"""

import hashlib
import re
from datetime import datetime, timedelta
from functools import cache
from typing import NamedTuple

from flask import current_app
from sqlalchemy import and_, bindparam, case, func, literal, or_, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import aliased

from portal.cache import remembered
from portal.extensions import db
from portal.i18n import force_locale
from portal.i18n import gettext as _
from portal.ics import calendar, consultation_event, slot_event, utc_zone
from portal.models import Consultation, Slot, User
from portal.models.user import new_feed_token, person_name

FEED_DAYS = 30
FEED_KEEP_SECONDS = 3600
MAX_EVENTS = 2000
# Part of every ETag: raise it when what a feed shows for the same rows changes, so calendar apps fetch it again.
FEED_FORMAT = 1
CANCELLED = ("cancelled", "cancelled_by_specialist")
# What new_feed_token() makes: anything else is not the address of a feed, and is not looked up.
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")


def feed_owner(token: str) -> User | None:
    """The confirmed, unblocked client or specialist whose feed `token` addresses, else None."""
    if not TOKEN_SHAPE.fullmatch(token):
        return None
    return db.session.scalars(
        select(User).where(
            User.feed_token == token,
            User.role.in_(("client", "specialist")),
            User.is_blocked.is_(False),
            User.confirmed_at.is_not(None),
        )
    ).first()


def reset_feed_token(user: User) -> None:
    """Give the feed a new address; the old one answers 404 as soon as this is committed."""
    user.feed_token = new_feed_token()


def feed_urls(user: User) -> tuple[str, str] | None:
    """The feed's https (or http) address and its webcal:// form, or None for a user without a feed."""
    if user.role not in ("client", "specialist") or not user.feed_token:
        return None
    url = f"{current_app.config['PUBLIC_URL']}/feeds/{user.feed_token}.ics"
    return url, "webcal://" + url.split("://", 1)[1]


# ------------------------------------------------------------------------------------------ entries


class Person(NamedTuple):
    """Who an event names (the attributes of User that portal.ics reads)."""

    username: str
    email: str
    display_name: str | None

    @property
    def name(self) -> str:
        """Display name, else username (as User.name)."""
        return person_name(self.display_name, self.username)


class SlotPart(NamedTuple):
    """The slot columns an event shows."""

    id: int
    starts_at: datetime
    ends_at: datetime
    note: str | None
    created_at: datetime


class ConsultationPart(NamedTuple):
    """The consultation columns an event shows (its UID and SEQUENCE come from these)."""

    id: int
    created_at: datetime


class ConsultationEntry(NamedTuple):
    """A consultation as one of the two people sees it."""

    consultation: ConsultationPart
    slot: SlotPart
    specialist: Person
    client: Person
    status: str
    changed: datetime
    people: bool
    for_specialist: bool

    def event(self):
        """The VEVENT, built by the function that builds the emailed invitations."""
        return consultation_event(
            self.consultation,
            self.slot,
            self.specialist,
            self.client,
            status=self.status,
            changed=self.changed,
            people=self.people,
            for_specialist=self.for_specialist,
        )


class SlotEntry(NamedTuple):
    """A slot nobody has booked, in its specialist's feed."""

    slot: SlotPart
    pending: int
    changed: datetime

    def event(self):
        """The VEVENT of the slot."""
        return slot_event(self.slot, pending=self.pending, changed=self.changed)


def _statement(role: str):
    """The feed's statement for an owner of this role (built once each)."""
    return _specialist_stmt() if role == "specialist" else _client_stmt()


def _start(role: str) -> int:
    """Where the slot's start is in the rows of that statement."""
    return SPECIALIST_START if role == "specialist" else CLIENT_START


def _params(user: User, now: datetime) -> dict:
    return {"user_id": user.id, "now": now, "since": now - timedelta(days=FEED_DAYS), "limit": MAX_EVENTS}


def feed_rows(user: User, now: datetime) -> list[tuple]:
    """The rows the feed of `user` is made from at `now`, as plain tuples: one SQL statement."""
    return [tuple(row) for row in db.session.execute(_statement(user.role), _params(user, now))]


def feed_entries(user: User, rows: list[tuple], now: datetime) -> list:
    """What the feed shows, in order, made from its rows."""
    return specialist_entries(user, rows, now) if user.role == "specialist" else client_entries(user, rows, now)


def rows_digest(user: User, rows: list[tuple], now: datetime) -> str:
    """A digest of the rows and of which of them have started (a request still pending then has expired)."""
    start = _start(user.role)
    started = sum(1 for row in rows if row[start] <= now)
    return hashlib.sha256(repr((started, rows)).encode()).hexdigest()


@cache
def _digest_stmt(role: str):
    """The same digest made by PostgreSQL from the same statement's rows: how many have started, and an md5 of
    every column of every row (quote_nullable: NULL and text can never read alike), in a fixed order. One row
    comes back instead of up to MAX_EVENTS."""
    rows = _statement(role).subquery()
    columns = list(rows.c)
    start = columns[_start(role)]
    now = bindparam("now", type_=Slot.starts_at.type)
    line = func.concat_ws(",", *(func.quote_nullable(column) for column in columns))
    return select(
        func.count().filter(start <= now),
        func.md5(func.string_agg(line, aggregate_order_by(literal(";"), columns[0]))),
    ).select_from(rows)


def feed_digest(user: User, now: datetime) -> str | None:
    """What the feed is made from at `now`, digested by the database without reading the rows; None where the
    database cannot (SQLite, the embedded demo: rows_digest of the rows instead)."""
    if db.session.get_bind().dialect.name != "postgresql":
        return None
    started, digest = db.session.execute(_digest_stmt(user.role), _params(user, now)).one()
    return f"{started}:{digest}"


def feed_etag(user: User, digest: str) -> str:
    """The ETag: the digest of the rows with the owner's names and language. The body is a function of these."""
    made_of = (FEED_FORMAT, current_app.config["PUBLIC_URL"], user.locale, user.username, user.email)
    made_of += (user.display_name, digest)
    return hashlib.sha256(repr(made_of).encode()).hexdigest()[:40]


def feed_ics(user: User, entries: list) -> bytes:
    """The feed's calendar, in the owner's language."""
    with force_locale(user.locale):
        cal = calendar(name=f"{_('Consultation Portal')} (@{user.username})")
        for entry in entries:
            cal.add_component(entry.event())
        if not entries:
            cal.add_component(utc_zone())
    return cal.to_ical()


def feed_body(user: User, etag: str, now: datetime, rows: list[tuple] | None = None) -> bytes:
    """The body for this ETag. Reading the rows, making the events and rendering them is what a feed costs, so
    each body is kept for FEED_KEEP_SECONDS: apps polling an unchanged feed without its ETag get the same bytes
    without any of it. The ETag is the digest of everything the body is made from, so a change is a new key,
    never a stale body. `rows`: already read (where the digest was made from them)."""

    def make() -> bytes:
        made_of = rows if rows is not None else feed_rows(user, now)
        return feed_ics(user, feed_entries(user, made_of, now))

    return remembered(f"feed:{etag}", FEED_KEEP_SECONDS, make)


def _nearest_first(starts_at, now):
    """ORDER BY keys keeping what is nearest to now under the cap: upcoming soonest first, then past latest first."""
    return (
        (starts_at < now).asc(),
        case((starts_at >= now, starts_at)).asc(),
        starts_at.desc(),
    )


SLOT_COLUMNS = (Slot.id, Slot.starts_at, Slot.ends_at, Slot.note, Slot.created_at)
# Where the slot's start is in the rows of each statement.
SPECIALIST_START, CLIENT_START = 1, 6


@cache
def _specialist_stmt():
    """A specialist's live slots since `since`, each with its pending count, when its requests last changed,
    and its accepted consultation and client (None when nobody booked it). Built once, values bound per call."""
    now, since = (bindparam(name, type_=Slot.starts_at.type) for name in ("now", "since"))
    pending = (
        select(func.count(Consultation.id))
        .where(Consultation.slot_id == Slot.id, Consultation.status == "pending")
        .correlate(Slot)
        .scalar_subquery()
    )
    touched = (
        select(func.max(Consultation.updated_at))
        .where(Consultation.slot_id == Slot.id)
        .correlate(Slot)
        .scalar_subquery()
    )
    booked, client = aliased(Consultation), aliased(User)
    return (
        select(
            *SLOT_COLUMNS,
            Slot.updated_at,
            pending,
            touched,
            booked.id,
            booked.created_at,
            booked.updated_at,
            client.username,
            client.email,
            client.display_name,
        )
        .outerjoin(booked, and_(booked.slot_id == Slot.id, booked.status == "accepted"))
        .outerjoin(client, client.id == booked.client_id)
        .where(Slot.specialist_id == bindparam("user_id"), Slot.deleted_at.is_(None), Slot.starts_at >= since)
        .order_by(*_nearest_first(Slot.starts_at, now), Slot.id)
        .limit(bindparam("limit"))
    )


def specialist_entries(user: User, rows: list[tuple], now: datetime) -> list:
    """Booked slots CONFIRMED (the client named), slots with waiting requests TENTATIVE, free ones TRANSPARENT."""
    me = Person(user.username, user.email, user.display_name)
    entries = []
    for row in sorted(rows, key=lambda row: (row[SPECIALIST_START], row[0])):
        slot, slot_updated, pending, touched = SlotPart(*row[:5]), *row[5:8]
        booked_id, booked_created, booked_updated, *client = row[8:]
        if booked_id is not None:
            changed = max(booked_updated, slot_updated)
            booking = ConsultationPart(booked_id, booked_created)
            entries.append(ConsultationEntry(booking, slot, me, Person(*client), "CONFIRMED", changed, True, True))
            continue
        # Requests still pending once the slot has started have expired: the time stayed free.
        waiting = pending if slot.starts_at > now else 0
        entries.append(SlotEntry(slot, waiting, max(slot_updated, touched or slot_updated)))
    return entries


@cache
def _client_stmt():
    """A client's consultations with their slot and specialist: pending and accepted ones whose slot starts
    after `since`, cancelled ones cancelled after `since`. Built once, values bound per call."""
    now, since = (bindparam(name, type_=Slot.starts_at.type) for name in ("now", "since"))
    specialist = aliased(User)
    return (
        select(
            Consultation.id,
            Consultation.created_at,
            Consultation.updated_at,
            Consultation.accepted_at,
            Consultation.status,
            *SLOT_COLUMNS,
            Slot.updated_at,
            specialist.username,
            specialist.email,
            specialist.display_name,
        )
        .join(Slot, Slot.id == Consultation.slot_id)
        .join(specialist, specialist.id == Slot.specialist_id)
        .where(Consultation.client_id == bindparam("user_id"))
        .where(
            or_(
                # Expired ones as well: stored once the sweep has run, derived from "pending" until then.
                and_(Consultation.status.in_(("pending", "accepted", "expired")), Slot.starts_at >= since),
                and_(Consultation.status.in_(CANCELLED), Consultation.cancelled_at >= since),
            )
        )
        .order_by(*_nearest_first(Slot.starts_at, now), Consultation.id)
        .limit(bindparam("limit"))
    )


def client_entries(user: User, rows: list[tuple], now: datetime) -> list:
    """Pending requests TENTATIVE, accepted consultations CONFIRMED, cancelled (and expired) ones CANCELLED."""
    me = Person(user.username, user.email, user.display_name)
    entries = []
    for row in sorted(rows, key=lambda row: (row[CLIENT_START], row[0])):
        ident, created, updated, accepted_at, status = row[:5]
        slot, slot_updated, specialist = SlotPart(*row[5:10]), row[10], Person(*row[11:])
        changed = max(updated, slot_updated)
        shown = {"pending": "TENTATIVE", "accepted": "CONFIRMED"}.get(status, "CANCELLED")
        if status == "pending" and slot.starts_at <= now:
            # Expired: never answered before the slot began. It changed then, without a row changing.
            shown, changed = "CANCELLED", max(changed, slot.starts_at)
        consultation = ConsultationPart(ident, created)
        people = accepted_at is not None
        entries.append(ConsultationEntry(consultation, slot, specialist, me, shown, changed, people, False))
    return entries
