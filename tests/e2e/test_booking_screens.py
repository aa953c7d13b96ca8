"""The client pages in Chromium, English and Russian, desktop and phone, with screenshots
(test-artifacts/screenshots/client-*.png): slot finder (long list, filtered, empty), my consultations,
the cancel form with an error. Each page is checked for its language, fit, labelled controls and by axe."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from portal.extensions import db as _db
from tests.factories import make_consultation, make_slot, make_user
from tests.support.browser import LAYOUT_IDS, LAYOUTS, check_page, log_in

pytestmark = pytest.mark.e2e

NOW = datetime(2026, 4, 14, 6, 30, tzinfo=UTC)


def seed(lang: str):
    """A client with a history, and a long list of other specialists' free slots."""
    ru = lang == "ru"
    people = [
        ("Анна Соколова" if ru else "Anna Sokolova", "Психолог" if ru else "Psychologist"),
        ("Дмитрий Орлов" if ru else "Dmitry Orlov", "Юрист" if ru else "Lawyer"),
        (
            "Елена Васнецова-Крылова" if ru else "Elena Vasnetsova-Krylova",
            "Семейный консультант" if ru else "Family counsellor",
        ),
    ]
    specialists = [
        make_user("specialist", username=f"spec{n}", display_name=name, specialty=specialty, timezone="Europe/Moscow")
        for n, (name, specialty) in enumerate(people)
    ]
    notes = [
        "Онлайн, ссылка придёт письмом" if ru else "Online, link sent by email",
        None,
        "Кабинет 4" if ru else "Room 4",
    ]
    for n in range(26):
        make_slot(
            specialists[n % 3],
            starts_at=NOW + timedelta(hours=3 + 5 * n),
            minutes=(45, 60, 90)[n % 3],
            note=notes[n % 3],
            commit=False,
        )
    client = make_user("client", username="maria_k", locale=lang, timezone="Europe/Moscow", display_name="Maria")
    _db.session.commit()
    doctor = make_user(
        "specialist", username="dr_petrov", display_name="Пётр Петров" if ru else "Peter Petrov", specialty=people[0][1]
    )
    history = [
        (timedelta(hours=1), "pending", {}),
        (timedelta(days=1, hours=1), "accepted", {}),
        (timedelta(days=2), "rejected", {"reject_reason": "Этот день уже занят" if ru else "That day is full already"}),
        (timedelta(days=3), "cancelled", {"cancel_reason": "Health"}),
        (timedelta(days=4), "cancelled_by_specialist", {}),
        (-timedelta(days=1), "pending", {}),
        (-timedelta(days=2), "accepted", {}),
    ]
    first = None
    for offset, status, extra in history:
        slot = make_slot(doctor, starts_at=NOW + offset + timedelta(minutes=17), minutes=50, commit=False)
        if status == "cancelled_by_specialist":
            slot.deleted_at = NOW
        _db.session.flush()
        made = make_consultation(slot, client, status=status, commit=False, **extra)
        first = first or made
    _db.session.commit()
    return client, first


@pytest.mark.parametrize(("lang", "locale", "width"), LAYOUTS, ids=LAYOUT_IDS)
def test_client_pages_tour(new_page, screenshot, clock, lang, locale, width):
    clock.set(NOW)
    client, pending = seed(lang)
    page = new_page(locale=locale, width=width, height=800)
    log_in(page, client.username)
    name = f"{lang}-{'desktop' if width > 800 else 'phone'}"
    texts = {
        "en": ("Find a slot", "Request", "No free slots match these filters.", "Cancel consultation"),
        "ru": ("Найти время", "Записаться", "Под эти условия свободного времени нет.", "Отменить консультацию"),
    }[lang]

    page.goto("/client/slots")
    expect(page.get_by_role("heading", level=1)).to_have_text(texts[0])
    expect(page.locator("tbody tr")).to_have_count(20)
    expect(page.locator(".slot-day h2").first).to_be_visible()
    expect(page.get_by_role("button", name=texts[1], exact=True).first).to_be_visible()
    check_page(page, lang, width)
    screenshot(page, f"client-slots-{name}")

    page.locator("#specialty").select_option(label="Психолог" if lang == "ru" else "Psychologist")
    page.locator("#date_from").fill("2026-04-15")
    page.locator("form[role=search] button[type=submit]").click()
    expect(page.locator("tbody tr").first).to_be_visible()
    check_page(page, lang, width)
    screenshot(page, f"client-slots-filtered-{name}")

    page.locator("#specialist").fill("nobody")
    page.locator("form[role=search] button[type=submit]").click()
    expect(page.get_by_text(texts[2])).to_be_visible()
    screenshot(page, f"client-slots-empty-{name}")

    page.goto("/client/slots?date_from=2026-04-20&date_to=2026-04-19")
    expect(page.locator("#date_to-error")).to_be_visible()
    screenshot(page, f"client-slots-error-{name}")

    page.goto("/client/consultations")
    expect(page.locator("tbody tr")).to_have_count(2)  # Upcoming: the pending and the accepted one
    check_page(page, lang, width)
    screenshot(page, f"client-consultations-{name}")
    page.get_by_role("link", name="Прошедшие и отменённые" if lang == "ru" else "Past and cancelled").click()
    expect(page).to_have_url(re.compile(r"/client/consultations\?tab=past$"))
    expect(page.locator("tbody tr")).to_have_count(5)
    expect(page.get_by_text("Этот день уже занят" if lang == "ru" else "That day is full already")).to_be_visible()
    check_page(page, lang, width)
    screenshot(page, f"client-consultations-past-{name}")

    page.goto("/profile")
    zone = page.locator("#profile-timezone")
    expect(zone).to_have_value("Europe/Moscow")
    expect(zone.locator("option:checked")).to_have_text("Europe/Moscow")
    check_page(page, lang, width)
    screenshot(page, f"client-profile-{name}")
    zone.evaluate("select => { select.size = 14; select.scrollIntoView(); }")  # to see the groups in a picture
    screenshot(page, f"client-profile-zones-{name}")

    page.goto(f"/client/consultations/{pending.id}/cancel")
    page.get_by_role("button", name=texts[3]).click()
    expect(page.locator("#reason-error")).to_be_visible()
    check_page(page, lang, width)
    screenshot(page, f"client-cancel-{name}")
