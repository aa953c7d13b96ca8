"""Wall-clock times in a zone, DST gaps and overlaps, the week grid and list cursors."""

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from portal.blueprints.specialist.queries import SlotRow
from portal.blueprints.specialist.week import build_week, local_midnight, parse_week, week_param
from portal.i18n import date_range_text, force_locale
from portal.models import Slot
from portal.services.errors import DomainError
from portal.services.slots import local_instant, resulting_times, span_text

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context():
        yield


def test_ordinary_wall_time():
    assert local_instant(date(2026, 3, 12), time(9, 0), BERLIN, "start_time") == datetime(2026, 3, 12, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize("wall", [time(2, 0), time(2, 30), time(2, 59)])
def test_time_skipped_in_spring_is_refused(wall):
    with pytest.raises(DomainError) as refused:
        local_instant(date(2026, 3, 29), wall, BERLIN, "start_time")
    assert refused.value.field == "start_time"
    assert (
        f"{wall.hour:02d}:{wall.minute:02d} does not exist on Sun, 29 Mar 2026 in Europe/Berlin"
        in refused.value.message
    )


def test_time_around_the_spring_gap_is_fine():
    assert local_instant(date(2026, 3, 29), time(1, 59), BERLIN, "x") == datetime(2026, 3, 29, 0, 59, tzinfo=UTC)
    assert local_instant(date(2026, 3, 29), time(3, 0), BERLIN, "x") == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)


def test_time_repeated_in_autumn_is_its_first_occurrence():
    assert local_instant(date(2026, 10, 25), time(2, 30), BERLIN, "x") == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert local_instant(date(2026, 10, 25), time(3, 0), BERLIN, "x") == datetime(2026, 10, 25, 2, 0, tzinfo=UTC)


def test_zone_without_dst_and_far_east():
    tokyo = ZoneInfo("Asia/Tokyo")
    assert local_instant(date(2026, 1, 1), time(0, 30), tokyo, "x") == datetime(2025, 12, 31, 15, 30, tzinfo=UTC)


def test_resulting_times_keep_an_unchanged_instant():
    # The later 02:30 of the autumn night: re-entering "02:30" must not move it to the earlier one.
    slot = Slot(starts_at=datetime(2026, 10, 25, 1, 30, tzinfo=UTC), ends_at=datetime(2026, 10, 25, 2, 0, tzinfo=UTC))
    assert resulting_times(slot, BERLIN, date(2026, 10, 25), time(2, 30), time(3, 0)) == (slot.starts_at, slot.ends_at)
    starts_at, ends_at = resulting_times(slot, BERLIN, end=time(3, 30))
    assert (starts_at, ends_at) == (slot.starts_at, datetime(2026, 10, 25, 2, 30, tzinfo=UTC))


def test_resulting_times_refuse_an_end_before_the_stored_start():
    slot = Slot(starts_at=datetime(2026, 3, 12, 9, 0, tzinfo=UTC), ends_at=datetime(2026, 3, 12, 10, 0, tzinfo=UTC))
    with pytest.raises(DomainError) as refused:
        resulting_times(slot, BERLIN, end=time(9, 0))
    assert refused.value.field == "end_time"


def test_span_text():
    start = datetime(2026, 3, 12, 8, 0, tzinfo=UTC)
    assert span_text(start, start + timedelta(minutes=45), BERLIN) == "Thu, 12 Mar 2026, 09:00–09:45"


@pytest.mark.parametrize(
    "value,monday",
    [
        ("2026-W14", date(2026, 3, 30)),
        ("2026-W01", date(2025, 12, 29)),
        ("2025-W53", date(2026, 12, 21)),  # 2025 has 52 ISO weeks: fall back to this week
        ("2026-W53", date(2026, 12, 28)),
        ("2020-W53", date(2020, 12, 28)),
        ("1999-W10", date(2026, 12, 21)),
        ("2026-14", date(2026, 12, 21)),
        ("", date(2026, 12, 21)),
        (None, date(2026, 12, 21)),
        ("2026-W14<script>", date(2026, 12, 21)),
    ],
)
def test_parse_week(value, monday):
    assert parse_week(value, today=date(2026, 12, 24)) == monday


def test_week_param_round_trip():
    assert week_param(date(2025, 12, 29)) == "2026-W01"
    assert parse_week(week_param(date(2026, 3, 30)), date(2000, 1, 1)) == date(2026, 3, 30)


def test_local_midnight_on_dst_days():
    assert local_midnight(date(2026, 3, 29), BERLIN) == datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    assert local_midnight(date(2026, 3, 30), BERLIN) == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)
    # Santiago's clocks skip midnight itself when summer time begins.
    santiago = ZoneInfo("America/Santiago")
    assert local_midnight(date(2026, 9, 6), santiago).astimezone(santiago).date() == date(2026, 9, 6)


