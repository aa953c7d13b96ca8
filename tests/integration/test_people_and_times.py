"""People named as people and one date-time format: every page and email a busy week produces, scanned.

A person reads "Display name @username" (or "@username" alone), never "alice (alice)" nor "Sigmund Freud
(freud)"; a date-time reads "Fri, 20 Nov 2026, 10:00" (the named formats of portal/i18n.py), never a raw
"2026-11-20 10:00" or "2026-11-20T10:00" in the text people read (the `datetime` attributes keep ISO 8601).
"""

import html as html_lib
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db as _db
from portal.models import Consultation, OutboxEmail
from tests.factories import make_slot, make_user

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)  # a Friday

# "dora (dora)", "@dora (@dora)", "freud (Sigmund Freud)" and the like: a name and then, in brackets, itself again
# or a username.
SAME_TWICE = re.compile(r"(@?[\w.-]{3,}) \(@?\1\)")
ISO_DATE_TIME = re.compile(r"\b\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}")
ISO_DATE = re.compile(r"(?<![\w/-])\d{4}-\d{2}-\d{2}(?![\w-])")
HIDDEN = re.compile(r"<(script|style|title)\b.*?</\1>", re.S)
TAG = re.compile(r"<[^>]+>")


def visible_text(page: str) -> str:
    """What a reader sees of a page: no tags, no attributes, entities decoded."""
    return html_lib.unescape(TAG.sub(" ", HIDDEN.sub(" ", page)))


def problems_in(text: str, people) -> list[str]:
    found = [f"twice: {m.group(0)!r}" for m in SAME_TWICE.finditer(text)]
    found += [f"raw date-time: {m.group(0)!r}" for m in ISO_DATE_TIME.finditer(text)]
    found += [f"raw date: {m.group(0)!r}" for m in ISO_DATE.finditer(text)]
    for user in people:
        for old in (f"({user.username})", f"({user.display_name})"):
            if user.display_name and old in text:
                found.append(f"old style: {old!r}")
    return found


@pytest.fixture
def week(clock, client, auth):
    """A week of a practice: requests, an acceptance (and the rejections it brings), a rejection with a reason,
    a changed slot, a deleted slot, a cancellation and a block; four people, two with display names."""
    clock.set(NOW)
    freud = make_user(
        "specialist",
        username="freud",
        display_name="Sigmund Freud",
        specialty="Psychoanalyst",
        timezone="Europe/Berlin",
    )
    jung = make_user("specialist", username="jung", specialty="Analyst", timezone="America/New_York", locale="ru")
    dora = make_user("client", username="dora", timezone="Europe/Berlin")
    hans = make_user("client", username="hans", display_name="Little Hans", timezone="Asia/Vladivostok", locale="ru")
    admin = make_user("admin", username="root", display_name="Anna Admin")
    spare = make_user("client", username="spare")
    day = NOW + timedelta(days=3)
    a, b, c, d = (make_slot(freud, starts_at=day + timedelta(hours=h), note="Room 4") for h in (0, 1, 2, 3))
    e = make_slot(jung, starts_at=day + timedelta(hours=5))
    make_slot(freud, starts_at=day + timedelta(days=1))  # free

    def request(user, *slots):
        auth.login_as(user)
        for slot in slots:
            response = client.submit(f"/client/slots/{slot.id}/request", {}, from_url="/client/slots")
            assert response.status_code == 303
        auth.logout()

    def consultation_of(user, slot) -> int:
        return _db.session.scalar(
            select(Consultation.id).where(Consultation.client_id == user.id, Consultation.slot_id == slot.id)
        )

    request(dora, a, e)
    request(hans, a, b, c, d)
    auth.login_as(freud)
    from_page = "/specialist/consultations"
    client.submit(f"/specialist/consultations/{consultation_of(dora, a)}/accept", {}, from_url=from_page)
    client.submit(
        f"/specialist/consultations/{consultation_of(hans, b)}/reject", {"reason": "Fully booked"}, from_url=from_page
    )
    moved = {"date": "2026-11-23", "start_time": "16:30", "end_time": "17:15", "note": "Room 5", "specialist": "freud"}
    assert client.submit(f"/specialist/slots/{c.id}/edit", moved).status_code == 303
    assert client.submit(f"/specialist/slots/{d.id}/delete", {}).status_code == 303
    auth.logout()
    auth.login_as(dora)
    cancel = f"/client/consultations/{consultation_of(dora, a)}/cancel"
    assert client.submit(cancel, {"reason": "Health"}).status_code == 303
    auth.logout()
    auth.login_as(admin)
    block = f"/admin/users/{spare.id}/block"
    assert client.submit(block, {"reason": "Spam", "confirm": "yes"}).status_code in (302, 303)
    auth.logout()
    return {
        "people": [freud, jung, dora, hans, admin, spare],
        "freud": freud,
        "dora": dora,
        "hans": hans,
        "admin": admin,
        "pending": consultation_of(dora, e),
        "free": a,
    }


