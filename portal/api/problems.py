"""Errors of the API as RFC 9457 problem details (`application/problem+json`): never HTML, never a traceback.

`title` is the HTTP status phrase (the problem type is `about:blank`), `detail` says what happened in the
caller's language, and a refused input carries `errors`: the messages by field.
"""

import json
import logging
from http import HTTPStatus

import marshmallow as ma
from flask import current_app, g, request
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from portal.extensions import db
from portal.i18n import LANGUAGES, refresh
from portal.i18n import gettext as _
from portal.services import booking, moderation
from portal.services.errors import DomainError, StateConflict

log = logging.getLogger(__name__)

PROBLEM = "application/problem+json"

# What the services call a field, where the API's input calls it differently.
API_FIELDS = {"date": "starts_at", "start_time": "starts_at", "end_time": "ends_at"}


class ProblemSchema(ma.Schema):
    """The body of every error answer (RFC 9457)."""

    type = ma.fields.String(metadata={"description": "Always `about:blank`: the status code says it all."})
    title = ma.fields.String(required=True, metadata={"description": "The HTTP status phrase."})
    status = ma.fields.Integer(required=True, metadata={"description": "The HTTP status code."})
    detail = ma.fields.String(required=True, metadata={"description": "What happened, in the token owner's language."})
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.String()),
        metadata={"description": "For refused input: the messages by field."},
    )


def use_language(locale: str, timezone: str) -> None:
    """Answer this request in this language and show times in this zone (Flask-Babel's selectors read `g`)."""
    g.locale, g.timezone = locale, timezone
    refresh()


def use_request_language() -> None:
    """The language the caller's Accept-Language asks for; never the session's user (the API ignores it)."""
    config = current_app.config
    locale = request.accept_languages.best_match(list(LANGUAGES)) or config["DEFAULT_LOCALE"]
    use_language(locale, config["DEFAULT_TIMEZONE"])


def problem(status: int, detail, errors: dict | None = None, headers: dict | None = None):
    """A problem+json response."""
    if "locale" not in g:
        use_request_language()
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status, "detail": str(detail)}
    if errors:
        body["errors"] = {name: [str(message) for message in messages] for name, messages in errors.items()}
    response = current_app.response_class(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM)
    response.headers.extend(headers or {})
    return response


def _details() -> dict:
    """What each status means to the caller (translated when used)."""
    return {
        400: _("The request could not be understood: send a JSON body with Content-Type: application/json."),
        401: _("Send a valid API token: Authorization: Bearer <token>. Tokens are made on your profile."),
        403: _("This operation is not available to your account."),
        404: _("There is nothing here. The link may be old or mistyped."),
        405: _("This address does not accept that kind of request."),
        413: _("What you sent is larger than this site accepts."),
        422: _("Some fields are invalid: see errors."),
        429: _("Too many requests with this token. Wait a moment and try again."),
    }


def _field_errors(messages) -> dict | None:
    """webargs' {location: {field: [messages]}} as {field: [messages]}; the body as a whole is `body`."""
    if not isinstance(messages, dict):
        return None
    found: dict[str, list] = {}
    words = marshmallow_messages()  # ours are translated already
    for location in messages.values():
        # A location as a whole (an unreadable body) reads as the field `body`.
        fields = location if isinstance(location, dict) else {"body": location}
        for name, problems in fields.items():
            name = "body" if name == "_schema" else name
            listed = problems if isinstance(problems, list) else [problems]
            found.setdefault(name, []).extend(
                words.get(p, p) if isinstance(p, str) else str(p) for p in listed if not isinstance(p, dict | list)
            )
    return found or None


def handle_http(error: HTTPException):
    """404, 405, 413, a refused input (422 from webargs) and the others as problems."""
    _rollback()
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    errors = _field_errors(data.get("messages"))
    headers = dict(data.get("headers") or {})
    if status == 405 and hasattr(error, "valid_methods") and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    detail = data.get("detail") or _details().get(status, error.description)
    return problem(status, detail, errors, headers)


def handle_domain_error(error: DomainError):
    """A service's refusal: 404 for a missing object, 409 when the state changed under the caller, else 422."""
    _rollback()
    if isinstance(error, moderation.UserMissing) or error.message is booking.SLOT_GONE:
        return problem(404, error.message)
    if isinstance(error, StateConflict) or any(error.message is known for known in CONFLICTS):
        return problem(409, error.message)
    field = "confirm" if isinstance(error, moderation.ConfirmationNeeded) else error.field
    errors = {API_FIELDS.get(field, field): [error.message]} if field else None
    return problem(422, error.message, errors)


# Refusals (by identity: the services' own message objects) meaning someone else changed the object first.
CONFLICTS = (booking.SLOT_TAKEN, booking.NOT_CANCELLABLE)


def handle_database_down(error: Exception):
    """The database went away: 503, like the pages."""
    _rollback()
    log.warning("database unavailable: %s", error)
    detail = _("The service is briefly unavailable. Please try again in a moment.")
    return problem(503, detail, headers={"Retry-After": "5"})


def handle_unexpected(error: Exception):
    """Anything else: logged, and a problem rather than a page."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return handle_database_down(error)
    _rollback()
    log.exception("unexpected error in the API")
    return problem(500, _("Something went wrong on our side. Please try again."))


def _rollback() -> None:
    try:
        db.session.rollback()
    except Exception:  # the connection itself may be gone
        log.debug("rollback failed", exc_info=True)


def register(blueprint) -> None:
    """The API blueprint's own error answers (routing errors outside it: see `setup`)."""
    blueprint.register_error_handler(HTTPException, handle_http)
    blueprint.register_error_handler(DomainError, handle_domain_error)
    blueprint.register_error_handler(OperationalError, handle_database_down)
    blueprint.register_error_handler(Exception, handle_unexpected)


def marshmallow_messages() -> dict[str, str]:
    """marshmallow's own messages for refused input (English) in the caller's language."""
    return {
        "Missing data for required field.": _("Missing data for required field."),
        "Field may not be null.": _("Field may not be null."),
        "Unknown field.": _("Unknown field."),
        "Invalid input type.": _("Invalid input type."),
        "Not a valid string.": _("Not a valid string."),
        "Not a valid integer.": _("Not a valid integer."),
        "Not a valid boolean.": _("Not a valid boolean."),
        "Not a valid date.": _("Not a valid date."),
        "Not a valid datetime.": _("Not a valid datetime."),
        "Not a valid aware datetime.": _("Not a valid aware datetime."),
        "Invalid JSON body.": _("Invalid JSON body."),
        "Invalid value.": _("Invalid value."),
    }
