"""Blocking and unblocking: immediate effect on every session, login refused, one log entry per action."""

import threading

import psycopg2
import pytest
from sqlalchemy import func, select

from portal.models import ModerationLog, User
from tests.factories import PASSWORD, make_consultation, make_slot, make_user
from tests.support.admin import block, unblock
from tests.support.auth import isolated_client, logged_in_browser, post_login
from tests.support.database import lock_waiters
from tests.support.wait import wait_until

BLOCKED_TEXT = "Your account is blocked"


def fresh(db, user) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


def log_entries(db) -> list[tuple[str, int, int, str | None]]:
    db.session.expire_all()
    rows = db.session.scalars(select(ModerationLog).order_by(ModerationLog.id))
    return [(r.action, r.admin_id, r.user_id, r.reason) for r in rows]


def assert_blocked_page(response):
    assert response.status_code == 403
    assert BLOCKED_TEXT in response.get_data(as_text=True)


def test_block_ends_every_session_and_unblock_lets_the_user_back(app, db):
    admin, user = make_user("admin"), make_user("client")
    admin_browser = logged_in_browser(app, admin)
    first, second = logged_in_browser(app, user), logged_in_browser(app, user, remember=True)
    remembered = second.get_cookie("remember_token").value
    old_session = first.get_cookie("session").value
    # The remember-me cookie alone (no session cookie) logs in before the block.
    check = isolated_client(app)
    check.set_cookie("remember_token", remembered)
    assert check.get("/profile").status_code == 200
    copied = isolated_client(app)
    copied.set_cookie("remember_token", remembered)

    response = block(admin_browser, user, "Spam in requests")
    assert response.status_code == 303
    page = admin_browser.get(response.headers["Location"]).get_data(as_text=True)
    assert f"{user.username} is blocked" in page

    stored = fresh(db, user)
    assert stored.is_blocked and stored.blocked_reason == "Spam in requests"
    for browser in (first, second, copied):
        assert_blocked_page(browser.get("/profile"))
        # ...and that session is over: the next click goes to the login page.
        again = browser.get("/profile")
        assert again.status_code == 302 and "/login" in again.headers["Location"]

    refused = post_login(isolated_client(app), user.email)
    assert refused.status_code == 403 and BLOCKED_TEXT in refused.get_data(as_text=True)

    assert unblock(admin_browser, user).status_code == 303
    assert not fresh(db, user).is_blocked and fresh(db, user).blocked_reason is None
    # Old cookies stay dead after the unblock; a new login works.
    for cookie_name, value in (("remember_token", remembered), ("session", old_session)):
        stale = isolated_client(app)
        stale.set_cookie(cookie_name, value)
        assert stale.get("/profile").status_code == 302
    assert logged_in_browser(app, user).get("/profile").status_code == 200
    assert [a for a, *_ in log_entries(db)] == ["block", "unblock"]


@pytest.mark.clock
def test_blocked_specialists_slots_leave_the_client_listing_and_come_back(app, db):
    admin, client, specialist = make_user("admin"), make_user("client"), make_user("specialist", username="drwho")
    make_slot(specialist, note="Morning session")
    admin_browser, client_browser = logged_in_browser(app, admin), logged_in_browser(app, client)
    assert "drwho" in client_browser.get("/client/slots").get_data(as_text=True)

    block(admin_browser, specialist, "Unverified credentials")
    listing = client_browser.get("/client/slots")
    assert listing.status_code == 200 and "drwho" not in listing.get_data(as_text=True)

    unblock(admin_browser, specialist)
    assert "drwho" in client_browser.get("/client/slots").get_data(as_text=True)


@pytest.mark.clock
def test_blocked_specialist_cannot_accept_pending_requests(app, db):
    admin, client, specialist = make_user("admin"), make_user("client"), make_user("specialist")
    consultation = make_consultation(make_slot(specialist), client)
    specialist_browser = logged_in_browser(app, specialist)
    token = specialist_browser.csrf_token("/profile")
    block(logged_in_browser(app, admin), specialist)

    response = specialist_browser.post(
        f"/specialist/consultations/{consultation.id}/accept", data={"csrf_token": token}
    )
    assert_blocked_page(response)
    db.session.expire_all()
    # The block itself rejected the request (SPEC §13); the specialist's accept changed nothing after it.
    saved = db.session.get(type(consultation), consultation.id)
    assert (saved.status, saved.reject_reason) == ("rejected", "The specialist is not available.")


