"""The availability page (SPEC §12): weekly hours make free slots in the specialist's zone, right across DST,
saving twice makes nothing new, changed hours remove only unrequested free generated slots, existing slots win,
days off clear and block generation, and the daily extension continues where the last generation stopped."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, text

from jobs.availability import extend_horizons
from portal.extensions import db as _db
from portal.models import Availability, DayOff, Slot, WorkingHours
from portal.queues import set_worker_app
from portal.services import availability
from tests.factories import make_consultation, make_slot, make_user
from tests.support.pages import field_error
from tests.support.slots import berlin

WEEK = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def hours_form(hours: dict | None = None, **rules) -> dict:
    """The availability form: every weekday's ranges (09:00-12:00 by default) and the rules (50 / 10 by default)."""
    data = {day: "09:00-12:00" for day in WEEK}
    data.update(session_minutes="50", break_minutes="10", notice_hours="0", horizon_days="7", cutoff_hours="0")
    data.update(hours or {}, **rules)
    return data


def slots_of(specialist) -> list[tuple[datetime, datetime, bool]]:
    """The specialist's live slots (start, end, generated) in time order."""
    _db.session.expire_all()
    return list(
        _db.session.execute(
            select(Slot.starts_at, Slot.ends_at, Slot.generated)
            .where(Slot.specialist_id == specialist.id, Slot.deleted_at.is_(None))
            .order_by(Slot.starts_at)
        ).tuples()
    )


def daytime(first: str, days: int) -> set[tuple[datetime, datetime]]:
    """The 09:00, 10:00 and 11:00 sessions (50 min) of `days` Berlin days from `first`, as UTC instants."""
    start = date.fromisoformat(first)
    found = set()
    for offset in range(days):
        day = (start + timedelta(days=offset)).isoformat()
        for hour in ("09:00", "10:00", "11:00"):
            begins = berlin(f"{day} {hour}").astimezone(UTC)
            found.add((begins, begins + timedelta(minutes=50)))
    return found


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def doc(clock):
    clock.set(utc("2026-10-22 05:00"))  # Thursday, 07:00 in Berlin (CEST); the clocks go back on Sunday the 25th
    return make_user("specialist", username="dr_berlin", timezone="Europe/Berlin")


@pytest.fixture
def in_process_jobs(app):
    """Jobs called directly run in the test's app (as the worker's forked work-horse runs in the worker's)."""
    set_worker_app(app)
    yield
    set_worker_app(None)


@pytest.fixture
def signed_in(doc, auth):
    auth.login_as(doc)
    return doc


def save(client, data: dict):
    return client.submit("/specialist/availability", data)


def test_a_week_across_the_october_change_gives_exactly_the_expected_slots(signed_in, client):
    response = save(client, hours_form({"sunday": "01:00-04:00, 09:00-12:00"}))
    assert response.status_code == 303
    expected = daytime("2026-10-22", 7)
    # Sunday night: 01:00 summer time, 02:00 the first time round (still summer time), 03:00 winter time.
    for start in ("2026-10-24 23:00", "2026-10-25 00:00", "2026-10-25 02:00"):
        expected.add((utc(start), utc(start) + timedelta(minutes=50)))
    got = slots_of(signed_in)
    assert {(start, end) for start, end, _ in got} == expected
    assert len(got) == 24 and all(generated for _, _, generated in got)
    # 09:00 in Berlin is 07:00 UTC before the change and 08:00 UTC after it.
    assert utc("2026-10-23 07:00") in {start for start, _, _ in got}
    assert utc("2026-10-26 08:00") in {start for start, _, _ in got}
    row = _db.session.get(Availability, signed_in.id)
    assert (row.session_minutes, row.break_minutes, row.horizon_days) == (50, 10, 7)
    assert row.generated_until == utc("2026-10-29 05:00")
    page = client.get("/specialist/availability").get_data(as_text=True)
    assert 'value="01:00-04:00, 09:00-12:00"' in page and "Save availability" in page


