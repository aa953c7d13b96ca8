"""Email confirmation: the emailed link (through the real worker and SMTP), single use, 48 hours, resending
(the worker looks the address up and writes the new link)."""

from datetime import UTC, datetime, timedelta

import pytest

from portal.models import User
from tests.factories import PASSWORD, make_user
from tests.support.account_requests import pending_requests, wait_until_handled
from tests.support.auth import (
    GOOD_PASSWORD,
    emails_to,
    form_alert,
    isolated_client,
    last_link,
    mail_link,
    post_login,
    register,
    row_counts,
)
from tests.support.mail import body_of
from tests.support.wait import wait_until

INVALID_TITLE = "This link does not work"


@pytest.fixture
def client(app):
    """Requests isolated from each other and from the test, like a real browser's."""
    return isolated_client(app)


def _user(db, username) -> User:
    db.session.expire_all()
    return db.session.query(User).filter_by(username=username).one()


def test_confirmation_email_arrives_with_username_and_link_but_never_the_password(client, db, mail, rq_worker):
    assert register(client, username="olga.p", email="olga@example.com").status_code == 302
    (message,) = mail.wait_for(1, to="olga@example.com")
    body = body_of(message)
    assert message["Subject"] == "Confirm your email address"
    assert "olga.p" in body
    assert "http://portal.test/confirm/" in body
    assert GOOD_PASSWORD not in body and GOOD_PASSWORD not in message.as_string()

    response = client.get(mail_link(message))
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    page = client.get("/login").get_data(as_text=True)
    assert "your email address is confirmed" in page
    assert _user(db, "olga.p").confirmed_at is not None
    assert post_login(client, "olga.p", GOOD_PASSWORD).status_code == 302
    # The worker records the delivery just after the mail server has the message.
    assert wait_until(lambda: emails_to("olga@example.com")[0].state == "sent", timeout=30)


def test_the_link_works_once(client, db):
    register(client, username="olga.p", email="olga@example.com")
    link = last_link("olga@example.com")
    assert client.get(link).status_code == 302
    again = client.get(link)
    assert again.status_code == 404
    assert INVALID_TITLE in again.get_data(as_text=True)


@pytest.mark.parametrize(
    "path",
    [
        "/confirm/abc",
        "/confirm/" + "A" * 5000,
        "/confirm/%00%01",
        "/confirm/%E2%98%83",
        "/confirm/..%2F..%2Fetc%2Fpasswd",
        "/confirm/a/b/c",
        "/confirm/%ZZ",
    ],
)
def test_malformed_links_show_the_friendly_page(client, path):
    response = client.get(path)
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert INVALID_TITLE in html and "Resend confirmation email" in html


@pytest.mark.parametrize(("hours", "status"), [(47, 302), (49, 404)])
def test_the_link_is_valid_for_48_hours(client, db, clock, hours, status):
    start = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    clock.set(start)
    register(client, username="olga.p", email="olga@example.com")
    clock.set(start + timedelta(hours=hours))
    response = client.get(last_link("olga@example.com"))
    assert response.status_code == status
    assert (_user(db, "olga.p").confirmed_at is not None) is (status == 302)


def test_resend_sends_a_new_link_and_the_old_one_stops_working(client, db, rq_worker):
    register(client, username="olga.p", email="olga@example.com")
    old = last_link("olga@example.com")
    refused = post_login(client, "olga.p", GOOD_PASSWORD)
    assert "confirm your email address first" in form_alert(refused.get_data(as_text=True))
    # The button on the refusal page posts the Email field to the resend page.
    response = client.submit("/confirm/resend", {"email": "olga@example.com"}, from_url="/confirm/resend")
    assert response.status_code == 302
    wait_until_handled()  # the worker looks the address up and writes the email
    new = last_link("olga@example.com")
    assert new != old and len(emails_to("olga@example.com")) == 2
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 302
    assert post_login(client, "olga.p", GOOD_PASSWORD).status_code == 302


@pytest.mark.parametrize("address", ["nobody@example.com", "confirmed@example.com", "blocked@example.com"])
def test_resend_answers_the_same_and_sends_nothing_for_other_addresses(client, db, rq_worker, address):
    make_user(username="confirmed", email="confirmed@example.com")
    make_user(username="blocked", email="blocked@example.com", confirmed=False, blocked=True)
    before = row_counts()
    response = client.submit("/confirm/resend", {"email": address})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "a new confirmation link is on its way" in client.get("/login").get_data(as_text=True)
    wait_until_handled()
    assert row_counts() == before and pending_requests() == []


def test_resend_with_a_bad_address_shows_the_form_again(client):
    response = client.submit("/confirm/resend", {"email": "not an address\x00"})
    assert response.status_code == 422
    assert 'class="field-error" id="email-error"' in response.get_data(as_text=True)


def test_confirming_while_logged_in_as_someone_else_still_confirms_the_link_owner(client, auth, db):
    register(client, username="olga.p", email="olga@example.com")
    link = last_link("olga@example.com")
    auth.login_as(make_user(username="other"), PASSWORD)
    assert client.get(link).status_code == 302
    assert _user(db, "olga.p").confirmed_at is not None