def test_double_block_and_unblocking_an_active_user_change_nothing(app, db):
    admin, other_admin, user = make_user("admin"), make_user("admin"), make_user("client")
    first, second = logged_in_browser(app, admin), logged_in_browser(app, other_admin)
    block(first, user, "first")
    token = fresh(db, user).session_token

    response = block(second, user, "second")
    assert response.status_code == 303
    assert f"{user.username} is already blocked." in second.get(response.headers["Location"]).get_data(as_text=True)
    stored = fresh(db, user)
    assert stored.blocked_reason == "first" and stored.session_token == token

    unblock(first, user)
    response = unblock(second, user)
    assert f"{user.username} is not blocked." in second.get(response.headers["Location"]).get_data(as_text=True)
    assert [(a, admin_id) for a, admin_id, *_ in log_entries(db)] == [("block", admin.id), ("unblock", admin.id)]


def test_admin_cannot_block_themself(app, db):
    admin = make_user("admin")
    browser = logged_in_browser(app, admin)
    assert "This is you" in browser.get("/admin/users").get_data(as_text=True)
    response = block(browser, admin, "oops", confirm="yes")
    assert response.status_code == 303
    assert "You cannot block your own account." in browser.get("/admin/users").get_data(as_text=True)
    assert not fresh(db, admin).is_blocked and log_entries(db) == []
    page = browser.get(f"/admin/users/{admin.id}/block")
    assert page.status_code == 200 and "You cannot block your own account." in page.get_data(as_text=True)


def test_blocking_an_admin_needs_the_confirmation_step(app, db):
    admin, target = make_user("admin"), make_user("admin", username="colleague")
    browser, target_browser = logged_in_browser(app, admin), logged_in_browser(app, target)

    page = block(browser, target, "Left the team", confirm="")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "This is an administrator account." in text
    assert 'name="confirm" value="yes"' in text and "Left the team" in text  # the reason is kept
    assert not fresh(db, target).is_blocked and log_entries(db) == []

    response = block(browser, target, "Left the team", confirm="yes")
    assert response.status_code == 303
    assert fresh(db, target).is_blocked
    assert log_entries(db) == [("block", admin.id, target.id, "Left the team")]
    assert_blocked_page(target_browser.get("/admin/users"))


def test_every_block_goes_through_the_confirmation_page(app, db):
    admin, target = make_user("admin"), make_user("client", username="quiet")
    browser = logged_in_browser(app, admin)
    row = browser.get("/admin/users?q=quiet").get_data(as_text=True)
    row = row[row.index(f'<tr id="user-{target.id}"') :]
    row = row[: row.index("</tr>")]
    # The list offers a link to the confirmation page (coming back to this list), no form that blocks at once.
    assert f'href="/admin/users/{target.id}/block?next=/admin/users%3Fq%3Dquiet"' in row
    assert "<form" not in row and 'name="reason"' not in row
    page = browser.get(f"/admin/users/{target.id}/block?next=/admin/users%3Fq%3Dquiet").get_data(as_text=True)
    assert 'name="reason"' in page and 'name="confirm" value="yes"' in page and 'value="/admin/users?q=quiet"' in page
    # A post that skipped the page (a crafted form, an old page) answers with the page and blocks nothing.
    skipped = block(browser, target, "Spam", confirm="")
    assert skipped.status_code == 200 and "Block @quiet?" in skipped.get_data(as_text=True)
    assert not fresh(db, target).is_blocked and log_entries(db) == []
    done = block(browser, target, "Spam")
    assert done.status_code == 303 and fresh(db, target).is_blocked
    assert log_entries(db) == [("block", admin.id, target.id, "Spam")]


def test_block_and_unblock_of_a_missing_user_answer_404(app, db):
    browser = logged_in_browser(app, make_user("admin"))
    for user_id in (999999, 2147483647, 99999999999):
        assert browser.submit(f"/admin/users/{user_id}/block", {}, from_url="/admin/users").status_code == 404
        assert browser.submit(f"/admin/users/{user_id}/unblock", {}, from_url="/admin/users").status_code == 404
        assert browser.get(f"/admin/users/{user_id}/block").status_code == 404
    assert log_entries(db) == []


def test_crafted_posts_by_non_admins_and_posts_without_csrf_change_nothing(app, db):
    admin, target = make_user("admin"), make_user("client")
    blocked_target = make_user("client", blocked=True)
    for role in ("client", "specialist"):
        browser = logged_in_browser(app, make_user(role))
        token = browser.csrf_token("/profile")
        assert browser.post(f"/admin/users/{target.id}/block", data={"csrf_token": token}).status_code == 403
        assert browser.post(f"/admin/users/{blocked_target.id}/unblock", data={"csrf_token": token}).status_code == 403
    admin_browser = logged_in_browser(app, admin)
    no_csrf = admin_browser.post(f"/admin/users/{target.id}/block", data={"reason": "x"})
    assert no_csrf.status_code == 400 and "Form expired" in no_csrf.get_data(as_text=True)
    assert admin_browser.post(f"/admin/users/{blocked_target.id}/unblock").status_code == 400
    assert not fresh(db, target).is_blocked and fresh(db, blocked_target).is_blocked
    assert log_entries(db) == []


