"""The embedded demo (no Redis, no SMTP): emails are delivered in-process after commit and shown on /dev/mail,
to this computer only."""

import pytest

from portal.extensions import db
from portal.models import OutboxEmail, User
from tests.support.auth import isolated_client, registration
from tests.support.embedded import embedded_portal


@pytest.fixture
def embedded(tmp_path, monkeypatch):
    with embedded_portal(tmp_path, monkeypatch) as app:
        yield app


def test_registration_email_appears_on_the_development_mailbox(embedded):
    assert embedded.config["REDIS_URL"] is None and embedded.config["MAIL_SERVER"] is None
    browser = isolated_client(embedded)
    assert browser.submit("/register", registration(username="devuser", email="dev@example.com")).status_code == 302
    row = db.session.scalars(db.select(OutboxEmail)).one()
    assert (row.state, row.attempts) == ("sent", 1)
    page = browser.get("/dev/mail").get_data(as_text=True)
    assert "Confirm your email address" in page and "dev@example.com" in page
    assert '<a href="http://127.0.0.1:5000/confirm/' in page  # links are clickable there
    link = page.split('<a href="http://127.0.0.1:5000', 1)[1].split('"', 1)[0]
    assert browser.get(link).status_code == 302  # and they work


def test_the_development_mailbox_exists_only_in_the_embedded_demo(client):
    assert client.get("/dev/mail").status_code == 404


@pytest.mark.parametrize(
    "environ",
    [
        {"REMOTE_ADDR": "203.0.113.9"},
        {"REMOTE_ADDR": "10.0.0.7"},
        {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9"},  # a proxy on this computer
        {"REMOTE_ADDR": "::1", "HTTP_FORWARDED": "for=203.0.113.9"},
    ],
)
def test_the_embedded_demo_answers_no_other_computer(embedded, environ):
    browser = isolated_client(embedded)
    local = isolated_client(embedded)
    assert local.submit("/register", registration(username="devuser", email="dev@example.com")).status_code == 302
    assert "/confirm/" in local.get("/dev/mail").get_data(as_text=True)
    for path in ("/dev/mail", "/", "/login", "/static/favicon.svg"):
        response = browser.get(path, environ_overrides=environ)
        assert response.status_code == 404
        assert "/confirm/" not in response.get_data(as_text=True)
    response = browser.post("/register", data=registration(), environ_overrides=environ)
    assert response.status_code == 404 and "Set-Cookie" not in response.headers  # none of the portal ran
    assert db.session.scalars(db.select(User.username)).all() == ["devuser"]  # nothing was done for it


@pytest.mark.parametrize("address", ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"])
def test_the_embedded_demo_answers_this_computer(embedded, address):
    response = isolated_client(embedded).get("/dev/mail", environ_overrides={"REMOTE_ADDR": address})
    assert response.status_code == 200


def test_a_reset_request_is_handled_after_the_view_and_its_email_appears_on_the_mailbox(embedded):
    from portal.models import AccountEmailRequest
    from tests.factories import make_user

    make_user(username="devuser", email="dev@example.com")
    browser = isolated_client(embedded)
    assert browser.submit("/reset-password", {"email": "DEV@example.com"}).status_code == 302
    assert browser.submit("/reset-password", {"email": "nobody@example.com"}).status_code == 302
    assert db.session.scalars(db.select(AccountEmailRequest)).all() == []  # both handled in-process
    (row,) = db.session.scalars(db.select(OutboxEmail)).all()
    assert (row.recipient, row.kind, row.state) == ("dev@example.com", "reset_password", "sent")
    page = browser.get("/dev/mail").get_data(as_text=True)
    link = page.split('<a href="http://127.0.0.1:5000/reset-password/', 1)[1].split('"', 1)[0]
    assert browser.get(f"/reset-password/{link}").status_code == 200
