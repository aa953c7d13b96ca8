"""Editing and transferring a slot: the resulting slot is validated as a whole; clients holding it are emailed."""

from datetime import UTC, datetime, time

import pytest
from sqlalchemy import select

from portal.extensions import db as _db
from portal.models import OutboxEmail, Slot
from portal.services import slots as slots_service
from portal.services.errors import DomainError
from tests.factories import make_consultation, make_slot, make_user
from tests.support.mail import all_emails_delivered
from tests.support.pages import field_error, flashes
from tests.support.slots import berlin, berlin_specialist

EDIT = "/specialist/slots/{}/edit"


def edit_data(date: str, start: str, end: str, note: str = "", specialist: str = "dr_berlin") -> dict:
    return {"date": date, "start_time": start, "end_time": end, "note": note, "specialist": specialist}


def fresh(slot: Slot) -> Slot:
    _db.session.expire_all()
    return _db.session.get(Slot, slot.id)


def outbox(kind: str | None = None) -> list[OutboxEmail]:
    stmt = select(OutboxEmail).order_by(OutboxEmail.id)
    if kind:
        stmt = stmt.where(OutboxEmail.kind == kind)
    return list(_db.session.scalars(stmt))


@pytest.fixture
def specialist(auth, clock):
    return berlin_specialist(auth, clock)


@pytest.fixture
def slot(specialist):
    return make_slot(specialist, starts_at=berlin("2026-03-12 10:00"), minutes=45, note="Online")


def test_edit_page_is_prefilled_in_the_specialists_zone(client, specialist, slot):
    page = client.get(EDIT.format(slot.id)).get_data(as_text=True)
    for value in ('value="2026-03-12"', 'value="10:00"', 'value="10:45"', 'value="Online"', 'value="dr_berlin"'):
        assert value in page
    assert "Specialist" in page and "Save slot" in page and "Delete" in page


def test_edit_moves_the_slot(client, db, specialist, slot):
    response = client.submit(EDIT.format(slot.id), edit_data("2026-03-13", "11:00", "12:00", note="In person"))
    assert response.status_code == 303
    slot = fresh(slot)
    assert (slot.starts_at, slot.ends_at, slot.note) == (
        datetime(2026, 3, 13, 10, 0, tzinfo=UTC),
        datetime(2026, 3, 13, 11, 0, tzinfo=UTC),
        "In person",
    )
    assert outbox() == []  # nobody had asked for it


def test_clearing_the_note(client, db, specialist, slot):
    assert client.submit(EDIT.format(slot.id), edit_data("2026-03-12", "10:00", "10:45")).status_code == 303
    assert fresh(slot).note is None


def test_unchanged_form_changes_nothing_and_emails_nobody(client, db, specialist, slot):
    make_consultation(slot, make_user("client"))
    response = client.submit(EDIT.format(slot.id), edit_data("2026-03-12", "10:00", "10:45", note="Online"))
    assert response.status_code == 303
    assert "Nothing was changed." in flashes(client.get(response.headers["Location"]).get_data(as_text=True))
    assert outbox() == []


def test_partial_edit_of_the_end_is_checked_against_the_stored_start(db, app, specialist, slot):
    with app.test_request_context():
        with pytest.raises(DomainError) as refused:
            slots_service.edit_slot(specialist, slot.id, end=time(9, 30))
        assert refused.value.field == "end_time"
        _db.session.rollback()
        edited, changed = slots_service.edit_slot(specialist, slot.id, end=time(11, 30))
        assert changed and edited.starts_at == berlin("2026-03-12 10:00") and edited.duration_minutes == 90
        _db.session.rollback()
        with pytest.raises(DomainError) as refused:
            slots_service.edit_slot(specialist, slot.id, end=time(22, 1))  # 12 h 1 min from the stored start
        assert refused.value.field == "start_time" and "12 hours" in refused.value.message


