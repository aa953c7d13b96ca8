"""Session loading: a per-user token ends copied cookies; blocked users are stopped at once."""

from flask import Flask, g, render_template, request
from flask_login import current_user, logout_user

from portal.api import is_api_request
from portal.extensions import db, login_manager
from portal.i18n import lazy_gettext as _l
from portal.models import User


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user)
    app.before_request(refuse_blocked_user)


def load_user(user_id: str):
    """Find the user of a session id `<id>:<token>`; a stale token means the session was ended."""
    ident, _, token = (user_id or "").partition(":")
    if not ident.isdigit() or not token:
        return None
    user = db.session.get(User, int(ident))
    if user is None:
        return None
    # A blocked user's old sessions still resolve once, so they see why they are out.
    if user.session_token == token or user.is_blocked:
        return user
    return None


def refuse_blocked_user():
    """Every request of a blocked user answers 403 and ends that session (the API ignores sessions)."""
    if request.endpoint == "static" or is_api_request():
        return None
    if current_user.is_authenticated and current_user.is_blocked:
        # Keep the user's language for the page that tells them why they are out.
        g.locale, g.timezone = current_user.locale, current_user.timezone
        logout_user()
        return render_template("errors/blocked.html"), 403
    return None
