"""Who is calling: the bearer token of every API request, its rate limit, and the role each operation needs.

The API never looks at the session cookie: a logged-in browser without a token is anonymous here, and no
CSRF token is needed because nothing a browser sends by itself (cookies) can authorise a request.
"""

from functools import wraps

from flask import current_app, g, request
from flask_smorest import Blueprint, abort

from portal.api import tokens
from portal.api.problems import use_language, use_request_language
from portal.clock import utcnow
from portal.i18n import gettext as _
from portal.models import User
from portal.services import throttle

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="api"'}


def bearer_token() -> str | None:
    """The token of an `Authorization: Bearer <token>` header, if there is one."""
    scheme, _, value = request.headers.get("Authorization", "").strip().partition(" ")
    value = value.strip()
    return value if scheme.lower() == "bearer" and value else None


def authenticate() -> None:
    """Before every operation: a working token (401), within its rate limit (429), of an unblocked user (403)
    who, as an admin where ADMIN_REQUIRE_2FA is on, has two-factor authentication (403)."""
    use_request_language()
    token = tokens.find_active(bearer_token() or "")
    if token is None:
        abort(401, headers=CHALLENGE)
    user = token.user
    use_language(user.locale, user.timezone)
    wait = throttle.api_request_wait(token.id)
    if wait:
        abort(429, headers={"Retry-After": str(wait)})
    if user.is_blocked:
        abort(403, detail=_("Your account is blocked"))
    if user.role == "admin" and current_app.config["ADMIN_REQUIRE_2FA"] and not user.has_two_factor:
        # As on the pages: such an admin reaches nothing but the set-up page, whatever their tokens.
        abort(403, detail=_("Administrators must turn on two-factor authentication before anything else."))
    tokens.touch(token, utcnow())
    g.api_user = user


def caller() -> User:
    """The user whose token this request carries."""
    return g.api_user


def requires(*roles: str):
    """The roles an operation is for: anyone else gets 403 (documented as `x-roles` in the OpenAPI document)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if caller().role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return Blueprint.doc(**{"x-roles": list(roles)})(wrapped)

    return decorator