@pytest.mark.parametrize(
    "data,field,words",
    [
        (edit_data("2026-03-12", "10:00", "09:59"), "end_time", "after the start time"),
        (edit_data("2026-03-09", "10:00", "10:45"), "start_time", "already passed"),
        (edit_data("2026-03-12", "10:00", "23:00"), "start_time", "12 hours"),
        (edit_data("2027-03-12", "10:00", "10:45"), "start_time", "365 days"),
        (edit_data("2026-03-12", "10:30", "11:30"), "start_time", "overlaps your slot Thu, 12 Mar 2026, 11:00–12:00"),
        (edit_data("2026-03-29", "02:00", "02:45"), "start_time", "does not exist"),
        (edit_data("0001-01-01", "00:10", "00:45"), "start_time", "already passed"),
        (edit_data("9999-12-31", "10:00", "10:45"), "start_time", "365 days"),
        (edit_data("2026-03-12", "10:00", "10:45", note="n" * 256), "note", "255"),
        (edit_data("2026-03-12", "10:00", "10:45", specialist=""), "specialist", "username"),
        (
            edit_data("2026-03-12", "10:00", "10:45", specialist="nobody_here"),
            "specialist",
            "no user named nobody_here",
        ),
        (edit_data("2026-03-12", "10:00", "10:45", specialist="a_client"), "specialist", "active specialist"),
        (edit_data("2026-03-12", "10:00", "10:45", specialist="blocked_doc"), "specialist", "active specialist"),
        (edit_data("2026-03-12", "10:00", "10:45", specialist="new_doc"), "specialist", "active specialist"),
        (
            edit_data("2026-03-12", "10:00", "10:45", specialist="busy_doc"),
            "specialist",
            "overlaps a slot of @busy_doc",
        ),
    ],
)
def test_edit_refusals_change_nothing(client, db, specialist, slot, data, field, words):
    make_slot(specialist, starts_at=berlin("2026-03-12 11:00"), minutes=60)
    make_user("client", username="a_client")
    make_user("specialist", username="blocked_doc", blocked=True)
    make_user("specialist", username="new_doc", confirmed=False)
    make_slot(make_user("specialist", username="busy_doc"), starts_at=berlin("2026-03-12 10:30"), minutes=60)
    make_consultation(slot, make_user("client"))
    before = (slot.starts_at, slot.ends_at, slot.note, slot.specialist_id)
    response = client.submit(EDIT.format(slot.id), data)
    assert response.status_code == 422
    error = field_error(response.get_data(as_text=True), field)
    assert words.lower() in error.lower(), (error, flashes(response.get_data(as_text=True)))
    slot = fresh(slot)
    assert (slot.starts_at, slot.ends_at, slot.note, slot.specialist_id) == before
    assert outbox() == []


def test_edit_emails_clients_with_pending_or_accepted_requests(client, db, specialist, slot, rq_worker, mail):
    waiting = make_user("client", username="waiting", timezone="Asia/Tokyo")
    booked = make_user("client", username="booked", locale="ru", timezone="Europe/Moscow")
    gone = make_user("client", username="gone")
    other = make_slot(specialist, starts_at=berlin("2026-03-12 14:00"))
    make_consultation(slot, waiting)
    make_consultation(other, booked, status="accepted")
    make_consultation(slot, gone, status="cancelled")
    assert client.submit(EDIT.format(slot.id), edit_data("2026-03-12", "16:00", "16:45")).status_code == 303
    assert client.submit(EDIT.format(other.id), edit_data("2026-03-12", "14:00", "15:00")).status_code == 303
    emails = outbox("slot_changed")
    assert [e.recipient for e in emails] == ["waiting@example.com", "booked@example.com"]
    to_waiting, to_booked = emails
    assert "dr_berlin" in to_waiting.body_text and "waiting" in to_waiting.body_text
    # 16:00 in Berlin is midnight in Tokyo: the recipient's zone, not the specialist's.
    assert "When: Fri, 13 Mar 2026, 00:00 (Asia/Tokyo)" in to_waiting.body_text
    assert "Before the change: Thu, 12 Mar 2026, 18:00 (Asia/Tokyo), 45 min" in to_waiting.body_text
    assert "/client/consultations" in to_waiting.body_text and to_waiting.ics is None
    # The accepted one is in Russian, in Moscow time, with an updated invitation.
    assert "dr_berlin" in to_booked.body_text and "booked" in to_booked.body_text
    assert "16:00 (Europe/Moscow)" in to_booked.body_text and "чт, " in to_booked.body_text
    assert "BEGIN:VEVENT" in to_booked.ics and "DTEND:20260312T140000Z" in to_booked.ics
    assert len(all_emails_delivered(db, mail)) == 2


