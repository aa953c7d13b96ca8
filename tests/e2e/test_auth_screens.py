"""A tour of the account pages in Chromium, English and Russian, desktop and phone, with screenshots
(test-artifacts/screenshots/auth-*.png). Each page is checked for its language, for a header that fits
the screen and for forms whose controls all have labels."""

import pytest
from playwright.sync_api import expect

from portal.models import User
from portal.services import tokens
from tests.factories import make_user
from tests.support.browser import LAYOUT_IDS, LAYOUTS, check_page, log_in

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(("lang", "locale", "width"), LAYOUTS, ids=LAYOUT_IDS)
def test_account_pages_tour(new_page, screenshot, db, app, lang, locale, width):
    page = new_page(locale=locale, width=width, height=800)

    def shot(name: str) -> None:
        check_page(page, lang, width)
        screenshot(page, f"auth-{name}-{lang}-{width}")

    page.goto("/")
    shot("landing")
    page.goto("/register")
    shot("register")
    page.locator("#username").fill("ab")
    page.locator("#email").fill("not-an-address")
    page.locator("#password").fill("password")
    page.locator("#confirm").fill("passw0rd")
    page.locator("#role").select_option("specialist")
    with page.expect_navigation():
        page.locator("#submit").click()
    expect(page.locator(".field-error").first).to_be_visible()
    shot("register-errors")
    page.goto("/register/done")
    shot("registered")

    make_user(username="newbie", email="newbie@example.com", confirmed=False)
    log_in(page, "newbie", signed_in=False)
    expect(page.locator("form[action='/confirm/resend']")).to_be_visible()
    shot("login-unconfirmed")
    page.goto("/login")
    shot("login")
    for _ in range(6):  # five failures, then the refusal
        log_in(page, "newbie", "wrong-password-0", signed_in=False)
    expect(page.locator(".alert-error")).to_be_visible()
    shot("login-throttled")
    page.goto("/confirm/resend")
    shot("resend")
    page.goto("/reset-password")
    shot("reset-request")
    with app.test_request_context():
        raw = tokens.issue_token(db.session.get(User, make_user(username="forgetful").id), tokens.RESET)
        db.session.commit()
    page.goto(f"/reset-password/{raw}")
    page.locator("#new_password").fill("short")
    with page.expect_navigation():
        page.locator("#submit").click()
    shot("reset-password-errors")
    page.goto("/confirm/not-a-token")
    shot("link-invalid")
    page.goto("/no-such-page")
    shot("error-404")

    for role in ("client", "specialist", "admin"):
        user = make_user(role, username=f"{role}_{lang}_{width}", locale=lang, display_name="Anna Karenina")
        context_page = new_page(locale=locale, width=width, height=800)
        page = context_page
        log_in(page, user.username)
        page.goto("/profile")
        expect(page.locator("form[action='/logout']")).to_be_attached()
        shot(f"profile-{role}")
    page.goto("/client/slots")
    shot("error-403")

    blocked = make_user(username=f"blocked_{lang}_{width}", locale=lang)
    page = new_page(locale=locale, width=width, height=800)
    log_in(page, blocked.username)
    db.session.get(User, blocked.id).is_blocked = True
    db.session.commit()
    page.goto("/profile")
    expect(page.locator("h1")).to_have_text("Your account is blocked" if lang == "en" else "Ваш аккаунт заблокирован")
    shot("blocked")
