"""Working hours without services: parsing the ranges, cutting sessions across DST, and the booking window's SQL on
SQLite (the embedded demo) as well as its PostgreSQL form."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, insert, select
from sqlalchemy.dialects import postgresql

from portal.models import Availability, Base, Slot, User
from portal.models.availability import too_late, too_soon
from portal.services.availability import format_ranges, parse_ranges, sessions
from portal.services.errors import DomainError

BERLIN = ZoneInfo("Europe/Berlin")


def test_ranges_are_read_sorted_and_written_back():
    assert parse_ranges(" 13:00-17:00 ,9:00 – 12:00,, ") == [(540, 720), (780, 1020)]
    assert format_ranges(parse_ranges("13:00-17:00, 09:00-12:00")) == "09:00-12:00, 13:00-17:00"
    assert parse_ranges("") == [] and parse_ranges(None) == []


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("09:00-12:00, 11:30-13:00", "overlap"),
        ("12:00-12:00", "end must be after"),
        ("9-12", "not a range"),
        ("09:00-24:00", "not a range"),
        ("09:60-10:00", "not a range"),
        (", ".join(f"{h:02d}:00-{h:02d}:30" for h in range(13)), "at most 12"),
    ],
)
def test_bad_ranges_are_refused(text, words):
    with pytest.raises(DomainError) as refused:
        parse_ranges(text)
    assert words in str(refused.value)


def test_touching_ranges_are_fine():
    assert parse_ranges("09:00-12:00, 12:00-13:00") == [(540, 720), (720, 780)]


def test_sessions_keep_the_wall_clock_across_dst_and_skip_the_missing_hour():
    hours = {6: [(60, 240)]}  # Sundays 01:00-04:00
    after = datetime(2027, 3, 27, 12, 0, tzinfo=UTC)
    found = sessions(hours, 50, 10, BERLIN, [], after, after + timedelta(days=2))
    assert [start.astimezone(BERLIN).strftime("%H:%M") for start, _ in found] == ["01:00", "03:00"]
    after = datetime(2026, 10, 24, 12, 0, tzinfo=UTC)
    found = sessions(hours, 50, 10, BERLIN, [], after, after + timedelta(days=2))
    assert [start.isoformat() for start, _ in found] == [
        "2026-10-24T23:00:00+00:00",
        "2026-10-25T00:00:00+00:00",  # 02:00, the first time round
        "2026-10-25T02:00:00+00:00",
    ]
    assert all(end - start == timedelta(minutes=50) for start, end in found)


def test_days_off_and_the_window_bound_the_sessions():
    hours = {weekday: [(540, 720)] for weekday in range(7)}
    after = datetime(2026, 6, 1, 7, 30, tzinfo=UTC)  # 09:30 in Berlin: 09:00 has started
    found = sessions(hours, 60, 0, BERLIN, [(date(2026, 6, 2), date(2026, 6, 3))], after, after + timedelta(days=4))
    days = sorted({start.astimezone(BERLIN).date().day for start, _ in found})
    assert days == [1, 4, 5]
    assert found[0][0] == datetime(2026, 6, 1, 10, 0, tzinfo=BERLIN)
    assert found[-1][0] == datetime(2026, 6, 5, 9, 0, tzinfo=BERLIN)  # 07:00 UTC: not after the window's end


def test_the_booking_window_on_sqlite():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    now = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(User),
            [
                {"id": n, "username": f"u{n}", "email": f"u{n}@x.test", "password_hash": "x", "role": "specialist"}
                for n in (1, 2)
            ],
        )
        conn.execute(insert(Availability), [{"specialist_id": 1, "notice_hours": 24, "horizon_days": 10}])
        conn.execute(
            insert(Slot),
            [
                {"specialist_id": specialist, "starts_at": now + delay, "ends_at": now + delay + timedelta(hours=1)}
                for specialist, delay in [
                    (1, timedelta(hours=23, minutes=59)),
                    (1, timedelta(hours=24, minutes=1)),
                    (1, timedelta(days=10)),
                    (1, timedelta(days=10, seconds=1)),
                    (2, timedelta(minutes=1)),  # no saved availability: no notice, 365 days
                    (2, timedelta(days=366)),
                ]
            ],
        )
        rows = conn.execute(select(Slot.id, too_soon(), too_late()).order_by(Slot.id), {"now": now}).all()
    assert [(bool(soon), bool(late)) for _, soon, late in rows] == [
        (True, False),
        (False, False),
        (False, False),
        (False, True),
        (False, False),
        (False, True),
    ]


def test_the_booking_window_on_postgresql_is_interval_arithmetic():
    sql = " ".join(str(select(too_soon(), too_late()).compile(dialect=postgresql.dialect())).split())
    assert "make_interval(hours => coalesce((SELECT availabilities.notice_hours" in sql
    assert (
        "availabilities.horizon_days FROM availabilities WHERE availabilities.specialist_id = slots.specialist_id"
        in sql
    )
