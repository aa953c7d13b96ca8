"""Who may call the API: a bearer token only (never the session cookie), blocked users refused in their language,
no CSRF token for bearer requests, the last-used time written at most once a minute, errors as problem+json."""

from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from portal import create_app
from portal.extensions import db as _db
from portal.models import ApiToken, Consultation, User
from portal.services import two_factor
from tests.factories import make_slot, make_user
from tests.support.api import PROBLEM, assert_problem, make_token
from tests.support.web import PortalClient


def test_no_token_unknown_token_and_other_schemes_are_401(api):
    make_user("client")
    for headers in ({}, {"Authorization": "Bearer cpt_nosuchtoken"}, {"Authorization": "Basic dXNlcjpwYXNz"}):
        response = api.get("/api/v1/specialists", headers=headers)
        body = assert_problem(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert "Authorization: Bearer" in body["detail"]


def test_a_session_cookie_alone_never_authorises_the_api(app, auth, client):
    user = make_user("client")
    auth.login_as(user)
    assert client.get("/client/slots").status_code == 200  # the session works for pages
    response = client.get("/api/v1/slots")
    assert_problem(response, 401)
    # Nor does it for a state change: refused as unauthenticated, not as a missing CSRF token.
    slot = make_slot(make_user("specialist"))
    response = client.post(f"/api/v1/slots/{slot.id}/request", json={})
    assert_problem(response, 401)
    assert _db.session.query(Consultation).count() == 0
    # With a token the same browser is the token's owner, whatever its cookie says.
    other = make_user("client")
    response = client.get("/api/v1/slots", headers={"Authorization": f"Bearer {make_token(other)}"})
    assert response.status_code == 200


def test_bearer_posts_need_no_csrf_token(api):
    client = make_user("client")
    slot = make_slot(make_user("specialist"))
    response = api.post(f"/api/v1/slots/{slot.id}/request", make_token(client), json={})
    assert response.status_code == 201, response.get_data(as_text=True)
    assert _db.session.query(Consultation).filter_by(client_id=client.id, status="pending").count() == 1


@pytest.mark.parametrize(("locale", "words"), [("en", "Your account is blocked"), ("ru", "Ваш аккаунт заблокирован")])
def test_a_blocked_user_is_refused_in_their_language(api, locale, words):
    user = make_user("specialist", locale=locale)
    token = make_token(user)
    assert api.get("/api/v1/me/slots", token).status_code == 200
    _db.session.get(User, user.id).is_blocked = True
    _db.session.commit()
    body = assert_problem(api.get("/api/v1/me/slots", token, headers={"Accept-Language": "en"}), 403)
    assert body["detail"] == words


def test_a_blocked_users_session_gets_a_problem_not_the_blocked_page(auth, client):
    user = make_user("client")
    auth.login_as(user)
    _db.session.get(User, user.id).is_blocked = True
    _db.session.commit()
    assert_problem(client.get("/api/v1/slots"), 401)
    # The API did not touch the session: the next page still tells the user why they are out.
    page = client.get("/client/slots")
    assert page.status_code == 403 and "Your account is blocked" in page.get_data(as_text=True)


def test_another_role_is_403(api):
    token = make_token(make_user("specialist"))
    body = assert_problem(api.get("/api/v1/slots", token), 403)
    assert "not available to your account" in body["detail"]


def test_errors_are_problems_in_the_callers_language(api):
    token = make_token(make_user("client", locale="ru"))
    body = assert_problem(api.get("/api/v1/slots?from=2026-13-01", token), 422)
    assert body["errors"]["from"] == ["Неверная дата."]
    assert body["detail"] == "Некоторые поля заполнены неверно: см. errors."


def test_unknown_addresses_and_methods_under_the_api_are_problems(api, client):
    assert_problem(api.get("/api/v1/nothing-here"), 404)
    assert_problem(api.get("/api/v2/slots"), 404)
    response = api.call("PUT", "/api/v1/slots")
    assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]
    assert_problem(api.get("/api/v1/me/slots/0"), 404)  # not an id: refused before any view
    # Pages keep their HTML error pages.
    page = client.get("/no-such-page")
    assert page.status_code == 404 and page.mimetype == "text/html"


def test_a_malformed_json_body_is_a_problem(api):
    token = make_token(make_user("specialist"))
    response = api.call(
        "POST", "/api/v1/me/slots", token, data="{not json", headers={"Content-Type": "application/json"}
    )
    body = assert_problem(response, 400)
    assert body["errors"] == {"body": ["Invalid JSON body."]}


