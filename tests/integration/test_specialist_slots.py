"""Publishing slots: the form, its refusals next to the right field, weekly repeats, time zones and DST."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.models import Slot
from tests.factories import make_slot, make_user
from tests.support.pages import field_error, flashes
from tests.support.slots import BERLIN, berlin, slot_data

NEW = "/specialist/slots/new"


def live_slots(db) -> list[Slot]:
    return list(db.session.scalars(select(Slot).where(Slot.deleted_at.is_(None)).order_by(Slot.starts_at)))


def slot_count(db) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(Slot.id)))


@pytest.fixture
def specialist(auth):
    user = make_user("specialist", username="dr_berlin", timezone="Europe/Berlin")
    auth.login_as(user)
    return user


@pytest.fixture
def march(clock):
    """A Tuesday morning in Berlin, well before the spring DST change."""
    clock.set(berlin("2026-03-10 08:00"))
    return clock


def test_form_has_the_named_fields(client, specialist):
    page = client.get(NEW).get_data(as_text=True)
    for label in ("Date", "Start time", "End time", "Note", "Repeat weekly for", "Save slot"):
        assert label in page
    assert 'type="date"' in page and 'type="time"' in page


def test_new_slot_is_stored_in_utc_and_shown_on_the_calendar(client, db, specialist, march):
    response = client.submit(NEW, slot_data("2026-03-12", "09:00", "09:45", note="Online"))
    assert response.status_code == 303
    assert "/specialist/calendar?week=2026-W11" in response.headers["Location"]
    (slot,) = live_slots(db)
    assert (slot.starts_at, slot.ends_at) == (
        datetime(2026, 3, 12, 8, 0, tzinfo=UTC),
        datetime(2026, 3, 12, 8, 45, tzinfo=UTC),
    )
    assert slot.note == "Online" and slot.specialist_id == specialist.id
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert '<time datetime="2026-03-12T09:00+01:00">09:00</time>' in page
    assert "45 min" in page and "free" in page


def test_date_comes_from_the_calendar_link(client, specialist, march):
    page = client.get(NEW + "?date=2026-03-20").get_data(as_text=True)
    assert 'value="2026-03-20"' in page
    assert client.get(NEW + "?date=not-a-date").status_code == 200


REFUSALS = [
    # (form data, field, words of the message)
    (slot_data("2026-03-12", "10:00", "10:00"), "end_time", "end time must be after the start time"),
    (slot_data("2026-03-12", "10:00", "09:00"), "end_time", "end time must be after the start time"),
    (slot_data("2026-03-12", "10:00", "00:00"), "end_time", "end time must be after the start time"),
    (slot_data("2026-03-09", "10:00", "11:00"), "start_time", "already passed"),
    (slot_data("2026-03-10", "07:30", "08:30"), "start_time", "already passed"),
    (slot_data("2026-03-12", "07:00", "19:01"), "start_time", "at most 12 hours"),
    (slot_data("2027-03-11", "10:00", "11:00"), "start_time", "at most 365 days ahead"),
    (slot_data("2026-03-12", "09:30", "10:30"), "start_time", "overlaps your slot Thu, 12 Mar 2026, 09:00–10:00"),
    (slot_data("2026-03-12", "08:00", "11:00"), "start_time", "overlaps your slot"),
    (slot_data("2026-03-12", "11:00", "12:00", note="x" * 256), "note", "at most 255 characters"),
    (slot_data("", "11:00", "12:00"), "date", "Choose a date"),
    (slot_data("2026-02-30", "11:00", "12:00"), "date", "date"),
    (slot_data("2026-03-12", "", "12:00"), "start_time", "start time"),
    (slot_data("2026-03-12", "25:00", "26:00"), "start_time", "time"),
    (slot_data("2026-03-12", "11:00", "12:00", repeat=13), "repeat_weeks", "0 to 12"),
    (slot_data("2026-03-12", "11:00", "12:00", repeat=-1), "repeat_weeks", "0 to 12"),
    (slot_data("2026-03-12", "11:00", "12:00", repeat="two"), "repeat_weeks", ""),
    (slot_data("2026-03-12", "11:00\x00", "12:00"), "start_time", ""),
    (slot_data("0001-01-01", "00:00", "01:00"), "start_time", "already passed"),
    (
        slot_data("9999-12-25", "10:00", "11:00", repeat=2),
        "start_time",
        "Slot on Sat, 25 Dec 9999: A slot can start at most",
    ),
]


@pytest.mark.parametrize("data,field,words", REFUSALS)
def test_refusal_is_shown_next_to_the_field_and_saves_nothing(client, db, specialist, march, data, field, words):
    make_slot(specialist, starts_at=berlin("2026-03-12 09:00"), minutes=60)
    before = slot_count(db)
    response = client.submit(NEW, data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    error = field_error(page, field)
    assert error, f"no error next to {field}: {flashes(page)}"
    assert words.lower() in error.lower()
    assert slot_count(db) == before


def test_touching_slots_are_allowed(client, db, specialist, march):
    make_slot(specialist, starts_at=berlin("2026-03-12 09:00"), minutes=60)
    assert client.submit(NEW, slot_data("2026-03-12", "10:00", "10:30")).status_code == 303
    assert client.submit(NEW, slot_data("2026-03-12", "08:15", "09:00")).status_code == 303
    assert slot_count(db) == 3


def test_exactly_twelve_hours_is_allowed(client, db, specialist, march):
    assert client.submit(NEW, slot_data("2026-03-12", "07:00", "19:00")).status_code == 303


def test_a_deleted_slot_does_not_block_its_time(client, db, specialist, march):
    old = make_slot(specialist, starts_at=berlin("2026-03-12 09:00"), minutes=60)
    old.deleted_at = march()
    db.session.commit()
    assert client.submit(NEW, slot_data("2026-03-12", "09:00", "10:00")).status_code == 303


def test_another_specialists_slot_does_not_block(client, db, specialist, march):
    make_slot(make_user("specialist"), starts_at=berlin("2026-03-12 09:00"), minutes=60)
    assert client.submit(NEW, slot_data("2026-03-12", "09:00", "10:00")).status_code == 303


@pytest.mark.parametrize(
    "now,day,refused,accepted,accepted_utc",
    [
        # 23:59 on a winter evening (UTC+1).
        ("2026-03-28 23:59", "2026-03-28", "23:30", ("2026-03-29", "00:00"), datetime(2026, 3, 28, 23, 0, tzinfo=UTC)),
        # 23:59 on the day clocks went forward (UTC+2): 23:00 local is 21:00 UTC, before now.
        ("2026-03-29 23:59", "2026-03-29", "23:00", ("2026-03-30", "00:30"), datetime(2026, 3, 29, 22, 30, tzinfo=UTC)),
        # 23:59 on the day clocks went back (UTC+1 again).
        (
            "2026-10-25 23:59",
            "2026-10-25",
            "23:45",
            ("2026-10-26", "00:15"),
            datetime(2026, 10, 25, 23, 15, tzinfo=UTC),
        ),
    ],
)
def test_today_earlier_than_now_at_23_59_local(
    client, db, clock, specialist, now, day, refused, accepted, accepted_utc
):
    clock.set(berlin(now))
    response = client.submit(NEW, slot_data(day, refused, "23:59"))
    assert response.status_code == 422
    assert "already passed" in field_error(response.get_data(as_text=True), "start_time")
    # Starting exactly now is refused too: it would already be under way.
    response = client.submit(NEW, slot_data(day, "23:59", "23:59"))
    assert response.status_code == 422
    assert slot_count(db) == 0
    next_day, start = accepted
    assert client.submit(NEW, slot_data(next_day, start, "01:00")).status_code == 303
    (slot,) = live_slots(db)
    assert slot.starts_at == accepted_utc


def test_wall_time_skipped_by_dst_is_refused_with_a_clear_message(client, db, specialist, march):
    response = client.submit(NEW, slot_data("2026-03-29", "02:30", "03:30"))
    assert response.status_code == 422
    error = field_error(response.get_data(as_text=True), "start_time")
    assert "02:30 does not exist on Sun, 29 Mar 2026 in Europe/Berlin" in error
    response = client.submit(NEW, slot_data("2026-03-29", "01:00", "02:15"))
    assert "does not exist" in field_error(response.get_data(as_text=True), "end_time")
    assert slot_count(db) == 0


def test_slot_across_the_spring_gap_lasts_real_time(client, db, specialist, march):
    assert client.submit(NEW, slot_data("2026-03-29", "01:30", "03:30")).status_code == 303
    (slot,) = live_slots(db)
    assert slot.duration_minutes == 60


def test_repeated_wall_time_in_autumn_means_its_first_occurrence(client, db, specialist, march):
    assert client.submit(NEW, slot_data("2026-10-25", "02:30", "02:45")).status_code == 303
    (slot,) = live_slots(db)
    assert slot.starts_at == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 summer time (UTC+2)
    assert slot.duration_minutes == 15


def test_repeat_weekly_keeps_the_wall_time_across_dst(client, db, specialist, march):
    response = client.submit(NEW, slot_data("2026-03-16", "09:00", "09:45", repeat=3))
    assert response.status_code == 303
    slots = live_slots(db)
    assert [s.starts_at.astimezone(BERLIN).strftime("%Y-%m-%d %H:%M") for s in slots] == [
        "2026-03-16 09:00",
        "2026-03-23 09:00",
        "2026-03-30 09:00",
        "2026-04-06 09:00",
    ]
    assert [s.starts_at.hour for s in slots] == [8, 8, 7, 7]  # UTC moves by an hour with summer time
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "4 slots are saved." in page


def test_repeat_twelve_weeks_is_the_maximum(client, db, specialist, march):
    assert client.submit(NEW, slot_data("2026-03-16", "09:00", "09:45", repeat=12)).status_code == 303
    assert slot_count(db) == 13


def test_a_refused_repeat_names_the_date_and_saves_none(client, db, specialist, march):
    make_slot(specialist, starts_at=berlin("2026-03-30 09:30"), minutes=30)
    response = client.submit(NEW, slot_data("2026-03-16", "09:00", "10:00", repeat=4))
    assert response.status_code == 422
    error = field_error(response.get_data(as_text=True), "start_time")
    assert error.startswith("Slot on Mon, 30 Mar 2026:") and "overlaps" in error
    assert slot_count(db) == 1


def test_a_repeat_running_past_365_days_names_the_last_date(client, db, clock, specialist):
    clock.set(berlin("2026-03-10 08:00"))
    response = client.submit(NEW, slot_data("2027-02-22", "09:00", "10:00", repeat=3))
    assert response.status_code == 422
    assert "Mon, 15 Mar 2027" in field_error(response.get_data(as_text=True), "start_time")
    assert slot_count(db) == 0


def test_a_repeat_hitting_the_dst_gap_names_that_date(client, db, specialist, march):
    response = client.submit(NEW, slot_data("2026-03-15", "02:15", "04:00", repeat=2))
    assert response.status_code == 422
    error = field_error(response.get_data(as_text=True), "start_time")
    assert error.startswith("Slot on Sun, 29 Mar 2026:") and "does not exist" in error
    assert slot_count(db) == 0


def test_times_are_entered_in_the_specialists_own_zone(client, auth, db, clock):
    clock.set(datetime(2026, 3, 10, 0, 0, tzinfo=UTC))
    user = make_user("specialist", timezone="Asia/Vladivostok")
    auth.login_as(user)
    assert client.submit(NEW, slot_data("2026-03-11", "08:00", "09:00")).status_code == 303
    (slot,) = live_slots(db)
    assert slot.starts_at == datetime(2026, 3, 10, 22, 0, tzinfo=UTC)
    assert slot.starts_at - clock() == timedelta(hours=22)
