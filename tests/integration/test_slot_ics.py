"""The .ics invitation of an accepted consultation."""

from datetime import UTC, datetime, timedelta

from icalendar import Calendar

from portal.clock import utcnow
from portal.i18n import force_locale
from portal.ics import consultation_ics
from tests.factories import make_consultation, make_slot, make_user


def test_invitation_fields(app, db, clock):
    clock.set(datetime(2026, 3, 10, 8, 0, tzinfo=UTC))
    specialist = make_user("specialist", username="dr_ics", display_name="Dr. Ics, PhD")
    client = make_user("client", username="ann")
    slot = make_slot(specialist, starts_at=datetime(2026, 3, 12, 9, 0, tzinfo=UTC), minutes=45, note="Room 4")
    consultation = make_consultation(slot, client, status="accepted")
    with app.test_request_context():
        text = consultation_ics(consultation)
        again = consultation_ics(consultation)
        with force_locale("ru"):
            russian = consultation_ics(consultation)
    calendar = Calendar.from_ical(text)
    assert str(calendar["method"]) == "REQUEST" and str(calendar["version"]) == "2.0"
    (event,) = calendar.walk("VEVENT")
    assert str(event["uid"]) == f"consultation-{consultation.id}@portal.test"
    assert str(Calendar.from_ical(again).walk("VEVENT")[0]["uid"]) == str(event["uid"])
    assert "DTSTART:20260312T090000Z" in text and "DTEND:20260312T094500Z" in text
    assert event.decoded("dtstart") == datetime(2026, 3, 12, 9, 0, tzinfo=UTC)
    assert event.decoded("dtend") - event.decoded("dtstart") == timedelta(minutes=45)
    assert str(event["summary"]) == "Consultation with Dr. Ics, PhD"
    assert str(event["organizer"]) == "mailto:dr_ics@example.com"
    assert str(event["attendee"]) == "mailto:ann@example.com"
    assert event["attendee"].params["ROLE"] == "REQ-PARTICIPANT"
    assert "dr_ics" in str(event["description"]) and "ann" in str(event["description"])
    assert "Room 4" in str(event["description"])
    assert str(event["url"]) == "http://portal.test/client/consultations"
    assert "Консультация" in str(Calendar.from_ical(russian).walk("VEVENT")[0]["summary"])


def test_invitation_loads_what_the_caller_did_not(app, db):
    specialist = make_user("specialist", username="lazy_doc")
    consultation = make_consultation(make_slot(specialist), make_user("client"), status="accepted")
    db.session.expire_all()
    with app.test_request_context():
        assert "ORGANIZER;CN=lazy_doc:mailto:lazy_doc@example.com" in consultation_ics(consultation)


def test_cancellation_removes_the_same_event(app, db, clock):
    clock.set(datetime(2026, 3, 10, 8, 0, tzinfo=UTC))
    requested = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)
    slot, client = make_slot(make_user("specialist")), make_user("client")
    consultation = make_consultation(slot, client, status="accepted", created_at=requested)
    # Each in a request of its own (a new app context: "now" is fixed per request).
    with app.app_context(), app.test_request_context():  # accepted at 08:00
        invitation = Calendar.from_ical(consultation_ics(consultation))
    clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=UTC))
    with app.app_context(), app.test_request_context():  # the slot deleted an hour later, as delete_slot does it
        consultation.status, consultation.cancelled_at = "cancelled_by_specialist", utcnow()
        cancellation = Calendar.from_ical(consultation_ics(consultation, cancel=True))
    (invited,), (cancelled,) = invitation.walk("VEVENT"), cancellation.walk("VEVENT")
    assert (str(invitation["method"]), str(invited["status"])) == ("REQUEST", "CONFIRMED")
    assert (str(cancellation["method"]), str(cancelled["status"])) == ("CANCEL", "CANCELLED")
    assert str(cancelled["uid"]) == str(invited["uid"])
    assert int(cancelled["sequence"]) > int(invited["sequence"])
