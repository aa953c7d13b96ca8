"""The reschedule and move pages in Chromium, English and Russian, desktop and phone, with screenshots
(test-artifacts/screenshots/reschedule-*.png, move-*.png), each checked for its language, fit, labelled controls
and (on desktop) by axe."""

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.factories import make_consultation, make_slot, make_user
from tests.support.browser import LAYOUT_IDS, LAYOUTS, check_page, log_in

pytestmark = pytest.mark.e2e

NOW = datetime(2026, 4, 14, 6, 30, tzinfo=UTC)  # Tuesday 09:30 in Moscow


def seed(lang: str):
    """A specialist with working days of free sessions for two weeks, a client with an accepted consultation."""
    ru = lang == "ru"
    doctor = make_user(
        "specialist",
        username="dr_petrov",
        display_name="Пётр Петров" if ru else "Peter Petrov",
        timezone="Europe/Moscow",
        locale=lang,
    )
    client = make_user("client", username="maria_k", locale=lang, timezone="Europe/Moscow", display_name="Maria")
    for day in range(1, 15):
        if day % 7 in (4, 5):  # a weekend without sessions
            continue
        for hour in (0, 1, 2, 4, 5, 6, 7):
            make_slot(doctor, starts_at=NOW + timedelta(days=day, hours=hour, minutes=-30), minutes=50, commit=False)
    booked_slot = make_slot(doctor, starts_at=NOW + timedelta(days=1, hours=9, minutes=-30), minutes=50)
    return doctor, client, make_consultation(booked_slot, client, "accepted")


@pytest.mark.parametrize(("lang", "locale", "width"), LAYOUTS, ids=LAYOUT_IDS)
def test_reschedule_and_move_pages(new_page, screenshot, clock, lang, locale, width):
    clock.set(NOW)
    doctor, client, booked = seed(lang)
    name = f"{lang}-{'desktop' if width > 800 else 'phone'}"
    texts = {
        "en": ("Reschedule", "Request new time", "Move consultation", "Choose a time."),
        "ru": ("Перенести", "Запросить новое время", "Перенести консультацию", "Выберите время."),
    }[lang]

    page = new_page(locale=locale, width=width, height=800)
    log_in(page, client.username)
    page.goto("/client/consultations")
    page.locator(f"tr#consultation-{booked.id}").get_by_role("link", name=texts[0]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(texts[0])
    expect(page.locator(".choice-day")).to_have_count(9)  # today is Tuesday: 13 days ahead in the window, 4 of them off
    check_page(page, lang, width)
    screenshot(page, f"reschedule-{name}")
    page.get_by_role("button", name=texts[1]).click()
    expect(page.locator("#slot_id-error")).to_have_text(texts[3])
    check_page(page, lang, width)
    screenshot(page, f"reschedule-error-{name}")

    page = new_page(locale=locale, width=width, height=800)
    log_in(page, doctor.username)
    page.goto(f"/specialist/consultations/{booked.id}/move")
    expect(page.get_by_role("heading", level=1)).to_have_text(texts[2])
    page.locator(".choice-label").nth(3).click()
    check_page(page, lang, width)
    screenshot(page, f"move-{name}")
    page.goto("/specialist/consultations?status=accepted")
    check_page(page, lang, width)
    screenshot(page, f"requests-accepted-{name}")
