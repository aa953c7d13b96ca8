"""Reading calendar feeds in tests: as a calendar app fetches them, through two parsers that must agree."""

from datetime import UTC, datetime

from icalendar import Calendar

from portal.models import User
from tests.support.auth import post_login
from tests.support.ical import parse


def browser(app, user: User | None = None):
    """A browser of its own (cookies apart), logged in through the form when a user is given."""
    new = app.test_client()
    if user is not None:
        response = post_login(new, user.username)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return new


def token_of(db, user: User) -> str:
    """The user's feed token as the database has it now."""
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
    """The user's feed, fetched (200, text/calendar) and read by both parsers."""
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
