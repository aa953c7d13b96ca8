"""The dashboard's figures: twelve weeks of requests, answers, cancellations, new users and failed emails.

Counted by the database in two aggregate queries, whatever the number of weeks, users or consultations. The weeks are
the admin's: Monday 00:00 in their time zone. Their bounds are computed here (zoneinfo knows every DST change)
and each instant is put in its week by comparing it with them, so the figures are the same on PostgreSQL and on
the embedded demo's SQLite, which knows no time zones. The figures are those of the current minute: made once
and kept in Redis for the minute's other requests.
"""

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from sqlalchemy import ARRAY, Integer, String, and_, bindparam, case, func, join, literal, or_, select, union_all

from portal.cache import remembered
from portal.extensions import db
from portal.models import CANCEL_REASONS, Consultation, OutboxEmail, Slot, User
from portal.models.base import UTCDateTime

WEEKS = 12
# The figures of one minute serve every request of that minute (two aggregates over all consultations).
KEEP_SECONDS = 120
CANCELLATIONS = (*CANCEL_REASONS, "cancelled_by_specialist")


@dataclass(frozen=True)
class Weeks:
    """The dashboard's weeks, oldest first: each one's Monday (the admin's calendar) and the UTC instants
    where they begin, plus the end of the last one."""

    mondays: list[date]
    bounds: list[datetime]


def weeks_until(now: datetime, zone: ZoneInfo, count: int = WEEKS) -> Weeks:
    """The `count` weeks up to and including the one `now` falls in, Monday-start in `zone`."""
    today = now.astimezone(zone).date()
    this_monday = today - timedelta(days=today.weekday())
    mondays = [this_monday - timedelta(weeks=count - 1 - n) for n in range(count + 1)]
    return Weeks(mondays[:-1], [local_midnight(day, zone) for day in mondays])


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant a calendar day begins in `zone`.

    A midnight skipped by a DST change (a few zones change at 00:00) is read with the offset before the
    change: the first instant of that day."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


@dataclass
class Figures:
    """Weekly counts by (metric, key), oldest week first; a pair the database never named reads all zeros."""

    weeks: Weeks
    counts: dict
    name: str  # what the figures are kept under: the zone and the minute they were counted in

    def series(self, metric: str, key: str = "") -> list[int]:
        return self.counts.get((metric, key), [0] * len(self.weeks.mondays))


def weekly_figures(now: datetime, zone: ZoneInfo) -> Figures:
    """Every figure of the dashboard for the weeks up to `now`: two aggregate queries, made at most once a minute
    per time zone (KEEP_SECONDS) and kept for the other admins' and reloads' requests of that minute."""
    weeks = weeks_until(now, zone)
    name = f"dashboard:{zone.key}:{now:%Y-%m-%dT%H:%M}"
    rows = json.loads(remembered(name, KEEP_SECONDS, lambda: json.dumps(_count(weeks, now)).encode()))
    return Figures(weeks, {(metric, key): series for metric, key, series in rows}, name)


def _count(weeks: Weeks, now: datetime) -> list:
    """[metric, key, weekly series] of every pair the database named."""
    counts: dict = defaultdict(lambda: [0] * len(weeks.mondays))
    for week, *found in db.session.execute(_consultations_stmt(weeks.bounds)):
        for (metric, key), count in zip(CONSULTATION_SERIES, found, strict=True):
            counts[(metric, key)][week] += count
    for metric, key, week, count in db.session.execute(_others_stmt(weeks.bounds, now)):
        counts[(metric, key)][week] += count
    return [[metric, key, series] for (metric, key), series in counts.items()]


def cancellation_kind(status: str, reason: str | None) -> str:
    """What a cancellation counts as: the specialist deleting the slot, else the client's reason (a comment
    alone counts as "Other")."""
    if status == "cancelled_by_specialist":
        return status
    return reason if reason in CANCEL_REASONS else "Other"


