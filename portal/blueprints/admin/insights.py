"""The dashboard's figures: twelve weeks of requests, answers, cancellations, new users and failed emails.

Counted by the database in two aggregate queries, whatever the number of weeks, users or consultations. The weeks are
the admin's: Monday 00:00 in their time zone. Their bounds are computed here (zoneinfo knows every DST change)
and each instant is put in its week by comparing it with them, so the figures are the same on PostgreSQL and on
the embedded demo's SQLite, which knows no time zones.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ARRAY, String, and_, bindparam, case, func, join, literal, or_, select, union_all

from portal.extensions import db
from portal.models import CANCEL_REASONS, Consultation, OutboxEmail, Slot, User
from portal.models.base import UTCDateTime

WEEKS = 12
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

    def series(self, metric: str, key: str = "") -> list[int]:
        return self.counts.get((metric, key), [0] * len(self.weeks.mondays))


def weekly_figures(now: datetime, zone: ZoneInfo) -> Figures:
    """Every figure of the dashboard for the weeks up to `now`: two aggregate queries."""
    weeks = weeks_until(now, zone)
    counts: dict = defaultdict(lambda: [0] * len(weeks.mondays))
    shown = range(len(weeks.mondays))
    for status, reason, requested, accepted, rejected, cancelled, count in db.session.execute(
        _consultations_stmt(weeks.bounds)
    ):
        for metric, week in (("requests", requested), ("accepted", accepted), ("rejected", rejected)):
            if week in shown:
                counts[(metric, "")][week] += count
        if cancelled in shown:
            counts[("cancelled", cancellation_kind(status, reason))][cancelled] += count
    for metric, key, week, count in db.session.execute(_others_stmt(weeks.bounds, now)):
        counts[(metric, key)][week] += count
    return Figures(weeks, dict(counts))


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


def _consultations_stmt(bounds: list[datetime]):
    """The weeks of each consultation's request, acceptance, rejection and cancellation, counted per combination.

    One pass over the consultations (no index serves four timestamps); a request and its answer mostly fall
    in the same or the next week, so the combinations are few.
    """
    c = Consultation
    start = bounds[0]
    weeks = select(
        c.status,
        c.cancel_reason.label("reason"),
        _week_of(c.created_at, bounds).label("requested"),
        _week_of(c.accepted_at, bounds).label("accepted"),
        _week_of(c.rejected_at, bounds).label("rejected"),
        _week_of(c.cancelled_at, bounds).label("cancelled"),
    ).where(or_(c.created_at >= start, c.accepted_at >= start, c.rejected_at >= start, c.cancelled_at >= start))
    found = weeks.subquery("consultation_weeks").c
    keys = (found.status, found.reason, found.requested, found.accepted, found.rejected, found.cancelled)
    return select(*keys, func.count()).group_by(*keys)


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
