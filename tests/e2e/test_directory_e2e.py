"""In Chromium: an anonymous visitor finds a specialist in the directory, filters by specialty, opens the profile,
picks a time, logs in and comes back to the booking page, writes a message and requests; the specialist reads
the message and accepts; each then sees the other's email address. In English with JavaScript, in Russian
without it; and the booking done with the keyboard alone."""

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db as _db
from portal.models import Consultation, OutboxEmail
from tests.factories import make_slot, make_user
from tests.support.browser import log_in, submit_login

pytestmark = pytest.mark.e2e

NOW = datetime(2026, 9, 14, 6, 0, tzinfo=UTC)  # Monday 09:00 in Moscow
START = datetime(2026, 9, 15, 7, 0, tzinfo=UTC)  # Tuesday 10:00 in Moscow, 17:00 in Vladivostok

TEXT = {
    "en": {
        "specialty": "Specialty",
        "family": "Family counsellor",
        "filter": "Filter",
        "book_title": "Request a consultation",
        "message_label": "Message to the specialist",
        "request": "Request consultation",
        "sent": "Your request is sent to Lena Orlova @dr_lena.",
        "pending": "Pending",
        "accept": "Accept",
        "accepted": "Accepted",
        "message": "I would like to talk about my sleep.",
    },
    "ru": {
        "specialty": "Специальность",
        "family": "Семейный консультант",
        "filter": "Показать",
        "book_title": "Запись на консультацию",
        "message_label": "Сообщение специалисту",
        "request": "Отправить заявку",
        "sent": "Заявка отправлена: Lena Orlova @dr_lena.",
        "pending": "Ожидает",
        "accept": "Принять",
        "accepted": "Принята",
        "message": "Хочу поговорить о сне.",
    },
}


@pytest.mark.parametrize(("lang", "javascript"), [("en", True), ("ru", False)], ids=["en-js", "ru-no-js"])
def test_find_a_specialist_and_book(new_page, clock, lang, javascript):
    clock.set(NOW)
    t = TEXT[lang]
    browser_locale = {"en": "en-US", "ru": "ru-RU"}[lang]
    lena = make_user(
        "specialist",
        username="dr_lena",
        display_name="Lena Orlova",
        specialty=t["family"],
        bio="Fifteen years of practice with couples and families.",
        timezone="Europe/Moscow",
        locale=lang,
    )
    oleg = make_user("specialist", username="oleg.k", specialty="Lawyer", locale=lang)
    make_user("client", username="kate", timezone="Asia/Vladivostok", locale=lang)
    slot = make_slot(lena, starts_at=START, minutes=50, note="Online")
    make_slot(lena, starts_at=START.replace(hour=9))
    make_slot(oleg, starts_at=START)

    # An anonymous visitor opens the directory and narrows it to family counsellors.
    visitor = new_page(locale=browser_locale, javascript=javascript)
    visitor.goto("/")
    visitor.locator("main").get_by_role("link", name=re.compile("Find a specialist|Найти специалиста")).click()
    expect(visitor).to_have_url(re.compile(r"/specialists$"))
    expect(visitor.locator("li.specialist-card")).to_have_count(2)
    visitor.get_by_label(t["specialty"]).select_option(label=t["family"])
    visitor.get_by_role("button", name=t["filter"]).click()
    cards = visitor.locator("li.specialist-card")
    expect(cards).to_have_count(1)
    expect(cards).to_contain_text("@dr_lena")
    expect(cards.locator("time")).to_have_attribute("datetime", "2026-09-15T07:00+00:00")

    # The profile: times by day in the portal's zone (UTC) for a visitor; the first one is picked.
    cards.get_by_role("link", name="Lena Orlova").click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Lena Orlova")
    expect(visitor.locator("h3 time")).to_have_attribute("datetime", "2026-09-15")
    first = visitor.locator("a.time-link").first
    expect(first).to_have_text("07:00")
    first.click()

    # Sent to log in, and back to the booking page, now in Kate's zone.
    expect(visitor).to_have_url(re.compile(rf"/login\?next=%2Fbook%2F{slot.id}$"))
    submit_login(visitor, "kate")
    expect(visitor).to_have_url(re.compile(rf"/book/{slot.id}$"))
    expect(visitor.get_by_role("heading", level=1)).to_have_text(t["book_title"])
    expect(visitor.locator('time[datetime="2026-09-15T17:00+10:00"]')).to_be_visible()
    expect(visitor.locator('time[datetime="2026-09-15T10:00+03:00"]')).to_be_visible()
    visitor.get_by_label(t["message_label"]).fill(t["message"])
    visitor.get_by_role("button", name=t["request"]).click()
    expect(visitor).to_have_url(re.compile(r"/client/consultations$"))
    expect(visitor.locator(".alert-success")).to_contain_text(t["sent"])
    expect(visitor.locator("tbody tr").first).to_contain_text(t["pending"])

    _db.session.expire_all()
    made = _db.session.scalars(select(Consultation)).one()
    assert (made.slot_id, made.status, made.message) == (slot.id, "pending", t["message"])
    email = _db.session.scalars(select(OutboxEmail).where(OutboxEmail.recipient == "dr_lena@example.com")).one()
    assert t["message"] in email.body_text

    # The specialist reads the message on the request and accepts; Kate's address is on it now.
    specialist = new_page(locale=browser_locale, javascript=javascript)
    log_in(specialist, "dr_lena")
    specialist.goto("/specialist/consultations")
    row = specialist.locator("tbody tr", has_text="kate")
    expect(row).to_contain_text(t["message"])
    expect(row).not_to_contain_text("kate@example.com")
    row.get_by_role("button", name=t["accept"]).click()
    expect(specialist.locator(".alert-success")).to_be_visible()
    specialist.goto("/specialist/consultations?status=accepted")
    row = specialist.locator("tbody tr", has_text="kate")
    expect(row.get_by_role("link", name="kate@example.com")).to_have_attribute("href", "mailto:kate@example.com")

    # And Kate sees the specialist's address on her accepted consultation, with its start.
    visitor.goto("/client/consultations")
    row = visitor.locator("tbody tr").first
    expect(row).to_contain_text(t["accepted"])
    expect(row.get_by_role("link", name="dr_lena@example.com")).to_be_visible()
    expect(row.locator('time[datetime="2026-09-15T17:00+10:00"]')).to_be_visible()


