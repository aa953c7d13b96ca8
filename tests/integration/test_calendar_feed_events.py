"""What calendar feeds hold: a booking followed through both feeds against the emailed invitations, each
role's window and statuses, the cap — parsed by `icalendar` and by the strict reader of tests/support/ical.py."""

from datetime import UTC, datetime, timedelta

import ics
import pytest
from sqlalchemy import select

from portal import feeds
from portal.models import Consultation
from tests.factories import make_consultation, make_slot, make_user
from tests.support.feeds import browser, events_of, feed_of, fetch, invitation_of, token_of

T0 = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)


def test_a_booking_through_both_feeds_matches_the_emailed_invitations(app, db, clock, rq_worker, mail):
    clock.set(T0)
    specialist = make_user("specialist", username="dr_feed", display_name="Dr. Feed")
    ann = make_user("client", username="ann", display_name="Ann Smith", timezone="Europe/Berlin")
    slot = make_slot(specialist, starts_at=datetime(2026, 3, 12, 10, 0, tzinfo=UTC), note="Room 4; floor 2")
    doctor, patient = browser(app, specialist), browser(app, ann)
    slot_uid = f"slot-{slot.id}@portal.test"
    assert feed_of(app, db, specialist)[slot_uid]["transp"] == "TRANSPARENT"

    # 1. The client asks for the slot.
    clock.set(T0 + timedelta(minutes=1))
    assert patient.submit(f"/client/slots/{slot.id}/request", {}, from_url="/client/slots").status_code == 303
    consultation = db.session.scalars(select(Consultation)).one()
    uid = f"consultation-{consultation.id}@portal.test"
    mine = feed_of(app, db, ann)
    assert list(mine) == [uid] and mine[uid]["status"] == "TENTATIVE"
    assert mine[uid]["summary"] == "Consultation with Dr. Feed" and mine[uid]["organizer"] is None
    theirs = feed_of(app, db, specialist)
    assert list(theirs) == [slot_uid]
    assert (theirs[slot_uid]["status"], theirs[slot_uid]["summary"]) == ("TENTATIVE", "Pending requests: 1")

    # 2. The specialist accepts: the invitation's UID and SEQUENCE are the feeds'.
    clock.set(T0 + timedelta(minutes=5))
    response = doctor.submit(
        f"/specialist/consultations/{consultation.id}/accept", {}, from_url="/specialist/consultations"
    )
    assert response.status_code == 303
    (accepted_mail,) = mail.wait_for(1, to="ann@example.com")
    invited = invitation_of(accepted_mail)
    mine, theirs = feed_of(app, db, ann)[uid], feed_of(app, db, specialist)
    assert list(theirs) == [uid]
    assert invited["uid"] == uid and invited["status"] == mine["status"] == theirs[uid]["status"] == "CONFIRMED"
    assert invited["sequence"] == mine["sequence"] == theirs[uid]["sequence"] > 0
    assert invited["stamp"] == mine["stamp"] == T0 + timedelta(minutes=5)
    assert mine["organizer"] == "mailto:dr_feed@example.com" and mine["attendee"] == "mailto:ann@example.com"
    assert theirs[uid]["summary"] == "Consultation with Ann Smith (@ann)"
    assert mine["description"].endswith("\nRoom 4; floor 2")
    accepted_sequence = mine["sequence"]

    # 3. The specialist moves the slot an hour later: same UID, higher SEQUENCE, in the email and the feeds.
    clock.set(T0 + timedelta(minutes=10))
    edit = {"date": "2026-03-12", "start_time": "11:00", "end_time": "11:45", "note": "Room 4; floor 2"}
    response = doctor.submit(f"/specialist/slots/{slot.id}/edit", {**edit, "specialist": "dr_feed"})
    assert response.status_code == 303
    moved_mail = mail.wait_for(2, to="ann@example.com")[-1]
    moved = invitation_of(moved_mail)
    mine, theirs = feed_of(app, db, ann)[uid], feed_of(app, db, specialist)[uid]
    assert moved["uid"] == uid and moved["start"] == mine["start"] == theirs["start"] == datetime(
        2026, 3, 12, 11, 0, tzinfo=UTC
    )
    assert moved["sequence"] == mine["sequence"] == theirs["sequence"] > accepted_sequence

    # 4. The client cancels: CANCELLED with a higher SEQUENCE; the specialist's slot is free time again.
    clock.set(T0 + timedelta(minutes=15))
    response = patient.submit(f"/client/consultations/{consultation.id}/cancel", {"reason": "Found_another_specialist"})
    assert response.status_code == 303
    mine = feed_of(app, db, ann)[uid]
    assert mine["status"] == "CANCELLED" and mine["sequence"] > moved["sequence"]
    theirs = feed_of(app, db, specialist)
    assert list(theirs) == [slot_uid]
    assert (theirs[slot_uid]["transp"], theirs[slot_uid]["summary"]) == ("TRANSPARENT", "Free slot")
    mail.wait_for(2, to="dr_feed@example.com")  # the request and the cancellation, before the next test