def test_the_march_change_skips_the_hour_that_does_not_exist(clock, client, auth):
    clock.set(utc("2027-03-25 05:00"))  # Thursday; the clocks go forward on Sunday the 28th at 02:00
    doc = make_user("specialist", timezone="Europe/Berlin")
    auth.login_as(doc)
    assert save(client, hours_form({"sunday": "01:00-04:00, 09:00-12:00"})).status_code == 303
    expected = daytime("2027-03-25", 7)
    # 01:00 winter time, no 02:00 that night, 03:00 summer time.
    for start in ("2027-03-28 00:00", "2027-03-28 01:00"):
        expected.add((utc(start), utc(start) + timedelta(minutes=50)))
    assert {(start, end) for start, end, _ in slots_of(doc)} == expected
    assert utc("2027-03-26 08:00") in {start for start, _ in expected}  # 09:00 CET
    assert utc("2027-03-29 07:00") in {start for start, _ in expected}  # 09:00 CEST


def test_saving_twice_makes_nothing_new(signed_in, client):
    save(client, hours_form())
    first = _db.session.scalars(select(Slot.id).where(Slot.specialist_id == signed_in.id).order_by(Slot.id)).all()
    response = save(client, hours_form())
    assert response.status_code == 303
    again = _db.session.scalars(select(Slot.id).where(Slot.specialist_id == signed_in.id).order_by(Slot.id)).all()
    assert again == first and len(first) == 21
    assert "Availability saved." in client.get("/specialist/availability").get_data(as_text=True)


def test_changed_hours_remove_only_unrequested_free_generated_slots(signed_in, client):
    save(client, hours_form())
    alice, bob = make_user("client"), make_user("client")
    generated = _db.session.scalars(
        select(Slot).where(Slot.specialist_id == signed_in.id).order_by(Slot.starts_at)
    ).all()
    pending_on, cancelled_on = generated[3], generated[4]
    make_consultation(pending_on, alice)
    make_consultation(cancelled_on, bob, status="cancelled")
    manual = make_slot(signed_in, starts_at=berlin("2026-10-27 07:00"), minutes=30)
    response = save(client, hours_form({day: "13:00-16:00" for day in WEEK}))
    assert response.status_code == 303
    got = {(start, end) for start, end, _ in slots_of(signed_in)}
    afternoon = set()
    for offset in range(7):
        day = (date(2026, 10, 22) + timedelta(days=offset)).isoformat()
        for hour in ("13:00", "14:00", "15:00"):
            begins = berlin(f"{day} {hour}").astimezone(UTC)
            afternoon.add((begins, begins + timedelta(minutes=50)))
    kept = {(slot.starts_at, slot.ends_at) for slot in (pending_on, cancelled_on, manual)}
    assert got == afternoon | kept
    flashed = client.get("/specialist/availability").get_data(as_text=True)
    assert "19 free slots outside your new hours removed." in flashed


def test_a_manual_slot_in_the_way_is_kept_and_its_sessions_skipped(signed_in, client):
    manual = make_slot(signed_in, starts_at=berlin("2026-10-23 10:30"), minutes=45)  # 10:30–11:15
    save(client, hours_form())
    got = slots_of(signed_in)
    friday = [(start, generated) for start, _, generated in got if start.date() == date(2026, 10, 23)]
    assert friday == [
        (berlin("2026-10-23 09:00").astimezone(UTC), True),
        (manual.starts_at, False),
    ]
    assert len(got) == 21 - 2 + 1


def test_the_exclusion_constraint_has_the_last_word(doc, app):
    """A row the Python check missed (a slot added by a concurrent transaction) is skipped, not an error."""
    taken = make_slot(doc, starts_at=utc("2026-10-23 08:00"), minutes=60)
    with app.test_request_context():
        rows = [
            {"specialist_id": doc.id, "starts_at": start, "ends_at": start + timedelta(minutes=50), "generated": True}
            for start in (utc("2026-10-23 08:30"), utc("2026-10-23 10:00"))
        ]
        assert availability._insert(rows) == 1
        _db.session.commit()
    starts = [start for start, _, _ in slots_of(doc)]
    assert starts == [taken.starts_at, utc("2026-10-23 10:00")]


