"""Find a slot in Chromium, English and Russian, desktop and phone: a heading per day, *Busy at this time* on
the slots that clash with the client's accepted consultation, and Request coming back to its row without
JavaScript. Screenshots: test-artifacts/screenshots/client-slot-days-*.png."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db as _db
from portal.models import Consultation
from tests.factories import make_consultation, make_slot, make_user
from tests.support.browser import LAYOUT_IDS, LAYOUTS, fits_the_screen, log_in, no_axe_violations

pytestmark = pytest.mark.e2e

NOW = datetime(2026, 4, 14, 6, 30, tzinfo=UTC)  # 09:30 in Moscow
WORDS = {
    "en": {"busy": "Busy at this time", "request": "Request", "sent": "Your request is sent", "pending": "Pending"},
    "ru": {"busy": "В это время вы заняты", "request": "Записаться", "sent": "Заявка отправлена", "pending": "Ожидает"},
}


def seed(lang: str):
    """Three specialists with five free times a day over five days (10:00 to 18:00 Moscow); the client's
    accepted consultation from 14:30 to 15:30 Moscow on the first day, which the free time at 14:00 overlaps."""
    ru = lang == "ru"
    people = [
        ("Анна Соколова" if ru else "Anna Sokolova", "Психолог" if ru else "Psychologist"),
        ("Дмитрий Орлов" if ru else "Dmitry Orlov", "Юрист" if ru else "Lawyer"),
        ("Елена Крылова" if ru else "Elena Krylova", "Семейный консультант" if ru else "Family counsellor"),
    ]
    specialists = [
        make_user("specialist", username=f"spec{n}", display_name=name, specialty=specialty, timezone="Europe/Moscow")
        for n, (name, specialty) in enumerate(people)
    ]
    first_day = datetime(2026, 4, 14, 7, 0, tzinfo=UTC)  # 10:00 Moscow
    for day in range(5):
        for n in range(5):
            make_slot(
                specialists[n % 3],
                starts_at=first_day + timedelta(days=day, hours=2 * n),
                minutes=(45, 60, 50)[n % 3],
                note=("Онлайн" if ru else "Online") if n % 2 else None,
                commit=False,
            )
    client = make_user("client", username="maria_k", locale=lang, timezone="Europe/Moscow")
    _db.session.commit()
    elsewhere = make_user("specialist", username="dr_petrov", display_name="Peter Petrov", specialty=people[0][1])
    accepted = make_slot(elsewhere, starts_at=datetime(2026, 4, 14, 11, 30, tzinfo=UTC), minutes=60)
    make_consultation(accepted, client, status="accepted")
    return client


@pytest.mark.parametrize(("lang", "locale", "width"), LAYOUTS, ids=LAYOUT_IDS)
def test_slot_finder_by_day(new_page, screenshot, clock, lang, locale, width):
    clock.set(NOW)
    client = seed(lang)
    words = WORDS[lang]
    page = new_page(locale=locale, width=width, height=800)
    log_in(page, client.username)
    page.goto("/client/slots")
    headings = page.locator(".slot-day h2 time")
    expect(headings).to_have_count(4)  # a page of 20 rows: the first four days
    days = [headings.nth(i).get_attribute("datetime") for i in range(4)]
    assert days == ["2026-04-14", "2026-04-15", "2026-04-16", "2026-04-17"]
    busy = page.locator("tbody tr", has_text=words["busy"])
    expect(busy).to_have_count(1)
    expect(busy.locator('time[datetime="2026-04-14T14:00+03:00"]')).to_be_visible()
    expect(busy.get_by_role("button")).to_have_count(0)
    fits_the_screen(page)
    if width > 800:
        no_axe_violations(page)
    screenshot(page, f"client-slot-days-{lang}-{'desktop' if width > 800 else 'phone'}")


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_request_comes_back_to_its_row_without_javascript(new_page, screenshot, db, clock, lang):
    clock.set(NOW)
    client = seed(lang)
    words = WORDS[lang]
    page = new_page(locale="ru-RU" if lang == "ru" else "en-US", javascript=False, height=700)
    log_in(page, client.username)
    page.goto("/client/slots")
    row = page.locator("tbody tr").nth(16)  # far down the page
    slot_id = int(row.get_attribute("id").removeprefix("slot-"))
    row.get_by_role("button", name=words["request"]).click()
    expect(page).to_have_url(re.compile(rf"/client/slots#slot-{slot_id}$"))
    row = page.locator(f"#slot-{slot_id}")
    expect(row).to_contain_text(words["pending"])
    assert page.evaluate("window.scrollY") > 400
    expect(row).to_be_in_viewport()
    expect(page.locator(".alert-success")).to_contain_text(words["sent"])
    expect(page.locator(".alert-success")).to_be_in_viewport()  # the answer stays in sight at the row
    page.screenshot(path=str(screenshot(page, f"client-slot-back-at-row-{lang}")), full_page=False)
    made = db.session.scalars(select(Consultation).where(Consultation.slot_id == slot_id)).one()
    assert (made.client_id, made.status) == (client.id, "pending")
