"""The profile page: details, language switch, specialist fields, password change."""

import re

import pytest

from portal.models import User
from tests.factories import PASSWORD, make_user
from tests.support.auth import emails_to, isolated_client, post_login
from tests.support.pages import field_error

NEW_PASSWORD = "violet-harbour-quartz-58"


@pytest.fixture
def client(app):
    """Requests isolated from each other and from the test, like a real browser's."""
    return isolated_client(app)


def save_profile(client, **fields):
    data = {"profile-csrf_token": client.csrf_token("/profile"), "profile-submit": "Save profile"}
    data.update({f"profile-{k}": v for k, v in fields.items()})
    return client.post("/profile", data=data)


def change_password(client, current=PASSWORD, new=NEW_PASSWORD, confirm=None, **kwargs):
    return client.post(
        "/profile",
        data={
            "password-csrf_token": client.csrf_token("/profile"),
            "password-current_password": current,
            "password-new_password": new,
            "password-confirm": new if confirm is None else confirm,
            "password-submit": "Change password",
        },
        **kwargs,
    )


def fresh(db, user) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


def test_anonymous_visitors_are_sent_to_login(client):
    assert client.get("/profile").headers["Location"] == "/login?next=%2Fprofile"


def test_the_page_shows_the_details_and_the_password_form(client, auth):
    auth.login_as(make_user(username="anna", timezone="Europe/Paris"))
    html = client.get("/profile").get_data(as_text=True)
    for label in ("Display name", "Time zone", "Language", "Current password", "New password", "Confirm new password"):
        assert f">{label}</label>" in html
    assert 'value="Change password"' in html and 'value="Save profile"' in html
    assert '<option selected value="Europe/Paris">' in html
    assert ">Specialty</label>" not in html and ">Bio</label>" not in html


def test_the_time_zone_select_is_grouped_by_region_with_one_label(client, auth):
    auth.login_as(make_user(username="anna", timezone="America/New_York", display_name="Anna K."))
    html = client.get("/profile").get_data(as_text=True)
    select = html[html.index('id="profile-timezone"') :].split("</select>")[0]
    groups = re.findall(r'<optgroup label="([^"]+)">', select)
    assert groups[:3] == ["Coordinated Universal Time", "Africa", "America"] and "Europe" in groups
    assert '<option selected value="America/New_York">America/New York</option>' in select
    assert 'value="Africa/Asmera"' not in select and 'value="US/Eastern"' not in select
    assert "Other zones" not in select
    assert "Anna K." in html and "@anna" in html
    # The zone reads the same in the footer as in the select.
    assert "Times are shown in America/New York." in html


def test_an_older_accounts_zone_stays_selectable_and_saves(client, auth, db):
    user = make_user(username="anna", timezone="US/Eastern")
    auth.login_as(user)
    html = client.get("/profile").get_data(as_text=True)
    assert '<optgroup label="Other zones"><option selected value="US/Eastern">US/Eastern</option></optgroup>' in html
    assert save_profile(client, display_name="Anna", timezone="US/Eastern", language="en").status_code == 302
    assert fresh(db, user).timezone == "US/Eastern"
    # Another retired alias is not accepted, and once a listed zone is chosen the old one is gone from the list.
    refused = save_profile(client, timezone="Europe/Kiev", language="en")
    assert refused.status_code == 422 and "time zone from the list" in field_error(
        refused.get_data(as_text=True), "profile-timezone"
    )
    assert save_profile(client, timezone="Europe/Kyiv", language="en").status_code == 302
    assert "US/Eastern" not in client.get("/profile").get_data(as_text=True)
    assert fresh(db, user).timezone == "Europe/Kyiv"


def test_saving_the_details(client, auth, db):
    user = make_user(username="anna")
    auth.login_as(user)
    response = save_profile(client, display_name="Anna K.", timezone="America/New_York", language="en")
    assert response.status_code == 302
    assert "Your profile is saved." in client.get("/profile").get_data(as_text=True)
    row = fresh(db, user)
    assert (row.display_name, row.timezone, row.locale) == ("Anna K.", "America/New_York", "en")


def test_choosing_russian_switches_the_interface(client, auth, db):
    user = make_user(username="anna")
    auth.login_as(user)
    save_profile(client, display_name="", timezone="UTC", language="ru")
    html = client.get("/profile").get_data(as_text=True)
    assert '<html lang="ru">' in html
    assert "<h1>Профиль</h1>" in html and 'value="Сменить пароль"' in html
    assert fresh(db, user).locale == "ru"
    save_profile(client, display_name="", timezone="UTC", language="en")
    assert '<html lang="en">' in client.get("/profile").get_data(as_text=True)