def tab_to(page, selector: str, limit: int = 60) -> None:
    """Press Tab until the focused element matches the selector; fail if it never comes."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => !!document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} never took the focus in {limit} presses of Tab on {page.url}")


def focus_is_visible(page) -> bool:
    """The focused element looks otherwise than when it is not focused (an outline or a box shadow)."""
    return page.evaluate(
        """() => { const el = document.activeElement;
          const look = () => { const s = getComputedStyle(el); return s.outlineStyle + s.boxShadow; };
          const focused = look(); el.blur(); const resting = look(); el.focus(); return focused !== resting; }"""
    )


def test_booking_by_keyboard_only(new_page, clock):
    clock.set(NOW)
    lena = make_user("specialist", username="dr_lena", display_name="Lena Orlova", timezone="Europe/Moscow")
    make_user("specialist", username="oleg.k", display_name="Oleg K")
    slot = make_slot(lena, starts_at=START)
    make_user("client", username="kate", timezone="Asia/Vladivostok")
    page = new_page()
    log_in(page, "kate")

    page.goto("/specialists")
    tab_to(page, "a.card-link[href='/specialists/dr_lena']")
    assert focus_is_visible(page)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    tab_to(page, f"a.time-link[href='/book/{slot.id}']")
    assert focus_is_visible(page)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    tab_to(page, "textarea#message")
    assert focus_is_visible(page)
    page.keyboard.type("Typed with the keyboard.")
    tab_to(page, "main form button[type=submit]")
    assert focus_is_visible(page)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator(".alert-success")).to_contain_text("Your request is sent to Lena Orlova @dr_lena.")
    _db.session.expire_all()
    made = _db.session.scalars(select(Consultation)).one()
    assert (made.slot_id, made.message) == (slot.id, "Typed with the keyboard.")
