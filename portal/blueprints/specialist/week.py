"""The week calendar: which week to show and where each slot sits in the grid."""

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from markupsafe import Markup

from portal.blueprints.specialist.queries import SlotRow
from portal.i18n import remembered, time_tag

WEEK_RE = re.compile(r"^(\d{4})-W(\d{2})$")
# The hours always shown; the grid grows to cover slots outside them.
DAY_FIRST_HOUR, DAY_LAST_HOUR = 7, 21
QUARTER = 15  # minutes per grid row


def parse_week(value: str | None, today: date) -> date:
    """The Monday of an ISO week like 2026-W14; anything else means the current week."""
    match = WEEK_RE.match(value or "")
    if match and 2000 <= int(match.group(1)) <= 2100:
        try:
            return date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
        except ValueError:
            pass
    return today - timedelta(days=today.weekday())


def week_param(monday: date) -> str:
    """The ISO week of a date, like 2026-W14."""
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of a local date (midnight itself may be skipped by DST in a few zones)."""
    instant = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    local = instant.astimezone(zone)
    return instant if local.date() == day else instant - timedelta(hours=local.hour, minutes=local.minute)


@dataclass
class CalendarSlot:
    row: SlotRow
    start: datetime  # local
    end: datetime  # local
    grid_row: int
    grid_span: int
    past: bool

    # What the grid shows of a slot, each built in one piece rather than from a dozen template expressions
    # (a busy week has 70 slots): its classes, "09:00–09:45", and that as two <time> elements.
    @property
    def css_class(self) -> str:
        classes = f"slot state-{self.row.state} r-{self.grid_row} s-{self.grid_span}"
        return classes + (" is-past" if self.past else "") + SIZE_CLASS.get(self.grid_span, "")

    @property
    def span_text(self) -> str:
        start, end = self.start, self.end
        return f"{start.hour:02d}:{start.minute:02d}–{end.hour:02d}:{end.minute:02d}"

    @property
    def span_html(self) -> Markup:
        return _span_html(self.row.slot.starts_at, self.row.slot.ends_at, self.start.tzinfo.key)


# The start and end as the <time> elements of every page (portal/i18n.py). The end in a span of its own: a slot of
# one grid row (under half an hour) shows its start and state on one line, and leaves the end and the duration to
# screen readers and the tooltip; one of two rows has two lines.
SPAN_HTML = Markup('%s<span class="slot-end">–%s</span>')


@remembered(maxsize=4096)
def _span_html(starts_at: datetime, ends_at: datetime, zone: str) -> Markup:
    """A slot's span remembered per instants, zone and language: a busy week shows 70, the same again on every
    request, and markupsafe's % costs a few µs each time."""
    return SPAN_HTML % (time_tag(starts_at, "time", zone), time_tag(ends_at, "time", zone))


SIZE_CLASS = {1: " compact", 2: " short"}


@dataclass
class Day:
    day: date
    is_today: bool
    is_past: bool
    slots: list = field(default_factory=list)


@dataclass
class Week:
    monday: date
    days: list
    first_hour: int
    last_hour: int

    @property
    def last_day(self) -> date:
        return self.monday + timedelta(days=6)

    @property
    def totals(self) -> dict[str, int]:
        """The legend's figures: free and booked slots of the week, and the requests waiting on its slots."""
        rows = [item.row for day in self.days for item in day.slots]
        return {
            "free": sum(row.state == "free" for row in rows),
            "pending": sum(row.pending for row in rows if row.client is None),
            "booked": sum(row.state == "booked" for row in rows),
        }

    @property
    def hours(self) -> list[int]:
        return list(range(self.first_hour, self.last_hour))

    @property
    def param(self) -> str:
        return week_param(self.monday)

    @property
    def prev_param(self) -> str:
        return week_param(self.monday - timedelta(days=7))

    @property
    def next_param(self) -> str:
        return week_param(self.monday + timedelta(days=7))


def build_week(monday: date, rows: list[SlotRow], zone: ZoneInfo, now: datetime) -> Week:
    """Place the week's slots on a 7-day grid of quarter-hour rows in the specialist's zone."""
    today = now.astimezone(zone).date()
    days = {monday + timedelta(days=i): Day(monday + timedelta(days=i), False, False) for i in range(7)}
    for day in days.values():
        day.is_today, day.is_past = day.day == today, day.day < today
    placed = []
    first, last = DAY_FIRST_HOUR, DAY_LAST_HOUR
    for row in rows:
        start, end = row.slot.starts_at.astimezone(zone), row.slot.ends_at.astimezone(zone)
        if start.date() not in days:  # began the evening before the week, in a zone changed since
            continue
        minutes = start.hour * 60 + start.minute
        # A slot lies within its day; one that crosses midnight (zone changed since) is cut there.
        end_minutes = minutes + (row.slot.ends_at - row.slot.starts_at) // timedelta(minutes=1)
        end_minutes = min(end_minutes, 24 * 60)
        first = min(first, start.hour)
        last = max(last, math.ceil(end_minutes / 60))
        placed.append((row, start, end, minutes, end_minutes))
    for row, start, end, minutes, end_minutes in placed:
        top = (minutes - first * 60) // QUARTER
        bottom = max(top + 1, (end_minutes - first * 60) // QUARTER)
        days[start.date()].slots.append(CalendarSlot(row, start, end, top + 1, bottom - top, row.slot.starts_at <= now))
    return Week(monday, list(days.values()), first, last)