def test_a_bad_reason_shows_the_form_again(app, db):
    admin, target = make_user("admin"), make_user("client")
    browser = logged_in_browser(app, admin)
    for reason, message in (("x" * 501, "500"), ("bad\x00reason", "control characters")):
        response = block(browser, target, reason)
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
    assert not fresh(db, target).is_blocked and log_entries(db) == []


def test_racing_admins_produce_one_block_and_one_log_entry(app, db):
    """Admin A's block waits on the row lock while admin B blocks; A then sees it is already done."""
    admin_a, admin_b, user = make_user("admin"), make_user("admin"), make_user("client")
    client = logged_in_browser(app, admin_a)
    token = client.csrf_token("/admin/users")
    dsn = db.engine.url.render_as_string(hide_password=False)
    other = psycopg2.connect(dsn)
    try:
        with other.cursor() as cur:
            cur.execute("SELECT id FROM users WHERE id = %s FOR UPDATE", (user.id,))
        result = {}
        request = threading.Thread(
            target=lambda: result.update(
                response=client.post(
                    f"/admin/users/{user.id}/block", data={"csrf_token": token, "reason": "from A", "confirm": "yes"}
                )
            )
        )
        request.start()
        assert wait_until(lock_waiters, timeout=10, interval=0.05), "the block did not wait for the row lock"
        with other.cursor() as cur:
            cur.execute("UPDATE users SET is_blocked = true, blocked_reason = 'from B' WHERE id = %s", (user.id,))
            cur.execute(
                "INSERT INTO moderation_log (admin_id, user_id, action, reason, created_at) "
                "VALUES (%s, %s, 'block', 'from B', now())",
                (admin_b.id, user.id),
            )
        other.commit()
        request.join(20)
    finally:
        other.close()
    assert result["response"].status_code == 303
    assert "is already blocked" in client.get("/admin/users").get_data(as_text=True)
    assert fresh(db, user).blocked_reason == "from B"
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(ModerationLog)) == 1


def test_blocked_message_speaks_the_users_language(app, db):
    admin, user = make_user("admin"), make_user("client", locale="ru")
    browser = logged_in_browser(app, user)
    block(logged_in_browser(app, admin), user, "Спам")
    page = browser.get("/profile")
    text = page.get_data(as_text=True)
    assert page.status_code == 403 and '<html lang="ru">' in text and "Ваш аккаунт заблокирован" in text
    refused = isolated_client(app).submit(
        "/login", {"login": user.username, "password": PASSWORD}, headers={"Accept-Language": "ru"}
    )
    assert refused.status_code == 403 and "Ваш аккаунт заблокирован" in refused.get_data(as_text=True)


def test_the_confirmation_page_only_links_back_to_this_site(app, db):
    admin, target = make_user("admin"), make_user("admin")
    browser = logged_in_browser(app, admin)
    for bad in ("javascript:alert(1)", "https://evil.example/", "//evil.example"):
        text = block(browser, target, next=bad, confirm="").get_data(as_text=True)
        assert bad not in text and 'href="/admin/users"' in text
    assert browser.get(f"/admin/users/{target.id}/block?next=/admin/users%3Frole%3Dadmin").status_code == 200


def test_the_blocked_page_tells_how_to_reach_the_admins_when_an_address_is_set(app, db, monkeypatch):
    admin, user, other = make_user("admin"), make_user("client", locale="ru"), make_user("client")
    russian, english = logged_in_browser(app, user), logged_in_browser(app, other)
    admin_browser = logged_in_browser(app, admin)
    block(admin_browser, user, "Spam")
    block(admin_browser, other, "Spam")
    monkeypatch.setitem(app.config, "ADMIN_CONTACT_EMAIL", "moderators@example.org")
    page = russian.get("/client/slots")
    assert page.status_code == 403 and "Ваш аккаунт заблокирован" in page.get_data(as_text=True)
    link = '<a href="mailto:moderators@example.org">moderators@example.org</a>'
    assert f"Написать им можно по адресу {link}." in page.get_data(as_text=True)
    monkeypatch.setitem(app.config, "ADMIN_CONTACT_EMAIL", None)
    page = english.get("/client/slots")
    assert_blocked_page(page)
    assert "mailto:" not in page.get_data(as_text=True) and "write to them" not in page.get_data(as_text=True)


def test_the_admins_address_comes_from_the_environment():
    from portal.config import load_config

    base = {"DATABASE_URL": "postgresql://unused.invalid/portal", "SECRET_KEY": "x"}
    assert (
        load_config({**base, "ADMIN_CONTACT_EMAIL": " help@example.org "})["ADMIN_CONTACT_EMAIL"] == "help@example.org"
    )
    assert load_config({**base, "ADMIN_CONTACT_EMAIL": ""})["ADMIN_CONTACT_EMAIL"] is None
