"""Two-factor authentication (SPEC §16) through the pages: set-up, the login's code step, recovery codes,
throttling shared with passwords, ADMIN_REQUIRE_2FA, the admins' reset, emails on and off."""

import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from sqlalchemy import select

from portal.extensions import db as _db
from portal.models import ModerationLog, OutboxEmail, RecoveryCode, User
from tests.factories import make_user
from tests.support.auth import post_login

T0 = datetime(2026, 12, 9, 10, 0, 7, tzinfo=UTC)
SECRET_RE = re.compile(r'<code class="secret" id="secret"[^>]*>([A-Z2-7 ]+)</code>')
RECOVERY_RE = re.compile(r"<code>([0-9a-f]{5}-[0-9a-f]{5})</code>")
WRONG = "This code is not right."
THROTTLED = "Too many failed attempts. Please wait 15 minutes and try again."


def turn_on(client, clock) -> tuple[str, list[str]]:
    """Turn two-factor authentication on through the set-up page; (secret, recovery codes)."""
    page = client.get("/profile/two-factor").get_data(as_text=True)
    secret = SECRET_RE.search(page).group(1).replace(" ", "")
    response = client.submit("/profile/two-factor", {"code": pyotp.TOTP(secret).at(clock())})
    assert response.status_code == 200, response.get_data(as_text=True)[:3000]
    codes = RECOVERY_RE.findall(response.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


def password_step(client, user: User):
    return post_login(client, user.username)


def kinds_of(user: User) -> list[str]:
    _db.session.expire_all()
    return list(
        _db.session.scalars(select(OutboxEmail.kind).where(OutboxEmail.user_id == user.id).order_by(OutboxEmail.id))
    )


@pytest.fixture
def anna(db):
    return make_user("client", username="anna", timezone="Europe/Berlin")


def test_set_up_shows_a_qr_code_and_the_secret_and_stores_it_encrypted(client, auth, anna, clock):
    clock.set(T0)
    auth.login_as(anna)
    response = client.get("/profile/two-factor")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<svg" in page and "style=" not in page.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert (
        "Content-Security-Policy" in response.headers
        and "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
    )
    # The same secret until it is turned on (a reload does not invalidate the app's entry).
    assert SECRET_RE.search(client.get("/profile/two-factor").get_data(as_text=True)).group(1) in page
    for code in ("000000", "١٢٣٤٥٦"):  # other scripts' digits are not the app's digits
        wrong = client.submit("/profile/two-factor", {"code": code})
        assert wrong.status_code == 422 and WRONG in wrong.get_data(as_text=True)
    _db.session.expire_all()
    assert _db.session.get(User, anna.id).totp_enabled_at is None

    secret, codes = turn_on(client, clock)
    user = _db.session.get(User, anna.id)
    assert user.has_two_factor and user.totp_secret and secret not in user.totp_secret
    stored = list(_db.session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == anna.id)))
    assert len(stored) == 10 and not {c.replace("-", "") for c in codes} & set(stored)
    # The secret and codes are never shown again.
    again = client.get("/profile/two-factor").get_data(as_text=True)
    assert secret[:8] not in again.replace(" ", "") and codes[0] not in again
    assert "Recovery codes left: 10." in again
    assert kinds_of(anna) == ["two_factor_on"]


def test_login_asks_for_the_code_and_a_code_is_good_once(client, auth, anna, clock):
    clock.set(T0)
    auth.login_as(anna)
    secret, _ = turn_on(client, clock)
    auth.logout()

    clock.set(T0 + timedelta(minutes=1))
    response = password_step(client, anna)
    assert response.status_code == 303 and response.headers["Location"] == "/login/code"
    # Not logged in yet.
    assert client.get("/client/slots").headers["Location"].startswith("/login")
    assert client.get("/login/code").status_code == 200
    code = pyotp.TOTP(secret).at(clock())
    done = client.submit("/login/code", {"code": f"{code[:3]} {code[3:]}"})  # as apps show it
    assert done.status_code == 302 and done.headers["Location"] == "/client/slots"
    assert client.get("/client/slots").status_code == 200
    auth.logout()

    # The same code again (same 30-second step): refused, it was spent.
    password_step(client, anna)
    again = client.submit("/login/code", {"code": code})
    assert again.status_code == 422 and WRONG in again.get_data(as_text=True)
    # The next step's code works.
    clock.set(T0 + timedelta(minutes=1, seconds=30))
    assert client.submit("/login/code", {"code": pyotp.TOTP(secret).at(clock())}).status_code == 302


