"""Calendar feeds: the private address on the profile and its reset, and /feeds/<token>.ics as a calendar app
reads it — parsed by `icalendar` and by the strict reader of tests/support/ical.py, which must agree."""

import os
import re
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta

import psycopg2
import pytest
from icalendar import Calendar
from sqlalchemy import select

from portal import feeds
from portal.models import Consultation, User
from tests.conftest import ROOT
from tests.factories import PASSWORD, make_consultation, make_slot, make_user
from tests.support.ical import parse

T0 = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
FEED_URL = re.compile(r'value="http://portal\.test/feeds/([A-Za-z0-9_-]{43})\.ics"')


def browser(app, user: User | None = None):
    """A browser of its own (cookies apart), logged in through the form when a user is given."""
    new = app.test_client()
    if user is not None:
        response = new.submit("/login", {"login": user.username, "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return new


def token_of(db, user: User) -> str:
    db.session.expire_all()
    return db.session.get(User, user.id).feed_token


def fetch(app, path: str, **headers):
    """GET as a calendar app does: no cookies."""
    return app.test_client().get(path, headers=headers)


def events_of(data: bytes) -> dict[str, dict]:
    """Each event by UID as both parsers read it; the test fails if they read it differently."""
    ours = {}
    for event in parse(data).walk("VEVENT"):
        ours[event.value("UID")] = {
            "status": event.value("STATUS"),
            "sequence": int(event.value("SEQUENCE")),
            "summary": event.value("SUMMARY"),
            "description": event.value("DESCRIPTION"),
            "transp": event.value("TRANSP"),
            "start": datetime.strptime(event.value("DTSTART"), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC),
            "stamp": datetime.strptime(event.value("DTSTAMP"), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC),
            "organizer": event.value("ORGANIZER"),
            "attendee": event.value("ATTENDEE"),
        }
    theirs = {}
    for event in Calendar.from_ical(data).walk("VEVENT"):
        theirs[str(event["uid"])] = {
            "status": str(event["status"]) if "status" in event else None,
            "sequence": int(event["sequence"]),
            "summary": str(event["summary"]),
            "description": str(event["description"]) if "description" in event else None,
            "transp": str(event["transp"]) if "transp" in event else None,
            "start": event.decoded("dtstart"),
            "stamp": event.decoded("dtstamp"),
            "organizer": str(event["organizer"]) if "organizer" in event else None,
            "attendee": str(event["attendee"]) if "attendee" in event else None,
        }
    assert ours == theirs
    return ours


def feed_of(app, db, user: User) -> dict[str, dict]:
    response = fetch(app, f"/feeds/{token_of(db, user)}.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    return events_of(response.get_data())


def invitation_of(message) -> dict:
    """The one event of an email's .ics attachment."""
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            (event,) = events_of(part.get_payload(decode=True)).items()
            return {"uid": event[0], **event[1]}
    raise AssertionError("no calendar in the email")


@pytest.mark.parametrize("role", ["client", "specialist"])
def test_profile_shows_the_address_and_reset_kills_the_old_one(app, db, role):
    user = make_user(role, username=f"feed_{role}")
    me = browser(app, user)
    page = me.get("/profile").get_data(as_text=True)
    old = token_of(db, user)
    assert ">Calendar feed</h2>" in page and FEED_URL.findall(page) == [old]
    assert f'value="webcal://portal.test/feeds/{old}.ics"' in page
    assert f'href="webcal://portal.test/feeds/{old}.ics"' in page and 'value="Reset feed link"' in page
    assert fetch(app, f"/feeds/{old}.ics").status_code == 200

    refused = me.post("/profile", data={"feed-submit": "Reset feed link"})
    assert refused.status_code == 400 and token_of(db, user) == old

    response = me.submit("/profile", {"feed-submit": "Reset feed link"})
    assert response.status_code == 302 and response.headers["Location"] == "/profile"
    new = token_of(db, user)
    assert new != old and len(new) == 43
    page = me.get("/profile").get_data(as_text=True)
    assert "Your feed has a new link. The old one no longer works" in page and FEED_URL.findall(page) == [new]
    assert fetch(app, f"/feeds/{old}.ics").status_code == 404
    assert fetch(app, f"/feeds/{new}.ics").status_code == 200


def test_an_admin_has_no_feed(app, db):
    admin = make_user("admin")
    page = browser(app, admin).get("/profile").get_data(as_text=True)
    assert "Calendar feed" not in page and "/feeds/" not in page
    assert fetch(app, f"/feeds/{token_of(db, admin)}.ics").status_code == 404


def test_russian_profile_section(app, db):
    user = make_user("client", locale="ru")
    page = browser(app, user).get("/profile").get_data(as_text=True)
    assert "Подписка на календарь" in page and 'value="Сбросить ссылку"' in page


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
    assert set(events) == {uid(c) for c in (pending, accepted, cancelled, by_specialist, expired)}
    assert uid(old_cancelled) not in events and uid(late) not in events and uid(rejected) not in events
    statuses = {key: event["status"] for key, event in events.items()}
    assert statuses == {
        uid(pending): "TENTATIVE",
        uid(accepted): "CONFIRMED",
        uid(cancelled): "CANCELLED",
        uid(by_specialist): "CANCELLED",
        uid(expired): "CANCELLED",
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


def test_etag_and_not_modified(app, db, clock):
    clock.set(T0)
    me = make_user("specialist")
    make_slot(me, starts_at=T0 + timedelta(days=1))
    path = f"/feeds/{token_of(db, me)}.ics"
    first = fetch(app, path)
    tag = first.headers["ETag"]
    assert first.status_code == 200 and tag.startswith('"') and first.headers["Cache-Control"] == "private, max-age=300"
    assert "Set-Cookie" not in first.headers
    again = fetch(app, path)
    assert again.get_data() == first.get_data() and again.headers["ETag"] == tag
    unchanged = fetch(app, path, **{"If-None-Match": tag})
    assert unchanged.status_code == 304 and unchanged.get_data() == b""
    make_slot(me, starts_at=T0 + timedelta(days=2))
    changed = fetch(app, path, **{"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["ETag"] != tag and len(events_of(changed.get_data())) == 2


def test_blocked_unconfirmed_unknown_and_malformed_feeds_are_404(app, db):
    specialist = make_user("specialist")
    path = f"/feeds/{token_of(db, specialist)}.ics"
    assert fetch(app, path).status_code == 200
    db.session.get(User, specialist.id).is_blocked = True
    db.session.commit()
    blocked = fetch(app, path)
    assert blocked.status_code == 404 and b"BEGIN:VCALENDAR" not in blocked.get_data()
    db.session.get(User, specialist.id).is_blocked = False
    db.session.commit()
    assert fetch(app, path).status_code == 200  # unblocking gives the same feed back
    unconfirmed = make_user("client", confirmed=False)
    assert fetch(app, f"/feeds/{token_of(db, unconfirmed)}.ics").status_code == 404
    for token in ("A" * 43, "short", token_of(db, specialist) + "x", token_of(db, specialist)[:-1] + "%00"):
        assert fetch(app, f"/feeds/{token}.ics").status_code == 404, token
    assert fetch(app, f"/feeds/{token_of(db, specialist)}").status_code == 404


@pytest.mark.parametrize("role", ["client", "specialist"])
def test_a_feed_is_two_statements_whatever_the_history(app, db, clock, count_queries, role):
    clock.set(T0)
    doctor, patient = make_user("specialist"), make_user("client")
    owner = doctor if role == "specialist" else patient
    path = f"/feeds/{token_of(db, owner)}.ics"

    made = iter(range(1000))

    def add(count: int) -> None:
        for _ in range(count):
            n = next(made)
            slot = make_slot(doctor, starts_at=T0 + timedelta(days=n % 50 - 20, hours=n // 50), commit=False)
            db.session.flush()
            status = ("pending", "accepted", "cancelled")[n % 3]
            extra = {"cancelled_at": T0} if status == "cancelled" else {}
            make_consultation(slot, patient, status=status, commit=False, **extra)
        db.session.commit()

    counts, sizes = [], []
    for size in (3, 90):
        add(size)
        with count_queries() as queries:
            response = fetch(app, path)
        with count_queries() as polled:
            unchanged = fetch(app, path, **{"If-None-Match": response.headers["ETag"]})
        assert (response.status_code, unchanged.status_code) == (200, 304)
        counts.append((queries.count, polled.count))
        sizes.append(len(events_of(response.get_data())))
    assert counts == [(2, 2), (2, 2)], counts
    assert sizes == [3, 93]


def test_a_third_parser_reads_the_feed_when_installed(app, db, clock):
    """`ics` (ics-py) has a parser of its own; it runs where the package is installed."""
    ics = pytest.importorskip("ics")
    clock.set(T0)
    me = make_user("client")
    consultation = make_consultation(make_slot(make_user("specialist"), starts_at=T0 + timedelta(days=1)), me)
    data = fetch(app, f"/feeds/{token_of(db, me)}.ics").get_data(as_text=True)
    (event,) = ics.Calendar(data).events
    assert (event.uid, event.status) == (f"consultation-{consultation.id}@portal.test", "TENTATIVE")


@pytest.fixture
def empty_database():
    """The URL of a new, empty PostgreSQL database, dropped afterwards."""
    base = os.environ["TEST_DATABASE_URL"]
    name = f"portal_feed_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(base)
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        yield base.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def test_the_migration_gives_existing_accounts_a_feed_each(worker_env, empty_database):
    env = {**worker_env, "DATABASE_URL": empty_database, "REDIS_URL": ""}

    def migrate(*args: str) -> None:
        command = [sys.executable, "-m", "flask", "--app", "wsgi", "db", *args]
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr

    def users(cur) -> list:
        cur.execute("SELECT username, feed_token FROM users ORDER BY id")
        return cur.fetchall()

    migrate("upgrade", "0002")
    with psycopg2.connect(empty_database) as conn, conn.cursor() as cur:
        for name in ("early", "bird"):
            cur.execute(
                "INSERT INTO users (username, email, password_hash, role, timezone, locale, is_blocked,"
                " session_token, created_at) VALUES (%s, %s, 'x', 'client', 'UTC', 'en', false, %s, now())",
                (name, f"{name}@example.com", name),
            )
    conn.close()
    migrate("upgrade", "0005")
    with psycopg2.connect(empty_database) as conn, conn.cursor() as cur:
        found = users(cur)
        assert [name for name, _ in found] == ["early", "bird"]
        tokens = [token for _, token in found]
        assert len(set(tokens)) == 2 and all(feeds.TOKEN_SHAPE.fullmatch(token) for token in tokens)
        with pytest.raises(psycopg2.errors.UniqueViolation):
            cur.execute("UPDATE users SET feed_token = %s WHERE username = 'bird'", (tokens[0],))
    conn.close()
    migrate("downgrade", "0002")
    with psycopg2.connect(empty_database) as conn, conn.cursor() as cur:
        cur.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'users'")
        assert "feed_token" not in {row[0] for row in cur.fetchall()}
    conn.close()