def test_a_deleted_generated_slot_is_not_made_again(signed_in, client):
    save(client, hours_form())
    slot = _db.session.scalars(select(Slot).where(Slot.specialist_id == signed_in.id).order_by(Slot.starts_at)).first()
    response = client.submit(f"/specialist/slots/{slot.id}/delete", {})
    assert response.status_code == 303
    save(client, hours_form())
    assert slot.starts_at not in {start for start, _, _ in slots_of(signed_in)}
    assert len(slots_of(signed_in)) == 20


def test_days_off_remove_free_slots_and_block_generation(signed_in, client):
    save(client, hours_form())
    alice = make_user("client", username="alice")
    held = _db.session.scalars(
        select(Slot).where(Slot.specialist_id == signed_in.id, Slot.starts_at == utc("2026-10-24 08:00"))
    ).one()  # Saturday 10:00
    make_consultation(held, alice)
    response = client.submit(
        "/specialist/availability/days-off",
        {"first_day": "2026-10-24", "last_day": "2026-10-25", "note": "Family weekend"},
        from_url="/specialist/availability",
    )
    assert response.status_code == 303
    days = {start.astimezone(berlin("2026-10-24 00:00").tzinfo).date() for start, _, _ in slots_of(signed_in)}
    weekend = [start for start, _, _ in slots_of(signed_in) if date(2026, 10, 24) <= start.date() <= date(2026, 10, 25)]
    assert weekend == [held.starts_at]
    assert date(2026, 10, 26) in days and len(slots_of(signed_in)) == 21 - 6 + 1
    page = client.get("/specialist/availability").get_data(as_text=True)
    assert "Family weekend" in page and "5 free slots removed." in page
    assert "1 slot in these days has requests" in page and f"/specialist/slots/{held.id}/edit" in page
    # Saving the hours again makes nothing on the days off.
    save(client, hours_form())
    assert len(slots_of(signed_in)) == 16
    # Removing the period makes its slots again.
    period = _db.session.scalars(select(DayOff)).one()
    response = client.submit(
        f"/specialist/availability/days-off/{period.id}/remove", {}, from_url="/specialist/availability"
    )
    assert response.status_code == 303
    assert len(slots_of(signed_in)) == 21
    assert _db.session.scalars(select(DayOff)).all() == []


def test_days_off_refusals_are_next_to_their_field_and_write_nothing(signed_in, client):
    response = client.submit(
        "/specialist/availability/days-off",
        {"first_day": "2026-10-25", "last_day": "2026-10-24"},
        from_url="/specialist/availability",
    )
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "last_day") == "The last day must be on or after the first day."
    response = client.submit(
        "/specialist/availability/days-off",
        {"first_day": "2026-10-01", "last_day": "2026-10-02"},
        from_url="/specialist/availability",
    )
    assert field_error(response.get_data(as_text=True), "last_day") == "This period has already passed."
    assert _db.session.scalars(select(DayOff)).all() == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("monday", "9-12", "“9-12” is not a range of times: write them like 09:00-12:00, 13:00-17:00."),
        ("tuesday", "09:00-12:00, 11:00-13:00", "09:00-12:00 and 11:00-13:00 overlap."),
        ("wednesday", "12:00-09:00", "In 12:00-09:00 the end must be after the start."),
        ("thursday", "09:00-09:30", "09:00-09:30 is shorter than one session (50 min)."),
        ("friday", "09:00-24:00", "“09:00-24:00” is not a range of times: write them like 09:00-12:00, 13:00-17:00."),
        ("session_minutes", "10", "Enter a number of minutes from 15 to 240."),
        ("break_minutes", "121", "Enter a number of minutes from 0 to 120."),
        ("notice_hours", "-1", "Enter a number of hours from 0 to 720."),
        ("horizon_days", "0", "Enter a number of days from 1 to 365."),
        ("cutoff_hours", "x", "Enter a number of hours from 0 to 720."),
    ],
)
def test_bad_input_is_refused_next_to_its_field_and_nothing_is_half_saved(signed_in, client, field, value, message):
    save(client, hours_form())
    before = slots_of(signed_in)
    hours_before = _db.session.scalars(select(WorkingHours.start_minute)).all()
    response = save(client, hours_form({field: value}, **({} if field == "notice_hours" else {"notice_hours": "5"})))
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), field) == message
    assert slots_of(signed_in) == before
    assert _db.session.scalars(select(WorkingHours.start_minute)).all() == hours_before
    assert _db.session.get(Availability, signed_in.id).notice_hours == 0


