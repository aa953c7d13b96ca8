"""Device cookies (OWASP "Slow down online guessing attacks with device cookies").

A successful login leaves a long-lived cookie in the browser saying "this browser has logged in to account N".
A login from a browser that shows such a cookie for the account it names is counted against that cookie only:
failures made elsewhere, and failures from its network address, do not hold it back, so the per-account
limit cannot be used to lock the owner out. Its own failures lock that one cookie after as many failures as
an account gets, so a stolen cookie cannot guess without limit either.

One cookie holds the entries of the last few accounts that logged in from the browser (newest first), each
`<account id>.<token>`. The token is a random device id signed with a key made from the secret key, the
account id and the account's password hash: it is worthless for another account, and a password change or
reset retires every device cookie of the account, a stolen one included.
"""

import secrets
from dataclasses import dataclass

from flask import Response, current_app, request
from itsdangerous import BadData, URLSafeTimedSerializer

from portal.models import User

COOKIE = "device"
MAX_ACCOUNTS = 5
LIFETIME_DAYS = 365
_SEPARATOR = "~"  # a cookie-safe character that signed tokens never contain


def _serializer(user: User) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=f"device-cookie {user.id} {user.password_hash}")


@dataclass(frozen=True)
class Devices:
    """The device cookie a browser sent: account id → signed token, not yet verified."""

    tokens: dict[int, str]

    @classmethod
    def from_request(cls) -> "Devices":
        """Read the cookie of the current request; anything malformed is skipped."""
        tokens: dict[int, str] = {}
        for entry in request.cookies.get(COOKIE, "").split(_SEPARATOR)[:MAX_ACCOUNTS]:
            ident, _, token = entry.partition(".")
            if ident.isdigit() and token and int(ident) not in tokens:
                tokens[int(ident)] = token
        return cls(tokens)

    def device_id(self, user: User | None) -> str | None:
        """This browser's device id for the account, if its cookie is genuine, current and unexpired."""
        token = self.tokens.get(user.id) if user is not None else None
        if token is None:
            return None
        try:
            device = _serializer(user).loads(token, max_age=LIFETIME_DAYS * 86400)
        except BadData:
            return None
        return device if isinstance(device, str) else None


NO_DEVICES = Devices({})


def remember_device(response: Response, user: User) -> None:
    """Give this browser a fresh device id for the account (after it proved the password)."""
    entry = f"{user.id}.{_serializer(user).dumps(secrets.token_urlsafe(16))}"
    others = [f"{ident}.{token}" for ident, token in Devices.from_request().tokens.items() if ident != user.id]
    response.set_cookie(
        COOKIE,
        _SEPARATOR.join([entry, *others][:MAX_ACCOUNTS]),
        max_age=LIFETIME_DAYS * 86400,
        httponly=True,
        samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
    )
