"""The REST API under /api/v1 (SPEC §15): personal access tokens, problem+json errors, an OpenAPI 3.1 document.

Built with flask-smorest: the marshmallow schemas that validate the input also write the OpenAPI document, and
every action calls the same service as the page that does it. This module stays light (Flask only): the session
and error code of the rest of the portal import it to tell API requests apart.
"""

from flask import Flask, request

PATH_PREFIX = "/api/"


def is_api_request() -> bool:
    """Whether this request is for the API (its operations, document and docs page), not a page of the portal."""
    return request.path.startswith(PATH_PREFIX)


def init_app(app: Flask) -> None:
    """Register the API's routes, its error answers and its document on the app."""
    from portal.api.setup import setup

    setup(app)
