"""Logging in: by username or email, role homes, safe `next`, refusals and throttling shared through Redis."""

import pytest

from portal import create_app
from tests.factories import PASSWORD, make_user
from tests.support.auth import isolated_client, post_login
from tests.support.pages import form_alert
from tests.support.web import PortalClient

WRONG = "Wrong username, email or password."
THROTTLED = "Too many failed attempts. Please wait 15 minutes and try again."


@pytest.fixture
def client(app):
    """Requests isolated from each other and from the test, like a real browser's."""
    return isolated_client(app)


def stranger(client):
    """Another browser, with no cookies yet."""
    return isolated_client(client.application)


def logged_in_as(client) -> str | None:
    with client.session_transaction() as session:
        return session.get("_user_id")


@pytest.mark.parametrize(
    ("role", "home"), [("client", "/client/slots"), ("specialist", "/specialist/calendar"), ("admin", "/admin")]
)
def test_each_role_lands_on_its_home(client, role, home):
    user = make_user(role, username=f"Some{role.title()}")
    response = post_login(client, user.username)
    assert response.status_code == 302
    assert response.headers["Location"] == home
    assert logged_in_as(client).startswith(f"{user.id}:")


@pytest.mark.parametrize("name", ["anna.k", "ANNA.K", "anna@example.com", "Anna@EXAMPLE.com", "  anna.k  "])
def test_login_by_username_or_email_ignores_case(client, name):
    make_user(username="Anna.K", email="anna@example.com")
    assert post_login(client, name).status_code == 302


@pytest.mark.parametrize(("name", "password"), [("anna.k", "wrong-password-1"), ("nobody", PASSWORD), ("", "")])
def test_bad_credentials_show_the_form_again_without_saying_which_part_is_wrong(client, name, password):
    make_user(username="anna.k")
    response = post_login(client, name, password)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    if name:
        assert form_alert(html) == WRONG
    else:
        assert "This field is required." in html
    assert logged_in_as(client) is None
    assert 'value="wrong-password-1"' not in html


def test_unconfirmed_account_is_refused_with_a_way_to_resend_the_link(client, db):
    user = make_user(username="newbie", email="newbie@example.com", confirmed=False)
    response = post_login(client, "newbie")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Please confirm your email address first" in form_alert(html)
    assert logged_in_as(client) is None
    # The offer: a form posting to the resend page, with the Email field filled in, and its button.
    assert 'action="/confirm/resend"' in html
    assert '<label for="email">Email</label>' in html
    assert 'value="newbie@example.com"' in html
    assert 'value="Resend confirmation email"' in html
    assert user.confirmed_at is None


def test_blocked_account_is_refused_with_the_blocked_words(client):
    make_user(username="mallory", blocked=True)
    response = post_login(client, "mallory")
    assert response.status_code == 403
    assert form_alert(response.get_data(as_text=True)) == "Your account is blocked"
    assert logged_in_as(client) is None


def test_blocked_account_is_refused_in_russian_for_a_russian_user(client):
    make_user(username="mallory", blocked=True)
    client.get("/", headers={"Accept-Language": "ru"})
    response = client.submit("/login", {"login": "mallory", "password": PASSWORD}, headers={"Accept-Language": "ru"})
    assert form_alert(response.get_data(as_text=True)) == "Ваш аккаунт заблокирован"


@pytest.mark.parametrize("target", ["/profile", "/client/slots?page=2"])
def test_next_is_honoured_for_local_paths(client, target):
    make_user(username="anna")
    response = client.submit(
        f"/login?next={target.replace('?', '%3F').replace('=', '%3D')}", {"login": "anna", "password": PASSWORD}
    )
    assert response.headers["Location"] == target


@pytest.mark.parametrize(
    "target",
    [
        "//evil.com",
        "https://evil.com",
        "http://evil.com/profile",
        "/\\evil.com",
        "%2F%2Fevil.com",
        "/%5Cevil.com",
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "%20//evil.com",
        "/%09/evil.com",
        "evil.com",
    ],
)
def test_next_to_another_site_is_ignored(client, target):
    make_user(username="anna")
    response = client.submit(f"/login?next={target}", {"login": "anna", "password": PASSWORD}, from_url="/login")
    assert response.status_code == 302
    assert response.headers["Location"] == "/client/slots"


def test_a_protected_page_sends_anonymous_users_to_login_and_back(client):
    make_user(username="anna")
    response = client.get("/profile")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=%2Fprofile"
    back = client.submit(response.headers["Location"], {"login": "anna", "password": PASSWORD})
    assert back.headers["Location"] == "/profile"


def test_logged_in_users_are_sent_home_from_login(client, auth):
    auth.login_as(make_user("admin"))
    assert client.get("/login").headers["Location"] == "/admin"


