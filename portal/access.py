"""Who may see what: role checks, owner loaders and safe redirects."""

from functools import wraps
from urllib.parse import urlsplit

from flask import abort, request
from flask_login import current_user

from portal.extensions import login_manager


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


def home_endpoint(user) -> str:
    return {
        "client": "client.slots",
        "specialist": "specialist.calendar",
        "admin": "admin.users",
    }.get(user.role, "main.index")


def wants_next() -> str | None:
    return safe_next(request.args.get("next") or request.form.get("next"))
