"""In Chromium: two-factor authentication turned on by reading the secret off the set-up page, then logging in
with a code computed here and with a recovery code (good once); wrong codes throttled like failed logins; an
admin resets it and the log shows it; emails on and off reach the mail server; ADMIN_REQUIRE_2FA keeps an admin
on the set-up page; the pages by keyboard without JavaScript. (axe and the screens: test_two_factor_screens.py.)"""

import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.models import ModerationLog, User
from tests.factories import PASSWORD, make_user
from tests.support.browser import log_in, submit_login
from tests.support.mail import subject_of

pytestmark = pytest.mark.e2e

T0 = datetime(2026, 12, 9, 10, 0, 5, tzinfo=UTC)


def read_secret(page) -> str:
    """The secret as the page shows it for typing by hand (groups of four)."""
    return page.locator("#secret").inner_text().replace(" ", "")


def turn_on(page, clock) -> tuple[str, list[str]]:
    """From the profile: open the set-up, read the secret, send the app's code; (secret, recovery codes)."""
    page.goto("/profile")
    page.get_by_role("link", name="Set up two-factor authentication").click()
    expect(page.get_by_role("heading", name="Two-factor authentication")).to_be_visible()
    expect(page.locator("figure.qr svg")).to_be_visible()
    secret = read_secret(page)
    page.get_by_label("Code").fill(pyotp.TOTP(secret).at(clock()))
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_role("heading", name="Recovery codes")).to_be_visible()
    codes = page.locator(".recovery-codes code").all_inner_texts()
    assert len(codes) == 10 and all(re.fullmatch(r"[0-9a-f]{5}-[0-9a-f]{5}", c) for c in codes)
    return secret, codes


def log_out(page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()


def password_then_code(page, username: str, code: str) -> None:
    page.goto("/login")
    submit_login(page, username)
    expect(page.get_by_role("heading", name="Authentication code")).to_be_visible()
    page.get_by_label("Authentication code").fill(code)
    page.get_by_role("button", name="Log in").click()


def test_turn_on_log_in_with_a_code_and_a_recovery_code_then_an_admin_resets_it(
    page, new_page, db, clock, mail, rq_worker
):
    clock.set(T0)
    make_user("client", username="vera", email="vera@example.com", timezone="Europe/Berlin")
    make_user("admin", username="root")
    log_in(page, "vera")
    secret, codes = turn_on(page, clock)
    (on,) = mail.wait_for(1, to="vera@example.com")
    assert subject_of(on) == "Two-factor authentication is on"
    page.get_by_role("link", name="I have saved my codes").click()
    expect(page.locator("#two-factor-title ~ p .status")).to_have_text("On")
    log_out(page)

    # The password alone does not log in any more: the code step comes, and a code computed here passes it.
    clock.set(T0 + timedelta(minutes=1))
    password_then_code(page, "vera", pyotp.TOTP(secret).at(clock()))
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    assert page.url.endswith("/client/slots")
    log_out(page)

    clock.set(T0 + timedelta(minutes=2))
    password_then_code(page, "vera", codes[0])
    expect(page.locator(".alert")).to_contain_text("Recovery codes left: 9.")
    log_out(page)
    password_then_code(page, "vera", codes[0])  # spent
    expect(page.locator(".field-error")).to_contain_text("This code is not right.")
    assert "/login/code" in page.url

    # Another browser guessing codes: after the account's five failures even the right code is refused.
    guesser = new_page()
    guesser.goto("/login")
    submit_login(guesser, "vera")
    for n in range(5):
        guesser.get_by_label("Authentication code").fill(f"{n:06d}")
        guesser.get_by_role("button", name="Log in").click()
        expect(guesser.locator(".field-error")).to_be_visible()
    guesser.get_by_label("Authentication code").fill(pyotp.TOTP(secret).at(clock()))
    with guesser.expect_response(lambda r: r.request.is_navigation_request()) as answer:
        guesser.get_by_role("button", name="Log in").click()
    assert answer.value.status == 429
    expect(guesser.locator(".field-error")).to_contain_text("Too many failed attempts")

    admin = new_page()
    log_in(admin, "root")
    admin.get_by_role("navigation", name="Main").get_by_role("link", name="Users").click()
    vera_id = db.session.scalars(select(User.id).where(User.username == "vera")).one()
    admin.locator(f"#user-{vera_id}").get_by_role("button", name="Reset two-factor vera").click()
    expect(admin.locator(".alert-success")).to_contain_text("Two-factor authentication of @vera is off")
    admin.get_by_role("link", name="Moderation log").click()
    row = admin.locator("tbody tr").first
    expect(row).to_contain_text("Two-factor reset")
    expect(row).to_contain_text("root")
    expect(row).to_contain_text("vera")
    assert db.session.scalars(select(ModerationLog.action)).all() == ["reset_two_factor"]
    off = [m for m in mail.wait_for(2, to="vera@example.com") if m is not on]
    assert [subject_of(m) for m in off] == ["Two-factor authentication is off"]

    # The password alone again.
    log_in(page, "vera")


def test_admin_require_2fa_keeps_an_admin_on_the_set_up_page(page, app, db, clock, monkeypatch):
    monkeypatch.setitem(app.config, "ADMIN_REQUIRE_2FA", True)
    clock.set(T0)
    make_user("admin", username="root")
    page.goto("/login")
    submit_login(page, "root")
    expect(page.get_by_role("heading", name="Two-factor authentication")).to_be_visible()
    expect(page.locator(".alert")).to_contain_text("Administrators must turn on two-factor authentication")
    for path in ("/admin", "/admin/users", "/admin/emails", "/profile"):
        page.goto(path)
        assert page.url.endswith("/profile/two-factor"), path
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Users").click()
    assert page.url.endswith("/profile/two-factor")
    page.get_by_label("Code").fill(pyotp.TOTP(read_secret(page)).at(clock()))
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_role("heading", name="Recovery codes")).to_be_visible()
    page.goto("/admin/users")
    expect(page.get_by_role("heading", name="Users")).to_be_visible()


def test_two_factor_by_keyboard_without_javascript(new_page, db, clock):
    clock.set(T0)
    make_user("specialist", username="kira")
    page = new_page(javascript=False)
    log_in(page, "kira")
    page.goto("/profile/two-factor")
    secret = read_secret(page)
    page.locator("body").focus()
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.id === 'code'"):
            break
    else:
        raise AssertionError("the code field never took the focus")
    page.keyboard.type(pyotp.TOTP(secret).at(clock()))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Recovery codes")).to_be_visible()
    page.get_by_role("button", name="Log out").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    clock.set(T0 + timedelta(seconds=45))
    page.goto("/login")
    page.locator("#login").fill("kira")
    page.locator("#password").fill(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.locator("#code").focus()
    page.keyboard.type(pyotp.TOTP(secret).at(clock()))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    assert page.url.endswith("/specialist/calendar")