def test_specialists_edit_specialty_and_bio(client, auth, db):
    user = make_user("specialist", username="drlee")
    auth.login_as(user)
    html = client.get("/profile").get_data(as_text=True)
    assert ">Specialty</label>" in html and ">Bio</label>" in html
    response = save_profile(client, timezone="UTC", language="en", specialty="Family lawyer", bio="Twenty years.")
    assert response.status_code == 302
    row = fresh(db, user)
    assert (row.specialty, row.bio) == ("Family lawyer", "Twenty years.")
    refused = save_profile(client, timezone="UTC", language="en", specialty="", bio="")
    assert refused.status_code == 422
    assert field_error(refused.get_data(as_text=True), "profile-specialty") == "Specialists need a specialty."
    assert fresh(db, user).specialty == "Family lawyer"


def test_clients_cannot_give_themselves_a_specialty(client, auth, db):
    user = make_user(username="anna")
    auth.login_as(user)
    assert save_profile(client, timezone="UTC", language="en", specialty="Surgeon").status_code == 302
    assert fresh(db, user).specialty is None


LONG = "x" * 10_000


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"timezone": "Mars/Base", "language": "en"}, "profile-timezone", "time zone from the list"),
        ({"timezone": LONG, "language": "en"}, "profile-timezone", "time zone from the list"),
        ({"timezone": "UTC", "language": "de"}, "profile-language", "valid choice"),
        ({"timezone": "UTC", "language": "en", "display_name": LONG}, "profile-display_name", "64"),
        ({"timezone": "UTC", "language": "en", "display_name": "An\x00na"}, "profile-display_name", "control"),
    ],
)
def test_bad_details_are_refused_at_the_field_and_nothing_changes(client, auth, db, fields, field, words):
    user = make_user(username="anna", timezone="Asia/Tokyo", display_name="Anna")
    auth.login_as(user)
    response = save_profile(client, **fields)
    assert response.status_code == 422
    assert words in field_error(response.get_data(as_text=True), field)
    row = fresh(db, user)
    assert (row.timezone, row.locale, row.display_name) == ("Asia/Tokyo", "en", "Anna")


def test_changing_the_password(client, app, auth, db):
    user = make_user(username="anna", email="anna@example.com")
    auth.login_as(user)
    response = change_password(client)
    assert response.status_code == 302
    assert "Your password is changed." in client.get("/profile").get_data(as_text=True)
    fresh_login = isolated_client(app)
    assert post_login(fresh_login, "anna", NEW_PASSWORD).status_code == 302
    assert [e.kind for e in emails_to("anna@example.com")] == ["password_changed"]
    assert NEW_PASSWORD not in emails_to("anna@example.com")[0].body_text


@pytest.mark.parametrize(
    ("current", "new", "confirm", "field", "message"),
    [
        ("wrong-password-9", NEW_PASSWORD, None, "password-current_password", "The current password is wrong."),
        (PASSWORD, "qwerty123", None, "password-new_password", "This password is too common."),
        (PASSWORD, "anna", None, "password-new_password", "Use at least 8 characters."),
        (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "?", "password-confirm", "The passwords do not match."),
        (PASSWORD, "x" * 10_000, None, "password-new_password", "Use at most 128 characters."),
        ("", NEW_PASSWORD, None, "password-current_password", "This field is required."),
    ],
)
def test_bad_password_changes_are_refused_at_the_field(client, app, auth, db, current, new, confirm, field, message):
    user = make_user(username="anna", email="anna@example.com")
    auth.login_as(user)
    before = fresh(db, user).password_hash
    response = change_password(client, current, new, confirm)
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), field).startswith(message)
    assert fresh(db, user).password_hash == before
    assert emails_to("anna@example.com") == []
    assert client.get("/profile").status_code == 200


def test_the_footer_switch_changes_the_language_of_a_visitor(client):
    assert '<html lang="en">' in client.get("/login").get_data(as_text=True)
    response = client.submit("/language", {"lang": "ru", "next": "/login?x=1"}, from_url="/login")
    assert response.status_code == 302 and response.headers["Location"] == "/login?x=1"
    assert "<h1>Войти</h1>" in client.get("/login").get_data(as_text=True)


