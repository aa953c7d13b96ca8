"""Stress on PostgreSQL: changes to one specialist's slots at the same moment end in one slot and a friendly
refusal, never a 503 (a deadlock between two checks of the overlap constraint)."""

from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from portal.models import Slot
from tests.factories import make_slot, make_user
from tests.support.pages import field_error
from tests.support.race import logged_in, race

pytestmark = [pytest.mark.stress, pytest.mark.serial]

BERLIN = ZoneInfo("Europe/Berlin")
NEW = "/specialist/slots/new"
EDIT = "/specialist/slots/{}/edit"
FIRST_DAY = date(2026, 3, 11)
CREATIONS = 200
TRANSFERS = 50


def at(day: date, wall: str) -> datetime:
    """A Berlin wall-clock time on a day, as an aware datetime."""
    return datetime.combine(day, datetime.strptime(wall, "%H:%M").time(), BERLIN)


def slot_form(token: str, day: date, start: str, end: str, **extra) -> dict:
    return {"csrf_token": token, "date": day.isoformat(), "start_time": start, "end_time": end, **extra}


def outcome(results, words: tuple[str, str]) -> str:
    """Name what the two racing requests answered; a refusal counts only with its overlap message."""
    codes = [r.status_code for r in results]
    if sorted(codes) != [303, 422]:
        return f"answers {codes}"
    refused = codes.index(422)
    page = results[refused].get_data(as_text=True)
    error = field_error(page, "start_time") or field_error(page, "specialist")
    return f"{'first' if refused else 'second'} wins" if words[refused] in error else f"refused with {error!r}"


def live_slots_by_day(db, specialist_id: int) -> Counter:
    db.session.expire_all()
    starts = db.session.scalars(
        select(Slot.starts_at).where(Slot.specialist_id == specialist_id, Slot.deleted_at.is_(None))
    )
    return Counter(start.astimezone(BERLIN).date() for start in starts)


@pytest.fixture
def march(clock):
    clock.set(at(date(2026, 3, 10), "08:00"))
    return clock


def test_overlapping_creations_at_the_same_moment_leave_one_slot_and_an_overlap_message(app, db, march):
    specialist = make_user("specialist", username="dr_stress", timezone="Europe/Berlin")
    (first, first_token), (second, second_token) = (logged_in(app, specialist, NEW) for _ in range(2))
    outcomes = Counter()
    for repeat in range(CREATIONS):
        day = FIRST_DAY + timedelta(days=repeat)
        results = race(
            app,
            [
                (first, NEW, slot_form(first_token, day, "09:00", "10:00", repeat_weeks="0")),
                (second, NEW, slot_form(second_token, day, "09:30", "10:30", repeat_weeks="0")),
            ],
        )
        outcomes[outcome(results, ("overlaps your slot", "overlaps your slot"))] += 1
    print(f"\n{CREATIONS} races of two overlapping creations: {dict(outcomes)}")
    assert sum(outcomes.values()) == CREATIONS
    assert set(outcomes) <= {"first wins", "second wins"}, outcomes
    slots = live_slots_by_day(db, specialist.id)
    assert len(slots) == CREATIONS and set(slots.values()) == {1}


def test_a_transfer_and_a_creation_racing_for_one_time_leave_one_slot(app, db, march):
    giver = make_user("specialist", username="dr_giver", timezone="Europe/Berlin")
    taker = make_user("specialist", username="dr_taker", timezone="Europe/Berlin")
    giving, giving_token = logged_in(app, giver, NEW)
    taking, taking_token = logged_in(app, taker, NEW)
    outcomes = Counter()
    for repeat in range(TRANSFERS):
        day = FIRST_DAY + timedelta(days=repeat)
        given = make_slot(giver, starts_at=at(day, "09:00"), minutes=60)
        transfer = slot_form(giving_token, day, "09:00", "10:00", note="", specialist="dr_taker")
        creation = slot_form(taking_token, day, "09:30", "10:30", repeat_weeks="0")
        results = race(app, [(giving, EDIT.format(given.id), transfer), (taking, NEW, creation)])
        outcomes[outcome(results, ("overlaps a slot of @dr_taker", "overlaps your slot"))] += 1
    print(f"\n{TRANSFERS} races of a transfer against a creation: {dict(outcomes)}")
    assert sum(outcomes.values()) == TRANSFERS
    assert set(outcomes) <= {"first wins", "second wins"}, outcomes
    taken = live_slots_by_day(db, taker.id)
    assert len(taken) == TRANSFERS and set(taken.values()) == {1}
    # The giver still holds the slot exactly when the creation won.
    kept = live_slots_by_day(db, giver.id)
    assert sum(kept.values()) == outcomes["second wins"]


def test_two_specialists_handing_each_other_a_slot_at_the_same_moment_both_succeed(app, db, march):
    one = make_user("specialist", username="dr_one", timezone="Europe/Berlin")
    two = make_user("specialist", username="dr_two", timezone="Europe/Berlin")
    (first, first_token), (second, second_token) = logged_in(app, one, NEW), logged_in(app, two, NEW)
    answers = Counter()
    moved = []
    for repeat in range(TRANSFERS):
        day = FIRST_DAY + timedelta(days=repeat)
        mine, theirs = make_slot(one, starts_at=at(day, "09:00")), make_slot(two, starts_at=at(day, "11:00"))
        results = race(
            app,
            [
                (first, EDIT.format(mine.id), slot_form(first_token, day, "09:00", "09:45", specialist="dr_two")),
                (second, EDIT.format(theirs.id), slot_form(second_token, day, "11:00", "11:45", specialist="dr_one")),
            ],
        )
        answers[str([r.status_code for r in results])] += 1
        moved.append((mine.id, theirs.id))
    print(f"\n{TRANSFERS} races of two crossing transfers: {dict(answers)}")
    assert answers == Counter({"[303, 303]": TRANSFERS})
    db.session.expire_all()
    owners = dict(db.session.execute(select(Slot.id, Slot.specialist_id)).all())
    assert all((owners[mine], owners[theirs]) == (two.id, one.id) for mine, theirs in moved)
