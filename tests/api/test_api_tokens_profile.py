"""The profile's API tokens section: a named token shown once and stored as its SHA-256, listed with its prefix,
creation and last use, revoked with a button (and refused by the API at once)."""

import hashlib
import re

import pytest

from portal.extensions import db as _db
from portal.models import ApiToken
from tests.factories import make_user
from tests.support.api import assert_problem, make_token

TOKEN_ON_PAGE = re.compile(r'<code class="token-value">(cpt_[A-Za-z0-9_\-]+)</code>')


def create(client, name: str):
    return client.submit("/profile", {"token-name": name, "token-submit": "Create token"})


def revoke(client, token_id):
    return client.submit("/profile", {"revoke-token_id": str(token_id), "revoke-submit": "Revoke"})


def section(html: str) -> str:
    return html[html.index('id="api-tokens"') :]


@pytest.fixture
def me(auth):
    user = make_user("client", username="scripter")
    auth.login_as(user)
    return user


def test_a_token_is_shown_once_and_stored_hashed(client, me, api):
    response = create(client, "Calendar sync")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    raw = TOKEN_ON_PAGE.search(html).group(1)
    assert "shown only once" in html
    row = _db.session.query(ApiToken).filter_by(user_id=me.id).one()
    assert (row.name, row.token_hash, row.revoked_at) == (
        "Calendar sync",
        hashlib.sha256(raw.encode()).hexdigest(),
        None,
    )
    assert raw not in (row.token_hash, row.prefix) and raw.startswith(row.prefix)
    # Listed with its name and prefix, never used; the value itself is not on the page again.
    again = client.get("/profile").get_data(as_text=True)
    listed = section(again)
    assert raw not in again
    assert "Calendar sync" in listed and f"<code>{row.prefix}…</code>" in listed and "never" in listed
    # It works, and the profile then shows when it was last used.
    assert api.get("/api/v1/specialists", raw).status_code == 200
    listed = section(client.get("/profile").get_data(as_text=True))
    assert "never" not in listed and "<time datetime=" in listed.split("Calendar sync", 1)[1]


def test_revoking_stops_the_token_at_once(client, me, api):
    raw = TOKEN_ON_PAGE.search(create(client, "old script").get_data(as_text=True)).group(1)
    keep = TOKEN_ON_PAGE.search(create(client, "new script").get_data(as_text=True)).group(1)
    old = _db.session.query(ApiToken).filter_by(name="old script").one()
    response = revoke(client, old.id)
    assert response.status_code == 303 and response.headers["Location"].endswith("/profile#api-tokens")
    listed = section(client.get("/profile").get_data(as_text=True))
    assert "old script" not in listed and "new script" in listed
    _db.session.expire_all()
    assert _db.session.get(ApiToken, old.id).revoked_at is not None
    assert_problem(api.get("/api/v1/specialists", raw), 401)
    assert api.get("/api/v1/specialists", keep).status_code == 200


def test_nobody_revokes_someone_elses_token(client, me, api):
    other = make_user("client")
    theirs = make_token(other)
    token_id = _db.session.query(ApiToken).filter_by(user_id=other.id).one().id
    for value in (token_id, "999999999", "abc", ""):
        response = revoke(client, value)
        assert response.status_code == 303
    assert "does not exist or is already revoked" in client.get("/profile").get_data(as_text=True)
    assert api.get("/api/v1/specialists", theirs).status_code == 200


def test_a_token_needs_a_name(client, me):
    for name, message in (("", "Give the token a name."), ("x" * 65, "Use at most 64 characters.")):
        response = create(client, name)
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert message in html and 'id="token-name-error"' in html
    assert _db.session.query(ApiToken).count() == 0


def test_at_most_twenty_working_tokens(client, me):
    for n in range(20):
        assert create(client, f"token {n}").status_code == 200
    response = create(client, "one too many")
    assert response.status_code == 422
    assert "You have 20 tokens" in response.get_data(as_text=True)
    assert _db.session.query(ApiToken).filter_by(user_id=me.id).count() == 20


def test_the_section_speaks_russian(auth, client):
    auth.login_as(make_user("specialist", locale="ru"))
    html = section(create(client, "скрипт").get_data(as_text=True))
    assert "API-токены" in html and "Создать токен" in html and "Отозвать" in html
    assert "показывается только один раз" in html
