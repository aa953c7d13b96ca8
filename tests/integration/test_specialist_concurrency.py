"""Races on PostgreSQL: real threads with their own client and database session, released together."""

from datetime import date, time

import pytest
from sqlalchemy import func, select

from portal.models import Consultation, Slot
from portal.services import requests as requests_service
from portal.services import slots as slots_service
from tests.factories import make_consultation, make_slot, make_user
from tests.support.mail import all_emails_delivered
from tests.support.pages import field_error, flashes
from tests.support.race import logged_in, race
from tests.support.slots import berlin, slot_data


def logged_in_posts(app, user, requests):
    """One client per (url, data), logged in as `user`, with the CSRF token fetched now: only the POSTs race."""
    posts = []
    for url, data in requests:
        client, token = logged_in(app, user, url if url.endswith("/new") else "/specialist/consultations")
        posts.append((client, url, {**data, "csrf_token": token}))
    return posts


@pytest.fixture
def specialist(clock):
    clock.set(berlin("2026-03-10 08:00"))
    return make_user("specialist", username="dr_race", timezone="Europe/Berlin")


@pytest.mark.parametrize("attempt", range(3))
def test_two_overlapping_creations_leave_exactly_one_slot(app, db, specialist, attempt):
    new = "/specialist/slots/new"
    posts = logged_in_posts(
        app,
        specialist,
        [(new, slot_data("2026-03-12", "09:00", "10:00")), (new, slot_data("2026-03-12", "09:30", "10:30"))],
    )
    results = race(app, posts)
    codes = sorted(r.status_code for r in results)
    assert codes == [303, 422]
    refused = next(r for r in results if r.status_code == 422)
    assert "overlaps" in field_error(refused.get_data(as_text=True), "start_time")
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Slot.id))) == 1


@pytest.mark.parametrize("attempt", range(3))
def test_two_accepts_on_one_slot_book_it_once(app, db, specialist, attempt, rq_worker, mail):
    slot = make_slot(specialist, starts_at=berlin("2026-03-12 10:00"))
    first, second = (make_consultation(slot, make_user("client")) for _ in range(2))
    posts = logged_in_posts(
        app, specialist, [(f"/specialist/consultations/{c.id}/accept", {}) for c in (first, second)]
    )
    results = race(app, posts)
    assert [r.status_code for r in results] == [303, 303]  # never a 5xx
    db.session.expire_all()
    rows = sorted(db.session.scalars(select(Consultation.status)))
    assert rows == ["accepted", "rejected"]
    messages = []
    for client, _, _ in posts:
        with app.app_context():
            messages.append(flashes(client.get("/specialist/consultations").get_data(as_text=True)))
    assert sum("You accepted the request" in m for m in messages) == 1
    assert sum("no longer pending" in m for m in messages) == 1
    assert len(all_emails_delivered(db, mail)) == 2  # one acceptance, one automatic rejection


def test_database_overlap_after_the_python_check_gets_the_same_message(app, db, specialist, monkeypatch):
    """If a concurrent insert slips past the Python check, the exclusion constraint answers in the same words."""
    existing = make_slot(specialist, starts_at=berlin("2026-03-12 09:00"), minutes=60)
    real_find = slots_service.find_overlap
    calls = []

    def blind_first_time(*args, **kwargs):
        calls.append(args)
        return None if len(calls) == 1 else real_find(*args, **kwargs)

    monkeypatch.setattr(slots_service, "find_overlap", blind_first_time)
    with app.test_request_context():
        with pytest.raises(slots_service.DomainError) as refused:
            slots_service.create_slots(specialist, date(2026, 3, 12), time(9, 30), time(10, 30))
        expected = slots_service.overlap_error(existing, slots_service.zone_of(specialist)).message
    assert len(calls) == 2  # the Python check was blind; the database caught it, then named the slot
    assert refused.value.field == "start_time"
    assert refused.value.message == expected
    db.session.rollback()
    assert db.session.scalar(select(func.count(Slot.id))) == 1


def test_database_double_booking_gets_the_booked_message(app, db, specialist, monkeypatch):
    """The partial unique index stops a second acceptance even if the Python check missed it."""
    slot = make_slot(specialist, starts_at=berlin("2026-03-12 10:00"))
    make_consultation(slot, make_user("client"), status="accepted")
    late = make_consultation(slot, make_user("client"))
    monkeypatch.setattr(requests_service, "active_consultations", lambda slot_id: [])
    with app.test_request_context():
        with pytest.raises(requests_service.DomainError) as refused:
            requests_service.accept_request(specialist, late.id)
        assert refused.value.message == requests_service.booked_error().message
    db.session.rollback()
    assert sorted(db.session.scalars(select(Consultation.status))) == ["accepted", "pending"]