def test_remember_me_sets_a_long_lived_http_only_cookie(client):
    make_user(username="anna")
    response = post_login(client, "anna", remember=True)
    cookies = response.headers.getlist("Set-Cookie")
    remember = next(c for c in cookies if c.startswith("remember_token="))
    assert "HttpOnly" in remember and "SameSite=Lax" in remember and "Expires=" in remember
    without = isolated_client(client.application)
    plain = post_login(without, "anna")
    assert not any(c.startswith("remember_token=") for c in plain.headers.getlist("Set-Cookie"))


# ---------------------------------------------------------------------------------------------- throttling


def test_five_failures_on_a_name_lock_it_from_any_address_even_with_the_right_password(client):
    make_user(username="anna", email="anna@example.com")
    for n in range(5):
        assert (
            form_alert(post_login(client, "anna", "wrong-password", address=f"198.51.100.{n}").get_data(as_text=True))
            == WRONG
        )
    response = post_login(client, "anna", address="203.0.113.99")
    assert response.status_code == 429
    assert form_alert(response.get_data(as_text=True)) == THROTTLED
    assert logged_in_as(client) is None
    # Any spelling of the name is the same name.
    assert post_login(stranger(client), "  ANNA ", address="203.0.113.98").status_code == 429
    # Another account is unaffected.
    make_user(username="boris")
    assert post_login(client, "boris", address="198.51.100.1").status_code == 302


def test_failures_on_a_username_do_not_reveal_or_lock_its_email(client):
    """Usernames are public: if failures on one throttled its email, anyone could match emails to usernames."""
    make_user(username="anna", email="anna@example.com")
    make_user(username="boris", email="boris@example.com")
    for n in range(5):
        post_login(client, "anna", "wrong-password", address=f"198.51.100.{n}")
    assert post_login(client, "anna", address="203.0.113.5").status_code == 429
    # Her address answers a wrong password exactly like any other address, known or not ...
    answers = {}
    for email in ("anna@example.com", "boris@example.com", "nobody@example.com"):
        response = post_login(stranger(client), email, "wrong-password", address="203.0.113.6")
        answers[email] = (response.status_code, form_alert(response.get_data(as_text=True)))
    assert set(answers.values()) == {(422, WRONG)}, answers
    # ... and the owner still gets in by it.
    owner = stranger(client)
    assert post_login(owner, "anna@example.com", address="203.0.113.7").status_code == 302
    assert logged_in_as(owner) is not None


def test_failures_on_an_email_do_not_lock_the_username(client):
    make_user(username="anna", email="anna@example.com")
    for n in range(5):
        post_login(client, "ANNA@example.com", "wrong-password", address=f"198.51.100.{n}")
    assert post_login(stranger(client), "anna@example.com", address="203.0.113.5").status_code == 429
    assert post_login(stranger(client), "anna", address="203.0.113.5").status_code == 302


def test_failures_for_an_unknown_name_are_throttled_too(client):
    for _ in range(5):
        post_login(client, "ghost", "whatever-1")
    assert form_alert(post_login(client, "ghost", "whatever-1").get_data(as_text=True)) == THROTTLED


def test_twenty_failures_from_one_address_lock_that_address_only(client):
    make_user(username="anna")
    for n in range(20):
        assert post_login(client, f"guess{n}", "nope-nope-1", address="192.0.2.50").status_code == 422
    refused = post_login(client, "anna", address="192.0.2.50")
    assert refused.status_code == 429
    assert form_alert(refused.get_data(as_text=True)) == THROTTLED
    assert post_login(client, "anna", address="192.0.2.51").status_code == 302


def test_only_failures_count(client):
    # Each attempt from a new browser: one that has logged in would be counted on its own (test_auth_devices.py).
    user = make_user(username="anna")
    for _ in range(4):
        post_login(stranger(client), "anna", "wrong-password")
    for _ in range(6):  # successful logins are not counted
        assert post_login(stranger(client), "anna").status_code == 302
    assert post_login(stranger(client), "anna", "wrong-password").status_code == 422  # the fifth failure
    assert post_login(stranger(client), "anna").status_code == 429
    assert user.is_confirmed


def test_two_app_instances_share_the_counts_through_redis(client, app_config, session_clock):
    make_user(username="anna")
    other_app = create_app({**app_config, "CLOCK": session_clock})
    other_app.test_client_class = PortalClient
    other = other_app.test_client()
    for _ in range(3):
        post_login(client, "anna", "wrong-password")
    for _ in range(2):
        post_login(other, "anna", "wrong-password")
    assert post_login(client, "anna").status_code == 429
    assert post_login(other, "anna").status_code == 429