def test_the_daily_extension_continues_to_the_horizon_once(signed_in, client, clock, in_process_jobs):
    save(client, hours_form())
    assert len(slots_of(signed_in)) == 21
    clock.set(utc("2026-10-25 05:00"))  # three days on
    assert extend_horizons() == 9
    assert extend_horizons() == 0
    got = slots_of(signed_in)
    assert len(got) == 30 and len({start for start, _, _ in got}) == 30
    assert max(start for start, _, _ in got) == berlin("2026-10-31 11:00").astimezone(UTC)
    assert _db.session.get(Availability, signed_in.id).generated_until == utc("2026-11-01 05:00")


def test_the_extension_skips_blocked_specialists_and_those_without_hours(signed_in, client, clock, in_process_jobs):
    save(client, hours_form())
    make_user("specialist")  # never saved the page
    signed_in_id = signed_in.id
    _db.session.get(type(signed_in), signed_in_id).is_blocked = True
    _db.session.commit()
    clock.set(utc("2026-10-25 05:00"))
    assert extend_horizons() == 0


def fill_days_off(doc, periods: int, hour: str) -> None:
    """`periods` one-day periods from 2026-10-23 on, each with one slot at `hour` holding a pending request."""
    alice = make_user("client")
    for n in range(periods):
        day = date(2026, 10, 23) + timedelta(days=n)
        _db.session.add(DayOff(specialist_id=doc.id, first_day=day, last_day=day, note=f"off {n}"))
        slot = make_slot(doc, starts_at=berlin(f"{day.isoformat()} {hour}"), commit=False)
        _db.session.flush()
        make_consultation(slot, alice, commit=False)
    _db.session.commit()


def test_the_page_runs_a_fixed_number_of_statements(signed_in, client, app, count_queries):
    save(client, hours_form())

    def statements() -> tuple[int, str]:
        with app.app_context(), count_queries() as counter:
            response = client.get("/specialist/availability")
        assert response.status_code == 200
        return counter.count, response.get_data(as_text=True)

    fill_days_off(signed_in, 2, "13:00")
    small, page = statements()
    assert page.count('class="held-slots"') == 2
    _db.session.execute(DayOff.__table__.delete())
    _db.session.commit()
    fill_days_off(signed_in, 40, "15:00")
    large, page = statements()
    assert page.count('class="held-slots"') == 40
    assert small == large == 5  # the session's user, the rules, the hours, the periods, their slots with requests


def test_a_slot_being_requested_while_the_hours_change_stays(signed_in, client):
    """A request holds its slot's lock until it commits: the save skips that slot instead of waiting or failing."""
    save(client, hours_form())
    busy = _db.session.scalars(select(Slot).where(Slot.specialist_id == signed_in.id).order_by(Slot.starts_at)).first()
    busy_id, starts_at = busy.id, busy.starts_at
    _db.session.commit()
    with _db.engine.connect() as other:
        locked = other.execute(text("SELECT id FROM slots WHERE id = :id FOR UPDATE"), {"id": busy_id}).scalar()
        assert locked == busy_id
        response = save(client, hours_form({day: "13:00-16:00" for day in WEEK}))
        assert response.status_code == 303
        other.rollback()
    starts = {start for start, _, _ in slots_of(signed_in)}
    assert starts_at in starts and len(starts) == 21 + 1
