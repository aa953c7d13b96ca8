"""Password reset: the same answer for any address, a single-use link valid one hour, the password rules.

The request only records what was asked; the worker looks the address up and writes the email, so these
tests run the real worker and wait for it."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.models import AuthToken, User
from tests.factories import PASSWORD, make_user
from tests.support.account_requests import pending_requests, wait_until_handled
from tests.support.auth import (
    GOOD_PASSWORD,
    emails_to,
    field_error,
    isolated_client,
    last_link,
    post_login,
    row_counts,
)
from tests.support.mail import body_of

NEW_PASSWORD = "violet-harbour-quartz-58"
SENT = "If an account uses this address, a reset link is on its way. It is valid for one hour."

pytestmark = pytest.mark.usefixtures("rq_worker")


@pytest.fixture
def client(app):
    """Requests isolated from each other and from the test, like a real browser's."""
    return isolated_client(app)


def ask_for_link(client, email):
    """Ask for a reset link and wait until the worker has handled the request."""
    response = client.submit("/reset-password", {"email": email})
    wait_until_handled()
    return response


def set_password(client, link, password, confirm=None):
    return client.submit(link, {"new_password": password, "confirm": password if confirm is None else confirm})


def can_log_in(app, login, password) -> bool:
    fresh = isolated_client(app)
    return post_login(fresh, login, password).status_code == 302


def test_reset_page_has_the_email_field_and_button(client):
    html = client.get("/reset-password").get_data(as_text=True)
    assert '<label for="email">Email</label>' in html and 'value="Send reset link"' in html


@pytest.mark.parametrize("address", ["anna@example.com", "ANNA@example.com", "nobody@example.com"])
def test_the_answer_is_the_same_whether_or_not_the_address_exists(client, db, address):
    make_user(username="anna", email="anna@example.com")
    response = ask_for_link(client, address)
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert SENT in client.get("/login").get_data(as_text=True)
    known = not address.startswith("nobody")
    assert row_counts() == {"users": 1, "tokens": int(known), "emails": int(known)}
    assert pending_requests() == []


def test_no_link_for_a_blocked_account(client, db):
    make_user(username="anna", email="anna@example.com", blocked=True)
    assert ask_for_link(client, "anna@example.com").status_code == 302
    assert row_counts()["emails"] == 0


def test_the_emailed_link_sets_a_new_password_once(client, app, db, mail, rq_worker):
    make_user(username="anna", email="anna@example.com")
    ask_for_link(client, "anna@example.com")
    (message,) = mail.wait_for(1, to="anna@example.com")
    body = body_of(message)
    assert message["Subject"] == "Reset your password"
    assert "anna" in body and "http://portal.test/reset-password/" in body
    link = last_link("anna@example.com")
    form = client.get(link).get_data(as_text=True)
    assert ">New password</label>" in form and ">Confirm password</label>" in form

    response = set_password(client, link, NEW_PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert can_log_in(app, "anna", NEW_PASSWORD) and not can_log_in(app, "anna", PASSWORD)
    assert client.get(link).status_code == 404
    assert set_password(client, link, "another-good-one-77").status_code in (400, 404)
    kinds = [e.kind for e in emails_to("anna@example.com")]
    assert kinds == ["reset_password", "password_changed"]


@pytest.mark.parametrize(
    ("password", "confirm", "field", "words"),
    [
        ("short", None, "new_password", "at least 8"),
        ("password", None, "new_password", "too common"),
        ("anna.k.", None, "new_password", ""),
        ("Anna.Karenina", None, "new_password", "same as the username"),
        ("x" * 200, None, "new_password", "at most 128"),
        (NEW_PASSWORD, NEW_PASSWORD + "!", "confirm", "do not match"),
        ("", "", "new_password", "required"),
    ],
)
def test_the_new_password_follows_the_rules_and_the_link_stays_usable(client, app, db, password, confirm, field, words):
    make_user(username="Anna.Karenina", email="anna@example.com")
    ask_for_link(client, "anna@example.com")
    link = last_link("anna@example.com")
    response = set_password(client, link, password, confirm)
    assert response.status_code == 422
    assert words.lower() in field_error(response.get_data(as_text=True), field).lower()
    assert field_error(response.get_data(as_text=True), field)
    assert can_log_in(app, "anna@example.com", PASSWORD)
    assert set_password(client, link, NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize(("minutes", "status"), [(59, 302), (61, 404)])
def test_the_link_is_valid_for_one_hour(client, db, clock, minutes, status):
    make_user(username="anna", email="anna@example.com")
    ask_for_link(client, "anna@example.com")
    link = last_link("anna@example.com")
    issued = db.session.scalars(select(AuthToken)).one()  # by the worker, on its own clock
    assert abs(issued.expires_at - issued.created_at - timedelta(hours=1)) < timedelta(seconds=1)
    clock.set(issued.expires_at - timedelta(hours=1) + timedelta(minutes=minutes))
    assert set_password(client, link, NEW_PASSWORD).status_code == status


def test_a_newer_link_replaces_the_older_one(client):
    make_user(username="anna", email="anna@example.com")
    ask_for_link(client, "anna@example.com")
    first = last_link("anna@example.com")
    ask_for_link(client, "anna@example.com")
    second = last_link("anna@example.com")
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200


@pytest.mark.parametrize("path", ["/reset-password/nope", "/reset-password/" + "z" * 3000, "/reset-password/%00"])
def test_bad_links_show_the_friendly_page(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "This link does not work" in response.get_data(as_text=True)
    assert client.post(path, data={}).status_code in (400, 404)


def test_a_reset_ends_every_session_and_unlocks_the_throttle(client, app, db, auth):
    user = make_user(username="anna", email="anna@example.com")
    auth.login_as(user)
    assert client.get("/profile").status_code == 200
    stranger = isolated_client(app)
    for _ in range(5):
        post_login(stranger, "anna", "wrong-guess-1")
    assert post_login(stranger, "anna").status_code == 429

    ask_for_link(stranger, "anna@example.com")
    assert set_password(stranger, last_link("anna@example.com"), NEW_PASSWORD).status_code == 302
    assert client.get("/profile").status_code == 302  # the old session is over
    assert can_log_in(app, "anna", NEW_PASSWORD)


def test_a_reset_confirms_an_unconfirmed_address(client, app, db):
    make_user(username="anna", email="anna@example.com", confirmed=False)
    ask_for_link(client, "anna@example.com")
    set_password(client, last_link("anna@example.com"), GOOD_PASSWORD)
    db.session.expire_all()
    assert db.session.query(User).one().confirmed_at is not None
    assert can_log_in(app, "anna", GOOD_PASSWORD)
