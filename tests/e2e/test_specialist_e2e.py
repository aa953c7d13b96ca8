"""In Chromium: a specialist publishes a week of slots, edits, transfers and deletes them, answers requests;
the clients' emails arrive through the real worker."""

from datetime import UTC, datetime

import pytest
from icalendar import Calendar
from playwright.sync_api import expect
from sqlalchemy import select

from portal.models import Consultation, Slot
from tests.factories import make_consultation, make_user
from tests.support.browser import log_in
from tests.support.mail import body_of

pytestmark = pytest.mark.e2e

NOW = datetime(2026, 12, 8, 8, 0, tzinfo=UTC)  # Tuesday 09:00 in Berlin
DAYS = ["2026-12-14", "2026-12-15", "2026-12-16", "2026-12-17", "2026-12-18"]  # Monday–Friday of 2026-W51


def slot_on(db, day: str) -> Slot:
    db.session.expire_all()
    slots = db.session.scalars(select(Slot).where(Slot.deleted_at.is_(None)).order_by(Slot.starts_at))
    return next(s for s in slots if s.starts_at.isoformat().startswith(day))


def publish(page, day: str, start: str, end: str, note: str, repeat: int) -> None:
    page.get_by_role("link", name="+ Add slot").click()
    page.get_by_label("Date").fill(day)
    page.get_by_label("Start time").fill(start)
    page.get_by_label("End time").fill(end)
    page.get_by_label("Note").fill(note)
    page.get_by_label("Repeat weekly for").fill(str(repeat))
    page.get_by_role("button", name="Save slot").click()
    expect(page.locator(".alert-success")).to_be_visible()


