"""Friendly error pages: never a traceback, never a bare 500."""

import logging

from flask import Flask, current_app, g, render_template, session
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from portal.extensions import db, login_manager

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, handle_csrf)
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(OperationalError, handle_database_down)
    app.register_error_handler(Exception, handle_unexpected)
    # Runs before Flask-SQLAlchemy's own teardown (later registrations run first).
    app.teardown_appcontext(_close_session_safely)


def _close_session_safely(exc):
    """End the request's session; a connection the database dropped must not turn into a 500 afterwards."""
    try:
        db.session.remove()
    except Exception:  # the connection is already gone and SQLAlchemy has invalidated it
        log.warning("discarding a session whose connection failed", exc_info=True)
        db.session.registry.clear()


FALLBACK = (
    "<!doctype html><html lang=en><title>{title}</title><h1>{title}</h1><p>{message}</p><p><a href=/>Home</a></p>"
)


def _page(code: int, title, message):
    try:
        return render_template("errors/error.html", code=code, title=title, message=message), code
    except Exception:  # the page itself failed (e.g. the database is gone): plain text, never a traceback
        log.exception("error page failed")
        return FALLBACK.format(title=escape(str(title)), message=escape(str(message))), code


def handle_http(error: HTTPException):
    from portal.i18n import gettext as _

    texts = {
        400: (_("Bad request"), _("The request could not be understood. Please go back and try again.")),
        403: (_("Not allowed"), _("This page is not available to your account.")),
        404: (_("Not found"), _("There is nothing here. The link may be old or mistyped.")),
        405: (_("Not allowed"), _("This address does not accept that kind of request.")),
        413: (
            _("Too large"),
            _("What you sent is larger than this site accepts. Please go back, shorten it and try again."),
        ),
        429: (_("Too many attempts"), _("Too many attempts. Please wait a few minutes and try again.")),
    }
    title, message = texts.get(error.code or 500, (error.name, error.description))
    return _page(error.code or 500, title, message)


def handle_csrf(error: CSRFError):
    from portal.i18n import gettext as _

    return _page(
        400, _("Form expired"), _("The form was out of date or incomplete. Please reload the page and try again.")
    )


def _rollback_quietly():
    try:
        db.session.rollback()
    except Exception:  # the connection itself may be gone
        log.debug("rollback failed", exc_info=True)


def handle_database_down(error: OperationalError):
    from portal.i18n import gettext as _

    _rollback_quietly()
    # Render as an anonymous visitor: loading the user would need the database that just failed.
    g._login_user = login_manager.anonymous_user()
    g.setdefault("locale", session.get("lang") or current_app.config["DEFAULT_LOCALE"])
    g.setdefault("timezone", current_app.config["DEFAULT_TIMEZONE"])
    log.warning("database unavailable: %s", error)
    return _page(
        503, _("Temporarily unavailable"), _("The service is briefly unavailable. Please try again in a moment.")
    )


def handle_unexpected(error: Exception):
    from portal.i18n import gettext as _

    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return handle_database_down(error)  # type: ignore[arg-type]
    _rollback_quietly()
    log.exception("unexpected error")
    return _page(500, _("Something went wrong"), _("Something went wrong on our side. Please try again."))