def test_a_recovery_code_logs_in_once(client, auth, anna, clock):
    clock.set(T0)
    auth.login_as(anna)
    _, codes = turn_on(client, clock)
    auth.logout()
    password_step(client, anna)
    used = client.submit("/login/code", {"code": codes[3].upper()})
    assert used.status_code == 302
    assert "Recovery codes left: 9." in client.get("/client/slots").get_data(as_text=True)
    auth.logout()
    password_step(client, anna)
    assert client.submit("/login/code", {"code": codes[3]}).status_code == 422
    assert client.submit("/login/code", {"code": codes[4]}).status_code == 302
    used_at = _db.session.scalars(select(RecoveryCode.used_at).where(RecoveryCode.user_id == anna.id)).all()
    assert sum(when is not None for when in used_at) == 2


def test_the_code_step_expires(client, auth, anna, clock):
    clock.set(T0)
    auth.login_as(anna)
    secret, _ = turn_on(client, clock)
    auth.logout()
    clock.set(T0 + timedelta(minutes=2))
    password_step(client, anna)
    clock.set(T0 + timedelta(minutes=8))
    late = client.submit("/login/code", {"code": pyotp.TOTP(secret).at(clock())}, from_url="/login")
    assert late.status_code == 302 and late.headers["Location"] == "/login"
    assert client.get("/client/slots").headers["Location"].startswith("/login")


def test_wrong_codes_are_throttled_like_failed_logins(client, auth, anna, clock):
    clock.set(T0)
    auth.login_as(anna)
    secret, _ = turn_on(client, clock)
    auth.logout()
    clock.set(T0 + timedelta(minutes=1))
    # A fresh browser (no device cookie): the account's five failures, passwords and codes together.
    other = client.application.test_client()
    for _ in range(2):
        assert post_login(other, "anna", "wrong-password-1").status_code == 422
    password_step(other, anna)
    for _ in range(3):
        assert other.submit("/login/code", {"code": "123456"}).status_code == 422
    refused = other.submit("/login/code", {"code": pyotp.TOTP(secret).at(clock())})
    assert refused.status_code == 429 and THROTTLED in refused.get_data(as_text=True)
    assert other.get("/client/slots").headers["Location"].startswith("/login")


def test_turning_it_off_needs_a_code_and_emails_the_owner(client, auth, anna, clock):
    clock.set(T0)
    auth.login_as(anna)
    secret, _ = turn_on(client, clock)
    clock.set(T0 + timedelta(minutes=1))
    assert client.submit("/profile/two-factor", {"code": "111111"}).status_code == 422
    off = client.submit("/profile/two-factor", {"code": pyotp.TOTP(secret).at(clock())})
    assert off.status_code == 302
    _db.session.expire_all()
    assert not _db.session.get(User, anna.id).has_two_factor
    assert _db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == anna.id)).all() == []
    assert kinds_of(anna) == ["two_factor_on", "two_factor_off"]
    auth.logout()
    auth.login_as(anna)  # the password alone again


def test_new_recovery_codes_replace_the_old_ones_after_a_code(client, auth, anna, clock):
    clock.set(T0)
    auth.login_as(anna)
    secret, old = turn_on(client, clock)
    page = client.get("/profile/two-factor").get_data(as_text=True)
    assert 'action="/profile/two-factor/recovery-codes"' in page and "New recovery codes" in page
    # A wrong code, or none: the page again with the message next to the field, the old codes kept.
    for typed, message in (("111111", WRONG), ("", "This field is required.")):
        refused = client.submit("/profile/two-factor/recovery-codes", {"current_code": typed}, "/profile/two-factor")
        body = refused.get_data(as_text=True)
        assert refused.status_code == 422 and message in body and 'id="current_code-error"' in body
    hashes = set(_db.session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == anna.id)))
    assert len(hashes) == 10
    clock.set(T0 + timedelta(minutes=1))
    done = client.submit(
        "/profile/two-factor/recovery-codes", {"current_code": pyotp.TOTP(secret).at(clock())}, "/profile/two-factor"
    )
    body = done.get_data(as_text=True)
    assert done.status_code == 200 and "The old ones no longer work." in body
    new = RECOVERY_RE.findall(body)
    assert len(new) == 10 and not set(new) & set(old)
    _db.session.expire_all()
    stored = set(_db.session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == anna.id)))
    assert len(stored) == 10 and not stored & hashes
    assert kinds_of(anna) == ["two_factor_on", "recovery_codes_new"]
    assert "Recovery codes left: 10." in client.get("/profile/two-factor").get_data(as_text=True)
    auth.logout()
    # An old code no longer logs in; a new one does.
    password_step(client, anna)
    assert client.submit("/login/code", {"code": old[0]}).status_code == 422
    assert client.submit("/login/code", {"code": new[0]}).status_code == 302