def _week_of(column, bounds: list[datetime]):
    """The index of the week an instant falls in: -1 before the first, len(bounds) - 1 after the last.

    PostgreSQL finds it by binary search (width_bucket, measured twice as fast as a CASE of twelve
    comparisons over 100,000 consultations); elsewhere a CASE does.
    """
    if db.engine.dialect.name == "postgresql":
        return func.width_bucket(column, bindparam("week_bounds", bounds, type_=ARRAY(UTCDateTime()))) - 1
    return case(*((column < bound, n - 1) for n, bound in enumerate(bounds)), else_=len(bounds) - 1)


def _weeks_rows(bounds: list[datetime]):
    """The weeks as a little table (week, lo, hi) of bound values, for joining events to them by range."""
    rows = [
        select(
            literal(n, Integer).label("week"),
            literal(lo, UTCDateTime()).label("lo"),
            literal(hi, UTCDateTime()).label("hi"),
        )
        for n, (lo, hi) in enumerate(pairwise(bounds))
    ]
    return union_all(*rows).subquery("weeks")


# The series counted from the consultations' own timestamps, in the order of _consultations_stmt's columns.
CONSULTATION_SERIES = (
    ("requests", ""),
    ("accepted", ""),
    ("rejected", ""),
    *(("cancelled", kind) for kind in CANCELLATIONS),
)


def _consultations_stmt(bounds: list[datetime]):
    """Per week: requests, acceptances, rejections and each kind of cancellation, one row per week.

    Each figure is a count over a range of an index on its timestamp (migration 0009; the cancellations' index
    carries their status and reason), so the database counts index entries and computes nothing per row: measured
    at bench size (100,000 consultations, 70,000 of them in the twelve weeks) 15–18 ms of the database's CPU instead
    of 28 ms for one pass over the table putting four timestamps in their weeks. Written as correlated counts (not
    a join grouped by week) so that PostgreSQL runs them in the one backend, without parallel workers to start.
    """
    c, weeks = Consultation, _weeks_rows(bounds)

    def count(column, *where):
        return (
            select(func.count())
            .where(column >= weeks.c.lo, column < weeks.c.hi, *where)
            .correlate(weeks)
            .scalar_subquery()
        )

    by_specialist = c.status == "cancelled_by_specialist"
    by_client = c.status != "cancelled_by_specialist"
    named = [reason for reason in CANCEL_REASONS if reason != "Other"]
    kinds = {
        "cancelled_by_specialist": (by_specialist,),
        # A comment alone, or a reason no longer offered, counts as "Other" (cancellation_kind).
        "Other": (by_client, or_(c.cancel_reason.is_(None), c.cancel_reason.not_in(named))),
        **{reason: (by_client, c.cancel_reason == reason) for reason in named},
    }
    return select(
        weeks.c.week,
        count(c.created_at),
        count(c.accepted_at),
        count(c.rejected_at),
        *(count(c.cancelled_at, *kinds[kind]) for kind in CANCELLATIONS),
    ).order_by(weeks.c.week)


def _others_stmt(bounds: list[datetime], now: datetime):
    """Expired requests, new users by role and failed emails, counted per (metric, key, week)."""
    start, end = bounds[0], bounds[-1]

    def events(metric: str, key, column, *where, source=None):
        """(metric, key, week) of every row whose `column` falls in the weeks."""
        stmt = select(literal(metric, String).label("metric"), key.label("key"), _week_of(column, bounds).label("week"))
        if source is not None:
            stmt = stmt.select_from(source)
        return stmt.where(column >= start, column < end, *where)

    none = literal("", String)
    c = Consultation
    # Expired: a request nobody answered before its slot began, in the week it began. Derived from "pending"
    # today; a stored 'expired' status counts the same. Only live slots: deleting a slot (possible only
    # before it starts) cancels its requests.
    unanswered = or_(and_(c.status == "pending", Slot.starts_at <= now), c.status == "expired")
    on_live_slots = join(c, Slot, and_(Slot.id == c.slot_id, Slot.deleted_at.is_(None)))
    events_of_all = union_all(
        events("expired", none, Slot.starts_at, unanswered, source=on_live_slots),
        events("users", User.role, User.created_at),
        events("emails_failed", none, OutboxEmail.created_at, OutboxEmail.state == "failed"),
    ).subquery("events")
    keys = (events_of_all.c.metric, events_of_all.c.key, events_of_all.c.week)
    return select(*keys, func.count()).group_by(*keys)
