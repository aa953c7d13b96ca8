"""Helpers shared by the account tests (this module holds no tests)."""

import html as html_lib
import re
from email.header import decode_header, make_header

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuthToken, OutboxEmail, User
from tests.conftest import PortalClient, body_of

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


def subject_of(message) -> str:
    """The decoded Subject header of a delivered email."""
    return str(make_header(decode_header(message["Subject"])))


def mail_link(message) -> str:
    """The link in a delivered email."""
    return link_in(body_of(message))


def field_error(html: str, field_id: str) -> str:
    """The error text shown next to a field (empty if none)."""
    match = re.search(rf'<p class="field-error" id="{re.escape(field_id)}-error">(.*?)</p>', html, re.S)
    return html_lib.unescape(match.group(1).strip()) if match else ""


def form_alert(html: str) -> str:
    """The form-level error box text (empty if none)."""
    match = re.search(r'<div class="alert alert-error" role="alert">(.*?)</div>', html, re.S)
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", match.group(1)).strip()) if match else ""