@pytest.mark.parametrize("target", ["https://evil.com", "//evil.com"])
def test_the_footer_switch_never_leaves_the_site(client, target):
    response = client.submit("/language", {"lang": "ru", "next": target}, from_url="/login")
    assert response.headers["Location"] == "/"


def test_the_footer_switch_is_saved_to_the_profile(client, auth, db):
    user = make_user(username="anna")
    auth.login_as(user)
    client.submit("/language", {"lang": "ru", "next": "/profile"}, from_url="/profile")
    assert fresh(db, user).locale == "ru"
    client.submit("/language", {"lang": "xx", "next": "/profile"}, from_url="/profile")
    assert fresh(db, user).locale == "ru"  # an unknown language changes nothing


# ------------------------------------------------------------------ the current password counts as a login


THROTTLED = "Too many failed attempts. Please wait 15 minutes and try again."


def test_six_wrong_current_passwords_throttle_the_check(client, auth, db):
    user = make_user(username="anna", email="anna@example.com")
    auth.login_as(user)
    before = fresh(db, user).password_hash
    for _ in range(5):
        response = change_password(client, "wrong-password-9")
        assert response.status_code == 422
        assert field_error(response.get_data(as_text=True), "password-current_password") == (
            "The current password is wrong."
        )
    refused = change_password(client, PASSWORD)  # the sixth is refused unchecked, even with the right password
    assert refused.status_code == 429
    assert field_error(refused.get_data(as_text=True), "password-current_password") == THROTTLED
    assert fresh(db, user).password_hash == before
    assert emails_to("anna@example.com") == []
    assert client.get("/profile").status_code == 200  # still logged in; only the check is held back
    # They were failed logins of this browser: it cannot log in either until the window passes.
    auth.logout()
    assert post_login(client, "anna").status_code == 429


def test_a_stolen_session_cannot_guess_the_password_nor_lock_the_owner_out(client, app, auth, db):
    user = make_user(username="anna", email="anna@example.com")
    auth.login_as(user)
    before = fresh(db, user).password_hash
    there = "198.51.100.9"
    from_there = {"environ_base": {"REMOTE_ADDR": there}}
    thief = isolated_client(app)  # a copy of the session cookie only, used from another network
    thief.set_cookie("session", client.get_cookie("session").value)
    assert thief.get("/profile").status_code == 200
    for n in range(15):  # the thief's network has already failed 15 logins on other names
        post_login(isolated_client(app), f"guess{n}", "x" * 8, address=there)
    for _ in range(5):
        response = change_password(thief, "wrong-password-9", **from_there)
        assert response.status_code == 422
    refused = change_password(thief, PASSWORD, **from_there)
    assert refused.status_code == 429
    assert fresh(db, user).password_hash == before
    # Counted for the account under both its names, and for the address ...
    for name in ("anna", "anna@example.com"):
        assert post_login(isolated_client(app), name).status_code == 429
    make_user(username="boris")
    assert post_login(isolated_client(app), "boris", address=there).status_code == 429
    # ... but not for the owner's own browser, which changes the password at once.
    assert change_password(client).status_code == 302
    assert fresh(db, user).password_hash != before
    assert thief.get("/profile").status_code == 302  # and the stolen session is over


def test_email_me_reminders_is_on_by_default_and_saved_both_ways(client, auth, db):
    user = make_user(username="anna")
    auth.login_as(user)
    html = client.get("/profile").get_data(as_text=True)
    assert 'checked id="profile-reminders_enabled" name="profile-reminders_enabled" type="checkbox"' in html
    assert '<label for="profile-reminders_enabled">Email me reminders</label>' in html
    assert save_profile(client, timezone="UTC", language="en").status_code == 302  # unticked: not sent
    assert fresh(db, user).reminders_enabled is False
    assert 'checked id="profile-reminders_enabled"' not in client.get("/profile").get_data(as_text=True)
    assert save_profile(client, timezone="UTC", language="ru", reminders_enabled="y").status_code == 302
    assert fresh(db, user).reminders_enabled is True
    assert ">Присылать мне напоминания</label>" in client.get("/profile").get_data(as_text=True)


def test_a_refused_profile_keeps_the_reminders_setting(client, auth, db):
    user = make_user(username="anna")
    auth.login_as(user)
    response = save_profile(client, timezone="Mars/Olympus", language="en")
    assert response.status_code == 422
    assert fresh(db, user).reminders_enabled is True