def test_pages_name_people_and_times_one_way(client, auth, week):
    pages = {
        "dora": [
            "/client/slots",
            "/client/consultations",
            "/client/consultations?tab=past",
            f"/client/consultations/{week['pending']}/cancel",
            "/specialists",
            "/specialists/freud",
            "/specialists/jung",
            f"/book/{week['free'].id}",
            "/profile",
        ],
        "hans": ["/client/slots", "/client/consultations", "/client/consultations?tab=past", "/profile"],
        "freud": [
            "/specialist/calendar?week=2026-W48",
            "/specialist/slots",
            "/specialist/consultations?status=all",
            f"/specialist/slots/{week['free'].id}/edit",
            "/profile",
        ],
        "admin": ["/admin/users", "/admin/log", "/admin/emails", "/admin"],
    }
    seen = {}
    for who, urls in pages.items():
        auth.login_as(week[who])
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            seen[f"{who} {url}"] = visible_text(response.get_data(as_text=True))
        auth.logout()
    for name, url in (("anonymous", "/specialists"), ("anonymous", "/specialists/freud")):
        seen[f"{name} {url}"] = visible_text(client.get(url).get_data(as_text=True))

    found = {name: problems_in(text, week["people"]) for name, text in seen.items()}
    assert {name: found for name, found in found.items() if found} == {}
    # And named the new way where the page names them.
    assert "Sigmund Freud @freud" in " ".join(seen["dora /client/consultations?tab=past"].split())
    assert "Little Hans @hans" in " ".join(seen["freud /specialist/consultations?status=all"].split())
    assert "@dora" in seen["freud /specialist/consultations?status=all"]
    assert "Mon, 23 Nov 2026, 10:00" in seen["dora /client/consultations?tab=past"]  # Berlin, in the one format
    assert "Anna Admin @root" in " ".join(seen["admin /admin/log"].split())


def test_emails_name_people_and_times_one_way(week):
    emails = _db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)).all()
    kinds = {email.kind for email in emails}
    assert {"new_request", "request_accepted", "request_rejected", "request_cancelled"} <= kinds
    assert {"slot_changed", "slot_deleted"} <= kinds
    found = {
        f"{email.kind} to {email.recipient}": problems_in(email.subject + "\n" + email.body_text, week["people"])
        for email in emails
    }
    assert {name: found for name, found in found.items() if found} == {}
    to_freud = next(e for e in emails if e.kind == "new_request" and e.recipient == "freud@example.com")
    assert "Client: @dora" in to_freud.body_text and "Specialist: Sigmund Freud @freud" in to_freud.body_text
    assert "When: Mon, 23 Nov 2026, 10:00 (Europe/Berlin)" in to_freud.body_text
    to_hans = [e for e in emails if e.kind == "request_rejected" and e.recipient == "hans@example.com"]
    assert len(to_hans) == 2 and all("Sigmund Freud @freud" in e.subject for e in to_hans)
    assert "пн, 23 нояб. 2026, 19:00 (Asia/Vladivostok)" in to_hans[0].body_text  # Freud accepted Dora's
    to_jung = next(e for e in emails if e.recipient == "jung@example.com")
    assert "(America/New York)" in to_jung.body_text  # the zone as every page labels it