def test_specialist_week(page, db, clock, rq_worker, mail):
    clock.set(NOW)
    make_user("specialist", username="e2e_doc", email="doc@example.com", timezone="Europe/Berlin")
    make_user("specialist", username="colleague", timezone="Europe/Berlin")
    log_in(page, "e2e_doc")
    assert page.url.endswith("/specialist/calendar")

    # A week of slots, each repeated once on the following week.
    for day in DAYS:
        publish(page, day, "09:00", "09:45", "Online", repeat=1)
    expect(page.locator(".alert-success")).to_contain_text("2 slots are saved.")
    page.goto("/specialist/calendar?week=2026-W51")
    slots = page.locator("li.slot")
    expect(slots).to_have_count(5)
    for n in range(5):
        expect(slots.nth(n)).to_contain_text("09:00–09:45")
        expect(slots.nth(n)).to_contain_text("45 min")
        expect(slots.nth(n)).to_contain_text("free")
    page.get_by_role("link", name="Next week").click()
    expect(page.locator("li.slot")).to_have_count(5)

    names = ("tess", "wes", "anna", "bob", "cleo", "mona")
    clients = {name: make_user("client", username=name, email=f"{name}@example.com") for name in names}
    make_consultation(slot_on(db, "2026-12-15"), clients["tess"])
    make_consultation(slot_on(db, "2026-12-16"), clients["wes"])
    first, second = (make_consultation(slot_on(db, "2026-12-17"), clients[n]) for n in ("anna", "bob"))
    make_consultation(slot_on(db, "2026-12-18"), clients["cleo"])
    make_consultation(slot_on(db, "2026-12-14"), clients["mona"], status="accepted")

    # Edit: Tuesday's slot runs longer. A slot with a request waiting opens its requests, which link to its edit page.
    page.goto("/specialist/calendar?week=2026-W51")
    page.locator("section[aria-labelledby='day-2026-12-15'] li.slot a").click()
    expect(page.locator("tbody tr:not(.slot-head)")).to_contain_text("tess")
    page.get_by_role("link", name="Edit this slot").click()
    expect(page.get_by_role("heading", name="Edit slot")).to_be_visible()
    expect(page.locator(".alert-warning")).to_contain_text("1 client has a pending or accepted request")
    page.get_by_label("End time").fill("10:15")
    page.get_by_role("button", name="Save slot").click()
    expect(page.locator(".alert-success")).to_contain_text("The slot is saved.")
    tuesday = page.locator("section[aria-labelledby='day-2026-12-15'] li.slot")
    expect(tuesday).to_contain_text("09:00–10:15")
    expect(tuesday).to_contain_text("75 min")
    expect(tuesday).to_contain_text("1 pending")

    # Transfer: Wednesday's slot goes to a colleague.
    page.locator("section[aria-labelledby='day-2026-12-16'] li.slot a").click()
    page.get_by_role("link", name="Edit this slot").click()
    page.get_by_label("Specialist").fill("colleague")
    page.get_by_role("button", name="Save slot").click()
    expect(page.locator(".alert-success")).to_contain_text("The slot now belongs to colleague.")
    expect(page.locator("section[aria-labelledby='day-2026-12-16'] li.slot")).to_have_count(0)

    # Delete: Monday's booked slot, from the slot table through the confirmation page.
    page.get_by_role("link", name="Slots", exact=True).click()
    monday_row = page.locator("tbody tr").filter(has_text="14 Dec")
    expect(monday_row).to_contain_text("booked")
    expect(monday_row).to_contain_text("mona")
    monday_row.get_by_role("button", name="Delete").click()
    expect(page.get_by_role("heading", name="Delete slot")).to_be_visible()
    expect(page.locator(".alert-warning")).to_contain_text("1 client has a pending or accepted request")
    page.get_by_role("button", name="Delete").click()
    expect(page.locator(".alert-success")).to_contain_text("The slot is deleted; 1 client was notified.")

    # Requests: accept Anna (Bob, on the same slot, is turned down), reject Cleo with a reason.
    page.get_by_role("link", name="Requests").click()
    rows = page.locator("tbody tr:not(.slot-head)")  # under a heading row per slot
    expect(rows).to_have_count(4)
    rows.filter(has_text="anna").get_by_role("button", name="Accept").click()
    expect(page.locator(".alert-success")).to_contain_text(
        "You accepted the request of @anna. 1 other request on this slot was rejected."
    )
    expect(rows).to_have_count(2)
    cleo = rows.filter(has_text="cleo")
    cleo.get_by_label("Reason").fill("Away that day")
    cleo.get_by_role("button", name="Reject").click()
    expect(page.locator(".alert-success")).to_contain_text("You rejected the request of @cleo.")
    expect(rows).to_have_count(1)
    page.get_by_role("link", name="Accepted").click()
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("anna")

    db.session.expire_all()
    assert db.session.get(Consultation, first.id).status == "accepted"
    assert db.session.get(Consultation, second.id).status == "rejected"

    # The emails, delivered by the worker to the SMTP sink.
    (accepted,) = mail.wait_for(1, to="anna@example.com")
    assert "e2e_doc accepted your request" in body_of(accepted)
    ics = next(p for p in accepted.walk() if p.get_content_type() == "text/calendar")
    event = Calendar.from_ical(ics.get_payload(decode=True)).walk("VEVENT")[0]
    assert event.decoded("dtstart") == datetime(2026, 12, 17, 8, 0, tzinfo=UTC)
    assert "accepted another request" in body_of(mail.wait_for(1, to="bob@example.com")[0])
    assert "> Away that day" in body_of(mail.wait_for(1, to="cleo@example.com")[0]).splitlines()
    assert "removed the slot of your accepted consultation" in body_of(mail.wait_for(1, to="mona@example.com")[0])
    changed = body_of(mail.wait_for(1, to="tess@example.com")[0])
    assert "e2e_doc changed the slot" in changed and "75 min" in changed
    assert "@e2e_doc handed the slot you asked for over to @colleague." in body_of(
        mail.wait_for(1, to="wes@example.com")[0]
    )
