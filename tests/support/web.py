"""The test client the tests browse with: forms sent with their page's CSRF token, each request in its own app
context."""

import re

from flask import has_app_context
from flask.testing import FlaskClient

from portal.extensions import db as _db

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_in(html: str, where: str = "the page") -> str:
    """The CSRF token of the first form of a page."""
    match = CSRF_RE.search(html)
    assert match, f"no CSRF token on {where}"
    return match.group(1) or match.group(2)


class PortalClient(FlaskClient):
    """Test client that submits forms with the CSRF token of the page they come from.

    Each request runs in an app context of its own (its own `g`, database session and clock reading), as in a
    real server, so two clients in one test never share a logged-in user or a cached "now"."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        if has_app_context():
            # The test's own session must see what the request committed.
            _db.session.expire_all()
        return response

    def csrf_token(self, url: str, **kwargs) -> str:
        """The CSRF token of the page at `url` (`kwargs` as for `get`, e.g. `base_url`)."""
        response = self.get(url, **kwargs)
        return csrf_in(response.get_data(as_text=True), f"{url} (status {response.status_code})")

    def submit(self, url: str, data: dict | None = None, from_url: str | None = None, **kwargs):
        """POST like a browser: token taken from `from_url` (default: the same URL)."""
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token(from_url or url))
        return self.post(url, data=data, **kwargs)
