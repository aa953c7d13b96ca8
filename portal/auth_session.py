"""Session loading: a per-user token ends copied cookies; blocked users are stopped at once; with
ADMIN_REQUIRE_2FA an admin without two-factor authentication reaches only its set-up page."""

from functools import cache

from flask import Flask, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user, logout_user
from sqlalchemy import Select, bindparam, select

from portal.api import is_api_request
from portal.extensions import db, login_manager
from portal.i18n import gettext as _
from portal.i18n import lazy_gettext as _l
from portal.models import User


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user)
    app.before_request(refuse_blocked_user)
    app.before_request(require_admin_two_factor)


def load_user(user_id: str):
    """Find the user of a session id `<id>:<token>`; a stale token means the session was ended."""
    ident, _, token = (user_id or "").partition(":")
    if not ident.isdigit() or not token:
        return None
    user = db.session.scalars(_user_by_id(), {"id": int(ident)}).first()
    if user is None:
        return None
    # A blocked user's old sessions still resolve once, so they see why they are out.
    if user.session_token == token or user.is_blocked:
        return user
    return None


@cache
def _user_by_id() -> Select:
    """The session's user by id, built once: every request loads it, and `session.get` builds and keys its
    statement anew each time (about 100 µs of the request's CPU); the user still lands in the identity map."""
    return select(User).where(User.id == bindparam("id"))


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


# What an admin without two-factor authentication may still reach when ADMIN_REQUIRE_2FA is on.
OPEN_TO_UNPROTECTED_ADMINS = {"auth.two_factor", "auth.logout", "main.set_language", "static"}


def require_admin_two_factor():
    """With ADMIN_REQUIRE_2FA, an admin without two-factor authentication is sent to its set-up page."""
    if not current_app.config["ADMIN_REQUIRE_2FA"] or request.endpoint in OPEN_TO_UNPROTECTED_ADMINS:
        return None
    if is_api_request() or not current_user.is_authenticated:
        return None
    if current_user.role == "admin" and not current_user.has_two_factor:
        flash(_("Administrators must turn on two-factor authentication before anything else."), "info")
        return redirect(url_for("auth.two_factor"), code=303)
    return None
