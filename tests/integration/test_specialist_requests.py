"""Answering requests: accept (others on the slot rejected) and reject, with emails and their invitation."""

import pytest
from icalendar import Calendar
from sqlalchemy import select

from portal.models import Consultation, OutboxEmail
from tests.factories import make_consultation, make_slot, make_user
from tests.support.mail import all_emails_delivered, body_of, calendar_part
from tests.support.pages import flashes
from tests.support.slots import berlin, berlin_specialist

REQUESTS = "/specialist/consultations"


def accept(client, consultation_id: int, from_url: str = REQUESTS):
    return client.submit(f"{REQUESTS}/{consultation_id}/accept", {"next": from_url}, from_url=from_url)


def reject(client, consultation_id: int, reason: str = "", from_url: str = REQUESTS):
    return client.submit(
        f"{REQUESTS}/{consultation_id}/reject", {"reason": reason, "next": from_url}, from_url=from_url
    )


def statuses(db) -> dict[str, str]:
    db.session.expire_all()
    rows = db.session.execute(select(Consultation.id, Consultation.status)).all()
    return {ident: status for ident, status in rows}


@pytest.fixture
def specialist(auth, clock):
    return berlin_specialist(auth, clock, display_name="Dr. Berlin")


@pytest.fixture
def slot(specialist):
    return make_slot(specialist, starts_at=berlin("2026-03-12 10:00"), minutes=45)


def test_requests_page_lists_pending_requests_with_buttons(client, specialist, slot):
    asker = make_user("client", username="asker", display_name="Ann Asker")
    make_consultation(slot, asker)
    page = client.get(REQUESTS).get_data(as_text=True)
    assert "asker" in page and "Ann Asker" in page
    assert '<time datetime="2026-03-12T10:00+01:00">' in page and "Pending" in page
    assert ">Accept</button>" in page and ">Reject</button>" in page and "Reason" in page
    for tab in ("pending", "accepted", "rejected", "cancelled", "all"):
        assert f'href="/specialist/consultations?status={tab}"' in page


def test_accept_books_the_slot_and_rejects_the_others(client, db, specialist, slot, rq_worker, mail):
    chosen = make_user("client", username="chosen", timezone="America/New_York")
    second = make_user("client", username="second", locale="ru", timezone="Europe/Moscow")
    third = make_user("client", username="third")
    c1, c2, c3 = (make_consultation(slot, user) for user in (chosen, second, third))
    other_slot = make_slot(specialist, starts_at=berlin("2026-03-12 14:00"))
    elsewhere = make_consultation(other_slot, make_user("client"))

    response = accept(client, c1.id)
    assert response.status_code == 303 and response.headers["Location"] == REQUESTS
    shown = flashes(client.get(REQUESTS).get_data(as_text=True))
    assert "You accepted the request of @chosen. 2 other requests on this slot were rejected." in shown
    assert statuses(db) == {c1.id: "accepted", c2.id: "rejected", c3.id: "rejected", elsewhere.id: "pending"}

    (accepted_mail,) = mail.wait_for(1, to="chosen@example.com")
    text = body_of(accepted_mail)
    assert "dr_berlin" in text and "chosen" in text and "accepted" in text
    assert "Thu, 12 Mar 2026, 05:00 (America/New York)" in text
    assert "http://portal.test/client/consultations" in text
    event = Calendar.from_ical(calendar_part(accepted_mail)).walk("VEVENT")[0]
    assert str(event["uid"]).startswith(f"consultation-{c1.id}@")
    assert event.decoded("dtstart") == berlin("2026-03-12 10:00") and event.decoded("dtend") == berlin(
        "2026-03-12 10:45"
    )
    assert "Dr. Berlin" in str(event["summary"])
    (rejected_mail,) = mail.wait_for(1, to="second@example.com")
    text = body_of(rejected_mail)
    assert "dr_berlin" in text and "second" in text and "12:00 (Europe/Moscow)" in text
    assert "принял(а) другую заявку" in text
    assert mail.wait_for(1, to="third@example.com")


def test_the_accepted_slot_shows_as_booked(client, db, specialist, slot, rq_worker, mail):
    c = make_consultation(slot, make_user("client", username="chosen"))
    accept(client, c.id)
    assert "booked · @chosen" in client.get("/specialist/calendar?week=2026-W11").get_data(as_text=True)
    table = client.get("/specialist/slots").get_data(as_text=True)
    assert "booked" in table and "chosen" in table
    all_emails_delivered(db, mail)


def test_reject_with_a_reason(client, db, specialist, slot, rq_worker, mail):
    c = make_consultation(slot, make_user("client", username="hopeful"))
    assert reject(client, c.id, reason="  I am away that week  ").status_code == 303
    db.session.expire_all()
    stored = db.session.get(Consultation, c.id)
    assert (stored.status, stored.reject_reason, stored.rejected_at) == (
        "rejected",
        "I am away that week",
        berlin("2026-03-10 08:00"),
    )
    (message,) = mail.wait_for(1, to="hopeful@example.com")
    text = body_of(message)
    assert "Their message:\n> I am away that week\n" in text.replace("\r\n", "\n")
    assert "dr_berlin" in text and "hopeful" in text
    all_emails_delivered(db, mail)
    page = client.get(REQUESTS + "?status=rejected").get_data(as_text=True)
    assert "hopeful" in page and "Rejected" in page and "I am away that week" in page


