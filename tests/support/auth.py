"""Accounts: browser-like clients, the registration form, and the emails and links it sends."""

import re

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuthToken, OutboxEmail, User
from tests.factories import PASSWORD
from tests.support.mail import body_of
from tests.support.pages import field_error as field_error  # the account tests read it from here too
from tests.support.pages import form_alert as form_alert
from tests.support.web import PortalClient

GOOD_PASSWORD = "plum-orbit-canvas-71"


class IsolatedClient(PortalClient):
    """Each request runs in an app context of its own, as in production: a fresh `g`, a fresh database session.

    (Without it, requests made while a test holds an app context share that context's `g`, so the
    logged-in user of one request would leak into the next, whatever the cookies say.)
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


def isolated_client(app) -> IsolatedClient:
    """A browser-like test client: its own cookie jar, one app context per request."""
    return IsolatedClient(app, app.response_class, use_cookies=True)


def post_login(client, login: str, password: str = PASSWORD, *, address: str | None = None, remember: bool = False):
    """Send the login form as a browser would, from `address` if given (the throttles count per address and per
    account). The answer, as it is."""
    data = {"login": login, "password": password, **({"remember": "y"} if remember else {})}
    return client.submit("/login", data, **({"environ_base": {"REMOTE_ADDR": address}} if address else {}))


def logged_in_browser(app, user, remember: bool = False) -> IsolatedClient:
    """A fresh browser logged in as `user` through the login form."""
    browser = isolated_client(app)
    Auth(browser).login_as(user, remember=remember)
    return browser


def copy_of(client, app, names=("session", "remember_token")) -> IsolatedClient:
    """A second browser holding copies of the first one's cookies."""
    other = isolated_client(app)
    for name in names:
        cookie = client.get_cookie(name)
        if cookie is not None:
            other.set_cookie(name, cookie.value)
    return other


def device_cookie(client) -> str | None:
    """The value of the device cookie the browser holds (portal/devices.py), if any."""
    cookie = client.get_cookie("device")
    return cookie.value if cookie else None


LINK_RE = re.compile(r"http://portal\.test(/(?:confirm|reset-password)/[A-Za-z0-9_\-]+)")


def registration(**overrides) -> dict:
    """A valid registration form, with any field replaced."""
    data = {
        "username": "maria_k",
        "email": "maria@example.com",
        "password": GOOD_PASSWORD,
        "confirm": GOOD_PASSWORD,
        "role": "client",
        "timezone": "Europe/Berlin",
        "language": "en",
        "display_name": "",
        "specialty": "",
        "bio": "",
    }
    data.update(overrides)
    if "password" in overrides and "confirm" not in overrides:
        data["confirm"] = overrides["password"]
    return data


def register(client, **overrides):
    """Submit the registration form like a browser."""
    return client.submit("/register", registration(**overrides))


def row_counts() -> dict[str, int]:
    """How many users, tokens and outbox emails exist."""
    db.session.expire_all()
    return {
        "users": db.session.scalar(select(func.count(User.id))),
        "tokens": db.session.scalar(select(func.count(AuthToken.id))),
        "emails": db.session.scalar(select(func.count(OutboxEmail.id))),
    }


def emails_to(address: str) -> list[OutboxEmail]:
    """Outbox rows for one recipient, oldest first."""
    db.session.expire_all()
    return list(
        db.session.scalars(select(OutboxEmail).where(OutboxEmail.recipient == address).order_by(OutboxEmail.id))
    )


def link_in(text: str) -> str:
    """The path of the confirmation or reset link in an email body (the host is PUBLIC_URL)."""
    match = LINK_RE.search(text)
    assert match, f"no link in: {text}"
    return match.group(1)


def last_link(address: str) -> str:
    """The link of the newest outbox email to `address`."""
    rows = emails_to(address)
    assert rows, f"no email to {address}"
    return link_in(rows[-1].body_text)


def mail_link(message) -> str:
    """The link in a delivered email."""
    return link_in(body_of(message))


class Auth:
    """Logging a test client in and out through the real forms."""

    def __init__(self, client):
        self.client = client

    def login_as(self, user, password: str | None = None, *, remember: bool = False):
        """Log in through the real form."""
        response = post_login(self.client, user.username, password or PASSWORD, remember=remember)
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        return response

    def logout(self):
        return self.client.submit("/logout", {}, from_url="/profile")
