"""The two-factor pages in Chromium, English and Russian, desktop and phone, with screenshots
(test-artifacts/screenshots/two-factor-*.png): the set-up with its QR code and a wrong code, the recovery codes,
the login's code step with an error; and the admins' email page on the same screens. Each passes the shared page
check (language, nothing scrolls sideways, every control labelled, axe on the desktop)."""

from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from playwright.sync_api import expect

from portal.models import OutboxEmail
from tests.factories import make_user
from tests.support.browser import LAYOUT_IDS, LAYOUTS, check_page, log_in, submit_login

pytestmark = pytest.mark.e2e

T0 = datetime(2026, 12, 9, 10, 0, 5, tzinfo=UTC)


@pytest.mark.parametrize(("lang", "locale", "width"), LAYOUTS, ids=LAYOUT_IDS)
def test_two_factor_pages_tour(new_page, screenshot, db, clock, lang, locale, width):
    clock.set(T0)
    user = make_user("client", username="sofia", locale=lang)
    root = make_user("admin", username="root", locale=lang)
    emails = [("two_factor_on", "sent"), ("slot_deleted", "failed"), ("new_request", "queued")]
    for n, (kind, state) in enumerate(emails):
        db.session.add(
            OutboxEmail(
                user_id=user.id,
                recipient=user.email,
                kind=kind,
                subject=kind.replace("_", " ").capitalize(),
                body_text="…",
                state=state,
                attempts=3 if state == "failed" else 1,
                last_error="550 mailbox unavailable" if state == "failed" else None,
                created_at=T0 - timedelta(minutes=n),
            )
        )
    db.session.commit()
    page = new_page(locale=locale, width=width, height=800)

    def shot(name: str, on=page) -> None:
        check_page(on, lang, width)
        screenshot(on, f"two-factor-{name}-{lang}-{width}")

    log_in(page, "sofia")
    page.goto("/profile/two-factor")
    expect(page.locator("figure.qr svg")).to_be_visible()
    shot("set-up")
    secret = page.locator("#secret").inner_text().replace(" ", "")
    page.locator("#code").fill("12")
    page.locator("#submit").click()
    expect(page.locator(".field-error")).to_be_visible()
    shot("set-up-error")
    page.locator("#code").fill(pyotp.TOTP(secret).at(clock()))
    page.locator("#submit").click()
    expect(page.locator(".recovery-codes")).to_be_visible()
    shot("recovery-codes")
    page.goto("/profile/two-factor")
    shot("manage")
    page.locator("form[action='/logout'] button").click()
    clock.set(T0 + timedelta(minutes=1))
    page.goto("/login")
    submit_login(page, "sofia")
    expect(page.locator("#code")).to_be_visible()
    shot("code-step")
    page.locator("#code").fill("000000")
    page.locator("#submit").click()
    expect(page.locator(".field-error")).to_be_visible()
    shot("code-step-error")

    admin = new_page(locale=locale, width=width, height=800)
    log_in(admin, root.username)
    admin.goto("/admin/emails")
    expect(admin.locator("h1")).to_be_visible()
    shot("admin-emails", admin)