def test_new_recovery_codes_without_two_factor_go_to_the_set_up_page(client, auth, anna):
    auth.login_as(anna)
    response = client.submit("/profile/two-factor/recovery-codes", {"current_code": "123456"}, "/profile/two-factor")
    assert response.status_code == 303 and response.headers["Location"] == "/profile/two-factor"
    assert _db.session.scalars(select(RecoveryCode)).all() == []


def test_admin_require_2fa_sends_admins_to_set_up_first(client, auth, app, clock, monkeypatch):
    monkeypatch.setitem(app.config, "ADMIN_REQUIRE_2FA", True)
    clock.set(T0)
    root = make_user("admin", username="root")
    maria = make_user("client", username="maria")
    auth.login_as(root)
    for path in ("/admin", "/admin/users", "/admin/log", "/profile", "/specialists"):
        response = client.get(path)
        assert (response.status_code, response.headers.get("Location")) == (303, "/profile/two-factor"), path
    blocked = client.submit(f"/admin/users/{maria.id}/block", {"confirm": "yes"}, from_url="/profile/two-factor")
    assert blocked.status_code == 303 and blocked.headers["Location"] == "/profile/two-factor"
    _db.session.expire_all()
    assert not _db.session.get(User, maria.id).is_blocked
    turn_on(client, clock)
    assert client.get("/admin").status_code == 200
    # Clients and specialists are not held back.
    other = app.test_client()
    auth_other = type(auth)(other)
    auth_other.login_as(maria)
    assert other.get("/client/slots").status_code == 200


def test_admin_resets_a_users_two_factor_and_the_log_shows_it(client, auth, anna, app, clock):
    clock.set(T0)
    auth.login_as(anna)
    turn_on(client, clock)
    auth.logout()
    root = make_user("admin", username="root")
    auth.login_as(root)
    users = client.get("/admin/users").get_data(as_text=True)
    assert f'action="/admin/users/{anna.id}/reset-two-factor"' in users
    assert f'action="/admin/users/{root.id}/reset-two-factor"' not in users
    done = client.submit(f"/admin/users/{anna.id}/reset-two-factor", {"next": "/admin/users"}, from_url="/admin/users")
    assert done.status_code == 303 and done.headers["Location"] == "/admin/users"
    assert "Two-factor authentication of @anna is off" in client.get("/admin/users").get_data(as_text=True)
    _db.session.expire_all()
    assert not _db.session.get(User, anna.id).has_two_factor
    (entry,) = _db.session.scalars(select(ModerationLog)).all()
    assert (entry.admin_id, entry.user_id, entry.action) == (root.id, anna.id, "reset_two_factor")
    log = client.get("/admin/log").get_data(as_text=True)
    assert "Two-factor reset" in log and "anna" in log
    assert kinds_of(anna) == ["two_factor_on", "two_factor_off"]
    body = _db.session.scalars(select(OutboxEmail.body_text).where(OutboxEmail.kind == "two_factor_off")).one()
    assert "An administrator turned two-factor authentication off" in body
    # Again: nothing to reset, nothing logged.
    client.submit(f"/admin/users/{anna.id}/reset-two-factor", {"next": "/admin/users"}, from_url="/admin/users")
    assert len(_db.session.scalars(select(ModerationLog)).all()) == 1


def test_emails_are_in_the_owners_language(client, auth, clock):
    clock.set(T0)
    ivan = make_user("specialist", username="ivan", locale="ru", timezone="Europe/Moscow")
    auth.login_as(ivan)
    turn_on(client, clock)
    subject, body = _db.session.execute(select(OutboxEmail.subject, OutboxEmail.body_text)).one()
    assert subject == "Двухфакторная аутентификация включена"
    assert "ivan" in body and "13:00" in body  # 10:00 UTC in Moscow
