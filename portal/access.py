"""Who may see what: role checks, owner loaders and safe redirects."""

from functools import wraps
from urllib.parse import urlsplit

from flask import Flask, abort, request
from flask_login import current_user

from portal.extensions import login_manager
from portal.i18n import lazy_gettext as _l


def init_app(app: Flask) -> None:
    app.jinja_env.globals["navigation"] = navigation


def role_required(*roles: str):
    """Anonymous → login with next; another role → 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def safe_next(target: str | None) -> str | None:
    """Only paths on this site: no scheme, no host, no protocol-relative or backslash tricks."""
    if not target or len(target) > 2000:
        return None
    if any(ch in target for ch in ("\\", "\r", "\n", "\t", "\x00")):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


# Each role's pages in the navigation, in order; the first is the role's home (where login lands).
NAVIGATION = {
    "client": (("client.slots", _l("Find a slot")), ("client.consultations", _l("My consultations"))),
    "specialist": (
        ("specialist.calendar", _l("Calendar")),
        ("specialist.slots", _l("Slots")),
        ("specialist.consultations", _l("Requests")),
    ),
    "admin": (
        ("admin.dashboard", _l("Overview")),
        ("admin.users", _l("Users")),
        ("admin.log", _l("Moderation log")),
        ("admin.emails", _l("Email delivery")),
    ),
}


def navigation(user) -> tuple:
    """(endpoint, label) of the pages the user's role has in the navigation."""
    return NAVIGATION.get(user.role, ())


def home_endpoint(user) -> str:
    """Where the user's role starts: the first page of its navigation."""
    pages = navigation(user)
    return pages[0][0] if pages else "main.index"


def wants_next() -> str | None:
    return safe_next(request.args.get("next") or request.form.get("next"))
