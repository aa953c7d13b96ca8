"""Calling the REST API in tests: tokens, a client that sends them, and the problem+json answers."""

from sqlalchemy import text

from portal.api import tokens as api_tokens
from portal.extensions import db as _db
from portal.models import User

PROBLEM = "application/problem+json"


def make_token(user: User, name: str = "script") -> str:
    """A working token of `user`, made by the same service as the profile's Create token button."""
    _, raw = api_tokens.create_token(_db.session.get(User, user.id), name)
    _db.session.commit()
    return raw


class Api:
    """The app's test client speaking JSON with a bearer token; no cookies kept between requests."""

    def __init__(self, app):
        self.app = app

    def call(self, method: str, path: str, token: str | None = None, json=None, **kwargs):
        client = self.app.test_client()
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return client.open(path, method=method, json=json, headers=headers, **kwargs)

    def get(self, path, token=None, **kwargs):
        return self.call("GET", path, token, **kwargs)

    def post(self, path, token=None, json=None, **kwargs):
        return self.call("POST", path, token, json=json, **kwargs)

    def patch(self, path, token=None, json=None, **kwargs):
        return self.call("PATCH", path, token, json=json, **kwargs)

    def delete(self, path, token=None, **kwargs):
        return self.call("DELETE", path, token, **kwargs)


def assert_problem(response, status: int) -> dict:
    """The response is a problem+json of this status with title, status and detail; returns its body."""
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == PROBLEM, response.mimetype
    body = response.get_json(force=True)
    assert body["status"] == status and body["title"] and body["detail"], body
    return body


def fingerprint() -> str:
    """A digest of every row of every table but the tokens' (whose last-used time any call may write)."""
    parts = [
        f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {table.name} t"
        for table in _db.metadata.sorted_tables
        if table.name != "api_tokens"
    ]
    return "".join(_db.session.execute(text(" UNION ALL ".join(parts))).scalars())
