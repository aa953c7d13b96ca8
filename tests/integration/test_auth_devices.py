"""Device cookies: the browser an account logged in from is not locked out by failures made elsewhere, while
new browsers still are, and failures made with a device cookie lock that cookie only."""

import pytest

from portal import create_app
from portal.extensions import db as _db
from tests.factories import PASSWORD, make_user
from tests.support.auth import device_cookie, isolated_client, post_login
from tests.support.pages import form_alert
from tests.support.web import PortalClient

THROTTLED = "Too many failed attempts. Please wait 15 minutes and try again."
HOME, OFFICE = "203.0.113.10", "192.0.2.80"
NEW_PASSWORD = "violet-harbour-quartz-58"


def owners_browser(app, user, address: str = HOME):
    """A browser that has logged in to the account before (and logged out since)."""
    browser = isolated_client(app)
    assert post_login(browser, user.username, address=address).status_code == 302
    assert browser.submit("/logout", {}, from_url="/profile").status_code == 302
    assert device_cookie(browser)
    return browser


def lock_out_new_browsers(app, user, address: str = OFFICE) -> None:
    """Five failures on each of the account's names, from addresses of an attacker."""
    for n in range(5):
        for name in (user.username, user.email):
            assert post_login(isolated_client(app), name, "wrong-guess-1", address=f"198.51.100.{n}").status_code == 422
    assert post_login(isolated_client(app), user.username, address=address).status_code == 429


def test_a_successful_login_leaves_a_long_lived_http_only_device_cookie(app):
    user = make_user(username="anna")
    browser = isolated_client(app)
    for refused in (
        post_login(browser, "anna", "wrong-guess-1", address=HOME),
        post_login(browser, "nobody", address=HOME),
    ):
        assert not any(c.startswith("device=") for c in refused.headers.getlist("Set-Cookie"))
    response = post_login(browser, "anna", address=HOME)
    line = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("device="))
    flags = [f.strip() for f in line.split(";")]
    assert "HttpOnly" in flags and "SameSite=Lax" in flags and "Max-Age=31536000" in flags, flags
    assert "Secure" not in flags  # PUBLIC_URL is http in the tests
    assert device_cookie(browser).startswith(f"{user.id}.")
    assert PASSWORD not in device_cookie(browser)


@pytest.mark.parametrize("kind", ["unconfirmed", "blocked"])
def test_a_refused_login_with_the_right_password_leaves_no_device_cookie(app, kind):
    make_user(username="anna", **{"confirmed": False} if kind == "unconfirmed" else {"blocked": True})
    browser = isolated_client(app)
    assert post_login(browser, "anna", address=HOME).status_code in (403, 422)
    assert device_cookie(browser) is None


def test_the_device_cookie_is_secure_when_the_public_url_is_https(app_config, session_clock):
    secure = create_app({**app_config, "PUBLIC_URL": "https://portal.example", "CLOCK": session_clock})
    secure.test_client_class = PortalClient
    browser = isolated_client(secure)
    site = "https://portal.example"
    with secure.app_context():
        make_user(username="anna")
        data = {"login": "anna", "password": PASSWORD, "csrf_token": browser.csrf_token("/login", base_url=site)}
        response = browser.post("/login", data=data, base_url=site, headers={"Referer": f"{site}/login"})
        _db.session.remove()
    assert response.status_code == 302
    line = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("device="))
    assert {"Secure", "HttpOnly", "SameSite=Lax"} <= {f.strip() for f in line.split(";")}


def test_the_owners_browser_is_not_held_back_by_failures_from_elsewhere_nor_by_its_address(app):
    user = make_user(username="anna", email="anna@example.com")
    owner = owners_browser(app, user)
    lock_out_new_browsers(app, user)
    for n in range(20):  # the owner's own network is used for guessing too
        assert post_login(isolated_client(app), f"guess{n}", "wrong-guess-1", address=HOME).status_code == 422
    new_browser = isolated_client(app)
    for name in ("anna", "anna@example.com"):
        refused = post_login(new_browser, name, address=HOME)
        assert refused.status_code == 429
        assert form_alert(refused.get_data(as_text=True)) == THROTTLED
    assert post_login(owner, "anna", address=HOME).status_code == 302
    assert owner.get("/profile").status_code == 200
    owner.submit("/logout", {}, from_url="/profile")
    assert (
        post_login(owner, "ANNA@example.com", address=HOME).status_code == 302
    )  # by email too: it is the same account