def test_transfer_moves_the_slot_to_the_other_specialist(app, client, auth, db, specialist, slot, rq_worker, mail):
    colleague = make_user("specialist", username="Dr_Colleague", timezone="Europe/London")
    holder = make_user("client", username="holder")
    make_consultation(slot, holder, status="accepted")
    response = client.submit(EDIT.format(slot.id), edit_data("2026-03-12", "10:00", "10:45", specialist="dr_colleague"))
    assert response.status_code == 303
    assert fresh(slot).specialist_id == colleague.id
    assert "The slot now belongs to Dr_Colleague." in flashes(
        client.get(response.headers["Location"]).get_data(as_text=True)
    )
    assert client.get(EDIT.format(slot.id)).status_code == 404
    assert "10:45" not in client.get("/specialist/calendar?week=2026-W11").get_data(as_text=True)
    (email,) = outbox("slot_changed")
    assert "dr_berlin" in email.body_text and "Dr_Colleague" in email.body_text and "holder" in email.body_text
    assert "mailto:dr_colleague@example.com" in email.ics.replace("\r\n ", "").lower()
    auth.logout()
    with app.app_context():  # a new person: nothing cached from the first one's requests
        auth.login_as(colleague)
        page = client.get("/specialist/calendar?week=2026-W11").get_data(as_text=True)
        assert '<time datetime="2026-03-12T09:00+00:00">09:00</time>' in page and "booked · @holder" in page
        assert client.get(EDIT.format(slot.id)).status_code == 200
    (delivered,) = all_emails_delivered(db, mail)
    assert delivered["To"] == "holder@example.com"


def test_transfer_to_yourself_in_other_letters_is_no_transfer(client, db, specialist, slot):
    response = client.submit(EDIT.format(slot.id), edit_data("2026-03-12", "10:00", "10:45", "Online", "DR_BERLIN"))
    assert response.status_code == 303
    assert fresh(slot).specialist_id == specialist.id


def test_another_specialists_slot_is_not_found(client, db, specialist):
    theirs = make_slot(make_user("specialist"), starts_at=berlin("2026-03-12 10:00"))
    assert client.get(EDIT.format(theirs.id)).status_code == 404
    response = client.submit(
        EDIT.format(theirs.id), edit_data("2026-03-12", "11:00", "12:00"), from_url="/specialist/slots/new"
    )
    assert response.status_code == 404
    assert fresh(theirs).starts_at == berlin("2026-03-12 10:00")
    assert client.get(EDIT.format(999999)).status_code == 404


def test_a_started_slot_cannot_be_edited(client, db, clock, specialist, slot):
    clock.set(berlin("2026-03-12 10:05"))
    page = client.get(EDIT.format(slot.id)).get_data(as_text=True)
    assert "already started" in page and 'name="start_time"' not in page
    response = client.submit(
        EDIT.format(slot.id), edit_data("2026-03-13", "10:00", "10:45"), from_url="/specialist/slots/new"
    )
    assert response.status_code == 422
    assert "already started" in flashes(response.get_data(as_text=True))
    assert fresh(slot).starts_at == berlin("2026-03-12 10:00")


def test_an_autumn_slot_in_the_second_0230_survives_an_unchanged_edit(client, db, specialist):
    # 02:30 on 2026-10-25 happens twice in Berlin; the stored one is the later (winter time) occurrence.
    second = make_slot(specialist, starts_at=datetime(2026, 10, 25, 1, 30, tzinfo=UTC), minutes=30)
    response = client.submit(EDIT.format(second.id), edit_data("2026-10-25", "02:30", "03:00", note="moved note"))
    assert response.status_code == 303
    second = fresh(second)
    assert second.starts_at == datetime(2026, 10, 25, 1, 30, tzinfo=UTC) and second.note == "moved note"
