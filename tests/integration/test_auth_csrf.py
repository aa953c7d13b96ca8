"""The CSRF token lives as long as the login session: a new one at login, none left after logout."""

from portal.models import User
from tests.factories import PASSWORD, make_user
from tests.support.auth import isolated_client, post_login

FORM_EXPIRED = "Form expired"


def display_name(db, user) -> str:
    db.session.expire_all()
    return db.session.get(User, user.id).display_name


def raw_token(browser) -> str | None:
    """The secret the signed tokens are made from, as the session cookie carries it."""
    with browser.session_transaction() as session:
        return session.get("csrf_token")


def save_name(browser, token: str, name: str):
    data = {
        "profile-csrf_token": token,
        "profile-display_name": name,
        "profile-timezone": "UTC",
        "profile-language": "en",
        "profile-submit": "Save profile",
    }
    return browser.post("/profile", data=data)


def test_logging_in_gives_a_new_csrf_token_and_the_old_one_stops_working(app, db):
    user = make_user(username="anna", display_name="Anna")
    browser = isolated_client(app)
    before = browser.csrf_token("/login")
    secret_before = raw_token(browser)
    response = browser.post("/login", data={"login": "anna", "password": PASSWORD, "csrf_token": before})
    assert response.status_code == 302
    after = browser.csrf_token("/profile")
    assert raw_token(browser) not in (None, secret_before)
    refused = save_name(browser, before, "Planted before login")
    assert refused.status_code == 400
    assert FORM_EXPIRED in refused.get_data(as_text=True)
    assert display_name(db, user) == "Anna"
    assert save_name(browser, after, "Anna K.").status_code == 302
    assert display_name(db, user) == "Anna K."


def test_after_logout_the_old_csrf_token_is_refused(app, db):
    user = make_user(username="anna", display_name="Anna", locale="ru")
    browser = isolated_client(app)
    post_login(browser, "anna", remember=True)
    token = browser.csrf_token("/profile")
    response = browser.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert raw_token(browser) is None
    # The remember-me cookie goes too, and the language chosen stays.
    assert any(c.startswith("remember_token=;") for c in response.headers.getlist("Set-Cookie"))
    assert '<html lang="ru">' in browser.get("/login").get_data(as_text=True)
    for url, data in (
        ("/login", {"login": "anna", "password": PASSWORD}),
        ("/language", {"lang": "en", "next": "/login"}),
        ("/logout", {}),
    ):
        refused = browser.post(url, data={**data, "csrf_token": token})
        assert refused.status_code == 400, url
    assert browser.get("/profile").status_code == 302  # still logged out
    # Logged in again (a new token), the one from the earlier session is still refused.
    post_login(browser, "anna")
    assert save_name(browser, token, "Planted").status_code == 400
    assert display_name(db, user) == "Anna"