def test_reject_without_a_reason(client, db, specialist, slot, rq_worker, mail):
    c = make_consultation(slot, make_user("client"))
    assert reject(client, c.id).status_code == 303
    assert statuses(db)[c.id] == "rejected"
    (email,) = db.session.scalars(select(OutboxEmail))
    assert email.kind == "request_rejected" and "Reason" not in email.body_text
    all_emails_delivered(db, mail)


def test_too_long_reason_is_refused(client, db, specialist, slot):
    c = make_consultation(slot, make_user("client"))
    response = reject(client, c.id, reason="r" * 501)
    assert "at most 500 characters" in flashes(client.get(response.headers["Location"]).get_data(as_text=True))
    assert statuses(db)[c.id] == "pending"


@pytest.mark.parametrize("status", ["accepted", "rejected", "cancelled", "cancelled_by_specialist"])
@pytest.mark.parametrize("action", [accept, reject])
def test_only_pending_requests_can_be_answered(client, db, specialist, slot, status, action):
    c = make_consultation(slot, make_user("client"), status=status)
    response = action(client, c.id)
    assert response.status_code == 303
    assert "no longer pending" in flashes(client.get(REQUESTS).get_data(as_text=True))
    assert statuses(db)[c.id] == status
    assert db.session.scalars(select(OutboxEmail)).all() == []


@pytest.mark.parametrize("action", [accept, reject])
def test_requests_of_a_started_slot_cannot_be_answered(client, db, clock, specialist, action):
    started = make_slot(specialist, starts_at=berlin("2026-03-10 07:45"), minutes=60)
    c = make_consultation(started, make_user("client"))
    action(client, c.id)
    assert "already started" in flashes(client.get(REQUESTS).get_data(as_text=True))
    assert statuses(db)[c.id] == "pending"


def test_a_started_slots_pending_request_shows_as_expired_without_buttons(client, specialist):
    started = make_slot(specialist, starts_at=berlin("2026-03-10 07:45"), minutes=60)
    make_consultation(started, make_user("client", username="too_late"))
    assert "too_late" not in client.get(REQUESTS).get_data(as_text=True)
    page = client.get(REQUESTS + "?status=all").get_data(as_text=True)
    assert "too_late" in page and "Expired" in page and ">Accept</button>" not in page


def test_a_blocked_clients_request_cannot_be_accepted(client, db, specialist, slot):
    c = make_consultation(slot, make_user("client", username="shady", blocked=True))
    accept(client, c.id)
    assert "The account of @shady is blocked" in flashes(client.get(REQUESTS).get_data(as_text=True))
    assert statuses(db)[c.id] == "pending"


def test_a_client_booked_elsewhere_at_that_time_cannot_be_accepted(client, db, specialist, slot, rq_worker, mail):
    busy = make_user("client", username="busy_bee")
    elsewhere = make_slot(make_user("specialist"), starts_at=berlin("2026-03-12 10:30"), minutes=60)
    make_consultation(elsewhere, busy, status="accepted")
    c = make_consultation(slot, busy)
    accept(client, c.id)
    assert "busy_bee already has an accepted consultation at this time." in flashes(
        client.get(REQUESTS).get_data(as_text=True)
    )
    assert statuses(db)[c.id] == "pending"
    touching = make_slot(specialist, starts_at=berlin("2026-03-12 11:30"), minutes=30)
    next_one = make_consultation(touching, busy)
    accept(client, next_one.id)
    assert statuses(db)[next_one.id] == "accepted"
    all_emails_delivered(db, mail)


def test_a_second_accept_on_a_booked_slot_is_refused(client, db, specialist, slot):
    first = make_consultation(slot, make_user("client"), status="accepted")
    # A pending request left over on a booked slot (e.g. written before the booking by older code).
    late = make_consultation(slot, make_user("client"))
    accept(client, late.id)
    assert "already booked" in flashes(client.get(REQUESTS).get_data(as_text=True))
    assert statuses(db) == {first.id: "accepted", late.id: "pending"}


def test_another_specialists_requests_are_not_found(client, db, specialist):
    theirs = make_consultation(make_slot(make_user("specialist")), make_user("client", username="not_mine"))
    assert accept(client, theirs.id).status_code == 404
    assert reject(client, theirs.id).status_code == 404
    assert client.submit(f"{REQUESTS}/999999/accept", {}, from_url=REQUESTS).status_code == 404
    assert statuses(db)[theirs.id] == "pending"
    assert "not_mine" not in client.get(REQUESTS + "?status=all").get_data(as_text=True)


def test_next_only_goes_to_this_site(client, db, specialist, slot, rq_worker, mail):
    c = make_consultation(slot, make_user("client"))
    response = client.submit(f"{REQUESTS}/{c.id}/reject", {"next": "https://evil.example/"}, from_url=REQUESTS)
    assert response.headers["Location"] == REQUESTS
    all_emails_delivered(db, mail)


def test_unknown_tab_shows_pending(client, specialist, slot):
    make_consultation(slot, make_user("client", username="waiting"))
    response = client.get(REQUESTS + "?status=<script>")
    assert response.status_code == 200 and "waiting" in response.get_data(as_text=True)