def row(start: datetime, minutes: int, pending: int = 0) -> SlotRow:
    slot = Slot(id=1, starts_at=start, ends_at=start + timedelta(minutes=minutes))
    return SlotRow(slot, pending, None)


def test_build_week_places_slots_on_quarter_hour_rows():
    now = datetime(2026, 3, 11, 12, 0, tzinfo=UTC)  # Wednesday
    rows = [row(datetime(2026, 3, 10, 8, 0, tzinfo=UTC), 45), row(datetime(2026, 3, 12, 15, 30, tzinfo=UTC), 120, 2)]
    week = build_week(date(2026, 3, 9), rows, BERLIN, now)
    assert (week.first_hour, week.last_hour, week.param) == (7, 21, "2026-W11")
    assert [d.is_today for d in week.days] == [False, False, True, False, False, False, False]
    assert [d.is_past for d in week.days][:3] == [True, True, False]
    tuesday, thursday = week.days[1].slots[0], week.days[3].slots[0]
    assert (tuesday.grid_row, tuesday.grid_span, tuesday.past) == (9, 3, True)  # 09:00 local, 3 quarters
    # 16:30 local is 38 quarter hours after 07:00: row 39; two hours span 8 rows.
    assert (thursday.grid_row, thursday.grid_span, thursday.row.state) == (39, 8, "pending")
    # What the grid prints of them, in Berlin time.
    assert tuesday.css_class == "slot state-free r-9 s-3 is-past"
    assert tuesday.span_text == "09:00–09:45"
    assert str(tuesday.span_html) == (
        '<time datetime="2026-03-10T09:00+01:00">09:00</time>'
        '<span class="slot-end">–<time datetime="2026-03-10T09:45+01:00">09:45</time></span>'
    )
    assert thursday.css_class == "slot state-pending r-39 s-8"


def test_build_week_grows_to_cover_early_and_late_slots():
    rows = [row(datetime(2026, 3, 10, 4, 15, tzinfo=UTC), 30), row(datetime(2026, 3, 13, 21, 0, tzinfo=UTC), 150)]
    week = build_week(date(2026, 3, 9), rows, BERLIN, datetime(2026, 3, 1, tzinfo=UTC))
    assert (week.first_hour, week.last_hour) == (5, 24)
    assert week.days[1].slots[0].grid_row == 2  # 05:15 is the second quarter of 05:00
    assert week.days[4].slots[0].grid_span == 8  # 22:00–24:00, cut at midnight


def test_short_slots_are_marked_for_the_grid_and_the_legend_counts_the_week():
    now = datetime(2026, 3, 1, tzinfo=UTC)
    monday = datetime(2026, 3, 9, 8, 0, tzinfo=UTC)
    booked = row(monday + timedelta(days=1), 45)
    booked.client = ("ann",)
    rows = [row(monday, 15), row(monday + timedelta(hours=1), 25, pending=3), row(monday + timedelta(hours=2), 30, 1)]
    week = build_week(date(2026, 3, 9), [*rows, booked], BERLIN, now)
    quarter, twenty_five, half = week.days[0].slots
    assert quarter.css_class.endswith(" compact") and twenty_five.css_class.endswith(" compact")
    assert half.css_class.endswith(" short") and week.days[1].slots[0].css_class == "slot state-booked r-9 s-3"
    assert week.totals == {"free": 1, "pending": 4, "booked": 1}
    assert (week.monday, week.last_day) == (date(2026, 3, 9), date(2026, 3, 15))


@pytest.mark.parametrize(
    "locale, first, last, text",
    [
        ("en", date(2026, 11, 30), date(2026, 12, 6), "30 Nov – 6 Dec 2026"),
        ("en", date(2026, 12, 7), date(2026, 12, 13), "7–13 Dec 2026"),
        ("en", date(2026, 12, 28), date(2027, 1, 3), "28 Dec 2026 – 3 Jan 2027"),
        ("ru", date(2026, 11, 30), date(2026, 12, 6), "30 нояб. – 6 дек. 2026 г."),
        ("ru", date(2026, 12, 7), date(2026, 12, 13), "7–13 дек. 2026 г."),
    ],
)
def test_a_week_reads_as_a_range_of_days_in_each_language(locale, first, last, text):
    with force_locale(locale):
        # Babel's thin and narrow no-break spaces read as spaces.
        assert re.sub("[\u2009\u202f\u00a0]", " ", date_range_text(first, last)) == text
