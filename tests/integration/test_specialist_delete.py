"""Deleting a slot: confirmed on its own page, consultations cancelled by the specialist, clients emailed."""

import pytest
from icalendar import Calendar
from sqlalchemy import select

from portal.ics import consultation_uid
from portal.models import Consultation, OutboxEmail, Slot
from tests.factories import make_consultation, make_slot, make_user
from tests.support.mail import body_of, calendar_part
from tests.support.pages import flashes
from tests.support.slots import berlin, berlin_specialist

DELETE = "/specialist/slots/{}/delete"


@pytest.fixture
def specialist(auth, clock):
    return berlin_specialist(auth, clock)


def test_delete_button_leads_to_a_confirmation_page(client, specialist):
    slot = make_slot(specialist, starts_at=berlin("2026-03-12 10:00"))
    table = client.get("/specialist/slots").get_data(as_text=True)
    assert f'<form method="get" action="/specialist/slots/{slot.id}/delete"' in table
    make_consultation(slot, make_user("client"))
    make_consultation(slot, make_user("client"))
    page = client.get(DELETE.format(slot.id)).get_data(as_text=True)
    assert "2 clients have a pending or accepted request on this slot" in page
    assert 'method="post"' in page and ">Delete</button>" in page


def test_confirmation_of_a_slot_nobody_asked_for(client, specialist):
    slot = make_slot(specialist, starts_at=berlin("2026-03-12 10:00"))
    assert "nobody will be notified" in client.get(DELETE.format(slot.id)).get_data(as_text=True)


def test_deleting_a_booked_slot_cancels_and_emails_its_clients(app, client, auth, db, specialist, rq_worker, mail):
    slot = make_slot(specialist, starts_at=berlin("2026-03-12 10:00"))
    booked = make_user("client", username="booked_one", email="booked@example.com", timezone="Asia/Tokyo")
    waiting = make_user("client", username="waiting_one", email="waiting@example.com", locale="ru")
    earlier = make_user("client", username="earlier_one")
    accepted = make_consultation(slot, booked, status="accepted")
    pending = make_consultation(slot, waiting)
    rejected = make_consultation(slot, earlier, status="rejected")

    response = client.submit(DELETE.format(slot.id), {})
    assert response.status_code == 303
    assert "2 clients were notified" in flashes(client.get(response.headers["Location"]).get_data(as_text=True))

    db.session.expire_all()
    assert db.session.get(Slot, slot.id).deleted_at == berlin("2026-03-10 08:00")
    statuses = {c.id: c.status for c in db.session.scalars(select(Consultation))}
    assert statuses == {
        accepted.id: "cancelled_by_specialist",
        pending.id: "cancelled_by_specialist",
        rejected.id: "rejected",
    }
    assert db.session.get(Consultation, accepted.id).cancelled_at == berlin("2026-03-10 08:00")

    (to_booked,) = mail.wait_for(1, to="booked@example.com")
    text = body_of(to_booked)
    assert "dr_berlin" in text and "booked_one" in text and "cancelled" in text
    assert "Thu, 12 Mar 2026, 18:00 (Asia/Tokyo)" in text and "http://portal.test/client/consultations" in text
    # The accepted consultation was in the client's calendar: the email cancels it there (same UID).
    assert "The attached calendar file (.ics) removes it from your calendar." in text
    (part,) = [p for p in to_booked.walk() if p.get_content_type() == "text/calendar"]
    assert part.get_param("method") == "CANCEL"
    cancel = Calendar.from_ical(calendar_part(to_booked))
    (event,) = cancel.walk("VEVENT")
    assert str(cancel["method"]) == "CANCEL" and str(event["status"]) == "CANCELLED"
    with app.test_request_context():
        assert str(event["uid"]) == consultation_uid(accepted)
    (to_waiting,) = mail.wait_for(1, to="waiting@example.com")
    assert "отменена" in body_of(to_waiting) or "отменён" in body_of(to_waiting)
    assert calendar_part(to_waiting) == ""  # a request never made it into a calendar
    assert mail.to("earlier_one@example.com") == []
    assert {e.state for e in db.session.scalars(select(OutboxEmail))} <= {"queued", "sent"}

    # The slot is gone from every listing of the specialist...
    assert 'class="slot ' not in client.get("/specialist/calendar?week=2026-W11").get_data(as_text=True)
    assert "You have no upcoming slots." in client.get("/specialist/slots").get_data(as_text=True)
    assert client.get(f"/specialist/slots/{slot.id}/edit").status_code == 404
    # ...but stays in the client's history.
    auth.logout()
    with app.app_context():
        auth.login_as(booked)
        history = client.get("/client/consultations?tab=past").get_data(as_text=True) + client.get(
            "/client/consultations"
        ).get_data(as_text=True)
        assert "Cancelled by specialist" in history and "dr_berlin" in history


def test_delete_needs_the_csrf_token(client, db, specialist):
    slot = make_slot(specialist, starts_at=berlin("2026-03-12 10:00"))
    assert client.post(DELETE.format(slot.id), data={}).status_code == 400
    db.session.expire_all()
    assert db.session.get(Slot, slot.id).deleted_at is None


def test_another_specialists_slot_cannot_be_deleted(client, db, specialist):
    theirs = make_slot(make_user("specialist"), starts_at=berlin("2026-03-12 10:00"))
    assert client.get(DELETE.format(theirs.id)).status_code == 404
    assert client.submit(DELETE.format(theirs.id), {}, from_url="/specialist/slots/new").status_code == 404
    db.session.expire_all()
    assert db.session.get(Slot, theirs.id).deleted_at is None


def test_a_started_slot_stays_in_history(client, db, clock, specialist):
    slot = make_slot(specialist, starts_at=berlin("2026-03-10 07:30"), minutes=60)
    make_consultation(slot, make_user("client"), status="accepted")
    page = client.get(DELETE.format(slot.id)).get_data(as_text=True)
    assert "already started" in page and ">Delete</button>" not in page
    response = client.submit(DELETE.format(slot.id), {}, from_url="/specialist/slots/new")
    assert response.status_code == 303
    assert "already started" in flashes(client.get(response.headers["Location"]).get_data(as_text=True))
    db.session.expire_all()
    assert db.session.get(Slot, slot.id).deleted_at is None
    assert db.session.scalar(select(Consultation.status)) == "accepted"


def test_a_deleted_slot_cannot_be_deleted_twice(client, db, specialist):
    slot = make_slot(specialist, starts_at=berlin("2026-03-12 10:00"))
    token_page = DELETE.format(slot.id)
    assert client.submit(DELETE.format(slot.id), {}, from_url=token_page).status_code == 303
    assert client.submit(DELETE.format(slot.id), {}, from_url="/specialist/slots/new").status_code == 404