def test_a_specialists_feed_from_30_days_back(app, db, clock):
    clock.set(T0)
    me = make_user("specialist", username="dr_window")
    someone = make_user("client", username="bob", display_name="Bob")
    free = make_slot(me, starts_at=T0 + timedelta(days=2))
    waiting = make_slot(me, starts_at=T0 + timedelta(days=3))
    for _ in range(2):
        make_consultation(waiting, make_user("client"))
    booked = make_slot(me, starts_at=T0 + timedelta(days=4))
    consultation = make_consultation(booked, someone, status="accepted")
    expired = make_slot(me, starts_at=T0 - timedelta(days=1))
    make_consultation(expired, make_user("client"))
    recent = make_slot(me, starts_at=T0 - timedelta(days=29))
    make_slot(me, starts_at=T0 - timedelta(days=31))  # too old
    gone = make_slot(me, starts_at=T0 + timedelta(days=5))
    gone.deleted_at = T0
    make_slot(make_user("specialist"), starts_at=T0 + timedelta(days=2, hours=3))  # someone else's
    db.session.commit()

    events = feed_of(app, db, me)
    uid = lambda s: f"slot-{s.id}@portal.test"  # noqa: E731
    assert set(events) == {
        uid(free),
        uid(waiting),
        f"consultation-{consultation.id}@portal.test",
        uid(expired),
        uid(recent),
    }
    assert (events[uid(free)]["transp"], events[uid(free)]["status"]) == ("TRANSPARENT", None)
    assert (events[uid(waiting)]["status"], events[uid(waiting)]["summary"]) == ("TENTATIVE", "Pending requests: 2")
    assert events[uid(waiting)]["transp"] is None
    booked_event = events[f"consultation-{consultation.id}@portal.test"]
    assert (booked_event["status"], booked_event["summary"]) == ("CONFIRMED", "Consultation with Bob (@bob)")
    # A request nobody answered before the slot began has expired: the time stayed free.
    assert (events[uid(expired)]["transp"], events[uid(expired)]["summary"]) == ("TRANSPARENT", "Free slot")