def test_failures_with_a_device_cookie_count_against_that_cookie_only(app):
    user = make_user(username="anna")
    owner = owners_browser(app, user)
    for _ in range(5):
        assert post_login(owner, "anna", "wrong-guess-1", address=OFFICE).status_code == 422
    refused = post_login(owner, "anna", address=OFFICE)  # a stolen device cookie guesses no further
    assert refused.status_code == 429
    assert form_alert(refused.get_data(as_text=True)) == THROTTLED
    # Neither the name nor the address counted those five: 15 more failures from the address leave it at 15 of 20.
    for n in range(15):
        assert post_login(isolated_client(app), f"guess{n}", "wrong-guess-1", address=OFFICE).status_code == 422
    elsewhere = isolated_client(app)
    assert post_login(elsewhere, "anna", address=OFFICE).status_code == 302
    assert elsewhere.get("/profile").status_code == 200


def tampered(value: str, how: str, other_id: int) -> str:
    ident, _, token = value.partition(".")
    if how == "signature changed":
        return f"{ident}.{token[:-2]}{'A' if token[-2] != 'A' else 'B'}{token[-1]}"
    if how == "another account's cookie relabelled":
        return f"{other_id}.{token}"
    if how == "garbage":
        return f"{ident}.not-a-token"
    return value


@pytest.mark.parametrize(
    "how", ["untouched", "signature changed", "another account's cookie relabelled", "garbage", "another account's"]
)
def test_only_a_genuine_device_cookie_of_the_account_lets_the_browser_past_the_lock(app, how):
    anna, boris = make_user(username="anna"), make_user(username="boris")
    holder = owners_browser(app, boris if how in ("another account's cookie relabelled", "another account's") else anna)
    value = device_cookie(holder)
    holder.set_cookie("device", tampered(value, how, anna.id))
    lock_out_new_browsers(app, anna)
    response = post_login(holder, "anna", address=HOME)
    assert response.status_code == (302 if how == "untouched" else 429)
    assert (holder.get("/profile").status_code == 200) == (how == "untouched")


def test_a_password_change_retires_the_accounts_device_cookies(app):
    user = make_user(username="anna", email="anna@example.com")
    old_browser = owners_browser(app, user)
    changer = isolated_client(app)
    post_login(changer, "anna", address=HOME)
    response = changer.post(
        "/profile",
        data={
            "password-csrf_token": changer.csrf_token("/profile"),
            "password-current_password": PASSWORD,
            "password-new_password": NEW_PASSWORD,
            "password-confirm": NEW_PASSWORD,
            "password-submit": "Change password",
        },
    )
    assert response.status_code == 302
    assert any(
        c.startswith("device=") for c in response.headers.getlist("Set-Cookie")
    )  # a new one for the new password
    changer.submit("/logout", {}, from_url="/profile")
    lock_out_new_browsers(app, user)
    assert (
        post_login(old_browser, "anna", NEW_PASSWORD, address=HOME).status_code == 429
    )  # a copied old cookie is worth nothing now
    assert post_login(changer, "anna", NEW_PASSWORD, address=HOME).status_code == 302


def test_one_browser_keeps_the_device_cookies_of_its_last_five_accounts(app):
    users = [make_user(username=f"member{n}") for n in range(7)]
    family_computer = isolated_client(app)
    for user in users:
        assert post_login(family_computer, user.username, address=HOME).status_code == 302
        family_computer.submit("/logout", {}, from_url="/profile")
    entries = device_cookie(family_computer).split("~")
    assert [int(e.split(".", 1)[0]) for e in entries] == [u.id for u in reversed(users[2:])]  # newest first
    for user in (users[0], users[-1]):
        lock_out_new_browsers(app, user)
    assert post_login(family_computer, users[0].username, address=HOME).status_code == 429  # pushed out of the cookie
    assert post_login(family_computer, users[-1].username, address=HOME).status_code == 302
