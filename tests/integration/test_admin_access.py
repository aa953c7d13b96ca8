"""Every admin route × every kind of visitor → the expected answer."""

import itertools

import pytest

from portal.models import OutboxEmail, User
from tests.factories import make_user
from tests.integration.test_admin_moderation import BLOCKED_TEXT, login, new_browser

GET_ROUTES = [
    "/admin",
    "/admin/export/consultations.csv?from=2026-01-01&to=2026-12-31",
    "/admin/users",
    "/admin/log",
    "/admin/emails",
    "/admin/users/{target}/block",
]
POST_ROUTES = ["/admin/users/{target}/block", "/admin/users/{target}/unblock", "/admin/emails/{email}/retry"]
# Outbox ids never reused in this process: a retry job queued by one test cannot touch another's row.
EMAIL_IDS = itertools.count(700_000)


@pytest.fixture
def world(app, db):
    target = make_user("client", username="target")
    email = OutboxEmail(
        id=next(EMAIL_IDS), recipient="x@example.com", kind="k", subject="s", body_text="b", state="failed", attempts=3
    )
    db.session.add(email)
    db.session.commit()
    return {"target": target.id, "email": email.id}


def visitor(app, db, kind: str):
    """A browser for: anonymous, client, specialist, admin, or an admin blocked after logging in."""
    if kind == "anonymous":
        browser = new_browser(app)
        return browser, browser.csrf_token("/login")
    user = make_user("admin" if kind in ("admin", "blocked admin") else kind)
    browser = login(app, user)
    token = browser.csrf_token("/profile")
    if kind == "blocked admin":
        db.session.get(User, user.id).is_blocked = True
        db.session.commit()
    return browser, token


EXPECTED = {"anonymous": 302, "client": 403, "specialist": 403, "admin": 200, "blocked admin": 403}


@pytest.mark.parametrize("kind", list(EXPECTED))
@pytest.mark.parametrize("route", GET_ROUTES)
def test_get_routes(app, db, world, kind, route):
    browser, _ = visitor(app, db, kind)
    # Read to the end and closed, as a server does (the export is streamed).
    response = browser.get(route.format(**world), buffered=True)
    assert response.status_code == EXPECTED[kind]
    if kind == "anonymous":
        assert "/login?next=" in response.headers["Location"]
    if kind == "blocked admin":
        assert BLOCKED_TEXT in response.get_data(as_text=True)


@pytest.mark.parametrize("kind", list(EXPECTED))
@pytest.mark.parametrize("route", POST_ROUTES)
def test_post_routes(app, db, world, kind, route):
    browser, token = visitor(app, db, kind)
    response = browser.post(route.format(**world), data={"csrf_token": token, "confirm": "yes"})
    expected = 303 if kind == "admin" else EXPECTED[kind]
    assert response.status_code == expected
    if kind == "blocked admin":
        assert BLOCKED_TEXT in response.get_data(as_text=True)
    db.session.expire_all()
    target, email = db.session.get(User, world["target"]), db.session.get(OutboxEmail, world["email"])
    if kind != "admin":
        assert not target.is_blocked and email.state == "failed"