def test_a_clients_feed_holds_pending_accepted_and_recently_cancelled(app, db, clock):
    clock.set(T0 - timedelta(days=40))
    me = make_user("client", username="carol", locale="ru")
    doctor = make_user("specialist", username="dr_c", display_name="Доктор Ц")
    old_cancelled = make_consultation(make_slot(doctor, starts_at=T0 + timedelta(days=2)), me)
    old_cancelled.status, old_cancelled.cancelled_at = "cancelled", T0 - timedelta(days=31)
    late = make_consultation(make_slot(doctor, starts_at=T0 - timedelta(days=35)), me, status="accepted")
    expired = make_consultation(make_slot(doctor, starts_at=T0 - timedelta(days=1)), me)
    swept = make_consultation(make_slot(doctor, starts_at=T0 - timedelta(days=1, hours=2)), me, status="expired")
    clock.set(T0)
    pending = make_consultation(make_slot(doctor, starts_at=T0 + timedelta(days=3)), me)
    accepted = make_consultation(make_slot(doctor, starts_at=T0 + timedelta(days=4)), me, status="accepted")
    cancelled = make_consultation(make_slot(doctor, starts_at=T0 - timedelta(days=33)), me, status="cancelled")
    cancelled.cancelled_at = T0 - timedelta(days=2)
    by_specialist = make_consultation(make_slot(doctor, starts_at=T0 + timedelta(days=5)), me)
    by_specialist.status, by_specialist.cancelled_at = "cancelled_by_specialist", T0
    rejected = make_consultation(make_slot(doctor, starts_at=T0 + timedelta(days=6)), me, status="rejected")
    make_consultation(make_slot(doctor, starts_at=T0 + timedelta(days=7)), make_user("client"))  # someone else's
    db.session.commit()

    events = feed_of(app, db, me)
    uid = lambda c: f"consultation-{c.id}@portal.test"  # noqa: E731
    assert set(events) == {uid(c) for c in (pending, accepted, cancelled, by_specialist, expired, swept)}
    assert uid(old_cancelled) not in events and uid(late) not in events and uid(rejected) not in events
    statuses = {key: event["status"] for key, event in events.items()}
    assert statuses == {
        uid(pending): "TENTATIVE",
        uid(accepted): "CONFIRMED",
        uid(cancelled): "CANCELLED",
        uid(by_specialist): "CANCELLED",
        uid(expired): "CANCELLED",
        uid(swept): "CANCELLED",  # stored as expired by the sweep: the same event
    }
    # The other side's address only once accepted; the feed in the owner's language.
    assert events[uid(pending)]["organizer"] is None and events[uid(accepted)]["organizer"] == "mailto:dr_c@example.com"
    assert events[uid(accepted)]["summary"] == "Консультация: Доктор Ц"
    # A request nobody answered changed (expired) when its slot began, though no row changed then.
    assert events[uid(expired)]["stamp"] == T0 - timedelta(days=1)
    assert events[uid(expired)]["sequence"] == int((T0 - timedelta(days=1) - expired.created_at).total_seconds())


def test_an_empty_feed_is_still_a_valid_calendar(app, db):
    user = make_user("client")
    response = fetch(app, f"/feeds/{token_of(db, user)}.ics")
    assert response.status_code == 200 and events_of(response.get_data()) == {}
    assert b"BEGIN:VTIMEZONE" in response.get_data() and b"X-WR-CALNAME:Consultation Portal (@" in response.get_data()


@pytest.mark.parametrize("role", ["client", "specialist"])
def test_past_the_cap_upcoming_soonest_then_latest_past_stay(app, db, clock, monkeypatch, role):
    clock.set(T0)
    monkeypatch.setattr(feeds, "MAX_EVENTS", 4)
    doctor, patient = make_user("specialist"), make_user("client")
    owner = doctor if role == "specialist" else patient
    slots = {days: make_slot(doctor, starts_at=T0 + timedelta(days=days)) for days in (-3, -2, -1, 1, 2, 3)}
    for made in slots.values():
        make_consultation(made, patient)
    events = feed_of(app, db, owner)
    starts = sorted(event["start"] for event in events.values())
    assert starts == [T0 + timedelta(days=days) for days in (-1, 1, 2, 3)]


def test_a_second_independent_parser_reads_the_feed(app, db, clock):
    """`ics` (ics-py) has a parser of its own, unrelated to `icalendar`."""
    clock.set(T0)
    me = make_user("client")
    consultation = make_consultation(make_slot(make_user("specialist"), starts_at=T0 + timedelta(days=1)), me)
    data = fetch(app, f"/feeds/{token_of(db, me)}.ics").get_data(as_text=True)
    (event,) = ics.Calendar(data).events
    assert (event.uid, event.status) == (f"consultation-{consultation.id}@portal.test", "TENTATIVE")
