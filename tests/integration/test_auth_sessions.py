"""Ending sessions: logout and password change end every copy of a session; a block stops them at once."""

import re

import pytest
from werkzeug.routing import IntegerConverter

from portal.models import User
from tests.factories import PASSWORD, make_user
from tests.support.auth import copy_of, isolated_client, post_login

BLOCKED_EN = "Your account is blocked"
BLOCKED_RU = "Ваш аккаунт заблокирован"


@pytest.fixture
def client(app):
    """Requests isolated from each other and from the test, like a real browser's."""
    return isolated_client(app)


def is_logged_in(client) -> bool:
    return client.get("/profile").status_code == 200


def block(db, user):
    """Set the flag directly, as the admin pages will."""
    db.session.get(User, user.id).is_blocked = True
    db.session.commit()


def test_logout_is_a_post_with_a_csrf_token(client, auth):
    auth.login_as(make_user())
    assert client.get("/logout").status_code == 405
    refused = client.post("/logout")
    assert refused.status_code == 400
    assert "Form expired" in refused.get_data(as_text=True)
    assert is_logged_in(client)
    html = client.get("/profile").get_data(as_text=True)
    assert re.search(r'<form method="post" action="/logout"[^>]*>\s*<input type="hidden" name="csrf_token"', html)
    assert '<button type="submit" class="btn btn-ghost btn-small">Log out</button>' in html


def test_logout_ends_copied_session_cookies(client, app, auth):
    auth.login_as(make_user())
    copied = copy_of(client, app)
    assert is_logged_in(copied)
    response = auth.logout()
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "You are logged out." in client.get("/login").get_data(as_text=True)
    assert not is_logged_in(client)
    assert not is_logged_in(copied)


def test_logout_ends_remember_me_cookies(client, app):
    make_user(username="anna")
    post_login(client, "anna", remember=True)
    remembered = copy_of(client, app, names=("remember_token",))  # no session cookie: only "remember me"
    assert is_logged_in(remembered)
    client.submit("/logout", {}, from_url="/profile")
    assert not is_logged_in(remembered)
    assert client.get_cookie("remember_token") is None


def test_changing_the_password_ends_other_sessions_but_not_this_one(client, app, auth):
    user = make_user(username="anna")
    auth.login_as(user)
    elsewhere = isolated_client(app)
    post_login(elsewhere, "anna", remember=True)
    remembered = copy_of(elsewhere, app, names=("remember_token",))
    assert is_logged_in(elsewhere) and is_logged_in(remembered)

    response = client.post(
        "/profile",
        data={
            "password-csrf_token": client.csrf_token("/profile"),
            "password-current_password": PASSWORD,
            "password-new_password": "violet-harbour-quartz-58",
            "password-confirm": "violet-harbour-quartz-58",
            "password-submit": "Change password",
        },
    )
    assert response.status_code == 302
    assert is_logged_in(client)
    assert not is_logged_in(elsewhere)
    assert not is_logged_in(remembered)


@pytest.mark.parametrize(("locale", "words"), [("en", BLOCKED_EN), ("ru", BLOCKED_RU)])
def test_a_blocked_user_gets_the_blocked_page_in_their_language_then_is_logged_out(client, auth, db, locale, words):
    user = make_user(locale=locale)
    auth.login_as(user)
    block(db, user)
    response = client.get("/client/slots")
    html = response.get_data(as_text=True)
    assert response.status_code == 403
    assert f"<h1>{words}</h1>" in html
    assert f'<html lang="{locale}">' in html
    assert client.get("/profile").status_code == 302  # logged out now: the login page, not 403 any more
    assert post_login(client, user.username).status_code == 403


def _all_pages(app):
    """Every route of the portal (with made-up ids), each with a method it accepts."""
    for rule in app.url_map.iter_rules():
        # The API never reads the session: a blocked user's token is refused there instead (tests/api/).
        if rule.endpoint == "static" or rule.rule.startswith("/api/"):
            continue
        converters = rule._converters
        values = {arg: ("1" if isinstance(converters[arg], IntegerConverter) else "x") for arg in rule.arguments}
        path = rule.build(values, append_unknown=False)[1]
        yield ("GET" if "GET" in rule.methods else "POST"), path
        if "POST" in rule.methods and "GET" in rule.methods:
            yield "POST", path


@pytest.mark.parametrize("role", ["client", "specialist", "admin"])
def test_a_block_stops_every_copy_of_the_session_on_every_route_at_once(client, app, auth, db, role):
    user = make_user(role, locale="ru")
    post_login(client, user.username, remember=True)
    csrf = client.csrf_token("/profile")
    block(db, user)
    pages = list(_all_pages(app))
    assert len(pages) > 10
    for method, path in pages:
        copied = copy_of(client, app)
        response = copied.open(path, method=method, data={"csrf_token": csrf} if method == "POST" else None)
        assert response.status_code == 403, (method, path, response.status_code)
        assert f"<h1>{BLOCKED_RU}</h1>" in response.get_data(as_text=True), (method, path)
        assert copied.get("/profile").status_code == 302, (method, path)  # that copy is logged out now
    remembered = copy_of(client, app, names=("remember_token",))
    assert remembered.get("/").status_code == 403
    assert remembered.get("/profile").status_code == 302


def test_after_unblock_the_user_logs_in_again(client, auth, db):
    user = make_user(username="anna")
    auth.login_as(user)
    block(db, user)
    assert client.get("/").status_code == 403
    row = db.session.get(User, user.id)
    row.is_blocked = False
    db.session.commit()
    assert client.get("/profile").status_code == 302
    assert auth.login_as(user).status_code == 302
    assert is_logged_in(client)
