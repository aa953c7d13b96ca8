"""Wiring the API into the app: flask-smorest's Api and its OpenAPI document, problem answers for API addresses
no route matches, CSRF exemption, and the docs page."""

from http import HTTPStatus

from flask import Flask
from flask_smorest import Api
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from portal.api import is_api_request, problems

DESCRIPTION = """The Consultation Portal's REST API: the same rules and the same services as its pages.

Authenticate with a personal access token made on your profile (section **API tokens**), sent as
`Authorization: Bearer <token>`. Errors are `application/problem+json` (RFC 9457) with `title`, `status`,
`detail` and, for refused input, `errors` by field; unknown fields and query parameters are refused too. Times are
ISO 8601 with an offset (input without one is refused) and are answered in your time zone. Lists come in pages:
follow `next` and `prev`. Each token may make 600 requests a minute; past that the answer is 429 with
`Retry-After`."""

SETTINGS = {
    "API_TITLE": "Consultation Portal API",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.1.0",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
    "API_SPEC_OPTIONS": {"info": {"description": DESCRIPTION}, "security": [{"bearerAuth": []}]},
    "API_RATE_LIMIT": "600 per minute",
}


class PortalApi(Api):
    """flask-smorest's Api with problem+json errors."""

    ERROR_SCHEMA = problems.ProblemSchema

    def handle_http_exception(self, error):
        """flask-smorest registers this for the whole app; pages keep their HTML error pages."""
        return answer_http_error(error)


def answer_http_error(error: HTTPException):
    """A problem for an API address, the portal's error page for anything else."""
    if is_api_request():
        return problems.handle_http(error)
    from portal.errors import handle_http

    return handle_http(error)


def setup(app: Flask) -> None:
    """Register the API on the app."""
    from portal.api import admin, consultations, docs, my_slots, slots, specialists  # noqa: F401 (their routes)
    from portal.api.blueprint import bp
    from portal.extensions import csrf

    for name, value in SETTINGS.items():
        app.config.setdefault(name, value)
    api = app.extensions["portal_api"] = PortalApi(app)
    spec = api.spec
    spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "description": "A personal access token."}
    )
    _problem_responses(spec)
    api.register_blueprint(bp)
    # Bearer requests carry no cookie-borne authority, so there is nothing for a CSRF token to protect.
    csrf.exempt(bp)
    app.register_blueprint(docs.bp, url_prefix=SETTINGS["OPENAPI_URL_PREFIX"])
    # No route matches, so no blueprint's handler runs: the status code's own handler answers by address.
    app.register_error_handler(NotFound, answer_http_error)
    app.register_error_handler(MethodNotAllowed, answer_http_error)


def _problem_responses(spec) -> None:
    """Every error answer of the document as problem+json (flask-smorest documents them as plain JSON)."""
    for status in HTTPStatus:
        if status >= 400:
            spec.components.response(status.name, _problem_response(status.phrase), lazy=True)
    spec.components.response(PortalApi.DEFAULT_ERROR_RESPONSE_NAME, _problem_response("An error"), lazy=True)


def _problem_response(description: str) -> dict:
    return {"description": description, "content": {problems.PROBLEM: {"schema": problems.ProblemSchema}}}
