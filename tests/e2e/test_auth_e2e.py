"""In Chromium: register, read the confirmation email the worker sent, open its link, log in, log out —
in English and in Russian — and register with JavaScript off."""

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.models import User
from tests.support.mail import body_of, subject_of

pytestmark = pytest.mark.e2e

PASSWORD = "plum-orbit-canvas-71"
LINK = re.compile(r"http://portal\.test(/confirm/[A-Za-z0-9_\-]+)")


@pytest.fixture
def zoned_page(browser, live_server):
    """A browser context in a given locale and time zone (the register form picks the zone up by script)."""
    contexts = []

    def make(locale: str, timezone_id: str):
        context = browser.new_context(base_url=live_server.url, locale=locale, timezone_id=timezone_id)
        context.set_default_timeout(15000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def stored_user(username: str) -> User:
    db.session.expire_all()
    return db.session.scalars(select(User).where(User.username == username)).one()


TEXT = {
    "en": {
        "register": "Create account",
        "check": "Check your email",
        "subject": "Confirm your email address",
        "confirmed": "your email address is confirmed",
        "login": "Log in",
        "logout": "Log out",
        "logged_out": "You are logged out.",
    },
    "ru": {
        "register": "Создать аккаунт",
        "check": "Проверьте почту",
        "subject": "Подтвердите адрес электронной почты",
        "confirmed": "адрес электронной почты подтверждён",
        "login": "Войти",
        "logout": "Выйти",
        "logged_out": "Вы вышли из системы.",
    },
}


@pytest.mark.parametrize(
    ("lang", "locale", "zone", "role", "home"),
    [
        ("en", "en-US", "America/Chicago", "client", "/client/slots"),
        ("ru", "ru-RU", "Asia/Vladivostok", "specialist", "/specialist/calendar"),
    ],
)
def test_register_confirm_log_in_and_out(zoned_page, mail, rq_worker, lang, locale, zone, role, home):
    text = TEXT[lang]
    username, email = f"e2e_{lang}", f"e2e.{lang}@example.com"
    page = zoned_page(locale, zone)

    page.goto("/register")
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.locator("#timezone")).to_have_value(zone)  # the browser's zone, picked by script
    expect(page.locator("#specialty")).to_be_hidden()  # shown only for specialists
    page.locator("#username").fill(username)
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("#confirm").fill(PASSWORD)
    page.locator("#role").select_option(role)
    page.locator("#language").select_option(lang)  # the Language choice, explicitly
    if role == "specialist":
        expect(page.locator("#specialty")).to_be_visible()
        page.locator("#specialty").fill("Психолог")
    page.get_by_role("button", name=text["register"]).click()
    expect(page.get_by_role("heading", name=text["check"])).to_be_visible()

    (message,) = mail.wait_for(1, to=email)
    body = body_of(message)
    assert subject_of(message) == text["subject"]
    assert username in body and PASSWORD not in body
    link = LINK.search(body).group(1)
    page.goto(link)
    assert urlsplit(page.url).path == "/login"
    expect(page.locator(".alert-success")).to_contain_text(text["confirmed"])

    page.locator("#login").fill(email.upper())
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name=text["login"]).click()
    expect(page.get_by_role("button", name=text["logout"])).to_be_visible()
    assert urlsplit(page.url).path == home
    user = stored_user(username)
    assert (user.role, user.timezone, user.locale) == (role, zone, lang)
    assert user.confirmed_at is not None

    page.get_by_role("button", name=text["logout"]).click()
    expect(page.locator(".alert-info")).to_have_text(text["logged_out"])
    page.goto("/profile")
    assert urlsplit(page.url).path == "/login"


def test_register_with_javascript_off(new_page):
    page = new_page(javascript=False, width=390)
    page.goto("/register")
    expect(page.locator("#timezone")).to_have_value("UTC")  # DEFAULT_TIMEZONE without the script
    expect(page.locator("#specialty")).to_be_visible()  # nothing hides the specialist fields
    page.locator("#username").fill("nojs")
    page.locator("#email").fill("nojs@example.com")
    page.locator("#password").fill("short")
    page.locator("#confirm").fill("short")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#password-error")).to_have_text("Use at least 8 characters.")
    page.locator("#password").fill(PASSWORD)
    page.locator("#confirm").fill(PASSWORD)
    page.locator("#timezone").select_option("Europe/Lisbon")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    user = stored_user("nojs")
    assert (user.email, user.timezone, user.confirmed_at) == ("nojs@example.com", "Europe/Lisbon", None)


@pytest.mark.parametrize(
    ("timezone_id", "expected"), [("Asia/Kolkata", "Asia/Kolkata"), ("Asia/Calcutta", "Asia/Kolkata")]
)
def test_the_register_form_finds_the_browsers_zone_under_its_current_name(zoned_page, timezone_id, expected):
    """Chromium reports some zones by older names (Asia/Calcutta): the select offers only the current ones."""
    page = zoned_page("en-US", timezone_id)
    page.goto("/register")
    expect(page.locator("#timezone")).to_have_value(expected)
    expect(page.locator("#timezone option:checked")).to_have_text("Asia/Kolkata")