def test_the_last_used_time_is_written_at_most_once_a_minute(api, clock):
    user = make_user("client")
    token = make_token(user)
    start = datetime(2031, 3, 4, 10, 0, tzinfo=UTC)

    def last_used():
        _db.session.expire_all()
        return _db.session.query(ApiToken).filter_by(user_id=user.id).one().last_used_at

    assert last_used() is None
    for seconds, expected in ((0, start), (30, start), (59, start), (61, start + timedelta(seconds=61))):
        clock.set(start + timedelta(seconds=seconds))
        assert api.get("/api/v1/specialists", token).status_code == 200
        assert last_used() == expected, seconds


@pytest.fixture
def limited_apps(app_config, session_clock):
    """Two apps (as two web processes would be) sharing one Redis, each token allowed 3 requests a minute."""
    config = {**app_config, "CLOCK": session_clock, "API_RATE_LIMIT": "3 per minute"}
    apps = [create_app(config), create_app(config)]
    for each in apps:
        each.test_client_class = PortalClient
    return apps


def test_the_rate_limit_is_per_token_and_shared_by_all_processes(limited_apps):
    first, second = (each.test_client() for each in limited_apps)
    user = make_user("client")
    token, other_token = make_token(user), make_token(user, "another")
    auth = {"Authorization": f"Bearer {token}"}
    assert first.get("/api/v1/specialists", headers=auth).status_code == 200
    assert second.get("/api/v1/specialists", headers=auth).status_code == 200
    assert first.get("/api/v1/specialists", headers=auth).status_code == 200
    refused = second.get("/api/v1/specialists", headers=auth)
    assert refused.status_code == 429 and refused.mimetype == PROBLEM
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.get_json()["status"] == 429
    # Another token of the same person has its own allowance.
    assert first.get("/api/v1/specialists", headers={"Authorization": f"Bearer {other_token}"}).status_code == 200


def test_a_body_too_large_is_a_problem_before_it_is_read(api):
    token = make_token(make_user("specialist"))
    response = api.call(
        "POST",
        "/api/v1/me/slots",
        token,
        data="[" + "1," * 600_000 + "1]",
        headers={"Content-Type": "application/json"},
    )
    assert_problem(response, 413)


def test_a_bug_is_a_problem_too_never_an_html_page(api, monkeypatch, caplog):
    """Should a service ever fail unexpectedly, the caller still gets problem+json (and the log has the trace)."""
    from portal.services import booking

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(booking, "request_slot", broken)
    slot = make_slot(make_user("specialist"))
    body = assert_problem(api.post(f"/api/v1/slots/{slot.id}/request", make_token(make_user("client"))), 500)
    assert "Something went wrong" in body["detail"]
    assert "unexpected error in the API" in caplog.text


def test_admin_require_2fa_holds_back_an_admin_token_until_two_factor_is_on(api, app, clock, monkeypatch):
    monkeypatch.setitem(app.config, "ADMIN_REQUIRE_2FA", True)
    clock.set(datetime(2026, 12, 9, 10, 0, 7, tzinfo=UTC))
    root = make_user("admin", username="root")
    maria = make_user("client", username="maria")
    root_token, maria_token = make_token(root), make_token(maria)
    body = assert_problem(api.get("/api/v1/admin/users", root_token), 403)
    assert body["detail"] == "Administrators must turn on two-factor authentication before anything else."
    refused = api.post(f"/api/v1/admin/users/{maria.id}/block", root_token, json={"reason": "spam"})
    assert_problem(refused, 403)
    _db.session.expire_all()
    assert not _db.session.get(User, maria.id).is_blocked
    # Clients are not held back.
    assert api.get("/api/v1/slots", maria_token).status_code == 200
    # Once the admin has turned it on, the same token works.
    secret = two_factor.new_secret()
    two_factor.turn_on(_db.session.get(User, root.id), secret, pyotp.TOTP(secret).at(clock()))
    _db.session.commit()
    assert api.get("/api/v1/admin/users", root_token).status_code == 200
    monkeypatch.setitem(app.config, "ADMIN_REQUIRE_2FA", False)
    other = make_user("admin", username="other")
    assert api.get("/api/v1/admin/users", make_token(other)).status_code == 200
