"""In Chromium: an admin finds a user, blocks them while they browse, unblocks them, reads the log."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.clock import utcnow
from portal.extensions import db
from portal.models import ModerationLog, OutboxEmail, User
from tests.factories import make_user
from tests.support.activity import Activity, generate
from tests.support.browser import log_in

pytestmark = pytest.mark.e2e


def test_admin_blocks_a_user_who_is_browsing_then_unblocks(page, new_page, db):
    make_user("admin", username="root")
    make_user("client", username="mira", email="mira.petrova@example.com")
    make_user("client", username="petr", email="petr@example.net")

    user_page = new_page(javascript=False)
    log_in(user_page, "mira")
    expect(user_page.get_by_role("button", name="Log out")).to_be_visible()

    log_in(page, "root")
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()  # the admin's home
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Users").click()
    expect(page.get_by_role("heading", name="Users")).to_be_visible()
    page.get_by_label("Search").fill("PETROVA@ex")
    page.get_by_role("button", name="Search").click()
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(1)
    row = rows.first
    expect(row).to_contain_text("mira.petrova@example.com")
    # Block always goes through the confirmation page, where the reason is written.
    row.get_by_role("link", name="Block mira").click()
    expect(page.get_by_role("heading", name="Block @mira?")).to_be_visible()
    page.get_by_label("Reason").fill("Abusive messages")
    page.get_by_role("button", name="Block", exact=True).click()
    expect(page.locator(".alert-success")).to_contain_text("@mira is blocked")
    expect(page.get_by_label("Search")).to_have_value("PETROVA@ex")  # back on the same list
    expect(row).to_contain_text("Abusive messages")

    # The user's open page: the very next navigation shows why they are out.
    with user_page.expect_response(lambda r: r.request.is_navigation_request()) as answer:
        user_page.get_by_role("link", name="My consultations").click()
    assert answer.value.status == 403
    expect(user_page.get_by_role("heading", name="Your account is blocked")).to_be_visible()
    user_page.goto("/client/consultations")
    assert "/login" in user_page.url  # that session is over

    page.get_by_label("Blocked", exact=True).select_option("yes")
    page.get_by_label("Search").fill("")
    page.get_by_role("button", name="Search").click()
    expect(rows).to_have_count(1)
    rows.first.get_by_role("button", name="Unblock").click()
    expect(page.locator(".alert-success")).to_contain_text("@mira is unblocked")

    page.get_by_role("link", name="Moderation log").click()
    log_rows = page.locator("tbody tr")
    expect(log_rows).to_have_count(2)
    expect(log_rows.nth(0)).to_contain_text("Unblocked")
    expect(log_rows.nth(1)).to_contain_text("Blocked")
    expect(log_rows.nth(1)).to_contain_text("Abusive messages")
    for n in range(2):
        expect(log_rows.nth(n)).to_contain_text("root")
        expect(log_rows.nth(n)).to_contain_text("mira")
        expect(log_rows.nth(n).locator("time")).to_have_count(1)

    log_in(user_page, "mira")
    expect(user_page.get_by_role("button", name="Log out")).to_be_visible()


def _seed_admin_pages() -> None:
    """Enough users, log entries and emails for the pages to look like a working portal."""
    now = utcnow()
    people = [
        ("client", "anna.k", "anna.kuznetsova@example.com", False, None),
        ("client", "boris", "boris@example.org", True, "Repeated no-shows and rude messages to specialists"),
        ("specialist", "dr_olga", "olga.psychology@example.com", False, None),
        ("specialist", "ivan.law", "ivan@lawyers.example", True, None),
        ("client", "katya", "katya@example.net", False, None),
        ("admin", "moderator", "moderator@example.com", False, None),
    ]
    users = {}
    for n, (role, username, email, blocked, reason) in enumerate(people):
        users[username] = make_user(
            role,
            username=username,
            email=email,
            blocked=blocked,
            blocked_reason=reason,
            confirmed=n != 4,
            created_at=now - timedelta(days=40 - n * 5),
        )
    admin = users["moderator"]
    for n, (action, username, reason) in enumerate(
        [
            ("block", "boris", "Repeated no-shows and rude messages to specialists"),
            ("block", "katya", "Spam"),
            ("unblock", "katya", None),
            ("block", "ivan.law", None),
        ]
    ):
        db.session.add(
            ModerationLog(
                admin_id=admin.id,
                user_id=users[username].id,
                action=action,
                reason=reason,
                created_at=now - timedelta(hours=30 - n * 7),
            )
        )
    emails = [
        (
            "sent",
            1,
            None,
            "anna.kuznetsova@example.com",
            "request_accepted",
            "Your consultation with dr_olga is accepted",
        ),
        (
            "failed",
            5,
            "SMTPRecipientsRefused: {'ivan@lawyers.example': (550, b'5.1.1 Mailbox unavailable')}",
            "ivan@lawyers.example",
            "new_request",
            "New request from anna.k",
        ),
        ("queued", 0, None, "katya@example.net", "confirm_account", "Confirm your email address"),
        ("sent", 2, None, "olga.psychology@example.com", "request_cancelled", "anna.k cancelled a consultation"),
    ]
    for n, (state, attempts, error, recipient, kind, subject) in enumerate(emails):
        db.session.add(
            OutboxEmail(
                recipient=recipient,
                kind=kind,
                subject=subject,
                body_text="…",
                state=state,
                attempts=attempts,
                last_error=error,
                created_at=now - timedelta(minutes=90 - n * 20),
                sent_at=now - timedelta(minutes=89 - n * 20) if state == "sent" else None,
            )
        )
    db.session.commit()


@pytest.mark.parametrize("locale", ["en", "ru"])
def test_admin_pages_screenshots(new_page, db, screenshot, clock, locale):
    """Overview, users (search and filters), block confirmation, log and email delivery; desktop and phone."""
    clock.set(datetime(2026, 11, 26, 14, 30, tzinfo=UTC))
    _seed_admin_pages()
    make_user("admin", username=f"admin_{locale}", locale=locale, timezone="Europe/Moscow", created_at=utcnow())
    target = db.session.scalar(select(User.id).where(User.username == "moderator"))
    generate(Activity(utcnow(), ZoneInfo("Europe/Moscow"), per_week=(8, 30), empty=(5,), seed=3))
    for width, label in ((1280, "desktop"), (390, "phone")):
        page = new_page(locale=f"{locale}-RU" if locale == "ru" else "en-US", javascript=False, width=width)
        log_in(page, f"admin_{locale}")
        page.goto("/admin")
        expect(page.locator("svg.chart")).to_have_count(4)
        screenshot(page, f"admin-overview-{locale}-{label}")
        page.goto("/admin/users")
        screenshot(page, f"admin-users-{locale}-{label}")
        page.goto("/admin/users?q=example.com&role=specialist&blocked=no")
        screenshot(page, f"admin-users-filtered-{locale}-{label}")
        page.goto(f"/admin/users/{target}/block")
        screenshot(page, f"admin-block-admin-{locale}-{label}")
        page.goto("/admin/log")
        screenshot(page, f"admin-log-{locale}-{label}")
        page.goto("/admin/emails")
        screenshot(page, f"admin-emails-{locale}-{label}")
