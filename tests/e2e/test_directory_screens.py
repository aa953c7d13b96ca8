"""The directory, a profile and the booking page in Chromium, English and Russian, desktop and phone, with
screenshots (test-artifacts/screenshots/directory-*.png, profile-*.png, book-*.png, and the message and email
addresses on the lists of requests and consultations). Each page is checked for its language, fit, labelled
controls and by axe."""

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
    """Specialists of several kinds (long names, no display name, no bio, no free time), a busy week of one."""
    ru = lang == "ru"
    people = [
        ("anna_s", "Анна Соколова" if ru else "Anna Sokolova", "Психолог" if ru else "Psychologist", True),
        ("d.orlov", "Дмитрий Орлов" if ru else "Dmitry Orlov", "Юрист" if ru else "Lawyer", False),
        (
            "elena_vk",
            "Елена Васнецова-Крылова" if ru else "Elena Vasnetsova-Krylova",
            "Семейный консультант" if ru else "Family counsellor",
            True,
        ),
        ("coach_max", None, "Коуч" if ru else "Career coach", True),
        ("irina.p", "Ирина Павлова" if ru else "Irina Pavlova", "Психолог" if ru else "Psychologist", False),
    ]
    bio = (
        "Пятнадцать лет практики. Работаю с тревогой, выгоранием и трудными решениями; встречи онлайн "
        "и в кабинете в центре."
        if ru
        else "Fifteen years of practice. I work with anxiety, burnout and hard decisions; sessions online or in my "
        "office in the centre of town."
    )
    specialists = {
        username: make_user(
            "specialist",
            username=username,
            display_name=name,
            specialty=specialty,
            bio=bio if with_bio else None,
            timezone="Europe/Moscow",
            locale=lang,
        )
        for username, name, specialty, with_bio in people
    }
    anna = specialists["anna_s"]
    for day in range(10):
        for hour in (7, 8, 10, 12, 13) if day % 3 else (9, 14):
            starts = (NOW + timedelta(days=day)).replace(hour=hour, minute=0)
            if starts > NOW:
                make_slot(anna, starts_at=starts, minutes=50, note="Онлайн" if ru else "Online", commit=False)
    make_slot(specialists["elena_vk"], starts_at=NOW + timedelta(days=2, hours=3), commit=False)
    make_slot(specialists["coach_max"], starts_at=NOW + timedelta(days=40), commit=False)
    _db.session.commit()
    client = make_user("client", username="maria_k", locale=lang, timezone="Asia/Vladivostok", display_name="Maria")
    free = make_slot(
        anna,
        starts_at=(NOW + timedelta(days=1)).replace(hour=16, minute=0),
        minutes=50,
        note=("Онлайн, ссылка придёт письмом" if ru else "Online, the link comes by email"),
    )
    asked = make_slot(anna, starts_at=(NOW + timedelta(days=1)).replace(hour=18, minute=0), minutes=50)
    make_consultation(
        asked,
        client,
        message="Хотела бы обсудить сон.\nУдобнее онлайн."
        if ru
        else "I would like to talk about sleep.\nOnline suits me.",
    )
    booked = make_slot(specialists["elena_vk"], starts_at=NOW + timedelta(days=3), minutes=60)
    make_consultation(booked, client, status="accepted", message="До встречи!" if ru else "See you then!")
    return client, free, asked


@pytest.mark.parametrize(("lang", "locale", "width"), LAYOUTS, ids=LAYOUT_IDS)
def test_directory_pages_tour(new_page, screenshot, clock, lang, locale, width):
    clock.set(NOW)
    client, free, asked = seed(lang)
    name = f"{lang}-{'desktop' if width > 800 else 'phone'}"
    ru = lang == "ru"
    page = new_page(locale=locale, width=width, height=800)

    page.goto("/")
    page.locator("main").get_by_role("link", name="Найти специалиста" if ru else "Find a specialist").click()
    expect(page).to_have_url(re.compile(r"/specialists$"))
    page.go_back()
    check_page(page, lang, width)
    screenshot(page, f"landing-{name}")

    page.goto("/specialists")
    expect(page.get_by_role("heading", level=1)).to_have_text("Найти специалиста" if ru else "Find a specialist")
    expect(page.locator("li.specialist-card")).to_have_count(5)
    check_page(page, lang, width)
    screenshot(page, f"directory-{name}")

    page.locator("#specialty").select_option(label="Психолог" if ru else "Psychologist")
    page.locator("form[role=search] button[type=submit]").click()
    expect(page.locator("li.specialist-card")).to_have_count(2)
    check_page(page, lang, width)
    screenshot(page, f"directory-filtered-{name}")

    page.locator("#q").fill("nobody")
    page.locator("form[role=search] button[type=submit]").click()
    expect(page.locator("li.specialist-card")).to_have_count(0)
    check_page(page, lang, width)
    screenshot(page, f"directory-empty-{name}")

    page.goto("/specialists/anna_s")
    expect(page.locator("a.time-link").first).to_be_visible()
    check_page(page, lang, width)
    screenshot(page, f"profile-{name}")

    page.goto("/specialists/coach_max")
    expect(page.locator(".empty-window a.btn")).to_be_visible()
    check_page(page, lang, width)
    screenshot(page, f"profile-empty-{name}")

    log_in(page, client.username)
    page.goto(f"/book/{free.id}")
    expect(page.locator("textarea#message")).to_be_visible()
    check_page(page, lang, width)
    screenshot(page, f"book-{name}")

    # The browser stops typing at 500 characters; a crafted form (or an old browser) sends more.
    page.evaluate("document.querySelector('textarea#message').removeAttribute('maxlength')")
    page.locator("textarea#message").fill("x" * 501)
    page.locator("main form button[type=submit]").click()
    expect(page.locator("#message-error")).to_be_visible()
    check_page(page, lang, width)
    screenshot(page, f"book-error-{name}")

    page.goto(f"/book/{asked.id}")
    expect(page.locator(".alert-error")).to_be_visible()
    check_page(page, lang, width)
    screenshot(page, f"book-refused-{name}")

    # Each side's view of the message and, once accepted, of the other's email address.
    page.goto("/client/consultations")
    expect(page.get_by_role("link", name="elena_vk@example.com")).to_be_visible()
    check_page(page, lang, width)
    screenshot(page, f"client-consultations-email-{name}")
    specialist = new_page(locale=locale, width=width, height=800)
    log_in(specialist, "anna_s")
    specialist.goto("/specialist/consultations")
    expect(specialist.locator(".row-message")).to_contain_text("Online suits me." if not ru else "Удобнее онлайн.")
    check_page(specialist, lang, width)
    screenshot(specialist, f"requests-message-{name}")
